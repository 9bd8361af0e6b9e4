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
pub struct AnyDriver(Box<dyn Driver + Send>);

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
    let (driver, bidirectional): (Box<dyn Driver + Send>, bool) = match spec {
        TransportSpec::Usb { vendor_id, product_id } => {
            (Box::new(NativeUsbDriver::open(*vendor_id, *product_id).map_err(open_err)?), true)
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
    Ok(Device::new(AnyDriver(driver), bidirectional, timeout))
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

fn io_err(e: std::io::Error) -> PrinterError {
    PrinterError::Io(e.to_string())
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
