//! `init_networkdriver` (Docker 1.2's `bridge.InitDriver`): find or create
//! the bridge, check its address against `--bip` and `--fixed-cidr`, turn
//! on IPv4 forwarding, set up the iptables rules and the `DOCKER` chains,
//! then register the four bridge jobs on the engine.
//!
//! Departures: `BridgeIface=docker0` given explicitly is the default bridge
//! too (created when missing; 1.2 created it only when the key was empty,
//! and the daemon always sends the name now); an existing bridge's prefix
//! must match `--bip`'s as well as its address; `--fixed-cidr` (Docker 1.3)
//! must lie inside the bridge network; with `--iptables=false` no rule is
//! touched, not even the old `DOCKER` chain (as today's dockerd).

use std::net::Ipv4Addr;
use std::sync::Arc;

use engine::names::networkdriver::{self as names, env};
use engine::{Engine, EngineError, ErrorKind, Job, Status};

use crate::bridge::Netlink;
use crate::bridge_network::{self, no_free_range};
use crate::driver::Driver;
use crate::ipallocator::Subnet;
use crate::iptables::Iptables;
use crate::portmapper;

/// The bridge Docker creates when none is named (and when it is named).
pub const DEFAULT_BRIDGE: &str = "docker0";

/// Registers `init_networkdriver` (the other four jobs come when it runs).
pub fn install(eng: &Engine) -> Result<(), EngineError> {
    eng.register(names::INIT, init_networkdriver)
}

/// The job's env, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct InitOptions {
    /// `BridgeIface`, `docker0` when empty.
    pub bridge: String,
    /// `BridgeIP`.
    pub bip: Option<Subnet>,
    /// `FixedCIDR`.
    pub fixed_cidr: Option<Subnet>,
    /// `DefaultBindingIP`, 0.0.0.0 when empty.
    pub default_ip: Ipv4Addr,
    /// `EnableIptables`.
    pub iptables: bool,
    /// `InterContainerCommunication`.
    pub icc: bool,
    /// `EnableIpForward`.
    pub ip_forward: bool,
}

impl InitOptions {
    /// Reads and checks the env of an `init_networkdriver` job.
    pub fn from_job(job: &Job) -> Result<InitOptions, String> {
        let cidr = |key: &str| -> Result<Option<Subnet>, String> {
            match job.getenv(key).as_str() {
                "" => Ok(None),
                text => text.parse().map(Some).map_err(|e| format!("{key}: {e}")),
            }
        };
        let bridge = match job.getenv(env::BRIDGE_IFACE) {
            name if name.is_empty() => DEFAULT_BRIDGE.to_string(),
            name => name,
        };
        let default_ip = match job.getenv(env::DEFAULT_BINDING_IP).as_str() {
            "" => Ipv4Addr::UNSPECIFIED,
            text => text.parse().map_err(|_| format!("DefaultBindingIP: {text} is not an IPv4 address"))?,
        };
        Ok(InitOptions {
            bridge,
            bip: cidr(env::BRIDGE_IP)?,
            fixed_cidr: cidr(env::FIXED_CIDR)?,
            default_ip,
            iptables: job.getenv_bool(env::ENABLE_IPTABLES),
            icc: job.getenv_bool(env::ICC),
            ip_forward: job.getenv_bool(env::ENABLE_IP_FORWARD),
        })
    }
}

/// The bridge's existing address against `--bip`; the first address that
/// matches it, else (without `--bip`) the primary one.
pub fn check_existing(bridge: &str, addrs: &[Subnet], bip: Option<Subnet>) -> Result<Subnet, String> {
    let first = *addrs.first().ok_or_else(|| format!("bridge {bridge} has no IPv4 address"))?;
    match bip {
        None => Ok(first),
        Some(bip) if addrs.contains(&bip) => Ok(bip),
        Some(bip) => Err(format!("bridge ip ({}) does not match existing bridge configuration {first}", bip.addr)),
    }
}

/// `--fixed-cidr` must be a part of the bridge network; the container
/// addresses' pool is it, else the whole network.
pub fn address_pool(network: Subnet, fixed: Option<Subnet>) -> Result<Subnet, String> {
    let Some(fixed) = fixed else { return Ok(network) };
    if fixed.prefix >= network.prefix && network.contains(fixed.network()) {
        Ok(fixed)
    } else {
        Err(format!(
            "fixed-cidr {fixed} is not inside the bridge network {}/{} (it must be nested in the bridge subnet)",
            network.network(),
            network.prefix
        ))
    }
}

async fn init_networkdriver(job: Job) -> Status {
    let opts = match InitOptions::from_job(&job) {
        Ok(opts) => opts,
        Err(e) => return job.fail(ErrorKind::BadParameter, e).await,
    };
    match set_up(&job, &opts).await {
        Ok(driver) => match Arc::new(driver).install(job.engine()) {
            Ok(()) => Status::OK,
            Err(e) => job.fail(ErrorKind::Conflict, e).await,
        },
        Err(e) => job.fail(ErrorKind::Internal, e).await,
    }
}

/// Everything but the registration; errors as the job reports them.
async fn set_up(job: &Job, opts: &InitOptions) -> Result<Driver, String> {
    let netlink = Netlink::connect().map_err(|e| e.to_string())?;
    let bridge = opts.bridge.as_str();
    let network = match netlink.link_index(bridge).await.map_err(|e| e.to_string())? {
        Some(index) => {
            let addrs = netlink.ipv4_addrs(index, bridge).await.map_err(|e| e.to_string())?;
            check_existing(bridge, &addrs, opts.bip)?
        }
        None if bridge != DEFAULT_BRIDGE => return Err(format!("bridge not found: {bridge}")),
        None => {
            let addr = match opts.bip {
                Some(bip) => bip,
                None => free_range().await.ok_or_else(|| no_free_range(bridge))?,
            };
            job.logf(format!("creating bridge {bridge} with network {addr}")).await;
            netlink.create_bridge(bridge, addr).await.map_err(|e| e.to_string())?;
            addr
        }
    };
    let pool = address_pool(network, opts.fixed_cidr)?;
    if opts.ip_forward
        && let Err(e) = tokio::fs::write("/proc/sys/net/ipv4/ip_forward", b"1\n").await
    {
        job.logf(format!("WARNING: unable to enable IPv4 forwarding: {e}")).await;
    }
    let iptables = if opts.iptables {
        let (ipt, name, icc) = (Iptables::new(), bridge.to_string(), opts.icc);
        let set_up = ipt.clone();
        portmapper::blocking(move || {
            set_up.setup_bridge(&name, network, icc)?;
            set_up.create_docker_chains(&name)
        })
        .await
        .map_err(|e| e.to_string())?;
        Some(ipt)
    } else {
        None
    };
    Ok(Driver::new(bridge, network, pool, opts.default_ip, iptables))
}

/// The first candidate range free of the host's routes and name servers
/// (unreadable files count as empty, as in Docker 1.2).
async fn free_range() -> Option<Subnet> {
    let routes = tokio::fs::read_to_string("/proc/net/route").await.unwrap_or_default();
    let resolv = tokio::fs::read_to_string("/etc/resolv.conf").await.unwrap_or_default();
    bridge_network::choose(&bridge_network::routes(&routes), &bridge_network::nameservers(&resolv))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    #[tokio::test]
    async fn options_default_and_are_checked() {
        let eng = Engine::new();
        let job = eng.job(names::INIT, Vec::<String>::new());
        let opts = InitOptions::from_job(&job).unwrap();
        assert_eq!((opts.bridge.as_str(), opts.bip, opts.default_ip), ("docker0", None, Ipv4Addr::UNSPECIFIED));
        job.setenv(env::BRIDGE_IP, "10.5.0.1/16");
        job.setenv(env::ENABLE_IPTABLES, "true");
        job.setenv(env::DEFAULT_BINDING_IP, "127.0.0.1");
        let opts = InitOptions::from_job(&job).unwrap();
        assert_eq!((opts.bip, opts.iptables, opts.default_ip), (Some(s("10.5.0.1/16")), true, Ipv4Addr::LOCALHOST));
        job.setenv(env::FIXED_CIDR, "10.5.0.0/33");
        assert_eq!(InitOptions::from_job(&job).unwrap_err(), "FixedCIDR: invalid CIDR address: 10.5.0.0/33");
    }

    #[test]
    fn an_existing_bridge_must_match_bip() {
        let addrs = [s("172.17.42.1/16"), s("10.9.0.1/24")];
        assert_eq!(check_existing("docker0", &addrs, None), Ok(s("172.17.42.1/16")));
        assert_eq!(check_existing("docker0", &addrs, Some(s("10.9.0.1/24"))), Ok(s("10.9.0.1/24")));
        assert_eq!(
            check_existing("docker0", &addrs, Some(s("172.17.42.2/16"))).unwrap_err(),
            "bridge ip (172.17.42.2) does not match existing bridge configuration 172.17.42.1/16"
        );
        assert_eq!(check_existing("br1", &[], None).unwrap_err(), "bridge br1 has no IPv4 address");
    }

    #[test]
    fn the_fixed_cidr_lies_inside_the_bridge_network() {
        let net = s("172.17.42.1/16");
        assert_eq!(address_pool(net, None), Ok(net));
        assert_eq!(address_pool(net, Some(s("172.17.3.0/24"))), Ok(s("172.17.3.0/24")));
        assert_eq!(address_pool(net, Some(s("172.17.0.0/16"))), Ok(s("172.17.0.0/16")));
        for outside in ["172.18.0.0/24", "172.16.0.0/12"] {
            assert_eq!(
                address_pool(net, Some(s(outside))).unwrap_err(),
                format!(
                    "fixed-cidr {outside} is not inside the bridge network 172.17.0.0/16 (it must be nested in the bridge subnet)"
                )
            );
        }
    }
}
