//! `docker diff` and `docker export` (`CmdDiff`, `CmdExport` of Docker
//! 1.2): a container's changes against its image, one `C`/`A`/`D` line per
//! path, and its whole file system as a tar streamed to a file or stdout.

use std::io::IsTerminal;
use std::path::Path;

use http::Method;

use super::Subcmd;
use super::args::{Count, check};
use super::save_load::{copy_body, save_to_file};
use crate::client::{CliError, DockerCli};

/// `docker diff CONTAINER`.
pub async fn cmd_diff(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd =
        Subcmd::new("diff", "CONTAINER", "Inspect changes to files or directories on a container's filesystem");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("diff", &rest, Count::Exactly(1))?;
    let body = cli.call(Method::GET, &format!("/containers/{}/changes", rest[0]), None).await?;
    // dockerd writes `null` for a container without changes.
    let changes: Option<Vec<serde_json::Value>> = serde_json::from_slice(&body)
        .map_err(|e| CliError::Other(format!("reading the changes of {}: {e}", rest[0])))?;
    let mut out = String::new();
    for change in changes.unwrap_or_default() {
        out.push_str(&diff_line(&change));
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// `C /path`, `A /path` or `D /path`.
fn diff_line(change: &serde_json::Value) -> String {
    let kind = match change["Kind"].as_i64() {
        Some(0) => "C",
        Some(1) => "A",
        Some(2) => "D",
        _ => "?",
    };
    format!("{kind} {}", change["Path"].as_str().unwrap_or(""))
}

/// `docker export [-o FILE] CONTAINER`.
pub async fn cmd_export(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("export", "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive");
    cmd.flags.string(&["o", "-output"], "", "Write to a file, instead of STDOUT");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("export", &rest, Count::Exactly(1))?;
    let output = cmd.flags.get_string("output");
    // Today's CLI's check (1.2 wrote the tar to any stdout).
    if output.is_empty() && std::io::stdout().is_terminal() {
        return Err(CliError::Other("Cowardly refusing to save to a terminal. Use the -o flag or redirect.".into()));
    }
    let body = cli.stream(Method::GET, &format!("/containers/{}/export", rest[0])).await?;
    if output.is_empty() {
        copy_body(body, &mut std::io::stdout().lock()).await
    } else {
        save_to_file(body, Path::new(&output)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_as_docker_prints_them() {
        assert_eq!(diff_line(&serde_json::json!({"Path": "/tmp", "Kind": 0})), "C /tmp");
        assert_eq!(diff_line(&serde_json::json!({"Path": "/tmp/x", "Kind": 1})), "A /tmp/x");
        assert_eq!(diff_line(&serde_json::json!({"Path": "/etc/y", "Kind": 2})), "D /etc/y");
    }
}
