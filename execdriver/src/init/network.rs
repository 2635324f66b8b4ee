//! The container's side of its network, run by pid 1 in its own network
//! namespace: `lo` up during setup (every mode with a namespace of its
//! own), and for a bridged container the half of Docker 1.2's `veth`
//! strategy that ran inside (`Veth.Initialize`): once the daemon has moved
//! our end of the pair in and sent `Go`, it becomes a configured `eth0`.
//! One rtnetlink socket serves both steps.

use std::io;

use crate::command::BridgeNetwork;
use crate::netlink::{Link, Netlink, parse_mac};

/// The name the container end takes (Docker's `defaultDevice`).
const DEVICE: &str = "eth0";

/// The socket, opened in the container's namespace before anything else.
pub(super) struct Network {
    nl: Netlink,
}

impl Network {
    pub(super) fn open() -> io::Result<Network> {
        Ok(Network { nl: Netlink::open()? })
    }

    /// `lo` is always ifindex 1 in a new network namespace.
    pub(super) fn loopback_up(&mut self) -> io::Result<()> {
        self.nl.set_up(&Link { index: 1, name: "lo".into() })
    }

    /// Our veth end (`net.peer`) renamed `eth0`, its MAC set, the address
    /// added, up, and the default route via the bridge. The MTU came with
    /// the pair (the daemon made both ends with it).
    pub(super) fn configure_eth0(&mut self, net: &BridgeNetwork) -> io::Result<()> {
        let nl = &mut self.nl;
        let mut link = nl.link(&net.peer)?;
        nl.rename(&mut link, DEVICE)?;
        if !net.mac.is_empty() {
            // The daemon checked it before making the pair.
            let mac = parse_mac(&net.mac).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("invalid MAC address {}", net.mac))
            })?;
            nl.set_address(&link, mac)?;
        }
        nl.add_ipv4_address(&link, net.ip, net.prefix_len)?;
        nl.set_up(&link)?;
        nl.add_default_route(&link, net.gateway)
    }
}
