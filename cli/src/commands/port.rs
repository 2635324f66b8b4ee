//! `docker port` (`CmdPort` of Docker 1.2): a container's published ports,
//! read from `NetworkSettings.Ports` of its inspect answer. With a port
//! (`80`, `80/tcp`, `53/udp`) only that port's host addresses are printed,
//! and a port with none is an error, as in 1.2.

use http::Method;
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use crate::client::{CliError, DockerCli};

/// `docker port CONTAINER [PRIVATE_PORT[/PROTO]]`.
pub async fn cmd_port(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "port",
        "CONTAINER [PRIVATE_PORT[/PROTO]]",
        "List port mappings for the CONTAINER, or lookup the public-facing port that is NAT-ed to the PRIVATE_PORT",
    );
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("port", &rest, Count::Between(1, 2))?;
    let body = cli.call(Method::GET, &format!("/containers/{}/json", rest[0]), None).await?;
    let inspect: Value = serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("Error: {e}")))?;
    let ports = mappings(&inspect["NetworkSettings"]["Ports"]);
    match rest.get(1) {
        None => {
            for (port, host) in &ports {
                println!("{port} -> {host}");
            }
            Ok(())
        }
        Some(wanted) => {
            let key = if wanted.contains('/') { wanted.clone() } else { format!("{wanted}/tcp") };
            let hosts: Vec<&String> = ports.iter().filter(|(p, _)| *p == key).map(|(_, h)| h).collect();
            if hosts.is_empty() {
                return Err(CliError::Other(format!("Error: No public port '{wanted}' published for {}", rest[0])));
            }
            for host in hosts {
                println!("{host}");
            }
            Ok(())
        }
    }
}

/// `(port/proto, host_ip:host_port)` for every binding, sorted by port
/// number then protocol; ports without a binding (exposed only) are left
/// out, as `docker port` does.
fn mappings(ports: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(map) = ports.as_object() else { return out };
    for (port, bindings) in map {
        for b in bindings.as_array().into_iter().flatten() {
            let ip = b["HostIp"].as_str().filter(|s| !s.is_empty()).unwrap_or("0.0.0.0");
            let host_port = b["HostPort"].as_str().unwrap_or("");
            out.push((port.clone(), format!("{ip}:{host_port}")));
        }
    }
    let number = |p: &str| p.split('/').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
    out.sort_by(|a, b| number(&a.0).cmp(&number(&b.0)).then_with(|| a.cmp(b)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_listed_sorted_and_unbound_ports_left_out() {
        let ports = serde_json::json!({
            "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49154"}],
            "53/udp": [{"HostIp": "", "HostPort": "49153"}],
            "443/tcp": null,
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}, {"HostIp": "::", "HostPort": "8000"}]
        });
        let got = mappings(&ports);
        let want = [
            ("53/udp", "0.0.0.0:49153"),
            ("80/tcp", "0.0.0.0:80"),
            ("80/tcp", ":::8000"),
            ("8080/tcp", "127.0.0.1:49154"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
        assert!(mappings(&Value::Null).is_empty());
    }
}
