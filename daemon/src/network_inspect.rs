//! `network_inspect` (`GET /networks/{name}`, API v1.21+), answered from
//! Docker 1.2's fixed network modes: there are no user-defined networks, so
//! only `bridge`, `host` and `none` exist, and any other name is a 404 with
//! dockerd's text. Without it the docker CLI's `inspect NAME`, which asks
//! for a container, then an image, then a network, would end on a 501
//! instead of `No such object: NAME`.

use engine::{ErrorKind, Job, Status};
use serde_json::json;

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
    let answer = json!({
        "Name": name,
        "Id": name,
        "Scope": "local",
        "Driver": driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": []},
        "Internal": false,
        "Containers": {},
        "Options": {},
        "Labels": {},
    });
    match job.print(answer.to_string()).await {
        Ok(()) => Status::OK,
        Err(e) => job.errorf(format!("network_inspect: {e}")).await,
    }
}
