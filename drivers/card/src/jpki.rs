//! The JPKI user-authentication operations (read the certificate, query the PIN tries,
//! VERIFY the PIN, sign), over any [`Transport`].
//!
//! The only application this driver ever selects is the JPKI AP ([`JPKI_AID`]); the APs
//! that hold the My Number itself are not even named in this crate. It never retries a
//! VERIFY and never sends one that the caller did not ask for.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::apdu::{Command, Ins, Le, MAX_EXTENDED_LE, MAX_SHORT_LE, ResponseBuf, StatusWord};
use crate::error::CardError;
use crate::transport::{Channel, Transport};

/// DF name of the JPKI AP (公的個人認証AP).
pub const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// EF: token information; the first 32 bytes are the label.
pub const EF_TOKEN_INFO: u16 = 0x0006;
/// EF: user-authentication certificate (free to read).
pub const EF_AUTH_CERT: u16 = 0x000A;
/// EF: user-authentication private key.
pub const EF_AUTH_KEY: u16 = 0x0017;
/// EF: user-authentication PIN (4 digits, 3 tries).
pub const EF_AUTH_PIN: u16 = 0x0018;
/// The label of a My Number card's JPKI token.
pub const MY_NUMBER_CARD_LABEL: &str = "JPKIAPICCTOKEN2";
/// The DER prefix of a SHA-256 DigestInfo (the card pads it with PKCS#1 v1.5 type 1).
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0x04, 0x20,
];
/// Largest certificate the driver accepts; real ones are about 1–1.5 KiB.
pub const MAX_CERTIFICATE_LEN: usize = 8 * 1024;
/// Length of an RSA-2048 signature.
pub const SIGNATURE_LEN: usize = 256;

/// How to read the certificate file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// One extended-length READ BINARY when the reader supports it, 256-byte chunks
    /// otherwise.
    #[default]
    Auto,
    /// Always 256-byte chunks (the most compatible choice).
    ShortChunks,
}

/// The remaining tries of the user-authentication PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinStatus {
    /// This many tries are left (1..=15; 3 on a fresh card).
    TriesLeft(u8),
    /// Blocked: only the municipal office can reset it. Nothing more may be sent.
    Blocked,
    /// Already verified in this card session (some cards answer `90 00`).
    Verified,
}

/// The card's answer to a VERIFY with the patron's PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    Verified,
    Wrong {
        tries_left: u8,
    },
    /// Blocked, by this attempt (`63 C0`) or before it (`69 84`).
    Blocked,
}

/// APDU traffic counted by the driver (for benchmarks and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub apdus: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// The JPKI AP of one inserted card.
#[derive(Debug)]
pub struct Jpki<T: Transport> {
    transport: T,
    mode: ReadMode,
    ap_selected: bool,
    current_ef: Option<u16>,
    pin_verified: bool,
    extended_failed: bool,
    traffic: Traffic,
    response: Box<ResponseBuf>,
}

impl<T: Transport> Jpki<T> {
    pub fn new(transport: T, mode: ReadMode) -> Self {
        Jpki {
            transport,
            mode,
            ap_selected: false,
            current_ef: None,
            pin_verified: false,
            extended_failed: false,
            traffic: Traffic::default(),
            response: Box::default(),
        }
    }

    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Selects the JPKI AP. A card without it is [`CardError::NotJpki`].
    pub fn select_ap(&mut self) -> Result<(), CardError> {
        self.forget_selection();
        let mut state = Session::new(self)?;
        state.select_ap()
    }

    /// Reads the token label (EF `0006`, first 32 bytes, padding trimmed).
    /// `JPKIAPICCTOKEN2` is a My Number card.
    pub fn token_label(&mut self) -> Result<String, CardError> {
        let mut s = Session::new(self)?;
        s.ensure_ap()?;
        s.select_ef(EF_TOKEN_INFO)?;
        let data = s.read(0, 32, "READ BINARY (token label)")?;
        let label = String::from_utf8_lossy(&data);
        Ok(label.trim_end_matches(['\0', ' ']).to_owned())
    }

    /// Reads the user-authentication certificate (DER) with the fewest APDUs: one
    /// extended READ BINARY when the reader allows it, otherwise a 256-byte first read
    /// (that also holds the DER header) and 256-byte chunks for the rest. The length
    /// comes from the DER header; filler after the certificate is ignored.
    pub fn read_auth_certificate(&mut self) -> Result<Vec<u8>, CardError> {
        let extended =
            self.mode == ReadMode::Auto && !self.extended_failed && self.transport.extended_length();
        let mut s = Session::new(self)?;
        s.ensure_ap()?;
        s.select_ef(EF_AUTH_CERT)?;
        let mut cert = if extended {
            match s.read(0, MAX_EXTENDED_LE, "READ BINARY (certificate)") {
                Err(
                    CardError::Reader(_)
                    | CardError::UnexpectedStatus {
                        status:
                            StatusWord::WrongLength
                            | StatusWord::WrongLe { .. }
                            | StatusWord::IncorrectP1P2
                            | StatusWord::InsNotSupported,
                        ..
                    },
                ) => {
                    // The reader or card refused extended length: short reads from now on.
                    s.jpki.extended_failed = true;
                    s.jpki.current_ef = None;
                    s.select_ef(EF_AUTH_CERT)?;
                    s.read(0, MAX_SHORT_LE, "READ BINARY (certificate)")?
                }
                other => other?,
            }
        } else {
            s.read(0, MAX_SHORT_LE, "READ BINARY (certificate)")?
        };
        let total = der_total_len(&cert)?;
        if total > MAX_CERTIFICATE_LEN {
            return Err(CardError::CertificateTooLarge { declared: total, max: MAX_CERTIFICATE_LEN });
        }
        while cert.len() < total {
            let offset = cert.len();
            if offset > 0x7FFF {
                return Err(CardError::CertificateLengthMismatch { declared: total, available: offset });
            }
            let want = (total - offset).min(MAX_SHORT_LE);
            match s.read(offset as u16, want, "READ BINARY (certificate)") {
                Ok(chunk) if chunk.is_empty() => {
                    return Err(CardError::CertificateLengthMismatch { declared: total, available: offset });
                }
                Ok(chunk) => cert.extend_from_slice(&chunk),
                Err(CardError::UnexpectedStatus { status: StatusWord::EndOfFile, .. }) => {
                    return Err(CardError::CertificateLengthMismatch { declared: total, available: offset });
                }
                Err(e) => return Err(e),
            }
        }
        cert.truncate(total);
        Ok(cert)
    }

    /// The remaining tries of the user-authentication PIN, asked with an empty VERIFY
    /// (`00 20 00 80`, no data), which does not spend a try. Takes the card exclusively.
    pub fn pin_tries(&mut self) -> Result<PinStatus, CardError> {
        self.transport.hold_exclusive()?;
        let mut s = Session::new(self)?;
        s.ensure_ap()?;
        s.select_ef(EF_AUTH_PIN)?;
        let status = s.send(&Ins::Verify.command(0x00, 0x80), 0, "VERIFY (tries query)")?.1;
        match status {
            StatusWord::WrongPin { tries_left: 0 } | StatusWord::Blocked => Ok(PinStatus::Blocked),
            StatusWord::WrongPin { tries_left } => Ok(PinStatus::TriesLeft(tries_left)),
            StatusWord::Success => Ok(PinStatus::Verified),
            status => Err(CardError::UnexpectedStatus { command: "VERIFY (tries query)", status }),
        }
    }

    /// Verifies the 4-digit user-authentication PIN (ASCII digits). Sends exactly one
    /// VERIFY, never retries it; a PIN that is not 4 digits is refused before anything
    /// is sent. Takes the card exclusively first.
    pub fn verify_pin(&mut self, pin: &[u8]) -> Result<PinOutcome, CardError> {
        if pin.len() != 4 || !pin.iter().all(u8::is_ascii_digit) {
            return Err(CardError::InvalidPinFormat);
        }
        self.transport.hold_exclusive()?;
        let mut s = Session::new(self)?;
        s.ensure_ap()?;
        s.select_ef(EF_AUTH_PIN)?;
        let cmd = Ins::Verify.command(0x00, 0x80).with_data(pin)?;
        let status = s.send(&cmd, 0, "VERIFY")?.1;
        drop(cmd);
        let outcome = match status {
            StatusWord::Success => PinOutcome::Verified,
            StatusWord::WrongPin { tries_left: 0 } | StatusWord::Blocked => PinOutcome::Blocked,
            StatusWord::WrongPin { tries_left } => PinOutcome::Wrong { tries_left },
            status => return Err(CardError::UnexpectedStatus { command: "VERIFY", status }),
        };
        s.jpki.pin_verified = outcome == PinOutcome::Verified;
        Ok(outcome)
    }

    /// Signs a SHA-256 digest with the user-authentication key: the card receives the
    /// DER DigestInfo (`80 2A 00 80`), pads it (PKCS#1 v1.5) and returns 256 bytes.
    /// Needs a verified PIN in this card session.
    pub fn sign_sha256(&mut self, digest: &[u8; 32]) -> Result<Vec<u8>, CardError> {
        let mut digest_info = [0u8; 51];
        digest_info[..19].copy_from_slice(&SHA256_DIGEST_INFO_PREFIX);
        digest_info[19..].copy_from_slice(digest);
        let mut s = Session::new(self)?;
        s.ensure_ap()?;
        s.select_ef(EF_AUTH_KEY)?;
        let cmd = Ins::ComputeSignature.command(0x00, 0x80).with_data(&digest_info)?.with_le(Le::Max(256));
        let (signature, status) = s.send(&cmd, SIGNATURE_LEN, "COMPUTE DIGITAL SIGNATURE")?;
        match status {
            StatusWord::Success if signature.len() == SIGNATURE_LEN => Ok(signature),
            StatusWord::Success => Err(CardError::BadSignatureLength(signature.len())),
            StatusWord::SecurityStatusNotSatisfied => Err(CardError::PinNotVerified),
            status => Err(CardError::UnexpectedStatus { command: "COMPUTE DIGITAL SIGNATURE", status }),
        }
    }

    /// Signs SHA-256(`message`): see [`Jpki::sign_sha256`].
    pub fn sign_message(&mut self, message: &[u8]) -> Result<Vec<u8>, CardError> {
        let digest: [u8; 32] = Sha256::digest(message).into();
        self.sign_sha256(&digest)
    }

    /// Powers the card off and on: the verified PIN is gone. Ends every session.
    pub fn power_off(&mut self) -> Result<(), CardError> {
        self.forget_selection();
        self.pin_verified = false;
        self.transport.unpower()
    }

    /// Whether a VERIFY succeeded in this card session (as far as the driver knows).
    pub fn pin_verified(&self) -> bool {
        self.pin_verified
    }

    fn forget_selection(&mut self) {
        self.ap_selected = false;
        self.current_ef = None;
    }
}

/// The size of the DER object at the start of `bytes` (header + content).
pub fn der_total_len(bytes: &[u8]) -> Result<usize, CardError> {
    match bytes {
        [0x30, 0x82, hi, lo, ..] => Ok(4 + usize::from(u16::from_be_bytes([*hi, *lo]))),
        [0x30, 0x81, n, ..] => Ok(3 + usize::from(*n)),
        [0x30, 0x83, a, b, c, ..] => Ok(5 + (usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c))),
        [0x30, n, ..] if *n < 0x80 => Ok(2 + usize::from(*n)),
        _ => Err(CardError::CertificateNotDer),
    }
}

/// One transaction's worth of APDUs. Any error forgets the selection state, so the next
/// operation selects again instead of trusting a card that misbehaved.
struct Session<'j, T: Transport> {
    jpki: &'j mut Jpki<T>,
    ok: bool,
}

impl<'j, T: Transport> Session<'j, T> {
    fn new(jpki: &'j mut Jpki<T>) -> Result<Self, CardError> {
        Ok(Session { jpki, ok: false })
    }

    fn ensure_ap(&mut self) -> Result<(), CardError> {
        if self.jpki.ap_selected { Ok(()) } else { self.select_ap() }
    }

    fn select_ap(&mut self) -> Result<(), CardError> {
        let cmd = Ins::Select.command(0x04, 0x0C).with_data(&JPKI_AID)?;
        let mut status = self.send(&cmd, 0, "SELECT JPKI AP")?.1;
        if status == StatusWord::NoPreciseDiagnosis {
            // Some cards answer 6F00 to the first command after power-on.
            status = self.send(&cmd, 0, "SELECT JPKI AP")?.1;
        }
        match status {
            StatusWord::Success => {
                self.jpki.ap_selected = true;
                self.jpki.current_ef = None;
                self.ok = true;
                Ok(())
            }
            StatusWord::FileNotFound | StatusWord::IncorrectP1P2 | StatusWord::InsNotSupported => {
                Err(CardError::NotJpki)
            }
            StatusWord::NoPreciseDiagnosis => Err(CardError::CardFailure(status)),
            status => Err(CardError::UnexpectedStatus { command: "SELECT JPKI AP", status }),
        }
    }

    fn select_ef(&mut self, fid: u16) -> Result<(), CardError> {
        if self.jpki.current_ef == Some(fid) {
            return Ok(());
        }
        self.jpki.current_ef = None;
        let cmd = Ins::Select.command(0x02, 0x0C).with_data(&fid.to_be_bytes())?;
        match self.send(&cmd, 0, "SELECT EF")?.1 {
            StatusWord::Success => {
                self.jpki.current_ef = Some(fid);
                self.ok = true;
                Ok(())
            }
            StatusWord::FileNotFound => Err(CardError::NotJpki),
            status => Err(CardError::UnexpectedStatus { command: "SELECT EF", status }),
        }
    }

    /// READ BINARY of up to `len` bytes at `offset` (15-bit) of the current EF.
    fn read(&mut self, offset: u16, len: usize, what: &'static str) -> Result<Vec<u8>, CardError> {
        let [p1, p2] = offset.to_be_bytes();
        let cmd = Ins::ReadBinary.command(p1 & 0x7F, p2).with_le(Le::Max(len as u32));
        let (data, status) = self.send(&cmd, len, what)?;
        if status.is_ok() {
            self.ok = true;
            Ok(data)
        } else {
            Err(CardError::UnexpectedStatus { command: what, status })
        }
    }

    /// Sends one APDU in its own transaction; returns the data and the status word.
    fn send(
        &mut self,
        cmd: &Command,
        max_data: usize,
        what: &'static str,
    ) -> Result<(Vec<u8>, StatusWord), CardError> {
        self.ok = false;
        let encoded = cmd.encode()?;
        let jpki = &mut *self.jpki;
        let response = &mut *jpki.response;
        response.clear();
        {
            let mut tx = jpki.transport.transaction()?;
            tx.transmit(encoded.as_slice(), response)?;
        }
        jpki.traffic.apdus += 1;
        jpki.traffic.bytes_sent += encoded.len() as u64;
        jpki.traffic.bytes_received += response.len() as u64;
        let parsed = crate::apdu::Response::parse(response)?;
        if parsed.data.len() > max_data {
            return Err(CardError::ResponseTooLong {
                command: what,
                asked: max_data,
                got: parsed.data.len(),
            });
        }
        let out = (parsed.data.to_vec(), parsed.status);
        self.ok = true;
        // A response can echo nothing secret, but the command buffer held the PIN for
        // VERIFY: `encoded` is zeroized on drop here.
        drop(encoded);
        Ok(out)
    }
}

impl<T: Transport> Drop for Session<'_, T> {
    fn drop(&mut self) {
        if !self.ok {
            self.jpki.forget_selection();
        }
    }
}

/// A PIN held only as long as needed, zeroized afterwards (for callers that build one
/// from keypad digits).
pub type PinBytes = Zeroizing<[u8; 4]>;
