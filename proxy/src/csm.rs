//! The CSM side of `iamref record`: SDK client-side monitoring datagrams
//! received on a UDP socket.
//!
//! The socket asks for a large receive buffer, and a thread of its own
//! only drains it into the session's channel ([`crate::session::Msg`]),
//! so bursts wait in the kernel instead of being dropped while the
//! recorder maps calls. Datagrams larger than
//! [`iamref_policy::record::csm::MAX_DATAGRAM`] are measured, never
//! copied. What the kernel still dropped (its buffer full) is read back
//! from `/proc/net/udp` ([`Receiving::kernel_drops`]). Parsing is
//! `iamref_policy::record::csm` (pure).

use crate::session::Msg;
use iamref_policy::record::csm::MAX_DATAGRAM;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The receive buffer asked for (the kernel caps it at `net.core.rmem_max`).
pub const RECV_BUFFER: usize = 4 << 20;

/// A bound CSM socket, not yet read.
pub struct Listener {
    socket: UdpSocket,
}

impl Listener {
    /// Bind a UDP socket with a large receive buffer ([`RECV_BUFFER`]
    /// asked), so bursts of datagrams wait in the kernel.
    pub fn bind(addr: SocketAddr) -> io::Result<Listener> {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        let _ = s.set_recv_buffer_size(RECV_BUFFER);
        s.bind(&addr.into())?;
        Ok(Listener { socket: s.into() })
    }

    /// The address actually bound (port 0 picks a free one).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Drain the socket on a thread of its own into `tx` until `stop` is
    /// set (or the channel is closed). A second handle on the socket
    /// keeps it open to read the kernel's drop counter afterwards.
    pub fn start(self, stop: Arc<AtomicBool>, tx: SyncSender<Msg>) -> io::Result<Receiving> {
        let probe = self.socket.try_clone().ok();
        let sock = self.socket;
        sock.set_read_timeout(Some(Duration::from_millis(50)))?;
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match sock.recv_from(&mut buf) {
                    Ok((n, _)) => {
                        // Oversized datagrams are not copied, only measured.
                        let msg = if n > MAX_DATAGRAM {
                            Msg::Oversized
                        } else {
                            Msg::Data(buf[..n].to_vec())
                        };
                        if tx.send(msg).is_err() {
                            break;
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock
                                | io::ErrorKind::TimedOut
                                | io::ErrorKind::Interrupted
                        ) => {}
                    Err(_) => {
                        // ICMP errors and the like: keep listening.
                    }
                }
            }
        });
        Ok(Receiving {
            thread: Some(thread),
            probe,
        })
    }
}

/// The receiver thread of a CSM socket.
pub struct Receiving {
    thread: Option<JoinHandle<()>>,
    probe: Option<UdpSocket>,
}

impl Receiving {
    /// Wait for the thread (after `stop` was set).
    pub fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The kernel's count of datagrams dropped on the socket; `None`
    /// where that is not readable (not Linux).
    pub fn kernel_drops(&self) -> Option<u64> {
        self.probe.as_ref().and_then(kernel_drops)
    }
}

/// The kernel's count of datagrams dropped on this socket (its receive
/// buffer full): the `drops` column of `/proc/net/udp` or `udp6` on the
/// socket's inode; `None` where that is not readable (not Linux).
pub fn kernel_drops(s: &UdpSocket) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(format!("/proc/self/fd/{}", s.as_raw_fd()))
            .ok()?
            .ino();
        ["/proc/net/udp", "/proc/net/udp6"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .find_map(|t| drops_in(&t, ino))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = s;
        None
    }
}

/// The `drops` (last) column of the `/proc/net/udp` row whose inode (the
/// tenth column) is `ino`.
fn drops_in(table: &str, ino: u64) -> Option<u64> {
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 13 && f[9].parse() == Ok(ino)).then(|| f.last()?.parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_drops_are_read_from_the_sockets_row() {
        // Constructed /proc/net/udp text: two sockets, the second (inode
        // 4242) with 35 drops.
        let t = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  1: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 1111 2 0000000000000000 0
  2: 0100007F:7918 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 35
";
        assert_eq!(super::drops_in(t, 4242), Some(35));
        assert_eq!(super::drops_in(t, 1111), Some(0));
        assert_eq!(super::drops_in(t, 7), None);
        assert_eq!(super::drops_in("garbage\nno columns here", 1), None);
    }

    #[test]
    fn a_live_socket_has_a_drop_counter() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(super::kernel_drops(&s), Some(0));
        }
    }

    #[test]
    fn datagrams_reach_the_channel_and_oversized_ones_are_only_measured() {
        use super::*;
        let l = Listener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = l.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let mut r = l.start(stop.clone(), tx).unwrap();
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.send_to(b"{}", addr).unwrap();
        s.send_to(&vec![b' '; MAX_DATAGRAM + 1], addr).unwrap();
        let wait = Duration::from_secs(10);
        assert!(matches!(rx.recv_timeout(wait), Ok(Msg::Data(d)) if d == b"{}"));
        assert!(matches!(rx.recv_timeout(wait), Ok(Msg::Oversized)));
        stop.store(true, Ordering::SeqCst);
        r.join();
        if cfg!(target_os = "linux") {
            assert_eq!(r.kernel_drops(), Some(0));
        }
    }
}
