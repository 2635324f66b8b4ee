//! The API server in-process: a real engine with small handlers, served on
//! a temporary unix socket and called with a real HTTP client.

use std::path::PathBuf;
use std::time::Duration;

use api_server::{AcceptGate, Router, RouterConfig, ServeConfig, bind, serve};
use bytes::Bytes;
use engine::{Engine, ErrorKind, Job, Status};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tokio::sync::oneshot;

struct Server {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    gate: AcceptGate,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(eng: Engine, cors: bool, open: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("api.sock");
    let host = format!("unix://{}", socket.display());
    let config = ServeConfig { socket_group: String::new(), ..Default::default() };
    let listeners = bind(&host, &config).await.unwrap();
    let gate = AcceptGate::new();
    if open {
        gate.open();
    }
    let router = Router::new(eng, RouterConfig { enable_cors: cors, version: "test".into() });
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listeners, router, gate.clone(), async move {
        let _ = stopped.await;
    }));
    Server { _dir: dir, socket, gate, stop: Some(stop) }
}

async fn send(server: &Server, method: Method, uri: &str, body: &'static [u8]) -> http::Response<Incoming> {
    let stream = UnixStream::connect(&server.socket).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("Host", "docker")
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    sender.send_request(req).await.unwrap()
}

async fn body_text(resp: http::Response<Incoming>) -> String {
    String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

fn engine() -> Engine {
    let eng = Engine::new();
    eng.set_logging(false);
    eng.register("version", |job: Job| async move {
        let _ = job.print(r#"{"ApiVersion":"1.24"}"#).await;
        Status::OK
    })
    .unwrap();
    eng.register("create", |job: Job| async move {
        let body: serde_json::Value = job.getenv_json("body").unwrap().unwrap();
        let _ = job.print(format!("{{\"Id\":\"{}\",\"Warnings\":[]}}", body["Image"].as_str().unwrap())).await;
        Status::OK
    })
    .unwrap();
    eng.register("container_inspect", |job: Job| async move {
        job.fail(ErrorKind::NotFound, format!("No such container: {}", job.args()[0])).await
    })
    .unwrap();
    eng.register("stop", |job: Job| async move { job.fail(ErrorKind::NotModified, "Container already stopped").await })
        .unwrap();
    eng.register(
        "wait",
        |job: Job| async move { job.errorf(format!("wait: no such container: {}", job.args()[0])).await },
    )
    .unwrap();
    eng.register("pull", |job: Job| async move {
        let _ = job.print("{\"status\":\"Pulling fs layer\"}\r\n").await;
        job.errorf("layer verification failed").await
    })
    .unwrap();
    eng
}

#[tokio::test]
async fn ping_answers_ok_with_the_api_version() {
    let server = start(engine(), false, true).await;
    let resp = send(&server, Method::GET, "/_ping", b"").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["api-version"], "1.24");
    assert_eq!(resp.headers()["ostype"], "linux");
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(body_text(resp).await, "OK");

    let resp = send(&server, Method::HEAD, "/_ping", b"").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["api-version"], "1.24");
    let resp = send(&server, Method::GET, "/v1.12/_ping", b"").await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Spelled so that only the route table recognises it: same answer.
    let resp = send(&server, Method::GET, "/v1.24/%5Fping", b"").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["api-version"], "1.24");
    assert_eq!(resp.headers()["cache-control"], "no-cache, no-store, must-revalidate");
    assert_eq!(body_text(resp).await, "OK");
}

#[tokio::test]
async fn versions_outside_the_range_are_refused() {
    let server = start(engine(), false, true).await;
    let resp = send(&server, Method::GET, "/v9.99/version", b"").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        body_text(resp).await,
        r#"{"message":"client version 9.99 is too new. Maximum supported API version is 1.24"}"#
    );
    let resp = send(&server, Method::GET, "/v1.0/version", b"").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(body_text(resp).await.starts_with("client version 1.0 is too old. Minimum supported API version is 1.12"));

    for path in ["/version", "/v1.24/version", "/v1.12/version"] {
        let resp = send(&server, Method::GET, path, b"").await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(body_text(resp).await, r#"{"ApiVersion":"1.24"}"#);
    }
}

#[tokio::test]
async fn unknown_routes_and_missing_jobs() {
    let server = start(engine(), false, true).await;
    let resp = send(&server, Method::GET, "/v1.24/nope", b"").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_text(resp).await, r#"{"message":"page not found"}"#);

    let resp = send(&server, Method::GET, "/v1.24/images/json", b"").await;
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        body_text(resp).await,
        r#"{"message":"GET /images/json is not implemented yet: no handler is registered for job 'images'"}"#
    );
}

#[tokio::test]
async fn bad_json_is_a_400_and_the_server_keeps_serving() {
    let server = start(engine(), false, true).await;
    let resp = send(&server, Method::POST, "/v1.24/containers/create", b"{\"Image\":").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let text = body_text(resp).await;
    assert!(text.starts_with(r#"{"message":"malformed JSON in request body: "#), "{text}");

    let resp = send(&server, Method::POST, "/v1.24/containers/create?name=web", b"{\"Image\":\"busybox\"}").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(body_text(resp).await, r#"{"Id":"busybox","Warnings":[]}"#);

    let resp = send(&server, Method::GET, "/v1.24/events?filters=%7Bnope", b"").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn error_kinds_and_texts_map_to_statuses() {
    let server = start(engine(), false, true).await;
    let resp = send(&server, Method::GET, "/v1.24/containers/web/json", b"").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_text(resp).await, r#"{"message":"No such container: web"}"#);

    let resp = send(&server, Method::POST, "/v1.24/containers/web/stop", b"").await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    // No kind stated: the text decides, case-insensitively (dockerd 1.12).
    let resp = send(&server, Method::POST, "/v1.24/containers/web/wait", b"").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Before v1.24 errors are plain text.
    let resp = send(&server, Method::GET, "/v1.23/containers/web/json", b"").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_text(resp).await, "No such container: web\n");
}

#[tokio::test]
async fn a_stream_that_fails_midway_ends_with_an_error_message() {
    let server = start(engine(), false, true).await;
    let resp = send(&server, Method::POST, "/v1.24/images/create?fromImage=busybox&tag=latest", b"").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        body_text(resp).await,
        "{\"status\":\"Pulling fs layer\"}\r\n{\"error\":\"layer verification failed\",\"errorDetail\":{\"message\":\"layer verification failed\"}}\r\n"
    );
}

#[tokio::test]
async fn streams_reach_the_client_while_the_job_runs() {
    let eng = engine();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release = parking_lot::Mutex::new(Some(release_rx));
    let release = std::sync::Arc::new(release);
    eng.register("events", move |job: Job| {
        let release = release.clone();
        async move {
            let _ = job.print("").await;
            let _ = job.print("{\"status\":\"first\"}\n").await;
            let rx = release.lock().take().unwrap();
            let _ = rx.await;
            let _ = job.print("{\"status\":\"second\"}\n").await;
            Status::OK
        }
    })
    .unwrap();
    let server = start(eng, false, true).await;
    let resp = send(&server, Method::GET, "/v1.24/events", b"").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "{\"status\":\"first\"}\n", "delivered before the job ends");
    release_tx.send(()).unwrap();
    let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(second, "{\"status\":\"second\"}\n");
    assert!(body.frame().await.is_none());
}

#[tokio::test]
async fn requests_wait_for_the_accept_gate() {
    let server = start(engine(), false, false).await;
    let socket = server.socket.clone();
    let early = tokio::spawn(async move {
        let stream = UnixStream::connect(&socket).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        let req = Request::get("/_ping").header("Host", "d").body(Full::new(Bytes::new())).unwrap();
        sender.send_request(req).await.unwrap().status()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!early.is_finished(), "no answer before acceptconnections");
    server.gate.open();
    assert_eq!(early.await.unwrap(), StatusCode::OK);
}

#[tokio::test]
async fn cors_headers_when_enabled() {
    let server = start(engine(), true, true).await;
    let resp = send(&server, Method::OPTIONS, "/v1.24/containers/json", b"").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let resp = send(&server, Method::GET, "/v1.24/nope", b"").await;
    assert_eq!(resp.headers()["access-control-allow-origin"], "*", "errors carry them too");

    let plain = start(engine(), false, true).await;
    let resp = send(&plain, Method::GET, "/_ping", b"").await;
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn the_unix_socket_is_group_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = start(engine(), false, true).await;
    let mode = std::fs::metadata(&server.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);
}

#[tokio::test]
async fn a_missing_named_group_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}/x.sock", dir.path().display());
    let config = ServeConfig { socket_group: "no-such-group-here".into(), ..Default::default() };
    let err = bind(&host, &config).await.err().unwrap();
    assert_eq!(err.to_string(), "Group no-such-group-here not found");
}
