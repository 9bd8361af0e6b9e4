//! ISO 7816-4 APDUs as types: commands that encode into fixed-capacity, zeroizing buffers,
//! responses split into data and a typed [`StatusWord`], and a parser for command APDUs
//! (the virtual card and the fuzz target use it).
//!
//! Capacities: command data is at most [`MAX_COMMAND_DATA`] bytes (the JPKI commands the
//! kiosk sends carry at most 51); a command may ask for an extended Le of up to 65 536
//! bytes, so [`COMMAND_CAPACITY`] covers both the largest short APDU (261 bytes) and an
//! extended APDU with that data. A response holds up to 65 536 data bytes plus the status
//! word ([`RESPONSE_CAPACITY`]).

use std::fmt;

use zeroize::Zeroize;

/// Most command data bytes the driver sends in one APDU (short Lc).
pub const MAX_COMMAND_DATA: usize = 255;
/// Largest short command APDU: header, Lc, 255 data bytes, Le.
pub const MAX_SHORT_COMMAND: usize = 4 + 1 + 255 + 1;
/// Capacity of an encoded command: header, extended Lc (3), data, extended Le (2).
pub const COMMAND_CAPACITY: usize = 4 + 3 + MAX_COMMAND_DATA + 2;
/// Largest Le a short APDU can ask for (encoded as `00`).
pub const MAX_SHORT_LE: usize = 256;
/// Largest Le an extended APDU can ask for (encoded as `00 00`).
pub const MAX_EXTENDED_LE: usize = 65_536;
/// Capacity of a response buffer: 65 536 data bytes and SW1 SW2.
pub const RESPONSE_CAPACITY: usize = MAX_EXTENDED_LE + 2;

/// A fixed-capacity byte buffer that is zeroized when dropped (it may hold a PIN).
pub struct SecretBuf<const N: usize>(heapless::Vec<u8, N>);

impl<const N: usize> SecretBuf<N> {
    pub const fn new() -> Self {
        SecretBuf(heapless::Vec::new())
    }

    /// Copies `bytes` in; `None` when they do not fit.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut buf = Self::new();
        buf.0.extend_from_slice(bytes).ok()?;
        Some(buf)
    }

    fn push(&mut self, byte: u8) -> Result<(), ApduError> {
        self.0.push(byte).map_err(|_| ApduError::TooLong)
    }

    fn extend(&mut self, bytes: &[u8]) -> Result<(), ApduError> {
        self.0.extend_from_slice(bytes).map_err(|_| ApduError::TooLong)
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const N: usize> Default for SecretBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Drop for SecretBuf<N> {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
        self.0.clear();
    }
}

impl<const N: usize> fmt::Debug for SecretBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBuf({} bytes, redacted)", self.0.len())
    }
}

/// An encoded command APDU, zeroized on drop.
pub type CommandBuf = SecretBuf<COMMAND_CAPACITY>;

/// A response buffer (data ‖ SW1 SW2). Not secret: certificates and signatures.
pub type ResponseBuf = heapless::Vec<u8, RESPONSE_CAPACITY>;

/// Why bytes are not a valid APDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    #[error("the command does not fit the APDU buffer")]
    TooLong,
    #[error("the response has no status word (fewer than 2 bytes, or SW1 neither 6X nor 9X)")]
    MissingStatusWord,
    #[error("a command APDU needs at least 4 header bytes")]
    ShortHeader,
    #[error("the command's Lc/Le bytes do not match its length")]
    BadLength,
}

/// The expected response length of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Le {
    /// No response data expected (ISO case 1 or 3).
    None,
    /// Up to this many bytes (1..=65 536); above 256 the APDU is encoded extended.
    Max(u32),
    /// Up to this many bytes, always encoded as extended length (1..=65 536).
    Extended(u32),
}

/// The instructions the driver sends to the JPKI AP, each with the CLA it is sent with
/// (the simulated card answers the same set).
///
/// The interindustry commands (ISO/IEC 7816-4) go with CLA `00`: no command chaining, no
/// secure messaging, the basic logical channel. The signature command is the JPKI AP's
/// own and goes with the proprietary CLA `80`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ins {
    /// `00 A4` SELECT (ISO 7816-4): makes a file current. The driver selects the JPKI AP
    /// by DF name (P1 `04`) and an EF of it by file identifier (P1 `02`), both with P2
    /// `0C`: no file control information in the answer.
    Select,
    /// `00 B0` READ BINARY (ISO 7816-4): reads the current EF from an offset. With bit 8
    /// of P1 clear the offset is P1–P2 (15 bits); with it set, P1 names the EF by short
    /// file identifier (`80 | SFI`) and P2 is the offset.
    ReadBinary,
    /// `00 20` VERIFY (ISO 7816-4): compares the command data with the reference data of
    /// P2 (`80`: the current EF, the PIN's EF on the JPKI AP). Without data it only asks
    /// for the retry counter (`63 Cx`: x tries left) and spends no try.
    Verify,
    /// `80 2A` COMPUTE DIGITAL SIGNATURE of the JPKI AP: the INS of ISO 7816-8's PERFORM
    /// SECURITY OPERATION (`00 2A 9E 9A`), but with CLA `80`, P1 `00` and P2 naming the
    /// key: `80` the current EF (what the driver sends), or `80 | SFI`. The data is a DER
    /// DigestInfo; the card pads it (PKCS#1 v1.5 type 1) and answers the RSA signature.
    ComputeSignature,
}

impl Ins {
    /// The INS byte.
    pub const fn byte(self) -> u8 {
        match self {
            Ins::Select => 0xA4,
            Ins::ReadBinary => 0xB0,
            Ins::Verify => 0x20,
            Ins::ComputeSignature => 0x2A,
        }
    }

    /// The CLA byte the instruction is sent with.
    pub const fn cla(self) -> u8 {
        match self {
            Ins::Select | Ins::ReadBinary | Ins::Verify => 0x00,
            Ins::ComputeSignature => 0x80,
        }
    }

    /// A command with this instruction, its CLA and `p1`, `p2` (no data, no Le yet).
    pub fn command(self, p1: u8, p2: u8) -> Command {
        Command::new(self.cla(), self.byte(), p1, p2)
    }
}

/// An INS byte that is none of the [`Ins`] the driver knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown instruction byte {0:02X}")]
pub struct UnknownIns(pub u8);

impl TryFrom<u8> for Ins {
    type Error = UnknownIns;

    fn try_from(byte: u8) -> Result<Self, UnknownIns> {
        match byte {
            0xA4 => Ok(Ins::Select),
            0xB0 => Ok(Ins::ReadBinary),
            0x20 => Ok(Ins::Verify),
            0x2A => Ok(Ins::ComputeSignature),
            other => Err(UnknownIns(other)),
        }
    }
}

impl From<Ins> for u8 {
    fn from(ins: Ins) -> u8 {
        ins.byte()
    }
}

/// A command APDU. Its data is a zeroizing buffer because VERIFY carries the PIN.
#[derive(Debug)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: SecretBuf<MAX_COMMAND_DATA>,
    pub le: Le,
}

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Command { cla, ins, p1, p2, data: SecretBuf::new(), le: Le::None }
    }

    /// Sets the command data; fails when it is longer than [`MAX_COMMAND_DATA`].
    pub fn with_data(mut self, data: &[u8]) -> Result<Self, ApduError> {
        self.data = SecretBuf::from_slice(data).ok_or(ApduError::TooLong)?;
        Ok(self)
    }

    pub fn with_le(mut self, le: Le) -> Self {
        self.le = le;
        self
    }

    /// Encodes the APDU (ISO 7816-3 cases 1–4, short or extended).
    pub fn encode(&self) -> Result<CommandBuf, ApduError> {
        let (le, force_extended) = match self.le {
            Le::None => (0, false),
            Le::Max(n) => (n as usize, false),
            Le::Extended(n) => (n as usize, true),
        };
        if le > MAX_EXTENDED_LE || (le == 0 && self.le != Le::None) {
            return Err(ApduError::BadLength);
        }
        let extended = force_extended || le > MAX_SHORT_LE;
        let mut out = CommandBuf::new();
        out.extend(&[self.cla, self.ins, self.p1, self.p2])?;
        let lc = self.data.len();
        if lc > 0 {
            if extended {
                out.extend(&[0, (lc >> 8) as u8, lc as u8])?;
            } else {
                out.push(lc as u8)?;
            }
            out.extend(self.data.as_slice())?;
        }
        if le > 0 {
            if extended {
                // With data, Lc already carried the extended marker.
                if lc == 0 {
                    out.push(0)?;
                }
                let v = if le == MAX_EXTENDED_LE { 0 } else { le };
                out.extend(&[(v >> 8) as u8, v as u8])?;
            } else {
                out.push(if le == MAX_SHORT_LE { 0 } else { le as u8 })?;
            }
        }
        Ok(out)
    }
}

/// A parsed command APDU (borrowing its bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedCommand<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: &'a [u8],
    /// Expected response length, 0 when absent (case 1/3).
    pub le: usize,
    pub extended: bool,
}

impl<'a> ParsedCommand<'a> {
    /// Parses any ISO 7816-4 case 1–4 APDU, short or extended.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        let (&[cla, ins, p1, p2], body) = bytes.split_first_chunk::<4>().ok_or(ApduError::ShortHeader)?;
        let mut cmd = ParsedCommand { cla, ins, p1, p2, data: &[], le: 0, extended: false };
        match body {
            [] => {}
            [le] => cmd.le = if *le == 0 { MAX_SHORT_LE } else { *le as usize },
            [0, rest @ ..] if rest.len() >= 2 => {
                cmd.extended = true;
                let n = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                let rest = &rest[2..];
                if rest.is_empty() {
                    cmd.le = if n == 0 { MAX_EXTENDED_LE } else { n };
                } else {
                    if n == 0 {
                        return Err(ApduError::BadLength);
                    }
                    match rest.len().checked_sub(n) {
                        Some(0) => cmd.data = rest,
                        Some(2) => {
                            cmd.data = &rest[..n];
                            let v = usize::from(u16::from_be_bytes([rest[n], rest[n + 1]]));
                            cmd.le = if v == 0 { MAX_EXTENDED_LE } else { v };
                        }
                        _ => return Err(ApduError::BadLength),
                    }
                }
            }
            [lc, rest @ ..] => {
                let n = *lc as usize;
                if n == 0 {
                    return Err(ApduError::BadLength);
                }
                match rest.len().checked_sub(n) {
                    Some(0) => cmd.data = rest,
                    Some(1) => {
                        cmd.data = &rest[..n];
                        cmd.le = if rest[n] == 0 { MAX_SHORT_LE } else { rest[n] as usize };
                    }
                    _ => return Err(ApduError::BadLength),
                }
            }
        }
        Ok(cmd)
    }
}

/// A status word, typed where the JPKI card gives it a meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// `90 00`
    Success,
    /// `62 82`: end of file reached before Le bytes (data is still valid).
    EndOfFileWarning,
    /// `63 Cx`: VERIFY failed (or the empty VERIFY query): x tries left. `63 C0` means
    /// the counter is exhausted: the PIN is now blocked.
    WrongPin { tries_left: u8 },
    /// `63 00`: verification failed, no counter given.
    VerificationFailed,
    /// `67 00`
    WrongLength,
    /// `68 81`
    LogicalChannelNotSupported,
    /// `68 82`
    SecureMessagingNotSupported,
    /// `69 82`: the PIN must be verified first.
    SecurityStatusNotSatisfied,
    /// `69 84`: the PIN (reference data) is blocked.
    Blocked,
    /// `69 85`
    ConditionsNotSatisfied,
    /// `69 86`: no current EF.
    NoCurrentEf,
    /// `6A 82`
    FileNotFound,
    /// `6A 86`
    IncorrectP1P2,
    /// `6B 00`: offset beyond the end of the EF.
    EndOfFile,
    /// `6C xx`: wrong Le, xx bytes available.
    WrongLe { available: u8 },
    /// `6D 00`
    InsNotSupported,
    /// `6E 00`
    ClaNotSupported,
    /// `6F 00`: no precise diagnosis (seen on the first command after power-on).
    NoPreciseDiagnosis,
    /// Anything else.
    Other(u16),
}

impl StatusWord {
    pub fn from_bytes(sw1: u8, sw2: u8) -> Self {
        Self::from(u16::from_be_bytes([sw1, sw2]))
    }

    pub fn to_u16(self) -> u16 {
        match self {
            StatusWord::Success => 0x9000,
            StatusWord::EndOfFileWarning => 0x6282,
            StatusWord::WrongPin { tries_left } => 0x63C0 | u16::from(tries_left & 0x0F),
            StatusWord::VerificationFailed => 0x6300,
            StatusWord::WrongLength => 0x6700,
            StatusWord::LogicalChannelNotSupported => 0x6881,
            StatusWord::SecureMessagingNotSupported => 0x6882,
            StatusWord::SecurityStatusNotSatisfied => 0x6982,
            StatusWord::Blocked => 0x6984,
            StatusWord::ConditionsNotSatisfied => 0x6985,
            StatusWord::NoCurrentEf => 0x6986,
            StatusWord::FileNotFound => 0x6A82,
            StatusWord::IncorrectP1P2 => 0x6A86,
            StatusWord::EndOfFile => 0x6B00,
            StatusWord::WrongLe { available } => 0x6C00 | u16::from(available),
            StatusWord::InsNotSupported => 0x6D00,
            StatusWord::ClaNotSupported => 0x6E00,
            StatusWord::NoPreciseDiagnosis => 0x6F00,
            StatusWord::Other(sw) => sw,
        }
    }

    pub fn to_bytes(self) -> [u8; 2] {
        self.to_u16().to_be_bytes()
    }

    /// `90 00` or the end-of-file warning `62 82` (data valid).
    pub fn is_ok(self) -> bool {
        matches!(self, StatusWord::Success | StatusWord::EndOfFileWarning)
    }

    /// Both encodings of a blocked PIN: `63 C0` and `69 84`.
    pub fn is_pin_blocked(self) -> bool {
        matches!(self, StatusWord::WrongPin { tries_left: 0 } | StatusWord::Blocked)
    }
}

impl From<u16> for StatusWord {
    fn from(sw: u16) -> Self {
        match sw {
            0x9000 => StatusWord::Success,
            0x6282 => StatusWord::EndOfFileWarning,
            0x63C0..=0x63CF => StatusWord::WrongPin { tries_left: (sw & 0x0F) as u8 },
            0x6300 => StatusWord::VerificationFailed,
            0x6700 => StatusWord::WrongLength,
            0x6881 => StatusWord::LogicalChannelNotSupported,
            0x6882 => StatusWord::SecureMessagingNotSupported,
            0x6982 => StatusWord::SecurityStatusNotSatisfied,
            0x6984 => StatusWord::Blocked,
            0x6985 => StatusWord::ConditionsNotSatisfied,
            0x6986 => StatusWord::NoCurrentEf,
            0x6A82 => StatusWord::FileNotFound,
            0x6A86 => StatusWord::IncorrectP1P2,
            0x6B00 => StatusWord::EndOfFile,
            0x6C00..=0x6CFF => StatusWord::WrongLe { available: (sw & 0xFF) as u8 },
            0x6D00 => StatusWord::InsNotSupported,
            0x6E00 => StatusWord::ClaNotSupported,
            0x6F00 => StatusWord::NoPreciseDiagnosis,
            other => StatusWord::Other(other),
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.to_u16())
    }
}

/// A response APDU split into its data and status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'a> {
    pub data: &'a [u8],
    pub status: StatusWord,
}

impl<'a> Response<'a> {
    /// Splits `bytes` (data ‖ SW1 SW2); a response shorter than 2 bytes has no status
    /// word and is an error, never a panic. So is one whose SW1 is not `6X` (X ≠ 0) or
    /// `9X` (ISO 7816-4 §5.6): those last two bytes are data, the status word is missing
    /// (a response cut short, or sent without it).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        let (data, &[sw1, sw2]) = bytes.split_last_chunk::<2>().ok_or(ApduError::MissingStatusWord)?;
        if !matches!(sw1, 0x61..=0x6F | 0x90..=0x9F) {
            return Err(ApduError::MissingStatusWord);
        }
        Ok(Response { data, status: StatusWord::from_bytes(sw1, sw2) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_four_cases() {
        let c1 = Command::new(0x00, 0x20, 0x00, 0x80).encode().unwrap();
        assert_eq!(c1.as_slice(), [0x00, 0x20, 0x00, 0x80]);
        let c2 = Command::new(0x00, 0xB0, 0, 0).with_le(Le::Max(256)).encode().unwrap();
        assert_eq!(c2.as_slice(), [0x00, 0xB0, 0, 0, 0]);
        let c2e = Command::new(0x00, 0xB0, 0, 0).with_le(Le::Max(65_536)).encode().unwrap();
        assert_eq!(c2e.as_slice(), [0x00, 0xB0, 0, 0, 0, 0, 0]);
        let c3 = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(&[0x00, 0x0A]).unwrap().encode().unwrap();
        assert_eq!(c3.as_slice(), [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
        let c4 = Command::new(0x80, 0x2A, 0, 0x80).with_data(&[1; 51]).unwrap().with_le(Le::Max(256));
        let c4 = c4.encode().unwrap();
        assert_eq!(c4.len(), 4 + 1 + 51 + 1);
        assert_eq!(c4.as_slice()[4], 51);
        assert_eq!(*c4.as_slice().last().unwrap(), 0);
        let c4e = Command::new(0, 0xB0, 0, 0).with_data(&[1, 2]).unwrap().with_le(Le::Extended(300));
        assert_eq!(c4e.encode().unwrap().as_slice(), [0, 0xB0, 0, 0, 0, 0, 2, 1, 2, 0x01, 0x2C]);
    }

    #[test]
    fn instructions_map_to_their_bytes_and_back() {
        let table = [
            (Ins::Select, 0x00, 0xA4),
            (Ins::ReadBinary, 0x00, 0xB0),
            (Ins::Verify, 0x00, 0x20),
            (Ins::ComputeSignature, 0x80, 0x2A),
        ];
        for (ins, cla, byte) in table {
            assert_eq!((ins.cla(), ins.byte(), u8::from(ins)), (cla, byte, byte), "{ins:?}");
            assert_eq!(Ins::try_from(byte), Ok(ins));
            let header = ins.command(0x12, 0x34).encode().unwrap();
            assert_eq!(header.as_slice(), [cla, byte, 0x12, 0x34]);
        }
        // Every other byte is an error naming it, never a panic.
        let mut known = 0;
        for byte in 0..=u8::MAX {
            match Ins::try_from(byte) {
                Ok(ins) => {
                    assert_eq!(ins.byte(), byte);
                    known += 1;
                }
                Err(e) => assert_eq!(e, UnknownIns(byte)),
            }
        }
        assert_eq!(known, table.len());
        assert_eq!(Ins::try_from(0xC0), Err(UnknownIns(0xC0)));
        assert_eq!(UnknownIns(0xCA).to_string(), "unknown instruction byte CA");
    }

    #[test]
    fn rejects_oversized_data_and_bad_le() {
        assert_eq!(Command::new(0, 0, 0, 0).with_data(&[0; 256]).unwrap_err(), ApduError::TooLong);
        assert!(Command::new(0, 0, 0, 0).with_le(Le::Max(0)).encode().is_err());
        assert!(Command::new(0, 0, 0, 0).with_le(Le::Max(65_537)).encode().is_err());
    }

    #[test]
    fn status_words_round_trip_and_blocked_encodings() {
        for sw in [0x9000u16, 0x63C2, 0x63C0, 0x6984, 0x6A82, 0x6B00, 0x6F00, 0x6C10, 0x1234] {
            assert_eq!(StatusWord::from(sw).to_u16(), sw);
        }
        assert!(StatusWord::from(0x63C0).is_pin_blocked());
        assert!(StatusWord::from(0x6984).is_pin_blocked());
        assert!(!StatusWord::from(0x63C1).is_pin_blocked());
        assert_eq!(StatusWord::from(0x63C2), StatusWord::WrongPin { tries_left: 2 });
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Parsing never panics, and whatever parses re-encodes to a command that parses
        /// to the same data and Le.
        #[test]
        fn parsers_never_panic_and_round_trip(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = Response::parse(&bytes);
            if let Ok(c) = ParsedCommand::parse(&bytes) {
                let le = match (c.le, c.extended) {
                    (0, _) => Le::None,
                    (n, true) => Le::Extended(n as u32),
                    (n, false) => Le::Max(n as u32),
                };
                if let Ok(cmd) = Command::new(c.cla, c.ins, c.p1, c.p2).with_data(c.data) {
                    let enc = cmd.with_le(le).encode().unwrap();
                    let back = ParsedCommand::parse(enc.as_slice()).unwrap();
                    proptest::prop_assert_eq!((back.data, back.le), (c.data, c.le));
                }
            }
        }

        #[test]
        fn certificate_header_and_parser_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = crate::jpki::der_total_len(&bytes);
            let _ = crate::cert::JpkiCertificate::from_der(&bytes);
        }
    }

    #[test]
    fn response_without_status_word_is_an_error() {
        assert_eq!(Response::parse(&[]).unwrap_err(), ApduError::MissingStatusWord);
        assert_eq!(Response::parse(&[0x90]).unwrap_err(), ApduError::MissingStatusWord);
        let r = Response::parse(&[1, 2, 0x90, 0x00]).unwrap();
        assert_eq!((r.data, r.status), (&[1u8, 2][..], StatusWord::Success));
        // Data whose status word was dropped: the last two data bytes are no status word.
        for tail in [[0x20, 0x20], [0x30, 0x82], [0x60, 0x00], [0x00, 0x00], [0xA0, 0x00]] {
            assert_eq!(Response::parse(&[b'J', tail[0], tail[1]]).unwrap_err(), ApduError::MissingStatusWord);
        }
        assert_eq!(Response::parse(&[0x61, 0x10]).unwrap().status, StatusWord::Other(0x6110));
        assert_eq!(Response::parse(&[0x9F, 0x00]).unwrap().status, StatusWord::Other(0x9F00));
    }
}
