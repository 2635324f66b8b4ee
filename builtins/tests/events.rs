//! The built-in jobs behind a real API server on a temporary socket: events
//! reach a `GET /events` subscriber live, with the v1.24 shape, filters and
//! `since`/`until` replay; `version` reports typed fields.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use api_server::{Router, RouterConfig, ServeConfig, bind, serve};
use bytes::Bytes;
use engine::{Engine, Job};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::UnixStream;

struct Daemon {
    eng: Engine,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

async fn start() -> Daemon {
    let eng = Engine::new();
    eng.set_logging(false);
    let (gate, _events) = builtins::register(&eng, Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let config = ServeConfig { socket_group: String::new(), ..Default::default() };
    let listeners = bind(&format!("unix://{}", socket.display()), &config).await.unwrap();
    let router = Router::new(eng.clone(), RouterConfig::default());
    tokio::spawn(serve(listeners, router, gate, std::future::pending()));
    eng.job("acceptconnections", Vec::<String>::new()).run().await.unwrap();
    Daemon { eng, socket, _dir: dir }
}

async fn get(d: &Daemon, uri: &str) -> http::Response<Incoming> {
    let stream = UnixStream::connect(&d.socket).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let req = Request::get(uri).header("Host", "docker").body(Full::new(Bytes::new())).unwrap();
    sender.send_request(req).await.unwrap()
}

async fn log(d: &Daemon, action: &str, id: &str, from: &str, typ: &str, attributes: &str) {
    let job: Job = d.eng.job("log", [action, id, from]);
    job.setenv("Type", typ);
    job.setenv("Attributes", attributes);
    job.run().await.unwrap();
}

async fn next_event(body: &mut Incoming) -> Value {
    loop {
        let frame = body.frame().await.expect("stream open").unwrap();
        let data = frame.into_data().unwrap();
        if !data.is_empty() {
            return serde_json::from_slice(&data).unwrap();
        }
    }
}

#[tokio::test]
async fn a_subscriber_receives_events_live() {
    let d = start().await;
    let resp = get(&d, "/v1.24/events").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let mut body = resp.into_body();

    log(&d, "die", "abc123", "busybox", "container", r#"{"exitCode":"7","name":"web"}"#).await;
    let ev = next_event(&mut body).await;
    assert_eq!(ev["status"], "die");
    assert_eq!(ev["id"], "abc123");
    assert_eq!(ev["from"], "busybox");
    assert_eq!(ev["Type"], "container");
    assert_eq!(ev["Action"], "die");
    assert_eq!(ev["Actor"]["ID"], "abc123");
    assert_eq!(ev["Actor"]["Attributes"]["exitCode"], "7", "docker run reads the exit code here");
    assert_eq!(ev["Actor"]["Attributes"]["image"], "busybox");
    assert_eq!(ev["Actor"]["Attributes"]["name"], "web");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((ev["time"].as_i64().unwrap() - now).abs() <= 2);
    assert_eq!(ev["timeNano"].as_i64().unwrap() / 1_000_000_000, ev["time"].as_i64().unwrap());

    let count = d.eng.job("subscribers_count", Vec::<String>::new());
    let out = count.stdout().add_buffer();
    count.run().await.unwrap();
    assert_eq!(out.text(), r#"{"count":1}"#);
}

#[tokio::test]
async fn filters_select_events() {
    let d = start().await;
    let resp = get(&d, "/v1.24/events?filters=%7B%22type%22%3A%7B%22image%22%3Atrue%7D%7D").await;
    let mut body = resp.into_body();
    log(&d, "start", "c1", "busybox", "container", "").await;
    log(&d, "untag", "sha256:1234", "", "image", r#"{"name":"busybox:latest"}"#).await;
    let ev = next_event(&mut body).await;
    assert_eq!(ev["status"], "untag");
    assert_eq!(ev["Type"], "image");
    assert!(ev.get("from").is_none(), "from is omitted when empty");

    let resp = get(&d, "/v1.24/events?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn since_and_until_replay_and_end_the_stream() {
    let d = start().await;
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    log(&d, "create", "c1", "busybox", "container", "").await;
    log(&d, "start", "c1", "busybox", "container", "").await;
    let until = before + 2;
    let resp = get(&d, &format!("/v1.24/events?since={}&until={until}", before - 1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    let events: Vec<Value> =
        text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    let actions: Vec<&str> = events.iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "start"]);

    // An `until` in the past ends the stream right after the replay.
    let resp = get(&d, &format!("/v1.24/events?since={}&until={}", before - 10, before - 5)).await;
    assert!(resp.into_body().collect().await.unwrap().to_bytes().is_empty());
}

#[tokio::test]
async fn log_needs_three_args() {
    let d = start().await;
    let err = d.eng.job("log", ["die", "x"]).run().await.unwrap_err();
    assert_eq!(err.message, "usage: log ACTION ID FROM");
}

#[tokio::test]
async fn version_has_typed_fields() {
    let d = start().await;
    let resp = get(&d, "/version").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["ApiVersion"], "1.24");
    assert_eq!(v["MinAPIVersion"], "1.12");
    assert_eq!(v["Os"], "linux");
    assert_eq!(v["Version"], builtins::VERSION);
    assert!(v["GoVersion"].as_str().unwrap().starts_with("rust1."));
    assert!(v["GitCommit"].is_string());
    assert_eq!(v["KernelVersion"], builtins::kernel_version());
}
