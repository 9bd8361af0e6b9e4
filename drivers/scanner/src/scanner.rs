//! The [`Scanner`] trait, and running one in a thread.

use std::time::{Duration, Instant};

use crate::debounce::Debounce;
use crate::error::ScannerError;

/// A source of scans: one barcode's text per call.
///
/// The design is blocking and pull-based so a scanner lives in a plain thread (device
/// reads block; none of them is async) and hands scans to the async orchestrator through
/// a channel; [`pump`] is that loop. A timeout on every call lets the thread notice that
/// the receiving side has gone away.
///
/// ```
/// use std::time::Duration;
/// use kiosk_scanner::{SimulatedScanner, pump};
///
/// let (mut scanner, injector) = SimulatedScanner::new();
/// let (tx, mut rx) = tokio::sync::mpsc::channel(16);
/// let thread = std::thread::spawn(move || {
///     pump(&mut scanner, Duration::from_millis(100), || tx.is_closed(), |scan| tx.blocking_send(scan).is_ok())
/// });
/// injector.scan("2012345678901");
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let got = runtime.block_on(rx.recv());
/// assert_eq!(got.unwrap().unwrap(), "2012345678901");
/// drop(rx); // the pump sees the channel closed and returns Ok(())
/// assert!(thread.join().unwrap().is_ok());
/// ```
pub trait Scanner: Send {
    /// Waits up to `timeout` for the next scan.
    ///
    /// `Ok(None)`: nothing was scanned in time. A zero timeout only takes what is
    /// already there.
    ///
    /// # Errors
    /// [`ScannerError`]; after an error with [`ScannerError::is_fatal`] the scanner is
    /// unusable and should be dropped and opened again.
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError>;
}

impl<S: Scanner + ?Sized> Scanner for Box<S> {
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        (**self).next_scan(timeout)
    }
}

/// Reads scans from `scanner` until the receiver goes away or the scanner fails.
///
/// - every scan, and every non-fatal error (an over-long line), goes to `deliver`;
///   `deliver` returning `false` (the receiver is gone) ends the loop with `Ok(())`;
/// - between scans, every `poll`, `closed` is asked whether the receiver is gone
///   (e.g. `|| tx.is_closed()` for a tokio `mpsc::Sender`);
/// - a fatal error ends the loop and is returned (not delivered): the supervisor logs it
///   and opens the scanner again.
///
/// # Errors
/// The scanner's fatal [`ScannerError`].
pub fn pump<S, C, D>(
    scanner: &mut S,
    poll: Duration,
    mut closed: C,
    mut deliver: D,
) -> Result<(), ScannerError>
where
    S: Scanner + ?Sized,
    C: FnMut() -> bool,
    D: FnMut(Result<String, ScannerError>) -> bool,
{
    loop {
        if closed() {
            return Ok(());
        }
        let delivered = match scanner.next_scan(poll) {
            Ok(None) => continue,
            Ok(Some(code)) => deliver(Ok(code)),
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => deliver(Err(e)),
        };
        if !delivered {
            return Ok(());
        }
    }
}

/// A scanner whose repeats are dropped by a [`Debounce`] (on the monotonic clock).
#[derive(Debug)]
pub struct Debounced<S> {
    inner: S,
    debounce: Debounce,
}

impl<S: Scanner> Debounced<S> {
    /// `inner` with repeats within `debounce`'s window dropped.
    pub fn new(inner: S, debounce: Debounce) -> Debounced<S> {
        Debounced { inner, debounce }
    }

    /// The wrapped scanner.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Forgets the last scan (see [`Debounce::reset`]).
    pub fn reset(&mut self) {
        self.debounce.reset();
    }
}

impl<S: Scanner> Scanner for Debounced<S> {
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.inner.next_scan(left)? {
                Some(code) if self.debounce.accept(&code, Instant::now()) => return Ok(Some(code)),
                Some(code) => tracing::debug!(chars = code.len(), "scanner: repeat dropped"),
                None => return Ok(None),
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }
}
