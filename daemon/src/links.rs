//! The environment a link gives the container that links (Docker 1.2's
//! `links.Link.ToEnv`): for `--link db:alias`, `ALIAS_PORT` (the lowest
//! exposed port, tcp first on a tie), per exposed port
//! `ALIAS_PORT_80_TCP`, `_ADDR`, `_PORT`, `_PROTO`, then `ALIAS_NAME` and
//! the linked container's own environment as `ALIAS_ENV_*` (but `HOME`
//! and `PATH`).

use std::net::Ipv4Addr;

/// The variables, in Docker 1.2's order. `name` is the link's full name
/// (`/web/db`: the linking container's name, then the alias); `exposed`
/// the linked container's exposed ports; `child_env` its `KEY=VALUE`s.
pub fn link_env(name: &str, child_ip: Ipv4Addr, exposed: &[(u16, &str)], child_env: &[String]) -> Vec<String> {
    let alias = name.rsplit('/').next().unwrap_or(name).to_uppercase().replace('-', "_");
    let mut ports = exposed.to_vec();
    // Lowest first; on the same number tcp before udp.
    ports.sort();
    ports.dedup();
    let mut env = Vec::new();
    if let Some((port, proto)) = ports.first() {
        env.push(format!("{alias}_PORT={proto}://{child_ip}:{port}"));
    }
    for (port, proto) in &ports {
        let key = format!("{alias}_PORT_{port}_{}", proto.to_uppercase());
        env.push(format!("{key}={proto}://{child_ip}:{port}"));
        env.push(format!("{key}_ADDR={child_ip}"));
        env.push(format!("{key}_PORT={port}"));
        env.push(format!("{key}_PROTO={proto}"));
    }
    env.push(format!("{alias}_NAME={name}"));
    for var in child_env {
        // Split at the first `=`, as today's dockerd does; Docker 1.2
        // dropped any value that itself held a `=`.
        let Some((key, value)) = var.split_once('=') else { continue };
        if key == "HOME" || key == "PATH" {
            continue;
        }
        env.push(format!("{alias}_ENV_{key}={value}"));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_of_a_link() {
        let env = link_env(
            "/web/my-db",
            Ipv4Addr::new(172, 17, 0, 5),
            &[(6379, "tcp"), (53, "udp"), (53, "tcp")],
            &["PATH=/bin".into(), "PASSWORD=a=b".into(), "HOME=/root".into(), "BARE".into()],
        );
        assert_eq!(
            env,
            [
                "MY_DB_PORT=tcp://172.17.0.5:53",
                "MY_DB_PORT_53_TCP=tcp://172.17.0.5:53",
                "MY_DB_PORT_53_TCP_ADDR=172.17.0.5",
                "MY_DB_PORT_53_TCP_PORT=53",
                "MY_DB_PORT_53_TCP_PROTO=tcp",
                "MY_DB_PORT_53_UDP=udp://172.17.0.5:53",
                "MY_DB_PORT_53_UDP_ADDR=172.17.0.5",
                "MY_DB_PORT_53_UDP_PORT=53",
                "MY_DB_PORT_53_UDP_PROTO=udp",
                "MY_DB_PORT_6379_TCP=tcp://172.17.0.5:6379",
                "MY_DB_PORT_6379_TCP_ADDR=172.17.0.5",
                "MY_DB_PORT_6379_TCP_PORT=6379",
                "MY_DB_PORT_6379_TCP_PROTO=tcp",
                "MY_DB_NAME=/web/my-db",
                "MY_DB_ENV_PASSWORD=a=b",
            ]
        );
        let bare = link_env("/a/b", Ipv4Addr::new(10, 0, 0, 2), &[], &[]);
        assert_eq!(bare, ["B_NAME=/a/b"], "no ports, no _PORT");
    }
}
