//! Turns one HTTP request into one job and the job's output into the
//! response (`makeHttpHandler` and the `write*`/`stream*` helpers of
//! Docker 1.2's `api/server`).
//!
//! Steps: strip and check the `/vX.Y` prefix (400 outside v1.12–v1.24);
//! answer `OPTIONS` (CORS pre-flight) and `/_ping` directly; find the route
//! (404 `page not found`); read the body as the route says; build the
//! [`JobSpec`]; answer 501 when no handler is registered for its job; run
//! it; shape the output by [`Reply`]. Errors are JSON `{"message":…}` from
//! v1.24 on and plain text before, as dockerd does.
//!
//! Container streams (attach, exec start, logs) first run the route's probe
//! job (`container_inspect`, `exec_inspect`): its failure is the answer,
//! before anything is hijacked or streamed, and its output says whether
//! there is a TTY, which decides the stdcopy framing (`hijack.rs`).

use std::convert::Infallible;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use engine::{Engine, ErrorKind, Job, JobError, names};
use futures_util::{StreamExt, TryStreamExt, stream};
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, Limited, StreamBody};
use hyper::body::{Body as HttpBody, Frame};
use hyper::upgrade::OnUpgrade;
use tokio::task::JoinHandle;
use tokio_util::io::StreamReader;

use crate::errors::ApiError;
use crate::hijack::{self, RAW_STREAM};
use crate::request::ApiRequest;
use crate::route::{Action, BodyMode, Failure, JobSpec, Reply, Stat, Streams, TtyFrom};
use crate::routes;
use crate::version::{API_VERSION, ApiVersion, MIN_API_VERSION};

/// The response body type of every route.
pub type Body = BoxBody<Bytes, io::Error>;

/// The largest JSON request body read (create configs are a few KiB).
pub const MAX_JSON_BODY: usize = 10 << 20;
/// How many chunks of a streamed response may wait for the client before
/// the job is made to wait (back-pressure).
pub(crate) const STREAM_CHUNKS: usize = 16;

/// What a router needs to know besides the engine.
#[derive(Debug, Clone, Default)]
pub struct RouterConfig {
    /// `--api-enable-cors`.
    pub enable_cors: bool,
    /// The daemon version for the `Server` header.
    pub version: String,
}

/// Serves the route table with jobs of one engine. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    inner: Arc<RouterInner>,
}

struct RouterInner {
    eng: Engine,
    cors: bool,
    server: HeaderValue,
    /// Every header of a `/_ping` answer, built once.
    ping_headers: http::HeaderMap,
}

impl Router {
    /// A router running jobs on `eng`.
    pub fn new(eng: Engine, config: RouterConfig) -> Self {
        let server = HeaderValue::from_str(&format!("Docker/{} (linux)", config.version))
            .unwrap_or_else(|_| HeaderValue::from_static("Docker"));
        let mut router = RouterInner { eng, cors: config.enable_cors, server, ping_headers: http::HeaderMap::new() };
        let mut headers = http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store, must-revalidate"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        router.add_common_headers(&mut headers);
        router.ping_headers = headers;
        Self { inner: Arc::new(router) }
    }

    /// Answers one request. Never fails: every error is a response.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        // `/_ping` is what every CLI command starts with and what health
        // checks hammer: answered without building a job request.
        if let Some(response) = self.ping_fast_path(&req) {
            return response;
        }
        // The general path's state is large; boxing it keeps the
        // per-connection future small for the requests above.
        let mut response = Box::pin(self.dispatch(req)).await;
        // A 101's head is dockerd's, byte for byte: clients only want the
        // upgrade.
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            self.inner.add_common_headers(response.headers_mut());
        }
        response
    }

    fn ping_fast_path<B>(&self, req: &Request<B>) -> Option<Response<Body>> {
        let head = match *req.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        let path = req.uri().path();
        let (version, rest) = split_version(path);
        if rest != "/_ping" || version.is_some_and(|v| check_version(v).is_err()) {
            return None;
        }
        Some(self.inner.ping(head))
    }

    async fn dispatch<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (mut parts, body) = req.into_parts();
        tracing::debug!(method = %parts.method, uri = %parts.uri, "Calling");
        let decoded = percent_decode(parts.uri.path());
        let (requested, path) = split_version(&decoded);
        let version = match requested {
            None => API_VERSION,
            Some(raw) => match check_version(raw) {
                Ok(v) => v,
                Err((v, e)) => return error_response(&e, v),
            },
        };
        if parts.method == Method::OPTIONS {
            return empty(StatusCode::OK);
        }
        let Some((route, name)) = routes::find(&parts.method, path) else {
            return error_response(&ApiError::new(ErrorKind::NotFound, "page not found"), version);
        };
        let Action::Job(build) = route.action else {
            // A `/_ping` spelled so that the fast path missed it (`%5F`).
            return self.inner.ping(parts.method == Method::HEAD);
        };

        let mut api_req = ApiRequest::new(parts.method.clone(), version, &name);
        api_req.query =
            parts.uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        // dockerd upgrades whenever an `Upgrade` header is present.
        let upgrade =
            if parts.headers.contains_key(header::UPGRADE) { parts.extensions.remove::<OnUpgrade>() } else { None };
        api_req.headers = parts.headers;
        let mut stream_body = None;
        match route.body {
            BodyMode::None => {}
            BodyMode::Json => match Limited::new(body, MAX_JSON_BODY).collect().await {
                Ok(collected) => api_req.body = collected.to_bytes(),
                Err(e) => {
                    let e = ApiError::bad_parameter(format!("could not read the request body: {e}"));
                    return error_response(&e, version);
                }
            },
            BodyMode::Stream => stream_body = Some(body),
        }

        let spec = match build(&api_req) {
            Ok(spec) => spec,
            Err(e) => return error_response(&e, version),
        };
        let streams = match spec.reply {
            Reply::Hijack(streams) | Reply::Multiplexed(streams) => Some(streams),
            _ => None,
        };
        let stat = match spec.reply {
            Reply::RawWithStat(stat, _) => Some(stat),
            _ => None,
        };
        let mut needed = std::iter::once(spec.name).chain(streams.map(|s| s.probe)).chain(stat.map(|s| s.job));
        if let Some(missing) = needed.find(|job| !self.inner.eng.has_handler(job)) {
            let e = ApiError::new(
                ErrorKind::NotImplemented,
                format!("{} {path} is not implemented yet: no handler is registered for job '{missing}'", parts.method),
            );
            return error_response(&e, version);
        }
        let tty = match streams {
            Some(streams) => match self.probe_tty(streams, &name, version).await {
                Ok(tty) => tty,
                Err(e) => return error_response(&e, version),
            },
            None => false,
        };
        let stat_header = match stat {
            Some(stat) => match self.stat_header(stat, &spec).await {
                Ok(header) => Some(header),
                Err(e) => return error_response(&e, version),
            },
            None => None,
        };
        let job = self.prepare(&spec);
        if let Some(body) = stream_body {
            let reader = StreamReader::new(body.into_data_stream().map_err(io::Error::other));
            // A fresh job has no stdin source yet.
            let _ = job.stdin().add(reader);
        }
        match spec.reply {
            Reply::Hijack(streams) => hijack::serve(job, upgrade, tty, streams.failure).await,
            Reply::Multiplexed(streams) => {
                let chunks = hijack::multiplex(&job, tty).await;
                let tail = Tail::InBand(streams.failure, tty);
                stream_chunks(chunks, spawn_run(job), RAW_STREAM, tail, version).await
            }
            Reply::RawWithStat(_, content_type) => {
                let mut response = stream_response(job, content_type, Tail::Abort, version).await;
                if let Some((name, value)) = stat_header.filter(|_| response.status().is_success()) {
                    response.headers_mut().insert(name, value);
                }
                response
            }
            reply => run(job, reply, version).await,
        }
    }

    /// Runs a route's stat job; its failure is the request's.
    async fn stat_header(&self, stat: Stat, spec: &JobSpec) -> Result<(HeaderName, HeaderValue), ApiError> {
        let job = self.inner.eng.job(stat.job, spec.args.iter().cloned());
        job.with_env(|env| env.init(&spec.env));
        let out = job.stdout().add_buffer();
        job.run().await?;
        header_of(stat.header, &out.take())
    }

    /// Runs the probe of a container stream; its failure is the request's.
    async fn probe_tty(&self, streams: Streams, name: &str, version: ApiVersion) -> Result<bool, ApiError> {
        let probe = self.inner.eng.job(streams.probe, [name.to_string()]);
        probe.setenv(names::env::API_VERSION, version.to_string());
        let out = probe.stdout().add_buffer();
        probe.run().await?;
        Ok(match streams.tty {
            TtyFrom::Given(tty) => tty,
            TtyFrom::Probe(pointer) => serde_json::from_slice::<serde_json::Value>(&out.take())
                .ok()
                .and_then(|v| v.pointer(pointer).and_then(serde_json::Value::as_bool))
                .unwrap_or(false),
        })
    }

    fn prepare(&self, spec: &JobSpec) -> Job {
        let job = self.inner.eng.job(spec.name, spec.args.iter().cloned());
        job.with_env(|env| env.init(&spec.env));
        job
    }
}

impl RouterInner {
    /// `OK` (no body for `HEAD`) with every header of a ping answer.
    fn ping(&self, head: bool) -> Response<Body> {
        let body = if head { Bytes::new() } else { Bytes::from_static(b"OK") };
        let mut response = Response::new(Full::new(body).map_err(|e: Infallible| match e {}).boxed());
        *response.headers_mut() = self.ping_headers.clone();
        response
    }

    fn add_common_headers(&self, headers: &mut http::HeaderMap) {
        headers.insert(HeaderName::from_static("api-version"), HeaderValue::from_static(API_VERSION_TEXT));
        headers.insert(HeaderName::from_static("docker-experimental"), HeaderValue::from_static("false"));
        headers.insert(HeaderName::from_static("ostype"), HeaderValue::from_static("linux"));
        headers.insert(header::SERVER, self.server.clone());
        if self.cors {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Origin, X-Requested-With, Content-Type, Accept, X-Registry-Auth"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("HEAD, GET, POST, DELETE, PUT, OPTIONS"),
            );
        }
    }
}

const API_VERSION_TEXT: &str = "1.24";

/// `/v1.24/info` → (`Some("1.24")`, `/info`); `/info` → (`None`, `/info`).
fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        let end = rest.find('/').unwrap_or(rest.len());
        let version = &rest[..end];
        if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return (Some(version), &rest[end..]);
        }
    }
    (None, path)
}

/// Checks a requested version against the range we serve. On error, also
/// returns the version whose error format to use.
fn check_version(raw: &str) -> Result<ApiVersion, (ApiVersion, ApiError)> {
    let v = ApiVersion::parse(raw).unwrap_or(ApiVersion { major: 0, minor: 0 });
    if v > API_VERSION {
        let e = format!("client version {raw} is too new. Maximum supported API version is {API_VERSION}");
        return Err((v, ApiError::bad_parameter(e)));
    }
    if v < MIN_API_VERSION {
        let e = format!(
            "client version {raw} is too old. Minimum supported API version is {MIN_API_VERSION}, \
             please upgrade your client to a newer version"
        );
        return Err((v, ApiError::bad_parameter(e)));
    }
    Ok(v)
}

fn percent_decode(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains('%') {
        return std::borrow::Cow::Borrowed(path);
    }
    percent_encoding::percent_decode_str(path).decode_utf8_lossy()
}

async fn run(job: Job, reply: Reply, version: ApiVersion) -> Response<Body> {
    match reply {
        Reply::Json(status) => {
            let out = job.stdout().add_buffer();
            let guard = job.hold_reply();
            let response = match job.run().await {
                Ok(()) => full(status, "application/json", out.take()),
                Err(e) => error_response(&e.into(), version),
            };
            delivered_with(response, guard)
        }
        Reply::Empty(status) => {
            let guard = job.hold_reply();
            let response = match job.run().await {
                Ok(()) => empty(status),
                Err(e) => error_response(&e.into(), version),
            };
            delivered_with(response, guard)
        }
        Reply::Header(name) => {
            let out = job.stdout().add_buffer();
            if let Err(e) = job.run().await {
                return error_response(&e.into(), version);
            }
            match header_of(name, &out.take()) {
                Ok((name, value)) => {
                    let mut response = empty(StatusCode::OK);
                    response.headers_mut().insert(name, value);
                    response
                }
                Err(e) => error_response(&e, version),
            }
        }
        Reply::JsonStream => stream_response(job, "application/json", Tail::JsonMessage, version).await,
        Reply::Raw(content_type) => stream_response(job, content_type, Tail::Abort, version).await,
        // Served by `dispatch`, which knows the connection, the TTY or the stat.
        Reply::Hijack(_) | Reply::Multiplexed(_) | Reply::RawWithStat(..) => {
            error_response(&ApiError::new(ErrorKind::Internal, "a stream reply reached the plain runner"), version)
        }
    }
}

/// The response with `guard` riding in its body: hyper drops the body once
/// it has written it, which tells the job its answer is out (work a handler
/// deferred to [`Job::replied`] runs then).
fn delivered_with(response: Response<Body>, guard: engine::ReplyGuard) -> Response<Body> {
    response.map(|body| Delivered { body, _guard: guard }.boxed())
}

/// A body that holds a [`engine::ReplyGuard`] until it is dropped.
struct Delivered {
    body: Body,
    _guard: engine::ReplyGuard,
}

impl HttpBody for Delivered {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A header holding `output` (a job's JSON, trailing newline dropped)
/// base64'd, as dockerd sets `X-Docker-Container-Path-Stat`.
fn header_of(name: &'static str, output: &[u8]) -> Result<(HeaderName, HeaderValue), ApiError> {
    use base64::Engine as _;
    let json = output.trim_ascii_end();
    let value = base64::engine::general_purpose::STANDARD.encode(json);
    let value = HeaderValue::from_str(&value).map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))?;
    Ok((HeaderName::from_static(name), value))
}

/// How a job failure after the first byte of a streamed body is reported.
#[derive(Debug, Clone, Copy)]
enum Tail {
    /// A JSON progress error message.
    JsonMessage,
    /// The body is cut short.
    Abort,
    /// The failure's text, framed as stdout unless there is a TTY.
    InBand(Failure, bool),
}

fn spawn_run(job: Job) -> JoinHandle<Result<(), JobError>> {
    tokio::spawn(async move { job.run().await })
}

/// Streams the job's stdout as it is written. The status line goes out with
/// the first write (an empty write is enough, as `events` does); a job that
/// fails before writing anything gets a normal error response.
async fn stream_response(job: Job, content_type: &'static str, tail: Tail, version: ApiVersion) -> Response<Body> {
    let chunks = job.stdout().add_channel(STREAM_CHUNKS);
    stream_chunks(chunks, spawn_run(job), content_type, tail, version).await
}

/// Streams what a running job writes into `chunks` (see [`stream_response`]).
async fn stream_chunks(
    mut chunks: tokio::sync::mpsc::Receiver<Bytes>,
    running: JoinHandle<Result<(), JobError>>,
    content_type: &'static str,
    tail: Tail,
    version: ApiVersion,
) -> Response<Body> {
    let Some(first) = chunks.recv().await else {
        return match running.await {
            Ok(Ok(())) => full(StatusCode::OK, content_type, Vec::new()),
            Ok(Err(e)) => error_response(&e.into(), version),
            Err(e) => error_response(&ApiError::new(ErrorKind::Internal, e.to_string()), version),
        };
    };

    enum State {
        Data(tokio::sync::mpsc::Receiver<Bytes>, JoinHandle<Result<(), JobError>>),
        Done,
    }
    let head = stream::iter([Ok::<_, io::Error>(first)]);
    let tail = stream::unfold(State::Data(chunks, running), move |state| async move {
        let State::Data(mut chunks, running) = state else { return None };
        if let Some(chunk) = chunks.recv().await {
            return Some((Ok(chunk), State::Data(chunks, running)));
        }
        let failure = match running.await {
            Ok(Ok(())) => return None,
            Ok(Err(e)) => e.message,
            Err(e) => e.to_string(),
        };
        match tail {
            Tail::JsonMessage => Some((Ok(Bytes::from(json_error_message(&failure))), State::Done)),
            // Aborting makes the client see a truncated stream instead of
            // error text inside its tar.
            Tail::Abort => Some((Err(io::Error::other(failure)), State::Done)),
            Tail::InBand(how, tty) => Some((Ok(hijack::failure_text(&failure, how, tty)), State::Done)),
        }
    });
    let frames = head.chain(tail).try_filter(|chunk| std::future::ready(!chunk.is_empty())).map_ok(Frame::data);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(BodyExt::boxed(StreamBody::new(frames)))
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
}

/// A JSON progress error message, as Docker's `StreamFormatter.FormatError`.
pub fn json_error_message(text: &str) -> String {
    let message = serde_json::json!({ "errorDetail": { "message": text }, "error": text });
    format!("{message}\r\n")
}

fn full(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)).map_err(|e: Infallible| match e {}).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Empty::new().map_err(|e: Infallible| match e {}).boxed());
    *response.status_mut() = status;
    response
}

/// The error response: JSON `{"message":…}` from v1.24, text before; no
/// body for 304.
pub fn error_response(e: &ApiError, version: ApiVersion) -> Response<Body> {
    let status = e.status();
    if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
        tracing::warn!(status = status.as_u16(), error = %e.message, "request failed");
    } else {
        tracing::debug!(status = status.as_u16(), error = %e.message, "request failed");
    }
    if status == StatusCode::NOT_MODIFIED {
        return empty(status);
    }
    if version.at_least(ApiVersion { major: 1, minor: 24 }) {
        let body = serde_json::json!({ "message": e.message }).to_string();
        full(status, "application/json", body.into_bytes())
    } else {
        full(status, "text/plain; charset=utf-8", format!("{}\n", e.message).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefixes() {
        assert_eq!(split_version("/v1.24/info"), (Some("1.24"), "/info"));
        assert_eq!(split_version("/info"), (None, "/info"));
        assert_eq!(split_version("/version"), (None, "/version"));
        assert_eq!(split_version("/v1.12/images/a/json"), (Some("1.12"), "/images/a/json"));
        assert_eq!(split_version("/vabc/info"), (None, "/vabc/info"));
    }

    #[test]
    fn version_range() {
        assert!(check_version("1.24").is_ok());
        assert!(check_version("1.12").is_ok());
        let (_, too_new) = check_version("9.99").unwrap_err();
        assert_eq!(too_new.message, "client version 9.99 is too new. Maximum supported API version is 1.24");
        assert_eq!(too_new.status(), StatusCode::BAD_REQUEST);
        let (_, too_old) = check_version("1.0").unwrap_err();
        assert!(too_old.message.starts_with("client version 1.0 is too old. Minimum supported API version is 1.12"));
    }

    #[test]
    fn stat_headers_are_base64_json() {
        let (name, value) = header_of("x-docker-container-path-stat", b"{\"name\":\"x\"}\n").unwrap();
        assert_eq!(name, "x-docker-container-path-stat");
        assert_eq!(value, "eyJuYW1lIjoieCJ9");
    }

    #[test]
    fn json_error_messages() {
        assert_eq!(json_error_message("x"), "{\"error\":\"x\",\"errorDetail\":{\"message\":\"x\"}}\r\n");
    }
}
