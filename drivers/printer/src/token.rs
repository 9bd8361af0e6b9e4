//! The signed same-day token in a Method D label's QR code.
//!
//! `MD1*<key id>*<yyyymmdd>*<kiosk id>*<mac>*<patron number>`
//!
//! - the MAC is HMAC-SHA256 with the fleet key over every other field (the text
//!   `MD1*kid*date*kiosk*patron`), truncated to 128 bits and written in base32 (26
//!   characters): plenty against forgery of a label that is valid for one day;
//! - the key id is derived from the key itself, so a kiosk that does not hold the key
//!   says "unknown key" rather than "forged";
//! - the patron number comes last so it may contain any character;
//! - with upper-case ids the whole token stays in the QR alphanumeric set, so a typical
//!   token (about 60 characters) fits a version 3 QR code at level M.

use core::fmt;

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const PREFIX: &str = "MD1";
const SEP: char = '*';
const MAC_BYTES: usize = 16;

/// A calendar day (local date of the kiosk).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LabelDate {
    year: u16,
    month: u8,
    day: u8,
}

impl LabelDate {
    /// A valid Gregorian date, or `None`.
    #[must_use]
    pub fn new(year: u16, month: u8, day: u8) -> Option<LabelDate> {
        let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1000..=9999).contains(&year).then_some(())?;
        (1..=days).contains(&day).then_some(LabelDate { year, month, day })
    }

    fn parse(s: &str) -> Option<LabelDate> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        LabelDate::new(s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..].parse().ok()?)
    }

    #[must_use]
    pub fn year(self) -> u16 {
        self.year
    }
    #[must_use]
    pub fn month(self) -> u8 {
        self.month
    }
    #[must_use]
    pub fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for LabelDate {
    /// `yyyymmdd`, as in the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

/// A fleet key for Method D tokens. Wiped on drop; `Debug` shows only its id.
pub struct TokenKey {
    id: String,
    key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey({})", self.id)
    }
}

impl TokenKey {
    /// Minimum key length in bytes.
    pub const MIN_LEN: usize = 32;

    /// A key from its bytes (the key file's contents).
    ///
    /// # Errors
    /// Keys shorter than [`TokenKey::MIN_LEN`].
    pub fn new(bytes: &[u8]) -> Result<TokenKey, KeyTooShort> {
        if bytes.len() < Self::MIN_LEN {
            return Err(KeyTooShort { len: bytes.len() });
        }
        let digest = Sha256::new().chain_update(b"kiosk method-d key id\0").chain_update(bytes).finalize();
        let id = BASE32_NOPAD.encode(&digest[..5])[..4].to_owned();
        Ok(TokenKey { id, key: Zeroizing::new(bytes.to_vec()) })
    }

    /// The key's public id (4 characters).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(signed.as_bytes());
        mac
    }
}

/// A key file shorter than 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Method D token key is {len} bytes; it must be at least 32 random bytes")]
pub struct KeyTooShort {
    pub len: usize,
}

/// Why a scanned label is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("this is not a Method D label token")]
    Malformed,
    #[error("this label was signed with a key this kiosk does not have (another library's label?)")]
    UnknownKey,
    #[error("this label's signature does not match: it was altered or forged")]
    BadSignature,
    #[error("this label was printed on {printed} and is valid on that day only")]
    WrongDay { printed: LabelDate },
}

/// What a valid label says.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedLabel {
    /// The patron number (personal data: hand it to the library system only).
    pub patron: Zeroizing<String>,
    pub kiosk: String,
    pub date: LabelDate,
}

impl fmt::Debug for VerifiedLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifiedLabel(<patron>, {}, {})", self.kiosk, self.date)
    }
}

fn signed_text(kid: &str, date: LabelDate, kiosk: &str, patron: &str) -> String {
    format!("{PREFIX}{SEP}{kid}{SEP}{date}{SEP}{kiosk}{SEP}{patron}")
}

/// Makes the token for a label printed today.
///
/// # Errors
/// A kiosk id containing the separator `*` (the config only allows `[A-Za-z0-9_-]`).
pub fn sign(
    patron: &str,
    today: LabelDate,
    kiosk: &str,
    key: &TokenKey,
) -> Result<Zeroizing<String>, TokenRefusal> {
    if kiosk.contains(SEP) || kiosk.is_empty() || patron.is_empty() {
        return Err(TokenRefusal::Malformed);
    }
    let tag = key.mac(&signed_text(key.id(), today, kiosk, patron)).finalize().into_bytes();
    let mac = BASE32_NOPAD.encode(&tag[..MAC_BYTES]);
    Ok(Zeroizing::new(format!("{PREFIX}{SEP}{}{SEP}{today}{SEP}{kiosk}{SEP}{mac}{SEP}{patron}", key.id())))
}

/// Checks a scanned token: a known key, a valid signature, and printed today.
///
/// # Errors
/// The [`TokenRefusal`] that says why.
pub fn verify(token: &str, today: LabelDate, keys: &[TokenKey]) -> Result<VerifiedLabel, TokenRefusal> {
    let mut fields = token.trim_end_matches(['\r', '\n']).splitn(6, SEP);
    let mut next = || fields.next().ok_or(TokenRefusal::Malformed);
    let (prefix, kid, date, kiosk, mac, patron) = (next()?, next()?, next()?, next()?, next()?, next()?);
    if prefix != PREFIX || patron.is_empty() || kiosk.is_empty() {
        return Err(TokenRefusal::Malformed);
    }
    let date = LabelDate::parse(date).ok_or(TokenRefusal::Malformed)?;
    let tag = BASE32_NOPAD.decode(mac.as_bytes()).map_err(|_| TokenRefusal::Malformed)?;
    if tag.len() != MAC_BYTES {
        return Err(TokenRefusal::Malformed);
    }
    let key = keys.iter().find(|k| k.id() == kid).ok_or(TokenRefusal::UnknownKey)?;
    key.mac(&signed_text(kid, date, kiosk, patron))
        .verify_truncated_left(&tag)
        .map_err(|_| TokenRefusal::BadSignature)?;
    if date != today {
        return Err(TokenRefusal::WrongDay { printed: date });
    }
    Ok(VerifiedLabel { patron: Zeroizing::new(patron.to_owned()), kiosk: kiosk.to_owned(), date })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> TokenKey {
        TokenKey::new(&[b; 32]).unwrap()
    }

    fn day(d: u8) -> LabelDate {
        LabelDate::new(2026, 11, d).unwrap()
    }

    #[test]
    fn round_trip_today() {
        let k = key(7);
        let t = sign("2300012345678", day(23), "KIOSK-01", &k).unwrap();
        assert!(t.len() < 70, "{} chars", t.len());
        let v = verify(&t, day(23), &[k]).unwrap();
        assert_eq!(v.patron.as_str(), "2300012345678");
        assert_eq!(v.kiosk, "KIOSK-01");
    }

    #[test]
    fn yesterday_is_refused() {
        let k = key(7);
        let t = sign("2300012345678", day(22), "KIOSK-01", &k).unwrap();
        assert_eq!(verify(&t, day(23), &[k]), Err(TokenRefusal::WrongDay { printed: day(22) }));
    }

    #[test]
    fn tampering_is_refused() {
        let k = key(7);
        let t = sign("2300012345678", day(23), "KIOSK-01", &k).unwrap();
        let forged = t.replace("2300012345678", "2300012345679");
        assert_eq!(verify(&forged, day(23), &[key(7)]), Err(TokenRefusal::BadSignature));
        let moved = t.replace("20261123", "20261124");
        assert_eq!(
            verify(&moved, LabelDate::new(2026, 11, 24).unwrap(), &[key(7)]),
            Err(TokenRefusal::BadSignature)
        );
    }

    #[test]
    fn other_fleet_key_is_unknown() {
        let t = sign("2300012345678", day(23), "KIOSK-01", &key(7)).unwrap();
        assert_eq!(verify(&t, day(23), &[key(8)]), Err(TokenRefusal::UnknownKey));
        // Key rotation: the old key still verifies while it is in the ring.
        assert!(verify(&t, day(23), &[key(8), key(7)]).is_ok());
    }

    #[test]
    fn malformed_tokens() {
        for bad in [
            "",
            "hello",
            "MD1*AAAA*20261123*K*ZZZZ*1",
            "MD1*AAAA*20261340*K*AAAAAAAAAAAAAAAAAAAAAAAAAA*1",
            "MD2*a*b*c*d*e",
        ] {
            assert_eq!(verify(bad, day(23), &[key(7)]), Err(TokenRefusal::Malformed), "{bad}");
        }
        assert!(TokenKey::new(&[1; 31]).is_err());
        assert!(LabelDate::new(2026, 2, 29).is_none());
        assert!(LabelDate::new(2028, 2, 29).is_some());
    }
}
