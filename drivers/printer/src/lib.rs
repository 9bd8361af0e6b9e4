//! `kiosk-printer`: ESC/POS receipts and Method D labels, and printer status.
//!
//! - [`job`]: composing a label (library name, "valid today only", the date, the patron
//!   barcode as a raster we draw, a QR code holding a signed same-day token) or a
//!   receipt (Japanese titles in Kanji mode, wrapped by display width) into one buffer;
//! - [`symbology`]: NW-7 with the library's guards and check digit, or CODE128;
//! - [`token`]: signing and verifying the same-day token (HMAC-SHA256, fleet key);
//! - [`device`]: a printer behind any `escpos` driver: status (`DLE EOT`) and whole jobs;
//! - [`transport`]: opening USB, serial, TCP and file transports.

pub mod bitmap;
pub mod device;
pub mod error;
pub mod job;
pub mod status;
pub mod symbology;
pub mod text;
pub mod token;
pub mod transport;

pub use bitmap::Bitmap;
pub use device::{Device, Health, Printed, watch};
pub use error::{LabelError, PrintError};
pub use job::{
    Job, JobSettings, LabelPaper, LabelWords, NotLent, PaperWidth, Receipt, ReceiptLine, ReceiptWords,
    RefusedLine, compose_label, compose_receipt,
};
pub use status::{Paper, PrinterStatus};
pub use symbology::{CheckDigit, Guard, Symbology};
pub use token::{LabelDate, TokenKey, TokenRefusal, VerifiedLabel};
