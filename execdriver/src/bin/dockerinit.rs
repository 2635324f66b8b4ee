//! The container init as a stand-alone binary, used by this crate's tests
//! (production runs the same code from the `docker` binary, see
//! `execdriver::init::is_init`).
#![forbid(unsafe_code)]

fn main() {
    execdriver::init::main()
}
