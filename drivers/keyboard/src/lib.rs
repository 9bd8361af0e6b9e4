//! `kiosk-keyboard`: types a patron number into the counter PC as a USB HID keyboard.
//!
//! - [`Layout`], [`reports`], [`decode`]: pure encoding of text into HID boot-keyboard
//!   reports for the counter PC's layout (US or JIS), and back;
//! - [`Gadget`]: the Linux USB gadget's HID device (`/dev/hidg0`), written report by
//!   report with a delay between keys.

mod gadget;
mod layout;

pub use gadget::{Gadget, GadgetError};
pub use layout::{Layout, Report, Untypable, decode, reports};
