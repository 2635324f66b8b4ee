//! A real registry for tests: distribution's `docker-registry serve` on a
//! loopback port with its own temporary storage, without auth, with an
//! htpasswd file (basic auth), or with token auth backed by a tiny token
//! issuer running on a thread in the test process (ES256 JWTs carrying the
//! signing certificate in `x5c`, trusted through the registry's
//! `rootcertbundle`).
//!
//! A plain module, included with `#[path]` by the registry crate's tests
//! and the end-to-end suites. Dependencies: std, tempfile, serde_json,
//! rcgen, bcrypt. Everything it starts is stopped by `Drop`, also when a
//! test fails.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `service` and `issuer` the token-auth registry expects.
pub const TOKEN_SERVICE: &str = "test-registry";
/// The issuer name in the tokens.
pub const TOKEN_ISSUER: &str = "test-issuer";

/// How the registry authenticates.
#[derive(Debug, Clone)]
pub enum RegistryAuth {
    /// Anyone may pull and push.
    None,
    /// htpasswd with one user.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// Bearer tokens from the in-process issuer, which knows one user.
    Token {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

/// A running registry. Dropping it stops the registry and the issuer and
/// removes the storage.
pub struct TestRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    dir: tempfile::TempDir,
    storage: PathBuf,
    child: Option<Child>,
    issuer: Option<Issuer>,
}

struct Issuer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

const READY_DEADLINE: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 3;

fn registry_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("DOCKER_REGISTRY_BIN") {
        return PathBuf::from(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("docker-registry"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"))
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 for a free port");
    listener.local_addr().expect("local address of the port probe").port()
}

impl TestRegistry {
    /// Starts a registry and waits until it answers `GET /v2/`.
    pub fn start(auth: RegistryAuth) -> TestRegistry {
        let bin = registry_binary();
        assert!(bin.is_file(), "docker-registry not found at {} (apt-get install docker-registry)", bin.display());
        let dir = tempfile::Builder::new().prefix("test-registry-").tempdir().expect("creating the registry temp dir");
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).expect("creating the registry storage dir");

        let (auth_yaml, issuer) = match &auth {
            RegistryAuth::None => (String::new(), None),
            RegistryAuth::Basic { user, password } => {
                let hash = bcrypt::hash(password, 4).expect("bcrypt hashing the test password");
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, format!("{user}:{hash}\n")).expect("writing htpasswd");
                (format!("auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n", htpasswd.display()), None)
            }
            RegistryAuth::Token { user, password } => {
                let key =
                    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("generating the issuer key");
                let mut params =
                    rcgen::CertificateParams::new(vec!["token-issuer".to_string()]).expect("issuer cert params");
                params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
                let cert = params.self_signed(&key).expect("self-signing the issuer cert");
                let bundle = dir.path().join("issuer.pem");
                std::fs::write(&bundle, cert.pem()).expect("writing the root cert bundle");
                let issuer = Issuer::start(key, cert.der().to_vec(), user.clone(), password.clone());
                let yaml = format!(
                    "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                    issuer.port,
                    bundle.display()
                );
                (yaml, Some(issuer))
            }
        };

        let mut registry = TestRegistry { host: String::new(), dir, storage: storage.clone(), child: None, issuer };
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let host = format!("127.0.0.1:{port}");
            let config = registry.dir.path().join("config.yml");
            let yaml = format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {host}\n  secret: test-secret\n{auth_yaml}",
                storage.display()
            );
            std::fs::write(&config, yaml).expect("writing the registry config");
            let log_path = registry.dir.path().join("registry.log");
            let log = std::fs::File::create(&log_path).expect("creating the registry log");
            let log2 = log.try_clone().expect("duplicating the registry log handle");
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
            registry.child = Some(child);
            registry.host = host;
            if registry.wait_ready() {
                return registry;
            }
            registry.stop_child();
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
            // Only a lost port race is worth another try.
            if !last_log.contains("address already in use") {
                break;
            }
        }
        panic!("the test registry did not start; its log:\n{last_log}");
    }

    /// The registry's storage root (`docker/registry/v2/...` below it).
    pub fn storage_dir(&self) -> &Path {
        &self.storage
    }

    /// Where a blob's bytes are stored.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage_dir().join("docker/registry/v2/blobs/sha256").join(&hex[..2.min(hex.len())]).join(hex).join("data")
    }

    /// The registry's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// How many token requests the issuer answered (0 without token auth).
    pub fn token_requests(&self) -> usize {
        self.issuer.as_ref().map_or(0, |i| i.requests.load(Ordering::SeqCst))
    }

    /// `http://127.0.0.1:PORT/token` with token auth.
    pub fn token_realm(&self) -> Option<String> {
        self.issuer.as_ref().map(|i| format!("http://127.0.0.1:{}/token", i.port))
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_DEADLINE;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                return false;
            }
            if http_status(&self.host, "/v2/").is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn stop_child(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop_child();
        if let Some(issuer) = self.issuer.as_mut() {
            issuer.stop();
        }
    }
}

/// The status of `GET path` on `host`, or `None` when nothing answers.
fn http_status(host: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Issuer {
    fn start(key: rcgen::KeyPair, cert_der: Vec<u8>, user: String, password: String) -> Issuer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the token issuer");
        let port = listener.local_addr().expect("token issuer address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let (stop2, requests2) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                requests2.fetch_add(1, Ordering::SeqCst);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let reply = match read_request(&mut conn) {
                    Some(req) => answer(&req, &key, &cert_der, &user, &password),
                    None => response(400, "{}"),
                };
                let _ = conn.write_all(reply.as_bytes());
                let _ = conn.shutdown(Shutdown::Both);
            }
        });
        Issuer { port, stop, requests, thread: Some(thread) }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
}

fn read_request(conn: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 16 * 1024 || conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8(buf).ok()?;
    let mut lines = text.split("\r\n");
    let target = lines.next()?.split_whitespace().nth(1)?.to_string();
    let authorization = lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case("authorization").then(|| v.trim().to_string())
    });
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Some(Request { path: path.to_string(), query, authorization })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn response(status: u16, body: &str) -> String {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let challenge = if status == 401 { "WWW-Authenticate: Basic realm=\"token-issuer\"\r\n" } else { "" };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{challenge}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Checks the basic credentials; grants the user everything it asked for
/// and an anonymous caller nothing (as a hub does for private repos).
fn answer(req: &Request, key: &rcgen::KeyPair, cert_der: &[u8], user: &str, password: &str) -> String {
    if req.path != "/token" {
        return response(404, r#"{"details":"not found"}"#);
    }
    let subject = match &req.authorization {
        None => String::new(),
        Some(value) => {
            let given =
                value.strip_prefix("Basic ").map(|b| String::from_utf8(b64_decode(b.trim())).unwrap_or_default());
            if given.as_deref() != Some(format!("{user}:{password}").as_str()) {
                return response(401, r#"{"details":"incorrect username or password"}"#);
            }
            user.to_string()
        }
    };
    let service = req.query.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone()).unwrap_or_default();
    let mut access = Vec::new();
    if !subject.is_empty() {
        for (_, scope) in req.query.iter().filter(|(k, _)| k == "scope") {
            for one in scope.split(' ') {
                // type:name:actions, where the name may hold a port's colon.
                let mut parts = one.splitn(2, ':');
                let (Some(kind), Some(rest)) = (parts.next(), parts.next()) else { continue };
                let Some((name, actions)) = rest.rsplit_once(':') else { continue };
                let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
                access.push(serde_json::json!({"type": kind, "name": name, "actions": actions}));
            }
        }
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [b64_std(cert_der)]});
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER,
        "sub": subject,
        "aud": service,
        "exp": now + 300,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": format!("{now}-{}", JTI.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let signing_input =
        format!("{}.{}", b64_url(header.to_string().as_bytes()), b64_url(claims.to_string().as_bytes()));
    let der = rcgen::SigningKey::sign(key, signing_input.as_bytes()).expect("signing the token");
    let token = format!("{signing_input}.{}", b64_url(&der_to_fixed(&der)));
    response(200, &serde_json::json!({"token": token, "access_token": token, "expires_in": 300}).to_string())
}

static JTI: AtomicUsize = AtomicUsize::new(0);

/// An ASN.1 `SEQUENCE { INTEGER r, INTEGER s }` ECDSA signature as JWS's
/// 64-byte `r || s`.
fn der_to_fixed(der: &[u8]) -> Vec<u8> {
    fn int(b: &[u8]) -> (&[u8], &[u8]) {
        assert_eq!(b[0], 0x02, "DER INTEGER expected");
        let len = b[1] as usize;
        (&b[2..2 + len], &b[2 + len..])
    }
    assert_eq!(der[0], 0x30, "DER SEQUENCE expected");
    let body = if der[1] & 0x80 == 0 { &der[2..] } else { &der[2 + (der[1] & 0x7f) as usize..] };
    let (r, rest) = int(body);
    let (s, _) = int(rest);
    let mut out = vec![0u8; 64];
    for (src, at) in [(r, 0), (s, 32)] {
        // DER integers may carry a leading zero, or be shorter than 32 bytes.
        let src = &src[src.len().saturating_sub(32)..];
        out[at + 32 - src.len()..at + 32].copy_from_slice(src);
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_std(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_url(data: &[u8]) -> String {
    b64_std(data).trim_end_matches('=').replace('+', "-").replace('/', "_")
}

fn b64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        };
        acc = (acc << 6 | u32::from(v)) & 0xff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
