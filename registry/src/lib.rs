//! The registry client (distribution v2), image reference naming, the auth
//! config file, and the `auth` and `search` jobs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
