//! What can go wrong, each with a message staff can act on.

use std::io;

use crate::symbology::CheckDigit;
use crate::token::TokenRefusal;

/// A label that cannot be made from this patron number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("the patron number is empty")]
    EmptyPatronNumber,
    #[error("the patron number contains {ch:?}, which the library's barcode symbology cannot encode")]
    Unencodable { ch: char },
    #[error(
        "the patron number's check digit is {found:?} but the configured scheme expects {expected:?}; \
         check printer.check_digit in the configuration"
    )]
    CheckDigitMismatch { found: char, expected: char },
    #[error("the barcode does not fit in {max_dots} dots; use 80 mm paper or CODE128")]
    TooWide { max_dots: usize },
    #[error(
        "check digit scheme {scheme:?} is computed over NW-7 characters and cannot be used with CODE128; \
         set printer.barcode = \"nw7\", or printer.check_digit to the scheme the library's cards really use"
    )]
    CheckDigitNotForCode128 { scheme: CheckDigit },
    #[error("the label token could not be made: {0}")]
    Token(#[from] TokenRefusal),
}

/// Why a job was not printed (or not completely).
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("the printer is out of paper; load a new roll and clear paper-out in the staff menu")]
    OutOfPaper,
    #[error("the paper ran out during printing; the receipt or label is incomplete")]
    PaperRanOutDuringJob,
    #[error("the printer cover is open; close it")]
    CoverOpen,
    #[error("the printer reports an error or is offline; check it, then test-print from the staff menu")]
    Offline,
    #[error(
        "the printer did not answer a status request within {timeout_ms} ms; is it switched on and connected?"
    )]
    NoStatusReply { timeout_ms: u64 },
    #[error(
        "the printer answered the status request with {byte:#04x}, which is not an ESC/POS status byte: \
         check that it is set to ESC/POS with automatic status back off, then restart it"
    )]
    BadStatusReply { byte: u8 },
    #[error(
        "the printer could not be opened ({what}): {source}; check printer.transport in the configuration"
    )]
    Open { what: String, source: escpos::errors::PrinterError },
    /// The connection closed (unplugged, switched off, network down): a read that ends
    /// (EOF), or a write or read failing with a broken pipe or a reset.
    #[error(
        "the printer connection was lost {during} ({source}); the job is not (completely) printed: \
         check the printer's cable or network and its power, then test-print from the staff menu"
    )]
    Disconnected { during: Stage, source: escpos::errors::PrinterError },
    #[error("the job could not be composed: {0}")]
    Compose(String),
    #[error(transparent)]
    Label(#[from] LabelError),
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Where in a job the printer connection was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Sending a status request (`DLE EOT`).
    StatusRequest,
    /// Waiting for the reply to one.
    StatusReply,
    /// Sending the job, after `sent` of its `total` bytes.
    Job { sent: usize, total: usize },
}

impl core::fmt::Display for Stage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Stage::StatusRequest => write!(f, "while asking for its status"),
            Stage::StatusReply => write!(f, "while waiting for its status reply"),
            Stage::Job { sent, total } => write!(f, "after {sent} of {total} job bytes"),
        }
    }
}
