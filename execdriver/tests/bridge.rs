//! A bridged container's `eth0` against the real kernel (run as root): each
//! test makes its own bridge (or dummy link) in the host namespace with a
//! name and subnet of its own, removed by a guard even when the test fails,
//! and only ever talks to that bridge's address.

use std::path::Path;
use std::process::Command as Shell;
use std::time::{Duration, Instant};

use execdriver::{BridgeNetwork, Command, ContainerIo, Driver, NetworkMode, Process};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

mod support;
use support::driver;

const APPLETS: &[&str] = &["sh", "ip", "ping", "cat", "echo", "wc"];

fn rootfs() -> tempfile::TempDir {
    support::rootfs(APPLETS, None)
}

fn ip(args: &[&str]) {
    let out = Shell::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A host link made with `ip` for one test; deleted on drop (even on panic).
struct HostLink(String);

impl HostLink {
    /// A bridge with `cidr` (`10.213.7.1/24`), up.
    fn bridge(name: &str, cidr: &str) -> HostLink {
        ip(&["link", "add", name, "type", "bridge"]);
        let link = HostLink(name.to_string());
        ip(&["addr", "add", cidr, "dev", name]);
        ip(&["link", "set", name, "up"]);
        link
    }

    /// A link that cannot be anyone's master: a veth pair (deleting one
    /// end deletes both; this kernel may lack the dummy driver).
    fn not_a_bridge(name: &str) -> HostLink {
        ip(&["link", "add", name, "type", "veth", "peer", "name", &format!("{name}p")]);
        HostLink(name.to_string())
    }
}

impl Drop for HostLink {
    fn drop(&mut self) {
        let _ = Shell::new("ip").args(["link", "del", &self.0]).output();
    }
}

fn exists(link: &str) -> bool {
    Path::new("/sys/class/net").join(link).exists()
}

fn sys(link: &str, file: &str) -> String {
    std::fs::read_to_string(Path::new("/sys/class/net").join(link).join(file)).unwrap_or_default().trim().to_string()
}

fn bridged(name: &str, root: &Path, script: &str, net: BridgeNetwork) -> Command {
    Command {
        id: format!("edbridge-{name}-{}", std::process::id()),
        rootfs: root.to_path_buf(),
        hostname: "bridged".into(),
        process: Process {
            args: vec!["sh".into(), "-c".into(), script.into()],
            open_stdin: true,
            ..Default::default()
        },
        network: NetworkMode::Bridge(net),
        ..Default::default()
    }
}

fn network(bridge: &str, subnet: u8) -> BridgeNetwork {
    BridgeNetwork {
        bridge: bridge.into(),
        ip: [10, 213, subnet, 2].into(),
        prefix_len: 24,
        gateway: [10, 213, subnet, 1].into(),
        mac: format!("02:42:0a:d5:{subnet:02x}:02"),
        mtu: 1400,
        host_veth: String::new(),
        peer: String::new(),
    }
}

#[tokio::test]
async fn eth0_on_the_bridge() {
    let pid = std::process::id();
    let subnet = (pid % 250) as u8;
    let name = format!("dkx{pid}");
    let _bridge = HostLink::bridge(&name, &format!("10.213.{subnet}.1/24"));
    let root = rootfs();
    let gw = format!("10.213.{subnet}.1");
    // `ready` is the signal that the container is up; it then waits on stdin.
    let script = format!(
        "ip addr show eth0; ip route; ping -c1 -W2 {gw} >/dev/null && echo ping-ok; ip -o link | wc -l; echo ready; cat"
    );
    let mut c = driver().spawn(bridged("up", root.path(), &script, network(&name, subnet)), None).await.expect("spawn");
    let Some(ContainerIo::Pipes { stdin: Some(stdin), stdout, mut stderr, .. }) = c.take_io() else {
        panic!("pipes with stdin expected");
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut out = String::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await {
            Ok(Ok(Some(line))) if line == "ready" => break,
            Ok(Ok(Some(line))) => {
                out.push_str(&line);
                out.push('\n');
            }
            other => {
                let mut err = String::new();
                let _ = stderr.read_to_string(&mut err).await;
                panic!("container ended before ready ({other:?}): {out}\nstderr: {err}");
            }
        }
    }

    // While it runs: the host end is on our bridge, up, with the MTU.
    let ports: Vec<String> = std::fs::read_dir(Path::new("/sys/class/net").join(&name).join("brif"))
        .expect("brif")
        .map(|e| e.expect("brif entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(ports.len(), 1, "one port on {name}: {ports:?}");
    let veth = ports[0].clone();
    assert!(veth.starts_with("veth") && veth.len() == 11, "host end named like Docker's: {veth}");
    assert_eq!(sys(&veth, "mtu"), "1400");
    assert_eq!(sys(&veth, "operstate"), "up");

    // EOF on stdin ends the `cat`, and with it the container.
    drop(stdin);
    assert_eq!(c.wait().await.expect("wait"), 0, "{out}");

    let mac = format!("02:42:0a:d5:{subnet:02x}:02");
    assert!(out.contains(" mtu 1400 "), "{out}");
    assert!(out.contains(&format!("link/ether {mac} ")), "{out}");
    assert!(out.contains(&format!("inet 10.213.{subnet}.2/24 ")), "{out}");
    assert!(out.contains(&format!("default via {gw} dev eth0")), "{out}");
    assert!(out.contains("ping-ok"), "{out}");
    let links = out.lines().rev().find(|l| !l.is_empty()).unwrap_or_default().trim();
    assert_eq!(links, "2", "lo and eth0 only: {out}");

    // The pair goes with the container's namespace, which the kernel
    // tears down asynchronously.
    let deadline = Instant::now() + Duration::from_secs(5);
    while exists(&veth) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!exists(&veth), "{veth} left behind");
}

/// The start fails with the text of `expected(host_veth)` and leaves neither
/// end of the pair on the host.
async fn fails_cleanly(test: &str, bridge: &str, expected: impl Fn(&str) -> String) {
    let root = rootfs();
    let tag = std::process::id() % 100_000;
    let mut net = network(bridge, 9);
    net.host_veth = format!("vh{test}{tag}");
    net.peer = format!("vp{test}{tag}");
    let (host, peer) = (net.host_veth.clone(), net.peer.clone());
    let err = driver().spawn(bridged(test, root.path(), "echo never", net), None).await.expect_err("must fail");
    assert_eq!(err.to_string(), expected(&host));
    assert!(!exists(&host) && !exists(&peer), "{host} or {peer} left behind");
}

#[tokio::test]
async fn missing_bridge_fails_the_start() {
    let bridge = format!("dkm{}", std::process::id());
    fails_cleanly("m", &bridge, |veth| format!("cannot attach {veth} to bridge {bridge}: no such device")).await;
}

#[tokio::test]
async fn a_link_that_is_no_bridge_fails_the_start() {
    let name = format!("dkv{}", std::process::id());
    let _link = HostLink::not_a_bridge(&name);
    // The pair was made before the kernel refused: it must be deleted again.
    fails_cleanly("d", &name, |veth| format!("cannot attach {veth} to bridge {name}: operation not supported")).await;
}

#[tokio::test]
async fn a_failure_inside_fails_the_start() {
    let pid = std::process::id();
    let subnet = ((pid + 1) % 250) as u8;
    let name = format!("dkg{pid}");
    let _bridge = HostLink::bridge(&name, &format!("10.213.{subnet}.1/24"));
    let root = rootfs();
    let mut net = network(&name, subnet);
    // Off the container's subnet: the kernel refuses the route inside.
    net.gateway = [10, 214, subnet, 1].into();
    let err = driver().spawn(bridged("gw", root.path(), "echo never", net), None).await.expect_err("must fail");
    assert_eq!(
        err.to_string(),
        format!("setting up eth0: adding the default route via 10.214.{subnet}.1 on eth0: network is unreachable")
    );
    let brif = Path::new("/sys/class/net").join(&name).join("brif");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_dir(&brif).map(|d| d.count()).unwrap_or(0) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(std::fs::read_dir(&brif).expect("brif").count(), 0, "the host end outlived the container");
}
