//! JSON text the way Go's `encoding/json` writes it.
//!
//! Docker 1.2 moved values between jobs as Go-marshalled JSON, and the exact
//! bytes are part of the engine's rules (`Env::encode`, `Env::set_auto`):
//! object keys sorted, no spaces, `<`, `>`, `&`, U+2028 and U+2029 escaped,
//! and floats printed without a trailing `.0`. serde_json differs on the last
//! two points, so values are written here by hand.

use serde_json::{Number, Value};

/// Writes `value` as compact Go-style JSON (sorted keys, HTML-safe escaping).
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // serde_json's map is a BTreeMap (no `preserve_order`), so it
            // iterates in byte order of the keys, as Go sorts them.
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    if n.is_i64() || n.is_u64() {
        out.push_str(&n.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&format_float(f));
    }
}

/// Go's float encoding: plain decimal in [1e-6, 1e21), exponent form outside.
pub fn format_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust writes `1e21` / `1e-7`; Go writes `1e+21` / `1e-07`.
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                let digits = if digits.len() < 2 { format!("0{digits}") } else { digits.to_string() };
                format!("{mantissa}e{sign}{digits}")
            }
            None => s,
        }
    } else {
        // Display for f64 is the shortest representation that round-trips,
        // with no exponent and no trailing `.0` — what Go's 'f', -1 gives.
        format!("{f}")
    }
}

fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_html_is_escaped() {
        let v = json!({"z": 1, "a": "<a&b>", "m": [true, null]});
        assert_eq!(to_string(&v), r#"{"a":"\u003ca\u0026b\u003e","m":[true,null],"z":1}"#);
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(1000.0), "1000");
        assert_eq!(format_float(1e21), "1e+21");
        assert_eq!(format_float(1e-7), "1e-07");
        assert_eq!(format_float(0.0), "0");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(to_string(&json!("a\nb\u{1}")), r#""a\nb\u0001""#);
    }
}
