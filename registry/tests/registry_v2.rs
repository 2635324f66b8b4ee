//! The v2 client against a real distribution registry on loopback, with no
//! auth, basic auth and token auth: blob upload (monolithic and chunked),
//! HEAD, cross-repository mount, schema 2 manifests and manifest lists,
//! digest verification against tampered storage, login, and the `auth` job.

#[path = "../../tests/support/registry.rs"]
mod registry_fixture;

use bytes::Bytes;
use engine::{Engine, ErrorKind};
use futures_util::{StreamExt, stream};
use registry::digest::{Verifier, sha256_digest};
use registry::manifest::{self, Platform};
use registry::{Access, AuthConfig, BlobStream, Reference, RegistryError, Repository, Service, ServiceOptions};
use registry_fixture::{RegistryAuth, TestRegistry};
use serde_json::json;

const USER: &str = "tester";
const PASSWORD: &str = "s3cret";

fn basic() -> RegistryAuth {
    RegistryAuth::Basic { user: USER.into(), password: PASSWORD.into() }
}

fn token() -> RegistryAuth {
    RegistryAuth::Token { user: USER.into(), password: PASSWORD.into() }
}

fn creds(reg: &TestRegistry, password: &str) -> AuthConfig {
    AuthConfig {
        username: USER.into(),
        password: password.into(),
        serveraddress: reg.host.clone(),
        ..Default::default()
    }
}

/// Deterministic, incompressible-looking bytes.
fn data(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The bytes as a stream of uneven pieces, as a real layer read would give.
fn body(bytes: &[u8]) -> BlobStream {
    let pieces: Vec<Result<Bytes, RegistryError>> =
        bytes.chunks(7 * 1024 + 3).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    Box::pin(stream::iter(pieces))
}

async fn upload(repo: &Repository, bytes: &[u8]) -> String {
    let digest = sha256_digest(bytes);
    repo.upload_blob(&digest, bytes.len() as u64, body(bytes)).await.expect("upload");
    digest
}

async fn repo(reg: &TestRegistry, name: &str, auth: &AuthConfig, access: Access) -> Repository {
    let reference = Reference::parse(&format!("{}/{name}", reg.host)).expect("reference");
    Service::new(ServiceOptions::default())
        .repository(&reference, auth, access, &[("X-Meta-Test".into(), "1".into())])
        .await
        .expect("open repository")
}

fn descriptor(media_type: &str, bytes: &[u8]) -> serde_json::Value {
    json!({"mediaType": media_type, "size": bytes.len(), "digest": sha256_digest(bytes)})
}

/// Uploads a config and the layers, puts a schema 2 manifest under `tag`;
/// returns the manifest bytes and digest.
async fn push_image(repo: &Repository, tag: &str, arch: &str, layers: &[&[u8]]) -> (Vec<u8>, String) {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256_digest(l)).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {}
    }))
    .unwrap();
    upload(repo, &config).await;
    for layer in layers {
        if repo.blob_exists(&sha256_digest(layer)).await.unwrap().is_none() {
            upload(repo, layer).await;
        }
    }
    let raw = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": manifest::MEDIA_TYPE_DOCKER_MANIFEST,
        "config": descriptor(manifest::MEDIA_TYPE_DOCKER_CONFIG, &config),
        "layers": layers.iter().map(|l| descriptor(manifest::MEDIA_TYPE_DOCKER_LAYER, l)).collect::<Vec<_>>(),
    }))
    .unwrap();
    let digest = repo.put_manifest(tag, manifest::MEDIA_TYPE_DOCKER_MANIFEST, &raw).await.expect("put manifest");
    assert_eq!(digest, sha256_digest(&raw), "the registry's digest is the bytes' sha256");
    (raw, digest)
}

/// Everything a pull and a push need, against one registry.
async fn exercise(reg: &TestRegistry, auth: AuthConfig) {
    let app = repo(reg, "test/app", &auth, Access::Push).await;
    assert_eq!(app.base_url(), format!("http://{}", reg.host), "loopback falls back to plain HTTP");

    // Monolithic upload, then HEAD.
    let layer = data(100 * 1024, 1);
    let layer_digest = sha256_digest(&layer);
    assert_eq!(app.blob_exists(&layer_digest).await.unwrap(), None);
    upload(&app, &layer).await;
    assert_eq!(app.blob_exists(&layer_digest).await.unwrap(), Some(layer.len() as u64));

    // Chunked uploads: a ragged last chunk, and an exact multiple of the
    // chunk size (the last PATCH is full, the PUT carries nothing).
    let chunked = app.clone().with_chunk_size(16 * 1024);
    for (len, seed) in [(50 * 1024 + 123, 2), (32 * 1024, 3)] {
        let bytes = data(len, seed);
        let digest = upload(&chunked, &bytes).await;
        assert_eq!(app.blob_exists(&digest).await.unwrap(), Some(len as u64));
        let (size, stream) = app.blob(&digest).await.unwrap();
        assert_eq!(size, Some(len as u64));
        let got: Vec<u8> = stream.map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(got, bytes, "chunked blob of {len} bytes comes back whole");
    }

    // A body shorter than announced, and bytes that are not the digest.
    let short = data(1000, 4);
    let err = app.upload_blob(&sha256_digest(&short), 2000, body(&short)).await.unwrap_err();
    assert!(err.to_string().contains("expected 2000"), "{err}");
    let err = app.upload_blob(&sha256_digest(b"other"), short.len() as u64, body(&short)).await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("digest"), "{err}");

    // A schema 2 image, fetched back by tag and by digest.
    let small = data(3000, 5);
    let (raw, digest) = push_image(&app, "v1", "amd64", &[&layer, &small]).await;
    let host = Platform::host();
    let got = app.manifest("v1", &host).await.expect("manifest by tag");
    assert_eq!((got.raw.as_slice(), got.digest.as_str()), (raw.as_slice(), digest.as_str()));
    assert_eq!(got.media_type, manifest::MEDIA_TYPE_DOCKER_MANIFEST);
    assert_eq!(got.list_digest, None);
    assert_eq!(got.manifest.layers.len(), 2);
    assert_eq!(got.manifest.layers[0].digest, layer_digest);
    let by_digest = app.manifest(&digest, &host).await.expect("manifest by digest");
    assert_eq!(by_digest.raw, raw);

    // Blobs: the config in full, a layer through the verifying reader.
    let config = app.blob_bytes(&got.manifest.config.digest).await.expect("config blob");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&config).unwrap()["architecture"], "amd64");
    let (size, stream) = app.blob(&layer_digest).await.unwrap();
    assert_eq!(size, Some(layer.len() as u64));
    let bytes: Vec<u8> = stream.map(|c| c.unwrap().to_vec()).concat().await;
    let mut verified = Vec::new();
    std::io::Read::read_to_end(&mut Verifier::new(&bytes[..], &layer_digest), &mut verified).unwrap();
    assert_eq!(verified, layer);
    let err = std::io::Read::read_to_end(&mut Verifier::new(&bytes[..], &sha256_digest(b"x")), &mut Vec::new());
    assert!(err.is_err(), "a layer that is not the digest fails the reader");

    // Not found, in dockerd's words.
    let err = app.manifest("nope", &host).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!("manifest for {}/test/app:nope not found: manifest unknown: manifest unknown", reg.host)
    );
    let err = app.blob(&sha256_digest(b"absent")).await.err().expect("absent blob");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    // Cross-repository mount; an unknown blob is not mounted.
    let other = repo(reg, "test/other", &auth, Access::Push).await;
    assert_eq!(other.blob_exists(&layer_digest).await.unwrap(), None);
    assert!(other.mount_blob(&layer_digest, "test/app").await.expect("mount"));
    assert_eq!(other.blob_exists(&layer_digest).await.unwrap(), Some(layer.len() as u64));
    assert!(!other.mount_blob(&sha256_digest(b"never uploaded"), "test/app").await.expect("failed mount"));

    // A manifest list resolves to the host's entry.
    let (arm_raw, arm_digest) = push_image(&app, "arm", "arm64", &[&small]).await;
    let (amd_raw, amd_digest) = push_image(&app, "amd", "amd64", &[&layer]).await;
    let list = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest::MEDIA_TYPE_DOCKER_LIST,
        "manifests": [
            {"mediaType": manifest::MEDIA_TYPE_DOCKER_MANIFEST, "size": amd_raw.len(), "digest": amd_digest,
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": manifest::MEDIA_TYPE_DOCKER_MANIFEST, "size": arm_raw.len(), "digest": arm_digest,
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        ]
    }))
    .unwrap();
    let list_digest = app.put_manifest("multi", manifest::MEDIA_TYPE_DOCKER_LIST, &list).await.expect("put list");
    for (arch, want) in [("amd64", &amd_digest), ("arm64", &arm_digest)] {
        let platform = Platform { architecture: arch.into(), os: "linux".into(), variant: String::new() };
        let got = app.manifest("multi", &platform).await.expect("resolve list");
        assert_eq!(&got.digest, want, "{arch}");
        assert_eq!(got.list_digest.as_deref(), Some(list_digest.as_str()));
        assert!(got.manifest.config.digest.starts_with("sha256:"));
    }
    if ["amd64", "arm64"].contains(&host.architecture.as_str()) {
        let got = app.manifest(&list_digest, &host).await.expect("list by digest");
        assert_eq!(got.list_digest.as_deref(), Some(list_digest.as_str()));
    }
    let s390x = Platform { architecture: "s390x".into(), os: "linux".into(), variant: String::new() };
    let err = app.manifest("multi", &s390x).await.unwrap_err();
    assert_eq!(err.to_string(), "no matching manifest for linux/s390x in the manifest list entries");

    // Tampered storage: the bytes served are no longer what was pushed.
    let (_, tampered) = push_image(&app, "tampered", "amd64", &[&small]).await;
    let path = reg.blob_path(&tampered);
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.push(b'\n');
    std::fs::write(&path, &bytes).unwrap();
    for asked in ["tampered", tampered.as_str()] {
        match app.manifest(asked, &host).await {
            Err(RegistryError::DigestMismatch { expected, actual }) => {
                assert_eq!(expected, tampered);
                assert_eq!(actual, sha256_digest(&bytes));
            }
            other => panic!("{asked}: a manifest whose digest does not match must be refused, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_auth_registry() {
    let reg = TestRegistry::start(RegistryAuth::None);
    exercise(&reg, AuthConfig::default()).await;
    // Nothing to check credentials against: any login succeeds.
    Service::new(ServiceOptions::default()).login(&creds(&reg, "whatever")).await.expect("login");
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_auth_registry() {
    let reg = TestRegistry::start(basic());
    exercise(&reg, creds(&reg, PASSWORD)).await;
    // Credentials given as the config file's `auth` field work too.
    let encoded = AuthConfig { auth: registry::auth::encode_auth(USER, PASSWORD), ..Default::default() };
    let app = repo(&reg, "test/app", &encoded, Access::Pull).await;
    app.manifest("v1", &Platform::host()).await.expect("pull with the auth field");
    anonymous_is_refused(&reg).await;
    logins(&reg).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_auth_registry() {
    let reg = TestRegistry::start(token());
    exercise(&reg, creds(&reg, PASSWORD)).await;
    assert!(reg.token_requests() > 0, "tokens came from the issuer");
    anonymous_is_refused(&reg).await;
    logins(&reg).await;
    // A wrong password fails at the token endpoint.
    let reference = Reference::parse(&format!("{}/test/app:v1", reg.host)).unwrap();
    let service = Service::new(ServiceOptions::default());
    let wrong = service.repository(&reference, &creds(&reg, "wrong"), Access::Pull, &[]).await.unwrap();
    let err = wrong.manifest("v1", &Platform::host()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    // A registry token is used as it is.
    let bad_token = AuthConfig { registrytoken: "not-a-jwt".into(), ..Default::default() };
    let err = service
        .repository(&reference, &bad_token, Access::Pull, &[])
        .await
        .unwrap()
        .manifest("v1", &Platform::host())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
}

async fn anonymous_is_refused(reg: &TestRegistry) {
    let app = repo(reg, "test/app", &AuthConfig::default(), Access::Pull).await;
    let err = app.manifest("v1", &Platform::host()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "pull access denied for {}/test/app, repository does not exist or may require 'docker login'",
            reg.host
        )),
        "{err}"
    );
}

/// `Service::login` and the `auth` job, right and wrong password.
async fn logins(reg: &TestRegistry) {
    let service = Service::new(ServiceOptions::default());
    service.login(&creds(reg, PASSWORD)).await.expect("login");
    let err = service.login(&creds(reg, "wrong")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.to_string(), "Wrong login/password, please try again");
    let err = service.login(&AuthConfig { serveraddress: reg.host.clone(), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "no credentials: {err}");

    let eng = Engine::new();
    registry::jobs::install(&eng, Service::new(ServiceOptions::default())).expect("install");
    let ok = eng.job(engine::names::registry::AUTH, Vec::<String>::new());
    ok.setenv("authConfig", serde_json::to_string(&creds(reg, PASSWORD)).unwrap());
    let out = ok.stdout().add_buffer();
    ok.run().await.expect("auth job");
    assert_eq!(out.text(), r#"{"Status":"Login Succeeded","IdentityToken":""}"#);

    let bad = eng.job(engine::names::registry::AUTH, Vec::<String>::new());
    // The `auth` field and an `http://` server address, as clients may send.
    let cfg =
        json!({"auth": registry::auth::encode_auth(USER, "wrong"), "serveraddress": format!("http://{}/", reg.host)});
    bad.setenv("authConfig", cfg.to_string());
    let out = bad.stdout().add_buffer();
    let err = bad.run().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.message, "Wrong login/password, please try again");
    assert_eq!(out.text(), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_job_usage_and_unreachable_index() {
    let eng = Engine::new();
    registry::jobs::install(&eng, Service::new(ServiceOptions::default())).expect("install");
    let job = eng.job(engine::names::registry::SEARCH, Vec::<String>::new());
    let err = job.run().await.unwrap_err();
    assert_eq!((err.kind, err.message.as_str()), (ErrorKind::BadParameter, "Usage: search TERM"));
    let job = eng.job(engine::names::registry::SEARCH, ["x"]);
    job.setenv("limit", "1000");
    let err = job.run().await.unwrap_err();
    assert_eq!(err.message, "Limit 1000 is outside the range of [1, 100]");
    // A v2 registry has no v1 search: the job fails with the registry's status.
    let reg = TestRegistry::start(RegistryAuth::None);
    let job = eng.job(engine::names::registry::SEARCH, [format!("{}/busybox", reg.host)]);
    let err = job.run().await.unwrap_err();
    assert!(err.message.contains("404"), "{}", err.message);
}
