//! `docker inspect` (`CmdInspect` of Docker 1.2): each name is looked up as
//! a container, then as an image; the objects found print as one indented
//! JSON array in the daemon's own key order, or through `-f` (see
//! [`super::template`]) one line each. Misses are reported after the
//! output, `Error: No such object: NAME` as today's CLI words it, and make
//! the exit status 1.

use http::Method;
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use super::template::Template;
use crate::client::{CliError, DockerCli};

/// `docker inspect`.
pub async fn cmd_inspect(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "inspect",
        "[OPTIONS] CONTAINER|IMAGE [CONTAINER|IMAGE...]",
        "Return low-level information on a container or image",
    );
    cmd.flags.string(&["f", "#format", "-format"], "", "Format the output using the given go template");
    cmd.flags.string(&["-type"], "", "Return JSON for specified type, (e.g image or container)");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("inspect", &rest, Count::AtLeast(1))?;
    let format = cmd.flags.get_string("format");
    let template = if format.is_empty() {
        None
    } else {
        Some(Template::parse(&format).map_err(|e| CliError::Other(format!("Template parsing error: {e}")))?)
    };
    let kind = cmd.flags.get_string("type");
    if !matches!(kind.as_str(), "" | "container" | "image") {
        return Err(CliError::Usage(format!("\"{kind}\" is not a valid value for --type")));
    }

    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for name in &rest {
        match lookup(cli, name, &kind).await {
            Ok(Some(raw)) => found.push(raw),
            Ok(None) => errors.push(format!("Error: No such object: {name}")),
            Err(e) => errors.push(e.to_string()),
        }
    }

    match &template {
        None => print!("{}", json_array(&found)?),
        Some(t) => {
            for raw in &found {
                let value: Value = serde_json::from_slice(raw)
                    .map_err(|e| CliError::Other(format!("Error reading the object: {e}")))?;
                let line = t.execute(&value).map_err(|e| CliError::Other(format!("Template parsing error: {e}")))?;
                println!("{line}");
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(CliError::Other(errors.join("\n"))) }
}

/// The raw JSON of `name`, `None` when it is neither kind asked for. A
/// container lookup that fails for any reason but the connection falls
/// through to the image lookup, so an image can always be inspected.
async fn lookup(cli: &DockerCli, name: &str, kind: &str) -> Result<Option<Vec<u8>>, CliError> {
    if kind != "image" {
        match cli.call_found(Method::GET, &format!("/containers/{name}/json")).await {
            Ok(Some(raw)) => return Ok(Some(raw.to_vec())),
            Ok(None) | Err(CliError::Daemon(_)) if kind.is_empty() => {}
            Ok(None) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(cli.call_found(Method::GET, &format!("/images/{name}/json")).await?.map(|b| b.to_vec()))
}

/// `[` + each object indented by four spaces + `]`, as today's CLI prints.
fn json_array(objects: &[Vec<u8>]) -> Result<String, CliError> {
    if objects.is_empty() {
        return Ok("[]\n".into());
    }
    let mut out = String::from("[\n");
    for (n, raw) in objects.iter().enumerate() {
        if n > 0 {
            out.push_str(",\n");
        }
        out.push_str("    ");
        out.push_str(&indent(raw, "    ", "    ")?);
    }
    out.push_str("\n]\n");
    Ok(out)
}

/// Go's `json.Indent`: re-lays raw JSON without reordering keys; `{}` and
/// `[]` stay on one line.
fn indent(raw: &[u8], prefix: &str, step: &str) -> Result<String, CliError> {
    serde_json::from_slice::<Value>(raw).map_err(|e| CliError::Other(format!("Error reading the object: {e}")))?;
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(raw.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(prefix);
        for _ in 0..depth {
            out.push_str(step);
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_indent_in_the_daemons_key_order() {
        let raw =
            br#"{"Id":"sha256:1","RepoTags":["a:b","c:d"],"Config":{"Env":[],"Labels":{}},"Comment":"x, {y}: \"z\""}"#;
        assert_eq!(
            json_array(&[raw.to_vec()]).unwrap(),
            concat!(
                "[\n",
                "    {\n",
                "        \"Id\": \"sha256:1\",\n",
                "        \"RepoTags\": [\n",
                "            \"a:b\",\n",
                "            \"c:d\"\n",
                "        ],\n",
                "        \"Config\": {\n",
                "            \"Env\": [],\n",
                "            \"Labels\": {}\n",
                "        },\n",
                "        \"Comment\": \"x, {y}: \\\"z\\\"\"\n",
                "    }\n",
                "]\n",
            )
        );
    }

    #[test]
    fn several_objects_and_none() {
        assert_eq!(json_array(&[]).unwrap(), "[]\n");
        let out = json_array(&[b"{\"a\":1}".to_vec(), b"{ \"b\" : null }".to_vec()]).unwrap();
        assert_eq!(out, "[\n    {\n        \"a\": 1\n    },\n    {\n        \"b\": null\n    }\n]\n");
        assert!(json_array(&[b"{nope".to_vec()]).is_err());
    }
}
