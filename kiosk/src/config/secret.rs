//! Secrets from the configuration file: never displayed, never logged, wiped on drop.

use std::fmt;
use std::io::Read as _;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

/// A password or other secret string from the configuration file.
///
/// `Debug` prints `<redacted>`; there is no `Display`. The memory is zeroed when the
/// value is dropped. Equality is constant-time.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub(super) fn new(value: String) -> Secret {
        Secret(Zeroizing::new(value))
    }

    /// The secret in clear, for the one driver that sends it. Never log or display it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

/// The staff PIN as an argon2id PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`),
/// checked at load to parse and to use parameters at least as strong as OWASP's minimum.
///
/// Treated as a secret (an offline guesser could try all short PINs against it):
/// `Debug` prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffPinHash(Secret);

impl StaffPinHash {
    /// For [`super::Config::demo`]: a literal known to be valid (checked by a test).
    pub(super) fn demo(phc: &str) -> StaffPinHash {
        StaffPinHash(Secret::new(phc.to_owned()))
    }

    /// Checks the PHC string; the error is `(what is wrong, the fix)` and never
    /// contains the string itself.
    pub(super) fn parse(phc: Secret) -> Result<StaffPinHash, (String, String)> {
        const FIX: &str = "generate one with `kiosk hash-staff-pin` and paste the whole line";
        let parsed = PasswordHash::new(phc.expose()).map_err(|_| {
            (
                "is not an argon2 PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)".to_owned(),
                FIX.to_owned(),
            )
        })?;
        if parsed.algorithm != Algorithm::Argon2id.ident() {
            return Err((format!("uses `{}`; only argon2id is accepted", parsed.algorithm), FIX.to_owned()));
        }
        let params = Params::try_from(&parsed)
            .map_err(|_| ("has invalid argon2 parameters".to_owned(), FIX.to_owned()))?;
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(("has no salt or no hash part".to_owned(), FIX.to_owned()));
        }
        let (m, t) = (params.m_cost(), params.t_cost());
        if !strong_enough(m, t) {
            return Err((
                format!("argon2 parameters m={m} KiB, t={t} are too weak (need m >= 7168 and m*t >= 35840)"),
                FIX.to_owned(),
            ));
        }
        Ok(StaffPinHash(phc))
    }

    /// Whether `pin` is the staff PIN. Takes about as long as one argon2 hash with the
    /// stored parameters (tens of milliseconds on the board).
    #[must_use]
    pub fn verify(&self, pin: &[u8]) -> bool {
        match PasswordHash::new(self.0.expose()) {
            Ok(hash) => Argon2::default().verify_password(pin, &hash).is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string, for a driver that verifies elsewhere. Never log or display it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for StaffPinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// OWASP's argon2id minimums: m=19 MiB t=2, or m=12 MiB t=3, m=9 MiB t=4, m=7 MiB t=5.
fn strong_enough(m_kib: u32, t: u32) -> bool {
    m_kib >= 7 * 1024 && u64::from(m_kib) * u64::from(t) >= 7 * 1024 * 5
}

/// Why [`hash_staff_pin`] made no hash.
#[derive(Debug, thiserror::Error)]
pub enum HashPinError {
    /// The PIN is not 4 to 12 ASCII digits.
    #[error("a staff PIN is 4 to 12 digits (0-9)")]
    NotDigits,
    /// No random salt could be read from the operating system.
    #[error("cannot read random bytes for the salt from /dev/urandom: {0}")]
    Random(#[source] std::io::Error),
    /// argon2 itself failed (it does not, with the default parameters).
    #[error("argon2 failed: {0}")]
    Argon2(argon2::password_hash::Error),
}

/// Hashes a staff PIN (4 to 12 ASCII digits, surrounding whitespace such as the newline
/// from `echo` ignored) into the PHC string that `admin.staff_pin_hash` takes, with
/// argon2id and its default parameters (m=19 MiB, t=2, p=1) and a random salt.
///
/// `kiosk hash-staff-pin` reads the PIN from standard input and prints this.
pub fn hash_staff_pin(pin: &[u8]) -> Result<String, HashPinError> {
    let mut salt = Zeroizing::new([0u8; 16]);
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt[..]))
        .map_err(HashPinError::Random)?;
    hash_with(pin, &salt[..], Params::default())
}

/// [`hash_staff_pin`] with a given salt and parameters (tests use cheap parameters).
pub(super) fn hash_with(pin: &[u8], salt: &[u8], params: Params) -> Result<String, HashPinError> {
    let pin = pin.trim_ascii();
    if !(4..=12).contains(&pin.len()) || !pin.iter().all(u8::is_ascii_digit) {
        return Err(HashPinError::NotDigits);
    }
    let salt = SaltString::encode_b64(salt).map_err(HashPinError::Argon2)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    argon.hash_password(pin, &salt).map(|hash| hash.to_string()).map_err(HashPinError::Argon2)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn cheap() -> Params {
        Params::new(8, 1, 1, None).unwrap()
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2-very-distinct".to_owned());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(s.expose(), "hunter2-very-distinct");
        assert_eq!(s, s.clone());
        assert_ne!(s, Secret::new("other".to_owned()));
    }

    #[test]
    fn weak_hashes_are_refused_and_strong_ones_accepted() {
        let weak = hash_with(b"1234", b"saltsaltsaltsalt", cheap()).unwrap();
        let (what, fix) = StaffPinHash::parse(Secret::new(weak.clone())).unwrap_err();
        assert!(what.contains("too weak"), "{what}");
        assert!(fix.contains("kiosk hash-staff-pin"));
        assert!(!what.contains(&weak) && !fix.contains(&weak));
        assert!(strong_enough(19 * 1024, 2));
        assert!(strong_enough(7 * 1024, 5));
        assert!(!strong_enough(7 * 1024, 4));
        assert!(!strong_enough(4 * 1024, 100));
    }

    #[test]
    fn verify_checks_the_pin() {
        // Cheap parameters (this test is about verify, not about the strength rule).
        let hash = StaffPinHash(Secret::new(hash_with(b"2468\n", b"0123456789abcdef", cheap()).unwrap()));
        assert!(hash.verify(b"2468"));
        assert!(!hash.verify(b"2469"));
        assert_eq!(format!("{hash:?}"), "<redacted>");
    }

    #[test]
    fn only_digits_are_hashed() {
        for bad in [&b"123"[..], b"12a4", b"1234567890123", b""] {
            assert!(matches!(hash_with(bad, b"0123456789abcdef", cheap()), Err(HashPinError::NotDigits)));
        }
    }

    #[test]
    fn garbage_and_other_algorithms_are_refused() {
        assert!(StaffPinHash::parse(Secret::new("0000".to_owned())).is_err());
        assert!(StaffPinHash::parse(Secret::new("$2b$12$abcdefghijklmnopqrstuv".to_owned())).is_err());
        let argon2i =
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let (what, _) = StaffPinHash::parse(Secret::new(argon2i.to_owned())).unwrap_err();
        assert!(what.contains("argon2id"), "{what}");
    }
}
