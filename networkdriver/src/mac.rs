//! A container's MAC address, derived from its IPv4 address as dockerd
//! does (`02:42` and the four address bytes): locally administered,
//! unicast, and unique on the bridge as long as the address is.

use std::net::Ipv4Addr;

/// `02:42:aa:bb:cc:dd` for `aa.bb.cc.dd` (hex, lower case).
pub fn mac_for(ip: Ipv4Addr) -> String {
    let [a, b, c, d] = ip.octets();
    format!("02:42:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_from_the_address() {
        assert_eq!(mac_for(Ipv4Addr::new(172, 17, 0, 2)), "02:42:ac:11:00:02");
        assert_eq!(mac_for(Ipv4Addr::new(10, 255, 1, 200)), "02:42:0a:ff:01:c8");
    }
}
