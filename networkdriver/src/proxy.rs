//! The userland proxy of a published port (Docker 1.2's `pkg/proxy`): the
//! DNAT rule carries traffic from outside, but connections the host makes
//! to its own loopback never pass through PREROUTING, so a listener on the
//! host port forwards them to the container. TCP: one backend connection
//! per client, both directions copied, a half-close passed on. UDP: one
//! backend socket per client address, replies sent back from the host
//! port, forgotten after [`UDP_IDLE`] without traffic.
//!
//! A [`Proxy`] stops (its listener closes, its tasks end) when dropped.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// How long a UDP client's backend socket lives without traffic (Docker
/// 1.2's `UDPConnTrackTimeout`).
pub const UDP_IDLE: Duration = Duration::from_secs(90);

/// Each direction's copy buffer of a TCP connection: tokio's default (8
/// KiB) held a loopback stream to a quarter of what docker-proxy's 32 KiB
/// reach; 256 KiB moves one socket buffer's worth per system call.
const TCP_BUF: usize = 256 * 1024;

/// Largest UDP datagram forwarded.
const UDP_BUF: usize = 65507;

/// A running proxy; dropping it stops it.
#[derive(Debug)]
pub struct Proxy {
    frontend: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// The address it listens on (the host port, resolved when 0 was
    /// asked for).
    pub fn frontend(&self) -> SocketAddr {
        self.frontend
    }

    /// Stops the proxy and waits until its listener is closed, so that the
    /// port can be bound again at once (dropping it only asks the tasks to
    /// end, which happens at their next poll).
    pub async fn stop(self) {
        let tasks: Vec<JoinHandle<()>> = self.tasks.lock().drain(..).collect();
        for task in tasks {
            task.abort();
            // A cancelled task's error is the expected result.
            let _ = task.await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

/// Listens on `frontend` and forwards every TCP connection to `backend`.
pub async fn tcp(frontend: SocketAddr, backend: SocketAddr) -> io::Result<Proxy> {
    let listener = TcpListener::bind(frontend).await?;
    let frontend = listener.local_addr()?;
    let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
    let registry = tasks.clone();
    let accept = tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                // Out of descriptors, say: try again soon, not in a spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let conn = tokio::spawn(async move {
                // A container that does not answer closes the client's
                // connection, as Docker's proxy did.
                let Ok(mut server) = TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional_with_sizes(&mut client, &mut server, TCP_BUF, TCP_BUF).await;
            });
            let mut tasks = registry.lock();
            tasks.retain(|t| !t.is_finished());
            tasks.push(conn);
        }
    });
    tasks.lock().push(accept);
    Ok(Proxy { frontend, tasks })
}

/// Listens on `frontend` and forwards UDP datagrams to `backend`, the
/// replies back to each sender.
pub async fn udp(frontend: SocketAddr, backend: SocketAddr) -> io::Result<Proxy> {
    let socket = Arc::new(UdpSocket::bind(frontend).await?);
    let frontend = socket.local_addr()?;
    let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
    let registry = tasks.clone();
    let main = tokio::spawn(async move {
        let clients: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
        let mut buf = vec![0u8; UDP_BUF];
        loop {
            let Ok((n, client)) = socket.recv_from(&mut buf).await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let existing = clients.lock().get(&client).cloned();
            let upstream = match existing {
                Some(u) => u,
                None => {
                    let local: SocketAddr =
                        if backend.is_ipv4() { "0.0.0.0:0".parse() } else { "[::]:0".parse() }.expect("literal");
                    let Ok(u) = UdpSocket::bind(local).await else { continue };
                    if u.connect(backend).await.is_err() {
                        continue;
                    }
                    let u = Arc::new(u);
                    clients.lock().insert(client, u.clone());
                    let replies = tokio::spawn(reply_loop(u.clone(), socket.clone(), client, clients.clone()));
                    let mut tasks = registry.lock();
                    tasks.retain(|t| !t.is_finished());
                    tasks.push(replies);
                    u
                }
            };
            let _ = upstream.send(&buf[..n]).await;
        }
    });
    tasks.lock().push(main);
    Ok(Proxy { frontend, tasks })
}

/// Sends the backend's replies to `client` until it has been quiet for
/// [`UDP_IDLE`], then forgets the client.
async fn reply_loop(
    upstream: Arc<UdpSocket>,
    frontend: Arc<UdpSocket>,
    client: SocketAddr,
    clients: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>>,
) {
    let mut buf = vec![0u8; UDP_BUF];
    while let Ok(Ok(n)) = tokio::time::timeout(UDP_IDLE, upstream.recv(&mut buf)).await {
        if frontend.send_to(&buf[..n], client).await.is_err() {
            break;
        }
    }
    clients.lock().remove(&client);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn any_loopback_port() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[tokio::test]
    async fn tcp_connections_reach_the_backend_and_half_closes_pass() {
        // An echo server that answers once its client has finished writing.
        let backend = TcpListener::bind(any_loopback_port()).await.unwrap();
        let backend_addr = backend.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = backend.accept().await {
                tokio::spawn(async move {
                    let mut all = Vec::new();
                    s.read_to_end(&mut all).await.unwrap();
                    s.write_all(&all).await.unwrap();
                });
            }
        });
        let proxy = tcp(any_loopback_port(), backend_addr).await.unwrap();
        for text in [&b"one"[..], &b"two"[..]] {
            let mut c = TcpStream::connect(proxy.frontend()).await.unwrap();
            c.write_all(text).await.unwrap();
            c.shutdown().await.unwrap();
            let mut back = Vec::new();
            c.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, text);
        }
        let addr = proxy.frontend();
        drop(proxy);
        // The listener goes with the proxy (its task is aborted; the abort
        // takes effect at the task's next poll).
        let mut refused = false;
        for _ in 0..100 {
            if TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(refused, "the proxy still listens after it was dropped");
    }

    #[tokio::test]
    async fn a_dead_backend_closes_the_client() {
        let gone = TcpListener::bind(any_loopback_port()).await.unwrap().local_addr().unwrap();
        let proxy = tcp(any_loopback_port(), gone).await.unwrap();
        let mut c = TcpStream::connect(proxy.frontend()).await.unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(c.read(&mut buf).await.unwrap_or(0), 0);
    }

    #[tokio::test]
    async fn udp_datagrams_go_both_ways_per_client() {
        let backend = UdpSocket::bind(any_loopback_port()).await.unwrap();
        let backend_addr = backend.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = backend.recv_from(&mut buf).await {
                let mut reply = b"re:".to_vec();
                reply.extend_from_slice(&buf[..n]);
                let _ = backend.send_to(&reply, from).await;
            }
        });
        let proxy = udp(any_loopback_port(), backend_addr).await.unwrap();
        for name in ["a", "b"] {
            let client = UdpSocket::bind(any_loopback_port()).await.unwrap();
            client.send_to(name.as_bytes(), proxy.frontend()).await.unwrap();
            let mut buf = [0u8; 64];
            let (n, from) = tokio::time::timeout(Duration::from_secs(10), client.recv_from(&mut buf))
                .await
                .expect("a reply")
                .unwrap();
            assert_eq!(&buf[..n], format!("re:{name}").as_bytes());
            assert_eq!(from, proxy.frontend(), "the reply comes from the published port");
        }
    }
}
