//! `docker ps` (`CmdPs` of Docker 1.2) in today's CLI layout:
//! `CONTAINER ID  IMAGE  COMMAND  CREATED  STATUS  PORTS  NAMES` (plus
//! `SIZE` with `-s`). `-f k=v` goes to the daemon as `filters` in the map
//! form, as `docker images` sends it; `-n N` and `-l` become `limit`.
//! Departures from 1.2: `--since`/`--before` are gone (today's `-f since=`
//! replaces them), and the command is quoted and cut with `…` as today.

use http::Method;
use runconfig::container::{ContainerSummary, Port};
use runconfig::jsonmessage::human_size;

use super::Subcmd;
use super::args::{Count, check};
use super::format::{cli_table, ellipsis, short_id, since};
use super::images::parse_filters;
use crate::client::{CliError, DockerCli};

/// `docker ps`.
pub async fn cmd_ps(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("ps", "[OPTIONS]", "List containers");
    cmd.flags.bool(&["a", "-all"], false, "Show all containers. Only running containers are shown by default.");
    cmd.flags.bool(&["q", "-quiet"], false, "Only display numeric IDs");
    cmd.flags.bool(&["s", "-size"], false, "Display total file sizes");
    cmd.flags.bool(&["#notrunc", "-no-trunc"], false, "Don't truncate output");
    cmd.flags.bool(&["l", "-latest"], false, "Show only the latest created container, include non-running ones.");
    cmd.flags.int(&["n", "-last"], -1, "Show n last created containers, include non-running ones.");
    cmd.flags.list(&["f", "-filter"], "Provide filter values (i.e. 'exited=0')");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("ps", &rest, Count::Exactly(0))?;

    let filters = parse_filters(&cmd.flags.get_list("filter"))?;
    let limit = if cmd.flags.get_bool("latest") { 1 } else { cmd.flags.get_int("last") };
    let size = cmd.flags.get_bool("size");
    let mut query = form_urlencoded::Serializer::new(String::new());
    if cmd.flags.get_bool("all") {
        query.append_pair("all", "1");
    }
    if limit > 0 {
        query.append_pair("limit", &limit.to_string());
    }
    if size {
        query.append_pair("size", "1");
    }
    if !filters.is_empty() {
        let json =
            serde_json::to_string(&filters).map_err(|e| CliError::Other(format!("encoding the filters: {e}")))?;
        query.append_pair("filters", &json);
    }
    let query = query.finish();
    let path = if query.is_empty() { "/containers/json".to_string() } else { format!("/containers/json?{query}") };
    let body = cli.call(Method::GET, &path, None).await?;
    let containers: Vec<ContainerSummary> =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("Error reading the container list: {e}")))?;
    let no_trunc = cmd.flags.get_bool("no-trunc");
    if cmd.flags.get_bool("quiet") {
        for c in &containers {
            println!("{}", if no_trunc { c.id.clone() } else { short_id(&c.id) });
        }
    } else {
        print!("{}", cli_table(&rows(&containers, no_trunc, size)));
    }
    Ok(())
}

/// The table, header first.
fn rows(containers: &[ContainerSummary], no_trunc: bool, size: bool) -> Vec<Vec<String>> {
    let mut header = vec!["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];
    if size {
        header.push("SIZE");
    }
    let mut rows = vec![header.into_iter().map(str::to_string).collect::<Vec<_>>()];
    for c in containers {
        let trunc = !no_trunc;
        let id = if trunc { short_id(&c.id) } else { c.id.clone() };
        let image = if trunc && c.image.starts_with("sha256:") { short_id(&c.image) } else { c.image.clone() };
        let command = if trunc { ellipsis(&c.command, 20) } else { c.command.clone() };
        let mut row = vec![
            id,
            image,
            format!("{command:?}"),
            since(c.created),
            c.status.clone(),
            ports(&c.ports),
            names(&c.names, trunc),
        ];
        if size {
            let rw = human_size(c.size_rw.unwrap_or(0));
            row.push(format!("{rw} (virtual {})", human_size(c.size_root_fs.unwrap_or(0))));
        }
        rows.push(row);
    }
    rows
}

/// `0.0.0.0:8080->80/tcp, 443/tcp`.
fn ports(ports: &[Port]) -> String {
    let one = |p: &Port| match (p.public_port, p.ip.as_str()) {
        (Some(public), ip) if ip.contains(':') => format!("[{ip}]:{public}->{}/{}", p.private_port, p.kind),
        (Some(public), ip) if !ip.is_empty() => format!("{ip}:{public}->{}/{}", p.private_port, p.kind),
        _ => format!("{}/{}", p.private_port, p.kind),
    };
    ports.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// Names without their `/`; truncated, only the container's own name (the
/// first without another `/`, which link names carry).
fn names(names: &[String], trunc: bool) -> String {
    let stripped: Vec<&str> = names.iter().map(|n| n.strip_prefix('/').unwrap_or(n)).collect();
    if trunc && let Some(own) = stripped.iter().find(|n| !n.contains('/')) {
        return own.to_string();
    }
    stripped.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4e5d6c7b8a91a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081920";

    fn sample() -> Vec<ContainerSummary> {
        serde_json::from_value(serde_json::json!([
            {"Id": ID, "Names": ["/web", "/other/alias"], "Image": "busybox", "ImageID": "sha256:1",
             "Command": "sleep 1", "Created": 0, "Ports": [], "Labels": {}, "State": "created", "Status": "Created",
             "HostConfig": {"NetworkMode": "default"}, "NetworkSettings": {"Networks": {}}, "Mounts": []},
            {"Id": "abcdefabcdef0123", "Names": ["/db"], "Image": "sha256:0123456789abcdef", "ImageID": "sha256:2",
             "Command": "/bin/sh -c 'while true; do sleep 1; done'", "Created": 0,
             "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                       {"PrivatePort": 53, "Type": "udp"}],
             "Labels": {}, "State": "exited", "Status": "Exited (0) 3 seconds ago", "SizeRw": 12, "SizeRootFs": 4261550,
             "HostConfig": {"NetworkMode": "default"}, "NetworkSettings": {"Networks": {}}, "Mounts": []},
        ]))
        .unwrap()
    }

    #[test]
    fn rows_in_cli_columns() {
        let out = cli_table(&rows(&sample(), false, false));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "CONTAINER ID   IMAGE          COMMAND                  CREATED        STATUS                     PORTS                          NAMES"
        );
        assert!(lines[1].starts_with("3f4e5d6c7b8a   busybox        \"sleep 1\"                "), "{}", lines[1]);
        assert!(
            lines[1].ends_with(" ago   Created                                                   web"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("abcdefabcdef   0123456789ab   \"/bin/sh -c 'while t…\"   "), "{}", lines[2]);
        assert!(lines[2].ends_with("Exited (0) 3 seconds ago   0.0.0.0:8080->80/tcp, 53/udp   db"), "{}", lines[2]);
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn no_trunc_and_sizes() {
        let table = rows(&sample(), true, true);
        assert_eq!(table[0].last().unwrap(), "SIZE");
        assert_eq!(table[1][0], ID);
        assert_eq!(table[1][6], "web,other/alias");
        assert_eq!(table[2][1], "sha256:0123456789abcdef");
        assert_eq!(table[2][2], "\"/bin/sh -c 'while true; do sleep 1; done'\"");
        assert_eq!(table[2][7], "12B (virtual 4.26MB)");
    }

    #[test]
    fn port_forms() {
        let v6 = Port { ip: "::".into(), private_port: 80, public_port: Some(80), kind: "tcp".into() };
        assert_eq!(ports(&[v6]), "[::]:80->80/tcp");
        assert_eq!(ports(&[]), "");
    }
}
