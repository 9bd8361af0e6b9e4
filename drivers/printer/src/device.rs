//! The printer on the other end of a transport: status, and jobs sent whole or not at all.

use std::time::{Duration, Instant};

use escpos::driver::Driver;

use crate::error::PrintError;
use crate::job::Job;
use crate::status::{self, PrinterStatus};

/// What a finished job reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Printed {
    pub bytes: usize,
    /// Status after the job; `None` on a transport that cannot read (a file).
    pub status: Option<PrinterStatus>,
}

/// A printer behind an `escpos` driver (USB, serial, TCP, file, or a test double).
pub struct Device<D: Driver> {
    driver: D,
    /// Whether the transport can answer status requests.
    bidirectional: bool,
    status_timeout: Duration,
}

impl<D: Driver> core::fmt::Debug for Device<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Device({}, bidirectional: {})", self.driver.name(), self.bidirectional)
    }
}

/// Bytes written per chunk, so an unplugged printer is noticed mid-job and reported
/// with how far the job got.
const CHUNK: usize = 4096;

impl<D: Driver> Device<D> {
    /// `bidirectional`: the transport can read replies (USB, serial, TCP; not a file).
    pub fn new(driver: D, bidirectional: bool, status_timeout: Duration) -> Device<D> {
        Device { driver, bidirectional, status_timeout }
    }

    /// Asks the printer for its status (`DLE EOT` 1, 2, 4).
    ///
    /// # Errors
    /// No reply within the timeout, a reply that is not a status byte, or a broken link.
    pub fn status(&self) -> Result<Option<PrinterStatus>, PrintError> {
        if !self.bidirectional {
            return Ok(None);
        }
        let mut replies = [0u8; 3];
        for (request, reply) in
            [status::REQUEST_PRINTER, status::REQUEST_OFFLINE_CAUSE, status::REQUEST_PAPER]
                .iter()
                .zip(&mut replies)
        {
            self.driver
                .write(request)
                .and_then(|()| self.driver.flush())
                .map_err(|source| PrintError::Disconnected { sent: 0, total: 3, source })?;
            *reply = self.read_byte()?;
        }
        status::decode(replies[0], replies[1], replies[2]).map(Some)
    }

    fn read_byte(&self) -> Result<u8, PrintError> {
        let timeout_ms = u64::try_from(self.status_timeout.as_millis()).unwrap_or(u64::MAX);
        let deadline = Instant::now() + self.status_timeout;
        let mut buf = [0u8; 1];
        loop {
            match self.driver.read(&mut buf) {
                Ok(1) => return Ok(buf[0]),
                // Transports with their own read timeout return an error or 0 when it
                // expires; both mean "no reply yet".
                Ok(_) | Err(_) if Instant::now() >= deadline => {
                    return Err(PrintError::NoStatusReply { timeout_ms });
                }
                Ok(_) | Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// Prints a job: refuses before sending anything if the printer is not ready, sends it
    /// whole, and checks the status again so a roll that ran out mid-job is reported.
    ///
    /// # Errors
    /// The printer's problem, a missing status reply, or a link that broke mid-job.
    pub fn print(&self, job: &Job) -> Result<Printed, PrintError> {
        if let Some(problem) = self.status()?.and_then(|s| s.problem()) {
            return Err(problem);
        }
        let bytes = job.bytes();
        let mut sent = 0;
        for chunk in bytes.chunks(CHUNK) {
            self.driver.write(chunk).map_err(|source| PrintError::Disconnected {
                sent,
                total: bytes.len(),
                source,
            })?;
            sent += chunk.len();
        }
        self.driver.flush().map_err(|source| PrintError::Disconnected {
            sent,
            total: bytes.len(),
            source,
        })?;
        let after = self.status()?;
        if after.is_some_and(|s| s.paper == status::Paper::Out) {
            return Err(PrintError::PaperRanOutDuringJob);
        }
        Ok(Printed { bytes: sent, status: after })
    }
}

/// What the status watcher reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// The printer answered (`None`: the transport cannot read status).
    Status(Option<PrinterStatus>),
    /// The printer did not answer, or the link is broken: the message says what to check.
    Unreachable(String),
}

/// Polls the printer's status every `every` and sends each *change* on the returned
/// channel (the first reading is always sent). The admin screen shows the latest; the
/// orchestrator turns "paper out" into the flow's staff call and stops offering receipts.
/// The watcher stops when the receiver is dropped.
pub fn watch<D: Driver + Send + 'static>(
    device: std::sync::Arc<std::sync::Mutex<Device<D>>>,
    every: Duration,
) -> std::sync::mpsc::Receiver<Health> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut last: Option<Health> = None;
        loop {
            let health = match device.lock() {
                Ok(d) => match d.status() {
                    Ok(s) => Health::Status(s),
                    Err(e) => Health::Unreachable(e.to_string()),
                },
                Err(_) => return,
            };
            if last.as_ref() != Some(&health) {
                if tx.send(health.clone()).is_err() {
                    return;
                }
                last = Some(health);
            }
            std::thread::sleep(every);
        }
    });
    rx
}
