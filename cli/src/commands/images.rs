//! `docker images` (`CmdImages` of Docker 1.2) in today's CLI layout:
//! `REPOSITORY TAG [DIGEST] IMAGE ID CREATED SIZE`, one row per tag,
//! `<none>` for untagged images. The REPOSITORY argument and `-f k=v` go to
//! the daemon as `filters` (`{"reference":{"busybox":true}}`), as today's
//! CLI sends them; 1.2's `filter=` glob and `--tree`/`--viz` are gone.

use std::collections::BTreeMap;

use http::Method;
use runconfig::jsonmessage::human_size;
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use super::format::{cli_table, short_id, since, split_repo_tag};
use crate::client::{CliError, DockerCli};

/// `docker images`.
pub async fn cmd_images(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images");
    cmd.flags.bool(&["a", "-all"], false, "Show all images (default hides intermediate images)");
    cmd.flags.bool(&["q", "-quiet"], false, "Only show image IDs");
    cmd.flags.bool(&["#notrunc", "-no-trunc"], false, "Don't truncate output");
    cmd.flags.bool(&["-digests"], false, "Show digests");
    cmd.flags.list(&["f", "-filter"], "Filter output based on conditions provided (i.e. 'dangling=true')");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("images", &rest, Count::Between(0, 1))?;

    let mut filters = parse_filters(&cmd.flags.get_list("filter"))?;
    if let Some(reference) = rest.first() {
        filters.entry("reference".into()).or_default().insert(reference.clone(), true);
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    if cmd.flags.get_bool("all") {
        query.append_pair("all", "1");
    }
    if !filters.is_empty() {
        query.append_pair("filters", &serde_json::to_string(&filters).unwrap_or_default());
    }
    let query = query.finish();
    let path = if query.is_empty() { "/images/json".to_string() } else { format!("/images/json?{query}") };
    let body = cli.call(Method::GET, &path, None).await?;
    let images: Vec<Value> =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("Error reading the image list: {e}")))?;
    let options = Options { no_trunc: cmd.flags.get_bool("no-trunc"), digests: cmd.flags.get_bool("digests") };
    if cmd.flags.get_bool("quiet") {
        print!("{}", quiet(&images, options.no_trunc));
    } else {
        print!("{}", cli_table(&rows(&images, options)));
    }
    Ok(())
}

/// `-f k=v` flags in the `{"k":{"v":true}}` form.
pub fn parse_filters(flags: &[String]) -> Result<BTreeMap<String, BTreeMap<String, bool>>, CliError> {
    let mut filters: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
    for f in flags {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("bad format of filter (expected name=value): {f}")))?;
        filters.entry(k.trim().to_lowercase()).or_default().insert(v.trim().to_string(), true);
    }
    Ok(filters)
}

#[derive(Clone, Copy)]
struct Options {
    no_trunc: bool,
    digests: bool,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

fn display_id(id: &str, no_trunc: bool) -> String {
    if no_trunc { id.to_string() } else { short_id(id) }
}

/// `-q`: each image's ID once.
fn quiet(images: &[Value], no_trunc: bool) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for image in images {
        let id = display_id(&text(image, "Id"), no_trunc);
        if seen.insert(id.clone()) {
            out.push_str(&id);
            out.push('\n');
        }
    }
    out
}

/// The table, header first.
fn rows(images: &[Value], options: Options) -> Vec<Vec<String>> {
    let mut header = vec!["REPOSITORY", "TAG"];
    if options.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let mut rows = vec![header.into_iter().map(str::to_string).collect::<Vec<_>>()];
    for image in images {
        let id = display_id(&text(image, "Id"), options.no_trunc);
        let created = since(image.get("Created").and_then(Value::as_i64).unwrap_or(0));
        let size = human_size(image.get("Size").and_then(Value::as_i64).unwrap_or(0));
        let digests: Vec<String> = strings(image, "RepoDigests").into_iter().filter(|d| d != "<none>@<none>").collect();
        let tags: Vec<String> = strings(image, "RepoTags").into_iter().filter(|t| t != "<none>:<none>").collect();
        let mut names: Vec<(String, String, String)> = Vec::new();
        for repo_tag in &tags {
            let (repo, tag) = split_repo_tag(repo_tag);
            let digest = digests
                .iter()
                .find_map(|d| d.strip_prefix(repo).and_then(|rest| rest.strip_prefix('@')))
                .unwrap_or("<none>");
            names.push((repo.to_string(), tag.to_string(), digest.to_string()));
        }
        if names.is_empty() {
            for d in &digests {
                if let Some((repo, digest)) = d.split_once('@') {
                    names.push((repo.to_string(), "<none>".into(), digest.to_string()));
                }
            }
        }
        if names.is_empty() {
            names.push(("<none>".into(), "<none>".into(), "<none>".into()));
        }
        for (repo, tag, digest) in names {
            let mut row = vec![repo, tag];
            if options.digests {
                row.push(digest);
            }
            row.extend([id.clone(), created.clone(), size.clone()]);
            rows.push(row);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824";

    fn sample() -> Vec<Value> {
        serde_json::from_value(serde_json::json!([
            {"Id": ID, "RepoTags": ["busybox:latest", "127.0.0.1:5000/busybox:a"],
             "RepoDigests": ["busybox@sha256:d1"], "Created": 0, "Size": 4261550},
            {"Id": "sha256:bbbbbbbbbbbbbbbbbbbb", "RepoTags": ["<none>:<none>"], "RepoDigests": [],
             "Created": 0, "Size": 512},
            {"Id": "sha256:cccccccccccccccccccc", "RepoTags": null, "Created": 0, "Size": 0},
        ]))
        .unwrap()
    }

    #[test]
    fn one_row_per_tag_in_cli_columns() {
        let out = cli_table(&rows(&sample(), Options { no_trunc: false, digests: false }));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "REPOSITORY               TAG       IMAGE ID       CREATED        SIZE");
        assert!(lines[1].starts_with("busybox                  latest    a416a98b71e2   "), "{}", lines[1]);
        assert!(lines[1].ends_with(" ago   4.26MB"), "{}", lines[1]);
        assert!(lines[2].starts_with("127.0.0.1:5000/busybox   a         a416a98b71e2   "), "{}", lines[2]);
        assert!(lines[3].starts_with("<none>                   <none>    bbbbbbbbbbbb   "), "{}", lines[3]);
        assert!(lines[3].ends_with("512B"));
        assert!(lines[4].starts_with("<none>                   <none>    cccccccccccc"), "{}", lines[4]);
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn digests_and_full_ids() {
        let table = rows(&sample(), Options { no_trunc: true, digests: true });
        assert_eq!(table[0], ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]);
        assert_eq!(table[1][..4], ["busybox", "latest", "sha256:d1", ID]);
        assert_eq!(table[2][2], "<none>");
    }

    #[test]
    fn quiet_lists_unique_ids() {
        assert_eq!(quiet(&sample(), false), "a416a98b71e2\nbbbbbbbbbbbb\ncccccccccccc\n");
        assert!(quiet(&sample(), true).starts_with(&format!("{ID}\n")));
    }

    #[test]
    fn filters_take_the_map_form() {
        let f = parse_filters(&["dangling=true".into(), "label=a=b".into()]).unwrap();
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"dangling":{"true":true},"label":{"a=b":true}}"#);
        assert_eq!(parse_filters(&["nope".into()]).unwrap_err().exit_code(), 2);
    }
}
