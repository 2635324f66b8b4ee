//! The top-level `docker` flags (`docker/flags.go` and the daemon flags of
//! `daemon/config.go` in Docker 1.2), with their short and long names,
//! deprecated aliases, defaults and validators, and their conversion into
//! the daemon's `Config` and the client's settings.

use std::net::IpAddr;
use std::path::PathBuf;

use daemon::Config;
use daemon::config::{Cidr, validate_dns_search, validate_storage_opt};

use crate::flags::FlagSet;

/// `$DOCKER_CERT_PATH`, or `~/.docker`.
pub fn cert_path() -> PathBuf {
    match std::env::var("DOCKER_CERT_PATH") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".docker"),
    }
}

fn validate_host(raw: &str) -> Result<String, String> {
    api_server::parse_host(raw).map(|h| h.to_string()).map_err(|e| e.to_string())
}

fn validate_ip(raw: &str) -> Result<String, String> {
    raw.parse::<IpAddr>().map(|ip| ip.to_string()).map_err(|_| format!("{raw} is not an ip address"))
}

fn validate_cidr(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    raw.parse::<Cidr>().map(|c| c.to_string())
}

fn validate_opt(raw: &str) -> Result<String, String> {
    validate_storage_opt(raw).map(|()| raw.to_string())
}

/// Every top-level flag, client and daemon.
pub fn top_level() -> FlagSet {
    let certs = cert_path();
    let mut f = FlagSet::new("docker");
    f.bool(&["v", "-version"], false, "Print version information and quit");
    f.bool(&["d", "-daemon"], false, "Enable daemon mode");
    f.bool(&["D", "-debug"], false, "Enable debug mode");
    f.string(&["G", "-group"], "docker", "Group to assign the unix socket specified by -H when running in daemon mode\nuse '' (the empty string) to disable setting of a group");
    f.bool(&["#api-enable-cors", "-api-enable-cors"], false, "Enable CORS headers in the remote API");
    f.bool(&["-tls"], false, "Use TLS; implied by tls-verify flags");
    f.bool(&["-tlsverify"], false, "Use TLS and verify the remote (daemon: verify client, client: verify daemon)");
    f.string(
        &["-tlscacert"],
        &certs.join("ca.pem").display().to_string(),
        "Trust only remotes providing a certificate signed by the CA given here",
    );
    f.string(&["-tlscert"], &certs.join("cert.pem").display().to_string(), "Path to TLS certificate file");
    f.string(&["-tlskey"], &certs.join("key.pem").display().to_string(), "Path to TLS key file");
    f.list(&["H", "-host"], "The socket(s) to bind to in daemon mode\nspecified using one or more tcp://host:port, unix:///path/to/socket, fd://* or fd://socketfd.");
    f.validator("host", validate_host);

    f.string(&["p", "-pidfile"], "/var/run/docker.pid", "Path to use for daemon PID file");
    f.string(&["g", "-graph"], "/var/lib/docker", "Path to use as the root of the Docker runtime");
    f.bool(
        &["#r", "#-restart"],
        true,
        "--restart on the daemon has been deprecated in favor of --restart policies on docker run",
    );
    f.bool(&["#iptables", "-iptables"], true, "Enable Docker's addition of iptables rules");
    f.bool(&["#ip-forward", "-ip-forward"], true, "Enable net.ipv4.ip_forward");
    f.string(
        &["#bip", "-bip"],
        "",
        "Use this CIDR notation address for the network bridge's IP, not compatible with -b",
    );
    f.validator("bip", validate_cidr);
    f.string(
        &["-fixed-cidr"],
        "",
        "IPv4 subnet for fixed IPs (e.g.: 10.20.0.0/16)\nthis subnet must be nested in the bridge subnet (which is defined by -b or --bip)",
    );
    f.validator("fixed-cidr", validate_cidr);
    f.string(
        &["b", "-bridge"],
        "",
        "Attach containers to a pre-existing network bridge\nuse 'none' to disable container networking",
    );
    f.bool(&["#icc", "-icc"], true, "Enable inter-container communication");
    f.string(&["s", "-storage-driver"], "", "Force the Docker runtime to use a specific storage driver");
    f.string(&["e", "-exec-driver"], "native", "Force the Docker runtime to use a specific exec driver");
    f.bool(
        &["-selinux-enabled"],
        false,
        "Enable selinux support. SELinux does not presently support the BTRFS storage driver",
    );
    f.int(&["#mtu", "-mtu"], 0, "Set the containers network MTU\nif no value is provided: default to the default route MTU or 1500 if no default route is available");
    f.string(&["#ip", "-ip"], "0.0.0.0", "Default IP address to use when binding container ports");
    f.validator("ip", validate_ip);
    f.list(&["-storage-opt"], "Set storage driver options");
    f.validator("storage-opt", validate_opt);
    f.list(&["#dns", "-dns"], "Force Docker to use specific DNS servers");
    f.validator("dns", validate_ip);
    f.list(&["-dns-search"], "Force Docker to use specific DNS search domains");
    f.validator("dns-search", validate_dns_search);
    f.list(&["-insecure-registry"], "Enable insecure communication with specified registries (no certificate verification for HTTPS and enable HTTP fallback) (e.g., localhost:5000 or 10.20.0.0/16)");
    f
}

/// The daemon `Config` the flags describe. Values were validated while
/// parsing, so conversions here cannot fail except for range checks.
pub fn daemon_config(f: &FlagSet, debug: bool) -> Result<Config, String> {
    let mtu = f.get_int("mtu");
    let mtu =
        u32::try_from(mtu).map_err(|_| format!("invalid value \"{mtu}\" for flag --mtu: must not be negative"))?;
    let bip = f.get_string("bip");
    let fixed_cidr = f.get_string("fixed-cidr");
    Ok(Config {
        pidfile: f.get_string("pidfile").into(),
        root: f.get_string("graph").into(),
        auto_restart: f.get_bool("restart"),
        enable_iptables: f.get_bool("iptables"),
        enable_ip_forward: f.get_bool("ip-forward"),
        bridge_ip: if bip.is_empty() { None } else { Some(bip.parse()?) },
        fixed_cidr: if fixed_cidr.is_empty() { None } else { Some(fixed_cidr.parse()?) },
        bridge_iface: f.get_string("bridge"),
        inter_container_communication: f.get_bool("icc"),
        graph_driver: f.get_string("storage-driver"),
        graph_options: f.get_list("storage-opt"),
        exec_driver: f.get_string("exec-driver"),
        enable_selinux_support: f.get_bool("selinux-enabled"),
        mtu,
        default_ip: f.get_string("ip").parse().map_err(|_| "invalid --ip".to_string())?,
        dns: f
            .get_list("dns")
            .iter()
            .map(|d| d.parse())
            .collect::<Result<_, _>>()
            .map_err(|_| "invalid --dns".to_string())?,
        dns_search: f.get_list("dns-search"),
        insecure_registries: f.get_list("insecure-registry"),
        debug,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(FlagSet, Vec<String>), String> {
        let mut f = top_level();
        let rest = f.parse(args.iter().map(|s| s.to_string())).map_err(|e| e.to_string())?;
        Ok((f, rest))
    }

    #[test]
    fn defaults_match_docker_1_2() {
        let (f, rest) = parse(&["-d"]).unwrap();
        assert!(rest.is_empty());
        let c = daemon_config(&f, false).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(f.get_string("group"), "docker");
        assert!(f.get_list("host").is_empty());
    }

    #[test]
    fn every_daemon_flag_by_short_and_long_name() {
        let (f, _) = parse(&[
            "-d",
            "-p",
            "/tmp/d.pid",
            "--graph=/tmp/root",
            "-b",
            "none",
            "--iptables=false",
            "--ip-forward=false",
            "--icc=true",
            "-s",
            "vfs",
            "--storage-opt",
            "size=10G",
            "-e",
            "native",
            "--selinux-enabled",
            "--mtu=1400",
            "--ip=127.0.0.1",
            "--dns",
            "8.8.8.8",
            "--dns-search",
            "example.com",
            "-G",
            "",
            "--api-enable-cors",
            "-H",
            "unix:///tmp/d.sock",
            "--host=tcp://:2375",
            "-D",
        ])
        .unwrap();
        let c = daemon_config(&f, true).unwrap();
        assert_eq!(c.pidfile, PathBuf::from("/tmp/d.pid"));
        assert_eq!(c.root, PathBuf::from("/tmp/root"));
        assert_eq!(c.bridge_iface, "none");
        assert!(!c.enable_iptables && !c.enable_ip_forward && c.inter_container_communication);
        assert_eq!(c.graph_driver, "vfs");
        assert_eq!(c.graph_options, ["size=10G"]);
        assert!(c.enable_selinux_support);
        assert_eq!(c.mtu, 1400);
        assert_eq!(c.default_ip.to_string(), "127.0.0.1");
        assert_eq!(c.dns[0].to_string(), "8.8.8.8");
        assert_eq!(c.dns_search, ["example.com"]);
        assert_eq!(f.get_string("group"), "");
        assert!(f.get_bool("api-enable-cors"));
        assert_eq!(f.get_list("host"), ["unix:///tmp/d.sock", "tcp://127.0.0.1:2375"]);
        assert!(f.get_bool("debug"));
    }

    #[test]
    fn deprecated_single_dash_aliases_still_work() {
        let (f, _) = parse(&["-d", "-iptables=false", "-bip=10.1.0.1/16", "-mtu=1500"]).unwrap();
        let c = daemon_config(&f, false).unwrap();
        assert!(!c.enable_iptables);
        assert_eq!(c.bridge_ip.unwrap().to_string(), "10.1.0.1/16");
    }

    #[test]
    fn fixed_cidr_is_a_cidr() {
        let (f, _) = parse(&["-d", "--bip=10.20.0.1/16", "--fixed-cidr=10.20.5.0/24"]).unwrap();
        let c = daemon_config(&f, false).unwrap();
        assert_eq!(c.fixed_cidr.unwrap().to_string(), "10.20.5.0/24");
        let err = parse(&["-d", "--fixed-cidr=10.20.0.0"]).unwrap_err();
        assert_eq!(err, "invalid value \"10.20.0.0\" for flag --fixed-cidr: invalid CIDR address: 10.20.0.0");
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_named() {
        let err = parse(&["-d", "--bip=notacidr"]).unwrap_err();
        assert_eq!(err, "invalid value \"notacidr\" for flag --bip: invalid CIDR address: notacidr");
        let err = parse(&["-d", "-H", "tcp://nohost"]).unwrap_err();
        assert_eq!(err, "invalid value \"tcp://nohost\" for flag -H: Invalid bind address format: tcp://nohost");
        assert!(parse(&["-d", "--mtu=big"]).is_err());
        assert!(parse(&["-d", "--dns=nameserver"]).is_err());
        assert!(parse(&["-d", "--storage-opt=novalue"]).is_err());
        assert!(parse(&["-d", "--iptables=maybe"]).is_err());
        let err = parse(&["-tls"]).unwrap_err();
        assert_eq!(err, "flag provided but not defined: -tls");
        let (f, _) = parse(&["-d", "--mtu=-1"]).unwrap();
        assert!(daemon_config(&f, false).is_err());
    }

    #[test]
    fn parsing_stops_at_the_command() {
        let (f, rest) = parse(&["-H", "unix:///x.sock", "events", "--since", "1"]).unwrap();
        assert_eq!(rest, ["events", "--since", "1"]);
        assert!(!f.get_bool("daemon"));
    }
}
