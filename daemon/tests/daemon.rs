//! The daemon set up on a temporary root: layout, pidfile, and `info`.

use std::os::unix::fs::PermissionsExt;

use daemon::{Config, Daemon};
use engine::{Engine, Job, Status};
use serde_json::Value;

fn config(dir: &std::path::Path) -> Config {
    Config { root: dir.join("root"), pidfile: dir.join("docker.pid"), ..Config::default() }
}

fn engine() -> Engine {
    let eng = Engine::new();
    eng.set_logging(false);
    eng
}

#[tokio::test]
async fn sets_up_the_root_and_claims_the_pidfile() {
    let dir = tempfile::tempdir().unwrap();
    let eng = engine();
    let d = Daemon::new(config(dir.path()), &eng).unwrap();
    for sub in ["", "containers", "graph", "volumes", "tmp"] {
        let meta = std::fs::metadata(d.layout().root.join(sub)).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{sub}");
    }
    let pidfile = dir.path().join("docker.pid");
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), std::process::id().to_string());
    assert!(["overlay", "vfs"].contains(&d.storage_driver()));
    assert_ne!(d.config().mtu, 0, "the MTU default is applied");

    // A second daemon on the same pidfile is refused.
    let err = Daemon::new(config(dir.path()), &engine()).err().unwrap();
    assert_eq!(
        err.to_string(),
        format!("pid file found, ensure docker is not running or delete {}", pidfile.display())
    );

    // The ID survives a restart.
    let id = d.id().to_string();
    assert_eq!(id.split(':').count(), 12);
    eng.shutdown().await;
    assert!(!pidfile.exists(), "removed at shutdown");
    let again = Daemon::new(config(dir.path()), &engine()).unwrap();
    assert_eq!(again.id(), id);
}

#[tokio::test]
async fn bad_configurations_are_refused_before_anything_happens() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config { enable_iptables: false, inter_container_communication: false, ..config(dir.path()) };
    let err = Daemon::new(c, &engine()).err().unwrap();
    assert!(err.to_string().starts_with("You specified --iptables=false with --icc=false."));
    assert!(!dir.path().join("docker.pid").exists());
    assert!(!dir.path().join("root").exists());
}

#[tokio::test]
async fn info_reports_typed_figures() {
    let dir = tempfile::tempdir().unwrap();
    let eng = engine();
    eng.register("subscribers_count", |job: Job| async move {
        let _ = job.print(r#"{"count":3}"#).await;
        Status::OK
    })
    .unwrap();
    eng.register("version", |job: Job| async move {
        let _ = job.print(r#"{"Version":"9.9.9"}"#).await;
        Status::OK
    })
    .unwrap();
    // One stored container, and a directory the store discards (no config).
    let containers = dir.path().join("root/containers");
    std::fs::create_dir_all(containers.join("abc")).unwrap();
    std::fs::write(containers.join("abc/config.v2.json"), r#"{"ID":"abc","Name":"web"}"#).unwrap();
    std::fs::create_dir_all(containers.join("half")).unwrap();
    let d = Daemon::new(Config { debug: true, ..config(dir.path()) }, &eng).unwrap();
    d.install(&eng).unwrap();

    let job = eng.job("info", Vec::<String>::new());
    let out = job.stdout().add_buffer();
    job.run().await.unwrap();
    let info: Value = serde_json::from_slice(&out.bytes()).unwrap();
    assert_eq!(info["Containers"], 1);
    assert_eq!(info["ContainersStopped"], 1);
    assert_eq!(info["Images"], 0);
    assert_eq!(info["Debug"], true);
    assert_eq!(info["NEventsListener"], 3);
    assert_eq!(info["ServerVersion"], "9.9.9");
    assert_eq!(info["Driver"], d.storage_driver());
    assert_eq!(info["DockerRootDir"], d.layout().root.display().to_string());
    assert_eq!(info["OSType"], "linux");
    assert_eq!(info["ExecutionDriver"], "native-0.2");
    assert_eq!(info["IndexServerAddress"], "https://index.docker.io/v1/");
    for flag in ["MemoryLimit", "SwapLimit", "IPv4Forwarding", "CpuCfsQuota", "OomKillDisable", "ExperimentalBuild"] {
        assert!(info[flag].is_boolean(), "{flag} must be a JSON boolean, got {}", info[flag]);
    }
    assert!(info["NCPU"].as_u64().unwrap() >= 1);
    assert!(info["MemTotal"].as_u64().unwrap() > 0);
    assert!(info["NFd"].as_u64().unwrap() > 0);
    assert!(info["NGoroutines"].as_u64().unwrap() > 0);
    assert_eq!(info["Swarm"]["LocalNodeState"], "inactive");
    assert!(info["SystemTime"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_shutdown_before_the_claim_leaves_no_pidfile() {
    let dir = tempfile::tempdir().unwrap();
    let eng = engine();
    eng.shutdown().await;
    let err = Daemon::new(config(dir.path()), &eng).err().unwrap();
    assert!(matches!(err, daemon::DaemonError::ShuttingDown), "{err}");
    assert!(!dir.path().join("docker.pid").exists());
}
