//! The bridge network driver end to end (issue 5): each test runs `docker
//! -d` in a network namespace of its own (`common::NetNs`), so the bridge
//! it creates or is given, the veths, the iptables rules and the published
//! ports live there and go with the namespace, even when the test fails;
//! the host's interfaces and iptables are never touched. Requests from
//! "the host" to published ports are made inside that namespace
//! (`nsenter --net`), on its loopback. Containers talk only to each other
//! and to the test's bridge; nothing leaves the machine.
//!
//! Driven with the real docker CLI v28, our own client and docker-py.

mod common;

use std::collections::BTreeSet;
use std::process::Output;
use std::time::{Duration, Instant};

use common::image_tools::{docker_py_json, fails, import_busybox, ok, output_within, real_cli_within};
use common::images;
use common::{Daemon, DaemonOptions, NetNs, REAL_CLI, docker_bin, require};

fn cli(d: &Daemon, args: &[&str]) -> Output {
    real_cli_within(d, args, 60)
}

fn ours(d: &Daemon, args: &[&str]) -> Output {
    output_within(std::process::Command::new(docker_bin()).arg("-H").arg(d.host()).args(args), 60)
}

fn can_run() -> bool {
    require(REAL_CLI, "the docker CLI v28")
        && require(images::BUSYBOX, "busybox-static")
        && require("/usr/sbin/iptables-save", "iptables")
}

/// A daemon with its bridge network inside `ns`, busybox imported.
fn net_daemon(ns: &NetNs, args: &[&str], dir: Option<tempfile::TempDir>) -> Daemon {
    let d = Daemon::start_with(DaemonOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        netns: Some(ns.path()),
        dir,
        ..Default::default()
    });
    if ok(&ours(&d, &["images", "-q", "busybox"])).trim().is_empty() {
        import_busybox(&d);
    }
    d
}

/// SIGTERM, wait for a clean exit, start again on the same root and netns.
fn restart(mut d: Daemon, ns: &NetNs, args: &[&str]) -> Daemon {
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(d.wait_exit(60), 0, "a clean SIGTERM exit; log:\n{}", d.log.lock().unwrap().join("\n"));
    let left: Vec<_> = rules(ns).into_iter().filter(|r| r.starts_with("-A DOCKER")).collect();
    assert!(left.is_empty(), "a stopped daemon leaves no port or link rule: {left:#?}");
    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    net_daemon(ns, args, Some(dir))
}

/// The rules of `iptables-save` in `ns` (chains and `-A` lines, without
/// the counters that change with traffic).
fn rules(ns: &NetNs) -> BTreeSet<String> {
    let out = ns.exec(&["iptables-save"]);
    assert!(out.status.success(), "iptables-save: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            if l.starts_with("-A") {
                Some(l.to_string())
            } else {
                l.strip_prefix(':').map(|c| c.split_whitespace().next().unwrap_or("").to_string())
            }
        })
        .collect()
}

/// An HTTP GET of `url` from inside `ns` (Python's urllib: the host's
/// static busybox 1.35 wget crashes, in containers too), retried until
/// `deadline` (the server in the container starts in the background: the
/// first answer is the signal that it listens).
fn get_until(ns: &NetNs, url: &str, secs: u64) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let script =
        "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())";
    loop {
        let out = ns.exec(&["python3", "-c", script, url]);
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        if Instant::now() >= deadline {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A free TCP port inside `ns` (the daemon's namespace has only what the
/// test put there, so any port the kernel hands out is free).
fn free_port_in(ns: &NetNs) -> u16 {
    let out = ns.exec(&[
        "python3",
        "-c",
        "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])",
    ]);
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("a port number")
}

/// The host's own interfaces and iptables rules, which no test here may
/// change (every daemon works inside its namespace).
fn host_network() -> (BTreeSet<String>, BTreeSet<String>) {
    let links = std::process::Command::new("ip").args(["-o", "link"]).output().unwrap();
    let names = String::from_utf8_lossy(&links.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
        .collect();
    let save = std::process::Command::new("iptables-save").output().unwrap();
    let rules =
        String::from_utf8_lossy(&save.stdout).lines().filter(|l| l.starts_with('-')).map(String::from).collect();
    (names, rules)
}

fn inspect(d: &Daemon, name: &str) -> serde_json::Value {
    let out = ok(&cli(d, &["inspect", name]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0].clone()
}

/// The `inet` address of `eth0` in an `ip addr` text.
fn eth0_inet(ip_addr: &str) -> Option<String> {
    let mut in_eth0 = false;
    for line in ip_addr.lines() {
        if !line.starts_with(' ') {
            in_eth0 = line.contains(" eth0:") || line.contains(" eth0@");
        } else if in_eth0 && let Some(rest) = line.trim().strip_prefix("inet ") {
            return rest.split_whitespace().next().map(str::to_string);
        }
    }
    None
}

/// A busybox httpd serving `body` as `/index.html` on port 80.
const HTTPD: &str = "mkdir -p /www && echo \"$BODY\" > /www/index.html && exec httpd -f -p 80 -h /www";

/// Removes the named containers when the test ends, failed or not.
struct Cleanup<'a>(&'a Daemon, &'a [&'a str]);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let mut args = vec!["rm", "-f"];
        args.extend(self.1);
        let _ = cli(self.0, &args);
    }
}

#[test]
fn the_default_bridge_is_made_and_containers_get_addresses_on_it() {
    if !can_run() {
        return;
    }
    let host = host_network();
    let ns = NetNs::new();
    let before = rules(&ns);
    let d = net_daemon(&ns, &["--bip=10.201.7.1/24"], None);
    let _cleanup = Cleanup(&d, &["a1"]);

    // docker0 was made (by netlink) with the --bip address, and is up.
    let br = String::from_utf8_lossy(&ns.exec(&["ip", "-4", "addr", "show", "docker0"]).stdout).into_owned();
    assert!(br.contains("inet 10.201.7.1/24"), "{br}");
    assert!(br.contains("UP"), "{br}");
    let nat = rules(&ns);
    assert!(nat.contains("-A POSTROUTING -s 10.201.7.0/24 ! -o docker0 -j MASQUERADE"), "{nat:#?}");
    assert!(nat.contains("DOCKER"), "the DOCKER chain exists: {nat:#?}");

    // `ip addr` in a container: eth0 in the subnet, through both clients;
    // the first container gets .2 (the gateway and the first host address
    // are skipped, as in 1.2), the next one .3 (a released address comes
    // back last).
    let first = cli(&d, &["run", "--rm", "busybox", "ip", "addr"]);
    let second = ours(&d, &["run", "--rm", "busybox", "ip", "addr"]);
    for (out, want) in [(first, "10.201.7.2/24"), (second, "10.201.7.3/24")] {
        let text = ok(&out);
        let inet = eth0_inet(&text).unwrap_or_else(|| panic!("no eth0 address: {text}"));
        assert_eq!(inet, want, "{text}");
    }

    // A running container: inspect, its files, the route, ping both ways.
    ok(&cli(&d, &["run", "-d", "--name", "a1", "busybox", "sleep", "600"]));
    let a = inspect(&d, "a1");
    let ns_a = &a["NetworkSettings"];
    let ip_a = ns_a["IPAddress"].as_str().unwrap().to_string();
    assert!(ip_a.starts_with("10.201.7."), "{ns_a}");
    assert_eq!(ns_a["Gateway"], "10.201.7.1");
    assert_eq!(ns_a["IPPrefixLen"], 24);
    assert_eq!(ns_a["Bridge"], "docker0");
    let last: u8 = ip_a.rsplit('.').next().unwrap().parse().unwrap();
    assert_eq!(ns_a["MacAddress"], format!("02:42:0a:c9:07:{last:02x}"), "the MAC follows the IP");
    assert_eq!(ns_a["Networks"]["bridge"]["IPAddress"], ip_a.as_str());

    let hosts = ok(&cli(&d, &["exec", "a1", "cat", "/etc/hosts"]));
    let hostname = ok(&cli(&d, &["exec", "a1", "hostname"])).trim().to_string();
    assert!(hosts.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == [ip_a.as_str(), &hostname]), "{hosts}");
    let resolv = ok(&cli(&d, &["exec", "a1", "cat", "/etc/resolv.conf"]));
    assert!(!resolv.contains("nameserver 127."), "loopback servers are filtered: {resolv}");
    let route = ok(&cli(&d, &["exec", "a1", "ip", "route"]));
    assert!(route.contains("default via 10.201.7.1 dev eth0"), "{route}");

    let ping = ok(&cli(&d, &["run", "--rm", "busybox", "ping", "-c", "1", "-W", "3", &ip_a]));
    assert!(ping.contains("1 packets received"), "{ping}");
    // The daemon's namespace reaches the container through the bridge too.
    let from_host = ns.exec(&[images::BUSYBOX, "ping", "-c", "1", "-W", "3", &ip_a]);
    assert!(from_host.status.success(), "{}", String::from_utf8_lossy(&from_host.stdout));

    // --dns and -h are the container's.
    let out = ok(&ours(
        &d,
        &["run", "--rm", "-h", "box1", "--dns", "10.201.7.53", "busybox", "sh", "-c", "hostname; cat /etc/resolv.conf"],
    ));
    assert!(out.starts_with("box1\n") && out.contains("nameserver 10.201.7.53"), "{out}");

    // Stop and rm: the address is free again, the rules are as before.
    ok(&cli(&d, &["rm", "-f", "a1"]));
    assert_eq!(rules(&ns).difference(&nat).count(), 0, "no rule left by the container");
    drop(_cleanup);
    drop(d);
    // The rules the daemon made at start are all it added.
    let made: BTreeSet<_> = nat.difference(&before).filter(|r| r.starts_with("-A")).cloned().collect();
    assert!(made.iter().all(|r| r.contains("docker0") || r.contains("DOCKER")), "{made:#?}");
    assert_eq!(host_network(), host, "the host's interfaces and rules are as they were");
}

#[test]
fn published_ports_reach_the_container_and_go_with_it() {
    if !can_run() {
        return;
    }
    let ns = NetNs::new();
    let d = net_daemon(&ns, &["--bip=10.201.9.1/24"], None);
    let _cleanup = Cleanup(&d, &["web", "web2", "anyport", "imgport"]);
    let idle = rules(&ns);
    let port = free_port_in(&ns);

    let published = format!("127.0.0.1:{port}:80");
    ok(&cli(
        &d,
        &["run", "-d", "--name", "web", "-e", "BODY=hello from web", "-p", &published, "busybox", "sh", "-c", HTTPD],
    ));
    let body = get_until(&ns, &format!("http://127.0.0.1:{port}/"), 20).expect("the published port answers");
    assert_eq!(body, "hello from web\n");

    // `docker port` with both clients, and inspect's Ports.
    assert_eq!(ok(&cli(&d, &["port", "web"])).trim(), format!("80/tcp -> 127.0.0.1:{port}"));
    assert_eq!(ok(&ours(&d, &["port", "web", "80"])).trim(), format!("127.0.0.1:{port}"));
    let ports = &inspect(&d, "web")["NetworkSettings"]["Ports"];
    assert_eq!(ports["80/tcp"][0]["HostIp"], "127.0.0.1");
    assert_eq!(ports["80/tcp"][0]["HostPort"], port.to_string());
    let ps = ok(&cli(&d, &["ps", "--format", "{{.Names}} {{.Ports}}"]));
    assert!(ps.contains(&format!("web 127.0.0.1:{port}->80/tcp")), "{ps}");

    // The DNAT rule is in the DOCKER chain while the container runs.
    let mapped = rules(&ns);
    let dnat: Vec<_> = mapped.iter().filter(|r| r.contains("DNAT") && r.contains(&format!("--dport {port}"))).collect();
    assert_eq!(dnat.len(), 1, "{mapped:#?}");

    // The same host port again: a clear error, and the daemon keeps serving.
    let err = fails(&cli(&d, &["run", "-d", "--name", "web2", "-p", &published, "busybox", "sleep", "60"]));
    assert!(err.contains("port is already allocated") || err.contains("address already in use"), "{err}");
    assert_eq!(inspect(&d, "web2")["State"]["Running"], false);
    assert_eq!(get_until(&ns, &format!("http://127.0.0.1:{port}/"), 5).unwrap(), "hello from web\n");

    // -P with an exposed port: a port of the ephemeral range.
    ok(&ours(&d, &["run", "-d", "--name", "anyport", "--expose", "8080", "-P", "busybox", "sleep", "600"]));
    let host_port: u16 = inspect(&d, "anyport")["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((49153..=65535).contains(&host_port), "{host_port}");
    // The same from the image's own EXPOSE.
    ok(&cli(&d, &["commit", "-c", "EXPOSE 9090", "anyport", "exposing"]));
    ok(&cli(&d, &["run", "-d", "--name", "imgport", "-P", "exposing", "sleep", "600"]));
    let ports = inspect(&d, "imgport")["NetworkSettings"]["Ports"].clone();
    let image_port: u16 = ports["9090/tcp"][0]["HostPort"].as_str().unwrap().parse().unwrap();
    assert!((49153..=65535).contains(&image_port) && image_port != host_port, "{ports}");
    assert!(ports["8080/tcp"].is_array(), "the committed --expose is published too: {ports}");

    // Stop releases the mapping: no answer, no rule; rm leaves the rules
    // as they were before any container.
    ok(&cli(&d, &["stop", "-t", "1", "web"]));
    assert!(get_until(&ns, &format!("http://127.0.0.1:{port}/"), 0).is_err(), "nothing listens after stop");
    assert!(!rules(&ns).iter().any(|r| r.contains(&format!("--dport {port}"))), "the DNAT rule is gone");
    assert_eq!(inspect(&d, "web")["NetworkSettings"]["IPAddress"], "");
    ok(&cli(&d, &["rm", "-f", "web", "web2", "anyport", "imgport"]));
    assert_eq!(rules(&ns), idle, "stop and rm removed every rule they made");
}

#[test]
fn a_restarted_daemon_maps_its_containers_again() {
    if !can_run() {
        return;
    }
    let ns = NetNs::new();
    let args = ["--bip=10.201.10.1/24"];
    let d = net_daemon(&ns, &args, None);
    let port = free_port_in(&ns);
    let published = format!("127.0.0.1:{port}:80");
    ok(&cli(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "keep",
            "--restart=always",
            "-e",
            "BODY=still here",
            "-p",
            &published,
            "busybox",
            "sh",
            "-c",
            HTTPD,
        ],
    ));
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(get_until(&ns, &url, 20).unwrap(), "still here\n");

    let d = restart(d, &ns, &args);
    let _cleanup = Cleanup(&d, &["keep"]);
    assert_eq!(get_until(&ns, &url, 20).unwrap(), "still here\n", "the mapping works after the restart");
    assert_eq!(ok(&cli(&d, &["port", "keep"])).trim(), format!("80/tcp -> 127.0.0.1:{port}"));
    let dnat = rules(&ns).into_iter().filter(|r| r.contains("DNAT") && r.contains(&format!("--dport {port}"))).count();
    assert_eq!(dnat, 1, "one rule, not a stale one beside a new one");

    // After a kill -9 nothing was taken down: the next daemon kills the
    // leftover container, starts from empty DOCKER chains and maps the
    // container (restarted by its policy) again.
    // Not dropped: its `rm -f` would remove the container; the guard of the
    // next daemon takes over.
    std::mem::forget(_cleanup);
    let mut d = d;
    d.signal(nix::sys::signal::Signal::SIGKILL);
    assert_eq!(d.wait_exit(30), 128 + 9);
    let dir = std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap());
    drop(d);
    let d = net_daemon(&ns, &args, Some(dir));
    let _cleanup = Cleanup(&d, &["keep"]);
    assert_eq!(get_until(&ns, &url, 20).unwrap(), "still here\n", "mapped again after a kill -9");
    let dnat = rules(&ns).into_iter().filter(|r| r.contains("DNAT")).count();
    assert_eq!(dnat, 1, "only the new mapping's rule");
}

#[test]
fn icc_off_isolates_containers_but_links_open_their_ports() {
    if !can_run() {
        return;
    }
    let ns = NetNs::new();
    // A bridge of the test's own, given with -b.
    for args in [
        &["link", "add", "tbr5", "type", "bridge"][..],
        &["addr", "add", "10.201.5.1/24", "dev", "tbr5"],
        &["link", "set", "tbr5", "up"],
    ] {
        let out = ns.exec(&[&["ip"][..], args].concat());
        assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let args = ["-b", "tbr5", "--icc=false"];
    let d = net_daemon(&ns, &args, None);
    let _cleanup = Cleanup(&d, &["db", "web"]);
    ok(&cli(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "db",
            "--expose",
            "80",
            "-e",
            "BODY=db page",
            "-e",
            "SECRET=s3",
            "busybox",
            "sh",
            "-c",
            HTTPD,
        ],
    ));
    let db_ip = inspect(&d, "db")["NetworkSettings"]["IPAddress"].as_str().unwrap().to_string();
    assert!(db_ip.starts_with("10.201.5."), "{db_ip}");
    // The daemon's namespace reaches it (the signal that httpd listens).
    assert_eq!(get_until(&ns, &format!("http://{db_ip}/"), 20).unwrap(), "db page\n");

    // Not linked: dropped between containers.
    let get = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {db_ip} 80");
    let out = cli(&d, &["run", "--rm", "busybox", "sh", "-c", &get]);
    assert!(!out.status.success(), "icc=false must block: {}", String::from_utf8_lossy(&out.stdout));

    // Linked: env vars, a hosts entry, and the port is open (by name).
    let script = "env | grep '^DB_' | sort; grep -w db /etc/hosts; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 db 80";
    let out = ok(&cli(&d, &["run", "--name", "web", "--link", "db:db", "busybox", "sh", "-c", script]));
    for want in [
        format!("DB_PORT=tcp://{db_ip}:80"),
        format!("DB_PORT_80_TCP=tcp://{db_ip}:80"),
        format!("DB_PORT_80_TCP_ADDR={db_ip}"),
        "DB_PORT_80_TCP_PORT=80".into(),
        "DB_PORT_80_TCP_PROTO=tcp".into(),
        "DB_NAME=/web/db".into(),
        "DB_ENV_SECRET=s3".into(),
        "db page".into(),
    ] {
        assert!(out.lines().any(|l| l == want), "missing {want:?} in:\n{out}");
    }
    assert!(out.lines().any(|l| l.starts_with(&db_ip) && l.split_whitespace().any(|w| w == "db")), "{out}");
    // The link is kept by name: the stopped parent's config still has it,
    // and it works again on the next start.
    let links = inspect(&d, "web")["HostConfig"]["Links"].to_string();
    assert!(links.contains("/db:/web/db"), "{links}");
    let again = ok(&cli(&d, &["start", "-a", "web"]));
    assert!(again.contains("db page"), "{again}");
    // ... and across a daemon restart (both were stopped by it).
    std::mem::forget(_cleanup);
    let d = restart(d, &ns, &args);
    let _cleanup = Cleanup(&d, &["db", "web"]);
    ok(&cli(&d, &["start", "db"]));
    let db_ip = inspect(&d, "db")["NetworkSettings"]["IPAddress"].as_str().unwrap().to_string();
    assert_eq!(get_until(&ns, &format!("http://{db_ip}/"), 20).unwrap(), "db page\n");
    let again = ok(&cli(&d, &["start", "-a", "web"]));
    assert!(again.contains("db page") && again.contains(&format!("DB_PORT=tcp://{db_ip}:80")), "{again}");
    // No ACCEPT rule for the link once the parent stopped.
    assert!(
        !rules(&ns).iter().any(|r| r.contains(&db_ip) && r.contains("ACCEPT") && r.contains("-s")),
        "link rules removed"
    );

    // ps lists the link as one of db's names (the CLI shows it with --no-trunc).
    let names = ok(&cli(&d, &["ps", "-a", "--no-trunc", "--format", "{{.Names}}"]));
    assert!(names.lines().any(|l| l == "db,web/db"), "{names}");

    // `rm -l` removes the link, not a container.
    ok(&cli(&d, &["rm", "-l", "/web/db"]));
    let links = &inspect(&d, "web")["HostConfig"]["Links"];
    assert!(links.is_null() || links == &serde_json::json!([]), "the link is gone: {links}");
    assert_eq!(inspect(&d, "db")["State"]["Running"], true);

    // An unknown link target is a clear error.
    let err = fails(&ours(&d, &["run", "--rm", "--link", "nosuch:x", "busybox", "true"]));
    assert!(err.contains("Could not get container for nosuch"), "{err}");
    assert!(ok(&cli(&d, &["ps", "-q"])).lines().count() == 1, "the daemon keeps serving");
}

#[test]
fn bad_network_flags_stop_the_daemon_with_one_clear_line() {
    if !can_run() {
        return;
    }
    let ns = NetNs::new();
    for args in
        [&["link", "add", "docker0", "type", "bridge"][..], &["addr", "add", "10.201.11.1/24", "dev", "docker0"]]
    {
        assert!(ns.exec(&[&["ip"][..], args].concat()).status.success());
    }
    let cases: [(&[&str], &str); 2] = [
        (
            &["--bip=10.201.12.1/24"],
            "bridge ip (10.201.12.1) does not match existing bridge configuration 10.201.11.1/24",
        ),
        (&["-b", "nosuchbr0"], "bridge not found: nosuchbr0"),
    ];
    for (args, want) in cases {
        let mut d = Daemon::spawn(DaemonOptions {
            args: args.iter().map(|a| a.to_string()).collect(),
            netns: Some(ns.path()),
            ..Default::default()
        });
        assert_eq!(d.wait_exit(60), 1, "{args:?}");
        let log = d.log.lock().unwrap().join("\n");
        assert!(log.contains(want), "{args:?}: want {want:?} in:\n{log}");
    }
    // The existing bridge is left as it was.
    let br = String::from_utf8_lossy(&ns.exec(&["ip", "-4", "addr", "show", "docker0"]).stdout).into_owned();
    assert!(br.contains("10.201.11.1/24"), "{br}");
}

#[test]
fn docker_py_publishes_a_port() {
    let Some(python) = common::docker_py() else { return };
    if !can_run() {
        return;
    }
    let ns = NetNs::new();
    let d = net_daemon(&ns, &["--bip=10.201.13.1/24"], None);
    let _cleanup = Cleanup(&d, &["pyweb"]);
    let port = free_port_in(&ns);
    let script = format!(
        r#"
ctr = c.containers.run("busybox", ["sh", "-c", {httpd:?}], name="pyweb", detach=True,
                       environment={{"BODY": "from py"}}, ports={{"80/tcp": ("127.0.0.1", {port})}},
                       mac_address="02:42:0a:c9:0d:fe")
ctr.reload()
link = ctr.exec_run(["ip", "link", "show", "eth0"]).output.decode()
print(json.dumps({{"ports": ctr.ports, "ip": ctr.attrs["NetworkSettings"]["IPAddress"],
                  "mac": ctr.attrs["NetworkSettings"]["MacAddress"], "link": link}}))"#,
        httpd = HTTPD,
    );
    let got = docker_py_json(&python, &d, &script, &[]);
    assert_eq!(got["ports"]["80/tcp"][0]["HostPort"], port.to_string());
    assert!(got["ip"].as_str().unwrap().starts_with("10.201.13."), "{got}");
    // Its mac_address (Config.MacAddress) replaces the one derived from the IP.
    assert_eq!(got["mac"], "02:42:0a:c9:0d:fe");
    assert!(got["link"].as_str().unwrap().contains("link/ether 02:42:0a:c9:0d:fe"), "{got}");
    assert_eq!(get_until(&ns, &format!("http://127.0.0.1:{port}/"), 20).unwrap(), "from py\n");
}
