//! The `serveapi` and `acceptconnections` jobs and the accept loop under
//! them (`ServeApi`, `ListenAndServe`, `AcceptConnections` of Docker 1.2).
//!
//! `serveapi PROTO://ADDR...` binds every endpoint at once, then serves each
//! one as soon as the accept gate opens (`BufferRequests`, always on in the
//! daemon). It fails with the first listener error. `acceptconnections`
//! opens the gate and sends `READY=1` to systemd.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use engine::{Engine, EngineError, Job, Status, names};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::ServeError;
use crate::gate::AcceptGate;
use crate::hosts::{Host, parse_host};
use crate::listener::{Connection, DEFAULT_SOCKET_GROUP, Listener, bind_tcp, bind_unix};
use crate::notify::notify_ready;
use crate::router::{Router, RouterConfig};
use crate::tls::{TlsSettings, server_config};

/// Env keys of the `serveapi` job, as `mainDaemon` sets them.
pub mod env {
    #![allow(missing_docs)]
    pub const LOGGING: &str = "Logging";
    pub const ENABLE_CORS: &str = "EnableCors";
    pub const VERSION: &str = "Version";
    pub const SOCKET_GROUP: &str = "SocketGroup";
    pub const TLS: &str = "Tls";
    pub const TLS_VERIFY: &str = "TlsVerify";
    pub const TLS_CA: &str = "TlsCa";
    pub const TLS_CERT: &str = "TlsCert";
    pub const TLS_KEY: &str = "TlsKey";
    pub const BUFFER_REQUESTS: &str = "BufferRequests";
}

/// At most this many connections are served at once; more wait in the
/// kernel backlog.
pub const MAX_CONNECTIONS: usize = 8192;
/// A TLS handshake must finish within this time.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to serve, as read from the `serveapi` env.
#[derive(Debug, Clone, Default)]
pub struct ServeConfig {
    /// `--api-enable-cors`.
    pub enable_cors: bool,
    /// The daemon version (for the `Server` header).
    pub version: String,
    /// `-G`: the group of unix sockets (`""`: leave it).
    pub socket_group: String,
    /// TLS for TCP listeners.
    pub tls: Option<TlsSettings>,
}

/// A bound endpoint, ready to serve.
pub struct Bound {
    /// The `-H` value it came from, for logs.
    pub host: String,
    /// The socket.
    pub listener: Listener,
    /// TLS, for TCP endpoints when configured.
    pub tls: Option<TlsAcceptor>,
}

/// Binds one `-H` endpoint (an `fd://` address may yield several sockets).
pub async fn bind(host: &str, config: &ServeConfig) -> Result<Vec<Bound>, ServeError> {
    let parsed = parse_host(host).map_err(|e| ServeError::Host(e.to_string()))?;
    let bound = |listener, tls| Bound { host: parsed.to_string(), listener, tls };
    Ok(match &parsed {
        Host::Unix(path) => vec![bound(Listener::Unix(bind_unix(path, &config.socket_group)?), None)],
        Host::Tcp(addr) => {
            let tls = match &config.tls {
                Some(settings) => Some(TlsAcceptor::from(server_config(settings)?)),
                None => None,
            };
            let verified = config.tls.as_ref().is_some_and(|t| t.verify_clients_with.is_some());
            if !addr.starts_with("127.0.0.1") && !verified {
                tracing::warn!(
                    "/!\\ DON'T BIND ON ANOTHER IP ADDRESS THAN 127.0.0.1 IF YOU DON'T KNOW WHAT YOU'RE DOING /!\\"
                );
            }
            vec![bound(Listener::Tcp(bind_tcp(addr).await?), tls)]
        }
        Host::Fd(addr) => crate::activation::listeners(addr)?.into_iter().map(|l| bound(l, None)).collect(),
    })
}

/// Serves every listener once `gate` opens, until `shutdown` resolves.
/// Returns the first listener error.
pub async fn serve(
    listeners: Vec<Bound>,
    router: Router,
    gate: AcceptGate,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut loops = JoinSet::new();
    for bound in listeners {
        tracing::info!(endpoint = %bound.host, "Listening for HTTP on {}", bound.host);
        loops.spawn(accept_loop(bound, router.clone(), gate.clone(), limit.clone()));
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            finished = loops.join_next() => match finished {
                None => return Ok(()),
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => return Err(ServeError::Io("accept loop".into(), std::io::Error::other(e))),
            },
        }
    }
}

async fn accept_loop(bound: Bound, router: Router, gate: AcceptGate, limit: Arc<Semaphore>) -> Result<(), ServeError> {
    gate.wait().await;
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else { return Ok(()) };
        let conn = match bound.listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of fds, aborted handshakes: transient; don't spin.
                tracing::warn!(endpoint = %bound.host, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (router, tls) = (router.clone(), bound.tls.clone());
        tokio::spawn(async move {
            match (conn, tls) {
                (Connection::Unix(s), _) => serve_connection(s, router).await,
                (Connection::Tcp(s), None) => serve_connection(s, router).await,
                (Connection::Tcp(s), Some(tls)) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(s)).await {
                        Ok(Ok(s)) => serve_connection(s, router).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
}

async fn serve_connection<IO>(io: IO, router: Router)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let router = router.clone();
        async move { Ok::<_, Infallible>(router.handle(req).await) }
    });
    // No header-read timeout, as in Docker 1.2 and dockerd 20.10: arming a
    // timer per request costs measurably on the hot path, and the number of
    // connections is capped (MAX_CONNECTIONS) anyway.
    //
    // Header names go out title-cased, as Go's server writes them: the 101
    // of a hijack must read `Content-Type`, `Connection`, `Upgrade` exactly.
    let conn =
        http1::Builder::new().title_case_headers(true).serve_connection(TokioIo::new(io), service).with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Registers `serveapi` and `acceptconnections`; returns the accept gate
/// they share (created now, before either job can run).
pub fn install(eng: &Engine) -> Result<AcceptGate, EngineError> {
    let gate = AcceptGate::new();
    let serve_gate = gate.clone();
    eng.register(names::SERVEAPI, move |job| serveapi(job, serve_gate.clone()))?;
    let accept_gate = gate.clone();
    eng.register(names::ACCEPTCONNECTIONS, move |job| acceptconnections(job, accept_gate.clone()))?;
    Ok(gate)
}

/// The `ServeConfig` described by a `serveapi` job's env.
pub fn config_from_job(job: &Job) -> ServeConfig {
    let (tls, verify) = (job.getenv_bool(env::TLS), job.getenv_bool(env::TLS_VERIFY));
    let socket_group = if job.env_exists(env::SOCKET_GROUP) {
        job.getenv(env::SOCKET_GROUP)
    } else {
        DEFAULT_SOCKET_GROUP.to_string()
    };
    ServeConfig {
        enable_cors: job.getenv_bool(env::ENABLE_CORS),
        version: job.getenv(env::VERSION),
        socket_group,
        tls: (tls || verify).then(|| TlsSettings {
            cert: job.getenv(env::TLS_CERT).into(),
            key: job.getenv(env::TLS_KEY).into(),
            verify_clients_with: verify.then(|| job.getenv(env::TLS_CA).into()),
        }),
    }
}

async fn serveapi(job: Job, gate: AcceptGate) -> Status {
    let hosts = job.args();
    if hosts.is_empty() || hosts.iter().any(|h| !h.contains("://")) {
        return job.errorf("usage: serveapi PROTO://ADDR [PROTO://ADDR ...]").await;
    }
    let config = config_from_job(&job);
    let mut listeners = Vec::new();
    for host in &hosts {
        match bind(host, &config).await {
            Ok(bound) => listeners.extend(bound),
            Err(e) => return job.errorf(e).await,
        }
    }
    // Unix sockets go away with the daemon, as dockerd's do.
    let sockets: Vec<String> =
        hosts.iter().filter_map(|h| if let Ok(Host::Unix(path)) = parse_host(h) { Some(path) } else { None }).collect();
    if !sockets.is_empty() {
        job.engine().on_shutdown(move || async move {
            for path in sockets {
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::debug!(socket = %path, error = %e, "could not remove the socket");
                }
            }
        });
    }
    let gate = if job.getenv_bool(env::BUFFER_REQUESTS) {
        gate
    } else {
        let open = AcceptGate::new();
        open.open();
        open
    };
    let router =
        Router::new(job.engine().clone(), RouterConfig { enable_cors: config.enable_cors, version: config.version });
    // The process exits after the engine's shutdown; until then keep
    // serving, so clients get "engine is shutdown" rather than a refusal.
    match serve(listeners, router, gate, std::future::pending()).await {
        Ok(()) => Status::OK,
        Err(e) => job.errorf(e).await,
    }
}

async fn acceptconnections(_: Job, gate: AcceptGate) -> Status {
    gate.open();
    notify_ready();
    Status::OK
}
