//! The small part of Go's `text/template` that `docker inspect -f` users
//! lean on: literal text, `{{.}}`, `{{.Field}}`, `{{.A.B}}`, `{{json .X}}`,
//! and the `{{-`/`-}}` whitespace trims, applied to the decoded JSON.
//!
//! Values print as Go prints an `interface{}` decoded from JSON: strings
//! raw, objects as `map[k:v]` with sorted keys, arrays as `[a b]`, a
//! missing or null value as `<no value>`. Departure: numbers keep their
//! JSON text (Go would print a large integer as `1.234567e+06`).

use serde_json::Value;

/// A template that does not parse or cannot run on a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Field { path: Vec<String>, json: bool },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut nodes = Vec::new();
        let mut rest = text;
        let mut trim_next = false;
        while let Some(open) = rest.find("{{") {
            let mut literal = &rest[..open];
            if trim_next {
                literal = literal.trim_start();
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| TemplateError("template: :1: unclosed action".into()))?;
            let mut action = &after[..close];
            if let Some(a) = action.strip_prefix("- ") {
                literal = literal.trim_end();
                action = a;
            }
            trim_next = false;
            if let Some(a) = action.strip_suffix(" -") {
                trim_next = true;
                action = a;
            }
            if !literal.is_empty() {
                nodes.push(Node::Text(literal.to_string()));
            }
            nodes.push(parse_action(action.trim())?);
            rest = &after[close + 2..];
        }
        let literal = if trim_next { rest.trim_start() } else { rest };
        if !literal.is_empty() {
            nodes.push(Node::Text(literal.to_string()));
        }
        Ok(Template { nodes })
    }

    /// Runs the template on `value`.
    pub fn execute(&self, value: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        for node in &self.nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Field { path, json } => {
                    let v = lookup(value, path)?;
                    if *json {
                        out.push_str(&go_json(v.unwrap_or(&Value::Null)));
                    } else {
                        out.push_str(&v.map_or_else(|| "<no value>".to_string(), go_print));
                    }
                }
            }
        }
        Ok(out)
    }
}

fn parse_action(action: &str) -> Result<Node, TemplateError> {
    let words: Vec<&str> = action.split_whitespace().collect();
    match words.as_slice() {
        [field] if field.starts_with('.') => Ok(Node::Field { path: parse_path(field)?, json: false }),
        ["json", field] if field.starts_with('.') => Ok(Node::Field { path: parse_path(field)?, json: true }),
        [] => Err(TemplateError("template: :1: missing value for command".into())),
        [word, ..] if !word.starts_with('.') => {
            Err(TemplateError(format!("template: :1: function \"{word}\" not defined")))
        }
        _ => Err(TemplateError(format!("template: :1: unsupported action \"{action}\""))),
    }
}

fn parse_path(field: &str) -> Result<Vec<String>, TemplateError> {
    if field == "." {
        return Ok(Vec::new());
    }
    let parts: Vec<String> = field[1..].split('.').map(str::to_string).collect();
    if parts.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_alphanumeric() || c == '_')) {
        return Err(TemplateError(format!("template: :1: bad field \"{field}\"")));
    }
    Ok(parts)
}

/// Follows `path`; `None` for a missing key or a null on the way.
fn lookup<'a>(value: &'a Value, path: &[String]) -> Result<Option<&'a Value>, TemplateError> {
    let mut current = value;
    for (n, key) in path.iter().enumerate() {
        current = match current {
            Value::Object(map) => match map.get(key) {
                Some(v) => v,
                None => return Ok(None),
            },
            Value::Null => return Ok(None),
            _ => {
                return Err(TemplateError(format!(
                    "template: :1: executing \"\" at <.{}>: can't evaluate field {key}",
                    path[..=n].join(".")
                )));
            }
        };
    }
    Ok(if current.is_null() { None } else { Some(current) })
}

/// Go's `%v` of a JSON-decoded value.
fn go_print(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let items: Vec<String> = keys.iter().map(|k| format!("{k}:{}", go_print(&map[k.as_str()]))).collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

/// Go's `json.Marshal`, which escapes `<`, `>` and `&` (only ever inside
/// strings in JSON text, so replacing them everywhere is exact).
fn go_json(value: &Value) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str, value: &Value) -> String {
        Template::parse(template).unwrap().execute(value).unwrap()
    }

    #[test]
    fn fields_and_nested_fields() {
        let v = serde_json::json!({"Id":"sha256:1","Size":4261550,"Config":{"Cmd":["sh","-c"],"Env":null,"Labels":{"b":"2","a":"1"}},"RepoTags":["busybox:latest"]});
        assert_eq!(run("{{.Id}}", &v), "sha256:1");
        assert_eq!(run("id={{.Id}} size={{.Size}}\n", &v), "id=sha256:1 size=4261550\n");
        assert_eq!(run("{{.Config.Cmd}}", &v), "[sh -c]");
        assert_eq!(run("{{.Config.Labels}}", &v), "map[a:1 b:2]");
        assert_eq!(run("{{.Config.Env}}|{{.Nope}}|{{.Config.Env.X}}", &v), "<no value>|<no value>|<no value>");
        assert_eq!(run("{{ .Id }}", &v), "sha256:1");
    }

    #[test]
    fn json_function() {
        let v = serde_json::json!({"Config":{"Cmd":["sh"],"Tag":"<x&y>"},"Env":null});
        assert_eq!(run("{{json .Config.Cmd}}", &v), r#"["sh"]"#);
        assert_eq!(run("{{json .Config.Tag}}", &v), r#""\u003cx\u0026y\u003e""#);
        assert_eq!(run("{{json .Env}}", &v), "null");
        assert_eq!(run("{{json .}}", &serde_json::json!({"a":1})), r#"{"a":1}"#);
    }

    #[test]
    fn trims_and_errors() {
        let v = serde_json::json!({"A":"x","B":"y"});
        assert_eq!(run("{{.A}}  \n {{- .B}}", &v), "xy");
        assert_eq!(run("{{.A -}}  \n {{.B}}", &v), "xy");
        assert!(Template::parse("{{.A").is_err());
        assert_eq!(
            Template::parse("{{upper .A}}").unwrap_err().to_string(),
            "template: :1: function \"upper\" not defined"
        );
        assert!(Template::parse("{{}}").is_err());
        let t = Template::parse("{{.A.B}}").unwrap();
        assert!(t.execute(&v).unwrap_err().to_string().contains("can't evaluate field B"));
    }
}
