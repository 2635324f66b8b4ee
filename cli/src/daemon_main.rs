//! `docker -d`: the daemon's main (`mainDaemon` of Docker 1.2), in the
//! original order: engine, signal trap, builtins, daemon set-up in the
//! background followed by `acceptconnections`, and meanwhile `serveapi`
//! with its env, which serves until the process exits.

use api_server::server::env as serve_env;
use daemon::{Config, Daemon, DaemonError};
use engine::{Engine, names};

use crate::trap;

/// What `docker -d` needs besides the daemon `Config`.
pub struct ServeOptions {
    /// `-H` values (normalised).
    pub hosts: Vec<String>,
    /// `-G`.
    pub group: String,
    /// `--api-enable-cors`.
    pub enable_cors: bool,
    /// `--tls`.
    pub tls: bool,
    /// `--tlsverify`.
    pub tls_verify: bool,
    /// `--tlscacert`.
    pub tls_ca: String,
    /// `--tlscert`.
    pub tls_cert: String,
    /// `--tlskey`.
    pub tls_key: String,
}

/// One line on stderr, exit 1.
fn fatal(message: impl std::fmt::Display) -> ! {
    eprintln!("Error starting daemon: {message}");
    std::process::exit(1);
}

/// Runs the daemon; returns only by exiting the process.
pub fn main(config: Config, serve: ServeOptions) -> i32 {
    let debug = config.debug || std::env::var("DEBUG").is_ok_and(|v| !v.is_empty());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("docker").build() {
        Ok(rt) => rt,
        Err(e) => fatal(format!("could not start the async runtime: {e}")),
    };
    let eng = Engine::new();
    // Docker 1.2 logged every job; that is per request, so only with -D.
    eng.set_logging(debug);
    if let Err(e) = trap::install(eng.clone(), runtime.handle().clone(), debug) {
        fatal(format!("could not install the signal handlers: {e}"));
    }
    let registry = registry::ServiceOptions { insecure_registries: config.insecure_registries.clone() };
    if let Err(e) = builtins::register(&eng, registry) {
        fatal(e);
    }

    tracing::info!(
        "docker daemon: {} {}; execdriver: {}; graphdriver: {}",
        builtins::VERSION,
        builtins::GIT_COMMIT,
        config.exec_driver,
        config.graph_driver
    );
    runtime.block_on(async move {
        let setup_eng = eng.clone();
        tokio::spawn(async move {
            let eng = setup_eng.clone();
            let daemon = match tokio::task::spawn_blocking(move || Daemon::new(config, &eng)).await {
                Ok(Ok(d)) => d,
                // A signal during set-up: the trap ends the process.
                Ok(Err(DaemonError::ShuttingDown)) => return,
                Ok(Err(e)) => fatal(e),
                Err(e) => fatal(e),
            };
            if let Err(e) = daemon.install(&setup_eng) {
                fatal(e);
            }
            // A signal during set-up already started the shutdown: that
            // refusal is expected, and the trap decides how the process ends.
            if let Err(e) = setup_eng.job(names::ACCEPTCONNECTIONS, Vec::<String>::new()).run().await
                && !setup_eng.is_shutdown()
            {
                fatal(e);
            }
        });

        let job = eng.job(names::SERVEAPI, serve.hosts);
        job.setenv_bool(serve_env::LOGGING, true);
        job.setenv_bool(serve_env::ENABLE_CORS, serve.enable_cors);
        job.setenv(serve_env::VERSION, builtins::VERSION);
        job.setenv(serve_env::SOCKET_GROUP, serve.group);
        job.setenv_bool(serve_env::TLS, serve.tls);
        job.setenv_bool(serve_env::TLS_VERIFY, serve.tls_verify);
        job.setenv(serve_env::TLS_CA, serve.tls_ca);
        job.setenv(serve_env::TLS_CERT, serve.tls_cert);
        job.setenv(serve_env::TLS_KEY, serve.tls_key);
        job.setenv_bool(serve_env::BUFFER_REQUESTS, true);
        if let Err(e) = job.run().await {
            fatal(e);
        }
        // serveapi only returns on error; the process ends through the trap.
        std::future::pending::<()>().await;
    });
    0
}
