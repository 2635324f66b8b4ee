//! `docker history` (`CmdHistory` of Docker 1.2) in today's CLI columns:
//! `IMAGE CREATED CREATED BY SIZE COMMENT`. `-H=false` prints RFC 3339
//! times (UTC here, where Go used local time) and sizes in bytes.

use std::time::{Duration, UNIX_EPOCH};

use http::Method;
use runconfig::jsonmessage::human_size;
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use super::format::{cli_table, ellipsis, short_id, since};
use crate::client::{CliError, DockerCli};

/// `docker history`.
pub async fn cmd_history(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("history", "[OPTIONS] IMAGE", "Show the history of an image");
    cmd.flags.bool(&["H", "-human"], true, "Print sizes and dates in human readable format");
    cmd.flags.bool(&["q", "-quiet"], false, "Only show image IDs");
    cmd.flags.bool(&["#notrunc", "-no-trunc"], false, "Don't truncate output");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("history", &rest, Count::Exactly(1))?;
    let body = cli.call(Method::GET, &format!("/images/{}/history", rest[0]), None).await?;
    let items: Vec<Value> =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("Error reading the history: {e}")))?;
    let options = Options { human: cmd.flags.get_bool("human"), trunc: !cmd.flags.get_bool("no-trunc") };
    if cmd.flags.get_bool("quiet") {
        for item in &items {
            println!("{}", id(item, options.trunc));
        }
    } else {
        print!("{}", cli_table(&rows(&items, options)));
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Options {
    human: bool,
    trunc: bool,
}

fn id(item: &Value, trunc: bool) -> String {
    let id = item.get("Id").and_then(Value::as_str).unwrap_or_default();
    // `<missing>` stands for a layer with no image of its own.
    if trunc && !id.starts_with('<') { short_id(id) } else { id.to_string() }
}

fn rows(items: &[Value], options: Options) -> Vec<Vec<String>> {
    let mut rows = vec![["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"].map(str::to_string).to_vec()];
    for item in items {
        let created = item.get("Created").and_then(Value::as_i64).unwrap_or(0);
        let size = item.get("Size").and_then(Value::as_i64).unwrap_or(0);
        let created_by = item.get("CreatedBy").and_then(Value::as_str).unwrap_or_default().replace('\t', " ");
        rows.push(vec![
            id(item, options.trunc),
            if options.human {
                since(created)
            } else {
                humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(created.max(0) as u64)).to_string()
            },
            if options.trunc { ellipsis(&created_by, 45) } else { created_by },
            if options.human { human_size(size) } else { size.to_string() },
            item.get("Comment").and_then(Value::as_str).unwrap_or_default().to_string(),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Value> {
        serde_json::from_value(serde_json::json!([
            {"Id":"sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824","Created":1700000000,
             "CreatedBy":"/bin/sh -c #(nop)  CMD [\"sh\"]","Tags":["busybox:latest"],"Size":0,"Comment":""},
            {"Id":"<missing>","Created":1700000000,
             "CreatedBy":"/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / ","Size":4261550,"Comment":"imported"},
        ]))
        .unwrap()
    }

    #[test]
    fn human_rows() {
        let out = cli_table(&rows(&sample(), Options { human: true, trunc: true }));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("IMAGE          CREATED       "), "{}", lines[0]);
        assert!(lines[1].starts_with("a416a98b71e2   "), "{}", lines[1]);
        assert!(lines[2].starts_with("<missing>      "), "{}", lines[2]);
        assert!(
            lines[2].contains("/bin/sh -c #(nop) ADD file:0123456789abcdef0…   4.26MB    imported"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn raw_rows() {
        let table = rows(&sample(), Options { human: false, trunc: false });
        assert_eq!(table[1][1], "2023-11-14T22:13:20Z");
        assert_eq!(table[2][3], "4261550");
        assert!(table[1][0].starts_with("sha256:"));
        assert_eq!(table[2][0], "<missing>");
    }
}
