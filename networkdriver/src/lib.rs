//! Docker 1.2's bridge network driver (`daemon/networkdriver/`): the
//! allocators — IPv4 addresses from the bridge's subnet ([`IpAllocator`]),
//! the MAC derived from an address ([`mac_for`]), and host ports for
//! published container ports ([`PortAllocator`]) — the choice of a new
//! bridge's subnet ([`bridge_network`]), the bridge itself over rtnetlink
//! ([`bridge`]), the userland proxy of a published port ([`proxy`]), the
//! iptables rules ([`iptables`]), the port mapper that ties a port, a proxy
//! and its rules together ([`portmapper`]), and the jobs:
//! `init_networkdriver` ([`install`]) and the four it registers when it runs
//! (`allocate_interface`, `release_interface`, `allocate_port`, `link`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bridge;
pub mod bridge_network;
mod driver;
mod init;
mod ipallocator;
pub mod iptables;
mod mac;
mod portallocator;
pub mod portmapper;
pub mod proxy;

pub use driver::{Driver, MAX_PORT_ATTEMPTS};
pub use init::{DEFAULT_BRIDGE, InitOptions, address_pool, check_existing, install};
pub use ipallocator::{IpAllocator, IpAllocatorError, Subnet};
pub use mac::mac_for;
pub use portallocator::{BEGIN_PORT_RANGE, END_PORT_RANGE, PortAllocator, PortAllocatorError, Proto};
