//! The hijacked connection of `POST /containers/{id}/attach` (Docker 1.2's
//! `api/client/hijack.go`): the request is written by hand with
//! `Connection: Upgrade` / `Upgrade: tcp`, the response head is read up to
//! its blank line, and the socket is then a raw duplex stream. Today's
//! daemons answer `101 UPGRADED`; 1.2 answered `200 OK` with no length,
//! so both are taken. Bytes that came in with the head belong to the
//! stream and are handed back first.

use std::io::Cursor;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use super::{CLIENT_API_VERSION, CliError, DockerCli, Io, error_from};

/// A head longer than this is not an HTTP answer we can use.
const MAX_HEAD: usize = 64 * 1024;

/// A hijacked connection, split so output can be read while stdin is
/// written.
pub struct Hijacked {
    /// The output: the bytes that followed the head, then the socket.
    pub reader: tokio::io::Chain<Cursor<Vec<u8>>, ReadHalf<Box<dyn Io>>>,
    /// The input; shut down to half-close.
    pub writer: WriteHalf<Box<dyn Io>>,
}

/// A parsed response head.
#[derive(Debug, PartialEq)]
pub struct Head {
    pub status: u16,
    /// `Content-Length`, when given.
    pub content_length: Option<usize>,
    /// Where the head ends (after its blank line).
    pub len: usize,
}

/// Parses the response head at the start of `buf`; `Ok(None)` when its
/// blank line has not come yet.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, CliError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let bad = || CliError::Connect(format!("malformed answer to attach: {:?}", String::from_utf8_lossy(&buf[..end])));
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| bad())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.split(' ');
    if !words.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(bad());
    }
    let status = words.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let content_length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok());
    Ok(Some(Head { status, content_length, len: end + 4 }))
}

impl DockerCli {
    /// `POST /v1.24<path>` as a hijack; returns the raw stream once the
    /// daemon has agreed to it (101 or 200).
    pub async fn hijack(&self, path: &str) -> Result<Hijacked, CliError> {
        self.hijack_with(path, None).await
    }

    /// [`DockerCli::hijack`] with a JSON body (`POST /exec/{id}/start`).
    pub async fn hijack_with(&self, path: &str, json: Option<&[u8]>) -> Result<Hijacked, CliError> {
        let mut io = self.connect().await?;
        let (content_type, body) = match json {
            Some(body) => ("application/json", body),
            None => ("text/plain", &[][..]),
        };
        let request = format!(
            "POST /v{CLIENT_API_VERSION}{path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: Docker-Client/{}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
            builtins::VERSION,
            body.len()
        );
        let talking = |e: std::io::Error| CliError::Connect(format!("talking to {}: {e}", self.host));
        let mut request = request.into_bytes();
        request.extend_from_slice(body);
        io.write_all(&request).await.map_err(talking)?;
        io.flush().await.map_err(talking)?;
        let (head, mut buf) = read_head(&mut io).await.map_err(talking)?;
        let Some(head) = head else {
            return Err(CliError::Connect(format!("{} closed the connection before answering attach", self.host)));
        };
        let rest = buf.split_off(head.len);
        match head.status {
            101 | 200 => {
                let (read, writer) = tokio::io::split(io);
                Ok(Hijacked { reader: Cursor::new(rest).chain(read), writer })
            }
            status => {
                let body = read_error_body(&mut io, rest, head.content_length).await;
                let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                Err(error_from(status, path, Bytes::from(body)))
            }
        }
    }
}

/// Reads until the head is complete; returns it with everything read.
async fn read_head<R: AsyncRead + Unpin>(io: &mut R) -> std::io::Result<(Option<Head>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(head) = parse_head(&buf).map_err(|e| std::io::Error::other(e.to_string()))? {
            return Ok((Some(head), buf));
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::other("the answer's head is too long"));
        }
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Ok((None, buf));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// An error answer's body: as long as it says, else up to the close.
/// Chunked error bodies keep their framing; the message is still legible.
async fn read_error_body<R: AsyncRead + Unpin>(io: &mut R, mut body: Vec<u8>, length: Option<usize>) -> Vec<u8> {
    let limit = length.unwrap_or(MAX_HEAD);
    let mut chunk = [0u8; 4096];
    while body.len() < limit {
        match io.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(limit);
    body
}

/// Half-closes `writer` so the daemon sees stdin's end; errors are moot
/// once the daemon has gone.
pub async fn close_write<W: AsyncWrite + Unpin>(writer: &mut W) {
    let _ = writer.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_keep_the_bytes_after_them() {
        let wire = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\0\0\0\0\0\0\x03hi\n";
        let head = parse_head(wire).unwrap().unwrap();
        assert_eq!(head.status, 101);
        assert_eq!(&wire[head.len..], b"\x01\0\0\0\0\0\0\x03hi\n");
        assert_eq!(parse_head(&wire[..20]).unwrap(), None);
        let head = parse_head(b"HTTP/1.1 404 Not Found\r\ncontent-length: 7\r\n\r\nmissing").unwrap().unwrap();
        assert_eq!((head.status, head.content_length), (404, Some(7)));
        assert!(parse_head(b"SSH-2.0\r\n\r\n").is_err());
    }

    #[tokio::test]
    async fn head_split_across_reads() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let task = tokio::spawn(async move {
            for part in [&b"HTTP/1.1 200 OK\r\nContent-Type: x\r"[..], b"\n\r", b"\nabc"] {
                server.write_all(part).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        });
        let (head, buf) = read_head(&mut client).await.unwrap();
        let head = head.unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(&buf[head.len..], b"abc");
        task.await.unwrap();
    }

    #[tokio::test]
    async fn hijack_over_a_unix_socket() {
        let dir = std::env::temp_dir().join(format!("cli-hijack-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let sock = dir.join("d.sock");
        let _ = std::fs::remove_file(&sock);
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                request.push(conn.read_u8().await.unwrap());
            }
            assert!(String::from_utf8(request).unwrap().contains("\r\nUpgrade: tcp\r\n"));
            conn.write_all(b"HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\nfirst").await.unwrap();
            let mut input = Vec::new();
            conn.read_to_end(&mut input).await.unwrap();
            conn.write_all(&input).await.unwrap();
        });
        let cli = DockerCli::new(api_server::Host::Unix(sock.display().to_string()), None).unwrap();
        let mut conn = cli.hijack("/containers/x/attach?stream=1").await.unwrap();
        conn.writer.write_all(b"-echo").await.unwrap();
        close_write(&mut conn.writer).await;
        let mut out = Vec::new();
        conn.reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"first-echo");
        server.await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
