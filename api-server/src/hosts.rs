//! `-H` addresses: `unix://PATH`, `tcp://HOST:PORT`, `fd://[N|*]`, normalised
//! as Docker 1.2's `ParseHost` does (`pkg/parsers`).
//!
//! There is no default TCP port, as in 1.2: `tcp://host` is an error.
//! Departure: a bracketed IPv6 host (`tcp://[::1]:2375`) is accepted; 1.2
//! rejected every address with more than one colon.

/// The socket used when no `-H` is given.
pub const DEFAULT_UNIX_SOCKET: &str = "/var/run/docker.sock";
/// The host used for `tcp://:PORT`.
pub const DEFAULT_HTTP_HOST: &str = "127.0.0.1";

/// An invalid `-H` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Missing or malformed host/port.
    #[error("Invalid bind address format: {0}")]
    Format(String),
    /// A scheme other than unix, tcp and fd.
    #[error("Invalid bind address protocol: {0}")]
    Protocol(String),
}

/// One endpoint, after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A unix socket path.
    Unix(String),
    /// `host:port`.
    Tcp(String),
    /// Sockets inherited from systemd: `""`/`*` for all, or an fd number.
    Fd(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Unix(p) => write!(f, "unix://{p}"),
            Host::Tcp(a) => write!(f, "tcp://{a}"),
            Host::Fd(a) => write!(f, "fd://{a}"),
        }
    }
}

/// Validates and normalises one `-H` value.
pub fn parse_host(raw: &str) -> Result<Host, HostError> {
    let addr = raw.trim();
    if addr.is_empty() {
        return Ok(Host::Unix(DEFAULT_UNIX_SOCKET.to_string()));
    }
    if let Some(rest) = addr.strip_prefix("fd://") {
        return Ok(Host::Fd(rest.to_string()));
    }
    if let Some(path) = addr.strip_prefix("unix://") {
        let path = if path.is_empty() { DEFAULT_UNIX_SOCKET } else { path };
        return Ok(Host::Unix(path.to_string()));
    }
    let hostport = match addr.strip_prefix("tcp://") {
        Some(rest) => rest,
        None if addr.contains("://") => return Err(HostError::Protocol(addr.to_string())),
        None => addr,
    };
    let format_error = || HostError::Format(addr.to_string());
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (ip, port) = v6.split_once("]:").ok_or_else(format_error)?;
        (format!("[{ip}]"), port)
    } else {
        let (host, port) = hostport.split_once(':').ok_or_else(format_error)?;
        if port.contains(':') {
            return Err(format_error());
        }
        (if host.is_empty() { DEFAULT_HTTP_HOST.to_string() } else { host.to_string() }, port)
    };
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(Host::Tcp(format!("{host}:{p}"))),
        _ => Err(format_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        parse_host(raw).unwrap().to_string()
    }

    #[test]
    fn normalises_like_docker_1_2() {
        assert_eq!(ok(""), "unix:///var/run/docker.sock");
        assert_eq!(ok("unix://"), "unix:///var/run/docker.sock");
        assert_eq!(ok("unix:///tmp/d.sock"), "unix:///tmp/d.sock");
        assert_eq!(ok("tcp://1.2.3.4:2375"), "tcp://1.2.3.4:2375");
        assert_eq!(ok("1.2.3.4:2375"), "tcp://1.2.3.4:2375");
        assert_eq!(ok(":2375"), "tcp://127.0.0.1:2375");
        assert_eq!(ok(" tcp://:7 "), "tcp://127.0.0.1:7");
        assert_eq!(ok("fd://"), "fd://");
        assert_eq!(ok("fd://3"), "fd://3");
        assert_eq!(ok("tcp://[::1]:2375"), "tcp://[::1]:2375");
    }

    #[test]
    fn rejects_what_docker_1_2_rejects() {
        for bad in ["tcp://", "tcp://host", "0.0.0.0", "host:0", "host:abc", "a:b:c", "tcp://h:70000"] {
            assert_eq!(parse_host(bad), Err(HostError::Format(bad.to_string())), "{bad}");
        }
        assert_eq!(parse_host("udp://x:1").unwrap_err().to_string(), "Invalid bind address protocol: udp://x:1");
        assert_eq!(parse_host("tcp://").unwrap_err().to_string(), "Invalid bind address format: tcp://");
    }
}
