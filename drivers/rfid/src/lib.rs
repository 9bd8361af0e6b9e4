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
//! - [`iso28560_2`]: ISO 28560-2, the library's data elements as ISO/IEC 15962 data sets
//!   (DSFID `06`), with what is not public refused rather than guessed;
//! - [`model`]: which of those a tag holds, and its item ([`LibraryTag`]), or why it is
//!   not one ([`NotAnItem`]): the one entry point for any tag.
//!
//! - [`link`]: the reader on its serial line ([`EvmReader`]): one command at a time,
//!   answers read to completion, retries, writes confirmed by reading back.
//!
//! `docs/rfid.md` has the protocol facts, their sources, and what is not public. All but
//! [`link`] is pure: bytes in, values out. The virtual reader that the tests use is
//! `kiosk-sim`'s `rfid` module.

pub mod crc;
pub mod danish;
pub mod evm;
pub mod iso15693;
pub mod iso28560_2;
pub mod link;
pub mod model;

pub use danish::{DanishTag, ModelError, Usage};
pub use evm::{AnswerError, Group};
pub use iso15693::{Request, SystemInfo, TagError, Uid};
pub use link::{EvmReader, Inventory, ReaderError};
pub use model::{LibraryTag, Model, NotAnItem};
