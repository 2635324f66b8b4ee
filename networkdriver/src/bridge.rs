//! The bridge interface itself, over rtnetlink (Docker 1.2's
//! `networkdriver.GetIfaceAddr` and `createBridge`, which used
//! libcontainer's netlink package): look an interface up by name, read its
//! IPv4 address, create a bridge with an address and bring it up.
//!
//! Departures: the new bridge's MAC is derived from its own address
//! ([`mac_for`]) instead of being random — it is still fixed at creation, so
//! the bridge does not take over the lowest port's MAC as veths come and go
//! (the reason Docker set one), and it cannot clash with a container's,
//! which are derived from the other addresses of the subnet. A bridge whose
//! address or bring-up fails is deleted again instead of being left behind.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use futures_util::TryStreamExt;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::{Handle, LinkBridge, LinkUnspec};
use tokio::task::JoinHandle;

use crate::ipallocator::Subnet;
use crate::mac::mac_for;

/// `ENODEV`: the kernel's answer to a link asked for by a name it lacks.
const ENODEV: i32 = 19;

/// What went wrong with the bridge interface.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The netlink socket could not be opened.
    #[error("opening a netlink socket: {0}")]
    Connect(#[source] io::Error),
    /// A netlink request about interface `name` failed.
    #[error("{what} {name}: {source}")]
    Netlink {
        /// What was being done (`creating bridge`, ...).
        what: &'static str,
        /// The interface.
        name: String,
        /// The kernel's answer.
        #[source]
        source: rtnetlink::Error,
    },
    /// The interface was just created but cannot be found.
    #[error("bridge {0} vanished right after it was created")]
    Vanished(String),
}

/// A netlink connection in the caller's network namespace (the one of the
/// thread that opened it), closed when dropped.
pub struct Netlink {
    handle: Handle,
    connection: JoinHandle<()>,
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl Netlink {
    /// Opens the connection; its I/O runs as a task on the current runtime.
    pub fn connect() -> Result<Netlink, BridgeError> {
        let (connection, handle, _) = rtnetlink::new_connection().map_err(BridgeError::Connect)?;
        Ok(Netlink { handle, connection: tokio::spawn(connection) })
    }

    /// The index of the interface called `name`, if there is one.
    pub async fn link_index(&self, name: &str) -> Result<Option<u32>, BridgeError> {
        let mut links = self.handle.link().get().match_name(name.to_string()).execute();
        match links.try_next().await {
            Ok(link) => Ok(link.map(|l| l.header.index)),
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code().abs() == ENODEV => Ok(None),
            Err(source) => Err(BridgeError::Netlink { what: "looking up interface", name: name.to_string(), source }),
        }
    }

    /// Every IPv4 address of interface `index`, with its prefix, in the
    /// kernel's order (the primary one first).
    pub async fn ipv4_addrs(&self, index: u32, name: &str) -> Result<Vec<Subnet>, BridgeError> {
        let err = |source| BridgeError::Netlink { what: "reading the addresses of", name: name.to_string(), source };
        let mut msgs = self.handle.address().get().set_link_index_filter(index).execute();
        let mut found = Vec::new();
        while let Some(msg) = msgs.try_next().await.map_err(err)? {
            // The filter is applied in user space by rtnetlink; check anyway.
            if msg.header.index != index || msg.header.family != AddressFamily::Inet {
                continue;
            }
            let addr = msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::Local(IpAddr::V4(ip)) | AddressAttribute::Address(IpAddr::V4(ip)) => Some(*ip),
                _ => None,
            });
            if let Some(addr) = addr {
                found.push(Subnet { addr, prefix: msg.header.prefix_len });
            }
        }
        Ok(found)
    }

    /// Creates bridge `name` with address `addr` and brings it up; on any
    /// failure the half-made bridge is deleted again.
    pub async fn create_bridge(&self, name: &str, addr: Subnet) -> Result<(), BridgeError> {
        let mac = mac_bytes(addr.addr);
        let err = |what| move |source| BridgeError::Netlink { what, name: name.to_string(), source };
        self.handle
            .link()
            .add(LinkBridge::new(name).address(mac.to_vec()).build())
            .execute()
            .await
            .map_err(err("creating bridge"))?;
        let index = self.link_index(name).await?.ok_or_else(|| BridgeError::Vanished(name.to_string()))?;
        let configured = async {
            self.handle
                .address()
                .add(index, IpAddr::V4(addr.addr), addr.prefix)
                .execute()
                .await
                .map_err(err("adding its address to bridge"))?;
            self.handle
                .link()
                .set(LinkUnspec::new_with_index(index).up().build())
                .execute()
                .await
                .map_err(err("bringing up bridge"))
        }
        .await;
        if configured.is_err() {
            // Best effort: the error being reported is the one that matters.
            let _ = self.handle.link().del(index).execute().await;
        }
        configured
    }

    /// Deletes interface `name` if it exists (for tests and clean-ups).
    pub async fn delete_link(&self, name: &str) -> Result<(), BridgeError> {
        if let Some(index) = self.link_index(name).await? {
            self.handle.link().del(index).execute().await.map_err(|source| BridgeError::Netlink {
                what: "deleting interface",
                name: name.to_string(),
                source,
            })?;
        }
        Ok(())
    }
}

/// The six bytes of [`mac_for`]`(ip)`.
fn mac_bytes(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    let bytes = [0x02, 0x42, a, b, c, d];
    debug_assert_eq!(
        mac_for(ip),
        bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
        "the same MAC as a container with this address would get"
    );
    bytes
}
