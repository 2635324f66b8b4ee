//! A bridged container's network for one run (Docker 1.2's
//! `allocateNetwork`, `setupLinkedContainers` and `releaseNetwork` in
//! `daemon/container.go`), made of the bridge driver's jobs: an address
//! (`allocate_interface`), its published ports (`allocate_port`, one per
//! host binding), and its links (the linked containers' environment and
//! hosts lines; with `--icc=false` the `link -I` rules). Released at the
//! exit (`link -D`, `release_interface`).
//!
//! The port set is today's dockerd's: every exposed port and every port
//! with a binding (Docker 1.2 only looked at the exposed ones, relying on
//! the client to expose what it publishes; API clients do not always).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use engine::names::networkdriver::{self as jobs, env as keys};
use engine::{Engine, Env};
use execdriver::BridgeNetwork;
use runconfig::container::PortBinding;

use crate::Daemon;
use crate::config::Config;
use crate::container::{ActiveLink, Container, NetworkState};
use crate::error::ContainerError;
use crate::links::link_env;
use crate::store::ContainerStore;

/// The network name of the default mode (inspect's `Networks` key).
pub const BRIDGE_NETWORK: &str = "bridge";

/// The `NetworkSettings.Ports` map: per `80/tcp`, its host bindings, or
/// `None` for a port that is only exposed.
pub type PortMap = BTreeMap<String, Option<Vec<PortBinding>>>;

/// What a bridged start needs besides the container: the settings to
/// record, `eth0` for the exec driver, and what the links add.
#[derive(Debug, Clone)]
pub struct Allocation {
    /// Recorded on the container for the run.
    pub settings: NetworkState,
    /// The exec driver's `eth0`.
    pub eth0: BridgeNetwork,
    /// `ALIAS_*` variables of every link.
    pub link_env: Vec<String>,
    /// `(IP, names)` hosts lines of the links.
    pub link_hosts: Vec<(String, String)>,
}

/// One `allocate_port` to run: a container port and the host side asked
/// for (empty IP = the daemon's `--ip`, port 0 = any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    /// The Ports map key, `80/tcp`.
    pub key: String,
    /// The container port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
    /// The host address asked for.
    pub host_ip: String,
    /// The first and last host port to try (`0, 0` = any).
    pub host_ports: (u16, u16),
}

/// Whether the container gets an address on the bridge: the default mode
/// (`""`, `default`, `bridge`) on a daemon whose bridge is not `none`.
pub fn uses_bridge(config: &Config, c: &Container) -> bool {
    matches!(c.host_config.network_mode.as_str(), "" | "default" | "bridge")
        && !config.network_disabled()
        && !c.config.network_disabled
}

/// The name of the network a container is on, as inspect's `Networks`
/// key; `None` for `container:<id>`, which has its own none.
pub fn network_name(config: &Config, c: &Container) -> Option<&'static str> {
    match c.host_config.network_mode.as_str() {
        "" | "default" | "bridge" if config.network_disabled() => Some("none"),
        "" | "default" | "bridge" => Some(BRIDGE_NETWORK),
        "host" => Some("host"),
        "none" => Some("none"),
        _ => None,
    }
}

/// `80/tcp` (or `80`, tcp) as number and protocol.
pub fn split_port(spec: &str) -> Option<(u16, String)> {
    let (port, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = if proto.is_empty() { "tcp" } else { proto };
    Some((port.parse().ok()?, proto.to_lowercase()))
}

/// A binding's `HostPort`: empty or `0` is any, `8080` one, `8000-8010` a
/// range tried in turn (as libnetwork does).
fn host_port_range(key: &str, text: &str) -> Result<(u16, u16), ContainerError> {
    let bad = || ContainerError::BadParameter(format!("Error parsing HostPort value({text}) of {key}"));
    let text = text.trim();
    if text.is_empty() {
        return Ok((0, 0));
    }
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let first: u16 = first.parse().map_err(|_| bad())?;
    let last: u16 = last.parse().map_err(|_| bad())?;
    if last < first || (first == 0 && last != 0) {
        return Err(bad());
    }
    Ok((first, last))
}

/// The `allocate_port` calls a start makes, and the Ports map before them
/// (every port, `None` until bound): each binding of `PortBindings`, and
/// with `PublishAllPorts` one any-port binding of each port without one.
pub fn port_requests(
    exposed: Option<&BTreeMap<String, serde_json::Value>>,
    bindings: Option<&PortMap>,
    publish_all: bool,
) -> Result<(Vec<PortRequest>, PortMap), ContainerError> {
    let mut ports = PortMap::new();
    let keys = exposed.into_iter().flat_map(|m| m.keys()).chain(bindings.into_iter().flat_map(|m| m.keys()));
    let mut requests = Vec::new();
    for key in keys {
        let (port, proto) = split_port(key)
            .ok_or_else(|| ContainerError::BadParameter(format!("Invalid port specification: {key}")))?;
        if proto != "tcp" && proto != "udp" {
            return Err(ContainerError::BadParameter(format!("unsupported address type {proto}")));
        }
        let key = format!("{port}/{proto}");
        if ports.contains_key(&key) {
            continue;
        }
        ports.insert(key.clone(), None);
        let given = bindings.and_then(|b| b.get(&key).or_else(|| b.get(&port.to_string()))).cloned().flatten();
        let given = given.unwrap_or_default();
        for b in &given {
            requests.push(PortRequest {
                key: key.clone(),
                port,
                proto: proto.clone(),
                host_ip: b.host_ip.clone(),
                host_ports: host_port_range(&key, &b.host_port)?,
            });
        }
        if given.is_empty() && publish_all {
            requests.push(PortRequest {
                key: key.clone(),
                port,
                proto: proto.clone(),
                host_ip: String::new(),
                host_ports: (0, 0),
            });
        }
    }
    Ok((requests, ports))
}

/// A `--link` value (`name:alias`, `name`, or inspect's `/name:/parent/alias`)
/// as the linked container's name and the alias.
pub fn parse_link(link: &str) -> Result<(String, String), ContainerError> {
    let (name, alias) = link.split_once(':').unwrap_or((link, link));
    let name = name.trim_start_matches('/');
    let alias = alias.rsplit('/').next().unwrap_or(alias);
    if name.is_empty() || alias.is_empty() {
        return Err(ContainerError::BadParameter(format!("Invalid link format: {link}")));
    }
    Ok((name.to_string(), alias.to_string()))
}

/// The ports of a linked container, as `link_env` and the `link` job want them.
fn exposed_ports(c: &Container) -> Vec<(u16, String)> {
    let mut ports: Vec<(u16, String)> =
        c.config.exposed_ports.iter().flatten().filter_map(|(k, _)| split_port(k)).collect();
    ports.sort();
    ports.dedup();
    ports
}

/// Runs one of the driver's jobs and returns the Env object it printed.
async fn run_job(eng: &Engine, name: &str, args: &[&str], set: impl FnOnce(&engine::Job)) -> Result<Env, String> {
    let job = eng.job(name, args.iter().copied());
    set(&job);
    let out = job.stdout().add_env();
    match job.run().await {
        Ok(()) => Ok(out.get()),
        Err(e) if e.message.trim().is_empty() => Err(format!("{name} failed")),
        Err(e) => Err(e.message.trim().to_string()),
    }
}

/// Allocates the network of one run of `c`; `None` when it has no bridge
/// address (other modes, `-b none`). On failure everything already taken
/// is given back.
pub async fn allocate(daemon: &Daemon, c: &Container) -> Result<Option<Allocation>, ContainerError> {
    if !uses_bridge(daemon.config(), c) {
        return Ok(None);
    }
    let eng = daemon.engine();
    if !eng.has_handler(jobs::ALLOCATE_INTERFACE) {
        // Only while the daemon runs without its network driver (which
        // `-b none` says outright): the container gets loopback only.
        tracing::warn!(container = %c.id, "no bridge driver; the container has loopback only");
        return Ok(None);
    }
    let failed = |message: String| ContainerError::Network { id: c.id.clone(), message };
    let iface = run_job(eng, jobs::ALLOCATE_INTERFACE, &[&c.id], |_| {}).await.map_err(failed)?;
    let settings = NetworkState {
        bridge: iface.get(keys::BRIDGE).to_string(),
        ip_address: iface.get(keys::IP).to_string(),
        ip_prefix_len: iface.get_int(keys::IP_PREFIX_LEN),
        gateway: iface.get(keys::GATEWAY).to_string(),
        // `--mac-address` (API 1.17+) wins over the driver's, as in dockerd.
        mac_address: match c.config.mac_address.as_str() {
            "" => iface.get(keys::MAC_ADDRESS).to_string(),
            given => given.to_string(),
        },
        endpoint_id: crate::create::random_id(),
        ..Default::default()
    };
    let eth0 = (|| {
        let ip: Ipv4Addr = settings.ip_address.parse().ok()?;
        let gateway: Ipv4Addr = settings.gateway.parse().ok()?;
        let prefix_len = u8::try_from(settings.ip_prefix_len).ok().filter(|p| *p <= 32)?;
        Some(BridgeNetwork {
            bridge: settings.bridge.clone(),
            ip,
            prefix_len,
            gateway,
            mac: settings.mac_address.clone(),
            mtu: daemon.config().mtu,
            host_veth: String::new(),
            peer: String::new(),
        })
    })();
    let Some(eth0) = eth0 else {
        release_interface(eng, &c.id).await;
        return Err(failed(format!("allocate_interface gave an unusable address: {}", iface.encode().trim())));
    };
    let mut alloc = Allocation { settings, eth0, link_env: Vec::new(), link_hosts: Vec::new() };
    let result = async {
        publish(eng, c, &mut alloc.settings).await?;
        link(daemon, c, &mut alloc).await
    }
    .await;
    match result {
        Ok(()) => Ok(Some(alloc)),
        Err(e) => {
            release(daemon, &c.id, &alloc.settings).await;
            Err(e)
        }
    }
}

/// Publishes the ports; the Ports map gets what the driver bound.
async fn publish(eng: &Engine, c: &Container, settings: &mut NetworkState) -> Result<(), ContainerError> {
    let hc = &c.host_config;
    let (requests, mut ports) =
        port_requests(c.config.exposed_ports.as_ref(), hc.port_bindings.as_ref(), hc.publish_all_ports)?;
    for r in requests {
        let mut last_error = String::new();
        let mut bound = None;
        for host_port in r.host_ports.0..=r.host_ports.1 {
            let result = run_job(eng, jobs::ALLOCATE_PORT, &[&c.id], |job| {
                job.setenv(keys::HOST_IP, &r.host_ip);
                job.setenv_int(keys::HOST_PORT, i64::from(host_port));
                job.setenv_int(keys::CONTAINER_PORT, i64::from(r.port));
                job.setenv(keys::PROTO, &r.proto);
            })
            .await;
            match result {
                Ok(out) => {
                    bound = Some(PortBinding {
                        host_ip: out.get(keys::HOST_IP).to_string(),
                        host_port: out.get_int(keys::HOST_PORT).to_string(),
                    });
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let Some(bound) = bound else {
            return Err(ContainerError::Network { id: c.id.clone(), message: last_error });
        };
        ports.entry(r.key).or_default().get_or_insert_with(Vec::new).push(bound);
    }
    settings.ports = ports;
    Ok(())
}

/// Resolves the links (each linked container must run with an address),
/// collects their environment and hosts lines and, with `--icc=false`,
/// opens their ports with `link -I`.
async fn link(daemon: &Daemon, c: &Container, alloc: &mut Allocation) -> Result<(), ContainerError> {
    for spec in c.host_config.links.iter().flatten() {
        let (name, alias) = parse_link(spec)?;
        let child = daemon
            .containers()
            .get(&name)
            .map_err(|_| ContainerError::BadParameter(format!("Could not get container for {name}")))?
            .lock()
            .clone();
        let link_name = format!("/{}/{alias}", c.name);
        if !child.state.running {
            return Err(ContainerError::BadParameter(format!(
                "Cannot link to a non running container: /{} AS {link_name}",
                child.name
            )));
        }
        let Ok(child_ip) = child.state.network.ip_address.parse::<Ipv4Addr>() else {
            return Err(ContainerError::BadParameter(format!(
                "Cannot link to /{}, as it does not belong to the default network",
                child.name
            )));
        };
        let ports = exposed_ports(&child);
        let port_refs: Vec<(u16, &str)> = ports.iter().map(|(p, proto)| (*p, proto.as_str())).collect();
        alloc.link_env.extend(link_env(
            &link_name,
            child_ip,
            &port_refs,
            child.config.env.as_deref().unwrap_or_default(),
        ));
        // Today's dockerd: the alias, the linked container's hostname, and
        // its name when that differs from the alias.
        let mut names = format!("{alias} {}", child.config.hostname);
        if alias != child.name {
            names.push(' ');
            names.push_str(&child.name);
        }
        alloc.link_hosts.push((child_ip.to_string(), names));
        if !daemon.config().inter_container_communication {
            let active = ActiveLink {
                child_ip: child_ip.to_string(),
                ports: ports.iter().map(|(p, proto)| format!("{p}/{proto}")).collect(),
            };
            toggle_link(daemon.engine(), "-I", &alloc.settings.ip_address, &active, false)
                .await
                .map_err(|message| ContainerError::Network { id: c.id.clone(), message })?;
            alloc.settings.active_links.push(active);
        }
    }
    Ok(())
}

async fn toggle_link(
    eng: &Engine,
    action: &str,
    parent_ip: &str,
    link: &ActiveLink,
    ignore: bool,
) -> Result<(), String> {
    run_job(eng, jobs::LINK, &[action], |job| {
        job.setenv(keys::PARENT_IP, parent_ip);
        job.setenv(keys::CHILD_IP, &link.child_ip);
        job.setenv_list(keys::PORTS, &link.ports);
        job.setenv_bool(keys::IGNORE_ERRORS, ignore);
    })
    .await
    .map(|_| ())
}

/// Gives back what [`allocate`] took: the links' rules, then the address
/// and its ports. Failures are only logged (the container is gone either
/// way).
pub async fn release(daemon: &Daemon, id: &str, settings: &NetworkState) {
    if !settings.is_allocated() {
        return;
    }
    let eng = daemon.engine();
    for link in &settings.active_links {
        if let Err(e) = toggle_link(eng, "-D", &settings.ip_address, link, true).await
            && !eng.is_shutdown()
        {
            tracing::warn!(container = %id, child_ip = %link.child_ip, error = %e, "could not remove a link's rules");
        }
    }
    release_interface(eng, id).await;
}

async fn release_interface(eng: &Engine, id: &str) {
    if let Err(e) = run_job(eng, jobs::RELEASE_INTERFACE, &[id], |_| {}).await {
        // At shutdown the engine refuses jobs; the driver then takes down
        // every mapping itself.
        if eng.is_shutdown() {
            tracing::debug!(container = %id, "network left to the driver's shutdown");
        } else {
            tracing::warn!(container = %id, error = %e, "could not release the network");
        }
    }
}

/// After `child` started with an address: the hosts files of the running
/// containers linking to it get its new address on their line for the
/// link (today's dockerd's parent update; their environment keeps the old
/// one, as there). Blocking. Written in place, not replaced: the file is
/// bind-mounted into the running parent, and a rename would leave the
/// mount on the old file.
pub fn update_parents(daemon: &Daemon, child: &Container) {
    let ip = &child.state.network.ip_address;
    if ip.is_empty() {
        return;
    }
    let store = daemon.containers();
    let all = store.list();
    for parent in all.iter().filter(|p| p.state.running && p.id != child.id) {
        let aliases: Vec<String> =
            link_edges(store, parent).filter(|(id, _)| *id == child.id).map(|(_, alias)| alias).collect();
        if aliases.is_empty() {
            continue;
        }
        let path = parent.dir(store.dir()).join("hosts");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let updated = readdress_hosts(&text, &aliases, ip);
        if updated != text
            && let Err(e) = std::fs::write(&path, updated)
        {
            tracing::warn!(container = %parent.id, error = %e, "could not update a linked address in the hosts file");
        }
    }
}

/// `parent`'s links as (linked container's id, alias), skipping those
/// whose container is gone.
pub fn link_edges<'a>(store: &'a ContainerStore, parent: &'a Container) -> impl Iterator<Item = (String, String)> + 'a {
    parent.host_config.links.iter().flatten().filter_map(|l| parse_link(l).ok()).filter_map(|(name, alias)| {
        let id = store.get(&name).ok()?.lock().id.clone();
        Some((id, alias))
    })
}

/// `text` with `ip` on every line whose first name is one of `aliases`.
pub fn readdress_hosts(text: &str, aliases: &[String], ip: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut words = line.split_whitespace();
        let (_, first) = (words.next(), words.next());
        match (line.split_once('\t'), first) {
            (Some((_, names)), Some(first)) if aliases.iter().any(|a| a == first) => {
                out.push_str(ip);
                out.push('\t');
                out.push_str(names);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The Ports map as inspect and the list show it: what the run bound;
/// for a running container without a bridge address its exposed ports,
/// unbound; nothing for a stopped one.
pub fn visible_ports(c: &Container) -> PortMap {
    if !c.state.running {
        return BTreeMap::new();
    }
    if c.state.network.is_allocated() {
        return c.state.network.ports.clone();
    }
    c.config
        .exposed_ports
        .iter()
        .flatten()
        .filter_map(|(k, _)| split_port(k))
        .map(|(port, proto)| (format!("{port}/{proto}"), None))
        .collect()
}

/// The settings a view shows: the run's while it runs, empty otherwise
/// (also for a container a killed daemon left marked with an address).
pub fn visible_settings(c: &Container) -> NetworkState {
    if c.state.running { c.state.network.clone() } else { NetworkState::default() }
}

/// v1.24's `Networks`: one endpoint, on the container's network, with
/// the run's address; what the create body's `EndpointsConfig` gave for
/// it (under its name or `default`, as today's CLI sends it) is kept.
pub fn networks(config: &Config, c: &Container) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    let Some(name) = network_name(config, c) else { return out };
    let given = c
        .networking_config
        .as_ref()
        .and_then(|n| n.get("EndpointsConfig"))
        .and_then(|e| e.get(name).or_else(|| e.get("default")))
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let s = visible_settings(c);
    let keep = |key: &str| given.get(key).cloned().unwrap_or(serde_json::Value::Null);
    out.insert(
        name.to_string(),
        serde_json::json!({
            "IPAMConfig": keep("IPAMConfig"),
            "Links": keep("Links"),
            "Aliases": keep("Aliases"),
            "NetworkID": name,
            "EndpointID": s.endpoint_id,
            "Gateway": s.gateway,
            "IPAddress": s.ip_address,
            "IPPrefixLen": s.ip_prefix_len,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "MacAddress": s.mac_address,
        }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ip: &str, port: &str) -> PortBinding {
        PortBinding { host_ip: ip.into(), host_port: port.into() }
    }

    #[test]
    fn ports_to_publish() {
        let exposed: BTreeMap<String, serde_json::Value> =
            [("80/tcp".to_string(), serde_json::json!({})), ("53/udp".to_string(), serde_json::json!({}))].into();
        let bindings: BTreeMap<String, Option<Vec<PortBinding>>> = [
            ("80/tcp".to_string(), Some(vec![b("127.0.0.1", "8080"), b("", "")])),
            ("443".to_string(), Some(vec![b("", "0")])),
        ]
        .into();
        let (reqs, ports) = port_requests(Some(&exposed), Some(&bindings), false).unwrap();
        let got: Vec<_> = reqs.iter().map(|r| (r.key.as_str(), r.host_ip.as_str(), r.host_ports)).collect();
        // A binding's port is published even when not exposed; an exposed
        // port without a binding is not (no -P).
        assert_eq!(got, [("80/tcp", "127.0.0.1", (8080, 8080)), ("80/tcp", "", (0, 0)), ("443/tcp", "", (0, 0))]);
        assert_eq!(ports.keys().collect::<Vec<_>>(), ["443/tcp", "53/udp", "80/tcp"]);
        assert!(ports.values().all(Option::is_none));

        // -P: every port without a binding gets any host port.
        let (reqs, _) = port_requests(Some(&exposed), Some(&bindings), true).unwrap();
        assert!(reqs.iter().any(|r| r.key == "53/udp" && r.host_ports == (0, 0) && r.proto == "udp"));
        assert_eq!(reqs.iter().filter(|r| r.key == "80/tcp").count(), 2, "bound ones keep their bindings only");

        let range: BTreeMap<String, Option<Vec<PortBinding>>> =
            [("80/tcp".into(), Some(vec![b("", "8000-8002")]))].into();
        assert_eq!(port_requests(None, Some(&range), false).unwrap().0[0].host_ports, (8000, 8002));
        let bad: BTreeMap<String, Option<Vec<PortBinding>>> = [("80/tcp".into(), Some(vec![b("", "x")]))].into();
        assert!(port_requests(None, Some(&bad), false).is_err());
        let sctp: BTreeMap<String, serde_json::Value> = [("80/sctp".into(), serde_json::json!({}))].into();
        assert_eq!(port_requests(Some(&sctp), None, false).unwrap_err().to_string(), "unsupported address type sctp");
        assert!(port_requests(None, None, true).unwrap().0.is_empty());
    }

    #[test]
    fn links_as_written() {
        let p = |s| parse_link(s).unwrap();
        assert_eq!(p("db:alias"), ("db".into(), "alias".into()));
        assert_eq!(p("db"), ("db".into(), "db".into()));
        assert_eq!(p("/db:/web/db"), ("db".into(), "db".into()), "inspect's form comes back from clients");
        assert!(parse_link(":x").is_err());
    }

    #[test]
    fn a_linked_containers_new_address() {
        let text = "127.0.0.1\tlocalhost\n172.17.0.5\tdb 5f0e1d2c3b4a mydb\n172.17.0.9\tdbx\n172.17.0.2\tabc\n";
        let got = readdress_hosts(text, &["db".to_string()], "172.17.0.7");
        assert_eq!(got, "127.0.0.1\tlocalhost\n172.17.0.7\tdb 5f0e1d2c3b4a mydb\n172.17.0.9\tdbx\n172.17.0.2\tabc\n");
        assert_eq!(readdress_hosts(text, &["nope".to_string()], "1.2.3.4"), text);
    }

    #[test]
    fn views_of_a_run() {
        let mut c = Container::default();
        c.config.exposed_ports = Some([("80/tcp".to_string(), serde_json::json!({}))].into());
        assert!(visible_ports(&c).is_empty(), "stopped: no ports");
        c.state.running = true;
        assert_eq!(visible_ports(&c), [("80/tcp".to_string(), None)].into(), "running without a bridge");
        c.state.network.ip_address = "172.17.0.2".into();
        c.state.network.ports = [("80/tcp".to_string(), Some(vec![b("0.0.0.0", "49153")]))].into();
        assert_eq!(visible_ports(&c)["80/tcp"].as_ref().unwrap()[0].host_port, "49153");

        let config = Config::default();
        c.host_config.network_mode = "default".into();
        let n = networks(&config, &c);
        assert_eq!(n["bridge"]["IPAddress"], "172.17.0.2");
        assert!(n["bridge"]["Aliases"].is_null());
        c.state.running = false;
        assert_eq!(networks(&config, &c)["bridge"]["IPAddress"], "", "a stopped container has no address");
        c.host_config.network_mode = "container:abc".into();
        assert!(networks(&config, &c).is_empty());
    }
}
