//! `import --change` and `commit --change`: the Dockerfile instructions that may set an image's
//! runtime config (`CMD`, `ENTRYPOINT`, `ENV`, `EXPOSE`, `WORKDIR`, `USER`,
//! `LABEL`, `VOLUME`, `STOPSIGNAL`, `ONBUILD`), applied to a config object
//! as dockerd's `BuildFromConfig` does. Docker 1.2 had no `--change`.

use serde_json::{Map, Value};

/// Applies `changes` (one instruction each) to `config`; the error is the
/// user's one line.
pub fn apply(config: &mut Map<String, Value>, changes: &[String]) -> Result<(), String> {
    for change in changes {
        let change = change.trim();
        if change.is_empty() {
            continue;
        }
        let (instruction, rest) = change.split_once(char::is_whitespace).unwrap_or((change, ""));
        let rest = rest.trim();
        match instruction.to_ascii_uppercase().as_str() {
            "CMD" => {
                config.insert("Cmd".into(), command(rest));
            }
            "ENTRYPOINT" => {
                config.insert("Entrypoint".into(), command(rest));
            }
            "ENV" => {
                let mut env: Vec<String> = strings(config.get("Env"));
                for (k, v) in pairs(rest, "ENV")? {
                    env.retain(|e| e.split_once('=').map_or(e.as_str(), |(ek, _)| ek) != k);
                    env.push(format!("{k}={v}"));
                }
                config.insert("Env".into(), Value::from(env));
            }
            "LABEL" => {
                let labels = pairs(rest, "LABEL")?.into_iter().map(|(k, v)| (k, Value::String(v)));
                merge(config, "Labels", labels);
            }
            "EXPOSE" => {
                let ports = words(rest).into_iter().map(|p| {
                    let p = if p.contains('/') { p } else { format!("{p}/tcp") };
                    (p, Value::Object(Map::new()))
                });
                merge(config, "ExposedPorts", ports);
            }
            "VOLUME" => {
                let paths = json_array(rest).unwrap_or_else(|| words(rest));
                merge(config, "Volumes", paths.into_iter().map(|p| (p, Value::Object(Map::new()))));
            }
            "WORKDIR" => {
                config.insert("WorkingDir".into(), Value::String(rest.to_string()));
            }
            "USER" => {
                config.insert("User".into(), Value::String(rest.to_string()));
            }
            "STOPSIGNAL" => {
                config.insert("StopSignal".into(), Value::String(rest.to_string()));
            }
            "ONBUILD" => {
                let mut onbuild = strings(config.get("OnBuild"));
                onbuild.push(rest.to_string());
                config.insert("OnBuild".into(), Value::from(onbuild));
            }
            other => return Err(format!("{other} is not a valid change command")),
        }
    }
    Ok(())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Adds `items` to the object under `key` (anything else there is
/// replaced).
fn merge(config: &mut Map<String, Value>, key: &str, items: impl IntoIterator<Item = (String, Value)>) {
    let mut map = match config.remove(key) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    map.extend(items);
    config.insert(key.to_string(), Value::Object(map));
}

fn json_array(text: &str) -> Option<Vec<String>> {
    serde_json::from_str::<Vec<String>>(text).ok()
}

/// JSON form, else shell form run by `/bin/sh -c`.
fn command(text: &str) -> Value {
    match json_array(text) {
        Some(args) => Value::from(args),
        None => Value::from(vec!["/bin/sh".to_string(), "-c".to_string(), text.to_string()]),
    }
}

/// Whitespace-separated words; double quotes group and are removed,
/// backslash escapes the next character.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
                in_word = true;
            }
            '"' | '\'' if quote == Some(c) => quote = None,
            '"' | '\'' if quote.is_none() => {
                quote = Some(c);
                in_word = true;
            }
            c if c.is_whitespace() && quote.is_none() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// `k=v k2="v 2"`, or the legacy `k v` form.
fn pairs(text: &str, instruction: &str) -> Result<Vec<(String, String)>, String> {
    let first = text.split_whitespace().next().unwrap_or("");
    if first.is_empty() {
        return Err(format!("{instruction} requires at least one argument"));
    }
    if !first.contains('=') {
        let (k, v) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        return Ok(vec![(k.to_string(), words(v.trim()).join(" "))]);
    }
    words(text)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(format!("{instruction} names can not be blank or lack '=': {w}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_set_the_config() {
        let mut c = Map::new();
        let changes: Vec<String> = [
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /entry.sh",
            r#"ENV A=1 B="two words""#,
            "env A 3",
            "EXPOSE 80 53/udp",
            "WORKDIR /srv",
            "USER nobody",
            r#"LABEL a=b "c d"=e"#,
            r#"VOLUME ["/data"]"#,
            "VOLUME /x /y",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        apply(&mut c, &changes).unwrap();
        let v = Value::Object(c);
        assert_eq!(v["Cmd"], serde_json::json!(["sh", "-c", "echo hi"]));
        assert_eq!(v["Entrypoint"], serde_json::json!(["/bin/sh", "-c", "/entry.sh"]));
        assert_eq!(v["Env"], serde_json::json!(["B=two words", "A=3"]));
        assert_eq!(v["ExposedPorts"], serde_json::json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(v["WorkingDir"], "/srv");
        assert_eq!(v["User"], "nobody");
        assert_eq!(v["Labels"], serde_json::json!({"a": "b", "c d": "e"}));
        assert_eq!(v["Volumes"], serde_json::json!({"/data": {}, "/x": {}, "/y": {}}));
        let mut c = Map::new();
        assert!(apply(&mut c, &["RUN rm -rf /".to_string()]).is_err());
    }
}
