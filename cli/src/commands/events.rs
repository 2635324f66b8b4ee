//! `docker events` (`CmdEvents` of Docker 1.2): streams `GET /events` and
//! prints `<time> <id>: (from <image>) <status>` per event. `--since` and
//! `--until` take Unix seconds or an RFC 3339 date (converted here, as the
//! original client did); `-f key=value` filters (a later client's flag).

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use http::Method;
use http_body_util::BodyExt;
use serde_json::Value;

use super::Subcmd;
use crate::client::{CliError, DockerCli};

/// `docker events`.
pub async fn cmd_events(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("events", "[OPTIONS]", "Get real time events from the server");
    cmd.flags.string(&["#since", "-since"], "", "Show all events created since timestamp");
    cmd.flags.string(&["-until"], "", "Stream events until this timestamp");
    cmd.flags.list(&["f", "-filter"], "Provide filter values (i.e. 'event=stop')");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    if !rest.is_empty() {
        return Err(cmd.no_args_expected(&rest));
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for key in ["since", "until"] {
        let value = cmd.flags.get_string(key);
        if !value.is_empty() {
            query.append_pair(key, &to_unix_seconds(&value));
        }
    }
    let filters = cmd.flags.get_list("filter");
    if !filters.is_empty() {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in &filters {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("Invalid filter '{f}': expected key=value")))?;
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        query.append_pair("filters", &serde_json::to_string(&map).unwrap_or_default());
    }
    let query = query.finish();
    let path = if query.is_empty() { "/events".to_string() } else { format!("/events?{query}") };

    let mut body = cli.stream(Method::GET, &path).await?;
    let mut pending = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::Connect(format!("reading events: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        pending.extend_from_slice(&data);
        let mut stream = serde_json::Deserializer::from_slice(&pending).into_iter::<Value>();
        let mut consumed = 0;
        loop {
            match stream.next() {
                Some(Ok(ev)) => {
                    consumed = stream.byte_offset();
                    if let Some(err) = ev.get("error").and_then(Value::as_str) {
                        return Err(CliError::Other(err.to_string()));
                    }
                    println!("{}", display(&ev));
                }
                Some(Err(e)) if e.is_eof() => break,
                Some(Err(e)) => return Err(CliError::Other(format!("reading events: {e}"))),
                None => {
                    consumed = pending.len();
                    break;
                }
            }
        }
        pending.drain(..consumed);
    }
    Ok(())
}

/// `JSONMessage.Display` of Docker 1.2 for events.
fn display(ev: &Value) -> String {
    let mut line = String::new();
    if let Some(t) = ev.get("time").and_then(Value::as_u64).filter(|t| *t != 0) {
        line.push_str(&format!("{} ", humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t))));
    }
    if let Some(id) = ev.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        line.push_str(&format!("{id}: "));
    }
    if let Some(from) = ev.get("from").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        line.push_str(&format!("(from {from}) "));
    }
    line.push_str(ev.get("status").and_then(Value::as_str).unwrap_or_default());
    line
}

/// Unix seconds stay; an RFC 3339 date (possibly shortened) becomes Unix
/// seconds; anything else goes to the daemon to judge.
fn to_unix_seconds(value: &str) -> String {
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return value.to_string();
    }
    humantime::parse_rfc3339_weak(value)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or_else(|| value.to_string(), |d| d.as_secs().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_display_like_docker_1_2() {
        let ev = serde_json::json!({"status":"die","id":"abc","from":"busybox","time":1700000000});
        assert_eq!(display(&ev), "2023-11-14T22:13:20Z abc: (from busybox) die");
        let ev = serde_json::json!({"status":"untag","id":"sha256:1","time":1700000000});
        assert_eq!(display(&ev), "2023-11-14T22:13:20Z sha256:1: untag");
    }

    #[test]
    fn dates_become_unix_seconds() {
        assert_eq!(to_unix_seconds("1700000000"), "1700000000");
        assert_eq!(to_unix_seconds("2023-11-14T22:13:20Z"), "1700000000");
        assert_eq!(to_unix_seconds("2023-11-14T22:13:20"), "1700000000");
        assert_eq!(to_unix_seconds("yesterday"), "yesterday");
    }
}
