//! Printer status from the ESC/POS real-time status bytes (`DLE EOT n`).
//!
//! Each reply byte has fixed bits `0xx1xx10` (bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 =
//! 0); anything else is not a status byte.

use crate::error::PrintError;

/// The three requests we make.
pub const REQUEST_PRINTER: [u8; 3] = [0x10, 0x04, 1];
pub const REQUEST_OFFLINE_CAUSE: [u8; 3] = [0x10, 0x04, 2];
pub const REQUEST_PAPER: [u8; 3] = [0x10, 0x04, 4];

/// Paper on the roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paper {
    Ok,
    /// The roll is nearly used up: still printing, staff should replace it soon.
    NearEnd,
    Out,
}

/// What the printer says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper: Paper,
    /// A mechanical, cutter or unrecoverable error.
    pub error: bool,
}

impl PrinterStatus {
    /// A job may be sent now.
    #[must_use]
    pub fn ready(&self) -> bool {
        self.online && !self.cover_open && self.paper != Paper::Out && !self.error
    }

    /// The error to report for a printer that is not ready.
    #[must_use]
    pub fn problem(&self) -> Option<PrintError> {
        if self.paper == Paper::Out {
            Some(PrintError::OutOfPaper)
        } else if self.cover_open {
            Some(PrintError::CoverOpen)
        } else if !self.online || self.error {
            Some(PrintError::Offline)
        } else {
            None
        }
    }
}

fn check(byte: u8) -> Result<u8, PrintError> {
    if byte & 0x93 == 0x12 { Ok(byte) } else { Err(PrintError::BadStatusReply { byte }) }
}

/// Decodes the replies to [`REQUEST_PRINTER`], [`REQUEST_OFFLINE_CAUSE`] and
/// [`REQUEST_PAPER`].
///
/// # Errors
/// [`PrintError::BadStatusReply`] for a byte without the fixed bits.
pub fn decode(printer: u8, offline_cause: u8, paper: u8) -> Result<PrinterStatus, PrintError> {
    let (printer, cause, paper) = (check(printer)?, check(offline_cause)?, check(paper)?);
    let paper = if paper & 0x60 != 0 || cause & 0x20 != 0 {
        Paper::Out
    } else if paper & 0x0c != 0 {
        Paper::NearEnd
    } else {
        Paper::Ok
    };
    Ok(PrinterStatus {
        online: printer & 0x08 == 0,
        cover_open: cause & 0x04 != 0,
        paper,
        error: cause & 0x40 != 0,
    })
}

/// Encodes a status as the three reply bytes (for the printer simulator and tests).
#[must_use]
pub fn encode(status: &PrinterStatus) -> [u8; 3] {
    let printer = 0x12 | if status.online { 0 } else { 0x08 };
    let mut cause = 0x12;
    if status.cover_open {
        cause |= 0x04;
    }
    if status.paper == Paper::Out {
        cause |= 0x20;
    }
    if status.error {
        cause |= 0x40;
    }
    let paper = 0x12
        | match status.paper {
            Paper::Ok => 0,
            Paper::NearEnd => 0x0c,
            Paper::Out => 0x6c,
        };
    [printer, cause, paper]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_status() {
        for online in [true, false] {
            for cover_open in [true, false] {
                for paper in [Paper::Ok, Paper::NearEnd, Paper::Out] {
                    for error in [true, false] {
                        let s = PrinterStatus { online, cover_open, paper, error };
                        let [a, b, c] = encode(&s);
                        assert_eq!(decode(a, b, c).unwrap(), s);
                    }
                }
            }
        }
    }

    #[test]
    fn known_bytes() {
        // 0x36 to "offline cause": bit 2 cover open and bit 5 paper end.
        let s = decode(0x12, 0x36, 0x12).unwrap();
        assert!(s.cover_open);
        assert_eq!(s.paper, Paper::Out);
        assert!(matches!(decode(0x12, 0x12, 0xff), Err(PrintError::BadStatusReply { byte: 0xff })));
        assert!(matches!(decode(0x00, 0x12, 0x12), Err(PrintError::BadStatusReply { byte: 0x00 })));
    }
}
