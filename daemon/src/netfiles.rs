//! The files a container's network identity is made of, written into its
//! directory at create and again at each start (before the spawn
//! bind-mounts them): `hostname`, `hosts`, `resolv.conf` (Docker 1.2's
//! `container.buildHostnameAndHostsFiles` and `setupContainerDns`, and
//! 1.3's `--add-host` lines). With a bridge address the hosts file is
//! today's dockerd's: the `--add-host` lines, one line per link, then the
//! container's own address; without one, Docker 1.2's `127.0.1.1` line.

use std::path::Path;

use crate::config::Config;
use crate::container::Container;
use crate::error::ContainerError;

/// Where the host's resolver configuration is read from.
pub const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// The host's hosts file, a `--net=host` container's.
const HOST_HOSTS: &str = "/etc/hosts";

/// Used when the host's resolv.conf names only loopback servers, which
/// cannot be reached from a container's own network namespace (dockerd's
/// default).
const FALLBACK_NAMESERVERS: &[&str] = &["8.8.8.8", "8.8.4.4"];

/// The hosts file: loopback for IPv4 and IPv6; without an address the
/// container's own name on `127.0.1.1`; one `IP\tHOST` line per `HOST:IP`
/// of `extra` (`ExtraHosts`, in their order; the IP may be IPv6, hence the
/// split at the first colon); one `IP\tnames` line per link; with an
/// address `ip`, last, the container's own line (where today's dockerd
/// puts it).
pub fn hosts(
    hostname: &str,
    domainname: &str,
    ip: Option<&str>,
    links: &[(String, String)],
    extra: &[String],
) -> Result<String, ContainerError> {
    let fqdn = if domainname.is_empty() { hostname.to_string() } else { format!("{hostname}.{domainname} {hostname}") };
    let mut out = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n".to_string();
    if ip.is_none() {
        out.push_str(&format!("127.0.1.1\t{fqdn}\n"));
    }
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
    for (ip, names) in links {
        out.push_str(&format!("{ip}\t{names}\n"));
    }
    if let Some(ip) = ip {
        out.push_str(&format!("{ip}\t{fqdn}\n"));
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

/// Writes the three files (blocking) at create, and again at each start
/// with the run's address `ip` and `links` lines in the hosts file; each
/// replaced whole (temporary file, rename: a reader never sees half a
/// file); the daemon's `--dns`/`--dns-search` where the container sets
/// none.
pub fn write(
    c: &Container,
    dir: &Path,
    config: &Config,
    ip: Option<&str>,
    links: &[(String, String)],
) -> Result<(), ContainerError> {
    let write = |name: &str, content: &str| {
        crate::atomic::replace_file(&dir.join(name), content.as_bytes())
            .map_err(|source| ContainerError::Write { id: c.id.clone(), source })
    };
    write("hostname", &format!("{}\n", c.config.hostname))?;
    let hc = &c.host_config;
    let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
    // `--net=host` shares the host's network, so its files are the host's
    // own unless the user adds to them (today's dockerd): a loopback name
    // server such as systemd-resolved's 127.0.0.53 is reachable there.
    let host_mode = hc.network_mode == "host";
    let extra = list(&hc.extra_hosts);
    let host_hosts = (host_mode && extra.is_empty()).then(|| std::fs::read_to_string(HOST_HOSTS).ok()).flatten();
    let hosts_file = match host_hosts {
        Some(text) => text,
        None => hosts(&c.config.hostname, &c.config.domainname, ip, links, &extra)?,
    };
    write("hosts", &hosts_file)?;
    let host = std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default();
    let (dns, search) = run_dns(c, config);
    let options = list(&hc.dns_options);
    if host_mode && dns.is_empty() && search.is_empty() && options.is_empty() && !host.trim().is_empty() {
        return write("resolv.conf", &host);
    }
    write("resolv.conf", &resolv_conf(&host, &dns, &search, &options))
}

/// The name servers and search domains of a run: the container's, else
/// the daemon's (`docker -d --dns`, `--dns-search`), each list on its own.
pub fn run_dns(c: &Container, config: &Config) -> (Vec<String>, Vec<String>) {
    let hc = &c.host_config;
    let dns = match hc.dns.as_deref() {
        Some(d) if !d.is_empty() => d.to_vec(),
        _ => config.dns.iter().map(ToString::to_string).collect(),
    };
    let search = match hc.dns_search.as_deref() {
        Some(s) if !s.is_empty() => s.to_vec(),
        _ => config.dns_search.clone(),
    };
    (dns, search)
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
        let h = hosts("abc", "", None, &[], &[]).unwrap();
        assert!(h.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost"));
        assert!(h.ends_with("127.0.1.1\tabc\n"));
        assert!(hosts("abc", "example.com", None, &[], &[]).unwrap().contains("abc.example.com abc"));
    }

    #[test]
    fn extra_hosts_follow_in_order() {
        let extra = ["db:10.1.2.3".to_string(), "v6:fe80::1".to_string(), "db:10.1.2.4".to_string()];
        let h = hosts("abc", "", None, &[], &extra).unwrap();
        assert!(h.ends_with("127.0.1.1\tabc\n10.1.2.3\tdb\nfe80::1\tv6\n10.1.2.4\tdb\n"), "{h}");
        let bad = |e: &str| hosts("abc", "", None, &[], &[e.to_string()]).unwrap_err().to_string();
        assert_eq!(bad("nocolon"), "bad format for add-host: \"nocolon\"");
        assert_eq!(bad(":10.0.0.1"), "bad format for add-host: \":10.0.0.1\"");
        assert_eq!(bad("h:not-an-ip"), "invalid IP address in add-host: \"not-an-ip\"");
    }

    #[test]
    fn an_address_and_links_as_dockerd_writes_them() {
        let links = [("172.17.0.5".to_string(), "db 5f0e1d2c3b4a mydb".to_string())];
        let h = hosts("abc", "", Some("172.17.0.2"), &links, &["x:10.1.2.3".to_string()]).unwrap();
        assert!(!h.contains("127.0.1.1"), "the address replaces the loopback name: {h}");
        assert!(
            h.ends_with("ff02::2\tip6-allrouters\n10.1.2.3\tx\n172.17.0.5\tdb 5f0e1d2c3b4a mydb\n172.17.0.2\tabc\n"),
            "{h}"
        );
        let h = hosts("abc", "example.com", Some("172.17.0.2"), &[], &[]).unwrap();
        assert!(h.ends_with("172.17.0.2\tabc.example.com abc\n"), "{h}");
    }

    #[test]
    fn the_daemons_dns_when_the_container_has_none() {
        let config = Config {
            dns: vec!["10.9.9.9".parse().unwrap()],
            dns_search: vec!["corp.example".into()],
            ..Default::default()
        };
        let mut c = Container::default();
        assert_eq!(run_dns(&c, &config), (vec!["10.9.9.9".to_string()], vec!["corp.example".to_string()]));
        c.host_config.dns = Some(vec!["1.1.1.1".into()]);
        c.host_config.dns_search = Some(vec![]);
        assert_eq!(run_dns(&c, &config), (vec!["1.1.1.1".to_string()], vec!["corp.example".to_string()]));
        assert_eq!(run_dns(&c, &Config::default()).1, Vec::<String>::new());
    }

    #[test]
    fn files_of_a_run_replace_the_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Container::default();
        c.config.hostname = "abc".into();
        write(&c, dir.path(), &Config::default(), None, &[]).unwrap();
        write(&c, dir.path(), &Config::default(), Some("10.0.0.2"), &[]).unwrap();
        let h = std::fs::read_to_string(dir.path().join("hosts")).unwrap();
        assert!(h.ends_with("10.0.0.2\tabc\n"), "{h}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3, "no temporary left");

        c.host_config.network_mode = "host".into();
        write(&c, dir.path(), &Config::default(), None, &[]).unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        if let Ok(host) = std::fs::read_to_string(HOST_HOSTS) {
            assert_eq!(read("hosts"), host, "--net=host: the host's hosts file");
        }
        c.host_config.extra_hosts = Some(vec!["x:10.1.2.3".into()]);
        write(&c, dir.path(), &Config::default(), None, &[]).unwrap();
        assert!(read("hosts").ends_with("127.0.1.1\tabc\n10.1.2.3\tx\n"), "with --add-host: built");
    }
}
