//! The daemon's configuration: every daemon flag of Docker 1.2
//! (`daemon/config.go`), typed, with its defaults and the cross-flag checks
//! `NewDaemonFromDirectory` made.
//!
//! Flags whose subsystem arrives later (bridge, iptables, DNS, exec driver
//! choice, storage options) are validated and stored here already.

use std::net::IpAddr;
use std::path::PathBuf;

/// The `--bip` and `--fixed-cidr` values: an address and prefix length
/// (`172.17.42.1/16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The bridge's own address.
    pub addr: std::net::Ipv4Addr,
    /// The prefix length, 0–32.
    pub prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let invalid = || format!("invalid CIDR address: {s}");
        let (addr, prefix) = s.split_once('/').ok_or_else(invalid)?;
        let addr = addr.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        if prefix > 32 {
            return Err(invalid());
        }
        Ok(Cidr { addr, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Storage drivers this daemon has.
pub const STORAGE_DRIVERS: [&str; 2] = ["overlay", "vfs"];
/// Exec drivers this daemon has or plans (`native` is the default; `runc`
/// and `crun` run the same OCI bundle under those runtimes).
pub const EXEC_DRIVERS: [&str; 3] = ["native", "runc", "crun"];
/// `-b none`: no container networking.
pub const DISABLE_NETWORK_BRIDGE: &str = "none";

/// Everything `docker -d` was told.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `-p, --pidfile`.
    pub pidfile: PathBuf,
    /// `-g, --graph`: the root of all state.
    pub root: PathBuf,
    /// Hidden `-r, --restart` (deprecated in 1.2 for restart policies).
    pub auto_restart: bool,
    /// `--iptables`.
    pub enable_iptables: bool,
    /// `--ip-forward`.
    pub enable_ip_forward: bool,
    /// `--bip`.
    pub bridge_ip: Option<Cidr>,
    /// `--fixed-cidr` (Docker 1.3): the part of the bridge network container
    /// addresses come from; whether it lies inside the bridge network is
    /// checked by `init_networkdriver`, which knows the bridge's address.
    pub fixed_cidr: Option<Cidr>,
    /// `-b, --bridge` (`none` disables networking; empty means `docker0`).
    pub bridge_iface: String,
    /// `--icc`.
    pub inter_container_communication: bool,
    /// `-s, --storage-driver` (empty: choose).
    pub graph_driver: String,
    /// `--storage-opt`.
    pub graph_options: Vec<String>,
    /// `-e, --exec-driver`.
    pub exec_driver: String,
    /// `--selinux-enabled`.
    pub enable_selinux_support: bool,
    /// `--mtu` (0: the default route's MTU, else 1500).
    pub mtu: u32,
    /// `--ip`: the default host IP for published ports.
    pub default_ip: IpAddr,
    /// `--dns`.
    pub dns: Vec<IpAddr>,
    /// `--dns-search`.
    pub dns_search: Vec<String>,
    /// `--insecure-registry` (Docker 1.3+): registries (`host[:port]` or
    /// CIDR) that may be spoken to over plain HTTP; loopback always may.
    pub insecure_registries: Vec<String>,
    /// `-D, --debug`.
    pub debug: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pidfile: "/var/run/docker.pid".into(),
            root: "/var/lib/docker".into(),
            auto_restart: true,
            enable_iptables: true,
            enable_ip_forward: true,
            bridge_ip: None,
            fixed_cidr: None,
            bridge_iface: String::new(),
            inter_container_communication: true,
            graph_driver: String::new(),
            graph_options: Vec::new(),
            exec_driver: "native".into(),
            enable_selinux_support: false,
            mtu: 0,
            default_ip: IpAddr::from([0, 0, 0, 0]),
            dns: Vec::new(),
            dns_search: Vec::new(),
            insecure_registries: Vec::new(),
            debug: false,
        }
    }
}

impl Config {
    /// True with `-b none`.
    pub fn network_disabled(&self) -> bool {
        self.bridge_iface == DISABLE_NETWORK_BRIDGE
    }

    /// The checks Docker 1.2 made before doing anything (same texts), plus
    /// the driver names this daemon knows.
    pub fn validate(&self) -> Result<(), String> {
        if !self.bridge_iface.is_empty() && self.bridge_ip.is_some() {
            return Err("You specified -b & --bip, mutually exclusive options. Please specify only one.".into());
        }
        if !self.enable_iptables && !self.inter_container_communication {
            return Err("You specified --iptables=false with --icc=false. ICC uses iptables to function. \
                        Please set --icc or --iptables to true."
                .into());
        }
        if !self.graph_driver.is_empty() && !STORAGE_DRIVERS.contains(&self.graph_driver.as_str()) {
            return Err(format!(
                "No such storage driver: {} (this daemon has: {})",
                self.graph_driver,
                STORAGE_DRIVERS.join(", ")
            ));
        }
        if !EXEC_DRIVERS.contains(&self.exec_driver.as_str()) {
            return Err(format!(
                "unknown exec driver {} (this daemon has: {})",
                self.exec_driver,
                EXEC_DRIVERS.join(", ")
            ));
        }
        for opt in &self.graph_options {
            validate_storage_opt(opt)?;
        }
        if self.mtu != 0 && !(68..=65535).contains(&self.mtu) {
            return Err(format!("invalid MTU {}: must be between 68 and 65535", self.mtu));
        }
        Ok(())
    }
}

/// `--storage-opt key=value`; the driver checks the keys it knows.
pub fn validate_storage_opt(opt: &str) -> Result<(), String> {
    match opt.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() => Ok(()),
        _ => Err(format!("invalid storage option {opt:?}: expected KEY=VALUE")),
    }
}

/// `--dns-search`: a domain name, or `.` for none (Docker's
/// `ValidateDnsSearch`).
pub fn validate_dns_search(domain: &str) -> Result<String, String> {
    let d = domain.trim_end_matches('.');
    if domain == "." {
        return Ok(domain.to_string());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if d.is_empty() || d.len() > 255 || !d.split('.').all(label_ok) {
        return Err(format!("{domain} is not a valid domain"));
    }
    Ok(d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_docker_1_2s() {
        let c = Config::default();
        assert_eq!(c.pidfile, PathBuf::from("/var/run/docker.pid"));
        assert_eq!(c.root, PathBuf::from("/var/lib/docker"));
        assert_eq!(c.exec_driver, "native");
        assert!(c.enable_iptables && c.enable_ip_forward && c.inter_container_communication);
        assert_eq!(c.default_ip.to_string(), "0.0.0.0");
        c.validate().unwrap();
    }

    #[test]
    fn cross_flag_checks() {
        let c =
            Config { bridge_iface: "br0".into(), bridge_ip: Some("10.0.0.1/24".parse().unwrap()), ..Config::default() };
        assert_eq!(
            c.validate().unwrap_err(),
            "You specified -b & --bip, mutually exclusive options. Please specify only one."
        );
        let c = Config { enable_iptables: false, inter_container_communication: false, ..Config::default() };
        assert!(c.validate().unwrap_err().starts_with("You specified --iptables=false with --icc=false."));
        let c = Config { graph_driver: "aufs".into(), ..Config::default() };
        assert!(c.validate().unwrap_err().starts_with("No such storage driver: aufs"));
        let c = Config { exec_driver: "lxc".into(), ..Config::default() };
        assert!(c.validate().is_err());
        let c = Config { graph_options: vec!["nokey".into()], ..Config::default() };
        assert!(c.validate().is_err());
        let c = Config { mtu: 20, ..Config::default() };
        assert!(c.validate().is_err());
    }

    #[test]
    fn cidrs() {
        let c: Cidr = "172.17.42.1/16".parse().unwrap();
        assert_eq!(c.prefix, 16);
        assert_eq!(c.to_string(), "172.17.42.1/16");
        for bad in ["172.17.42.1", "300.1.1.1/16", "1.2.3.4/33", "x/8"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn dns_search_domains() {
        assert_eq!(validate_dns_search("example.com").unwrap(), "example.com");
        assert_eq!(validate_dns_search("example.com.").unwrap(), "example.com");
        assert_eq!(validate_dns_search(".").unwrap(), ".");
        assert!(validate_dns_search("-bad.com").is_err());
        assert!(validate_dns_search("a..b").is_err());
    }
}
