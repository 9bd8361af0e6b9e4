//! Card reader driver for the My Number card's JPKI user-authentication application.
//!
//! - [`apdu`]: command and response APDUs as types, the instructions sent ([`Ins`]),
//!   [`StatusWord`], fixed-capacity zeroizing buffers.
//! - [`transport`]: the small [`Transport`] trait (transmit inside a transaction guard,
//!   exclusive hold, unpower); [`pcsc`] implements it on pcsc-lite.
//! - [`jpki`]: the JPKI operations the kiosk needs (certificate, PIN tries, VERIFY,
//!   signature, token label). It selects the JPKI AP and nothing else.
//! - [`cert`]: certificate parsing, signature and chain checks, the serial's keyed hash.
//!
//! The kiosk's orchestrator maps [`CardError::class`] onto the flow's `CardFault`; this
//! crate does not depend on the kiosk.

pub mod apdu;
pub mod cert;
pub mod error;
pub mod jpki;
pub mod pcsc;
pub mod scrub;
pub mod transport;

pub use apdu::{ApduError, Command, Ins, Le, ParsedCommand, Response, StatusWord, UnknownIns};
pub use cert::{CertError, CertificateSerial, JpkiCertificate};
pub use error::{CardError, FaultClass};
pub use jpki::{Jpki, PinOutcome, PinStatus, ReadMode, Traffic};
pub use transport::{Channel, Transport};
