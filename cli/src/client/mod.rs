//! The client side of `docker`: a connection to the daemon named by `-H`
//! (unix, tcp, tcp+TLS) and the requests the commands make (`call` and
//! `stream` of Docker 1.2's `api/client/utils.go`), at API v1.24.

pub mod hijack;
pub mod stdcopy;
pub mod tls;

use api_server::Host;
use bytes::Bytes;
use futures_util::TryStreamExt;
use http::{Method, Request, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_util::io::ReaderStream;

/// Why a command failed; each is printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The daemon answered with an error.
    #[error("Error response from daemon: {0}")]
    Daemon(String),
    /// The daemon could not be reached.
    #[error("{0}")]
    Connect(String),
    /// A bad command line (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// A client of one daemon.
pub struct DockerCli {
    host: Host,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// The API version the client speaks.
pub const CLIENT_API_VERSION: &str = "1.24";

impl DockerCli {
    /// A client of `host`; `tls` only applies to TCP hosts.
    pub fn new(host: Host, tls: Option<tls::ClientTls>) -> Result<Self, CliError> {
        let tls = match (&host, tls) {
            (Host::Tcp(addr), Some(settings)) => {
                let config = tls::client_config(&settings).map_err(CliError::Other)?;
                let name = host_part(addr);
                let server = ServerName::try_from(name.to_string())
                    .map_err(|e| CliError::Other(format!("invalid TLS server name {name}: {e}")))?;
                Some((TlsConnector::from(config), server))
            }
            _ => None,
        };
        Ok(Self { host, tls })
    }

    async fn connect(&self) -> Result<Box<dyn Io>, CliError> {
        let refused = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::PermissionDenied => CliError::Connect(format!(
                "Got permission denied while trying to connect to the Docker daemon socket at {}: {e}",
                self.host
            )),
            _ => CliError::Connect(format!(
                "Cannot connect to the Docker daemon at {}. Is 'docker -d' running on this host? ({e})",
                self.host
            )),
        };
        match &self.host {
            Host::Unix(path) => Ok(Box::new(UnixStream::connect(path).await.map_err(refused)?)),
            Host::Tcp(addr) => {
                let stream = TcpStream::connect(addr).await.map_err(refused)?;
                let _ = stream.set_nodelay(true);
                match &self.tls {
                    None => Ok(Box::new(stream)),
                    Some((connector, name)) => {
                        let tls = connector
                            .connect(name.clone(), stream)
                            .await
                            .map_err(|e| CliError::Connect(format!("TLS handshake with {}: {e}", self.host)))?;
                        Ok(Box::new(tls))
                    }
                }
            }
            Host::Fd(_) => Err(CliError::Usage("fd:// is a daemon address; a client cannot connect to it".into())),
        }
    }

    /// Sends a request to `/v1.24<path>` and returns the response, whatever
    /// its status.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<http::Response<Incoming>, CliError> {
        let headers: &[(&str, &str)] =
            if body.is_some() { &[(http::header::CONTENT_TYPE.as_str(), "application/json")] } else { &[] };
        self.send(method, path, headers, body.map(body_bytes)).await
    }

    /// Sends a request with extra headers and an optional (possibly
    /// streamed) body; returns the response, whatever its status.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<RequestBody>,
    ) -> Result<http::Response<Incoming>, CliError> {
        let io = self.connect().await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| CliError::Connect(format!("talking to {}: {e}", self.host)))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/v{CLIENT_API_VERSION}{path}"))
            .header(http::header::HOST, "docker")
            .header(http::header::USER_AGENT, format!("Docker-Client/{}", builtins::VERSION));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req
            .body(body.unwrap_or_else(|| body_bytes(Bytes::new())))
            .map_err(|e| CliError::Other(format!("building the request: {e}")))?;
        sender.send_request(req).await.map_err(|e| CliError::Connect(format!("talking to {}: {e}", self.host)))
    }

    /// [`DockerCli::send`] whose answer must be a success; the response is
    /// returned for its headers and streamed body.
    pub async fn send_ok(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<RequestBody>,
    ) -> Result<http::Response<Incoming>, CliError> {
        let resp = self.send(method, path, headers, body).await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        Err(error_from(status, path, read_body(resp.into_body()).await?))
    }

    /// A request whose answer must be a success; returns the response for
    /// streaming its body.
    pub async fn stream(&self, method: Method, path: &str) -> Result<Incoming, CliError> {
        let resp = self.request(method, path, None).await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.into_body());
        }
        Err(error_from(status, path, read_body(resp.into_body()).await?))
    }

    /// A request whose whole answer is read; an error status is an error.
    pub async fn call(&self, method: Method, path: &str, body: Option<Bytes>) -> Result<Bytes, CliError> {
        let resp = self.request(method, path, body).await?;
        let status = resp.status();
        let bytes = read_body(resp.into_body()).await?;
        if status.is_success() { Ok(bytes) } else { Err(error_from(status, path, bytes)) }
    }

    /// [`DockerCli::call`] where a 404 is `None` rather than an error: for
    /// lookups that try several kinds of object.
    pub async fn call_found(&self, method: Method, path: &str) -> Result<Option<Bytes>, CliError> {
        let resp = self.request(method, path, None).await?;
        let status = resp.status();
        let bytes = read_body(resp.into_body()).await?;
        match status {
            s if s.is_success() => Ok(Some(bytes)),
            StatusCode::NOT_FOUND => Ok(None),
            s => Err(error_from(s, path, bytes)),
        }
    }
}

/// A request body, whole or streamed as it is sent (chunked).
pub type RequestBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// A body of known bytes.
pub fn body_bytes(bytes: Bytes) -> RequestBody {
    Full::new(bytes).map_err(|never| match never {}).boxed_unsync()
}

/// A body read from `reader` while the request is sent, so a large tarball
/// never sits whole in memory.
pub fn body_from_reader<R: AsyncRead + Send + 'static>(reader: R) -> RequestBody {
    let frames = ReaderStream::new(reader).map_ok(Frame::data);
    StreamBody::new(frames).boxed_unsync()
}

async fn read_body(body: Incoming) -> Result<Bytes, CliError> {
    body.collect().await.map(|b| b.to_bytes()).map_err(|e| CliError::Connect(format!("reading the response: {e}")))
}

/// The daemon's error text: `{"message":…}` from v1.24, plain text before.
fn error_from(status: StatusCode, path: &str, body: Bytes) -> CliError {
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
    if message.is_empty() {
        return CliError::Other(format!(
            "Error: request returned {status} for API route and version /v{CLIENT_API_VERSION}{path}, \
             check if the server supports the requested API version"
        ));
    }
    CliError::Daemon(message)
}

fn host_part(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// A connection of any kind.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_errors_are_read_in_both_formats() {
        let e = error_from(StatusCode::NOT_FOUND, "/x", Bytes::from_static(br#"{"message":"No such container: web"}"#));
        assert_eq!(e.to_string(), "Error response from daemon: No such container: web");
        let e = error_from(StatusCode::NOT_FOUND, "/x", Bytes::from_static(b"No such container: web\n"));
        assert_eq!(e.to_string(), "Error response from daemon: No such container: web");
        let e = error_from(StatusCode::NOT_FOUND, "/x", Bytes::new());
        assert!(e.to_string().contains("request returned 404 Not Found"));
    }

    #[test]
    fn tls_server_names() {
        assert_eq!(host_part("127.0.0.1:2376"), "127.0.0.1");
        assert_eq!(host_part("[::1]:2376"), "::1");
        assert_eq!(host_part("docker.example.com:2376"), "docker.example.com");
    }
}
