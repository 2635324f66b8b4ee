//! Real clients against a real daemon: the docker CLI v28, docker-py 7.2,
//! and our own client; bad input; TLS.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;

use common::{Daemon, DaemonOptions, REAL_CLI, docker_bin, free_port, require, stderr, stdout};

#[test]
fn the_docker_cli_reads_version_and_info() {
    if !require(REAL_CLI, "the docker CLI v28") {
        return;
    }
    let d = Daemon::start();
    let out = d.real_cli(&["version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("API version:       1.24 (downgraded from 1.50)"), "{text}");
    assert!(text.contains("API version:      1.24 (minimum version 1.12)"), "{text}");
    assert!(text.contains("Version:          0.1.0"), "{text}");
    assert!(text.contains("Go version:       rust1."), "{text}");

    let out = d.real_cli(&["info"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(" Server Version: 0.1.0"), "{text}");
    assert!(
        text.contains(&format!(" Docker Root Dir: {}", d.dir.path().join("root").canonicalize().unwrap().display())),
        "{text}"
    );
    assert!(text.contains(" Containers: 0"), "{text}");
    assert!(text.contains(" Logging Driver: json-file"), "{text}");
    assert!(text.contains(" Storage Driver: overlay") || text.contains(" Storage Driver: vfs"), "{text}");

    let out = d.real_cli(&["info", "--format", "{{.NCPU}} {{.Debug}} {{.MemoryLimit}}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fields: Vec<String> = stdout(&out).split_whitespace().map(String::from).collect();
    assert_eq!(fields[0], std::thread::available_parallelism().unwrap().get().to_string());
    assert_eq!(fields[1], "false");
}

#[test]
fn our_client_reads_version_and_info() {
    let d = Daemon::start_with(DaemonOptions { args: vec!["-D".into()], ..Default::default() });
    let out = d.client(&["version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in
        ["Client version: 0.1.0", "Client API version: 1.24", "Server version: 0.1.0", "Server API version: 1.24"]
    {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }
    let out = d.client(&["info"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Containers: 0\nImages: 0\nStorage Driver: "), "{text}");
    assert!(text.contains("Execution Driver: native-0.2\n"), "{text}");
    assert!(text.contains("Debug mode (server): true\n"), "-D reaches info: {text}");

    let out = Command::new(docker_bin()).args(["-H", "unix:///nonexistent/docker.sock", "version"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.starts_with("Cannot connect to the Docker daemon at unix:///nonexistent/docker.sock.")),
        "{err}"
    );
}

#[test]
fn both_clients_stream_events_until_the_end_time() {
    // Nothing emits events before containers exist (the live path is tested
    // in-process in builtins); a window in the past ends the stream at once.
    let d = Daemon::start();
    let out = d.client(&["events", "--since", "1", "--until", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let out = d.client(&["events", "--until", "1970-01-01T00:00:02Z", "--filter", "colour=red"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim_end(), "Error response from daemon: Invalid filter 'colour'");
    if require(REAL_CLI, "the docker CLI v28") {
        let out = d.real_cli(&["events", "--since", "1", "--until", "2"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), "");
    }
}

#[test]
fn bad_requests_get_clear_errors_and_the_daemon_keeps_serving() {
    let d = Daemon::start();
    let cases: [(&str, &str, &str, u16, &str); 6] = [
        ("POST", "/v1.24/containers/create", "{\"Image\":", 400, "malformed JSON in request body"),
        ("POST", "/v1.24/auth", "[1,2]", 400, "expected a JSON object"),
        ("GET", "/v1.24/no/such/route", "", 404, "page not found"),
        ("GET", "/v9.99/version", "", 400, "client version 9.99 is too new. Maximum supported API version is 1.24"),
        ("GET", "/v1.0/version", "", 400, "client version 1.0 is too old. Minimum supported API version is 1.12"),
        ("GET", "/v1.24/events?since=yesterday", "", 400, "is not a Unix timestamp"),
    ];
    for (method, path, body, status, text) in cases {
        let (got, answer) = d.http(method, path, body);
        assert_eq!(got, status, "{method} {path}: {answer}");
        assert!(answer.contains(text), "{method} {path}: {answer}");
    }
    let (status, body) = d.http("GET", "/v1.24/volumes", "");
    assert_eq!(status, 501, "routes whose subsystem has not landed say so: {body}");
    assert!(body.contains("no handler is registered for job 'volume_list'"), "{body}");

    // Still serving, and still answering clients.
    let out = d.client(&["version"]);
    assert!(out.status.success());
    if require(REAL_CLI, "the docker CLI v28") {
        // inspect falls through container, image, network and volume to
        // the CLI's own answer: every lookup must be a 404, none a 501.
        let out = d.real_cli(&["inspect", "nosuch"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stderr(&out).trim(), "Error: No such object: nosuch");
        let out = d.real_cli(&["volume", "ls"]);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains("Error response from daemon: GET /volumes is not implemented yet"), "{err}");
    }
}

#[test]
fn events_stream_live_over_http() {
    let d = Daemon::start();
    let mut s = UnixStream::connect(&d.socket).unwrap();
    write!(s, "GET /v1.24/events?since=1&until=2 HTTP/1.1\r\nHost: docker\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        headers.push(line.to_lowercase());
    }
    assert!(headers.iter().any(|h| h.starts_with("content-type: application/json")), "{headers:?}");
    assert!(headers.iter().any(|h| h.starts_with("api-version: 1.24")), "{headers:?}");
}

#[test]
fn docker_py_reads_version_and_info_with_auto_negotiation() {
    let Some(python) = common::docker_py() else { return };
    let d = Daemon::start();
    let script = r#"
v = c.version()
i = c.info()
print(json.dumps({"api": c.api.api_version, "ping": c.ping(), "version": v["Version"],
                  "ApiVersion": v["ApiVersion"], "Containers": i["Containers"],
                  "Debug": i["Debug"], "Driver": i["Driver"], "docker_py": docker.__version__}))
"#;
    let got = common::image_tools::docker_py_json(&python, &d, script, &[]);
    assert_eq!(got["docker_py"], "7.2.0");
    assert_eq!(got["api"], "1.24");
    assert_eq!(got["ping"], true);
    assert_eq!(got["version"], "0.1.0");
    assert_eq!(got["ApiVersion"], "1.24");
    assert_eq!(got["Containers"], 0);
    assert_eq!(got["Debug"], false);
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as
/// PEM files in `dir`.
fn make_certs(dir: &std::path::Path) {
    use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();

    let write = |name: &str, pem: String| std::fs::write(dir.join(name), pem).unwrap();
    write("ca.pem", ca_cert.pem());
    write("server-cert.pem", server_cert.pem());
    write("server-key.pem", server_key.serialize_pem());
    write("cert.pem", client_cert.pem());
    write("key.pem", client_key.serialize_pem());
}

#[test]
fn tls_verify_requires_and_checks_client_certificates() {
    let certs = tempfile::tempdir().unwrap();
    make_certs(certs.path());
    let pem = |n: &str| certs.path().join(n).display().to_string();
    let port = free_port();
    let tcp = format!("tcp://127.0.0.1:{port}");
    let d = Daemon::start_with(DaemonOptions {
        args: vec![
            "-H".into(),
            tcp.clone(),
            "--tlsverify".into(),
            format!("--tlscacert={}", pem("ca.pem")),
            format!("--tlscert={}", pem("server-cert.pem")),
            format!("--tlskey={}", pem("server-key.pem")),
        ],
        ..Default::default()
    });

    // Our client with the client certificate (DOCKER_CERT_PATH) verifies
    // the daemon and is let in.
    let ours = |extra: &[&str], cert_path: &std::path::Path| {
        Command::new(docker_bin())
            .env("DOCKER_CERT_PATH", cert_path)
            .args(["-H", &tcp])
            .args(extra)
            .arg("version")
            .output()
            .unwrap()
    };
    let out = ours(&["--tlsverify"], certs.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Server API version: 1.24"));

    // Without a client certificate the daemon refuses the connection.
    let no_cert = tempfile::tempdir().unwrap();
    std::fs::copy(certs.path().join("ca.pem"), no_cert.path().join("ca.pem")).unwrap();
    let out = ours(&["--tlsverify"], no_cert.path());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // Plain HTTP to a TLS port gets nowhere either.
    let out = Command::new(docker_bin()).args(["-H", &tcp, "version"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));

    // The unix socket of the same daemon stays plain.
    assert_eq!(d.http("GET", "/_ping", "").0, 200);

    if require(REAL_CLI, "the docker CLI v28") {
        let config = certs.path().join("cli-config");
        std::fs::create_dir_all(&config).unwrap();
        let out = Command::new(REAL_CLI)
            .env("DOCKER_CONFIG", &config)
            .args([
                "-H",
                &tcp,
                "--tlsverify",
                "--tlscacert",
                &pem("ca.pem"),
                "--tlscert",
                &pem("cert.pem"),
                "--tlskey",
                &pem("key.pem"),
            ])
            .arg("version")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("API version:      1.24 (minimum version 1.12)"), "{}", stdout(&out));
    }
}
