//! systemd's readiness and watchdog protocol (`sd_notify`), without libsystemd: one
//! datagram to `$NOTIFY_SOCKET` per message.

use std::os::unix::net::UnixDatagram;

use super::Watchdog;

/// The service manager's notification socket.
#[derive(Debug)]
pub struct SdNotify {
    socket: UnixDatagram,
    addr: std::os::unix::net::SocketAddr,
}

impl SdNotify {
    /// `None` when not started by systemd with `Type=notify`.
    pub fn from_env() -> Option<SdNotify> {
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        let path = path.to_str()?;
        let addr = if let Some(name) = path.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).ok()?
        } else {
            std::os::unix::net::SocketAddr::from_pathname(path).ok()?
        };
        let socket = UnixDatagram::unbound().ok()?;
        Some(SdNotify { socket, addr })
    }

    fn send(&self, message: &str) {
        if let Err(e) = self.socket.send_to_addr(message.as_bytes(), &self.addr) {
            tracing::warn!(error = %e, "sd_notify failed");
        }
    }
}

impl Watchdog for SdNotify {
    fn ready(&mut self) {
        self.send("READY=1\nSTATUS=serving patrons");
    }

    /// Sent only from the event loop between inputs: a stuck loop stops the pings and
    /// systemd restarts the kiosk.
    fn alive(&mut self) {
        self.send("WATCHDOG=1");
    }
}
