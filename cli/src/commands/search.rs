//! `docker search` (`CmdSearch` of Docker 1.2): `GET /images/search?term=`
//! with the index's credentials, shown as `NAME DESCRIPTION STARS OFFICIAL
//! AUTOMATED`. `-f stars=N|is-official=true|is-automated=true` filters
//! here in the client (1.2's `-s`/`--automated`, today's spelling), since
//! a v1.24 daemon takes no search filters.

use http::Method;
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use super::format::{cli_table, ellipsis};
use super::images::parse_filters;
use super::registry_auth::{self, HEADER};
use crate::client::{CliError, DockerCli};

/// `docker search`.
pub async fn cmd_search(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("search", "[OPTIONS] TERM", "Search Docker Hub for images");
    cmd.flags.int(&["-limit"], 0, "Max number of search results");
    cmd.flags.bool(&["#notrunc", "-no-trunc"], false, "Don't truncate output");
    cmd.flags.list(&["f", "-filter"], "Filter output based on conditions provided");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("search", &rest, Count::Exactly(1))?;
    let filter = Filter::parse(&cmd.flags.get_list("filter"))?;
    let term = &rest[0];
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("term", term);
    let limit = cmd.flags.get_int("limit");
    if limit != 0 {
        query.append_pair("limit", &limit.to_string());
    }
    let auth = registry_auth::header_for(&index_of(term));
    let resp =
        cli.send_ok(Method::GET, &format!("/images/search?{}", query.finish()), &[(HEADER, &auth)], None).await?;
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map_err(|e| CliError::Connect(format!("reading the response: {e}")))?
        .to_bytes();
    let results: Vec<Value> =
        serde_json::from_slice(&body).map_err(|e| CliError::Other(format!("Error reading the search results: {e}")))?;
    print!("{}", cli_table(&rows(&results, &filter, !cmd.flags.get_bool("no-trunc"))));
    Ok(())
}

/// The registry a search term names: a first component that is a host, as
/// in `127.0.0.1:5000/busybox`; Docker Hub otherwise.
fn index_of(term: &str) -> String {
    match term.split_once('/') {
        Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => host.to_string(),
        _ => registry::reference::DEFAULT_DOMAIN.to_string(),
    }
}

#[derive(Default)]
struct Filter {
    stars: i64,
    official: Option<bool>,
    automated: Option<bool>,
}

impl Filter {
    fn parse(flags: &[String]) -> Result<Filter, CliError> {
        let mut filter = Filter::default();
        for (key, values) in parse_filters(flags)? {
            for value in values.keys() {
                let bad = || CliError::Usage(format!("invalid filter '{key}={value}'"));
                match key.as_str() {
                    "stars" => filter.stars = value.parse().map_err(|_| bad())?,
                    "is-official" => filter.official = Some(value.parse().map_err(|_| bad())?),
                    "is-automated" => filter.automated = Some(value.parse().map_err(|_| bad())?),
                    _ => return Err(CliError::Usage(format!("invalid filter '{key}'"))),
                }
            }
        }
        Ok(filter)
    }
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn rows(results: &[Value], filter: &Filter, trunc: bool) -> Vec<Vec<String>> {
    let mut rows = vec![["NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"].map(str::to_string).to_vec()];
    for r in results {
        let stars = r.get("star_count").and_then(Value::as_i64).unwrap_or(0);
        let official = flag(r, "is_official");
        let automated = flag(r, "is_automated") || flag(r, "is_trusted");
        if stars < filter.stars
            || filter.official.is_some_and(|o| o != official)
            || filter.automated.is_some_and(|a| a != automated)
        {
            continue;
        }
        let description = r.get("description").and_then(Value::as_str).unwrap_or_default().replace(['\n', '\r'], " ");
        let ok = |b: bool| if b { "[OK]".to_string() } else { String::new() };
        rows.push(vec![
            r.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            if trunc { ellipsis(&description, 45) } else { description },
            stars.to_string(),
            ok(official),
            ok(automated),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Value> {
        serde_json::from_value(serde_json::json!([
            {"name":"busybox","description":"Busybox base image.\nSmall.","star_count":3000,"is_official":true,"is_automated":false},
            {"name":"someone/busybox","description":"A very long description that goes on and on beyond the limit","star_count":2,"is_official":false,"is_automated":true},
        ]))
        .unwrap()
    }

    #[test]
    fn table_columns() {
        let out = cli_table(&rows(&sample(), &Filter::default(), true));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "NAME              DESCRIPTION                                     STARS     OFFICIAL   AUTOMATED"
        );
        assert_eq!(lines[1], "busybox           Busybox base image. Small.                      3000      [OK]       ");
        assert_eq!(
            lines[2],
            "someone/busybox   A very long description that goes on and on …   2                    [OK]"
        );
    }

    #[test]
    fn client_side_filters() {
        let filter = Filter::parse(&["stars=10".into()]).unwrap();
        assert_eq!(rows(&sample(), &filter, true).len(), 2);
        let filter = Filter::parse(&["is-automated=true".into()]).unwrap();
        assert_eq!(rows(&sample(), &filter, true)[1][0], "someone/busybox");
        assert!(Filter::parse(&["nope=1".into()]).is_err());
        assert!(Filter::parse(&["stars=x".into()]).is_err());
    }

    #[test]
    fn search_index() {
        assert_eq!(index_of("busybox"), "docker.io");
        assert_eq!(index_of("user/app"), "docker.io");
        assert_eq!(index_of("127.0.0.1:5000/busybox"), "127.0.0.1:5000");
    }
}
