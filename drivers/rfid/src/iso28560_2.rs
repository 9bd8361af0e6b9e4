//! ISO 28560-2: the library's data elements as ISO/IEC 15962 data sets, variable length,
//! announced by the tag's DSFID `06` (`docs/rfid.md`, section 3.5).
//!
//! User memory from block 0 is a run of data sets, then a `00` where a precursor would be
//! (or the end of memory):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | precursor: bit 7 offset byte present, bits 6–4 compaction scheme, bits 3–0 relative OID (1–14; 15: the OID follows) |
//! | 0–1 | relative OID − 15, when the precursor's OID is 15 |
//! | 0–1 | offset: how many pad bytes follow the data (so the next set starts on a block boundary, and a set can be locked alone) |
//! | 1 | length of the compacted data |
//! | n | the compacted data |
//! | offset | pad bytes |
//!
//! Relative OIDs are ISO 28560-1's data element numbers: 1 primary item identifier (the
//! barcode, mandatory), 2 content parameter (which further elements the tag holds;
//! skipped here), 3 owner institution (ISIL), 4 set information, 5 type of usage; the
//! others are listed, not decoded.
//!
//! What is public and what is not, element by element, is in `docs/rfid.md`. Where a rule
//! is not public or the sources disagree, decoding refuses ([`ModelError::Unsupported`])
//! rather than guess: a length byte of 80 or more, a relative OID byte of 80 or more,
//! the 6-bit codes 21–27, numeric compaction with other than decimal digits, set
//! information whose digits do not split evenly.

use crate::danish::ModelError;

/// The DSFID of an ISO 28560-2 tag: ISO/IEC 15962's no-directory access method with the
/// library data format (as an open-source ISO 28560-2 decoder expects it; not confirmed
/// from the standard's text).
pub const DSFID: u8 = 0x06;

/// The relative OIDs (ISO 28560-1's data element numbers) this module reads.
pub mod oid {
    /// The primary item identifier: the barcode the library system knows. Mandatory.
    pub const PRIMARY_ITEM_IDENTIFIER: u16 = 1;
    /// Which further elements the tag holds (a bit map from OID 3 on). Skipped.
    pub const CONTENT_PARAMETER: u16 = 2;
    /// The owner institution's ISIL (ISO 15511).
    pub const OWNER_INSTITUTION: u16 = 3;
    /// Parts in the set, then this part's number.
    pub const SET_INFORMATION: u16 = 4;
    /// Type of usage: class (high nibble) and sub-qualifier (low nibble).
    pub const TYPE_OF_USAGE: u16 = 5;
}

/// How a data set's data is compacted (ISO/IEC 15962): bits 6–4 of the precursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compaction {
    /// The application's own rule: ISO 28560-2 uses it for the content parameter, the
    /// ISIL's latch-and-shift code, and the type of usage byte.
    ApplicationDefined,
    /// Decimal digits as one unsigned big-endian integer (no leading zero).
    Integer,
    /// Decimal digits, two to a byte, a final `F` nibble when the count is odd.
    Numeric,
    /// `A`–`Z` and `[\]^_`: 5 bits each (the character's low 5 bits).
    FiveBit,
    /// Space to `_`, 6 bits each.
    SixBit,
    /// ISO/IEC 646 (ASCII), 7 bits each.
    SevenBit,
    /// One byte per character, ISO/IEC 8859-1 (ISO/IEC 15962's default character set).
    Octets,
    /// UTF-8, required when a character is outside ISO/IEC 8859-1.
    Utf8,
}

impl Compaction {
    /// The scheme from its 3-bit code.
    #[must_use]
    pub fn from_code(code: u8) -> Compaction {
        match code & 0x07 {
            0 => Compaction::ApplicationDefined,
            1 => Compaction::Integer,
            2 => Compaction::Numeric,
            3 => Compaction::FiveBit,
            4 => Compaction::SixBit,
            5 => Compaction::SevenBit,
            6 => Compaction::Octets,
            _ => Compaction::Utf8,
        }
    }

    /// The 3-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Compaction::ApplicationDefined => 0,
            Compaction::Integer => 1,
            Compaction::Numeric => 2,
            Compaction::FiveBit => 3,
            Compaction::SixBit => 4,
            Compaction::SevenBit => 5,
            Compaction::Octets => 6,
            Compaction::Utf8 => 7,
        }
    }
}

/// One data set as it lies on the tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSet<'a> {
    /// The relative OID: ISO 28560-1's data element number.
    pub oid: u16,
    pub compaction: Compaction,
    /// The compacted data (without the offset's pad bytes).
    pub data: &'a [u8],
}

/// A set of several parts (a book and its CD): how many, and which this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetInformation {
    /// Parts in the set.
    pub parts: u8,
    /// This part's number, 1 to `parts`.
    pub part: u8,
}

/// What an ISO 28560-2 tag says about its item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The primary item identifier: the barcode the library system knows.
    pub item: String,
    /// The owner institution's ISIL, as on the tag (`US-InU-Mu`).
    pub owner: Option<String>,
    /// The set information; a tag without one is a single part (ISO 28560-1).
    pub set: Option<SetInformation>,
    /// The type of usage byte: class in the high nibble, sub-qualifier in the low one.
    pub usage: Option<u8>,
    /// The relative OIDs of the data sets not decoded here (the content parameter among
    /// them), in the order they lie on the tag.
    pub others: Vec<u16>,
}

/// The most bytes a data set's data may have here: a length byte of 80 or more may be
/// the first of two (ISO/IEC 15962's rule for long data was not confirmed), and a library
/// element is never that long.
pub const MAX_DATA: usize = 0x7F;

/// The data sets from block 0 up to the terminator (`00` where a precursor would be) or
/// the end of the bytes.
///
/// # Errors
/// [`ModelError::CutShort`] when a data set runs past the bytes given (read more blocks),
/// [`ModelError::Malformed`] for a precursor with relative OID 0,
/// [`ModelError::Unsupported`] for a length or relative OID byte of 80 or more.
pub fn data_sets(bytes: &[u8]) -> Result<Vec<DataSet<'_>>, ModelError> {
    let cut = ModelError::CutShort(bytes.len());
    let mut sets = Vec::new();
    let mut at = 0;
    while let Some(&precursor) = bytes.get(at) {
        if precursor == 0 {
            break;
        }
        at += 1;
        let mut oid = u16::from(precursor & 0x0F);
        if oid == 0 {
            return Err(ModelError::Malformed("data set's precursor (relative OID 0)"));
        }
        // Relative OID 15: the OID, less 15, in the next byte (as an open-source
        // ISO 28560-2 encoder writes it, before the offset byte; only for OIDs the kiosk
        // skips). A value of 80 or more may be the first of several bytes: refused.
        if oid == 15 {
            let more = *bytes.get(at).ok_or(cut)?;
            if more >= 0x80 {
                return Err(ModelError::Unsupported("a relative OID above 142"));
            }
            oid += u16::from(more);
            at += 1;
        }
        let pad = if precursor & 0x80 == 0 {
            0
        } else {
            let pad = *bytes.get(at).ok_or(cut)?;
            at += 1;
            usize::from(pad)
        };
        let len = usize::from(*bytes.get(at).ok_or(cut)?);
        at += 1;
        if len > MAX_DATA {
            return Err(ModelError::Unsupported("a data set of 128 bytes or more"));
        }
        let data = bytes.get(at..at + len).ok_or(cut)?;
        at += len + pad;
        if at > bytes.len() {
            return Err(cut);
        }
        sets.push(DataSet { oid, compaction: Compaction::from_code(precursor >> 4), data });
    }
    Ok(sets)
}

/// Reads a tag's user memory from block 0.
///
/// # Errors
/// [`ModelError`]: the data sets' errors ([`data_sets`]); no primary item identifier
/// ([`ModelError::Missing`]); an element decoded here twice, or whose value is not what
/// ISO 28560-1 allows ([`ModelError::Malformed`]); an element compacted in a way whose
/// rule is not public ([`ModelError::Unsupported`]); set information beyond 255 parts
/// ([`ModelError::DoesNotFit`]).
pub fn decode(bytes: &[u8]) -> Result<Tag, ModelError> {
    let mut item = None;
    let mut owner = None;
    let mut set = None;
    let mut usage = None;
    let mut others = Vec::new();
    for ds in data_sets(bytes)? {
        match ds.oid {
            oid::PRIMARY_ITEM_IDENTIFIER => once(&mut item, primary_item(&ds)?, "primary item identifier")?,
            oid::OWNER_INSTITUTION => once(&mut owner, owner_institution(&ds)?, "owner institution")?,
            oid::SET_INFORMATION => once(&mut set, set_information(&ds)?, "set information")?,
            oid::TYPE_OF_USAGE => once(&mut usage, type_of_usage(&ds)?, "type of usage")?,
            other => others.push(other),
        }
    }
    let item = item.ok_or(ModelError::Missing("primary item identifier"))?;
    Ok(Tag { item, owner, set, usage, others })
}

/// Keeps an element's value; a second data set for the same element is an error (which
/// one would count?).
fn once<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), ModelError> {
    if slot.is_some() {
        return Err(ModelError::Malformed(name));
    }
    *slot = Some(value);
    Ok(())
}

/// The barcode: any compaction but the application's own; printable, not empty.
fn primary_item(ds: &DataSet<'_>) -> Result<String, ModelError> {
    if ds.compaction == Compaction::ApplicationDefined {
        return Err(ModelError::Unsupported("an application-defined primary item identifier"));
    }
    let item = text(ds.compaction, ds.data)?;
    if item.is_empty() || item.chars().any(char::is_control) {
        return Err(ModelError::Malformed("primary item identifier"));
    }
    Ok(item)
}

/// The ISIL: ISO 28560-2's latch-and-shift code, or any text compaction; ISO 15511's
/// characters (letters, digits, `-`, `/`, `:`), 1 to 16 of them.
fn owner_institution(ds: &DataSet<'_>) -> Result<String, ModelError> {
    let isil = match ds.compaction {
        Compaction::ApplicationDefined => isil(ds.data),
        other => text(other, ds.data)?,
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | ':');
    if isil.is_empty() || isil.len() > 16 || !isil.chars().all(allowed) {
        return Err(ModelError::Malformed("owner institution"));
    }
    Ok(isil)
}

/// Parts in the set then this part's number, as decimal digits of equal width ("1203":
/// part 3 of 12, ISO 28560-2's worked example). An odd count of digits cannot be split
/// without guessing, and is refused.
fn set_information(ds: &DataSet<'_>) -> Result<SetInformation, ModelError> {
    if ds.compaction == Compaction::ApplicationDefined {
        return Err(ModelError::Unsupported("application-defined set information"));
    }
    let digits = text(ds.compaction, ds.data)?;
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ModelError::Malformed("set information"));
    }
    if digits.len() % 2 == 1 {
        return Err(ModelError::Unsupported("set information with an odd number of digits"));
    }
    let (parts, part) = digits.split_at(digits.len() / 2);
    let number = |s: &str| s.parse::<u16>().map_err(|_| ModelError::Malformed("set information"));
    let (parts, part) = (number(parts)?, number(part)?);
    if part == 0 || part > parts {
        return Err(ModelError::Malformed("set information"));
    }
    let parts = u8::try_from(parts).map_err(|_| ModelError::DoesNotFit("set information"))?;
    let part = u8::try_from(part).map_err(|_| ModelError::DoesNotFit("set information"))?;
    Ok(SetInformation { parts, part })
}

/// One application-defined byte: class nibble and sub-qualifier nibble.
fn type_of_usage(ds: &DataSet<'_>) -> Result<u8, ModelError> {
    match (ds.compaction, ds.data) {
        (Compaction::ApplicationDefined, &[byte]) => Ok(byte),
        (Compaction::ApplicationDefined, _) => Err(ModelError::Malformed("type of usage")),
        _ => Err(ModelError::Unsupported("a type of usage that is not one application-defined byte")),
    }
}

/// A data set's data as text, by its compaction scheme (integers in decimal).
///
/// # Errors
/// [`ModelError::Unsupported`] for application-defined data (its meaning depends on the
/// element), an integer of more than 16 bytes, numeric nibbles other than digits (and a
/// final `F`), the 6-bit codes 21–27 (the open-source implementations disagree on them);
/// [`ModelError::Malformed`] for an empty integer, 5-bit text with data after its
/// padding, invalid UTF-8.
pub fn text(compaction: Compaction, data: &[u8]) -> Result<String, ModelError> {
    match compaction {
        Compaction::ApplicationDefined => Err(ModelError::Unsupported("application-defined data as text")),
        Compaction::Integer => integer(data),
        Compaction::Numeric => numeric(data),
        Compaction::FiveBit => five_bit(data),
        Compaction::SixBit => six_bit(data),
        Compaction::SevenBit => seven_bit(data),
        Compaction::Octets => Ok(data.iter().map(|b| char::from(*b)).collect()),
        Compaction::Utf8 => String::from_utf8(data.to_vec()).map_err(|_| ModelError::Malformed("UTF-8 text")),
    }
}

/// Big-endian, unsigned (ISO 28560-2's worked example: `1C BE 99 1A 14` is 123456789012).
fn integer(data: &[u8]) -> Result<String, ModelError> {
    if data.is_empty() {
        return Err(ModelError::Malformed("integer"));
    }
    if data.len() > 16 {
        return Err(ModelError::Unsupported("an integer of more than 16 bytes"));
    }
    Ok(data.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b)).to_string())
}

/// Two digits a byte, high nibble first; an `F` as the very last nibble pads an odd count.
/// Two open-source implementations read numeric compaction this way; ISO/IEC 15962's
/// text was not seen, so any other nibble is refused.
fn numeric(data: &[u8]) -> Result<String, ModelError> {
    let mut out = String::with_capacity(data.len() * 2);
    let last = data.len().saturating_sub(1);
    for (i, b) in data.iter().enumerate() {
        for (j, nibble) in [b >> 4, b & 0x0F].into_iter().enumerate() {
            match nibble {
                0..=9 => out.push(char::from(b'0' + nibble)),
                0x0F if i == last && j == 1 => {}
                _ => return Err(ModelError::Unsupported("numeric compaction with other than digits")),
            }
        }
    }
    Ok(out)
}

/// The bits of a byte string, most significant first.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(bytes: &'a [u8]) -> Bits<'a> {
        Bits { bytes, at: 0 }
    }

    fn left(&self) -> usize {
        self.bytes.len() * 8 - self.at
    }

    /// The next `n` (≤ 8) bits as a number; `None` when fewer are left.
    fn take(&mut self, n: usize) -> Option<u8> {
        if self.left() < n {
            return None;
        }
        let mut value = 0u8;
        for _ in 0..n {
            let byte = self.bytes.get(self.at / 8)?;
            value = (value << 1) | ((byte >> (7 - self.at % 8)) & 1);
            self.at += 1;
        }
        Some(value)
    }

    /// Whether every bit left is 0.
    fn rest_is_zero(&mut self) -> bool {
        while let Some(bit) = self.take(1) {
            if bit != 0 {
                return false;
            }
        }
        true
    }
}

/// 5 bits a character, the character's low 5 bits (`A` = 1 … `Z` = 26, `[\]^_` 27–31).
/// Code 0 (`@`) is not a character here: it is padding, and only 0 bits may follow it.
/// Bits left after the last whole code are padding.
fn five_bit(data: &[u8]) -> Result<String, ModelError> {
    let mut bits = Bits::new(data);
    let mut out = String::new();
    while let Some(code) = bits.take(5) {
        if code == 0 {
            if bits.rest_is_zero() {
                break;
            }
            return Err(ModelError::Malformed("5-bit text"));
        }
        out.push(char::from(0x40 | code));
    }
    Ok(out)
}

/// 6 bits a character: codes 00–1F are `@`–`_`, 20–3F are space to `?`. Codes 21–27 are
/// refused: one open-source implementation reads them as `!"#$%&'`, another as control
/// characters (EOT, FS, US) and reserved values. Padding: ISO 28560-2's worked example
/// pads 2 bits with `10`, the start of the space code 100000; a whole space code filling
/// the last byte where padding can be is read as padding too (as an open-source encoder
/// writes it; an item identifier never ends in a space).
fn six_bit(data: &[u8]) -> Result<String, ModelError> {
    let mut bits = Bits::new(data);
    let codes = data.len() * 8 / 6;
    let last_may_pad = data.len().is_multiple_of(3);
    let mut out = String::with_capacity(codes);
    for i in 0..codes {
        let code = bits.take(6).unwrap_or(0);
        if i + 1 == codes && last_may_pad && code == 0x20 {
            break;
        }
        match code {
            0x00..=0x1F => out.push(char::from(0x40 | code)),
            0x21..=0x27 => return Err(ModelError::Unsupported("6-bit codes 21 to 27")),
            _ => out.push(char::from(code)),
        }
    }
    Ok(out)
}

/// 7 bits a character, ISO/IEC 646 (ASCII). A whole 1111111 (DEL) filling the last byte
/// where padding can be is padding (as an open-source encoder pads with 1 bits).
fn seven_bit(data: &[u8]) -> Result<String, ModelError> {
    let mut bits = Bits::new(data);
    let codes = data.len() * 8 / 7;
    let last_may_pad = data.len().is_multiple_of(7);
    let mut out = String::with_capacity(codes);
    for i in 0..codes {
        let code = bits.take(7).unwrap_or(0);
        if i + 1 == codes && last_may_pad && code == 0x7F {
            break;
        }
        out.push(char::from(code));
    }
    Ok(out)
}

/// The character sets of ISO 28560-2's ISIL code (its annex C).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    Upper,
    Lower,
    Digits,
}

/// An action of one ISIL code.
enum Code {
    Char(char),
    Latch(Set),
    Shift(Set),
}

fn isil_code(set: Set, code: u8) -> Code {
    match (set, code) {
        (Set::Upper | Set::Lower, 0) | (Set::Digits, 10) => Code::Char('-'),
        (Set::Upper, 1..=26) => Code::Char(char::from(b'A' + code - 1)),
        (Set::Lower, 1..=26) => Code::Char(char::from(b'a' + code - 1)),
        (Set::Upper, 27) | (Set::Digits, 11) => Code::Char(':'),
        (Set::Lower, 27) => Code::Char('/'),
        (Set::Upper, 28) | (Set::Digits, 14) => Code::Latch(Set::Lower),
        (Set::Upper, 29) | (Set::Digits, 15) => Code::Shift(Set::Lower),
        (Set::Lower, 28) | (Set::Digits, 12) => Code::Latch(Set::Upper),
        (Set::Lower, 29) | (Set::Digits, 13) => Code::Shift(Set::Upper),
        (Set::Upper | Set::Lower, 30) => Code::Latch(Set::Digits),
        (Set::Upper | Set::Lower, _) => Code::Shift(Set::Digits),
        (Set::Digits, _) => Code::Char(char::from(b'0' + (code & 0x0F))),
    }
}

/// ISO 28560-2's ISIL code (annex C): 5-bit upper-case and lower-case sets and a 4-bit
/// digit set, starting in upper case, with latches (stay) and shifts (one character);
/// padded with 1 bits. Upper: `-` 0, `A`–`Z` 1–26, `:` 27, latch lower 28, shift lower
/// 29, latch digits 30, shift digits 31. Lower: `-` 0, `a`–`z` 1–26, `/` 27, latch upper
/// 28, shift upper 29, latch digits 30, shift digits 31. Digits: `0`–`9`, `-` 10, `:` 11,
/// latch upper 12, shift upper 13, latch lower 14, shift lower 15. The worked examples
/// confirm the letters, `-` in upper case, the latches to lower case and to digits, both
/// shifts and the padding; `:`, `/`, the digits' `-` and the other latches are as two
/// open-source implementations have them. Bits left after the last whole code, and a
/// shift nothing follows, are padding.
#[must_use]
pub fn isil(data: &[u8]) -> String {
    let mut bits = Bits::new(data);
    let mut out = String::new();
    let mut latched = Set::Upper;
    let mut shifted = None;
    loop {
        let set = shifted.take().unwrap_or(latched);
        let Some(code) = bits.take(if set == Set::Digits { 4 } else { 5 }) else { break };
        match isil_code(set, code) {
            Code::Char(c) => out.push(c),
            Code::Latch(to) => latched = to,
            Code::Shift(to) => shifted = Some(to),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    /// ISO 28560-2's worked example (annex D; the Russian national adoption GOST R ISO
    /// 28560-2—2014 publishes it, tables D.5 and D.6): primary item identifier
    /// 123456789012 (integer, with an offset byte so it fills blocks 0–1 alone and can be
    /// locked), content parameter `D0` (OIDs 3, 4 and 6 follow), set information 1203,
    /// shelf location `QA268.L55` (6-bit); then the owner institution `US-InU-Mu`, ISIL
    /// code, locked, so padded to the end of block 8 (encoded here by annex C's rules).
    const EXAMPLE: [u8; 36] = [
        0x91, 0x00, 0x05, 0x1C, 0xBE, 0x99, 0x1A, 0x14, // item: blocks 0–1
        0x02, 0x01, 0xD0, // content parameter
        0x14, 0x02, 0x04, 0xB3, // set information
        0x46, 0x07, 0x44, 0x1C, 0xB6, 0xE2, 0xE3, 0x35, 0xD6, // shelf location
        0x83, 0x02, 0x07, 0xAC, 0xC0, 0x9E, 0xBA, 0xA0, 0x6F, 0x6B, 0x00, 0x00, // ISIL, 2 pad bytes
    ];

    fn example() -> Tag {
        Tag {
            item: "123456789012".into(),
            owner: Some("US-InU-Mu".into()),
            set: Some(SetInformation { parts: 12, part: 3 }),
            usage: None,
            others: vec![oid::CONTENT_PARAMETER, 6],
        }
    }

    #[test]
    fn the_worked_example_decodes() {
        assert_eq!(decode(&EXAMPLE), Ok(example()));
        // Followed by a terminator and whatever lies beyond it.
        let more = [&EXAMPLE[..], &[0x00, 0x91, 0xFF, 0x12]].concat();
        assert_eq!(decode(&more), Ok(example()));
        let sets = data_sets(&EXAMPLE).unwrap_or_default();
        let shelf = sets.iter().find(|s| s.oid == 6).map(|s| (s.compaction, s.data));
        assert_eq!(shelf, Some((Compaction::SixBit, &EXAMPLE[17..24])));
        assert_eq!(text(Compaction::SixBit, &EXAMPLE[17..24]).as_deref(), Ok("QA268.L55"));
        assert_eq!(text(Compaction::Integer, &EXAMPLE[3..8]).as_deref(), Ok("123456789012"));
    }

    /// Annex C's worked examples of the ISIL code (GOST R ISO 28560-2—2014, C.6):
    /// `DE-Heu1` is given as bytes (table C.3); `CH-000134-1` as the steps, whose bits
    /// are assembled here: C H - (upper), latch digits, 0 0 0 1 3 4 - 1, padding 1111.
    #[test]
    fn the_isil_code_reads_the_annex_examples() {
        assert_eq!(isil(&[0x21, 0x40, 0x8E, 0x16, 0xBF, 0x1F]), "DE-Heu1");
        // 00011 01000 00000 11110 0000 0000 0000 0001 0011 0100 1010 0001 1111
        assert_eq!(isil(&[0x1A, 0x01, 0xE0, 0x00, 0x13, 0x4A, 0x1F]), "CH-000134-1");
        assert_eq!(isil(&EXAMPLE[27..34]), "US-InU-Mu");
        assert_eq!(isil(&[]), "");
    }

    #[test]
    fn each_compaction_reads_its_text() {
        assert_eq!(text(Compaction::Numeric, &[0x01, 0x23, 0x4F]).as_deref(), Ok("01234"));
        assert_eq!(text(Compaction::Numeric, &[0x01, 0x23]).as_deref(), Ok("0123"));
        // A B C in 5 bits, then 1 bit of padding.
        assert_eq!(text(Compaction::FiveBit, &[0x08, 0x86]).as_deref(), Ok("ABC"));
        // A B: 6 bits of padding hold a whole zero code.
        assert_eq!(text(Compaction::FiveBit, &[0x08, 0x80]).as_deref(), Ok("AB"));
        // "AB1" in 6 bits: 000001 000010 110001, then 100000 (a space code) as padding.
        assert_eq!(text(Compaction::SixBit, &[0x04, 0x2C, 0x60]).as_deref(), Ok("AB1"));
        // "AB0" in 7 bits, then 3 bits of padding.
        assert_eq!(text(Compaction::SevenBit, &[0x83, 0x09, 0x87]).as_deref(), Ok("AB0"));
        assert_eq!(text(Compaction::Octets, &[0x4E, 0xE4]).as_deref(), Ok("Nä"));
        assert_eq!(text(Compaction::Utf8, "姫路".as_bytes()).as_deref(), Ok("姫路"));
    }

    #[test]
    fn what_is_not_public_or_not_right_is_refused() {
        let unsupported = |e: Option<ModelError>| matches!(e, Some(ModelError::Unsupported(_)));
        assert!(unsupported(text(Compaction::Numeric, &[0x1A]).err()));
        assert!(unsupported(text(Compaction::Numeric, &[0xF1]).err()));
        assert!(unsupported(text(Compaction::SixBit, &[0x84, 0x10, 0x41]).err()), "code 21");
        assert!(unsupported(text(Compaction::Integer, &[1; 17]).err()));
        assert!(unsupported(data_sets(&[0x61, 0x80]).err()), "a length byte of 80");
        assert!(unsupported(data_sets(&[0x6F, 0x80, 0x01, 0x41]).err()), "a relative OID byte of 80");
        assert!(unsupported(decode(&[0x01, 0x02, 0x31, 0x32]).err()), "application-defined item");
        assert!(unsupported(decode(&[0x61, 0x01, 0x41, 0x14, 0x02, 0x30, 0x39]).err()), "odd set digits");
        assert_eq!(text(Compaction::FiveBit, &[0x00, 0x80]), Err(ModelError::Malformed("5-bit text")));
        assert_eq!(text(Compaction::Integer, &[]), Err(ModelError::Malformed("integer")));
        assert_eq!(text(Compaction::Utf8, &[0xE5]), Err(ModelError::Malformed("UTF-8 text")));
        assert_eq!(decode(&[]), Err(ModelError::Missing("primary item identifier")));
        assert_eq!(decode(&[0x00, 0x61]), Err(ModelError::Missing("primary item identifier")));
        assert_eq!(decode(&EXAMPLE[8..]), Err(ModelError::Missing("primary item identifier")));
        assert_eq!(decode(&EXAMPLE[..35]), Err(ModelError::CutShort(35)), "a pad byte missing");
        assert_eq!(decode(&EXAMPLE[..6]), Err(ModelError::CutShort(6)));
        assert_eq!(decode(&[0x91]), Err(ModelError::CutShort(1)));
        assert_eq!(
            decode(&[0x60, 0x01, 0x41]),
            Err(ModelError::Malformed("data set's precursor (relative OID 0)"))
        );
        let twice = [&EXAMPLE[..8], &EXAMPLE[..8]].concat();
        assert_eq!(decode(&twice), Err(ModelError::Malformed("primary item identifier")));
        assert_eq!(decode(&[0x61, 0x02, 0x41, 0x0A]), Err(ModelError::Malformed("primary item identifier")));
        assert_eq!(decode(&[0x61, 0x00]), Err(ModelError::Malformed("primary item identifier")));
        assert_eq!(
            decode(&[0x61, 0x01, 0x41, 0x14, 0x01, 0x17]),
            Err(ModelError::Malformed("set information"))
        );
        // 300001: part 1 of 300.
        assert_eq!(
            decode(&[0x61, 0x01, 0x41, 0x14, 0x03, 0x04, 0x93, 0xE1]),
            Err(ModelError::DoesNotFit("set information"))
        );
        assert_eq!(
            decode(&[0x61, 0x01, 0x41, 0x05, 0x02, 0x10, 0x00]),
            Err(ModelError::Malformed("type of usage"))
        );
        assert_eq!(
            decode(&[0x61, 0x01, 0x41, 0x63, 0x01, 0x21]),
            Err(ModelError::Malformed("owner institution"))
        );
    }

    #[test]
    fn relative_oids_above_14_are_carried_past() {
        // Title (OID 17 = 15 + 2), UTF-8, with an offset byte and one pad byte, before the item.
        let bytes = [0xFF, 0x02, 0x01, 0x02, 0xC3, 0xA4, 0x00, 0x61, 0x01, 0x41];
        let tag = decode(&bytes);
        assert_eq!(tag.as_ref().map(|t| (t.item.as_str(), t.others.clone())), Ok(("A", vec![17])));
        // The type of usage byte.
        let with_usage = [&EXAMPLE[..8], &[0x05, 0x01, 0x12]].concat();
        assert_eq!(decode(&with_usage).map(|t| t.usage), Ok(Some(0x12)));
    }

    /// A test-only encoder, the decoder's inverse, laying data sets out as the worked
    /// example does.
    mod encoder {
        use super::super::Compaction;

        fn pack(codes: impl IntoIterator<Item = (u8, usize)>, pad: impl Fn(usize) -> u8) -> Vec<u8> {
            let (mut out, mut acc, mut n) = (Vec::new(), 0u32, 0usize);
            for (code, width) in codes {
                acc = (acc << width) | u32::from(code);
                n += width;
                while n >= 8 {
                    n -= 8;
                    out.push((acc >> n) as u8);
                }
            }
            if n > 0 {
                let fill = 8 - n;
                out.push((((acc << fill) as u8) & !((1u8 << fill) - 1)) | pad(fill));
            }
            out
        }

        /// The compacted bytes of `text`; `None` when the scheme cannot hold it.
        pub fn compact(scheme: Compaction, text: &str) -> Option<Vec<u8>> {
            let bytes = text.as_bytes();
            match scheme {
                Compaction::ApplicationDefined => None,
                Compaction::Integer => {
                    let n: u128 = text.parse().ok().filter(|_| !text.starts_with('0'))?;
                    let all = n.to_be_bytes();
                    let first = all.iter().position(|b| *b != 0).unwrap_or(15);
                    Some(all[first..].to_vec())
                }
                Compaction::Numeric => {
                    if !bytes.iter().all(u8::is_ascii_digit) {
                        return None;
                    }
                    let mut nibbles: Vec<u8> = bytes.iter().map(|b| b - b'0').collect();
                    if nibbles.len() % 2 == 1 {
                        nibbles.push(0x0F);
                    }
                    Some(nibbles.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
                }
                Compaction::FiveBit => bytes
                    .iter()
                    .all(|b| (0x41..=0x5F).contains(b))
                    .then(|| pack(bytes.iter().map(|b| (b & 0x1F, 5)), |_| 0)),
                Compaction::SixBit => {
                    let ok = |b: &u8| (0x20..=0x5F).contains(b) && !(0x21..=0x27).contains(b);
                    (bytes.iter().all(ok) && !text.ends_with(' '))
                        .then(|| pack(bytes.iter().map(|b| (b & 0x3F, 6)), |fill| 1 << (fill - 1)))
                }
                Compaction::SevenBit => bytes
                    .iter()
                    .all(|b| *b < 0x7F)
                    .then(|| pack(bytes.iter().map(|b| (*b, 7)), |fill| (1 << fill) - 1)),
                Compaction::Octets => text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect(),
                Compaction::Utf8 => Some(bytes.to_vec()),
            }
        }

        /// The ISIL code: upper case to start with, a latch when two or more characters of
        /// another set follow, else a shift.
        pub fn isil(text: &str) -> Vec<u8> {
            #[derive(Clone, Copy, PartialEq)]
            enum S {
                U,
                L,
                D,
            }
            let set = |c: char| match c {
                'a'..='z' | '/' => S::L,
                '0'..='9' => S::D,
                _ => S::U,
            };
            let code = |s: S, c: char| -> (u8, usize) {
                match (s, c) {
                    (S::D, '-') => (10, 4),
                    (S::D, ':') => (11, 4),
                    (S::D, _) => (c as u8 - b'0', 4),
                    (_, '-') => (0, 5),
                    (_, ':' | '/') => (27, 5),
                    (_, _) => ((c as u8) & 0x1F, 5),
                }
            };
            let switch = |from: S, to: S, latch: bool| -> (u8, usize) {
                match (from, to, latch) {
                    (S::D, S::U, l) => (if l { 12 } else { 13 }, 4),
                    (S::D, _, l) => (if l { 14 } else { 15 }, 4),
                    (_, S::D, l) => (if l { 30 } else { 31 }, 5),
                    (_, _, l) => (if l { 28 } else { 29 }, 5),
                }
            };
            let chars: Vec<char> = text.chars().collect();
            let mut codes = Vec::new();
            let mut latched = S::U;
            for (i, &c) in chars.iter().enumerate() {
                // '-' and ':' are in more than one set: stay where we are when we can.
                let fits = match c {
                    '-' => true,
                    ':' => latched != S::L,
                    _ => set(c) == latched,
                };
                if !fits {
                    let to = if c == ':' { S::U } else { set(c) };
                    let latch = chars.get(i + 1).is_some_and(|n| set(*n) == to);
                    codes.push(switch(latched, to, latch));
                    if latch {
                        latched = to;
                    } else {
                        codes.push(code(to, c));
                        continue;
                    }
                }
                codes.push(code(latched, c));
            }
            pack(codes, |fill| (1 << fill) - 1)
        }

        /// One data set; `align` adds the offset byte and pad bytes that end it on a
        /// block boundary.
        pub fn data_set(oid: u16, scheme: Compaction, data: &[u8], align: bool) -> Vec<u8> {
            let mut head = vec![(scheme.code() << 4) | (oid.min(15) as u8)];
            if oid >= 15 {
                head.push((oid - 15) as u8);
            }
            let mut pad = 0;
            if align {
                let len = head.len() + 2 + data.len();
                pad = (4 - len % 4) % 4;
                head[0] |= 0x80;
                head.push(pad as u8);
            }
            head.push(data.len() as u8);
            [head, data.to_vec(), vec![0; pad]].concat()
        }
    }

    #[test]
    fn the_encoder_lays_out_the_worked_example() {
        use encoder::{compact, data_set, isil};
        let bytes = [
            data_set(
                1,
                Compaction::Integer,
                &compact(Compaction::Integer, "123456789012").unwrap_or_default(),
                true,
            ),
            data_set(2, Compaction::ApplicationDefined, &[0xD0], false),
            data_set(
                4,
                Compaction::Integer,
                &compact(Compaction::Integer, "1203").unwrap_or_default(),
                false,
            ),
            data_set(
                6,
                Compaction::SixBit,
                &compact(Compaction::SixBit, "QA268.L55").unwrap_or_default(),
                false,
            ),
            data_set(3, Compaction::ApplicationDefined, &isil("US-InU-Mu"), true),
        ]
        .concat();
        assert_eq!(bytes, EXAMPLE);
        assert_eq!(isil("DE-Heu1"), [0x21, 0x40, 0x8E, 0x16, 0xBF, 0x1F]);
        assert_eq!(isil("CH-000134-1"), [0x1A, 0x01, 0xE0, 0x00, 0x13, 0x4A, 0x1F]);
    }

    /// An item identifier and a compaction that holds it.
    fn item() -> impl proptest::strategy::Strategy<Value = (String, Compaction)> {
        use proptest::prelude::*;
        prop_oneof![
            "[1-9][0-9]{0,30}".prop_map(|s| (s, Compaction::Integer)),
            "[0-9]{1,30}".prop_map(|s| (s, Compaction::Numeric)),
            "[A-Z\\[\\\\\\]^_]{1,30}".prop_map(|s| (s, Compaction::FiveBit)),
            "[A-Z0-9 ().:/-]{0,29}[A-Z0-9]".prop_map(|s| (s, Compaction::SixBit)),
            "[ -~]{1,30}".prop_map(|s| (s, Compaction::SevenBit)),
            "[ -~¡-ÿ]{1,30}".prop_map(|s| (s, Compaction::Octets)),
            "[^\\p{Cc}]{1,20}"
                .prop_filter("fits a data set", |s| s.len() <= MAX_DATA)
                .prop_map(|s| (s, Compaction::Utf8)),
        ]
    }

    proptest::proptest! {
        /// What the encoder writes, in any order, aligned or not, with any other data
        /// sets and after a terminator anything, decodes back.
        #[test]
        fn what_is_encoded_decodes_back(
            (item, scheme) in item(),
            owner in proptest::option::of("[A-Z]{2}-[A-Za-z0-9:/-]{1,10}"),
            set in proptest::option::of((1u8.., 0u8..).prop_map(|(n, k)| (n, k % n + 1))),
            usage in proptest::option::of(0u8..),
            others in proptest::collection::vec((6u16..=127, proptest::collection::vec(0u8.., 0..8)), 0..4),
            order in 0usize..8,
            align in proptest::collection::vec(proptest::bool::ANY, 8),
            tail in proptest::option::of(proptest::collection::vec(0u8.., 0..8)),
        ) {
            use encoder::{compact, data_set, isil};
            use proptest::prop_assert_eq;
            let data = compact(scheme, &item).unwrap_or_default();
            let mut sets = vec![data_set(1, scheme, &data, align[0])];
            if let Some(owner) = &owner {
                sets.push(data_set(3, Compaction::ApplicationDefined, &isil(owner), align[1]));
            }
            if let Some((parts, part)) = set {
                let width = parts.to_string().len();
                let digits = format!("{parts}{part:0width$}");
                let data = compact(Compaction::Integer, &digits).unwrap_or_default();
                sets.push(data_set(4, Compaction::Integer, &data, align[2]));
            }
            if let Some(u) = usage {
                sets.push(data_set(5, Compaction::ApplicationDefined, &[u], align[3]));
            }
            for (i, (oid, data)) in others.iter().enumerate() {
                sets.push(data_set(*oid, Compaction::Octets, data, align[4 + i]));
            }
            let n = sets.len();
            sets.rotate_left(order % n);
            let mut bytes = sets.concat();
            if let Some(tail) = tail {
                bytes.push(0x00);
                bytes.extend(tail);
            }
            let tag = decode(&bytes);
            prop_assert_eq!(tag.as_ref().map(|t| t.item.clone()), Ok(item));
            prop_assert_eq!(tag.as_ref().map(|t| t.owner.clone()), Ok(owner));
            prop_assert_eq!(tag.as_ref().map(|t| t.set.map(|s| (s.parts, s.part))), Ok(set));
            prop_assert_eq!(tag.as_ref().map(|t| t.usage), Ok(usage));
            let mut found = tag.map(|t| t.others).unwrap_or_default();
            found.sort_unstable();
            let mut wanted: Vec<u16> = others.iter().map(|(oid, _)| *oid).collect();
            wanted.sort_unstable();
            prop_assert_eq!(found, wanted);
        }

        /// Any bytes decode to a tag or a named error, never a panic.
        #[test]
        fn any_bytes_decode_without_a_panic(bytes in proptest::collection::vec(0u8.., 0..64)) {
            let _ = decode(&bytes);
            for code in 0..8 {
                let _ = text(Compaction::from_code(code), &bytes);
            }
            let _ = isil(&bytes);
        }
    }
}
