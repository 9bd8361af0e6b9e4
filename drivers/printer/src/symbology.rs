//! Patron barcodes as the library's scanners expect them: NW-7 (Codabar) with the
//! library's start/stop characters and check-digit scheme, or CODE128, drawn by us as a
//! raster image.
//!
//! Codabar is encoded from our own table (ZXing's `CHARACTER_ENCODINGS`, which zbar
//! agrees with): the `barcoders` crate swaps the B and C patterns, a bug found in many
//! libraries. CODE128 comes from `barcoders`, whose CODE128 output is correct; both are
//! checked end to end by decoding the printed image with `zbarimg`.

use crate::bitmap::Bitmap;
use crate::error::LabelError;

/// The Codabar alphabet, in the order of [`CODABAR_PATTERNS`] and of the mod 16 values.
const CODABAR_ALPHABET: &[u8; 20] = b"0123456789-$:/.+ABCD";

/// Seven elements per character (bar, space, bar, space, bar, space, bar), most
/// significant bit first; 1 = wide.
const CODABAR_PATTERNS: [u8; 20] = [
    0x03, 0x06, 0x09, 0x60, 0x12, 0x42, 0x21, 0x24, 0x30, 0x48, // 0-9
    0x0c, 0x18, 0x45, 0x51, 0x54, 0x15, 0x1a, 0x29, 0x0b, 0x0e, // - $ : / . + A B C D
];

/// NW-7 start or stop character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    A,
    B,
    C,
    D,
}

impl Guard {
    #[must_use]
    pub fn as_byte(self) -> u8 {
        match self {
            Guard::A => b'A',
            Guard::B => b'B',
            Guard::C => b'C',
            Guard::D => b'D',
        }
    }
}

/// How the last character of a patron number checks the rest.
///
/// The kiosk never invents a check digit: the library system issued the number with it,
/// and a label whose digit does not match would be refused by the library's scanners, so
/// it is refused here first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckDigit {
    None,
    /// Modulus 10, weights 2-1 from the right, digits of the products summed (Luhn).
    Mod10W21,
    /// Modulus 11, weights 2, 3, 4, 5, 6, 7 repeating from the right; 11 - remainder,
    /// where 10 and 11 both give 0.
    Mod11,
    /// Codabar modulus 16 over all characters including start and stop; the check
    /// character is the one whose value makes the sum a multiple of 16.
    Mod16,
    /// Modulus 7 ("7DR"): the check digit is the remainder of the number divided by 7.
    Mod7,
}

/// The symbology and its settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbology {
    Nw7 {
        start: Guard,
        stop: Guard,
        check: CheckDigit,
    },
    /// CODE128 with a check digit the library's numbers carry: none, mod 10 (2-1), mod 11
    /// or mod 7. (CODE128's own mod 103 symbol check is always added by the encoder.)
    Code128 {
        check: CheckDigit,
    },
}

impl Symbology {
    /// Refuses settings no library's scanner could check: mod 16 is computed over NW-7
    /// characters including the start and stop guards, which CODE128 does not have.
    ///
    /// # Errors
    /// [`LabelError::CheckDigitNotForCode128`].
    pub fn validate(self) -> Result<(), LabelError> {
        match self {
            Symbology::Code128 { check: scheme @ CheckDigit::Mod16 } => {
                Err(LabelError::CheckDigitNotForCode128 { scheme })
            }
            Symbology::Nw7 { .. } | Symbology::Code128 { .. } => Ok(()),
        }
    }
}

/// Checks a patron number against the scheme; the last character is the check digit.
///
/// # Errors
/// [`LabelError::CheckDigitMismatch`] or [`LabelError::Unencodable`].
pub fn verify_check_digit(
    number: &str,
    scheme: CheckDigit,
    guards: Option<(Guard, Guard)>,
) -> Result<(), LabelError> {
    let bytes = number.as_bytes();
    let Some((&check, body)) = bytes.split_last() else {
        return Err(LabelError::EmptyPatronNumber);
    };
    let digits = || -> Result<Vec<u32>, LabelError> {
        body.iter()
            .map(|b| {
                if b.is_ascii_digit() {
                    Ok(u32::from(b - b'0'))
                } else {
                    Err(LabelError::Unencodable { ch: char::from(*b) })
                }
            })
            .collect()
    };
    let expected: u8 = match scheme {
        CheckDigit::None => return Ok(()),
        CheckDigit::Mod10W21 => {
            let sum: u32 = digits()?
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &d)| {
                    if i % 2 == 0 {
                        let p = d * 2;
                        p / 10 + p % 10
                    } else {
                        d
                    }
                })
                .sum();
            b'0' + ((10 - sum % 10) % 10) as u8
        }
        CheckDigit::Mod11 => {
            let sum: u32 = digits()?.iter().rev().enumerate().map(|(i, &d)| d * (2 + (i as u32 % 6))).sum();
            let r = 11 - sum % 11;
            b'0' + if r >= 10 { 0 } else { r as u8 }
        }
        CheckDigit::Mod7 => {
            let r = digits()?.iter().fold(0u32, |acc, &d| (acc * 10 + d) % 7);
            b'0' + r as u8
        }
        CheckDigit::Mod16 => {
            let value = |b: u8| {
                CODABAR_ALPHABET
                    .iter()
                    .position(|&c| c == b)
                    .ok_or(LabelError::Unencodable { ch: char::from(b) })
            };
            let (start, stop) = guards.map_or((b'A', b'A'), |(a, b)| (a.as_byte(), b.as_byte()));
            let mut sum = value(start)? + value(stop)?;
            for &b in body {
                sum += value(b)?;
            }
            CODABAR_ALPHABET[(16 - sum % 16) % 16]
        }
    };
    if check == expected {
        Ok(())
    } else {
        Err(LabelError::CheckDigitMismatch { found: char::from(check), expected: char::from(expected) })
    }
}

/// Bar widths in dots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Modules {
    narrow: usize,
    wide: usize,
}

/// Wide-to-narrow ratios from coarse to fine; the coarsest that fits the paper is used
/// (coarser bars scan better from a crumpled label).
const NW7_MODULES: [Modules; 3] =
    [Modules { narrow: 3, wide: 8 }, Modules { narrow: 2, wide: 5 }, Modules { narrow: 1, wide: 3 }];

/// Quiet zone on each side, in narrow modules (the standard asks for 10).
const QUIET_MODULES: usize = 10;

/// The element widths (bar, space, bar, …) of an NW-7 symbol, guards included.
fn nw7_elements(data: &[u8], start: Guard, stop: Guard, m: Modules) -> Result<Vec<usize>, LabelError> {
    let mut out = Vec::new();
    let chars = core::iter::once(start.as_byte()).chain(data.iter().copied()).chain([stop.as_byte()]);
    for (n, c) in chars.enumerate() {
        let is_guard = n == 0 || n == data.len() + 1;
        let index = CODABAR_ALPHABET
            .iter()
            .position(|&a| a == c)
            .filter(|&i| i < 16 || is_guard)
            .ok_or(LabelError::Unencodable { ch: char::from(c) })?;
        if n > 0 {
            out.push(m.narrow); // inter-character gap (a space)
        }
        let pattern = CODABAR_PATTERNS[index];
        for bit in (0..7).rev() {
            out.push(if pattern >> bit & 1 == 1 { m.wide } else { m.narrow });
        }
    }
    Ok(out)
}

/// Draws the patron number as a barcode image at most `max_width` dots wide and
/// `height` dots tall, quiet zones included.
///
/// # Errors
/// A character the symbology cannot encode, a check digit that does not match, or a
/// number too long for the paper.
pub fn render(
    number: &str,
    symbology: Symbology,
    max_width: usize,
    height: usize,
) -> Result<Bitmap, LabelError> {
    symbology.validate()?;
    if number.is_empty() {
        return Err(LabelError::EmptyPatronNumber);
    }
    match symbology {
        Symbology::Nw7 { start, stop, check } => {
            // Guards belong to the symbology, never to the number.
            if let Some(c) = number.bytes().find(|b| b"ABCDabcd".contains(b)) {
                return Err(LabelError::Unencodable { ch: char::from(c) });
            }
            verify_check_digit(number, check, Some((start, stop)))?;
            for m in NW7_MODULES {
                let elements = nw7_elements(number.as_bytes(), start, stop, m)?;
                if let Some(image) = draw(&elements, m.narrow * QUIET_MODULES, max_width, height) {
                    return Ok(image);
                }
            }
            Err(LabelError::TooWide { max_dots: max_width })
        }
        Symbology::Code128 { check } => {
            if let Some(ch) = number.chars().find(|c| !(' '..='~').contains(c)) {
                return Err(LabelError::Unencodable { ch });
            }
            verify_check_digit(number, check, None)?;
            // Set C packs digit pairs: half the width for all-digit numbers of even length.
            let prefix = if number.len().is_multiple_of(2) && number.bytes().all(|b| b.is_ascii_digit()) {
                'Ć'
            } else {
                'Ɓ'
            };
            let code = barcoders::sym::code128::Code128::new(format!("{prefix}{number}"))
                .map_err(|_| LabelError::Unencodable { ch: '?' })?;
            let modules = code.encode();
            for width in [3usize, 2, 1] {
                let mut elements = Vec::new();
                let mut run = 0;
                let mut last = 1u8;
                for &m in &modules {
                    if m == last {
                        run += 1;
                    } else {
                        elements.push(run * width);
                        run = 1;
                        last = m;
                    }
                }
                elements.push(run * width);
                if let Some(image) = draw(&elements, width * QUIET_MODULES, max_width, height) {
                    return Ok(image);
                }
            }
            Err(LabelError::TooWide { max_dots: max_width })
        }
    }
}

/// Draws alternating bars and spaces (starting with a bar), centred, with quiet zones;
/// `None` if it does not fit.
fn draw(elements: &[usize], quiet: usize, max_width: usize, height: usize) -> Option<Bitmap> {
    let symbol: usize = elements.iter().sum();
    let total = symbol + 2 * quiet;
    if total > max_width {
        return None;
    }
    let mut image = Bitmap::new(max_width, height);
    let mut x = (image.width() - symbol) / 2;
    for (i, &w) in elements.iter().enumerate() {
        if i % 2 == 0 {
            image.fill(x, 0, w, height);
        }
        x += w;
    }
    Some(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_style_mod10() {
        // 7992739871 + check 3 is the textbook Luhn example.
        assert_eq!(verify_check_digit("79927398713", CheckDigit::Mod10W21, None), Ok(()));
        assert_eq!(
            verify_check_digit("79927398710", CheckDigit::Mod10W21, None),
            Err(LabelError::CheckDigitMismatch { found: '0', expected: '3' })
        );
    }

    #[test]
    fn mod11_weights_2_to_7() {
        // 123456 → weights from the right 2..7: 6*2+5*3+4*4+3*5+2*6+1*7 = 77, 77 % 11 = 0 → 11 → 0.
        assert_eq!(verify_check_digit("1234560", CheckDigit::Mod11, None), Ok(()));
        // 12345 → 5*2+4*3+3*4+2*5+1*6 = 50, 50 % 11 = 6 → 5.
        assert_eq!(verify_check_digit("123455", CheckDigit::Mod11, None), Ok(()));
    }

    #[test]
    fn mod7_and_mod16() {
        assert_eq!(verify_check_digit("1234", CheckDigit::Mod7, None), Ok(())); // 123 % 7 = 4
        // Codabar mod 16, the textbook example: A37859B → check '+' (value 15)?
        // start A(16) + 3+7+8+5+9 (32) + stop B(17) = 65; 65 % 16 = 1; 16 - 1 = 15 → '+'.
        assert_eq!(verify_check_digit("37859+", CheckDigit::Mod16, Some((Guard::A, Guard::B))), Ok(()));
    }

    #[test]
    fn guards_and_letters_are_refused_in_nw7() {
        let s = Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None };
        assert_eq!(render("12A4", s, 576, 80), Err(LabelError::Unencodable { ch: 'A' }));
        assert_eq!(render("12#4", s, 576, 80), Err(LabelError::Unencodable { ch: '#' }));
        assert_eq!(render("", s, 576, 80), Err(LabelError::EmptyPatronNumber));
    }

    #[test]
    fn too_long_for_the_paper() {
        let s = Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None };
        assert_eq!(render(&"1".repeat(60), s, 384, 80), Err(LabelError::TooWide { max_dots: 384 }));
        assert!(render("2300012345678", s, 384, 80).is_ok());
    }

    #[test]
    fn code128_takes_the_digit_schemes_and_refuses_mod16() {
        for (scheme, number) in
            [(CheckDigit::Mod10W21, "79927398713"), (CheckDigit::Mod11, "123455"), (CheckDigit::Mod7, "1234")]
        {
            assert!(render(number, Symbology::Code128 { check: scheme }, 576, 80).is_ok(), "{scheme:?}");
        }
        let s = Symbology::Code128 { check: CheckDigit::Mod16 };
        assert_eq!(
            render("37859+", s, 576, 80),
            Err(LabelError::CheckDigitNotForCode128 { scheme: CheckDigit::Mod16 })
        );
        assert_eq!(s.validate(), Err(LabelError::CheckDigitNotForCode128 { scheme: CheckDigit::Mod16 }));
        assert_eq!(
            Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::Mod16 }.validate(),
            Ok(())
        );
    }

    #[test]
    fn code128_refuses_non_ascii() {
        let s = Symbology::Code128 { check: CheckDigit::None };
        assert_eq!(render("図書", s, 576, 80), Err(LabelError::Unencodable { ch: '図' }));
        assert!(render("LIB-000123", s, 576, 80).is_ok());
    }
}
