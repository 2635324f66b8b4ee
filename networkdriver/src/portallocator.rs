//! Host ports for published container ports (Docker 1.2's
//! `portallocator`): `-P` and `-p CONTAINERPORT` get the next free port of
//! the ephemeral range 49153–65535, going round from the last one handed
//! out; an explicit `-p HOSTPORT:…` is checked for conflicts. A port bound
//! on every address (`0.0.0.0`) conflicts with the same port on any one
//! address and the reverse, as the kernel would refuse the second bind
//! (Docker 1.2 only compared equal address strings).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use parking_lot::Mutex;

/// The first port of the range handed out when none is asked for.
pub const BEGIN_PORT_RANGE: u16 = 49153;
/// The last port of that range.
pub const END_PORT_RANGE: u16 = 65535;

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl FromStr for Proto {
    type Err = PortAllocatorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            _ => Err(PortAllocatorError::UnknownProtocol),
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// Why a port could not be had (Docker 1.2's texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortAllocatorError {
    /// Every port of the ephemeral range is taken on that address.
    #[error("all ports are allocated")]
    AllPortsAllocated,
    /// Neither `tcp` nor `udp`.
    #[error("unknown protocol")]
    UnknownProtocol,
    /// The explicit port is taken.
    #[error("Bind for {ip}:{port} failed: port is already allocated")]
    AlreadyAllocated {
        /// The address asked for.
        ip: Ipv4Addr,
        /// The port asked for.
        port: u16,
    },
}

#[derive(Debug, Default)]
struct State {
    /// (address, protocol) → ports taken on it.
    taken: BTreeMap<(Ipv4Addr, Proto), BTreeSet<u16>>,
    /// (address, protocol) → the last port handed out from the range.
    last: BTreeMap<(Ipv4Addr, Proto), u16>,
}

impl State {
    fn in_use(&self, ip: Ipv4Addr, proto: Proto, port: u16) -> bool {
        let held = |addr: Ipv4Addr| self.taken.get(&(addr, proto)).is_some_and(|ports| ports.contains(&port));
        if ip.is_unspecified() {
            self.taken.iter().any(|((_, p), ports)| *p == proto && ports.contains(&port))
        } else {
            held(ip) || held(Ipv4Addr::UNSPECIFIED)
        }
    }
}

/// Hands out host ports; safe to share.
#[derive(Debug, Default)]
pub struct PortAllocator {
    state: Mutex<State>,
}

impl PortAllocator {
    /// An allocator with nothing taken.
    pub fn new() -> PortAllocator {
        PortAllocator::default()
    }

    /// `port` on `ip` for `proto`, or with `port` 0 the next free port of
    /// the ephemeral range after the last one handed out there.
    pub fn request(&self, ip: Ipv4Addr, proto: Proto, port: u16) -> Result<u16, PortAllocatorError> {
        let mut state = self.state.lock();
        if port != 0 {
            if state.in_use(ip, proto, port) {
                return Err(PortAllocatorError::AlreadyAllocated { ip, port });
            }
            state.taken.entry((ip, proto)).or_default().insert(port);
            return Ok(port);
        }
        let last = state.last.get(&(ip, proto)).copied().unwrap_or(END_PORT_RANGE);
        let span = u32::from(END_PORT_RANGE - BEGIN_PORT_RANGE) + 1;
        for step in 1..=span {
            let offset = (u32::from(last.max(BEGIN_PORT_RANGE) - BEGIN_PORT_RANGE) + step) % span;
            let candidate = BEGIN_PORT_RANGE + offset as u16;
            if state.in_use(ip, proto, candidate) {
                continue;
            }
            state.taken.entry((ip, proto)).or_default().insert(candidate);
            state.last.insert((ip, proto), candidate);
            return Ok(candidate);
        }
        Err(PortAllocatorError::AllPortsAllocated)
    }

    /// Gives a port back; releasing a free one is not an error.
    pub fn release(&self, ip: Ipv4Addr, proto: Proto, port: u16) {
        if let Some(ports) = self.state.lock().taken.get_mut(&(ip, proto)) {
            ports.remove(&port);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;
    const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

    #[test]
    fn the_range_is_handed_out_in_turn_and_released_ports_come_last() {
        let a = PortAllocator::new();
        assert_eq!(a.request(ANY, Proto::Tcp, 0), Ok(BEGIN_PORT_RANGE));
        assert_eq!(a.request(ANY, Proto::Tcp, 0), Ok(BEGIN_PORT_RANGE + 1));
        a.release(ANY, Proto::Tcp, BEGIN_PORT_RANGE);
        assert_eq!(a.request(ANY, Proto::Tcp, 0), Ok(BEGIN_PORT_RANGE + 2), "not the one just released");
        // Each protocol has its own ports.
        assert_eq!(a.request(ANY, Proto::Udp, 0), Ok(BEGIN_PORT_RANGE));
    }

    #[test]
    fn explicit_ports_conflict_as_binds_would() {
        let a = PortAllocator::new();
        assert_eq!(a.request(LO, Proto::Tcp, 8080), Ok(8080));
        let taken = PortAllocatorError::AlreadyAllocated { ip: LO, port: 8080 };
        assert_eq!(a.request(LO, Proto::Tcp, 8080), Err(taken));
        assert_eq!(
            a.request(ANY, Proto::Tcp, 8080),
            Err(PortAllocatorError::AlreadyAllocated { ip: ANY, port: 8080 }),
            "every address includes 127.0.0.1"
        );
        assert_eq!(a.request(Ipv4Addr::new(10, 0, 0, 1), Proto::Tcp, 8080), Ok(8080), "another address is free");
        assert_eq!(a.request(LO, Proto::Udp, 8080), Ok(8080), "udp is apart");
        assert_eq!(
            PortAllocatorError::AlreadyAllocated { ip: LO, port: 8080 }.to_string(),
            "Bind for 127.0.0.1:8080 failed: port is already allocated"
        );
        a.release(LO, Proto::Tcp, 8080);
        a.release(Ipv4Addr::new(10, 0, 0, 1), Proto::Tcp, 8080);
        assert_eq!(a.request(ANY, Proto::Tcp, 8080), Ok(8080));
        assert!(a.request(LO, Proto::Tcp, 8080).is_err(), "and now 0.0.0.0 holds it for 127.0.0.1 too");
        assert_eq!("sctp".parse::<Proto>(), Err(PortAllocatorError::UnknownProtocol));
    }

    #[test]
    fn the_range_runs_out_and_wraps() {
        let a = PortAllocator::new();
        let span = usize::from(END_PORT_RANGE - BEGIN_PORT_RANGE) + 1;
        let got: BTreeSet<u16> = (0..span).map(|_| a.request(ANY, Proto::Tcp, 0).unwrap()).collect();
        assert_eq!(got.len(), span);
        assert_eq!(a.request(ANY, Proto::Tcp, 0), Err(PortAllocatorError::AllPortsAllocated));
        a.release(ANY, Proto::Tcp, 50000);
        assert_eq!(a.request(ANY, Proto::Tcp, 0), Ok(50000), "the search wraps round to it");
    }
}
