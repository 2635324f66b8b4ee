//! `network_inspect` (`GET /networks/{name}`, API v1.21+), answered from
//! Docker 1.2's fixed network modes: there are no user-defined networks, so
//! only `bridge`, `host` and `none` exist, and any other name is a 404 with
//! dockerd's text. Without it the docker CLI's `inspect NAME`, which asks
//! for a container, then an image, then a network, would end on a 501
//! instead of `No such object: NAME`.
//!
//! `bridge` shows its subnet and gateway (from `--bip`, else from the
//! address of a running container: the driver has no job that tells) and
//! its running containers' endpoints.

use engine::{ErrorKind, Job, Status};
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::Daemon;

/// Runs `network_inspect NAME`.
pub async fn network_inspect(daemon: Daemon, job: Job) -> Status {
    let Some(name) = job.args().into_iter().next() else {
        return job.errorf("Usage: network_inspect NAME").await;
    };
    let driver = match name.as_str() {
        "bridge" if !daemon.config().network_disabled() => "bridge",
        "host" => "host",
        "none" => "null",
        _ => return job.fail(ErrorKind::NotFound, format!("network {name} not found")).await,
    };
    let (ipam, containers) = if driver == "bridge" { bridge_view(&daemon) } else { (Vec::new(), Default::default()) };
    let answer = json!({
        "Name": name,
        "Id": name,
        "Scope": "local",
        "Driver": driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": ipam},
        "Internal": false,
        "Containers": containers,
        "Options": {},
        "Labels": {},
    });
    match job.print(answer.to_string()).await {
        Ok(()) => Status::OK,
        Err(e) => job.errorf(format!("network_inspect: {e}")).await,
    }
}

/// The bridge's IPAM config and its running containers' endpoints.
fn bridge_view(daemon: &Daemon) -> (Vec<Value>, serde_json::Map<String, Value>) {
    let mut containers = serde_json::Map::new();
    let mut ipam = daemon.config().bridge_ip.map(|bip| subnet(bip.addr, bip.prefix));
    for c in daemon.containers().list() {
        let n = &c.state.network;
        if !c.state.running || !n.is_allocated() {
            continue;
        }
        if ipam.is_none()
            && let (Ok(gateway), Ok(prefix)) = (n.gateway.parse::<Ipv4Addr>(), u8::try_from(n.ip_prefix_len))
        {
            ipam = Some(subnet(gateway, prefix));
        }
        containers.insert(
            c.id.clone(),
            json!({
                "Name": c.name,
                "EndpointID": n.endpoint_id,
                "MacAddress": n.mac_address,
                "IPv4Address": format!("{}/{}", n.ip_address, n.ip_prefix_len),
                "IPv6Address": "",
            }),
        );
    }
    (ipam.into_iter().collect(), containers)
}

/// `{"Subnet": "172.17.0.0/16", "Gateway": "172.17.42.1"}` of a bridge
/// address.
fn subnet(gateway: Ipv4Addr, prefix: u8) -> Value {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
    let network = Ipv4Addr::from(u32::from(gateway) & mask);
    json!({"Subnet": format!("{network}/{prefix}"), "Gateway": gateway.to_string()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_of_bridge_addresses() {
        assert_eq!(
            subnet(Ipv4Addr::new(172, 17, 42, 1), 16),
            json!({"Subnet": "172.17.0.0/16", "Gateway": "172.17.42.1"})
        );
        assert_eq!(subnet(Ipv4Addr::new(10, 201, 7, 1), 24)["Subnet"], "10.201.7.0/24");
        assert_eq!(subnet(Ipv4Addr::new(10, 1, 2, 3), 0)["Subnet"], "0.0.0.0/0");
    }
}
