//! What can go wrong with a scanner, each with a message staff or an installer can act on.

use std::io;
use std::path::PathBuf;

/// A line longer than the configured maximum was discarded (not truncated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a scan longer than {max} characters was discarded; check that the scanner's suffix \
     (terminator) matches the configured one, or raise the maximum length"
)]
pub struct LineTooLong {
    /// The configured maximum length, in characters.
    pub max: usize,
}

/// Why a scanner could not be opened or stopped delivering scans.
///
/// [`ScannerError::is_fatal`] says whether the scanner is still usable: after a fatal error
/// the orchestrator drops the scanner and opens it again (with a back-off).
#[derive(Debug, thiserror::Error)]
pub enum ScannerError {
    #[error(
        "no input device under {dir} matches {pattern:?}; plug the scanner in, or check the \
         scanner's device name in the configuration (ls -l {dir})"
    )]
    DeviceNotFound { pattern: String, dir: PathBuf },
    #[error(
        "{path} could not be opened: {source}; check the path, and that the kiosk user may read it \
         (group `input` for /dev/input, `dialout` for serial ports)"
    )]
    Open { path: PathBuf, source: io::Error },
    #[error(
        "{path} does not report any keys, so it is not a keyboard-wedge scanner; check the \
         scanner's device name in the configuration"
    )]
    NotAKeyboard { path: PathBuf },
    #[error(
        "could not take exclusive hold of {path} ({source}); another program (a desktop session, \
         a second kiosk instance, evtest --grab) has grabbed the scanner: stop it, then restart the kiosk"
    )]
    GrabFailed { path: PathBuf, source: io::Error },
    #[error(
        "the serial port {port} could not be opened at {baud} baud: {source}; check the path, the \
         cable, and that the kiosk user is in the `dialout` group"
    )]
    Serial { port: String, baud: u32, source: serialport::Error },
    #[error("the scanner {device} was unplugged or disappeared; plug it back in (the kiosk reopens it)")]
    Unplugged { device: String },
    #[error("reading from the scanner {device} failed: {source}; check the cable and the device")]
    Io { device: String, source: io::Error },
    #[error(transparent)]
    LineTooLong(#[from] LineTooLong),
    #[error("the scan source {device} has no more input (end of file, or the simulator was dropped)")]
    Ended { device: String },
}

impl ScannerError {
    /// Whether the scanner that returned this error is unusable now and must be reopened.
    ///
    /// Only [`ScannerError::LineTooLong`] is not fatal: the bad line is gone and the next
    /// scan will be read normally.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ScannerError::LineTooLong(_))
    }
}
