//! `Env`: a job's environment, an append-only list of `KEY=VALUE` strings.
//!
//! Re-creates `engine/env.go` of Docker 1.2, typing rules included: `set`
//! always appends and the last value of a key wins; booleans are stored as
//! `1`/`0` and read as false only for `""`, `0`, `no`, `false`, `none`;
//! `decode` stores JSON numbers truncated to integers and nested values as
//! Go-marshalled JSON text; `encode` re-parses every value as JSON, so a
//! string that looks like a number becomes one on the wire.
//!
//! Those encode rules are kept for jobs that talk to each other through
//! `Env`. API responses do not go through `encode`: handlers that answer the
//! Remote API write typed JSON themselves, because today's clients reject the
//! re-typed values (`"Debug":0` where a boolean is expected).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::gojson;

/// A job environment. See the module documentation for the typing rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env {
    entries: Vec<String>,
}

/// Errors of the JSON helpers of [`Env`].
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The input was not one JSON object.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// `import` could not serialise or decode the value.
    #[error("ImportEnv: {0}")]
    Import(serde_json::Error),
}

impl Env {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// The raw `KEY=VALUE` entries, in insertion order, duplicates included.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Appends `key=value`. Nothing is ever replaced: the last entry wins.
    pub fn set(&mut self, key: &str, value: impl AsRef<str>) {
        let value = value.as_ref();
        let mut entry = String::with_capacity(key.len() + 1 + value.len());
        entry.push_str(key);
        entry.push('=');
        entry.push_str(value);
        self.entries.push(entry);
    }

    /// The value of the last entry for `key`, or `""` when there is none.
    pub fn get(&self, key: &str) -> &str {
        self.lookup(key).unwrap_or("")
    }

    fn lookup(&self, key: &str) -> Option<&str> {
        self.entries.iter().rev().find_map(|kv| match kv.split_once('=') {
            Some((k, v)) if k == key => Some(v),
            _ => None,
        })
    }

    /// True when `key` was set at all, even to the empty string.
    pub fn exists(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    /// The number of distinct keys (not of entries).
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Replaces the contents with a copy of `src`'s entries.
    pub fn init(&mut self, src: &Env) {
        self.entries = src.entries.clone();
    }

    /// False only for `""`, `0`, `no`, `false`, `none` (trimmed, any case).
    /// Anything else is true, `null` included, as in the original.
    pub fn get_bool(&self, key: &str) -> bool {
        parse_bool(self.get(key))
    }

    /// Stores `1` or `0`.
    pub fn set_bool(&mut self, key: &str, value: bool) {
        self.set(key, if value { "1" } else { "0" });
    }

    /// Base-10 integer after trimming spaces and tabs; 0 on any parse error.
    pub fn get_int64(&self, key: &str) -> i64 {
        self.get(key).trim_matches([' ', '\t']).parse().unwrap_or(0)
    }

    /// As [`Env::get_int64`], narrowed the way Go's `int(int64)` is on 64-bit.
    pub fn get_int(&self, key: &str) -> i64 {
        self.get_int64(key)
    }

    /// Stores the decimal text of `value`.
    pub fn set_int64(&mut self, key: &str, value: i64) {
        self.set(key, value.to_string());
    }

    /// Stores the decimal text of `value`.
    pub fn set_int(&mut self, key: &str, value: i64) {
        self.set_int64(key, value);
    }

    /// `None` for an absent or empty value and for JSON `null`; a JSON array of
    /// strings as itself; anything else as a one-element list of the raw text.
    pub fn get_list(&self, key: &str) -> Option<Vec<String>> {
        let raw = self.get(key);
        if raw.is_empty() {
            return None;
        }
        match serde_json::from_str::<Option<Vec<String>>>(raw) {
            Ok(list) => list,
            Err(_) => Some(vec![raw.to_string()]),
        }
    }

    /// Stores the list as a JSON array.
    pub fn set_list(&mut self, key: &str, value: &[String]) {
        self.set_json(key, &value);
    }

    /// Decodes the value as JSON. `Ok(None)` when the value is empty.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, EnvError> {
        let raw = self.get(key);
        if raw.is_empty() {
            return Ok(None);
        }
        Ok(Some(serde_json::from_str(raw)?))
    }

    /// Stores the compact JSON text of `value`.
    pub fn set_json<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        // Serialising plain data to a Value cannot fail; a type whose
        // Serialize impl errors is a programming error we store as null.
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.set(key, gojson::to_string(&value));
    }

    /// The value decoded as an `Env`, or `None` when empty or not an object.
    pub fn get_sub_env(&self, key: &str) -> Option<Env> {
        let raw = self.get(key);
        if raw.is_empty() {
            return None;
        }
        let mut sub = Env::new();
        sub.decode(raw.as_bytes()).ok()?;
        Some(sub)
    }

    /// Stores `sub.encode()` (a JSON object with a trailing newline).
    pub fn set_sub_env(&mut self, key: &str, sub: &Env) {
        self.set(key, sub.encode());
    }

    /// Stores a decoded JSON value by the original's `SetAuto` rules: numbers
    /// truncated to integers, strings as they are, everything else as
    /// Go-marshalled JSON text (`true`, `null`, `{"a":1}`).
    pub fn set_auto(&mut self, key: &str, value: &Value) {
        match value {
            Value::Number(n) => self.set_int64(key, truncate(n)),
            Value::String(s) => self.set(key, s),
            other => self.set(key, gojson::to_string(other)),
        }
    }

    /// Appends every key of the first JSON value in `src`, which must be an
    /// object (`null` adds nothing). Data after the first value is ignored, as
    /// with Go's `json.Decoder`.
    pub fn decode(&mut self, src: &[u8]) -> Result<(), EnvError> {
        let mut stream = serde_json::Deserializer::from_slice(src).into_iter::<Option<Map<String, Value>>>();
        match stream.next() {
            Some(Ok(Some(map))) => {
                for (k, v) in &map {
                    self.set_auto(k, v);
                }
                Ok(())
            }
            Some(Ok(None)) => Ok(()),
            Some(Err(e)) => Err(e.into()),
            None => Err(serde_json::from_slice::<Value>(b"").unwrap_err().into()),
        }
    }

    /// Encodes as one JSON object: keys sorted, each value re-parsed as JSON
    /// when it parses (numbers anywhere inside truncated to integers), else
    /// kept as a string; HTML characters escaped; a trailing newline.
    ///
    /// Departure: Go parses numbers as float64, so integers beyond 2^53 lose
    /// precision there; here they are kept exact.
    pub fn encode(&self) -> String {
        let mut object = Map::new();
        for (k, v) in self.map() {
            let value = match serde_json::from_str::<Value>(&v) {
                Ok(parsed) => change_floats(parsed),
                Err(_) => Value::String(v),
            };
            object.insert(k, value);
        }
        let mut out = gojson::to_string(&Value::Object(object));
        out.push('\n');
        out
    }

    /// JSON-serialises `src` and decodes the result into this Env.
    pub fn import<T: Serialize + ?Sized>(&mut self, src: &T) -> Result<(), EnvError> {
        let bytes = serde_json::to_vec(src).map_err(EnvError::Import)?;
        self.decode(&bytes).map_err(|e| match e {
            EnvError::Json(e) | EnvError::Import(e) => EnvError::Import(e),
        })
    }

    /// Key → last value.
    pub fn map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for kv in &self.entries {
            if let Some((k, v)) = kv.split_once('=') {
                m.insert(k.to_string(), v.to_string());
            }
        }
        m
    }

    /// Key → every value, in insertion order.
    pub fn multi_map(&self) -> HashMap<String, Vec<String>> {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for kv in &self.entries {
            if let Some((k, v)) = kv.split_once('=') {
                m.entry(k.to_string()).or_default().push(v.to_string());
            }
        }
        m
    }

    /// Clears, then sets every (key, value) pair of `m`.
    pub fn init_multi_map(&mut self, m: &HashMap<String, Vec<String>>) {
        self.entries.clear();
        for (k, values) in m {
            for v in values {
                self.set(k, v);
            }
        }
    }
}

/// The original's boolean reading, shared with query-string parsing.
pub fn parse_bool(raw: &str) -> bool {
    let s = raw.trim_matches([' ', '\t']).to_ascii_lowercase();
    !matches!(s.as_str(), "" | "0" | "no" | "false" | "none")
}

fn truncate(n: &serde_json::Number) -> i64 {
    if let Some(i) = n.as_i64() {
        i
    } else if let Some(u) = n.as_u64() {
        i64::try_from(u).unwrap_or(i64::MAX)
    } else {
        // `as` truncates toward zero and saturates, like Go's int64(float64)
        // does for values in range.
        n.as_f64().unwrap_or(0.0) as i64
    }
}

fn change_floats(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => Value::from(truncate(&n)),
        Value::Array(items) => Value::Array(items.into_iter().map(change_floats).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, change_floats(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_appends_and_last_value_wins() {
        let mut env = Env::new();
        env.set("foo", "bar");
        env.set("foo", "baz");
        assert_eq!(env.get("foo"), "baz");
        assert_eq!(env.entries().len(), 2);
        assert_eq!(env.len(), 1);
        assert_eq!(env.get("missing"), "");
    }

    #[test]
    fn exists_is_true_for_empty_values() {
        let mut env = Env::new();
        assert!(!env.exists("t"));
        env.set("t", "");
        assert!(env.exists("t"));
    }

    #[test]
    fn values_may_contain_equals_signs() {
        let mut env = Env::new();
        env.set("k", "a=b=c");
        assert_eq!(env.get("k"), "a=b=c");
    }

    #[test]
    fn bool_rules() {
        let mut env = Env::new();
        for (raw, want) in [
            ("", false),
            ("0", false),
            ("no", false),
            ("FALSE", false),
            (" none\t", false),
            ("1", true),
            ("true", true),
            ("null", true),
            ("off", true),
            ("2", true),
        ] {
            env.set("b", raw);
            assert_eq!(env.get_bool("b"), want, "{raw:?}");
        }
        env.set_bool("b", true);
        assert_eq!(env.get("b"), "1");
        env.set_bool("b", false);
        assert_eq!(env.get("b"), "0");
    }

    #[test]
    fn int_rules() {
        let mut env = Env::new();
        env.set("i", " 42\t");
        assert_eq!(env.get_int("i"), 42);
        env.set("i", "1.5");
        assert_eq!(env.get_int64("i"), 0);
        env.set("i", "");
        assert_eq!(env.get_int64("i"), 0);
        env.set_int64("i", -7);
        assert_eq!(env.get("i"), "-7");
    }

    #[test]
    fn list_rules() {
        let mut env = Env::new();
        assert_eq!(env.get_list("l"), None);
        env.set("l", "ls -l");
        assert_eq!(env.get_list("l"), Some(vec!["ls -l".to_string()]));
        env.set("l", "null");
        assert_eq!(env.get_list("l"), None);
        env.set_list("l", &["a".to_string(), "b".to_string()]);
        assert_eq!(env.get("l"), r#"["a","b"]"#);
        assert_eq!(env.get_list("l"), Some(vec!["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn json_and_sub_env() {
        let mut env = Env::new();
        env.set_json("v", &"1.14");
        assert_eq!(env.get("v"), r#""1.14""#);
        assert_eq!(env.get_json::<String>("v").unwrap().as_deref(), Some("1.14"));
        assert_eq!(env.get_json::<String>("none").unwrap(), None);
        env.set("bad", "{");
        assert!(env.get_json::<Value>("bad").is_err());

        let mut sub = Env::new();
        sub.set("a", "1");
        env.set_sub_env("sub", &sub);
        assert_eq!(env.get("sub"), "{\"a\":1}\n");
        assert_eq!(env.get_sub_env("sub").unwrap().get("a"), "1");
        env.set("sub", "not json");
        assert_eq!(env.get_sub_env("sub"), None);
    }

    #[test]
    fn decode_types_values_like_set_auto() {
        let mut env = Env::new();
        env.decode(br#"{"n":1.9,"e":1e3,"s":"x","t":true,"z":null,"o":{"b":2.5,"a":1},"l":["a"]} trailing"#).unwrap();
        assert_eq!(env.get("n"), "1");
        assert_eq!(env.get("e"), "1000");
        assert_eq!(env.get("s"), "x");
        assert_eq!(env.get("t"), "true");
        assert_eq!(env.get("z"), "null");
        assert!(env.get_bool("z"), "null reads as true");
        assert_eq!(env.get("o"), r#"{"a":1,"b":2.5}"#);
        assert_eq!(env.get("l"), r#"["a"]"#);
    }

    #[test]
    fn decode_rejects_non_objects_and_empty_input() {
        assert!(Env::new().decode(b"").is_err());
        assert!(Env::new().decode(b"[1]").is_err());
        assert!(Env::new().decode(b"{").is_err());
        let mut env = Env::new();
        env.decode(b"null").unwrap();
        assert!(env.is_empty());
    }

    #[test]
    fn encode_retypes_values_like_the_original() {
        // The verified example of engine.md §3.3.
        let mut env = Env::new();
        env.set("StatusCode", "0");
        env.set_bool("Debug", true);
        env.set_json("Version", &"1.14");
        env.set("Plain", "1.14");
        env.set("Str", "hello");
        env.set("Empty", "");
        env.set("Cmd", "\"/bin/sh -c 'echo hi'\"");
        env.set("Warnings", "null");
        env.set("Html", "<a&b>");
        env.set("Float", "2.5");
        env.set("T", "true");
        env.set("Dup", "first");
        env.set("Dup", "second");
        assert_eq!(
            env.encode(),
            "{\"Cmd\":\"/bin/sh -c 'echo hi'\",\"Debug\":1,\"Dup\":\"second\",\"Empty\":\"\",\"Float\":2,\
             \"Html\":\"\\u003ca\\u0026b\\u003e\",\"Plain\":1,\"StatusCode\":0,\"Str\":\"hello\",\"T\":true,\
             \"Version\":\"1.14\",\"Warnings\":null}\n"
        );
    }

    #[test]
    fn encode_truncates_nested_floats() {
        let mut env = Env::new();
        env.set("o", r#"{"x":[1.7,{"y":-2.9}]}"#);
        assert_eq!(env.encode(), "{\"o\":{\"x\":[1,{\"y\":-2}]}}\n");
    }

    #[test]
    fn import_goes_through_json() {
        #[derive(Serialize)]
        struct S {
            #[serde(rename = "Name")]
            name: &'static str,
            #[serde(rename = "Count")]
            count: f64,
            #[serde(rename = "On")]
            on: bool,
        }
        let mut env = Env::new();
        env.import(&S { name: "x", count: 3.7, on: true }).unwrap();
        assert_eq!(env.get("Name"), "x");
        assert_eq!(env.get("Count"), "3");
        assert_eq!(env.get("On"), "true");
        let err = Env::new().import(&vec![1]).unwrap_err();
        assert!(err.to_string().starts_with("ImportEnv: "), "{err}");
    }

    #[test]
    fn multi_map_round_trip() {
        let mut env = Env::new();
        env.set("a", "1");
        env.set("a", "2");
        env.set("b", "3");
        let mm = env.multi_map();
        assert_eq!(mm["a"], vec!["1", "2"]);
        let mut other = Env::new();
        other.set("old", "x");
        other.init_multi_map(&mm);
        assert!(!other.exists("old"));
        assert_eq!(other.get("a"), "2");
        assert_eq!(other.get("b"), "3");

        let mut copy = Env::new();
        copy.init(&env);
        assert_eq!(copy, env);
    }
}
