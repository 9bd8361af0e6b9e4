//! Opening the printer's transport: USB (the `escpos` crate's native USB driver), serial,
//! raw TCP (port 9100), or a file.
//!
//! Serial uses `serialport` directly, without udev: the `escpos` crate's serial driver
//! turns on serialport's default `libudev` feature, which would need libudev headers to
//! build for no gain here.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use escpos::driver::{Driver, FileDriver, NativeUsbDriver};
use escpos::errors::PrinterError;

use crate::device::Device;
use crate::error::PrintError;

/// Where the printer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportSpec {
    Usb {
        vendor_id: u16,
        product_id: u16,
    },
    Serial {
        device: PathBuf,
        baud: u32,
    },
    Tcp {
        host: String,
        port: u16,
    },
    /// Append to a file (tests, demo, or a spool another program reads). No status.
    File {
        path: PathBuf,
    },
}

/// Any transport, behind one type.
pub struct AnyDriver(Box<dyn Driver + Send + Sync>);

impl core::fmt::Debug for AnyDriver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AnyDriver({})", self.0.name())
    }
}

impl Driver for AnyDriver {
    fn name(&self) -> String {
        self.0.name()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.write(data)
    }
    fn read(&self, buf: &mut [u8]) -> escpos::errors::Result<usize> {
        self.0.read(buf)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        self.0.flush()
    }
}

/// Opens the transport and wraps it in a [`Device`].
///
/// # Errors
/// [`PrintError::Open`] naming what could not be opened.
pub fn open(spec: &TransportSpec, timeout: Duration) -> Result<Device<AnyDriver>, PrintError> {
    let what = || format!("{spec:?}");
    let open_err = |source| PrintError::Open { what: what(), source };
    let (driver, bidirectional): (Box<dyn Driver + Send + Sync>, bool) = match spec {
        TransportSpec::Usb { vendor_id, product_id } => {
            (Box::new(UsbDriver(NativeUsbDriver::open(*vendor_id, *product_id).map_err(open_err)?)), true)
        }
        TransportSpec::Serial { device, baud } => {
            let port = serialport::new(device.to_string_lossy(), *baud)
                .timeout(timeout)
                .open()
                .map_err(|e| open_err(PrinterError::Io(e.to_string())))?;
            (Box::new(SerialDriver { name: device.display().to_string(), port: Mutex::new(port) }), true)
        }
        TransportSpec::Tcp { host, port } => {
            let addr: SocketAddr = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(|e| open_err(PrinterError::Io(e.to_string())))?
                .next()
                .ok_or_else(|| open_err(PrinterError::Io(format!("{host} has no address"))))?;
            (Box::new(TcpDriver::connect(addr, timeout).map_err(open_err)?), true)
        }
        TransportSpec::File { path } => {
            let options = {
                let mut o = std::fs::OpenOptions::new();
                o.create(true).append(true);
                o
            };
            (Box::new(FileDriver::open_with_options(path, &options).map_err(open_err)?), false)
        }
    };
    Device::new(AnyDriver(driver), bidirectional, timeout)
}

/// The `escpos` crate's USB driver, with an empty packet read as "nothing yet": USB has no
/// end of stream (an unplugged device is an error), while [`Device`] takes a read of 0
/// bytes as the end, as `std::io::Read` does.
struct UsbDriver(NativeUsbDriver);

impl Driver for UsbDriver {
    fn name(&self) -> String {
        self.0.name()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.write(data)
    }
    fn read(&self, buf: &mut [u8]) -> escpos::errors::Result<usize> {
        match self.0.read(buf) {
            Ok(0) if !buf.is_empty() => Err(PrinterError::Io("empty USB packet".to_owned())),
            other => other,
        }
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        self.0.flush()
    }
}

/// Raw TCP (JetDirect, port 9100) with read and write timeouts. (The crate's network
/// driver needs an IP literal; this one takes any resolved address.)
#[derive(Debug)]
pub struct TcpDriver {
    stream: Mutex<TcpStream>,
    addr: SocketAddr,
}

impl TcpDriver {
    /// Connects with `timeout` for connect, reads and writes.
    ///
    /// # Errors
    /// The connection could not be made.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpDriver, PrinterError> {
        let stream =
            TcpStream::connect_timeout(&addr, timeout).map_err(|e| PrinterError::Io(e.to_string()))?;
        stream.set_read_timeout(Some(timeout)).map_err(|e| PrinterError::Io(e.to_string()))?;
        stream.set_write_timeout(Some(timeout)).map_err(|e| PrinterError::Io(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        Ok(TcpDriver { stream: Mutex::new(stream), addr })
    }
}

/// How our transports begin the message of an error that means the connection is gone,
/// so that [`is_closed`] can tell it from a timeout: the `escpos` error type carries only
/// a string.
const CLOSED: &str = "connection closed";

/// I/O error kinds that mean the other end is gone (unplugged, switched off, reset), as
/// opposed to "nothing yet" (`TimedOut`, `WouldBlock`) or a local fault.
fn closed_kind(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::BrokenPipe | K::ConnectionReset | K::ConnectionAborted | K::NotConnected | K::UnexpectedEof
    )
}

fn io_err(e: std::io::Error) -> PrinterError {
    if closed_kind(e.kind()) {
        PrinterError::Io(format!("{CLOSED}: {e}"))
    } else {
        PrinterError::Io(e.to_string())
    }
}

/// Whether a transport error means the connection is gone rather than "no reply yet".
///
/// Our TCP and serial drivers mark such errors (broken pipe, connection reset or
/// aborted, not connected); the `escpos` crate's USB driver flattens `nusb` errors to
/// text, in which an unplugged device reads "device disconnected".
#[must_use]
pub fn is_closed(e: &PrinterError) -> bool {
    match e {
        PrinterError::Io(m) => m.starts_with(CLOSED) || m.contains("device disconnected"),
        PrinterError::Input(_) | PrinterError::InvalidResponse(_) => false,
    }
}

/// The error for a read that ended (EOF): the other end closed the connection.
#[must_use]
pub fn closed_by_peer() -> PrinterError {
    PrinterError::Io(format!("{CLOSED}: the printer ended the connection"))
}

fn poisoned<T>(_: T) -> PrinterError {
    PrinterError::Io("transport lock poisoned".to_owned())
}

impl Driver for TcpDriver {
    fn name(&self) -> String {
        format!("tcp {}", self.addr)
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.stream.lock().map_err(poisoned)?.write_all(data).map_err(io_err)
    }
    fn read(&self, buf: &mut [u8]) -> escpos::errors::Result<usize> {
        self.stream.lock().map_err(poisoned)?.read(buf).map_err(io_err)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        self.stream.lock().map_err(poisoned)?.flush().map_err(io_err)
    }
}

struct SerialDriver {
    name: String,
    port: Mutex<Box<dyn serialport::SerialPort>>,
}

impl Driver for SerialDriver {
    fn name(&self) -> String {
        format!("serial {}", self.name)
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.port.lock().map_err(poisoned)?.write_all(data).map_err(io_err)
    }
    fn read(&self, buf: &mut [u8]) -> escpos::errors::Result<usize> {
        self.port.lock().map_err(poisoned)?.read(buf).map_err(io_err)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        self.port.lock().map_err(poisoned)?.flush().map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn closed_connections_are_told_from_timeouts() {
        for kind in [ErrorKind::BrokenPipe, ErrorKind::ConnectionReset, ErrorKind::ConnectionAborted] {
            assert!(is_closed(&io_err(Error::new(kind, "x"))), "{kind:?}");
        }
        for kind in [ErrorKind::TimedOut, ErrorKind::WouldBlock, ErrorKind::Interrupted] {
            assert!(!is_closed(&io_err(Error::new(kind, "x"))), "{kind:?}");
        }
        assert!(is_closed(&closed_by_peer()));
        // The escpos USB driver's text for an unplugged device (nusb's message).
        assert!(is_closed(&PrinterError::Io("device disconnected".into())));
        assert!(!is_closed(&PrinterError::Io("timed out".into())));
    }
}
