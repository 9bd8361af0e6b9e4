#![no_main]
//! What the RFID reader and its tags send: the reader's answer text (read as UTF-8,
//! lossy) and the tag answers in it, a tag's answer and its Get System Information, and a
//! tag's user memory through every data model (the Danish model / ISO 28560-3's basic
//! block, ISO 28560-2's data sets, `model::decode` without a DSFID and with the input's
//! first byte as one). Never panics; an item read is named and is a part of its set; a
//! basic block that decodes and encodes again decodes the same; the blocks to read stay
//! within the tag and one answer.

use kiosk_rfid::iso28560_2::{self, Compaction};
use kiosk_rfid::{SystemInfo, danish, evm, iso15693, model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(groups) = evm::groups(&String::from_utf8_lossy(data)) {
        for group in groups {
            if let evm::Group::Answer(answer) = group {
                if let Ok(rest) = iso15693::response(&answer) {
                    let _ = SystemInfo::parse(rest);
                }
            }
        }
    }
    if let Ok(rest) = iso15693::response(data) {
        let _ = SystemInfo::parse(rest);
    }
    let _ = SystemInfo::parse(data);

    let Some((&dsfid, memory)) = data.split_first() else { return };
    if let Ok(tag) = danish::decode(memory) {
        assert!(tag.part >= 1 && tag.part <= tag.parts);
        if let Ok(bytes) = danish::encode(&tag) {
            assert_eq!(danish::decode(&bytes), Ok(tag));
        }
    }
    if let Ok(tag) = iso28560_2::decode(memory) {
        assert!(!tag.item.is_empty());
        if let Some(set) = tag.set {
            assert!(set.part >= 1 && set.part <= set.parts);
        }
    }
    for code in 0..8 {
        let _ = iso28560_2::text(Compaction::from_code(code), memory);
    }
    let _ = iso28560_2::isil(memory);
    for hint in [None, Some(dsfid)] {
        match model::decode(hint, memory) {
            Ok(tag) => assert!(!tag.item.is_empty() && tag.part >= 1 && tag.part <= tag.parts),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    if let Some(&[lo, hi, size]) = memory.get(..3) {
        let blocks = u16::from_le_bytes([lo, hi]);
        let n = model::blocks_needed(Some(dsfid), Some((blocks, size)));
        assert!(n >= 1 && n <= blocks.max(1) && n <= model::MAX_28560_2);
    }
});
