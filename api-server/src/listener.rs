//! Binding the `-H` endpoints: unix sockets (mode 0660, group from `-G`),
//! TCP (optionally TLS) and systemd-passed fds.
//!
//! Departure: Docker 1.2 set the process umask to 0777 around the unix
//! socket's creation. The umask is process-wide and the daemon is setting
//! itself up on other threads at that moment, so here the socket is created
//! with the ordinary umask (which never grants write, hence connect, to
//! others) and chmod'ed to 0660 right after.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::unistd::{Gid, Group, chown};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use crate::ServeError;

/// The socket group used when `-G` is not given.
pub const DEFAULT_SOCKET_GROUP: &str = "docker";

/// A bound, listening socket.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// A unix stream socket.
    Unix(UnixListener),
}

/// An accepted connection.
#[derive(Debug)]
pub enum Connection {
    /// TCP.
    Tcp(TcpStream),
    /// Unix.
    Unix(UnixStream),
}

impl Listener {
    /// Waits for the next connection.
    pub async fn accept(&self) -> std::io::Result<Connection> {
        match self {
            Listener::Tcp(l) => {
                let (stream, _) = l.accept().await?;
                // Small request/response exchanges: don't wait to batch.
                let _ = stream.set_nodelay(true);
                Ok(Connection::Tcp(stream))
            }
            Listener::Unix(l) => Ok(Connection::Unix(l.accept().await?.0)),
        }
    }
}

/// Binds a unix socket at `path`, replacing a stale one, owned by
/// root:`group` (name or number) with mode 0660. The default group missing is
/// only worth a debug line; a named one missing is an error.
pub fn bind_unix(path: &str, group: &str) -> Result<UnixListener, ServeError> {
    let io = |e| ServeError::Io(path.to_string(), e);
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    if !group.is_empty() {
        match lookup_group(group) {
            Some(gid) => chown(Path::new(path), None, Some(gid))
                .map_err(|e| ServeError::Io(path.to_string(), std::io::Error::from(e)))?,
            None if group == DEFAULT_SOCKET_GROUP => {
                tracing::debug!(socket = path, "Warning: could not chgrp {path} to docker: group docker not found")
            }
            None => return Err(ServeError::GroupNotFound(group.to_string())),
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    Ok(listener)
}

fn lookup_group(group: &str) -> Option<Gid> {
    if let Ok(Some(g)) = Group::from_name(group) {
        return Some(g.gid);
    }
    let gid = Gid::from_raw(group.parse().ok()?);
    Group::from_gid(gid).ok().flatten().map(|g| g.gid)
}

/// Binds `host:port`.
pub async fn bind_tcp(addr: &str) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|e| ServeError::Io(addr.to_string(), e))
}
