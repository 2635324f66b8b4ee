//! What a route is: a method and path pattern, how it reads its body, and a
//! builder that turns an [`ApiRequest`] into a [`JobSpec`] (a job name, args,
//! env, and how the job's stdout becomes the HTTP response).
//!
//! Builders are plain functions with no I/O, so each is unit-tested on its
//! own; running the job is the router's business.

use engine::Env;
use http::{Method, StatusCode};

use crate::errors::ApiError;
use crate::request::ApiRequest;

/// How a route reads its request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// Ignored.
    None,
    /// Collected (size-limited) into [`ApiRequest::body`] for the builder.
    Json,
    /// Streamed to the job's stdin (tar archives, image layers).
    Stream,
}

/// How the job's stdout becomes the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Buffered JSON written by the job, sent with this status.
    Json(StatusCode),
    /// No body; this status on success.
    Empty(StatusCode),
    /// JSON messages streamed as the job writes them. A failure after the
    /// first message is appended as an `{"errorDetail":…,"error":…}` message.
    JsonStream,
    /// Raw bytes streamed with this content type. A failure after the first
    /// byte aborts the response, so the client sees a truncated stream rather
    /// than error text inside its tar.
    Raw(&'static str),
    /// The connection is taken over for a raw bidirectional stream (attach,
    /// exec start): `101 UPGRADED` when the client asks to upgrade, else a
    /// close-delimited `200`; stdin from the client, stdout and stderr
    /// multiplexed unless there is a TTY.
    Hijack(Streams),
    /// A streamed `200` of `application/vnd.docker.raw-stream` with stdout
    /// and stderr multiplexed unless there is a TTY (logs).
    Multiplexed(Streams),
    /// No body; the job's output, base64'd, is the value of this header
    /// (`HEAD /containers/{name}/archive`).
    Header(&'static str),
    /// [`Reply::Raw`] of this content type, after a stat job whose failure
    /// is the answer and whose output goes in a header
    /// (`GET /containers/{name}/archive`).
    RawWithStat(Stat, &'static str),
}

/// A job run before the route's own, with the same args, whose output,
/// base64'd, becomes a response header (`X-Docker-Container-Path-Stat`):
/// a job cannot set headers itself, and a missing path must be a plain
/// HTTP error before the tar stream begins, as with [`Streams::probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The job run first.
    pub job: &'static str,
    /// The header its output goes in.
    pub header: &'static str,
}

/// What the router needs to know to serve a container's streams.
///
/// The job cannot say whether there is a TTY before it runs, and a missing
/// container must be a plain HTTP error before any stream begins (Docker
/// runs `container_inspect` first for the same reasons). So the router
/// first runs `probe NAME`: its failure is the answer, and its JSON output
/// holds the TTY flag unless the request already said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    /// The inspect job run first, with the route's name as its argument.
    pub probe: &'static str,
    /// Where the TTY flag comes from.
    pub tty: TtyFrom,
    /// The text written in-band (framed as stdout) when the job fails after
    /// the stream began.
    pub failure: Failure,
}

/// Where the router learns whether the stream is a TTY's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtyFrom {
    /// The probe's JSON output, at this JSON pointer (`/Config/Tty`); a
    /// missing or non-boolean value means no TTY.
    Probe(&'static str),
    /// The request said (exec start's `Tty`, as dockerd trusts it).
    Given(bool),
}

/// How a job failure after the stream began is reported in-band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `Error attaching: <err>\n` (Docker 1.2's attach).
    Attach,
    /// `<err>\r\n` (dockerd's exec start).
    Exec,
    /// `Error running logs job: <err>\n` (Docker 1.2's logs).
    Logs,
}

impl Failure {
    /// The in-band text for an error message.
    pub fn text(self, message: &str) -> String {
        match self {
            Self::Attach => format!("Error attaching: {message}\n"),
            Self::Exec => format!("{message}\r\n"),
            Self::Logs => format!("Error running logs job: {message}\n"),
        }
    }
}

/// What the router runs for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// The job to run.
    pub name: &'static str,
    /// Its positional arguments.
    pub args: Vec<String>,
    /// Its environment.
    pub env: Env,
    /// How its output is answered.
    pub reply: Reply,
}

impl JobSpec {
    /// A job with no args or env.
    pub fn new(name: &'static str, reply: Reply) -> Self {
        Self { name, args: Vec::new(), env: Env::new(), reply }
    }

    /// Adds a positional argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an env key.
    pub fn env(mut self, key: &str, value: impl AsRef<str>) -> Self {
        self.env.set(key, value);
        self
    }

    /// Sets a boolean env key (`1`/`0`).
    pub fn env_bool(mut self, key: &str, value: bool) -> Self {
        self.env.set_bool(key, value);
        self
    }

    /// Passes the request's `filters`, normalised, when there are any.
    pub fn filters_from(self, req: &ApiRequest) -> Result<Self, ApiError> {
        Ok(match req.filters()? {
            Some(filters) => self.env(engine::names::env::FILTERS, serde_json::to_string(&filters).unwrap_or_default()),
            None => self,
        })
    }
}

/// A route builder.
pub type Builder = fn(&ApiRequest) -> Result<JobSpec, ApiError>;

/// What a route does.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// `/_ping`: answered by the server itself.
    Ping,
    /// Build and run a job.
    Job(Builder),
}

/// One entry of the route table.
#[derive(Debug, Clone)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path without version prefix. `{name}` matches one path segment;
    /// `{name*}` matches one or more segments (image names contain `/`).
    pub path: &'static str,
    /// How the body is read.
    pub body: BodyMode,
    /// What to do.
    pub action: Action,
}

impl Route {
    /// The `{name}` value when `path` matches this route's pattern.
    pub fn matches(&self, path: &str) -> Option<String> {
        match_path(self.path, path)
    }
}

fn match_path(pattern: &str, path: &str) -> Option<String> {
    let (greedy, marker) = if pattern.contains("{name*}") {
        (true, "{name*}")
    } else if pattern.contains("{name}") {
        (false, "{name}")
    } else {
        return (pattern == path).then(String::new);
    };
    let (prefix, suffix) = pattern.split_once(marker)?;
    let middle = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if middle.is_empty() || (!greedy && middle.contains('/')) {
        return None;
    }
    Some(middle.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_parameter_paths() {
        assert_eq!(match_path("/info", "/info"), Some(String::new()));
        assert_eq!(match_path("/info", "/infos"), None);
        assert_eq!(match_path("/containers/{name}/json", "/containers/web/json"), Some("web".into()));
        assert_eq!(match_path("/containers/{name}/json", "/containers/a/b/json"), None);
        assert_eq!(match_path("/containers/{name}/json", "/containers//json"), None);
        assert_eq!(match_path("/containers/{name}", "/containers/web"), Some("web".into()));
    }

    #[test]
    fn greedy_names_may_hold_slashes_and_colons() {
        let p = "/images/{name*}/json";
        assert_eq!(
            match_path(p, "/images/127.0.0.1:5000/busybox:latest/json"),
            Some("127.0.0.1:5000/busybox:latest".into())
        );
        assert_eq!(match_path(p, "/images/json"), None);
        assert_eq!(match_path("/images/{name*}", "/images/library/busybox"), Some("library/busybox".into()));
        assert_eq!(match_path("/images/{name*}/get", "/images/get"), None);
        assert_eq!(match_path("/containers/{name*}", "/containers//web/db"), Some("/web/db".into()));
    }
}
