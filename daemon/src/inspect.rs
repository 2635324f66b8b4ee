//! The `container_inspect` job (`daemon/inspect.go`) in the v1.24 shape,
//! every sub-object present (today's CLI dereferences them unchecked):
//! the run's network settings and `Networks`, and the links as dockerd
//! shows them (`/db:/web/db`).

use engine::{Job, Status};
use runconfig::container::{ContainerJson, NetworkSettings};
use runconfig::image::GraphDriverData;

use crate::Daemon;
use crate::container::Container;
use crate::network;

/// Runs `container_inspect NAME`: prints the container's JSON.
pub async fn inspect(daemon: Daemon, job: Job) -> Status {
    let args = job.args();
    let [name] = args.as_slice() else {
        return job.errorf("usage: container_inspect NAME").await;
    };
    let c = match daemon.containers().get(name) {
        Ok(handle) => handle.lock().clone(),
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let json = to_json(&daemon, &c);
    match serde_json::to_vec(&json) {
        Ok(body) => match job.print(body).await {
            Ok(()) => Status::OK,
            Err(e) => job.errorf(format!("container_inspect: {e}")).await,
        },
        Err(e) => job.errorf(format!("container_inspect: {e}")).await,
    }
}

/// The inspect shape of a container.
pub fn to_json(daemon: &Daemon, c: &Container) -> ContainerJson {
    let dir = c.dir(daemon.containers().dir());
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut host_config = c.host_config.clone();
    if host_config.log_config.r#type.is_empty() {
        host_config.log_config.r#type = "json-file".into();
    }
    if let Some(links) = &mut host_config.links {
        for link in links.iter_mut() {
            *link = shown_link(daemon, &c.name, link);
        }
    }
    let run = network::visible_settings(c);
    ContainerJson {
        id: c.id.clone(),
        created: c.created.clone(),
        path: c.path.clone(),
        args: c.args.clone(),
        state: c.state.to_wire(),
        image: c.image.clone(),
        resolv_conf_path: path("resolv.conf"),
        hostname_path: path("hostname"),
        hosts_path: path("hosts"),
        log_path: c.log_path(daemon.containers().dir()).to_string_lossy().into_owned(),
        name: format!("/{}", c.name),
        restart_count: c.restart_count,
        driver: c.driver.clone(),
        mount_label: String::new(),
        process_label: String::new(),
        app_armor_profile: String::new(),
        exec_ids: None,
        host_config,
        graph_driver: GraphDriverData { name: c.driver.clone(), data: daemon.graph().driver().metadata(c.layer_id()) },
        size_rw: None,
        size_root_fs: None,
        mounts: crate::volumes::to_wire(c),
        config: c.config.clone(),
        network_settings: NetworkSettings {
            bridge: run.bridge,
            ports: network::visible_ports(c),
            networks: network::networks(daemon.config(), c),
            secondary_ip_addresses: None,
            secondary_ipv6_addresses: None,
            endpoint_id: run.endpoint_id,
            gateway: run.gateway,
            ip_address: run.ip_address,
            ip_prefix_len: run.ip_prefix_len,
            mac_address: run.mac_address,
            ..Default::default()
        },
    }
}

/// A link as dockerd shows it, `/db:/web/db` (the linked container's
/// current name, the alias under the container's); as given when the
/// linked container does not exist (any more).
fn shown_link(daemon: &Daemon, name: &str, link: &str) -> String {
    let Ok((child, alias)) = network::parse_link(link) else { return link.to_string() };
    match daemon.containers().get(&child) {
        Ok(handle) => format!("/{}:/{name}/{alias}", handle.lock().name),
        Err(_) => link.to_string(),
    }
}
