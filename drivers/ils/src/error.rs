//! Named errors, each with a message a person (staff, IT) can act on.

use std::time::Duration;

use crate::codec::Charset;

/// A frame from the library system that cannot be read. Never a panic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "the library system sent more than {limit} bytes without ending the message (no CR): \
         is the SIP2 port really a SIP2 server?"
    )]
    FrameTooLong { limit: usize },
    #[error("the library system sent a message too short to have a command id")]
    TooShort,
    #[error("the library system sent a NUL byte, which SIP2 forbids: check the server's encoding")]
    NulByte,
    #[error("the library system sent an unknown message id {0:?}: check that the port speaks SIP2")]
    UnknownMessage(String),
    #[error("message {message} is truncated: its fixed part needs {need} characters, got {got}")]
    Truncated { message: String, need: usize, got: usize },
    #[error(
        "checksum mismatch: the frame says {found}, its bytes sum to {expected}; \
         the line is corrupting data or the server uses another character set"
    )]
    BadChecksum { expected: String, found: String },
    #[error("the AZ checksum is not 4 hex digits")]
    MalformedChecksum,
    #[error("the frame has no AZ checksum but error detection is required")]
    MissingChecksum,
    #[error("a variable field does not start with a 2-character id near {0:?}")]
    MalformedField(String),
    #[error("message {message}: fixed field {field} has an invalid value {value:?}")]
    BadFixedField { message: String, field: &'static str, value: String },
    #[error("message {message} lacks the required field {field}")]
    MissingField { message: String, field: &'static str },
    #[error("expected message {expected}, got {got}")]
    WrongMessage { expected: &'static str, got: String },
}

/// A request that cannot be put on the wire as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("the character {0:?} cannot be sent inside a SIP2 field")]
    ForbiddenChar(char),
    #[error("the text cannot be written in {charset}")]
    Unmappable { charset: Charset },
    #[error(
        "in Shift_JIS this text contains the byte 0x7C ('|', e.g. the trail byte of ポ) and the \
         library system would split the field there; use UTF-8 for this library system"
    )]
    TrailByteIsDelimiter,
    #[error("field {id} is {bytes} bytes long; SIP2 allows 255")]
    FieldTooLong { id: String, bytes: usize },
    #[error("field id {0:?} is not two letters or digits")]
    BadFieldId(String),
    #[error("sequence number {0} is not a single digit")]
    BadSequence(u8),
    #[error("fixed field {field} must be {width} characters, got {value:?}")]
    FixedWidth { field: &'static str, width: usize, value: String },
}

/// What went wrong talking to the library system.
#[derive(Debug, thiserror::Error)]
pub enum Sip2Error {
    #[error(
        "could not connect to the library system at {addr}: {source}; check the network \
         and the SIP2 address in the kiosk configuration"
    )]
    Connect { addr: String, source: std::io::Error },
    #[error("connecting to the library system at {addr} took longer than {waited:?}")]
    ConnectTimeout { addr: String, waited: Duration },
    #[error(
        "the library system at {addr} answered with TLS: its SIP2 port expects TLS; turn \
         [ils] tls on and set ils.ca_file to the CA that signed its certificate"
    )]
    TlsExpected { addr: String },
    #[error("the TLS settings for the library system cannot be used: {0}")]
    TlsSettings(String),
    #[error(
        "the library system at {addr} did not complete the TLS handshake within {waited:?}: \
         check that this SIP2 port speaks TLS (a plain SIP2 port stays silent), or turn \
         [ils] tls off if the library system does not use TLS"
    )]
    TlsHandshakeTimeout { addr: String, waited: Duration },
    #[error(
        "the library system at {addr} answered in plain text, not TLS: this SIP2 port does \
         not speak TLS; ask its administrator for the TLS port, or turn [ils] tls off"
    )]
    TlsNotSpoken { addr: String },
    #[error(
        "the library system at {addr} closed the connection during the TLS handshake: the \
         port may not speak TLS, or the server refused the kiosk (client certificate?); \
         its logs will say which"
    )]
    TlsClosed { addr: String },
    #[error(
        "the library system's certificate (at {addr}) is not signed by {ca}: put the CA \
         certificate that signed the SIP2 server's certificate in that file (ask the library \
         system's administrator), or check that {addr} is really the library system"
    )]
    TlsUntrusted { addr: String, ca: String },
    #[error(
        "the library system's certificate (at {addr}) has expired{detail}: its administrator \
         must renew it; if the date looks wrong, correct the kiosk's clock"
    )]
    TlsCertificateExpired { addr: String, detail: String },
    #[error(
        "the library system's certificate (at {addr}) is not valid yet{detail}: the kiosk's \
         clock is probably wrong (check its time source / NTP)"
    )]
    TlsCertificateNotYetValid { addr: String, detail: String },
    #[error(
        "name mismatch: the library system's certificate (at {addr}) is for {}, not for \
         {expected}; configure the SIP2 host by a name the certificate lists, or have the \
         certificate reissued for {expected}",
        if presented.is_empty() { "other names".to_owned() } else { presented.join(", ") }
    )]
    TlsNameMismatch { addr: String, expected: String, presented: Vec<String> },
    #[error("the library system's certificate (at {addr}) was refused: {detail}")]
    TlsCertificate { addr: String, detail: String },
    #[error(
        "the library system at {addr} refused the kiosk's client certificate ({alert}; a client \
         certificate is {}): it requires mutual TLS; check the kiosk's client certificate \
         with the library system's administrator",
        if *configured { "configured" } else { "NOT configured" }
    )]
    TlsClientCertificateRejected { addr: String, alert: String, configured: bool },
    #[error(
        "the library system at {addr} and the kiosk have no TLS version or cipher in common \
         ({detail}); the kiosk requires TLS 1.2 or newer"
    )]
    TlsIncompatible { addr: String, detail: String },
    #[error("TLS to the library system at {addr} failed: {detail}")]
    Tls { addr: String, detail: String },
    #[error(
        "the library system refused the SIP2 login of user {user:?}: check the SIP2 login \
         user and password with the library system's administrator"
    )]
    LoginRefused { user: String },
    #[error("the library system says it is offline (SC status: online = N); try again later")]
    Offline,
    #[error(
        "the library system's status (98) says {what} is not allowed at this terminal; ask \
         its administrator to allow it for the kiosk's SIP2 login, or, if the status is wrong \
         (some servers always say no), set ils.override_checkout_not_allowed = true in the \
         kiosk configuration"
    )]
    NotAllowed { what: &'static str },
    #[error(
        "offline replay (checkouts sent with no block) is not switched on for this library \
         system: only a staff-approved replay of loans made offline may send them"
    )]
    OfflineReplayOff,
    #[error("no answer to {command} after {attempts} attempt(s) of {waited:?} each")]
    Timeout { command: &'static str, attempts: u32, waited: Duration },
    #[error("the library system closed the connection during {command}")]
    Disconnected { command: &'static str },
    #[error(
        "the library system's replies to {command} kept failing the checksum, even when \
         asked again: check the character set configured for this library system"
    )]
    ChecksumFailed { command: &'static str },
    #[error("reply to {command} carried sequence number {got}, expected {sent}")]
    SequenceMismatch { command: &'static str, sent: u8, got: u8 },
    #[error("sent {command}, the library system answered with message {got}")]
    UnexpectedReply { command: &'static str, got: String },
    #[error("the library system sent data that is not SIP2: {0}")]
    Garbage(#[from] DecodeError),
    #[error("cannot build the request: {0}")]
    Encode(#[from] EncodeError),
    #[error(
        "the checkout of item {item} could not be confirmed or ruled out (the library system \
         stopped answering); the kiosk will check the item's status before trying again"
    )]
    OutcomeUnknown { item: String },
    #[error(
        "the library system listed {listed} {list} but counted {counted} in the same patron \
         information (64) answer: the answer is inconsistent; check the server's SIP2 settings"
    )]
    ListLonger { list: &'static str, counted: u16, listed: usize },
    #[error(
        "the library system's answer to {command} does not name the item (AB is empty): \
         whether it was done is checked from the item's status"
    )]
    MissingItem { command: &'static str },
    #[error(
        "the library system renewed an item but moved its due date back, from {before} to \
         {after}: check the loan rules (or the patron's expiry date) in the library system"
    )]
    DueDateMovedBack { before: String, after: String },
    #[error("network error talking to the library system: {0}")]
    Io(#[from] std::io::Error),
}

impl Sip2Error {
    /// Whether the connection was found closed by the server (end of stream, reset,
    /// broken pipe): a new connection may well work.
    /// The library system cannot be reached at all (down, the network cut, not
    /// answering): what offline lending is for. A refused login, a TLS problem or a
    /// garbled answer is a fault to fix, not an outage.
    pub fn unreachable(&self) -> bool {
        matches!(
            self,
            Sip2Error::Connect { .. }
                | Sip2Error::ConnectTimeout { .. }
                | Sip2Error::Offline
                | Sip2Error::Timeout { .. }
                | Sip2Error::Disconnected { .. }
        ) || self.connection_closed()
    }

    pub fn connection_closed(&self) -> bool {
        use std::io::ErrorKind as K;
        match self {
            Sip2Error::Disconnected { .. } => true,
            Sip2Error::Io(e) => matches!(
                e.kind(),
                K::BrokenPipe
                    | K::ConnectionReset
                    | K::ConnectionAborted
                    | K::NotConnected
                    | K::UnexpectedEof
            ),
            _ => false,
        }
    }

    /// Whether a request might have been applied by the library system although we got
    /// no usable reply (so a checkout must be reconciled before it is retried).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Sip2Error::Timeout { .. }
                | Sip2Error::Disconnected { .. }
                | Sip2Error::ChecksumFailed { .. }
                | Sip2Error::SequenceMismatch { .. }
                | Sip2Error::UnexpectedReply { .. }
                | Sip2Error::Garbage(_)
                | Sip2Error::Io(_)
                | Sip2Error::OutcomeUnknown { .. }
                | Sip2Error::MissingItem { .. }
        )
    }
}
