//! Volumes: anonymous volumes under `<root>/volumes`, binds and
//! `--volumes-from` (being written).
