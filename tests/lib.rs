//! End-to-end test suites live in `tests/`; this crate has no code of its
//! own. They drive the built `docker` binary as a user would, with real
//! clients: the docker CLI v28, docker-py 7.2, and our own client.
#![forbid(unsafe_code)]
