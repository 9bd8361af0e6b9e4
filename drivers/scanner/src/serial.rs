//! A scanner on a serial port (RS-232, or USB in CDC-ACM / virtual COM mode).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use serialport::SerialPort;

use crate::error::ScannerError;
use crate::line::{LineAssembler, LineConfig};
use crate::scanner::Scanner;

/// A serial scanner: bytes → scans through a [`LineAssembler`]. 8 data bits, no parity,
/// one stop bit, no flow control; the port is opened exclusively.
pub struct SerialScanner {
    port: Box<dyn SerialPort>,
    name: String,
    lines: LineAssembler,
    pending: VecDeque<Result<String, ScannerError>>,
}

impl std::fmt::Debug for SerialScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialScanner")
            .field("name", &self.name)
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl SerialScanner {
    /// Opens `path` (`/dev/ttyACM0`, `/dev/ttyUSB0`, `/dev/serial/by-id/…`) at `baud`.
    ///
    /// # Errors
    /// [`ScannerError::Serial`] naming the port.
    pub fn open(path: &str, baud: u32, config: LineConfig) -> Result<SerialScanner, ScannerError> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|source| ScannerError::Serial { port: path.to_owned(), baud, source })?;
        tracing::info!(port = path, baud, "scanner: serial port open");
        Ok(SerialScanner::from_port(port, path, config))
    }

    /// A scanner on a port opened elsewhere (a test's pseudo-terminal, say).
    #[must_use]
    pub fn from_port(port: Box<dyn SerialPort>, name: &str, config: LineConfig) -> SerialScanner {
        SerialScanner {
            port,
            name: name.to_owned(),
            lines: LineAssembler::new(config),
            pending: VecDeque::new(),
        }
    }

    fn unplugged(&self) -> ScannerError {
        ScannerError::Unplugged { device: self.name.clone() }
    }
}

/// Errors that mean the port is gone (a USB adapter pulled, the pty's other end closed).
fn is_hangup(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
        || matches!(e.raw_os_error(), Some(nix::libc::EIO | nix::libc::ENXIO | nix::libc::ENODEV))
}

impl Scanner for SerialScanner {
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 256];
        loop {
            if let Some(r) = self.pending.pop_front() {
                return r.map(Some);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            self.port
                .set_timeout(left)
                .map_err(|e| ScannerError::Io { device: self.name.clone(), source: e.into() })?;
            match self.port.read(&mut buf) {
                Ok(0) => return Err(self.unplugged()),
                Ok(n) => {
                    let now = Instant::now();
                    for r in self.lines.push_bytes(&buf[..n], now) {
                        self.pending.push_back(r.map_err(ScannerError::from));
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) => {}
                Err(e) if is_hangup(&e) => return Err(self.unplugged()),
                Err(source) => return Err(ScannerError::Io { device: self.name.clone(), source }),
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }
}
