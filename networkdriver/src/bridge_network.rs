//! Which subnet a new `docker0` gets (Docker 1.2's `createBridge`): the
//! first of a fixed list of private ranges (`172.17.42.1/16` first) that
//! overlaps no route of the host and holds none of its name servers. The
//! host's routes and name servers are read by the caller
//! (`/proc/net/route`, `/etc/resolv.conf`) and parsed here, so the choice
//! itself is a pure function.

use std::net::Ipv4Addr;

use crate::ipallocator::Subnet;

/// Docker 1.2's candidates, in its order. The gateway is `.42.1` rather
/// than the first address, as in the /24 ranges that came first.
pub const CANDIDATES: &[&str] = &[
    // Not 172.16.0.0/16: it holds EC2's DNS, 172.16.0.23.
    "172.17.42.1/16",
    // Never the whole of 10/8.
    "10.0.42.1/16",
    "10.1.42.1/16",
    "10.42.42.1/16",
    "172.16.42.1/24",
    "172.16.43.1/24",
    "172.16.44.1/24",
    "10.0.42.1/24",
    "10.0.43.1/24",
    "192.168.42.1/24",
    "192.168.43.1/24",
    "192.168.44.1/24",
];

/// Docker 1.2's error when every candidate is taken.
pub fn no_free_range(bridge: &str) -> String {
    format!(
        "Could not find a free IP address range for interface '{bridge}'. \
         Please configure its address manually and run 'docker -b {bridge}'"
    )
}

/// The first candidate that overlaps none of `routes` (the default route,
/// prefix 0, does not count) and contains none of `nameservers`.
pub fn choose(routes: &[Subnet], nameservers: &[Ipv4Addr]) -> Option<Subnet> {
    CANDIDATES.iter().filter_map(|c| c.parse::<Subnet>().ok()).find(|candidate| {
        !routes.iter().any(|r| r.prefix > 0 && r.overlaps(candidate))
            && !nameservers.iter().any(|ns| candidate.contains(*ns))
    })
}

/// The destinations of `/proc/net/route` (addresses and masks are
/// little-endian hex there). Lines that do not parse are skipped.
pub fn routes(proc_net_route: &str) -> Vec<Subnet> {
    // The kernel prints each address's bytes (network order) as a native
    // u32 in hex: back to those bytes, then to a number in network order.
    let addr = |s: &str| u32::from_str_radix(s, 16).ok().map(|v| u32::from_be_bytes(v.to_ne_bytes()));
    proc_net_route
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (dest, mask) = (addr(fields.get(1)?)?, addr(fields.get(7)?)?);
            // Only a contiguous mask makes a subnet.
            (mask.leading_ones() + mask.trailing_zeros() == 32)
                .then(|| Subnet { addr: Ipv4Addr::from(dest), prefix: mask.leading_ones() as u8 })
        })
        .collect()
}

/// The IPv4 `nameserver` lines of a resolv.conf.
pub fn nameservers(resolv_conf: &str) -> Vec<Ipv4Addr> {
    resolv_conf
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next()?.parse().ok()).flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker9\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
";

    #[test]
    fn routes_are_read_from_proc() {
        let got: Vec<String> = routes(ROUTES).iter().map(|s| format!("{}/{}", s.network(), s.prefix)).collect();
        assert_eq!(got, ["0.0.0.0/0", "192.168.2.0/24", "172.17.0.0/16"]);
    }

    #[test]
    fn the_first_free_candidate_wins() {
        assert_eq!(choose(&[], &[]).unwrap().to_string(), "172.17.42.1/16");
        // 172.17/16 is routed (another bridge), so the next one.
        assert_eq!(choose(&routes(ROUTES), &[]).unwrap().to_string(), "10.0.42.1/16");
        // A name server inside a candidate rules it out too.
        let ns = nameservers("# comment\nnameserver 10.0.0.2\nnameserver ::1\nsearch x\nnameserver 10.1.3.4\n");
        assert_eq!(ns, [Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 1, 3, 4)]);
        assert_eq!(choose(&routes(ROUTES), &ns).unwrap().to_string(), "10.42.42.1/16");
        // The default route alone blocks nothing; everything routed blocks all.
        let all: Vec<Subnet> =
            ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(choose(&all, &[]), None);
        assert_eq!(
            no_free_range("docker0"),
            "Could not find a free IP address range for interface 'docker0'. Please configure its address manually and run 'docker -b docker0'"
        );
    }
}
