//! `Table`: a list of `Env`s with a sort key, as in `engine/table.go`.
//!
//! `write_list_to` produces the exact bytes of the original's JSON arrays
//! (each object followed by its newline, commas between), `read_list_from`
//! and `read_from` parse arrays and streams of objects back.
//!
//! Departure: Go's `sort.Sort` is not stable, so equal keys came out in any
//! order; the sort here is stable.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::env::{Env, EnvError};

/// Envs plus the key they sort by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The rows, in order.
    pub data: Vec<Env>,
    sort_key: String,
}

impl Table {
    /// An empty table sorted by `sort_key`.
    pub fn new(sort_key: &str, size_hint: usize) -> Self {
        Self { data: Vec::with_capacity(size_hint), sort_key: sort_key.to_string() }
    }

    /// Changes the sort key.
    pub fn set_key(&mut self, sort_key: &str) {
        self.sort_key = sort_key.to_string();
    }

    /// Appends a row.
    pub fn add(&mut self, env: Env) {
        self.data.push(env);
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Ascending by the sort key: numerically when both values are integers,
    /// else by byte order of the strings.
    pub fn sort(&mut self) {
        let key = self.sort_key.clone();
        self.data.sort_by(|a, b| compare(a.get(&key), b.get(&key)));
    }

    /// Descending by the sort key.
    pub fn reverse_sort(&mut self) {
        let key = self.sort_key.clone();
        self.data.sort_by(|a, b| compare(b.get(&key), a.get(&key)));
    }

    /// `[` + each row's `Env::encode` (newline included) separated by `,` + `]`.
    pub fn to_list_string(&self) -> String {
        let mut out = String::from("[");
        for (i, env) in self.data.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&env.encode());
        }
        out.push(']');
        out
    }

    /// Writes [`Table::to_list_string`] into `dst`.
    pub fn write_list_to(&self, dst: &mut impl std::io::Write) -> std::io::Result<usize> {
        let s = self.to_list_string();
        dst.write_all(s.as_bytes())?;
        Ok(s.len())
    }

    /// Each row's encoding back to back: newline-delimited JSON objects.
    pub fn write_to(&self, dst: &mut impl std::io::Write) -> std::io::Result<usize> {
        let mut n = 0;
        for env in &self.data {
            let s = env.encode();
            dst.write_all(s.as_bytes())?;
            n += s.len();
        }
        Ok(n)
    }

    /// Parses one JSON array; each object element becomes a row, other
    /// elements are skipped.
    pub fn read_list_from(&mut self, src: &[u8]) -> Result<usize, EnvError> {
        let items: Vec<Value> = serde_json::from_slice(src)?;
        for item in items {
            if let Value::Object(map) = item {
                self.add(env_from_map(&map));
            }
        }
        Ok(src.len())
    }

    /// Parses a stream of JSON objects, one row each, until the end of input.
    pub fn read_from(&mut self, src: &[u8]) -> Result<usize, EnvError> {
        let mut stream = serde_json::Deserializer::from_slice(src).into_iter::<Option<Map<String, Value>>>();
        for item in &mut stream {
            self.add(item?.map(|m| env_from_map(&m)).unwrap_or_default());
        }
        Ok(src.len())
    }
}

pub(crate) fn env_from_map(map: &Map<String, Value>) -> Env {
    let mut env = Env::new();
    for (k, v) in map {
        env.set_auto(k, v);
    }
    env
}

fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(created: &str, id: &str) -> Env {
        let mut env = Env::new();
        env.set("Created", created);
        env.set("Id", id);
        env
    }

    #[test]
    fn list_bytes_match_the_original() {
        let mut t = Table::new("Created", 2);
        t.add(row("10", "id10"));
        t.add(row("9", "id9"));
        assert_eq!(t.to_list_string(), "[{\"Created\":10,\"Id\":\"id10\"}\n,{\"Created\":9,\"Id\":\"id9\"}\n]");
        assert_eq!(Table::new("", 0).to_list_string(), "[]");
    }

    #[test]
    fn sorts_numerically_when_both_are_integers() {
        let mut t = Table::new("Created", 3);
        t.add(row("10", "a"));
        t.add(row("9", "b"));
        t.add(row("100", "c"));
        t.sort();
        let ids: Vec<_> = t.data.iter().map(|e| e.get("Id").to_string()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        t.reverse_sort();
        let ids: Vec<_> = t.data.iter().map(|e| e.get("Id").to_string()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
    }

    #[test]
    fn sorts_as_strings_otherwise() {
        let mut t = Table::new("Name", 3);
        for name in ["b", "10", "a"] {
            let mut e = Env::new();
            e.set("Name", name);
            t.add(e);
        }
        t.sort();
        let names: Vec<_> = t.data.iter().map(|e| e.get("Name").to_string()).collect();
        assert_eq!(names, ["10", "a", "b"]);
    }

    #[test]
    fn read_list_skips_non_objects() {
        let mut t = Table::new("", 0);
        t.read_list_from(br#"[{"a":1.5},2,"x",{"b":true}]"#).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.data[0].get("a"), "1");
        assert_eq!(t.data[1].get("b"), "true");
        assert!(Table::new("", 0).read_list_from(b"{}").is_err());
    }

    #[test]
    fn read_stream_of_objects() {
        let mut t = Table::new("", 0);
        t.read_from(b"{\"a\":1}\n{\"a\":2} {\"a\":3}").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.data[2].get("a"), "3");
        let mut bad = Table::new("", 0);
        assert!(bad.read_from(b"{\"a\":1} [").is_err());
        assert_eq!(bad.len(), 1, "rows before the error are kept");
    }

    #[test]
    fn write_to_is_newline_delimited() {
        let mut t = Table::new("", 0);
        t.add(row("1", "x"));
        t.add(row("2", "y"));
        let mut out = Vec::new();
        t.write_to(&mut out).unwrap();
        assert_eq!(out, b"{\"Created\":1,\"Id\":\"x\"}\n{\"Created\":2,\"Id\":\"y\"}\n");
    }
}
