//! Docker 1.2's bridge network driver (`daemon/networkdriver/`): the
//! allocators first — IPv4 addresses from the bridge's subnet
//! ([`IpAllocator`]), the MAC derived from an address ([`mac_for`]), and
//! host ports for published container ports ([`PortAllocator`]) — and the
//! choice of a new bridge's subnet ([`bridge_network`]), and the userland
//! proxy of a published port ([`proxy`]), the iptables rules
//! ([`iptables`]). The bridge interface itself (netlink) and the
//! jobs are still to come.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bridge_network;
mod ipallocator;
pub mod iptables;
mod mac;
mod portallocator;
pub mod proxy;

pub use ipallocator::{IpAllocator, IpAllocatorError, Subnet};
pub use mac::mac_for;
pub use portallocator::{BEGIN_PORT_RANGE, END_PORT_RANGE, PortAllocator, PortAllocatorError, Proto};
