//! A scanner the demo and tests push codes into.

use std::sync::mpsc;
use std::time::Duration;

use crate::error::ScannerError;
use crate::scanner::Scanner;

const NAME: &str = "simulated scanner";

/// The scanner side: implements [`Scanner`], fed by a [`ScanInjector`].
#[derive(Debug)]
pub struct SimulatedScanner {
    rx: mpsc::Receiver<Result<String, ScannerError>>,
}

/// The injecting side; clone it freely. When every injector is dropped, the scanner
/// reports [`ScannerError::Ended`].
#[derive(Clone, Debug)]
pub struct ScanInjector {
    tx: mpsc::Sender<Result<String, ScannerError>>,
}

impl SimulatedScanner {
    /// A connected scanner and injector.
    #[must_use]
    pub fn new() -> (SimulatedScanner, ScanInjector) {
        let (tx, rx) = mpsc::channel();
        (SimulatedScanner { rx }, ScanInjector { tx })
    }
}

impl ScanInjector {
    /// Queues a scan. Returns `false` if the scanner has been dropped.
    pub fn scan(&self, code: impl Into<String>) -> bool {
        self.tx.send(Ok(code.into())).is_ok()
    }

    /// Queues an error (a fault for a test: [`ScannerError::Unplugged`], …).
    /// Returns `false` if the scanner has been dropped.
    pub fn fail(&self, error: ScannerError) -> bool {
        self.tx.send(Err(error)).is_ok()
    }
}

impl Scanner for SimulatedScanner {
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        match self.rx.recv_timeout(timeout) {
            Ok(Ok(code)) => Ok(Some(code)),
            Ok(Err(e)) => Err(e),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(ScannerError::Ended { device: NAME.to_owned() }),
        }
    }
}
