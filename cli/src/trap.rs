//! The daemon's signal trap (`pkg/signal/trap.go` of Docker 1.2), with
//! `signal-hook`.
//!
//! - The first SIGINT or SIGTERM runs the engine's shutdown once, then the
//!   process exits 0.
//! - The second and third are counted and otherwise ignored; the fourth
//!   forces an immediate exit with 128 + the signal number, cleanup or not
//!   (the original's comment says "three times"; its code exits on the
//!   fourth).
//! - SIGQUIT exits at once with 131, without cleanup, unless `DEBUG` is set
//!   (`-D` or the environment), in which case it is not trapped and keeps its
//!   default action.

use std::thread;

use engine::Engine;
use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;
use tokio::runtime::Handle;

/// How many INT/TERM signals force the exit.
const FORCE_AFTER: u32 = 4;

fn signal_name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "interrupt",
        SIGTERM => "terminated",
        SIGQUIT => "quit",
        _ => "unknown",
    }
}

/// Installs the trap. Signals are handled on a dedicated thread; the
/// shutdown runs on `runtime`.
pub fn install(eng: Engine, runtime: Handle, debug: bool) -> std::io::Result<()> {
    let mut wanted = vec![SIGINT, SIGTERM];
    if !debug {
        wanted.push(SIGQUIT);
    }
    let mut signals = Signals::new(&wanted)?;
    thread::Builder::new().name("signal-trap".into()).spawn(move || {
        let mut interrupts = 0u32;
        for sig in signals.forever() {
            tracing::info!("Received signal '{}', starting shutdown of docker...", signal_name(sig));
            if sig == SIGQUIT {
                std::process::exit(128 + SIGQUIT);
            }
            interrupts += 1;
            if interrupts == 1 {
                let eng = eng.clone();
                runtime.spawn(async move {
                    eng.shutdown().await;
                    std::process::exit(0);
                });
            } else if interrupts >= FORCE_AFTER {
                tracing::info!("Force shutdown of docker, interrupting cleanup");
                std::process::exit(128 + sig);
            }
        }
    })?;
    Ok(())
}
