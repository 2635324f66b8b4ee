//! IPv4 addresses for containers from the bridge's subnet (Docker 1.2's
//! `ipallocator`): never the network address, the broadcast address or the
//! bridge's own (gateway) address; allocation goes round the subnet from
//! the last address handed out, so a released address is reused last;
//! explicit requests (a restarted daemon re-claiming a running container's
//! address) are checked. One lock for all subnets: allocation is a few
//! map operations.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use parking_lot::Mutex;

/// An IPv4 subnet given by an address in it and a prefix length
/// (`172.17.42.1/16`: the bridge's address and its network).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subnet {
    /// The address written with the subnet (the bridge's own address when
    /// it came from `--bip`).
    pub addr: Ipv4Addr,
    /// Prefix length, 0 to 32.
    pub prefix: u8,
}

impl Subnet {
    /// The subnet mask as a number.
    pub fn mask(&self) -> u32 {
        if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) }
    }

    /// The network address (all host bits 0).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    /// The broadcast address (all host bits 1).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }

    /// Whether `ip` is in the subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network())
    }

    /// Whether the two subnets share any address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.network()) || other.contains(self.network())
    }

    /// How many addresses it holds.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = IpAllocatorError;

    /// `A.B.C.D/N`, as `--bip` and `--fixed-cidr` take it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IpAllocatorError::InvalidCidr(s.to_string());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > 32 || prefix.to_string() != prefix_text(s) {
            return Err(bad());
        }
        Ok(Subnet { addr, prefix })
    }
}

/// The prefix as written (so `/016` and `/+16` are refused like Go's
/// `ParseCIDR` refuses them).
fn prefix_text(s: &str) -> &str {
    s.split_once('/').map_or("", |(_, p)| p)
}

/// Why an address could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpAllocatorError {
    /// Every usable address of the subnet is taken (Docker 1.2's text).
    #[error("no available ip addresses on network")]
    NoAvailableIps,
    /// The requested address is taken (Docker 1.2's text).
    #[error("ip already allocated")]
    AlreadyAllocated,
    /// The requested address is not a usable address of the subnet.
    #[error("{ip} is not a usable address in {subnet}")]
    OutOfRange {
        /// The address asked for.
        ip: Ipv4Addr,
        /// The subnet.
        subnet: String,
    },
    /// Not an `A.B.C.D/N` CIDR.
    #[error("invalid CIDR address: {0}")]
    InvalidCidr(String),
}

/// The allocated addresses of one subnet, by offset from its network
/// address, and where the last allocation stopped.
#[derive(Debug, Default)]
struct Allocated {
    taken: BTreeSet<u32>,
    last: u32,
}

/// Hands out addresses of any number of subnets; safe to share.
#[derive(Debug, Default)]
pub struct IpAllocator {
    subnets: Mutex<BTreeMap<Subnet, Allocated>>,
}

impl IpAllocator {
    /// An allocator with nothing taken.
    pub fn new() -> IpAllocator {
        IpAllocator::default()
    }

    /// The next free address of `subnet` after the last one handed out,
    /// skipping the network, broadcast and gateway (`gateway`, the
    /// bridge's address) addresses.
    pub fn request(&self, subnet: Subnet, gateway: Ipv4Addr) -> Result<Ipv4Addr, IpAllocatorError> {
        let key = Subnet { addr: subnet.network(), prefix: subnet.prefix };
        let mut subnets = self.subnets.lock();
        let allocated = subnets.entry(key).or_default();
        // Host offsets run from 1 to size-2: 0 is the network, size-1 the
        // broadcast address. A /31 or /32 has none.
        let max = subnet.size().saturating_sub(2);
        let base = u32::from(subnet.network());
        let mut pos = allocated.last;
        for _ in 0..max {
            pos = (pos % max as u32) + 1;
            let ip = Ipv4Addr::from(base + pos);
            // The first host address is skipped too, as Docker 1.2 did (it
            // is where a network's gateway usually lives): with docker0 on
            // 172.17.42.1/16 the first container is 172.17.0.2.
            if ip == gateway || pos == 1 || allocated.taken.contains(&pos) {
                continue;
            }
            allocated.taken.insert(pos);
            allocated.last = pos;
            return Ok(ip);
        }
        Err(IpAllocatorError::NoAvailableIps)
    }

    /// Takes exactly `ip`, if it is a free usable address of `subnet`.
    pub fn request_ip(&self, subnet: Subnet, gateway: Ipv4Addr, ip: Ipv4Addr) -> Result<(), IpAllocatorError> {
        let usable = subnet.contains(ip) && ip != subnet.network() && ip != subnet.broadcast() && ip != gateway;
        if !usable {
            return Err(IpAllocatorError::OutOfRange { ip, subnet: subnet.to_string() });
        }
        let key = Subnet { addr: subnet.network(), prefix: subnet.prefix };
        let mut subnets = self.subnets.lock();
        let allocated = subnets.entry(key).or_default();
        let pos = u32::from(ip) - u32::from(subnet.network());
        if !allocated.taken.insert(pos) {
            return Err(IpAllocatorError::AlreadyAllocated);
        }
        allocated.last = pos;
        Ok(())
    }

    /// Gives `ip` back; releasing a free address is not an error.
    pub fn release(&self, subnet: Subnet, ip: Ipv4Addr) {
        let key = Subnet { addr: subnet.network(), prefix: subnet.prefix };
        if let Some(allocated) = self.subnets.lock().get_mut(&key)
            && subnet.contains(ip)
        {
            allocated.taken.remove(&(u32::from(ip) - u32::from(subnet.network())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(s: &str) -> Subnet {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs_parse_and_describe_their_range() {
        let s = subnet("172.17.42.1/16");
        assert_eq!((s.network(), s.broadcast()), (Ipv4Addr::new(172, 17, 0, 0), Ipv4Addr::new(172, 17, 255, 255)));
        assert!(s.contains(Ipv4Addr::new(172, 17, 3, 4)) && !s.contains(Ipv4Addr::new(172, 18, 0, 1)));
        assert!(s.overlaps(&subnet("172.17.5.0/24")) && !s.overlaps(&subnet("10.0.0.0/8")));
        assert_eq!(s.to_string(), "172.17.42.1/16");
        for bad in ["172.17.42.1", "172.17.42.1/33", "172.17.42/16", "x/8", "10.0.0.1/016", "10.0.0.1/+8", ""] {
            assert_eq!(bad.parse::<Subnet>(), Err(IpAllocatorError::InvalidCidr(bad.to_string())), "{bad}");
        }
        assert_eq!(subnet("0.0.0.0/0").size(), 1 << 32);
    }

    #[test]
    fn never_network_gateway_or_broadcast_and_released_addresses_come_last() {
        let a = IpAllocator::new();
        let net = subnet("10.9.0.1/29"); // .0 network, .1 gateway, .7 broadcast
        let gw = Ipv4Addr::new(10, 9, 0, 1);
        let got: Vec<Ipv4Addr> = (0..5).map(|_| a.request(net, gw).unwrap()).collect();
        assert_eq!(got, (2..=6).map(|d| Ipv4Addr::new(10, 9, 0, d)).collect::<Vec<_>>());
        assert_eq!(a.request(net, gw), Err(IpAllocatorError::NoAvailableIps));
        a.release(net, Ipv4Addr::new(10, 9, 0, 3));
        a.release(net, Ipv4Addr::new(10, 9, 0, 5));
        // The search goes on from .6, so .3 comes back before .5, both
        // only once nothing newer is free.
        assert_eq!(a.request(net, gw), Ok(Ipv4Addr::new(10, 9, 0, 3)));
        assert_eq!(a.request(net, gw), Ok(Ipv4Addr::new(10, 9, 0, 5)));
        assert_eq!(a.request(net, gw), Err(IpAllocatorError::NoAvailableIps));
    }

    #[test]
    fn the_first_host_address_is_skipped_as_in_1_2() {
        let a = IpAllocator::new();
        let net = subnet("172.17.42.1/16");
        let gw = Ipv4Addr::new(172, 17, 42, 1);
        assert_eq!(a.request(net, gw), Ok(Ipv4Addr::new(172, 17, 0, 2)));
        assert_eq!(a.request(net, gw), Ok(Ipv4Addr::new(172, 17, 0, 3)));
    }

    #[test]
    fn explicit_requests_are_checked() {
        let a = IpAllocator::new();
        let net = subnet("192.168.5.1/24");
        let gw = Ipv4Addr::new(192, 168, 5, 1);
        assert_eq!(a.request_ip(net, gw, Ipv4Addr::new(192, 168, 5, 10)), Ok(()));
        assert_eq!(a.request_ip(net, gw, Ipv4Addr::new(192, 168, 5, 10)), Err(IpAllocatorError::AlreadyAllocated));
        for bad in [[192, 168, 5, 0], [192, 168, 5, 255], [192, 168, 5, 1], [192, 168, 6, 2]] {
            assert!(matches!(a.request_ip(net, gw, Ipv4Addr::from(bad)), Err(IpAllocatorError::OutOfRange { .. })));
        }
        // Allocation continues after the explicit one.
        assert_eq!(a.request(net, gw), Ok(Ipv4Addr::new(192, 168, 5, 11)));
        a.release(net, Ipv4Addr::new(192, 168, 5, 10));
        assert_eq!(a.request_ip(net, gw, Ipv4Addr::new(192, 168, 5, 10)), Ok(()));
    }

    #[test]
    fn concurrent_requests_never_share_an_address() {
        let a = std::sync::Arc::new(IpAllocator::new());
        let net = subnet("10.1.0.1/22");
        let gw = Ipv4Addr::new(10, 1, 0, 1);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let a = a.clone();
                std::thread::spawn(move || (0..200).map(|_| a.request(net, gw).unwrap()).collect::<Vec<_>>())
            })
            .collect();
        let all: Vec<Ipv4Addr> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let distinct: BTreeSet<Ipv4Addr> = all.iter().copied().collect();
        assert_eq!((all.len(), distinct.len()), (800, 800));
        assert!(!distinct.contains(&gw));
    }
}
