//! A published port (Docker 1.2's `portmapper`): the host port reserved in
//! the [`PortAllocator`], the userland [`proxy`](crate::proxy) listening on
//! it, and the DNAT and accept rules of the `DOCKER` chains. [`PortMapper::map`]
//! sets up all three or none; [`PortMapper::unmap`] takes them down.
//!
//! Departure: the proxy runs inside the daemon (Docker 1.2 ran it in the
//! daemon too; later versions forked `docker-proxy`), and it is started
//! before the rules are added, so a port someone else holds fails before
//! any rule exists. A bind failure carries today's dockerd text.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use crate::iptables::{Action, Iptables, IptablesError};
use crate::portallocator::{PortAllocator, PortAllocatorError, Proto};
use crate::proxy::{self, Proxy};

/// Why a port could not be mapped.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// No host port (taken, or the range is exhausted).
    #[error(transparent)]
    Port(#[from] PortAllocatorError),
    /// The proxy could not listen on the host port (today's dockerd text).
    #[error("Error starting userland proxy: listen {proto} {ip}:{port}: {reason}")]
    Proxy {
        /// The protocol.
        proto: Proto,
        /// The host address.
        ip: Ipv4Addr,
        /// The host port.
        port: u16,
        /// Go's wording of the bind error (`bind: address already in use`).
        reason: String,
        /// Whether another socket holds the port.
        busy: bool,
    },
    /// The DNAT or accept rule could not be added.
    #[error(transparent)]
    Iptables(#[from] IptablesError),
}

impl MapError {
    /// True when the host port was held by someone else, so that another
    /// port may do (with `HostPort` 0).
    pub fn port_busy(&self) -> bool {
        matches!(self, MapError::Port(PortAllocatorError::AlreadyAllocated { .. }) | MapError::Proxy { busy: true, .. })
    }
}

/// One published port, live until unmapped (its proxy stops when the
/// mapping is dropped, but its rules and port stay until
/// [`PortMapper::unmap`], which also waits for the proxy's listener to
/// close so that the port can be mapped again at once).
#[derive(Debug)]
pub struct Mapping {
    /// The protocol.
    pub proto: Proto,
    /// The host address it listens on.
    pub host_ip: Ipv4Addr,
    /// The host port.
    pub host_port: u16,
    /// The container's address.
    pub container_ip: Ipv4Addr,
    /// The container's port.
    pub container_port: u16,
    proxy: Proxy,
}

/// Maps ports for containers on `bridge`.
#[derive(Debug)]
pub struct PortMapper {
    bridge: String,
    ports: PortAllocator,
    /// `None` with `--iptables=false`: only the proxy then.
    iptables: Option<Iptables>,
}

impl PortMapper {
    /// A mapper for the bridge; rules only when `iptables` is given.
    pub fn new(bridge: &str, iptables: Option<Iptables>) -> PortMapper {
        PortMapper { bridge: bridge.to_string(), ports: PortAllocator::new(), iptables }
    }

    /// Publishes `container_ip:container_port` on `host_ip:host_port` (0:
    /// the next free port of the ephemeral range). Nothing is left behind
    /// on failure.
    pub async fn map(
        &self,
        proto: Proto,
        host_ip: Ipv4Addr,
        host_port: u16,
        container_ip: Ipv4Addr,
        container_port: u16,
    ) -> Result<Mapping, MapError> {
        let port = self.ports.request(host_ip, proto, host_port)?;
        let frontend = SocketAddr::from((host_ip, port));
        let backend = SocketAddr::from((container_ip, container_port));
        let started = match proto {
            Proto::Tcp => proxy::tcp(frontend, backend).await,
            Proto::Udp => proxy::udp(frontend, backend).await,
        };
        let proxy = match started {
            Ok(proxy) => proxy,
            Err(e) => {
                self.ports.release(host_ip, proto, port);
                return Err(MapError::Proxy {
                    proto,
                    ip: host_ip,
                    port,
                    reason: go_bind_error(&e),
                    busy: e.kind() == io::ErrorKind::AddrInUse,
                });
            }
        };
        let mapping = Mapping { proto, host_ip, host_port: port, container_ip, container_port, proxy };
        if let Err(e) = self.rules(Action::Add, &mapping).await {
            // Half an add (the DNAT without the accept) is taken back too.
            let _ = self.rules(Action::Delete, &mapping).await;
            self.ports.release(host_ip, proto, port);
            return Err(e.into());
        }
        Ok(mapping)
    }

    /// Takes a mapping down: proxy stopped, rules deleted, port freed. A
    /// rule that cannot be deleted is logged; the rest goes on.
    pub async fn unmap(&self, mapping: Mapping) {
        let (proto, ip, port) = (mapping.proto, mapping.host_ip, mapping.host_port);
        if let Err(e) = self.rules(Action::Delete, &mapping).await {
            tracing::warn!(%proto, host_ip = %ip, host_port = port, error = %e, "could not delete a port's iptables rules");
        }
        mapping.proxy.stop().await;
        self.ports.release(ip, proto, port);
    }

    /// Adds or deletes the DNAT and accept rules of `m` (a blocking
    /// `iptables` run, off the runtime's threads).
    async fn rules(&self, action: Action, m: &Mapping) -> Result<(), IptablesError> {
        let Some(ipt) = self.iptables.clone() else { return Ok(()) };
        let bridge = self.bridge.clone();
        let (proto, hip, hport, cip, cport) = (m.proto, m.host_ip, m.host_port, m.container_ip, m.container_port);
        blocking(move || ipt.forward(action, &bridge, proto, hip, hport, cip, cport)).await
    }
}

/// Runs an `iptables` call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, IptablesError> + Send + 'static,
) -> Result<T, IptablesError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(IptablesError { args: String::new(), output: format!("iptables task failed: {e}") }))
}

/// Go's wording of a failed bind: `bind: address already in use` (its
/// syscall error texts are the C library's, starting in lower case).
fn go_bind_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = io::Error::from_raw_os_error(code).to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            let lowered: String = chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default();
            format!("bind: {lowered}")
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_errors_read_as_go_writes_them() {
        let e = io::Error::from_raw_os_error(98);
        assert_eq!(go_bind_error(&e), "bind: address already in use");
        let err = MapError::Proxy {
            proto: Proto::Tcp,
            ip: Ipv4Addr::UNSPECIFIED,
            port: 80,
            reason: go_bind_error(&e),
            busy: true,
        };
        assert_eq!(
            err.to_string(),
            "Error starting userland proxy: listen tcp 0.0.0.0:80: bind: address already in use"
        );
        assert!(err.port_busy());
        assert!(!MapError::Port(PortAllocatorError::AllPortsAllocated).port_busy());
    }

    #[tokio::test]
    async fn a_held_port_fails_and_is_given_back_and_a_free_one_maps() {
        // Without iptables only the allocator and the proxy are involved,
        // so this runs anywhere, on loopback.
        let mapper = PortMapper::new("nobr0", None);
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let err = mapper.map(Proto::Tcp, Ipv4Addr::LOCALHOST, port, Ipv4Addr::LOCALHOST, 9).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("Error starting userland proxy: listen tcp 127.0.0.1:{port}: bind: address already in use")
        );
        drop(held);
        let m = mapper.map(Proto::Tcp, Ipv4Addr::LOCALHOST, port, Ipv4Addr::LOCALHOST, 9).await.unwrap();
        assert_eq!(m.host_port, port, "the failed attempt released the port");
        let again = mapper.map(Proto::Tcp, Ipv4Addr::LOCALHOST, port, Ipv4Addr::LOCALHOST, 9).await.unwrap_err();
        assert_eq!(again.to_string(), format!("Bind for 127.0.0.1:{port} failed: port is already allocated"));
        mapper.unmap(m).await;
        let m = mapper.map(Proto::Tcp, Ipv4Addr::LOCALHOST, port, Ipv4Addr::LOCALHOST, 9).await.unwrap();
        mapper.unmap(m).await;
    }
}
