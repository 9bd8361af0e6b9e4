//! Values that must never be logged, displayed, or left in memory after use.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Digits typed on a keypad (the card PIN's, the staff PIN's): a fixed-capacity buffer,
/// never reallocated, in which every byte that is not a live digit is zero. Digits past
/// `N` are ignored, as on a cash machine; the buffer is wiped on drop, and `Debug` shows
/// only how many digits are typed.
#[derive(Default)]
pub struct SecretDigits<const N: usize>(heapless::Vec<u8, N>);

impl<const N: usize> SecretDigits<N> {
    /// An empty buffer.
    #[must_use]
    pub const fn new() -> Self {
        SecretDigits(heapless::Vec::new())
    }

    /// How many digits are typed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends an ASCII digit; ignored when full.
    pub fn push(&mut self, ascii: u8) {
        let _full = self.0.push(ascii);
    }

    /// Removes the last digit, zeroing its byte first.
    pub fn pop(&mut self) {
        if let Some(last) = self.0.last_mut() {
            last.zeroize();
        }
        self.0.pop();
    }

    /// Zeroes every digit and empties the buffer.
    pub fn wipe(&mut self) {
        self.0.iter_mut().for_each(Zeroize::zeroize);
        self.0.clear();
    }

    /// The ASCII digits, for the card's VERIFY or the hash check. Copy them only into a
    /// zeroizing buffer.
    #[must_use]
    pub fn as_ascii(&self) -> &[u8] {
        &self.0
    }

    /// When an entry whose last key was at `last_key` is cleared for want of keys
    /// (`None`: nothing typed).
    #[must_use]
    pub fn idle_deadline(
        &self,
        last_key: super::Millis,
        idle: core::time::Duration,
    ) -> Option<super::Millis> {
        (!self.is_empty()).then(|| last_key.after(idle))
    }

    /// Wipes the entry if no key came for `idle` since `last_key` (a pad's idle timeout).
    pub fn wipe_if_idle(&mut self, now: super::Millis, last_key: super::Millis, idle: core::time::Duration) {
        if self.idle_deadline(last_key, idle).is_some_and(|at| now >= at) {
            self.wipe();
        }
    }

    /// Copies the digits out into a new buffer and wipes this one (a plain move would
    /// leave the bytes behind in this buffer's memory, past its length).
    #[must_use]
    pub fn take(&mut self) -> Self {
        let mut out = Self::new();
        for &b in self.0.iter() {
            out.push(b);
        }
        self.wipe();
        out
    }
}

impl<const N: usize> Drop for SecretDigits<N> {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl<const N: usize> PartialEq for SecretDigits<N> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<const N: usize> Eq for SecretDigits<N> {}

impl<const N: usize> fmt::Debug for SecretDigits<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretDigits({} typed)", self.0.len())
    }
}

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
