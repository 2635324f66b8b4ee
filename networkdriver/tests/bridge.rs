//! The bridge driver's jobs on a real engine, against the real kernel: each
//! test re-executes this test binary, running only itself, under `unshare
//! --net`, so the bridge, its addresses, the iptables rules, the proxies
//! and ip_forward all live in a throwaway network namespace that dies with
//! the child process, whatever the test's outcome. The host's `docker0` and
//! `DOCKER` chains are never touched. Needs root (skipped otherwise, a
//! failure under `CI`).

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;

use engine::names::networkdriver::{self as names, env};
use engine::{Engine, Env, JobError};
use networkdriver::{BEGIN_PORT_RANGE, Subnet, bridge_network};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const IN_NETNS: &str = "IN_NETNS";

/// Runs `body` inside a fresh network namespace (see the module docs).
fn in_netns<F, Fut>(name: &str, body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    if std::env::var_os(IN_NETNS).is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(body());
        return;
    }
    if !nix_root() {
        assert!(std::env::var("CI").is_err(), "the bridge tests need root under CI");
        eprintln!("SKIPPED: the bridge tests need root");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["--net", "--"])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_NETNS, "1")
        .output()
        .expect("unshare (util-linux)");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "{name} failed in its namespace");
    assert!(stdout.contains("1 passed"), "{name} did not run in its namespace");
}

fn nix_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Runs job `name` with `args` and `vars`; its output object.
async fn run(eng: &Engine, name: &str, args: &[&str], vars: &[(&str, &str)]) -> Result<Env, JobError> {
    let job = eng.job(name, args.iter().copied());
    for (k, v) in vars {
        job.setenv(k, v);
    }
    let out = job.stdout().add_env();
    job.run().await.map(|()| out.get())
}

/// A new engine with `init_networkdriver` and the env of a default daemon.
async fn init(vars: &[(&str, &str)]) -> (Engine, Result<Env, JobError>) {
    let eng = Engine::new();
    networkdriver::install(&eng).unwrap();
    let mut all = vec![(env::ENABLE_IPTABLES, "true"), (env::ICC, "true"), (env::ENABLE_IP_FORWARD, "true")];
    all.extend_from_slice(vars);
    let result = run(&eng, names::INIT, &[], &all).await;
    (eng, result)
}

fn sh(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rules of every table, without iptables-save's dated comments.
fn rules() -> String {
    sh("iptables-save", &[]).lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_default_bridge_is_created_with_the_first_free_range() {
    in_netns("the_default_bridge_is_created_with_the_first_free_range", || async {
        let expected = bridge_network::choose(
            &bridge_network::routes(&std::fs::read_to_string("/proc/net/route").unwrap()),
            &bridge_network::nameservers(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()),
        )
        .unwrap();
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "0\n").unwrap();
        let (eng, result) = init(&[]).await;
        result.unwrap();
        let addr = sh("ip", &["-o", "-4", "addr", "show", "dev", "docker0"]);
        assert!(addr.contains(&format!("inet {expected} ")), "{expected} wanted: {addr}");
        let link = sh("ip", &["-o", "link", "show", "docker0"]);
        assert!(link.contains(",UP"), "up: {link}");
        assert!(link.contains(&networkdriver::mac_for(expected.addr)), "the MAC from the address: {link}");
        let detail = sh("ip", &["-d", "link", "show", "docker0"]);
        assert!(detail.contains("bridge "), "a bridge: {detail}");
        assert_eq!(std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(), "1\n");
        let network = format!("{}/{}", expected.network(), expected.prefix);
        let saved = rules();
        for want in [
            format!("-A POSTROUTING -s {network} ! -o docker0 -j MASQUERADE"),
            "-A FORWARD -i docker0 -o docker0 -j ACCEPT".to_string(),
            "-A FORWARD -o docker0 -j DOCKER".to_string(),
            ":DOCKER - [0:0]".to_string(),
        ] {
            assert!(saved.contains(&want), "missing {want:?} in\n{saved}");
        }
        for job in [names::ALLOCATE_INTERFACE, names::RELEASE_INTERFACE, names::ALLOCATE_PORT, names::LINK] {
            assert!(eng.has_handler(job), "{job} registered");
        }
        // A second init on the same engine cannot register the jobs again.
        let again = run(&eng, names::INIT, &[], &[]).await.unwrap_err();
        assert_eq!(again.message, "Can't overwrite handler for command allocate_interface");
    });
}

#[test]
fn bip_is_used_and_an_existing_bridge_must_match_it() {
    in_netns("bip_is_used_and_an_existing_bridge_must_match_it", || async {
        let (_, result) = init(&[(env::BRIDGE_IP, "10.123.0.1/24")]).await;
        result.unwrap();
        assert!(sh("ip", &["-o", "-4", "addr", "show", "dev", "docker0"]).contains("inet 10.123.0.1/24 "));
        let (_, result) = init(&[(env::BRIDGE_IP, "10.123.0.5/24")]).await;
        assert_eq!(
            result.unwrap_err().message,
            "bridge ip (10.123.0.5) does not match existing bridge configuration 10.123.0.1/24"
        );
        let (_, result) = init(&[(env::BRIDGE_IP, "10.123.0.1/24")]).await;
        result.expect("the same bip again");
        let (_, result) = init(&[]).await;
        result.expect("no bip: the existing address");
        let (_, result) = init(&[(env::FIXED_CIDR, "10.124.0.0/24")]).await;
        assert_eq!(
            result.unwrap_err().message,
            "fixed-cidr 10.124.0.0/24 is not inside the bridge network 10.123.0.0/24 (it must be nested in the bridge subnet)"
        );
        // No IPv4 address on an existing bridge.
        sh("ip", &["link", "add", "br-noaddr", "type", "bridge"]);
        let (_, result) = init(&[(env::BRIDGE_IFACE, "br-noaddr")]).await;
        assert_eq!(result.unwrap_err().message, "bridge br-noaddr has no IPv4 address");
    });
}

#[test]
fn a_missing_custom_bridge_is_not_created() {
    in_netns("a_missing_custom_bridge_is_not_created", || async {
        let (eng, result) = init(&[(env::BRIDGE_IFACE, "br-nosuch")]).await;
        assert_eq!(result.unwrap_err().message, "bridge not found: br-nosuch");
        assert!(!eng.has_handler(names::ALLOCATE_INTERFACE));
        let (_, result) = init(&[(env::BRIDGE_IP, "10.1.2.3")]).await;
        assert_eq!(result.unwrap_err().message, "BridgeIP: invalid CIDR address: 10.1.2.3");
        assert!(!sh("ip", &["-o", "link"]).contains("docker0"), "nothing was created");
    });
}

#[test]
fn interfaces_and_published_ports() {
    in_netns("interfaces_and_published_ports", || async {
        sh("ip", &["link", "set", "lo", "up"]);
        let (eng, result) = init(&[(env::BRIDGE_IP, "10.124.0.1/16"), (env::FIXED_CIDR, "10.124.5.0/24")]).await;
        result.unwrap();
        let c1 = run(&eng, names::ALLOCATE_INTERFACE, &["c1"], &[]).await.unwrap();
        assert_eq!(c1.get(env::IP), "10.124.5.2", "from the fixed CIDR, its first host address skipped as in 1.2");
        assert_eq!(
            (c1.get(env::GATEWAY), c1.get(env::BRIDGE), c1.get(env::MASK)),
            ("10.124.0.1", "docker0", "ffff0000")
        );
        assert_eq!((c1.get_int(env::IP_PREFIX_LEN), c1.get(env::MAC_ADDRESS)), (16, "02:42:0a:7c:05:02"));
        let c2 = run(&eng, names::ALLOCATE_INTERFACE, &["c2"], &[]).await.unwrap();
        assert_eq!(c2.get(env::IP), "10.124.5.3");

        // "The container": an echo server on c1's address, held by the bridge.
        sh("ip", &["addr", "add", "10.124.5.2/32", "dev", "docker0"]);
        let echo = TcpListener::bind("10.124.5.2:7777").await.unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut all = Vec::new();
                    let _ = s.read_to_end(&mut all).await;
                    let _ = s.write_all(&all).await;
                });
            }
        });
        let tcp =
            |host_port: &'static str| [(env::PROTO, "tcp"), (env::CONTAINER_PORT, "7777"), (env::HOST_PORT, host_port)];
        // Someone else holds the first port of the range: the next will do.
        let squatter = std::net::TcpListener::bind(("0.0.0.0", BEGIN_PORT_RANGE)).unwrap();
        let any = run(&eng, names::ALLOCATE_PORT, &["c1"], &tcp("0")).await.unwrap();
        let port = u16::try_from(any.get_int(env::HOST_PORT)).unwrap();
        assert_eq!(port, BEGIN_PORT_RANGE + 1);
        drop(squatter);
        assert_eq!(any.get(env::HOST_IP), "0.0.0.0");
        let mut client = TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await.unwrap();
        client.write_all(b"through the proxy").await.unwrap();
        client.shutdown().await.unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"through the proxy");
        let dnat =
            format!("-A DOCKER ! -i docker0 -p tcp -m tcp --dport {port} -j DNAT --to-destination 10.124.5.2:7777");
        assert!(rules().contains(&dnat), "{dnat} in\n{}", rules());

        let explicit = run(&eng, names::ALLOCATE_PORT, &["c1"], &tcp("18080")).await.unwrap();
        assert_eq!(explicit.get_int(env::HOST_PORT), 18080);
        let taken = run(&eng, names::ALLOCATE_PORT, &["c2"], &tcp("18080")).await.unwrap_err();
        assert_eq!(taken.message, "Bind for 0.0.0.0:18080 failed: port is already allocated");
        let foreign = std::net::TcpListener::bind("0.0.0.0:18081").unwrap();
        let busy = run(&eng, names::ALLOCATE_PORT, &["c2"], &tcp("18081")).await.unwrap_err();
        assert_eq!(
            busy.message,
            "Error starting userland proxy: listen tcp 0.0.0.0:18081: bind: address already in use"
        );
        drop(foreign);
        let udp = [(env::PROTO, "udp"), (env::CONTAINER_PORT, "53"), (env::HOST_IP, "127.0.0.1")];
        let dns = run(&eng, names::ALLOCATE_PORT, &["c1"], &udp).await.unwrap();
        assert_eq!(dns.get(env::HOST_IP), "127.0.0.1");
        let sctp = [(env::PROTO, "sctp"), (env::CONTAINER_PORT, "80")];
        let err = run(&eng, names::ALLOCATE_PORT, &["c1"], &sctp).await.unwrap_err();
        assert_eq!(err.message, "unsupported address type sctp");

        run(&eng, names::RELEASE_INTERFACE, &["c1"], &[]).await.unwrap();
        let saved = rules();
        assert!(!saved.contains("DNAT"), "every mapping of c1 is gone:\n{saved}");
        assert!(TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await.is_err(), "proxy stopped");
        let again = run(&eng, names::RELEASE_INTERFACE, &["c1"], &[]).await.unwrap_err();
        assert_eq!(again.message, "No network information to release for c1");
        // c1's ports and address are free again.
        run(&eng, names::ALLOCATE_PORT, &["c2"], &tcp("18080")).await.expect("18080 was released");
        let c3 = run(&eng, names::ALLOCATE_INTERFACE, &["c3"], &[]).await.unwrap();
        assert_eq!(c3.get(env::IP), "10.124.5.4", "allocation goes on round the pool");
        run(&eng, names::RELEASE_INTERFACE, &["c2"], &[]).await.unwrap();
        assert!(!rules().contains("DNAT"));
    });
}

#[test]
fn links_add_and_remove_accept_rules() {
    in_netns("links_add_and_remove_accept_rules", || async {
        let (eng, result) = init(&[(env::BRIDGE_IP, "10.125.0.1/16")]).await;
        result.unwrap();
        let link = |action: &'static str| {
            let job = eng.job(names::LINK, [action]);
            job.setenv(env::PARENT_IP, "10.125.0.2");
            job.setenv(env::CHILD_IP, "10.125.0.3");
            job.setenv_list(env::PORTS, &["80/tcp".to_string(), "53/udp".to_string()]);
            job
        };
        link("-I").run().await.unwrap();
        let saved = rules();
        for want in [
            "-A DOCKER -s 10.125.0.2/32 -d 10.125.0.3/32 -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
            "-A DOCKER -s 10.125.0.3/32 -d 10.125.0.2/32 -i docker0 -o docker0 -p tcp -m tcp --sport 80 -j ACCEPT",
            "-A DOCKER -s 10.125.0.2/32 -d 10.125.0.3/32 -i docker0 -o docker0 -p udp -m udp --dport 53 -j ACCEPT",
            "-A DOCKER -s 10.125.0.3/32 -d 10.125.0.2/32 -i docker0 -o docker0 -p udp -m udp --sport 53 -j ACCEPT",
        ] {
            assert!(saved.contains(want), "missing {want:?} in\n{saved}");
        }
        link("-D").run().await.unwrap();
        assert!(!rules().contains("10.125.0.3"), "{}", rules());
        let bad = link("-X").run().await.unwrap_err();
        assert_eq!(bad.message, "Usage: link -I|-D");
        let job = link("-I");
        job.setenv_list(env::PORTS, &["80".to_string()]);
        assert!(job.run().await.unwrap_err().message.starts_with("invalid port \"80\""));
    });
}

/// The addresses the tests use parse as the driver parses them.
#[test]
fn test_addresses_are_valid() {
    for s in ["10.123.0.1/24", "10.124.0.1/16", "10.125.0.1/16"] {
        s.parse::<Subnet>().unwrap();
    }
}

#[test]
fn without_iptables_no_rule_is_touched_and_ports_use_the_proxy_alone() {
    in_netns("without_iptables_no_rule_is_touched_and_ports_use_the_proxy_alone", || async {
        sh("ip", &["link", "set", "lo", "up"]);
        // Only the rules: the chains' packet counters move with the traffic.
        let added_rules = || rules().lines().filter(|l| l.starts_with("-A")).map(String::from).collect::<Vec<_>>();
        let before = added_rules();
        let vars = [
            (env::ENABLE_IPTABLES, "false"),
            (env::BRIDGE_IP, "10.126.0.1/24"),
            (env::DEFAULT_BINDING_IP, "127.0.0.1"),
        ];
        let (eng, result) = init(&vars).await;
        result.unwrap();
        run(&eng, names::ALLOCATE_INTERFACE, &["c1"], &[]).await.unwrap();
        let tcp = [(env::PROTO, "tcp"), (env::CONTAINER_PORT, "80")];
        let mapped = run(&eng, names::ALLOCATE_PORT, &["c1"], &tcp).await.unwrap();
        assert_eq!(mapped.get(env::HOST_IP), "127.0.0.1", "the daemon's --ip");
        let port = u16::try_from(mapped.get_int(env::HOST_PORT)).unwrap();
        TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await.expect("the proxy listens");
        let link = eng.job(names::LINK, ["-I"]);
        link.setenv(env::PARENT_IP, "10.126.0.2");
        link.setenv(env::CHILD_IP, "10.126.0.3");
        link.setenv_list(env::PORTS, &["80/tcp".to_string()]);
        link.run().await.unwrap();
        assert_eq!(added_rules(), before, "no iptables rule was added");
        run(&eng, names::RELEASE_INTERFACE, &["c1"], &[]).await.unwrap();
    });
}
