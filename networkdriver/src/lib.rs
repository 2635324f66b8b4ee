//! Docker 1.2's bridge network driver (`daemon/networkdriver/`): the
//! allocators first — IPv4 addresses from the bridge's subnet
//! ([`IpAllocator`]), the MAC derived from an address ([`mac_for`]), and
//! host ports for published container ports ([`PortAllocator`]). The bridge
//! set-up, the port mapper and links, with their jobs, come with the
//! networking issue.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ipallocator;
mod mac;
mod portallocator;

pub use ipallocator::{IpAllocator, IpAllocatorError, Subnet};
pub use mac::mac_for;
pub use portallocator::{BEGIN_PORT_RANGE, END_PORT_RANGE, PortAllocator, PortAllocatorError, Proto};
