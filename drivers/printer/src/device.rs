//! The printer on the other end of a transport: status, and jobs sent whole or not at all.
//!
//! Status replies are read on a thread of the device's own and waited for with the
//! configured timeout, whatever the transport's read does: the `escpos` crate's USB
//! driver blocks for 5 s per read, and a printer that never answers must cost the kiosk
//! only the configured timeout. A read that ends (EOF) or fails with a broken pipe or a
//! reset is a lost connection ([`PrintError::Disconnected`]), never "no reply yet".

use std::cell::Cell;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use escpos::driver::Driver;
use escpos::errors::PrinterError;

use crate::error::{PrintError, Stage};
use crate::job::Job;
use crate::status::{self, PrinterStatus};
use crate::transport;

/// What a finished job reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Printed {
    pub bytes: usize,
    /// Status after the job; `None` on a transport that cannot read (a file).
    pub status: Option<PrinterStatus>,
}

/// A printer behind an `escpos` driver (USB, serial, TCP, file, or a test double).
pub struct Device<D: Driver> {
    driver: Arc<D>,
    /// The status reader; `None` on a transport that cannot read (a file).
    replies: Option<Replies>,
    status_timeout: Duration,
}

impl<D: Driver> core::fmt::Debug for Device<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Device({}, bidirectional: {})", self.driver.name(), self.replies.is_some())
    }
}

/// Bytes written per chunk, so an unplugged printer is noticed mid-job and reported
/// with how far the job got.
const CHUNK: usize = 4096;

/// Pause between reads on a transport whose read returns at once with nothing.
const POLL: Duration = Duration::from_millis(5);

/// What the reader thread got for one read it was asked for.
enum Reply {
    Byte(u8),
    /// Nothing came before the deadline.
    Silent,
    /// The connection is gone.
    Closed(PrinterError),
}

/// The device's side of the reader thread. The thread reads one reply per request and
/// ends when the device is dropped (after the read it is in, if any).
struct Replies {
    /// Asks for one reply; carries the deadline.
    ask: mpsc::Sender<Instant>,
    answers: mpsc::Receiver<Reply>,
    /// A read was asked for whose answer the device stopped waiting for.
    pending: Cell<bool>,
}

fn reader_gone() -> PrintError {
    PrintError::Disconnected {
        during: Stage::StatusReply,
        source: PrinterError::Io("the status reader thread ended".to_owned()),
    }
}

/// Reads one reply byte: a byte, silence once `deadline` has passed, or a closed link.
fn read_reply<D: Driver>(driver: &D, deadline: Instant) -> Reply {
    let mut buf = [0u8; 1];
    loop {
        match driver.read(&mut buf) {
            // `read` follows `std::io::Read`: 0 bytes into a non-empty buffer is the end.
            Ok(0) => return Reply::Closed(transport::closed_by_peer()),
            Ok(_) => return Reply::Byte(buf[0]),
            Err(e) if transport::is_closed(&e) => return Reply::Closed(e),
            // Transports with their own read timeout report its expiry as an error:
            // nothing yet.
            Err(_) if Instant::now() >= deadline => return Reply::Silent,
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

impl<D: Driver + Send + Sync + 'static> Device<D> {
    /// `bidirectional`: the transport can read replies (USB, serial, TCP; not a file).
    /// A bidirectional device starts a thread that reads status replies.
    ///
    /// # Errors
    /// [`PrintError::Io`] if the reader thread cannot be started.
    pub fn new(driver: D, bidirectional: bool, status_timeout: Duration) -> Result<Device<D>, PrintError> {
        let driver = Arc::new(driver);
        let replies = if bidirectional {
            let (ask, asks) = mpsc::channel::<Instant>();
            let (answer, answers) = mpsc::channel();
            let reader = Arc::clone(&driver);
            std::thread::Builder::new().name("printer-status".to_owned()).spawn(move || {
                for deadline in asks {
                    if answer.send(read_reply(&*reader, deadline)).is_err() {
                        return;
                    }
                }
            })?;
            Some(Replies { ask, answers, pending: Cell::new(false) })
        } else {
            None
        };
        Ok(Device { driver, replies, status_timeout })
    }

    fn no_reply(&self) -> PrintError {
        PrintError::NoStatusReply {
            timeout_ms: u64::try_from(self.status_timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Waits until `deadline` for the answer to the read in flight.
    fn answer(&self, replies: &Replies, deadline: Instant) -> Result<Reply, PrintError> {
        match replies.answers.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(reply) => {
                replies.pending.set(false);
                Ok(reply)
            }
            Err(RecvTimeoutError::Timeout) => Err(self.no_reply()),
            Err(RecvTimeoutError::Disconnected) => Err(reader_gone()),
        }
    }

    /// Asks the printer for its status (`DLE EOT` 1, 2, 4).
    ///
    /// # Errors
    /// No reply within the timeout, a reply that is not a status byte, or a lost
    /// connection.
    pub fn status(&self) -> Result<Option<PrinterStatus>, PrintError> {
        let Some(replies) = &self.replies else {
            return Ok(None);
        };
        if replies.pending.get() {
            // A read from an earlier request is still out. Whatever it brings is late, so
            // it is dropped; a request sent before it ends would have its reply taken by
            // it, so none is sent until it has.
            match self.answer(replies, Instant::now() + self.status_timeout)? {
                Reply::Closed(source) => {
                    return Err(PrintError::Disconnected { during: Stage::StatusReply, source });
                }
                Reply::Byte(_) | Reply::Silent => {}
            }
        }
        let mut bytes = [0u8; 3];
        for (request, byte) in [status::REQUEST_PRINTER, status::REQUEST_OFFLINE_CAUSE, status::REQUEST_PAPER]
            .iter()
            .zip(&mut bytes)
        {
            self.driver
                .write(request)
                .and_then(|()| self.driver.flush())
                .map_err(|source| PrintError::Disconnected { during: Stage::StatusRequest, source })?;
            let deadline = Instant::now() + self.status_timeout;
            replies.ask.send(deadline).map_err(|_| reader_gone())?;
            replies.pending.set(true);
            *byte = match self.answer(replies, deadline)? {
                Reply::Byte(b) => b,
                Reply::Silent => return Err(self.no_reply()),
                Reply::Closed(source) => {
                    return Err(PrintError::Disconnected { during: Stage::StatusReply, source });
                }
            };
        }
        status::decode(bytes[0], bytes[1], bytes[2]).map(Some)
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
        let total = bytes.len();
        let mut sent = 0;
        for chunk in bytes.chunks(CHUNK) {
            self.driver
                .write(chunk)
                .map_err(|source| PrintError::Disconnected { during: Stage::Job { sent, total }, source })?;
            sent += chunk.len();
        }
        self.driver
            .flush()
            .map_err(|source| PrintError::Disconnected { during: Stage::Job { sent, total }, source })?;
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
pub fn watch<D: Driver + Send + Sync + 'static>(
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::job::{JobSettings, LabelPaper, PaperWidth, compose_label};
    use crate::symbology::{CheckDigit, Guard, Symbology};
    use crate::token::{LabelDate, TokenKey};

    /// What a scripted read returns.
    enum Step {
        Byte(u8),
        /// A read of 0 bytes: the other end closed the connection.
        Eof,
        Fail(PrinterError),
    }

    /// A transport the test drives: each read blocks until the test scripts its result
    /// (so a transport that never answers is one whose script stays empty), and writes
    /// fail with a reset once `writes_ok` bytes have gone.
    struct Scripted {
        reads: Mutex<mpsc::Receiver<Step>>,
        written: Arc<Mutex<Vec<u8>>>,
        writes_ok: usize,
    }

    fn scripted(writes_ok: usize) -> (Scripted, mpsc::Sender<Step>, Arc<Mutex<Vec<u8>>>) {
        let (tx, rx) = mpsc::channel();
        let written = Arc::default();
        (Scripted { reads: Mutex::new(rx), written: Arc::clone(&written), writes_ok }, tx, written)
    }

    impl Driver for Scripted {
        fn name(&self) -> String {
            "scripted".to_owned()
        }
        fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
            let mut w = self.written.lock().unwrap();
            if w.len() + data.len() > self.writes_ok {
                return Err(PrinterError::Io("connection closed: connection reset by peer".to_owned()));
            }
            w.extend_from_slice(data);
            Ok(())
        }
        fn read(&self, buf: &mut [u8]) -> escpos::errors::Result<usize> {
            match self.reads.lock().unwrap().recv() {
                Ok(Step::Byte(b)) => {
                    buf[0] = b;
                    Ok(1)
                }
                Ok(Step::Eof) => Ok(0),
                Ok(Step::Fail(e)) => Err(e),
                Err(_) => Err(PrinterError::Io("test over".to_owned())),
            }
        }
        fn flush(&self) -> escpos::errors::Result<()> {
            Ok(())
        }
    }

    const READY: PrinterStatus =
        PrinterStatus { online: true, cover_open: false, paper: status::Paper::Ok, error: false };

    fn answer_ready(tx: &mpsc::Sender<Step>) {
        for b in status::encode(&READY) {
            tx.send(Step::Byte(b)).unwrap();
        }
    }

    #[test]
    fn a_transport_that_never_answers_costs_only_the_status_timeout() {
        let timeout = Duration::from_millis(200);
        let (driver, tx, written) = scripted(usize::MAX);
        let device = Device::new(driver, true, timeout).unwrap();
        for attempt in 0..2 {
            let t0 = Instant::now();
            let err = device.status().unwrap_err();
            let took = t0.elapsed();
            assert!(matches!(err, PrintError::NoStatusReply { timeout_ms: 200 }), "{attempt}: {err}");
            assert!(took >= timeout && took < 3 * timeout, "{attempt}: took {took:?}");
        }
        // While the first read is still out, no new request is sent: its reply would be
        // taken by that read.
        assert_eq!(*written.lock().unwrap(), status::REQUEST_PRINTER);
        // The reply that comes late is dropped, not taken as the next request's answer
        // (0x00 is no status byte and would be refused).
        tx.send(Step::Byte(0x00)).unwrap();
        answer_ready(&tx);
        assert_eq!(device.status().unwrap(), Some(READY));
        assert_eq!(written.lock().unwrap().len(), 3 + 9);
    }

    #[test]
    fn a_read_blocking_like_the_crates_usb_driver_is_cut_short() {
        /// Each read takes 5 s and then times out, as the `escpos` USB driver's does.
        struct SlowUsb;
        impl Driver for SlowUsb {
            fn name(&self) -> String {
                "slow usb".to_owned()
            }
            fn write(&self, _: &[u8]) -> escpos::errors::Result<()> {
                Ok(())
            }
            fn read(&self, _: &mut [u8]) -> escpos::errors::Result<usize> {
                std::thread::sleep(Duration::from_secs(5));
                Err(PrinterError::Io("timed out".to_owned()))
            }
            fn flush(&self) -> escpos::errors::Result<()> {
                Ok(())
            }
        }
        let timeout = Duration::from_millis(150);
        let device = Device::new(SlowUsb, true, timeout).unwrap();
        let t0 = Instant::now();
        assert!(matches!(device.status(), Err(PrintError::NoStatusReply { timeout_ms: 150 })));
        assert!(t0.elapsed() < 3 * timeout, "took {:?}", t0.elapsed());
    }

    #[test]
    fn a_connection_that_ends_or_resets_is_disconnected_at_once() {
        let timeout = Duration::from_secs(5);
        let reset = || PrinterError::Io("connection closed: connection reset by peer".to_owned());
        for step in
            [Step::Eof, Step::Fail(reset()), Step::Fail(PrinterError::Io("device disconnected".into()))]
        {
            let (driver, tx, _) = scripted(usize::MAX);
            tx.send(Step::Byte(status::encode(&READY)[0])).unwrap();
            tx.send(step).unwrap();
            let device = Device::new(driver, true, timeout).unwrap();
            let t0 = Instant::now();
            let err = device.status().unwrap_err();
            assert!(matches!(err, PrintError::Disconnected { during: Stage::StatusReply, .. }), "{err}");
            assert!(t0.elapsed() < timeout / 5, "waited {:?} for a closed connection", t0.elapsed());
            assert!(err.to_string().contains("cable"), "{err}");
        }
    }

    fn label() -> Job {
        let settings = JobSettings {
            library_name: "図書館".into(),
            kiosk_id: "K1".into(),
            paper: PaperWidth::Mm80,
            symbology: Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None },
            label_paper: LabelPaper::Continuous,
            receipt_shows_patron: false,
        };
        let key = TokenKey::new(&[7; 32]).unwrap();
        compose_label(
            &settings,
            "2300012345678",
            LabelDate::new(2026, 11, 23).unwrap(),
            &key,
            &crate::LabelWords::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_reset_mid_job_is_disconnected_with_how_far_the_job_got() {
        let job = label();
        assert!(job.bytes().len() > CHUNK, "the job spans chunks");
        // The status requests (9 bytes) and the first chunk go; the second is reset.
        let (driver, tx, _) = scripted(9 + CHUNK);
        answer_ready(&tx);
        let device = Device::new(driver, true, Duration::from_secs(1)).unwrap();
        let err = device.print(&job).unwrap_err();
        let total = job.bytes().len();
        assert!(
            matches!(err, PrintError::Disconnected { during: Stage::Job { sent: CHUNK, total: t }, .. } if t == total),
            "{err}"
        );
        // A reset on the status request itself.
        let (driver, _tx, _) = scripted(0);
        let device = Device::new(driver, true, Duration::from_secs(1)).unwrap();
        assert!(matches!(
            device.print(&job),
            Err(PrintError::Disconnected { during: Stage::StatusRequest, .. })
        ));
    }
}
