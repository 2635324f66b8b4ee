//! `fd://` listeners: sockets passed by systemd socket activation
//! (`LISTEN_FDS`/`LISTEN_PID`), read through `libsystemd`.
//!
//! `fd://` or `fd://*` takes every passed socket; `fd://N` the one with fd
//! number N (the first passed fd is 3). Errors keep 1.2's texts.

use std::collections::HashSet;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::LazyLock;

use libsystemd::activation::IsType;
use parking_lot::Mutex;

use crate::ServeError;
use crate::listener::Listener;

/// The first fd systemd passes.
const LISTEN_FDS_START: RawFd = 3;

/// Fds already turned into listeners: adopting one twice would close it
/// twice.
static ADOPTED: LazyLock<Mutex<HashSet<RawFd>>> = LazyLock::new(Default::default);

/// The listeners named by an `fd://` address.
pub fn listeners(addr: &str) -> Result<Vec<Listener>, ServeError> {
    let fds = libsystemd::activation::receive_descriptors(false)
        .map_err(|e| ServeError::Activation(format!("reading LISTEN_FDS: {e}")))?;
    if fds.is_empty() {
        return Err(ServeError::Activation("No sockets found".into()));
    }
    let chosen = match addr {
        "" | "*" => fds,
        n => {
            let fd: RawFd = n.parse().map_err(|_| ServeError::Activation(format!("invalid fd address: fd://{n}")))?;
            let index = usize::try_from(fd - LISTEN_FDS_START)
                .map_err(|_| ServeError::Activation(format!("invalid fd address: fd://{n}")))?;
            let fd = fds
                .into_iter()
                .nth(index)
                .ok_or_else(|| ServeError::Activation("Too few socket activated files passed in".into()))?;
            vec![fd]
        }
    };
    chosen
        .into_iter()
        .map(|fd| {
            let (unix, inet) = (fd.is_unix(), fd.is_inet());
            let raw = fd.into_raw_fd();
            if !unix && !inet {
                return Err(ServeError::Activation(format!("fd {raw} passed by systemd is not a stream socket")));
            }
            if !ADOPTED.lock().insert(raw) {
                return Err(ServeError::Activation(format!("fd {raw} is named by more than one -H fd://")));
            }
            let owned = adopt(raw);
            let listener = if unix {
                let std = std::os::unix::net::UnixListener::from(owned);
                std.set_nonblocking(true).map_err(|e| ServeError::Io(format!("fd {raw}"), e))?;
                Listener::Unix(
                    tokio::net::UnixListener::from_std(std).map_err(|e| ServeError::Io(format!("fd {raw}"), e))?,
                )
            } else {
                let std = std::net::TcpListener::from(owned);
                std.set_nonblocking(true).map_err(|e| ServeError::Io(format!("fd {raw}"), e))?;
                Listener::Tcp(
                    tokio::net::TcpListener::from_std(std).map_err(|e| ServeError::Io(format!("fd {raw}"), e))?,
                )
            };
            Ok(listener)
        })
        .collect()
}

/// Takes ownership of an inherited socket.
#[allow(unsafe_code)]
fn adopt(raw: RawFd) -> OwnedFd {
    // SAFETY: `raw` is one of the fds systemd passed to this very process
    // (libsystemd checked LISTEN_PID), it is open, nothing else in the
    // process owns it, and ADOPTED guarantees it is adopted only once, so
    // exactly one OwnedFd will close it.
    unsafe { OwnedFd::from_raw_fd(raw) }
}
