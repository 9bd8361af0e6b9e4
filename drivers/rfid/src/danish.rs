//! The Danish data model for library RFID tags (*RFID Data Model for Libraries*, 2005;
//! DS/INF 163), the ancestor of ISO 28560-3's basic block and what `rfidgeek` writes:
//! 32 bytes on the usual 8-block label (`docs/rfid.md`, section 3.3).
//!
//! | bytes | field |
//! |---|---|
//! | 0 | version (high nibble, 1) and type of usage (low nibble) |
//! | 1, 2 | parts in the set, this part's number (1-based) |
//! | 3–18 | the item's barcode, ASCII, padded with 00 |
//! | 19–20 | CRC-16/CCITT-FALSE of bytes 0–18 and 21–33, least significant byte first |
//! | 21–22 | the owner library's country (ISO 3166-1, `JP`) |
//! | 23–31 (–33) | the owner library's ISIL, padded with 00 |
//!
//! Real tags differ: some put the type of usage in the high nibble, some swap the two set
//! bytes, some readers return each 4-byte block back to front. Decoding accepts all three
//! (the CRC decides about the block order); encoding writes the model's own order.

use crate::crc;

/// What the item is for (the type-of-usage nibble).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Acquisition,
    /// A book patrons borrow.
    Circulating,
    /// Patrons may return it but not borrow it (reference).
    NotForCirculation,
    Discarded,
    /// A patron's card, not an item.
    PatronCard,
    /// A value the 2005 model does not assign.
    Other(u8),
}

impl Usage {
    /// The usage a type-of-usage nibble (ISO 28560-2: the class nibble) names.
    pub(crate) fn from_nibble(n: u8) -> Usage {
        match n {
            0 => Usage::Acquisition,
            1 => Usage::Circulating,
            2 => Usage::NotForCirculation,
            7 => Usage::Discarded,
            8 => Usage::PatronCard,
            other => Usage::Other(other),
        }
    }

    fn nibble(self) -> u8 {
        match self {
            Usage::Acquisition => 0,
            Usage::Circulating => 1,
            Usage::NotForCirculation => 2,
            Usage::Discarded => 7,
            Usage::PatronCard => 8,
            Usage::Other(n) => n & 0x0F,
        }
    }

    fn assigned(n: u8) -> bool {
        matches!(n, 0 | 1 | 2 | 7 | 8)
    }
}

/// A tag's contents in the Danish model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DanishTag {
    pub version: u8,
    pub usage: Usage,
    /// Parts in the set (1 for a single book).
    pub parts: u8,
    /// This part's number, 1 to `parts`.
    pub part: u8,
    /// The primary item identifier: the barcode the library system knows.
    pub item: String,
    /// The owner library's country ("" when not given).
    pub country: String,
    /// The owner library's ISIL ("" when not given).
    pub library: String,
}

/// Why a tag's contents are not an item of a library data model (the Danish model and
/// ISO 28560-3's basic block here, ISO 28560-2 in [`crate::iso28560_2`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("the tag holds {0} bytes: the model needs 32")]
    TooShort(usize),
    /// ISO 28560-2: a data set runs past the bytes read.
    #[error("the tag's data runs past the {0} bytes read: read more blocks")]
    CutShort(usize),
    /// ISO 28560-2: a mandatory element is not on the tag.
    #[error("the tag has no {0}")]
    Missing(&'static str),
    /// ISO 28560-2: the tag is written in a way whose rule is not public (or the public
    /// sources disagree on it), so reading it would be a guess.
    #[error("the tag uses {0}, which is not publicly specified: the kiosk does not guess")]
    Unsupported(&'static str),
    #[error("the tag is blank (never written)")]
    Blank,
    #[error(
        "the tag's checksum does not match (stored {stored:#06x}, computed {computed:#06x}): not this model, or damaged"
    )]
    CrcMismatch { stored: u16, computed: u16 },
    #[error("the first byte {0:#04x} names no version of the model")]
    UnknownVersion(u8),
    #[error("the tag's {0} is malformed")]
    Malformed(&'static str),
    #[error("the {0} does not fit the model")]
    DoesNotFit(&'static str),
}

/// Bytes the model covers on a 32-byte tag.
pub const LEN: usize = 32;

/// The CRC over a tag's bytes: 0–18, then 21–33 (bytes 32 and 33 taken as 00 on a
/// 32-byte tag).
fn checksum(tag: &[u8; 34]) -> u16 {
    let mut input = [0u8; 32];
    input[..19].copy_from_slice(&tag[..19]);
    input[19..].copy_from_slice(&tag[21..34]);
    crc::danish(&input)
}

/// Reads a tag's first blocks (at least 32 bytes; 34 are used when there).
///
/// # Errors
/// [`ModelError`]: too short, blank, a checksum that matches neither block order, a
/// version byte the model does not have, or a field that is not what the model says.
pub fn decode(bytes: &[u8]) -> Result<DanishTag, ModelError> {
    if bytes.len() < LEN {
        return Err(ModelError::TooShort(bytes.len()));
    }
    let mut tag = [0u8; 34];
    let n = bytes.len().min(34);
    tag[..n].copy_from_slice(&bytes[..n]);
    if tag[..LEN].iter().all(|b| *b == 0) || tag[..LEN].iter().all(|b| *b == 0xFF) {
        return Err(ModelError::Blank);
    }
    let stored = |t: &[u8; 34]| u16::from_le_bytes([t[19], t[20]]);
    if stored(&tag) != checksum(&tag) {
        // Some readers give each 4-byte block back to front.
        let mut reversed = tag;
        for block in reversed[..LEN].chunks_mut(4) {
            block.reverse();
        }
        if stored(&reversed) != checksum(&reversed) {
            return Err(ModelError::CrcMismatch { stored: stored(&tag), computed: checksum(&tag) });
        }
        tag = reversed;
    }
    let (high, low) = (tag[0] >> 4, tag[0] & 0x0F);
    // Version 1 is what libraries write; a nibble pair that reads both ways (`21`) is
    // read as version 1 with its usage in the other nibble.
    let (version, usage) = match (high, low) {
        (1, u) | (u, 1) if Usage::assigned(u) => (1, u),
        (2, u) | (u, 2) if Usage::assigned(u) => (2, u),
        (1 | 2, u) => (high, u),
        _ => return Err(ModelError::UnknownVersion(tag[0])),
    };
    let (parts, part) = (tag[1].max(tag[2]), tag[1].min(tag[2]));
    if part == 0 {
        return Err(ModelError::Malformed("part of a set"));
    }
    let item = text(&tag[3..19]).ok_or(ModelError::Malformed("item identifier"))?;
    if item.is_empty() {
        return Err(ModelError::Malformed("item identifier"));
    }
    let country = text(&tag[21..23]).ok_or(ModelError::Malformed("country"))?;
    let library = text(&tag[23..n.max(LEN)]).ok_or(ModelError::Malformed("library"))?;
    Ok(DanishTag { version, usage: Usage::from_nibble(usage), parts, part, item, country, library })
}

/// Printable ASCII up to the first 00, and only 00 after it.
fn text(field: &[u8]) -> Option<String> {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    let (value, padding) = field.split_at(end);
    if !padding.iter().all(|b| *b == 0) || !value.iter().all(|b| (0x20..0x7F).contains(b)) {
        return None;
    }
    Some(value.iter().map(|b| char::from(*b)).collect())
}

/// The 32 bytes for a tag, in the model's own order (version high, parts then part).
///
/// # Errors
/// [`ModelError::DoesNotFit`]: an item identifier of more than 16 characters or none, a
/// country that is not two letters, a library of more than 9, characters that are not
/// printable ASCII, a part outside its set.
pub fn encode(tag: &DanishTag) -> Result<[u8; LEN], ModelError> {
    let ascii = |s: &str| s.bytes().all(|b| (0x20..0x7F).contains(&b));
    if tag.item.is_empty() || tag.item.len() > 16 || !ascii(&tag.item) {
        return Err(ModelError::DoesNotFit("item identifier"));
    }
    if !(tag.country.is_empty()
        || (tag.country.len() == 2 && tag.country.bytes().all(|b| b.is_ascii_uppercase())))
    {
        return Err(ModelError::DoesNotFit("country"));
    }
    if tag.library.len() > 9 || !ascii(&tag.library) {
        return Err(ModelError::DoesNotFit("library"));
    }
    if tag.part == 0 || tag.part > tag.parts {
        return Err(ModelError::DoesNotFit("part of a set"));
    }
    // Version 2's meaning is not public, and some of its bytes read as version 1's.
    if tag.version != 1 {
        return Err(ModelError::DoesNotFit("version"));
    }
    let mut out = [0u8; 34];
    out[0] = (tag.version << 4) | tag.usage.nibble();
    out[1] = tag.parts;
    out[2] = tag.part;
    out[3..3 + tag.item.len()].copy_from_slice(tag.item.as_bytes());
    out[21..21 + tag.country.len()].copy_from_slice(tag.country.as_bytes());
    out[23..23 + tag.library.len()].copy_from_slice(tag.library.as_bytes());
    let [lo, hi] = checksum(&out).to_le_bytes();
    out[19] = lo;
    out[20] = hi;
    let mut tag32 = [0u8; LEN];
    tag32.copy_from_slice(&out[..LEN]);
    Ok(tag32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> DanishTag {
        DanishTag {
            version: 1,
            usage: Usage::Circulating,
            parts: 1,
            part: 1,
            item: "12345678".into(),
            country: "JP".into(),
            library: "1000001".into(),
        }
    }

    /// The worked example's eight blocks.
    const BLOCKS: [u8; 32] = [
        0x11, 0x01, 0x01, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x5D, 0x02, 0x4A, 0x50, 0x31, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31, 0x00, 0x00,
    ];

    #[test]
    fn the_worked_example_encodes_and_decodes() {
        assert_eq!(encode(&example()), Ok(BLOCKS));
        assert_eq!(decode(&BLOCKS), Ok(example()));
    }

    #[test]
    fn real_tags_variations_are_read() {
        // Blocks back to front.
        let mut reversed = BLOCKS;
        for b in reversed.chunks_mut(4) {
            b.reverse();
        }
        assert_eq!(decode(&reversed), Ok(example()));
        // Type of usage in the high nibble (2 = not for circulation), and the set bytes
        // swapped: part 2 of 3.
        let mut t = example();
        (t.usage, t.parts, t.part) = (Usage::NotForCirculation, 3, 2);
        let mut bytes = encode(&t).unwrap_or_else(|e| panic!("{e}"));
        bytes[0] = 0x21;
        bytes.swap(1, 2);
        let [lo, hi] = checksum(&{
            let mut b = [0u8; 34];
            b[..32].copy_from_slice(&bytes);
            b
        })
        .to_le_bytes();
        (bytes[19], bytes[20]) = (lo, hi);
        assert_eq!(decode(&bytes), Ok(t));
    }

    #[test]
    fn what_is_not_an_item_is_named() {
        assert_eq!(decode(&BLOCKS[..31]), Err(ModelError::TooShort(31)));
        assert_eq!(decode(&[0; 32]), Err(ModelError::Blank));
        assert_eq!(decode(&[0xFF; 32]), Err(ModelError::Blank));
        let mut damaged = BLOCKS;
        damaged[5] ^= 0x01;
        assert!(matches!(decode(&damaged), Err(ModelError::CrcMismatch { .. })));
        let with_crc = |mut b: [u8; 32]| {
            let mut full = [0u8; 34];
            full[..32].copy_from_slice(&b);
            let [lo, hi] = checksum(&full).to_le_bytes();
            (b[19], b[20]) = (lo, hi);
            b
        };
        let mut version = BLOCKS;
        version[0] = 0x55;
        assert_eq!(decode(&with_crc(version)), Err(ModelError::UnknownVersion(0x55)));
        let mut no_part = BLOCKS;
        (no_part[1], no_part[2]) = (0, 0);
        assert_eq!(decode(&with_crc(no_part)), Err(ModelError::Malformed("part of a set")));
        let mut not_ascii = BLOCKS;
        not_ascii[4] = 0xE3;
        assert_eq!(decode(&with_crc(not_ascii)), Err(ModelError::Malformed("item identifier")));
        let mut unpadded = BLOCKS;
        unpadded[15] = b'9';
        assert_eq!(decode(&with_crc(unpadded)), Err(ModelError::Malformed("item identifier")));
    }

    #[test]
    fn what_does_not_fit_is_refused_before_writing() {
        let mut t = example();
        t.item = "12345678901234567".into();
        assert_eq!(encode(&t), Err(ModelError::DoesNotFit("item identifier")));
        let mut t = example();
        t.country = "JPN".into();
        assert_eq!(encode(&t), Err(ModelError::DoesNotFit("country")));
        let mut t = example();
        t.library = "姫路".into();
        assert_eq!(encode(&t), Err(ModelError::DoesNotFit("library")));
        let mut t = example();
        t.part = 2;
        assert_eq!(encode(&t), Err(ModelError::DoesNotFit("part of a set")));
        let mut t = example();
        t.version = 2;
        assert_eq!(encode(&t), Err(ModelError::DoesNotFit("version")));
    }

    proptest::proptest! {
        /// Any 32 to 40 bytes decode to an item or a named error, never a panic; what
        /// encodes decodes back.
        #[test]
        fn any_bytes_decode_without_a_panic(bytes in proptest::collection::vec(0u8.., 32..40),
                                            item in "[0-9A-Z]{1,16}", parts in 1u8..5) {
            let _ = decode(&bytes);
            let t = DanishTag { item, parts, part: parts, ..example() };
            let encoded = encode(&t).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!(decode(&encoded), Ok(t));
        }
    }
}
