//! Which library data model a tag holds, and the item it names: the one entry point the
//! kiosk uses for any tag (`docs/rfid.md`, section 3.2).
//!
//! In order: a block that passes the Danish CRC is ISO 28560-3's basic block (the Danish
//! model), whatever the DSFID says; ISO/IEC 15962 data sets with a primary item
//! identifier are ISO 28560-2 (first, and alone, when the DSFID is `06`); all zero (or
//! all `FF`) is a blank tag; anything else is not a model the kiosk reads. The DSFID,
//! when the caller has it (Get System Information), also decides whether data that fails
//! is damage (the DSFID names a model) or another format.
//!
//! The Danish model of 2005 (what `rfidgeek` writes, version nibble 1) and ISO 28560-3's
//! basic block cannot be told apart, so they are one [`Model`]: the same 32 (34) bytes,
//! the same fields in the same places, the same CRC, version 1 in both. Only the DSFID
//! might tell them apart (`3E` for ISO 28560-3, as an open-source decoder has it; not
//! confirmed from the standard), and `rfidgeek` never writes the DSFID, so a tag it wrote
//! keeps whatever the factory left there.
//!
//! The Japan Library Association's 2005 draft format (日図協フォーマット) is not public:
//! its tags are [`NotAnItem::Unknown`], as are vendors' own formats.

use crate::danish::{self, DanishTag, ModelError, Usage};
use crate::iso28560_2;

/// The DSFID an open-source decoder takes for ISO 28560-3 (not confirmed from the
/// standard's text; a DSFID of `00` proves nothing, `rfidgeek` never writes one).
pub const DSFID_28560_3: u8 = 0x3E;

/// The library data model a tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// ISO 28560-3's basic block, fixed length: the Danish data model's starting block
    /// (DS/INF 163, 2005), as `rfidgeek` writes it. The two are one variant because no
    /// byte tells them apart (see the module's documentation).
    Iso28560_3,
    /// ISO 28560-2: ISO/IEC 15962 data sets, variable length, DSFID `06`.
    Iso28560_2,
}

/// What a library tag says about its item, whatever the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryTag {
    pub model: Model,
    /// What the item is for. ISO 28560-2: the type of usage's class nibble;
    /// `Usage::Other(6)`, ISO 28560-1's "no information about usage on the tag", when the
    /// tag has no type of usage (it is optional there).
    pub usage: Usage,
    /// Parts in the set (1 for a single book, and when the tag does not say).
    pub parts: u8,
    /// This part's number, 1 to `parts`.
    pub part: u8,
    /// The primary item identifier: the barcode the library system knows.
    pub item: String,
    /// The owner library's country: ISO 28560-3, its own field; ISO 28560-2, the ISIL's
    /// prefix (before the first `-`, a country code or a non-country prefix such as `O`).
    /// Empty when the tag does not say.
    pub country: String,
    /// The owner library: ISO 28560-3, its own field; ISO 28560-2, the rest of the ISIL.
    /// Empty when the tag does not say.
    pub library: String,
}

/// Why a tag is not an item the kiosk can lend or take back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAnItem {
    /// Nothing was ever written to the tag.
    #[error(
        "this tag is blank: nothing was ever written to it. Staff can write the item's barcode to it, or lend the item at the desk"
    )]
    Blank,
    /// Not a model the kiosk reads: the Japan Library Association's draft format (not
    /// public), a vendor's own format, a transit card's data.
    #[error(
        "this tag holds data in a format the kiosk does not read (it is neither ISO 28560 nor the Danish model). Staff can lend the item at the desk, or re-tag it"
    )]
    Unknown,
    /// It looks like a model the kiosk reads but fails its check, or uses a part of the
    /// model whose rule is not public.
    #[error("this tag's data cannot be read ({0}). Staff can check the item and rewrite its tag")]
    Damaged(ModelError),
}

/// Bytes ISO 28560-3's basic block takes on a tag of more than 32 bytes (32 on a smaller
/// one).
pub const BASIC_BLOCK: u16 = 34;

/// Bytes read for an ISO 28560-2 tag at most: an ICODE SLIX's whole user memory (28
/// blocks), which keeps one answer within the TRF7970A's 127-byte FIFO (how the EVM's
/// firmware handles a longer answer was not checked). Data beyond it reads as
/// [`ModelError::CutShort`].
pub const MAX_28560_2: u16 = 112;

/// How many blocks to read from block 0 for [`decode`] to see the whole model, given the
/// tag's DSFID and its memory (blocks, bytes per block), both from Get System Information.
///
/// ISO 28560-2 (DSFID `06`) needs more than 8 blocks: its data sets have no fixed end,
/// and its worked example fills 9. So: its whole memory, up to [`MAX_28560_2`] bytes.
/// Otherwise the basic block: 34 bytes (9 blocks) when the tag has them, since the CRC
/// covers bytes 32–33 there. Memory unknown: 8 blocks, the smallest library label's, and
/// an ISO 28560-2 tag longer than that reads as cut short.
#[must_use]
pub fn blocks_needed(dsfid: Option<u8>, memory: Option<(u16, u8)>) -> u16 {
    let Some((blocks, block_size)) = memory else { return 8 };
    let wanted = if dsfid == Some(iso28560_2::DSFID) { MAX_28560_2 } else { BASIC_BLOCK };
    wanted.div_ceil(u16::from(block_size.max(1))).min(blocks).max(1)
}

/// The item a tag names, from its user memory read from block 0 ([`blocks_needed`]
/// blocks) and its DSFID when known.
///
/// # Errors
/// [`NotAnItem`]: blank, a format the kiosk does not read, or a model's data that fails
/// its check. With DSFID `06`, data that is not ISO 28560-2 is damaged; with `3E`, data
/// that is neither model is damaged; otherwise it is [`NotAnItem::Unknown`], except a
/// basic block whose CRC fails while its other fields look right (damaged).
pub fn decode(dsfid: Option<u8>, bytes: &[u8]) -> Result<LibraryTag, NotAnItem> {
    if bytes.is_empty() {
        return Err(NotAnItem::Damaged(ModelError::TooShort(0)));
    }
    // A matching CRC first, whatever the DSFID says: a DSFID can be stale (`rfidgeek`
    // never writes it), a 16-bit CRC rarely matches by chance.
    let e = match danish::decode(bytes) {
        Ok(tag) => return Ok(from_basic(tag)),
        Err(e) => e,
    };
    if dsfid == Some(iso28560_2::DSFID) {
        return match iso28560_2::decode(bytes) {
            Ok(tag) => Ok(from_sets(tag)),
            Err(_) if blank(bytes) => Err(NotAnItem::Blank),
            Err(sets) => Err(NotAnItem::Damaged(sets)),
        };
    }
    if blank(bytes) {
        return Err(NotAnItem::Blank);
    }
    match e {
        // The CRC matched, a field did not.
        ModelError::Malformed(_) => Err(NotAnItem::Damaged(e)),
        // The CRC matched, over a version the kiosk does not know.
        ModelError::UnknownVersion(_) => Err(NotAnItem::Unknown),
        // A damaged basic block is never read again as data sets: its padding can pass
        // for some by chance.
        ModelError::CrcMismatch { .. } if looks_like_basic_block(bytes) => Err(NotAnItem::Damaged(e)),
        _ => match iso28560_2::decode(bytes) {
            Ok(tag) => Ok(from_sets(tag)),
            Err(_) if dsfid == Some(DSFID_28560_3) => Err(NotAnItem::Damaged(e)),
            Err(_) => Err(NotAnItem::Unknown),
        },
    }
}

fn from_basic(tag: DanishTag) -> LibraryTag {
    LibraryTag {
        model: Model::Iso28560_3,
        usage: tag.usage,
        parts: tag.parts,
        part: tag.part,
        item: tag.item,
        country: tag.country,
        library: tag.library,
    }
}

/// ISO 28560-1's type of usage class for "no information about usage on the tag".
const NO_USAGE_INFORMATION: u8 = 6;

fn from_sets(tag: iso28560_2::Tag) -> LibraryTag {
    let usage = Usage::from_nibble(tag.usage.map_or(NO_USAGE_INFORMATION, |byte| byte >> 4));
    let (parts, part) = tag.set.map_or((1, 1), |s| (s.parts, s.part));
    let owner = tag.owner.unwrap_or_default();
    let (country, library) = match owner.split_once('-') {
        Some((prefix, unit)) => (prefix.to_owned(), unit.to_owned()),
        None => (String::new(), owner),
    };
    LibraryTag { model: Model::Iso28560_2, usage, parts, part, item: tag.item, country, library }
}

/// All `00` (never written) or all `FF`.
fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b == 0) || bytes.iter().all(|b| *b == 0xFF)
}

/// Whether the first 32 bytes, in either block order, have a basic block's shape: a
/// version and an assigned type of usage, a part of a set, an item identifier of printable
/// ASCII padded with `00`, a country of two capitals or none, a library of printable
/// ASCII. A CRC that fails on such bytes is damage; on others, another format.
fn looks_like_basic_block(bytes: &[u8]) -> bool {
    let Some(Ok(head)) = bytes.get(..32).map(<[u8; 32]>::try_from) else { return false };
    let mut reversed = head;
    for block in reversed.chunks_mut(4) {
        block.reverse();
    }
    [head, reversed].iter().any(basic_block_shape)
}

fn basic_block_shape(b: &[u8; 32]) -> bool {
    let assigned = |u: u8| matches!(u, 0 | 1 | 2 | 7 | 8);
    let version = matches!((b[0] >> 4, b[0] & 0x0F), (1 | 2, u) | (u, 1 | 2) if assigned(u));
    let text = |field: &[u8], at_least: usize| {
        let end = field.iter().position(|c| *c == 0).unwrap_or(field.len());
        end >= at_least
            && field[..end].iter().all(|c| (0x20..0x7F).contains(c))
            && field[end..].iter().all(|c| *c == 0)
    };
    let country = b[21..23] == [0, 0] || b[21..23].iter().all(u8::is_ascii_uppercase);
    version && b[1].min(b[2]) >= 1 && text(&b[3..19], 1) && country && text(&b[23..32], 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Danish model's worked example (`docs/rfid.md`, section 3.3): item 12345678,
    /// circulating, 1 part of 1, JP, library 1000001.
    const DANISH: [u8; 32] = [
        0x11, 0x01, 0x01, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x5D, 0x02, 0x4A, 0x50, 0x31, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31, 0x00, 0x00,
    ];

    /// ISO 28560-2's worked example (annex D, as in `iso28560_2`'s tests): item
    /// 123456789012, part 3 of 12, shelf location QA268.L55, ISIL US-InU-Mu.
    const ISO_2: [u8; 36] = [
        0x91, 0x00, 0x05, 0x1C, 0xBE, 0x99, 0x1A, 0x14, 0x02, 0x01, 0xD0, 0x14, 0x02, 0x04, 0xB3, 0x46, 0x07,
        0x44, 0x1C, 0xB6, 0xE2, 0xE3, 0x35, 0xD6, 0x83, 0x02, 0x07, 0xAC, 0xC0, 0x9E, 0xBA, 0xA0, 0x6F, 0x6B,
        0x00, 0x00,
    ];

    fn danish_tag() -> LibraryTag {
        LibraryTag {
            model: Model::Iso28560_3,
            usage: Usage::Circulating,
            parts: 1,
            part: 1,
            item: "12345678".into(),
            country: "JP".into(),
            library: "1000001".into(),
        }
    }

    fn iso_2_tag() -> LibraryTag {
        LibraryTag {
            model: Model::Iso28560_2,
            usage: Usage::Other(6),
            parts: 12,
            part: 3,
            item: "123456789012".into(),
            country: "US".into(),
            library: "InU-Mu".into(),
        }
    }

    const DSFIDS: [Option<u8>; 5] =
        [None, Some(0x00), Some(DSFID_28560_3), Some(iso28560_2::DSFID), Some(0xC2)];

    #[test]
    fn both_worked_examples_read_whatever_the_dsfid() {
        for dsfid in DSFIDS {
            assert_eq!(decode(dsfid, &DANISH), Ok(danish_tag()), "{dsfid:?}");
            assert_eq!(decode(dsfid, &ISO_2), Ok(iso_2_tag()), "{dsfid:?}");
            // Read as 9 blocks, as blocks_needed asks on a larger tag.
            assert_eq!(decode(dsfid, &[&DANISH[..], &[0; 4]].concat()), Ok(danish_tag()));
            assert_eq!(decode(dsfid, &[&ISO_2[..], &[0; 76]].concat()), Ok(iso_2_tag()));
        }
    }

    #[test]
    fn type_of_usage_and_an_isil_without_a_prefix_are_read() {
        // Item "A" (octets), type of usage 21 (not for circulation), ISIL "Ex" (octets).
        let bytes = [0x61, 0x01, 0x41, 0x05, 0x01, 0x21, 0x63, 0x02, 0x45, 0x78];
        let tag = decode(Some(iso28560_2::DSFID), &bytes);
        assert_eq!(
            tag,
            Ok(LibraryTag {
                model: Model::Iso28560_2,
                usage: Usage::NotForCirculation,
                parts: 1,
                part: 1,
                item: "A".into(),
                country: String::new(),
                library: "Ex".into(),
            })
        );
    }

    #[test]
    fn blank_unknown_and_damaged_tags_are_told_apart() {
        for dsfid in DSFIDS {
            assert_eq!(decode(dsfid, &[0; 32]), Err(NotAnItem::Blank));
            assert_eq!(decode(dsfid, &[0xFF; 112]), Err(NotAnItem::Blank));
            assert_eq!(decode(dsfid, &[]), Err(NotAnItem::Damaged(ModelError::TooShort(0))));
        }
        // A basic block with one bit flipped: damaged, whatever the DSFID says.
        let mut flipped = DANISH;
        flipped[5] ^= 0x01;
        for dsfid in [None, Some(0x00), Some(DSFID_28560_3)] {
            assert!(matches!(
                decode(dsfid, &flipped),
                Err(NotAnItem::Damaged(ModelError::CrcMismatch { .. }))
            ));
        }
        // Digits from the first byte on, as a format the kiosk does not know might hold
        // them: unknown without a DSFID, damaged when the DSFID names a model.
        let digits = *b"12345678901234567890123456789012";
        assert_eq!(decode(None, &digits), Err(NotAnItem::Unknown));
        assert!(matches!(decode(Some(DSFID_28560_3), &digits), Err(NotAnItem::Damaged(_))));
        assert!(matches!(decode(Some(iso28560_2::DSFID), &digits), Err(NotAnItem::Damaged(_))));
        assert_eq!(decode(None, &[0x5A; 8]), Err(NotAnItem::Unknown));
        // ISO 28560-2 cut short (8 blocks of a 9-block tag read): damaged, read more.
        assert_eq!(
            decode(Some(iso28560_2::DSFID), &ISO_2[..32]),
            Err(NotAnItem::Damaged(ModelError::CutShort(32)))
        );
        // A CRC that matches over a field that does not: damaged; over a version the
        // kiosk does not know: unknown.
        let with_crc = |mut b: [u8; 32]| {
            let mut input = [0u8; 32];
            input[..19].copy_from_slice(&b[..19]);
            input[19..30].copy_from_slice(&b[21..32]);
            let [lo, hi] = crate::crc::danish(&input).to_le_bytes();
            (b[19], b[20]) = (lo, hi);
            b
        };
        let mut no_part = DANISH;
        (no_part[1], no_part[2]) = (0, 0);
        assert_eq!(
            decode(None, &with_crc(no_part)),
            Err(NotAnItem::Damaged(ModelError::Malformed("part of a set")))
        );
        let mut version = DANISH;
        version[0] = 0x55;
        assert_eq!(decode(None, &with_crc(version)), Err(NotAnItem::Unknown));
        assert_eq!(decode(Some(DSFID_28560_3), &with_crc(version)), Err(NotAnItem::Unknown));
    }

    #[test]
    fn every_refusal_says_what_to_do() {
        for e in [NotAnItem::Blank, NotAnItem::Unknown, NotAnItem::Damaged(ModelError::CutShort(32))] {
            let text = e.to_string();
            assert!(text.contains("Staff can"), "{text}");
        }
        let damaged = NotAnItem::Damaged(ModelError::Unsupported("6-bit codes 21 to 27")).to_string();
        assert!(damaged.contains("6-bit codes 21 to 27"), "{damaged}");
    }

    #[test]
    fn the_blocks_to_read_cover_the_model() {
        assert_eq!(blocks_needed(None, None), 8);
        assert_eq!(blocks_needed(Some(iso28560_2::DSFID), None), 8);
        // An ICODE SLIX: 28 blocks of 4 bytes.
        assert_eq!(blocks_needed(None, Some((28, 4))), 9);
        assert_eq!(blocks_needed(Some(0x00), Some((28, 4))), 9);
        assert_eq!(blocks_needed(Some(iso28560_2::DSFID), Some((28, 4))), 28);
        // An 8-block label; a Tag-it HF-I Plus (64 blocks); 8-byte blocks.
        assert_eq!(blocks_needed(Some(iso28560_2::DSFID), Some((8, 4))), 8);
        assert_eq!(blocks_needed(None, Some((8, 4))), 8);
        assert_eq!(blocks_needed(Some(iso28560_2::DSFID), Some((64, 4))), 28);
        assert_eq!(blocks_needed(None, Some((64, 8))), 5);
        assert_eq!(blocks_needed(None, Some((0, 0))), 1);
    }

    proptest::proptest! {
        /// Any bytes with any DSFID: an item whose part lies in its set, or a named
        /// refusal; never a panic.
        #[test]
        fn any_bytes_decode_without_a_panic(dsfid in proptest::option::of(0u8..),
                                            bytes in proptest::collection::vec(0u8.., 0..120)) {
            if let Ok(tag) = decode(dsfid, &bytes) {
                proptest::prop_assert!(!tag.item.is_empty());
                proptest::prop_assert!(tag.part >= 1 && tag.part <= tag.parts);
            }
        }

        /// What the Danish encoder writes reads back as the same item, whatever the DSFID.
        #[test]
        fn a_written_basic_block_reads_back(item in "[0-9A-Z]{1,16}", parts in 1u8.., part in 1u8..,
                                            dsfid in proptest::option::of(0u8..)) {
            let part = part.min(parts);
            let written = DanishTag { item, parts, part, ..danish::decode(&DANISH).unwrap_or_else(|e| panic!("{e}")) };
            let bytes = danish::encode(&written).unwrap_or_else(|e| panic!("{e}"));
            let tag = decode(dsfid, &bytes).unwrap_or_else(|e| panic!("{e}"));
            proptest::prop_assert_eq!((tag.item, tag.parts, tag.part), (written.item, parts, part));
        }
    }
}
