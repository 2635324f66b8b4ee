//! The bridge driver's state once `init_networkdriver` has run, and the four
//! jobs it registers (Docker 1.2's `daemon/networkdriver/bridge/driver.go`
//! `Allocate`, `Release`, `AllocatePort`, `LinkContainers`):
//!
//! - `allocate_interface ID` gives container `ID` an address of the bridge
//!   subnet (of `--fixed-cidr` when given) and prints `{Bridge, Gateway, IP,
//!   IPPrefixLen, Mask, MacAddress}`;
//! - `release_interface ID` takes down its published ports and frees the
//!   address;
//! - `allocate_port ID` publishes one of its ports and prints `{HostIP,
//!   HostPort}`;
//! - `link -I|-D` adds or removes the ACCEPT rules between two containers.
//!
//! At the engine's shutdown every mapping is taken down and the `DOCKER`
//! chains emptied: the containers' own releases cannot run then (the engine
//! refuses jobs once it shuts down, as 1.2's did), and 1.2 left their
//! rules behind.
//!
//! Departures from 1.2, each a bug there: a second `allocate_interface` for
//! the same container releases the first address instead of leaking it;
//! `release_interface` forgets the container (1.2 kept its record, so a
//! second release "succeeded" and released the address again);
//! `allocate_port` for a container without an address is an error, not a
//! crash; a bind failure with `HostPort` 0 tries another port (1.2 retried
//! only allocator conflicts, which port 0 cannot have).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use engine::names::networkdriver::{self as names, env};
use engine::{Engine, EngineError, Env, ErrorKind, Job, Status};
use parking_lot::Mutex;

use crate::ipallocator::{IpAllocator, IpAllocatorError, Subnet};
use crate::iptables::{Action, Iptables};
use crate::mac::mac_for;
use crate::portallocator::Proto;
use crate::portmapper::{self, Mapping, PortMapper};

/// How many host ports `allocate_port` tries when any will do (Docker
/// 1.2's `MaxAllocatedPortAttempts`).
pub const MAX_PORT_ATTEMPTS: usize = 10;

/// What a container holds: its address and its published ports.
#[derive(Debug)]
struct Container {
    ip: Ipv4Addr,
    ports: Vec<Mapping>,
}

/// Everything the four jobs share.
#[derive(Debug)]
pub struct Driver {
    bridge: String,
    /// The bridge's own address (the containers' gateway) and prefix.
    network: Subnet,
    /// Where container addresses come from: `--fixed-cidr`, else `network`.
    pool: Subnet,
    default_ip: Ipv4Addr,
    ips: IpAllocator,
    mapper: PortMapper,
    iptables: Option<Iptables>,
    containers: Mutex<HashMap<String, Container>>,
}

impl Driver {
    /// The state for `bridge` with address `network`; container addresses
    /// from `pool`; published ports on `default_ip` unless a job says
    /// otherwise; rules only with `iptables`.
    pub fn new(
        bridge: &str,
        network: Subnet,
        pool: Subnet,
        default_ip: Ipv4Addr,
        iptables: Option<Iptables>,
    ) -> Driver {
        Driver {
            bridge: bridge.to_string(),
            network,
            pool,
            default_ip,
            ips: IpAllocator::new(),
            mapper: PortMapper::new(bridge, iptables.clone()),
            iptables,
            containers: Mutex::new(HashMap::new()),
        }
    }

    /// Registers the four jobs, sharing this state.
    pub fn install(self: Arc<Self>, eng: &Engine) -> Result<(), EngineError> {
        let d = self.clone();
        eng.register(names::ALLOCATE_INTERFACE, move |job| d.clone().allocate_interface(job))?;
        let d = self.clone();
        eng.register(names::RELEASE_INTERFACE, move |job| d.clone().release_interface(job))?;
        let d = self.clone();
        eng.register(names::ALLOCATE_PORT, move |job| d.clone().allocate_port(job))?;
        let d = self.clone();
        eng.register(names::LINK, move |job| d.clone().link(job))?;
        eng.on_shutdown(move || async move { self.shutdown().await });
        Ok(())
    }

    /// Takes down every container's ports (proxies closed, rules removed)
    /// and empties the `DOCKER` chains, links' rules included.
    async fn shutdown(&self) {
        let all: Vec<Container> = self.containers.lock().drain().map(|(_, c)| c).collect();
        for container in all {
            self.release(container).await;
        }
        if let Some(ipt) = self.iptables.clone() {
            let _ = tokio::task::spawn_blocking(move || ipt.flush_docker_chains()).await;
        }
    }

    fn gateway(&self) -> Ipv4Addr {
        self.network.addr
    }

    /// Unmaps a forgotten container's ports and frees its address.
    async fn release(&self, container: Container) {
        for mapping in container.ports {
            self.mapper.unmap(mapping).await;
        }
        self.ips.release(self.pool, container.ip);
    }

    async fn allocate_interface(self: Arc<Self>, job: Job) -> Status {
        let Some(id) = container_arg(&job) else {
            return job.fail(ErrorKind::BadParameter, format!("Usage: {} CONTAINER_ID", job.name())).await;
        };
        let requested = job.getenv(env::REQUESTED_IP);
        let requested = match requested.as_str() {
            "" => None,
            text => match text.parse::<Ipv4Addr>() {
                Ok(ip) => Some(ip),
                Err(_) => return job.fail(ErrorKind::BadParameter, format!("invalid RequestedIP {text}")).await,
            },
        };
        let stale = self.containers.lock().remove(&id);
        if let Some(stale) = stale {
            job.logf(format!("{id} already had {}: released first", stale.ip)).await;
            self.release(stale).await;
        }
        let allocated = match requested {
            Some(ip) => self.ips.request_ip(self.pool, self.gateway(), ip).map(|()| ip),
            None => self.ips.request(self.pool, self.gateway()),
        };
        let ip = match allocated {
            Ok(ip) => ip,
            Err(e) => {
                let kind = match e {
                    IpAllocatorError::AlreadyAllocated => ErrorKind::Conflict,
                    IpAllocatorError::OutOfRange { .. } | IpAllocatorError::InvalidCidr(_) => ErrorKind::BadParameter,
                    IpAllocatorError::NoAvailableIps => ErrorKind::Internal,
                };
                return job.fail(kind, e).await;
            }
        };
        // A concurrent allocation for the same id lost the race: release it.
        let raced = self.containers.lock().insert(id.clone(), Container { ip, ports: Vec::new() });
        if let Some(raced) = raced {
            self.release(raced).await;
        }
        let mut out = Env::new();
        out.set(env::BRIDGE, &self.bridge);
        out.set(env::GATEWAY, self.gateway().to_string());
        out.set(env::IP, ip.to_string());
        out.set_int(env::IP_PREFIX_LEN, i64::from(self.network.prefix));
        out.set(env::MASK, mask_hex(self.network));
        out.set(env::MAC_ADDRESS, mac_for(ip));
        print_env(&job, &out).await
    }

    async fn release_interface(self: Arc<Self>, job: Job) -> Status {
        let Some(id) = container_arg(&job) else {
            return job.fail(ErrorKind::BadParameter, format!("Usage: {} CONTAINER_ID", job.name())).await;
        };
        let Some(container) = self.containers.lock().remove(&id) else {
            return job.fail(ErrorKind::NotFound, format!("No network information to release for {id}")).await;
        };
        self.release(container).await;
        Status::OK
    }

    async fn allocate_port(self: Arc<Self>, job: Job) -> Status {
        let Some(id) = container_arg(&job) else {
            return job.fail(ErrorKind::BadParameter, format!("Usage: {} CONTAINER_ID", job.name())).await;
        };
        let request = match PortRequest::from_job(&job, self.default_ip) {
            Ok(r) => r,
            Err(e) => return job.fail(ErrorKind::BadParameter, e).await,
        };
        let Some(container_ip) = self.containers.lock().get(&id).map(|c| c.ip) else {
            return job.fail(ErrorKind::NotFound, format!("No network information for {id}")).await;
        };
        let PortRequest { proto, host_ip, host_port, container_port } = request;
        let mut attempt = 0;
        let mapping = loop {
            attempt += 1;
            match self.mapper.map(proto, host_ip, host_port, container_ip, container_port).await {
                Ok(m) => break m,
                Err(e) if e.port_busy() && host_port == 0 && attempt < MAX_PORT_ATTEMPTS => {
                    job.logf(format!("Failed to bind for container address {container_ip}:{container_port}: {e}. Trying another port.")).await;
                }
                Err(e) => {
                    let kind = if e.port_busy() { ErrorKind::Conflict } else { ErrorKind::Internal };
                    return job.fail(kind, e).await;
                }
            }
        };
        let (hip, hport) = (mapping.host_ip, mapping.host_port);
        let orphan = {
            let mut containers = self.containers.lock();
            match containers.get_mut(&id) {
                Some(c) if c.ip == container_ip => {
                    c.ports.push(mapping);
                    None
                }
                _ => Some(mapping),
            }
        };
        if let Some(orphan) = orphan {
            // Released (or re-allocated) while the port was being mapped.
            self.mapper.unmap(orphan).await;
            return job.fail(ErrorKind::Conflict, format!("{id} released its network while a port was mapped")).await;
        }
        let mut out = Env::new();
        out.set(env::HOST_IP, hip.to_string());
        out.set_int(env::HOST_PORT, i64::from(hport));
        print_env(&job, &out).await
    }

    async fn link(self: Arc<Self>, job: Job) -> Status {
        let args = job.args();
        let action = match args.first().map(String::as_str) {
            Some("-I") => Action::Add,
            Some("-D") => Action::Delete,
            _ => return job.fail(ErrorKind::BadParameter, format!("Usage: {} -I|-D", job.name())).await,
        };
        let ignore = job.getenv_bool(env::IGNORE_ERRORS);
        let (parent, child) = match (job.getenv(env::PARENT_IP).parse(), job.getenv(env::CHILD_IP).parse()) {
            (Ok(p), Ok(c)) => (p, c),
            _ => {
                let (p, c) = (job.getenv(env::PARENT_IP), job.getenv(env::CHILD_IP));
                return job.fail(ErrorKind::BadParameter, format!("invalid ParentIP {p:?} or ChildIP {c:?}")).await;
            }
        };
        let ports = match parse_ports(&job.getenv_list(env::PORTS).unwrap_or_default()) {
            Ok(ports) => ports,
            Err(e) => return job.fail(ErrorKind::BadParameter, e).await,
        };
        // With --iptables=false there are no FORWARD rules to add to.
        let Some(ipt) = self.iptables.clone() else { return Status::OK };
        for (port, proto) in ports {
            let (ipt, bridge) = (ipt.clone(), self.bridge.clone());
            let done = portmapper::blocking(move || ipt.link(action, &bridge, proto, parent, child, port)).await;
            if let Err(e) = done
                && !ignore
            {
                return job.fail(ErrorKind::Internal, e).await;
            }
        }
        Status::OK
    }
}

/// The one container id argument.
fn container_arg(job: &Job) -> Option<String> {
    match job.args().as_slice() {
        [id] if !id.is_empty() => Some(id.clone()),
        _ => None,
    }
}

/// `allocate_port`'s env, checked.
#[derive(Debug, PartialEq)]
struct PortRequest {
    proto: Proto,
    host_ip: Ipv4Addr,
    host_port: u16,
    container_port: u16,
}

impl PortRequest {
    fn from_job(job: &Job, default_ip: Ipv4Addr) -> Result<PortRequest, String> {
        let proto = job.getenv(env::PROTO);
        let proto: Proto = proto.parse().map_err(|_| format!("unsupported address type {proto}"))?;
        let host_ip = match job.getenv(env::HOST_IP).as_str() {
            "" => default_ip,
            text => text.parse().map_err(|_| format!("invalid HostIP {text}: an IPv4 address is needed"))?,
        };
        let host_port = job.getenv_int(env::HOST_PORT);
        let host_port = u16::try_from(host_port).map_err(|_| format!("invalid HostPort {host_port}"))?;
        let container_port = job.getenv_int(env::CONTAINER_PORT);
        let container_port = u16::try_from(container_port)
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("invalid ContainerPort {container_port}"))?;
        Ok(PortRequest { proto, host_ip, host_port, container_port })
    }
}

/// `link`'s `Ports`: `80/tcp`, ...
fn parse_ports(list: &[String]) -> Result<Vec<(u16, Proto)>, String> {
    list.iter()
        .map(|p| {
            let bad = || format!("invalid port {p:?}: PORT/PROTO expected");
            let (port, proto) = p.split_once('/').ok_or_else(bad)?;
            Ok((port.parse().map_err(|_| bad())?, proto.parse().map_err(|_| bad())?))
        })
        .collect()
}

/// Go's `IPMask.String()`: the mask's bytes in hex (`ffff0000`).
fn mask_hex(network: Subnet) -> String {
    format!("{:08x}", network.mask())
}

/// Prints an output object; a caller that went away is an error.
async fn print_env(job: &Job, out: &Env) -> Status {
    match job.print(out.encode()).await {
        Ok(()) => Status::OK,
        Err(e) => job.fail(ErrorKind::Internal, format!("{}: writing the result: {e}", job.name())).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_port_lists() {
        assert_eq!(mask_hex("172.17.42.1/16".parse().unwrap()), "ffff0000");
        assert_eq!(mask_hex("10.0.0.1/25".parse().unwrap()), "ffffff80");
        assert_eq!(parse_ports(&["80/tcp".into(), "53/udp".into()]), Ok(vec![(80, Proto::Tcp), (53, Proto::Udp)]));
        assert!(parse_ports(&["80".into()]).is_err());
        assert!(parse_ports(&["x/tcp".into()]).is_err());
        assert!(parse_ports(&["80/sctp".into()]).is_err());
    }

    #[tokio::test]
    async fn port_requests_are_checked() {
        let eng = Engine::new();
        let job = |pairs: &[(&str, &str)]| {
            let job = eng.job(names::ALLOCATE_PORT, ["c1"]);
            for (k, v) in pairs {
                job.setenv(k, v);
            }
            job
        };
        let any = Ipv4Addr::UNSPECIFIED;
        let ok = job(&[(env::PROTO, "tcp"), (env::CONTAINER_PORT, "80")]);
        assert_eq!(
            PortRequest::from_job(&ok, any),
            Ok(PortRequest { proto: Proto::Tcp, host_ip: any, host_port: 0, container_port: 80 })
        );
        let explicit = job(&[
            (env::PROTO, "udp"),
            (env::CONTAINER_PORT, "53"),
            (env::HOST_IP, "127.0.0.1"),
            (env::HOST_PORT, "5353"),
        ]);
        assert_eq!(
            PortRequest::from_job(&explicit, any),
            Ok(PortRequest { proto: Proto::Udp, host_ip: Ipv4Addr::LOCALHOST, host_port: 5353, container_port: 53 })
        );
        let sctp = job(&[(env::PROTO, "sctp"), (env::CONTAINER_PORT, "80")]);
        assert_eq!(PortRequest::from_job(&sctp, any), Err("unsupported address type sctp".into()));
        for bad in [
            job(&[(env::PROTO, "tcp"), (env::CONTAINER_PORT, "0")]),
            job(&[(env::PROTO, "tcp"), (env::CONTAINER_PORT, "80"), (env::HOST_PORT, "70000")]),
            job(&[(env::PROTO, "tcp"), (env::CONTAINER_PORT, "80"), (env::HOST_IP, "::1")]),
        ] {
            assert!(PortRequest::from_job(&bad, any).is_err());
        }
    }

    #[tokio::test]
    async fn interfaces_are_handed_out_once_and_released() {
        // No iptables, no bridge: the allocation logic alone.
        let eng = Engine::new();
        eng.set_logging(false);
        let pool: Subnet = "10.77.0.0/29".parse().unwrap();
        let d = Arc::new(Driver::new("tbr9", "10.77.0.1/29".parse().unwrap(), pool, Ipv4Addr::LOCALHOST, None));
        d.install(&eng).unwrap();
        let allocate = |id: &str| {
            let job = eng.job(names::ALLOCATE_INTERFACE, [id]);
            let out = job.stdout().add_env();
            async move { job.run().await.map(|()| out.get()) }
        };
        let a = allocate("a").await.unwrap();
        assert_eq!(a.get(env::IP), "10.77.0.2");
        assert_eq!((a.get(env::GATEWAY), a.get(env::BRIDGE), a.get(env::MASK)), ("10.77.0.1", "tbr9", "fffffff8"));
        assert_eq!((a.get_int(env::IP_PREFIX_LEN), a.get(env::MAC_ADDRESS)), (29, "02:42:0a:4d:00:02"));
        let b = allocate("b").await.unwrap();
        assert_eq!(b.get(env::IP), "10.77.0.3");
        // Again for "a" without a release: its old address is given back.
        assert_eq!(allocate("a").await.unwrap().get(env::IP), "10.77.0.4");
        for id in ["c", "d"] {
            allocate(id).await.unwrap();
        }
        assert_eq!(allocate("e").await.unwrap().get(env::IP), "10.77.0.2", "a's first address was freed");
        assert_eq!(allocate("f").await.unwrap_err().message, "no available ip addresses on network");
        eng.job(names::RELEASE_INTERFACE, ["b"]).run().await.unwrap();
        let again = eng.job(names::RELEASE_INTERFACE, ["b"]).run().await.unwrap_err();
        assert_eq!(
            (again.message.as_str(), again.kind),
            ("No network information to release for b", ErrorKind::NotFound)
        );
        assert_eq!(allocate("f").await.unwrap().get(env::IP), "10.77.0.3");
        let port = eng.job(names::ALLOCATE_PORT, ["nobody"]);
        port.setenv(env::PROTO, "tcp");
        port.setenv(env::CONTAINER_PORT, "80");
        assert_eq!(port.run().await.unwrap_err().message, "No network information for nobody");
    }
}
