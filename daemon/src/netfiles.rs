//! The files a container's network identity is made of, written into its
//! directory at create and bind-mounted at start: `hostname`, `hosts`,
//! `resolv.conf` (Docker 1.2's `container.buildHostnameAndHostsFiles` and
//! `setupContainerDns`, and 1.3's `--add-host` lines). Networking proper
//! comes later; until then the hosts file knows only loopback and the
//! user's extra hosts.

use std::path::Path;

use crate::container::Container;
use crate::error::ContainerError;

/// Where the host's resolver configuration is read from.
pub const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// Used when the host's resolv.conf names only loopback servers, which
/// cannot be reached from a container's own network namespace (dockerd's
/// default).
const FALLBACK_NAMESERVERS: &[&str] = &["8.8.8.8", "8.8.4.4"];

/// The hosts file: loopback for IPv4 and IPv6, the container's own name on
/// loopback until it has an address, then one `IP\tHOST` line per
/// `HOST:IP` of `extra` (`ExtraHosts`, in their order; the IP may be IPv6,
/// hence the split at the first colon).
pub fn hosts(hostname: &str, domainname: &str, extra: &[String]) -> Result<String, ContainerError> {
    let fqdn = if domainname.is_empty() { hostname.to_string() } else { format!("{hostname}.{domainname} {hostname}") };
    let mut out = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\t{fqdn}\n"
    );
    for entry in extra {
        // dockerd's `ValidateExtraHost` texts; an API client can send anything.
        let Some((host, ip)) = entry.split_once(':').filter(|(h, _)| !h.is_empty()) else {
            return Err(ContainerError::BadParameter(format!("bad format for add-host: {entry:?}")));
        };
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(ContainerError::BadParameter(format!("invalid IP address in add-host: {ip:?}")));
        }
        out.push_str(&format!("{ip}\t{host}\n"));
    }
    Ok(out)
}

/// The host's resolv.conf without loopback name servers; when none is left,
/// the fallback servers. `dns`/`dns_search`/`dns_options` from the host
/// config replace the host's lines.
pub fn resolv_conf(host: &str, dns: &[String], search: &[String], options: &[String]) -> String {
    let mut out = Vec::new();
    let mut servers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if !dns.is_empty() {
                    continue;
                }
                let Some(addr) = words.next() else { continue };
                if addr.starts_with("127.") || addr == "::1" {
                    continue;
                }
                servers += 1;
                out.push(line.to_string());
            }
            Some("search" | "domain") if !search.is_empty() => {}
            Some("options") if !options.is_empty() => {}
            _ => out.push(line.to_string()),
        }
    }
    if !dns.is_empty() {
        out.extend(dns.iter().map(|s| format!("nameserver {s}")));
    } else if servers == 0 {
        out.extend(FALLBACK_NAMESERVERS.iter().map(|s| format!("nameserver {s}")));
    }
    if !search.is_empty() {
        out.push(format!("search {}", search.join(" ")));
    }
    if !options.is_empty() {
        out.push(format!("options {}", options.join(" ")));
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// Writes the three files into the container's directory (blocking).
pub fn write(c: &Container, dir: &Path) -> Result<(), ContainerError> {
    let write = |name: &str, content: &str| {
        let path = dir.join(name);
        std::fs::write(&path, content).map_err(ContainerError::io(&c.id, &path))
    };
    write("hostname", &format!("{}\n", c.config.hostname))?;
    let hc = &c.host_config;
    let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
    write("hosts", &hosts(&c.config.hostname, &c.config.domainname, &list(&hc.extra_hosts))?)?;
    let host = std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default();
    write("resolv.conf", &resolv_conf(&host, &list(&hc.dns), &list(&hc.dns_search), &list(&hc.dns_options)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_servers_are_dropped() {
        let host = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch lan\n";
        assert_eq!(resolv_conf(host, &[], &[], &[]), "# generated\nnameserver 10.0.0.1\nsearch lan\n");
        assert_eq!(resolv_conf("nameserver 127.0.0.53\n", &[], &[], &[]), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        let given = resolv_conf(host, &["1.1.1.1".into()], &["corp".into()], &["ndots:2".into()]);
        assert_eq!(given, "# generated\nnameserver 1.1.1.1\nsearch corp\noptions ndots:2\n");
    }

    #[test]
    fn hosts_has_loopback_and_the_name() {
        let h = hosts("abc", "", &[]).unwrap();
        assert!(h.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost"));
        assert!(h.ends_with("127.0.1.1\tabc\n"));
        assert!(hosts("abc", "example.com", &[]).unwrap().contains("abc.example.com abc"));
    }

    #[test]
    fn extra_hosts_follow_in_order() {
        let extra = ["db:10.1.2.3".to_string(), "v6:fe80::1".to_string(), "db:10.1.2.4".to_string()];
        let h = hosts("abc", "", &extra).unwrap();
        assert!(h.ends_with("127.0.1.1\tabc\n10.1.2.3\tdb\nfe80::1\tv6\n10.1.2.4\tdb\n"), "{h}");
        let bad = |e: &str| hosts("abc", "", &[e.to_string()]).unwrap_err().to_string();
        assert_eq!(bad("nocolon"), "bad format for add-host: \"nocolon\"");
        assert_eq!(bad(":10.0.0.1"), "bad format for add-host: \":10.0.0.1\"");
        assert_eq!(bad("h:not-an-ip"), "invalid IP address in add-host: \"not-an-ip\"");
    }
}
