//! The messages between the daemon and the container init, one JSON
//! document per `SOCK_SEQPACKET` datagram, with file descriptors riding
//! along as `SCM_RIGHTS`. The socket is the init's stdin, so nothing has to
//! be inherited beyond fds 0-2 and no `pre_exec` hook is needed.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::command::{Command, Process};

/// Big enough for any Command (env and mounts included).
const MAX_MESSAGE: usize = 256 * 1024;

/// Daemon → init, first message; stdio fds attached unless tty.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Start {
    Run(Box<Command>),
    /// `docker exec`: join the namespaces of `pid` (host pid of the container's pid 1).
    Exec {
        id: String,
        pid: i32,
        process: Box<Process>,
    },
}

/// Init → daemon.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Report {
    /// The container process's host pid (from the monitor, right after fork).
    Pid(i32),
    /// Setup done; the pty master is attached when `console`.
    Ready { console: bool },
    /// Setup or exec failed; the text goes to the user.
    Error { message: String, not_found: bool },
}

/// Daemon → container process: cgroups joined, network configured, exec now.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Go;

pub(crate) fn send<T: Serialize>(sock: BorrowedFd<'_>, msg: &T, fds: &[RawFd]) -> std::io::Result<()> {
    let data = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    let iov = [IoSlice::new(&data)];
    let cmsgs = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &cmsgs };
    loop {
        match sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => return Ok(()),
        }
    }
}

/// `None` at end of stream (the peer exec'd or exited).
pub(crate) fn recv<T: DeserializeOwned>(sock: BorrowedFd<'_>) -> std::io::Result<Option<(T, Vec<OwnedFd>)>> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut cmsg = nix::cmsg_space!([RawFd; 8]);
    let (len, fds) = loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        match recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC) {
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(msg) => {
                let mut fds = Vec::new();
                for c in msg.cmsgs().map_err(std::io::Error::from)? {
                    if let ControlMessageOwned::ScmRights(raw) = c {
                        fds.extend(raw.into_iter().map(owned));
                    }
                }
                break (msg.bytes, fds);
            }
        }
    };
    if len == 0 {
        return Ok(None);
    }
    let msg = serde_json::from_slice(&buf[..len]).map_err(std::io::Error::other)?;
    Ok(Some((msg, fds)))
}

#[allow(unsafe_code)]
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel has just installed `fd` in our table from an
    // SCM_RIGHTS message; nothing else refers to it, so we are its only owner.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
