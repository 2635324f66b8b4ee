//! `docker rmi` (`CmdRmi` of Docker 1.2): `DELETE /images/{name}` for each
//! name, printing `Untagged: …`/`Deleted: …` per entry of the answer. A
//! failure does not stop the others; all failures are reported at the end
//! and make the exit status 1.

use http::Method;
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use crate::client::{CliError, DockerCli};

/// `docker rmi`.
pub async fn cmd_rmi(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images");
    cmd.flags.bool(&["f", "-force"], false, "Force removal of the image");
    cmd.flags.bool(&["-no-prune"], false, "Do not delete untagged parents");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("rmi", &rest, Count::AtLeast(1))?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    if cmd.flags.get_bool("force") {
        query.append_pair("force", "1");
    }
    if cmd.flags.get_bool("no-prune") {
        query.append_pair("noprune", "1");
    }
    let query = query.finish();
    let mut errors = Vec::new();
    for name in &rest {
        let path = if query.is_empty() { format!("/images/{name}") } else { format!("/images/{name}?{query}") };
        match cli.call(Method::DELETE, &path, None).await {
            Ok(body) => match lines(&body) {
                Ok(text) => print!("{text}"),
                Err(e) => errors.push(e.to_string()),
            },
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(CliError::Other(errors.join("\n"))) }
}

/// `[{"Untagged":"a:b"},{"Deleted":"sha256:…"}]` as output lines.
fn lines(body: &[u8]) -> Result<String, CliError> {
    let items: Vec<Value> =
        serde_json::from_slice(body).map_err(|e| CliError::Other(format!("Error reading the daemon's answer: {e}")))?;
    let mut out = String::new();
    for item in &items {
        for key in ["Untagged", "Deleted"] {
            if let Some(v) = item.get(key).and_then(Value::as_str) {
                out.push_str(&format!("{key}: {v}\n"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_lines() {
        let body = br#"[{"Untagged":"busybox:latest"},{"Untagged":"busybox@sha256:d"},{"Deleted":"sha256:a"}]"#;
        assert_eq!(lines(body).unwrap(), "Untagged: busybox:latest\nUntagged: busybox@sha256:d\nDeleted: sha256:a\n");
        assert!(lines(b"nope").is_err());
        assert_eq!(lines(b"[]").unwrap(), "");
    }
}
