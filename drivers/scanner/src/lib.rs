//! `kiosk-scanner`: barcode scanners for the kiosk.
//!
//! The pure core (no I/O, no clock: time is an argument):
//! - [`keymap`]: evdev key codes of a keyboard-wedge scanner → characters, for US and
//!   JIS (Japanese 106/109) layouts;
//! - [`line`]: characters → scans, cut at the scanner's suffix, with a maximum length
//!   and an idle gap;
//! - [`debounce`]: the same code twice within a window is one scan;
//! - [`wedge`]: key events → scans, and picking the device under `/dev/input/by-id`.
//!
//! The [`Scanner`] trait (blocking, with a timeout; run it in a thread with [`pump`])
//! and its implementations: [`EvdevScanner`] (USB HID wedge, grabbed), [`SerialScanner`],
//! [`LineFileScanner`] (a FIFO or a file, for tests and the demo), [`SimulatedScanner`].
//!
//! [`keypad`]: the tactile keypad (a USB numeric keypad, read like the scanner), which
//! keys are pressed; what they mean is the kiosk's key map.

pub mod debounce;
pub mod error;
pub mod evdev;
pub mod file;
pub mod keymap;
pub mod keypad;
pub mod line;
mod poll;
pub mod scanner;
pub mod serial;
pub mod simulated;
pub mod wedge;

pub use debounce::Debounce;
pub use error::{LineTooLong, ScannerError};
pub use evdev::{BY_ID_DIR, DeviceSpec, EvdevScanner, find_device};
pub use file::LineFileScanner;
pub use keymap::{Keymap, Layout};
pub use keypad::{Keypad, KeypadError, KeypadEvent, KeypadKey};
pub use line::{LineAssembler, LineConfig, Terminator};
pub use scanner::{Debounced, Scanner, pump};
pub use serial::SerialScanner;
pub use simulated::{ScanInjector, SimulatedScanner};
pub use wedge::{Wedge, choose_device};
