//! A small synchronous rtnetlink client (the part of Docker 1.2's
//! `libcontainer/netlink` the `veth` network strategy used): one blocking
//! `NETLINK_ROUTE` socket, one request at a time, each sent with
//! `NLM_F_ACK` and answered by the kernel before the call returns.
//!
//! Used on both sides of a container start: the daemon makes the veth pair,
//! puts the host end on the bridge and moves the other end into the
//! container's network namespace; the container's init brings `lo` up and
//! turns its end into a configured `eth0`. It is synchronous on purpose: the
//! daemon calls it from the blocking start handshake and the init is
//! single-threaded, so an async netlink stack would only add threads.
//!
//! Errors are `io::Error`s whose text names the operation and the
//! interface (`setting the master of veth1a2b3c4 to 7: no such device`);
//! their kind follows the errno the kernel returned.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// Large enough for any reply we ask for: a single link's RTM_NEWLINK
/// (statistics included) is a few KiB.
const RECV_BUFFER: usize = 32 * 1024;

/// A network interface as the kernel knows it in the socket's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub index: u32,
    pub name: String,
}

/// An rtnetlink socket in the network namespace of the thread that opened
/// it (a socket keeps its namespace even if the process moves later).
pub(crate) struct Netlink {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

/// The text of an errno the way Go prints it (`no such device`), which is
/// what Docker's messages carried.
fn errno_text(errno: i32) -> String {
    // The C library's strerror (nix's table words some differently, e.g.
    // EOPNOTSUPP), without std's ` (os error N)` suffix.
    let text = io::Error::from_raw_os_error(errno).to_string();
    let text = text.strip_suffix(&format!(" (os error {errno})")).unwrap_or(&text);
    text.to_lowercase()
}

/// A request the kernel refused: the operation and its errno.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {}", errno_text(*errno))]
struct Refused {
    what: String,
    errno: i32,
}

fn op_error(what: &str, errno: i32) -> io::Error {
    io::Error::new(io::Error::from_raw_os_error(errno).kind(), Refused { what: what.to_string(), errno })
}

/// Why an operation failed without saying which (`no such device`), for a
/// caller that words the context itself.
pub(crate) fn cause(e: &io::Error) -> String {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Refused>()) {
        Some(r) => errno_text(r.errno),
        None => e.to_string(),
    }
}

fn with_context(what: &str) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |e| match e.raw_os_error() {
        Some(errno) => op_error(what, errno),
        None => io::Error::new(e.kind(), format!("{what}: {e}")),
    }
}

impl Netlink {
    pub(crate) fn open() -> io::Result<Netlink> {
        let sock = Socket::new(NETLINK_ROUTE).map_err(with_context("opening an rtnetlink socket"))?;
        // Acks without a copy of the request: a veth creation is long and
        // we only need the errno.
        sock.set_cap_ack(true).map_err(with_context("setting NETLINK_CAP_ACK"))?;
        sock.connect(&SocketAddr::new(0, 0)).map_err(with_context("connecting the rtnetlink socket"))?;
        Ok(Netlink { sock, seq: 0, buf: vec![0; RECV_BUFFER] })
    }

    /// Sends `msg` with `NLM_F_REQUEST | NLM_F_ACK | flags` and reads up to
    /// the kernel's ack; returns the replies that came before it (a
    /// `RTM_GETLINK`'s answer). `what` names the operation for errors.
    fn request(&mut self, msg: RouteNetlinkMessage, flags: u16, what: &str) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        packet.finalize();
        let mut out = vec![0; packet.buffer_len()];
        packet.serialize(&mut out);
        loop {
            match self.sock.send(&out, 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(with_context(what)(e)),
                Ok(_) => break,
            }
        }

        let mut replies = Vec::new();
        loop {
            let n = match self.sock.recv(&mut &mut self.buf[..], 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(with_context(what)(e)),
                Ok(n) => n,
            };
            if n > self.buf.len() {
                return Err(io::Error::other(format!("{what}: reply of {n} bytes truncated")));
            }
            let mut offset = 0;
            while offset < n {
                let reply: NetlinkMessage<RouteNetlinkMessage> = NetlinkMessage::deserialize(&self.buf[offset..n])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{what}: bad reply: {e}")))?;
                let len = reply.header.length as usize;
                // A stale answer to an earlier request (one whose caller gave
                // up on an error) is not ours.
                if reply.header.sequence_number == self.seq {
                    match reply.payload {
                        NetlinkPayload::Error(e) => {
                            return match e.code {
                                None => Ok(replies),
                                Some(code) => Err(op_error(what, -code.get())),
                            };
                        }
                        NetlinkPayload::InnerMessage(m) => replies.push(m),
                        NetlinkPayload::Done(_) => return Ok(replies),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }

    fn set_link(&mut self, link: &Link, attributes: Vec<LinkAttribute>, up: bool, what: &str) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = link.index;
        if up {
            msg.header.flags = LinkFlags::Up;
            msg.header.change_mask = LinkFlags::Up;
        }
        msg.attributes = attributes;
        self.request(RouteNetlinkMessage::SetLink(msg), 0, what).map(drop)
    }

    /// The interface called `name` (`ip link show NAME`).
    pub(crate) fn link(&mut self, name: &str) -> io::Result<Link> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        let what = format!("looking up {name}");
        let replies = self.request(RouteNetlinkMessage::GetLink(msg), 0, &what)?;
        replies
            .into_iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(Link { index: l.header.index, name: name.to_string() }),
                _ => None,
            })
            .ok_or_else(|| op_error(&what, nix::libc::ENODEV))
    }

    /// `ip link add NAME [mtu MTU] type veth peer name PEER [mtu MTU] netns
    /// PID`: this end here, the peer made directly in the network namespace
    /// of `peer_pid` (a pid of this process's pid namespace), both down.
    /// `mtu` 0 keeps the kernel's default.
    pub(crate) fn create_veth(&mut self, name: &str, peer: &str, mtu: u32, peer_pid: i32) -> io::Result<()> {
        let what = format!("creating veth pair {name}/{peer}");
        let pid = u32::try_from(peer_pid)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: bad pid {peer_pid}")))?;
        let mut peer_msg = LinkMessage::default();
        peer_msg.attributes.push(LinkAttribute::IfName(peer.to_string()));
        peer_msg.attributes.push(LinkAttribute::NetNsPid(pid));
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        if mtu > 0 {
            peer_msg.attributes.push(LinkAttribute::Mtu(mtu));
            msg.attributes.push(LinkAttribute::Mtu(mtu));
        }
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
        ]));
        self.request(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL, &what).map(drop)
    }

    /// `ip link set LINK master MASTER`.
    pub(crate) fn set_master(&mut self, link: &Link, master: &Link) -> io::Result<()> {
        let what = format!("setting the master of {} to {}", link.name, master.name);
        self.set_link(link, vec![LinkAttribute::Controller(master.index)], false, &what)
    }

    /// `ip link set LINK up`.
    pub(crate) fn set_up(&mut self, link: &Link) -> io::Result<()> {
        self.set_link(link, Vec::new(), true, &format!("bringing up {}", link.name))
    }

    /// `ip link set LINK address MAC`.
    pub(crate) fn set_address(&mut self, link: &Link, mac: [u8; 6]) -> io::Result<()> {
        let what = format!("setting the address of {} to {}", link.name, format_mac(mac));
        self.set_link(link, vec![LinkAttribute::Address(mac.to_vec())], false, &what)
    }

    /// `ip link set LINK name NAME` (the link must be down); `link` takes
    /// the new name.
    pub(crate) fn rename(&mut self, link: &mut Link, name: &str) -> io::Result<()> {
        let what = format!("renaming {} to {name}", link.name);
        self.set_link(link, vec![LinkAttribute::IfName(name.to_string())], false, &what)?;
        link.name = name.to_string();
        Ok(())
    }

    /// `ip addr add IP/PREFIX dev LINK`, as Docker 1.2 made it (local and
    /// peer address, no broadcast).
    pub(crate) fn add_ipv4_address(&mut self, link: &Link, ip: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        msg.header.prefix_len = prefix_len;
        msg.header.index = link.index;
        msg.attributes.push(AddressAttribute::Local(IpAddr::V4(ip)));
        msg.attributes.push(AddressAttribute::Address(IpAddr::V4(ip)));
        let what = format!("adding {ip}/{prefix_len} to {}", link.name);
        self.request(RouteNetlinkMessage::NewAddress(msg), NLM_F_CREATE | NLM_F_EXCL, &what).map(drop)
    }

    /// `ip route add default via GATEWAY dev LINK`.
    pub(crate) fn add_default_route(&mut self, link: &Link, gateway: Ipv4Addr) -> io::Result<()> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.scope = RouteScope::Universe;
        msg.header.kind = RouteType::Unicast;
        msg.attributes.push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        msg.attributes.push(RouteAttribute::Oif(link.index));
        let what = format!("adding the default route via {gateway} on {}", link.name);
        self.request(RouteNetlinkMessage::NewRoute(msg), NLM_F_CREATE | NLM_F_EXCL, &what).map(drop)
    }

    /// `ip link del NAME` (a veth takes its peer along). By name, so a
    /// caller can undo a creation whose link it never got to look up.
    pub(crate) fn delete_link(&mut self, name: &str) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.request(RouteNetlinkMessage::DelLink(msg), 0, &format!("deleting {name}")).map(drop)
    }
}

/// `02:42:ac:11:00:02` → bytes; `None` unless six colon-separated hex pairs.
pub(crate) fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        // from_str_radix alone would take `+2`.
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn format_mac(mac: [u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses() {
        assert_eq!(parse_mac("02:42:0a:d5:00:02"), Some([2, 0x42, 10, 0xd5, 0, 2]));
        assert_eq!(parse_mac("02:42:AC:11:00:02"), Some([2, 0x42, 0xac, 0x11, 0, 2]));
        for bad in
            ["", "02:42:0a:d5:00", "02:42:0a:d5:00:02:03", "2:42:0a:d5:00:02", "02:42:0a:d5:00:zz", "+2:42:0a:d5:00:02"]
        {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
        assert_eq!(format_mac([2, 0x42, 10, 0xd5, 0, 2]), "02:42:0a:d5:00:02");
    }

    #[test]
    fn errors_name_the_operation() {
        let e = op_error("looking up docker9", nix::libc::ENODEV);
        assert_eq!(e.to_string(), "looking up docker9: no such device");
        assert_eq!(e.kind(), io::Error::from_raw_os_error(nix::libc::ENODEV).kind());
        assert_eq!(cause(&e), "no such device");
        assert_eq!(cause(&io::Error::other("x")), "x");
        assert_eq!(errno_text(nix::libc::EOPNOTSUPP), "operation not supported");
        assert_eq!(errno_text(nix::libc::EEXIST), "file exists");
    }
}
