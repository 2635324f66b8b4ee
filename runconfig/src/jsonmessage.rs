//! JSON progress messages (`utils/jsonmessage.go` and
//! `utils/streamformatter.go` of Docker 1.2), as pull, push, load, import
//! and build stream them and as clients render them.

use serde::{Deserialize, Serialize};

/// One message of a JSON progress stream. Fields are in Docker's order and
/// omitted when empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonMessage {
    /// Build output chunk.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stream: String,
    /// Status text (`Pulling fs layer`, `Downloading`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Progress numbers.
    #[serde(rename = "progressDetail", default, skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<ProgressDetail>,
    /// Pre-rendered progress bar (deprecated but still read by old clients).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub progress: String,
    /// Layer or image short ID the message is about.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Structured error.
    #[serde(rename = "errorDetail", default, skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
    /// Error text (duplicate of `errorDetail.message`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Auxiliary data, e.g. the pushed digest (`{"Tag","Digest","Size"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

/// `progressDetail`: each number omitted when 0 (`{}` when all are).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDetail {
    /// Bytes done.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub current: i64,
    /// Bytes in all (0 when unknown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total: i64,
    /// Unix seconds when the work started.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start: i64,
}

/// `errorDetail`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Optional numeric code (omitted when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: i64,
    /// The error text.
    #[serde(default)]
    pub message: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl ProgressDetail {
    /// Renders Docker's bar: `[=====>      ] 1.2MB/3.4MB`; an empty string
    /// when there is nothing to show.
    pub fn bar(&self, width: usize) -> String {
        if self.current <= 0 && self.total <= 0 {
            return String::new();
        }
        let current = human_size(self.current);
        if self.total <= 0 || self.current > self.total {
            return format!("{current:>8}");
        }
        let filled = ((self.current as f64 / self.total as f64) * width as f64) as usize;
        let filled = filled.min(width);
        let mut bar = String::with_capacity(width + 32);
        bar.push('[');
        for i in 0..width {
            bar.push(match i.cmp(&filled) {
                std::cmp::Ordering::Less => '=',
                std::cmp::Ordering::Equal => '>',
                std::cmp::Ordering::Greater => ' ',
            });
        }
        bar.push(']');
        format!("{bar} {current:>8}/{}", human_size(self.total))
    }
}

/// Sizes as Docker prints them: decimal units, 3 significant digits
/// (`1.23MB`, `512B`).
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut size = bytes.max(0) as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    let digits = if size >= 100.0 {
        0
    } else if size >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{size:.digits$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    format!("{text}{}", UNITS[unit])
}

/// Formats messages for a job's stdout: JSON lines when `json` (every API
/// client), else the plain text of API ≤ 1.0.
#[derive(Debug, Clone, Copy)]
pub struct StreamFormatter {
    json: bool,
}

impl StreamFormatter {
    /// A formatter; `json` as the job's `json` env says.
    pub fn new(json: bool) -> StreamFormatter {
        StreamFormatter { json }
    }

    /// Whether this writes JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// `{"status":TEXT[,"id":ID]}\r\n`.
    pub fn status(&self, id: &str, text: &str) -> Vec<u8> {
        if !self.json {
            return if id.is_empty() { format!("{text}\r\n") } else { format!("{id}: {text}\r\n") }.into_bytes();
        }
        self.line(&JsonMessage { status: text.to_string(), id: id.to_string(), ..Default::default() })
    }

    /// `{"stream":TEXT}\r\n`.
    pub fn stream(&self, text: &str) -> Vec<u8> {
        if !self.json {
            return format!("{text}\r").into_bytes();
        }
        self.line(&JsonMessage { stream: text.to_string(), ..Default::default() })
    }

    /// A progress message with a rendered bar. Unlike Docker 1.2 it ends in
    /// `\r\n` like every other message: today's clients read lines.
    pub fn progress(&self, id: &str, action: &str, detail: ProgressDetail) -> Vec<u8> {
        let bar = detail.bar(50);
        if !self.json {
            let end = if bar.is_empty() { "\r\n" } else { "\r" };
            return format!("{action} {bar}{end}").into_bytes();
        }
        self.line(&JsonMessage {
            status: action.to_string(),
            progress_detail: Some(detail),
            progress: bar,
            id: id.to_string(),
            ..Default::default()
        })
    }

    /// `{"errorDetail":{"message":TEXT},"error":TEXT}\r\n`.
    pub fn error(&self, text: &str) -> Vec<u8> {
        if !self.json {
            return format!("Error: {text}\r\n").into_bytes();
        }
        self.line(&JsonMessage {
            error_detail: Some(ErrorDetail { code: 0, message: text.to_string() }),
            error: text.to_string(),
            ..Default::default()
        })
    }

    /// `{"aux":VALUE}\r\n` (nothing in text mode).
    pub fn aux(&self, value: serde_json::Value) -> Vec<u8> {
        if !self.json {
            return Vec::new();
        }
        self.line(&JsonMessage { aux: Some(value), ..Default::default() })
    }

    fn line(&self, message: &JsonMessage) -> Vec<u8> {
        let mut out = serde_json::to_vec(message).unwrap_or_default();
        out.extend_from_slice(b"\r\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_docker_bytes() {
        let f = StreamFormatter::new(true);
        assert_eq!(f.status("", "Pulling repository busybox"), b"{\"status\":\"Pulling repository busybox\"}\r\n");
        assert_eq!(f.status("abc", "Pull complete"), b"{\"status\":\"Pull complete\",\"id\":\"abc\"}\r\n");
        assert_eq!(
            f.progress("abc", "Download complete", ProgressDetail::default()),
            b"{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"abc\"}\r\n"
        );
        assert_eq!(f.error("boom"), b"{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}\r\n");
        let p = f.progress("abc", "Downloading", ProgressDetail { current: 500, total: 1000, start: 0 });
        let m: JsonMessage = serde_json::from_slice(&p).unwrap();
        assert_eq!(m.progress_detail.unwrap().total, 1000);
        assert!(m.progress.starts_with("[=========================>"), "{}", m.progress);
    }

    #[test]
    fn sizes_read_like_dockers() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(1_234_567), "1.23MB");
        assert_eq!(human_size(12_345_678), "12.3MB");
        assert_eq!(human_size(123_456_789), "123MB");
    }
}
