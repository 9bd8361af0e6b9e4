//! The driver's errors. Each message says what happened and what a patron or staff member
//! can do about it; none contains a PIN, a certificate serial or card data.

use crate::apdu::{ApduError, StatusWord};
use crate::cert::CertError;

/// What the kiosk should make of an error (the orchestrator maps this onto the flow's
/// `CardFault`; this crate does not depend on the kiosk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultClass {
    /// Not a My Number card, or its JPKI application is missing.
    NotMyNumberCard,
    /// The card answered something malformed, or the read failed.
    Unreadable,
    /// The card left the reader during the operation.
    CardRemoved,
    /// The reader or pcscd failed or is absent.
    ReaderFailed,
    /// A programming or configuration error on the kiosk's side.
    Kiosk,
}

/// Everything that can go wrong talking to the card.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("the smart-card service (pcscd) is not running or stopped: staff should restart the kiosk")]
    ServiceUnavailable,
    #[error("no card reader matching \"{pattern}\" is connected: staff should check the reader's USB cable")]
    NoReader { pattern: String },
    #[error("the card reader was unplugged: staff should plug it back in")]
    ReaderRemoved,
    #[error("no card is in the reader: please place your My Number card on the reader")]
    NoCard,
    #[error("the card was removed during the operation: please place it on the reader again")]
    CardRemoved,
    #[error("the card was reset by another program: please place it on the reader again")]
    CardReset,
    #[error("the card does not respond: please place it flat on the reader, or ask staff")]
    CardUnresponsive,
    #[error("another program is using the card reader: staff should close it or restart the kiosk")]
    ReaderBusy,
    #[error("the card reader failed ({0}): staff should unplug and replug the reader")]
    Reader(pcsc::Error),
    #[error(
        "this card has no JPKI application (not a My Number card): please use a My Number card or a library card"
    )]
    NotJpki,
    #[error("the card reports an internal error (status {0}): please take it out and place it again")]
    CardFailure(StatusWord),
    #[error("the card's answer was malformed ({0}): please take it out and place it again")]
    Malformed(ApduError),
    #[error("the card answered {status} to {command}: please take it out and place it again, or ask staff")]
    UnexpectedStatus { command: &'static str, status: StatusWord },
    #[error(
        "the card sent {got} bytes to {command}, more than the {asked} asked for: please take it out and place it again, or ask staff"
    )]
    ResponseTooLong { command: &'static str, asked: usize, got: usize },
    #[error("the certificate file on the card is not a DER certificate: the card may be damaged, ask staff")]
    CertificateNotDer,
    #[error(
        "the certificate header says {declared} bytes but the card holds only {available}: the card may be damaged, ask staff"
    )]
    CertificateLengthMismatch { declared: usize, available: usize },
    #[error(
        "the certificate header says {declared} bytes, over the {max}-byte limit: the card may be damaged, ask staff"
    )]
    CertificateTooLarge { declared: usize, max: usize },
    #[error("the card's certificate cannot be used ({0}): please ask staff")]
    Certificate(#[from] CertError),
    #[error("the PIN must be exactly 4 digits (0-9); nothing was sent to the card")]
    InvalidPinFormat,
    #[error("the card refused to sign because the PIN has not been verified in this session")]
    PinNotVerified,
    #[error("the card's signature has {0} bytes, not the 256 of an RSA-2048 key: ask staff")]
    BadSignatureLength(usize),
}

impl CardError {
    /// How the kiosk should treat this error.
    pub fn class(&self) -> FaultClass {
        match self {
            CardError::ServiceUnavailable
            | CardError::NoReader { .. }
            | CardError::ReaderRemoved
            | CardError::ReaderBusy
            | CardError::Reader(_) => FaultClass::ReaderFailed,
            CardError::NoCard | CardError::CardRemoved | CardError::CardReset => FaultClass::CardRemoved,
            CardError::NotJpki => FaultClass::NotMyNumberCard,
            CardError::InvalidPinFormat | CardError::PinNotVerified => FaultClass::Kiosk,
            CardError::CardUnresponsive
            | CardError::CardFailure(_)
            | CardError::Malformed(_)
            | CardError::UnexpectedStatus { .. }
            | CardError::ResponseTooLong { .. }
            | CardError::CertificateNotDer
            | CardError::CertificateLengthMismatch { .. }
            | CardError::CertificateTooLarge { .. }
            | CardError::Certificate(_)
            | CardError::BadSignatureLength(_) => FaultClass::Unreadable,
        }
    }
}

impl From<ApduError> for CardError {
    fn from(e: ApduError) -> Self {
        CardError::Malformed(e)
    }
}

impl From<pcsc::Error> for CardError {
    fn from(e: pcsc::Error) -> Self {
        use pcsc::Error as E;
        match e {
            E::NoService | E::ServiceStopped | E::InvalidHandle | E::Shutdown => {
                CardError::ServiceUnavailable
            }
            E::ReaderUnavailable | E::UnknownReader | E::NoReadersAvailable => CardError::ReaderRemoved,
            E::NoSmartcard => CardError::NoCard,
            E::RemovedCard => CardError::CardRemoved,
            E::ResetCard => CardError::CardReset,
            E::UnresponsiveCard | E::UnpoweredCard | E::UnsupportedCard | E::InvalidAtr => {
                CardError::CardUnresponsive
            }
            E::SharingViolation => CardError::ReaderBusy,
            other => CardError::Reader(other),
        }
    }
}
