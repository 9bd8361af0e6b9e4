//! Values that must never be logged, displayed, or left in memory after use.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The patron's 4-digit JPKI user-authentication PIN, as the ASCII digits the card
/// expects.
///
/// Not `Clone`: there is exactly one copy, moved from the pad to the card driver, and it
/// is wiped when dropped. `Debug` never shows the digits.
#[derive(PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Pin([u8; super::PIN_LEN]);

impl Pin {
    /// Builds a PIN from exactly four ASCII digits; anything else is `None`.
    #[must_use]
    pub fn from_ascii(digits: [u8; super::PIN_LEN]) -> Option<Pin> {
        digits.iter().all(u8::is_ascii_digit).then_some(Pin(digits))
    }

    /// The ASCII digits, for the VERIFY command data. Copy them only into a zeroizing buffer.
    #[must_use]
    pub fn as_ascii(&self) -> &[u8; super::PIN_LEN] {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// The library's patron identifier (the library-card barcode number).
///
/// Personal data: it goes to the library system (SIP2) and onto a Method D label, and
/// nowhere else. `Debug` and `Display` print only a redacted form; the value is wiped
/// when the session ends.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PatronId(String);

impl PatronId {
    /// Wraps a patron barcode. Empty strings are refused.
    #[must_use]
    pub fn new(barcode: impl Into<String>) -> Option<PatronId> {
        let barcode = barcode.into();
        (!barcode.trim().is_empty()).then_some(PatronId(barcode))
    }

    /// The barcode in clear, for the library-system driver and the label printer only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PatronId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatronId(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_accepts_only_four_ascii_digits() {
        assert!(Pin::from_ascii(*b"0123").is_some());
        assert!(Pin::from_ascii(*b"12a4").is_none());
        assert!(Pin::from_ascii([0, 1, 2, 3]).is_none());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let pin = Pin::from_ascii(*b"9876");
        let shown = format!("{pin:?}");
        assert!(!shown.contains("9876"), "{shown}");
        let patron = PatronId::new("2300012345678");
        let shown = format!("{patron:?}");
        assert!(!shown.contains("2300012345678"), "{shown}");
    }

    #[test]
    fn zeroize_wipes_the_pin() {
        let mut pin = Pin::from_ascii(*b"4321").into_iter().next();
        if let Some(p) = pin.as_mut() {
            p.zeroize();
            assert_eq!(p.as_ascii(), &[0; 4]);
        } else {
            panic!("valid PIN refused");
        }
        assert!(PatronId::new("  ").is_none());
    }
}
