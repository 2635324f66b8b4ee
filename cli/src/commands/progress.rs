//! The client's rendering of a JSON progress stream (pull, push, load,
//! import): `DisplayJSONMessagesStream` of Docker 1.2's
//! `utils/jsonmessage.go`, with the refinements today's CLI made.
//!
//! On a terminal every layer id owns a line that later messages rewrite in
//! place (cursor up, erase line, cursor down); off a terminal, each message
//! is one plain line and messages carrying a progress bar are left out, as
//! Docker does, so logs hold `<id>: Pull complete` but not every byte count.
//!
//! Departures from 1.2, following today's CLI: the layer-line table is
//! forgotten whenever a message without progress arrives (so `pull -a`
//! does not rewrite lines of an earlier tag), no blank lines are emitted off
//! a terminal, a cursor move by 0 rows is not written, and `aux` messages
//! (a push's digest) are not shown.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use runconfig::jsonmessage::{JsonMessage, ProgressDetail, human_size};

use crate::client::CliError;

/// Draws messages onto `out`.
pub struct Renderer<W: Write> {
    out: W,
    terminal: bool,
    width: usize,
    /// Layer id → its line, counted from the first progress line.
    lines: HashMap<String, usize>,
}

impl<W: Write> Renderer<W> {
    /// A renderer for a terminal `width` columns wide, or for a pipe or file.
    pub fn new(out: W, terminal: bool, width: usize) -> Self {
        Self { out, terminal, width, lines: HashMap::new() }
    }

    /// Shows one message. A message carrying an error ends the stream: the
    /// error is returned for the command to report.
    pub fn message(&mut self, m: &JsonMessage) -> Result<(), CliError> {
        if m.aux.is_some() {
            return Ok(());
        }
        let mut rows_up = 0;
        if !m.id.is_empty() && (m.progress_detail.is_some() || !m.progress.is_empty()) {
            let count = self.lines.len();
            let line = match self.lines.get(&m.id) {
                Some(line) => *line,
                None => {
                    self.lines.insert(m.id.clone(), count);
                    if self.terminal {
                        self.write("\n")?;
                    }
                    count
                }
            };
            rows_up = self.lines.len() - line;
            if self.terminal && rows_up > 0 {
                self.write(&format!("\x1b[{rows_up}A"))?;
            }
        } else {
            self.lines.clear();
        }
        let shown = self.display(m);
        if !m.id.is_empty() && self.terminal && rows_up > 0 {
            self.write(&format!("\x1b[{rows_up}B"))?;
        }
        self.out.flush().map_err(write_error)?;
        shown
    }

    /// `JSONMessage.Display`.
    fn display(&mut self, m: &JsonMessage) -> Result<(), CliError> {
        if let Some(error) = error_text(m) {
            return Err(CliError::Daemon(error));
        }
        let bar = m.progress_detail.as_ref().map(|p| progress_text(p, self.width, now())).unwrap_or_default();
        let mut end = "";
        if self.terminal && m.stream.is_empty() && m.progress_detail.is_some() {
            self.write("\x1b[2K\r")?;
            end = "\r";
        } else if m.progress_detail.is_some() && !bar.is_empty() {
            return Ok(());
        }
        if !m.id.is_empty() {
            self.write(&format!("{}: ", m.id))?;
        }
        let text = if m.progress_detail.is_some() && self.terminal {
            format!("{} {bar}{end}", m.status)
        } else if !m.progress.is_empty() {
            format!("{} {}{end}", m.status, m.progress)
        } else if !m.stream.is_empty() {
            format!("{}{end}", m.stream)
        } else {
            format!("{}{end}\n", m.status)
        };
        self.write(&text)
    }

    fn write(&mut self, text: &str) -> Result<(), CliError> {
        self.out.write_all(text.as_bytes()).map_err(write_error)
    }
}

fn write_error(e: std::io::Error) -> CliError {
    CliError::Other(format!("writing the output: {e}"))
}

/// The error a message carries, if any.
pub fn error_text(m: &JsonMessage) -> Option<String> {
    match &m.error_detail {
        Some(detail) if !detail.message.is_empty() => Some(detail.message.clone()),
        _ if !m.error.is_empty() => Some(m.error.clone()),
        _ => None,
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `JSONProgress.String`: the bar only on terminals wider than 110
/// columns, the byte counts, and the time left when the start is known.
pub fn progress_text(p: &ProgressDetail, width: usize, now: i64) -> String {
    if p.current <= 0 && p.total <= 0 {
        return String::new();
    }
    let mut text = if width > 110 {
        p.bar(50)
    } else if p.total <= 0 || p.current > p.total {
        format!("{:>8}", human_size(p.current))
    } else {
        format!("{:>8}/{}", human_size(p.current), human_size(p.total))
    };
    if p.current > 0 && p.start > 0 && p.current < p.total && width > 50 {
        let elapsed = (now - p.start).max(0) as f64;
        let left = (p.total - p.current) as f64 * elapsed / p.current as f64;
        text.push(' ');
        text.push_str(&go_duration(left.round() as u64));
    }
    text
}

/// Go's `time.Duration.String` for whole seconds: `0s`, `42s`, `1m5s`, `2h0m3s`.
fn go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// Splits a byte stream into JSON messages, whatever the chunking.
#[derive(Default)]
pub struct Decoder {
    pending: Vec<u8>,
}

impl Decoder {
    /// Adds bytes; returns the messages now complete.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<JsonMessage>, CliError> {
        self.pending.extend_from_slice(data);
        let mut out = Vec::new();
        let mut stream = serde_json::Deserializer::from_slice(&self.pending).into_iter::<JsonMessage>();
        let mut consumed = 0;
        loop {
            match stream.next() {
                Some(Ok(m)) => {
                    consumed = stream.byte_offset();
                    out.push(m);
                }
                Some(Err(e)) if e.is_eof() => break,
                Some(Err(e)) => return Err(CliError::Other(format!("reading the progress stream: {e}"))),
                None => {
                    consumed = self.pending.len();
                    break;
                }
            }
        }
        self.pending.drain(..consumed);
        Ok(out)
    }

    /// Whether only whitespace is left over.
    pub fn is_clean(&self) -> bool {
        self.pending.iter().all(u8::is_ascii_whitespace)
    }
}

/// Renders a response body of JSON messages onto `renderer`.
pub async fn render_body<W: Write>(mut body: Incoming, renderer: &mut Renderer<W>) -> Result<(), CliError> {
    let mut decoder = Decoder::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::Connect(format!("reading the response: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        for m in decoder.push(&data)? {
            renderer.message(&m)?;
        }
    }
    if !decoder.is_clean() {
        return Err(CliError::Other("reading the progress stream: unexpected end of the stream".into()));
    }
    Ok(())
}

/// Renders a response body onto stdout, as a terminal display when stdout
/// is one.
pub async fn display_body(body: Incoming) -> Result<(), CliError> {
    display_on(body, std::io::stdout().lock()).await
}

/// [`display_body`] onto stderr, for the pull that create and run make.
pub async fn display_body_stderr(body: Incoming) -> Result<(), CliError> {
    display_on(body, std::io::stderr().lock()).await
}

async fn display_on<W: Write + IsTerminal>(body: Incoming, out: W) -> Result<(), CliError> {
    let terminal = out.is_terminal();
    let width = if terminal { terminal_width() } else { 200 };
    render_body(body, &mut Renderer::new(out, terminal, width)).await
}

/// Reads a body only for its errors (`pull -q`).
pub async fn drain_body(body: Incoming) -> Result<(), CliError> {
    render_body(body, &mut Renderer::new(std::io::sink(), false, 200)).await
}

/// Columns of the terminal on stdout; 200 as 1.2 assumed when unknown.
pub fn terminal_width() -> usize {
    match rustix::termios::tcgetwinsize(std::io::stdout()) {
        Ok(ws) if ws.ws_col > 0 => usize::from(ws.ws_col),
        _ => 200,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PULL: &str = concat!(
        "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\r\n",
        "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"aaa\"}\r\n",
        "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"bbb\"}\r\n",
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":500,\"total\":1000},\"progress\":\"[=>]\",\"id\":\"aaa\"}\r\n",
        "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"aaa\"}\r\n",
        "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"bbb\"}\r\n",
        "{\"status\":\"Digest: sha256:abc\"}\r\n",
        "{\"aux\":{\"Digest\":\"sha256:abc\"}}\r\n",
        "{\"status\":\"Status: Downloaded newer image for busybox:latest\"}\r\n",
    );

    fn render(input: &str, terminal: bool, width: usize, chunk: usize) -> (String, Result<(), CliError>) {
        let mut out = Vec::new();
        let mut r = Renderer::new(&mut out, terminal, width);
        let mut d = Decoder::default();
        let mut result = Ok(());
        'outer: for piece in input.as_bytes().chunks(chunk) {
            for m in d.push(piece).unwrap() {
                result = r.message(&m);
                if result.is_err() {
                    break 'outer;
                }
            }
        }
        assert!(d.is_clean());
        (String::from_utf8(out).unwrap(), result)
    }

    #[test]
    fn plain_output_has_one_line_per_message_and_no_bars() {
        let (out, result) = render(PULL, false, 200, 7);
        result.unwrap();
        assert_eq!(
            out,
            "latest: Pulling from library/busybox\n\
             aaa: Pulling fs layer\n\
             bbb: Pulling fs layer\n\
             aaa: Download complete\n\
             bbb: Pull complete\n\
             Digest: sha256:abc\n\
             Status: Downloaded newer image for busybox:latest\n"
        );
    }

    #[test]
    fn terminal_output_rewrites_layer_lines_in_place() {
        let (out, result) = render(PULL, true, 80, 1000);
        result.unwrap();
        let expected = concat!(
            "latest: Pulling from library/busybox\n",
            // aaa gets line 0 of the table: a new line, then up 1 to it.
            "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B",
            "\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B",
            // aaa is two lines up from the cursor.
            "\x1b[2A\x1b[2K\raaa: Downloading     500B/1kB\r\x1b[2B",
            "\x1b[2A\x1b[2K\raaa: Download complete \r\x1b[2B",
            "\x1b[1A\x1b[2K\rbbb: Pull complete \r\x1b[1B",
            "Digest: sha256:abc\n",
            "Status: Downloaded newer image for busybox:latest\n",
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn wide_terminals_get_the_bar() {
        let p = ProgressDetail { current: 500, total: 1000, start: 0 };
        let text = progress_text(&p, 120, 0);
        assert!(text.starts_with("[=========================>"), "{text}");
        assert!(text.ends_with("    500B/1kB"), "{text}");
        assert_eq!(progress_text(&p, 80, 0), "    500B/1kB");
        assert_eq!(progress_text(&ProgressDetail { current: 2000, total: 0, start: 0 }, 80, 0), "     2kB");
        assert_eq!(progress_text(&ProgressDetail::default(), 200, 0), "");
        let started = ProgressDetail { current: 250, total: 1000, start: 100 };
        assert_eq!(progress_text(&started, 80, 110), "    250B/1kB 30s");
        assert_eq!(go_duration(3725), "1h2m5s");
        assert_eq!(go_duration(65), "1m5s");
    }

    #[test]
    fn an_error_message_ends_the_stream() {
        let input = "{\"status\":\"Pulling repository x\"}\r\n{\"errorDetail\":{\"message\":\"not found\"},\"error\":\"not found\"}\r\n{\"status\":\"never\"}\r\n";
        let (out, result) = render(input, false, 200, 5);
        assert_eq!(out, "Pulling repository x\n");
        assert_eq!(result.unwrap_err().to_string(), "Error response from daemon: not found");
    }

    #[test]
    fn load_streams_print_as_they_are() {
        let input = "{\"stream\":\"Loaded image: busybox:latest\\n\"}\r\n{\"status\":\"sha256:abc\"}\r\n";
        assert_eq!(render(input, false, 200, 3).0, "Loaded image: busybox:latest\nsha256:abc\n");
        assert_eq!(render(input, true, 200, 3).0, "Loaded image: busybox:latest\nsha256:abc\n");
    }

    #[test]
    fn garbage_is_an_error() {
        let mut d = Decoder::default();
        assert!(d.push(b"{\"status\":\"a\"} nope").is_err());
        let mut d = Decoder::default();
        assert_eq!(d.push(b"{\"status\":").unwrap(), vec![]);
        assert!(!d.is_clean());
    }
}
