//! `kiosk-rfid`: library items tagged with ISO 15693 RFID labels.
//!
//! - [`crc`]: ISO 15693's CRC (ISO/IEC 13239) and the Danish data model's;
//! - [`evm`]: the Texas Instruments TRF7970A evaluation module's host protocol (the one
//!   the PyPI package `rfidgeek` speaks): frames to the reader as ASCII hex, and its
//!   answers read back into [`evm::Group`]s;
//! - [`iso15693`]: the requests the kiosk sends to a tag (inventory, read and write
//!   blocks, write AFI, system information) and the tag's answers, with their errors;
//! - [`danish`]: the Danish data model, the ancestor of ISO 28560-3's basic block: the
//!   item's barcode, its part of a set, the owner library, with the tolerance real tags
//!   need (nibble order, set order, blocks read back to front).
//!
//! `docs/rfid.md` has the protocol facts, their sources, and what is not public.
//! Everything here is pure: bytes in, values out; the serial link is a later layer.

pub mod crc;
pub mod danish;
pub mod evm;
pub mod iso15693;

pub use danish::{DanishTag, ModelError, Usage};
pub use evm::{AnswerError, Group};
pub use iso15693::{Request, TagError, Uid};
