//! The TRF7970A evaluation module's host protocol, over a serial line at 115200 8N1,
//! ASCII hex both ways (`docs/rfid.md`, section 1).
//!
//! To the reader, a frame: `01`, the frame's length (2 bytes, least significant first),
//! `03 04`, the reader's command, its parameters, `00 00`, every byte as two upper-case
//! hex digits, nothing before or after (the reader's firmware cannot resynchronise after
//! a stray byte). From the reader, text: header lines, then bracketed groups — a tag's
//! answer in hex (the CRC already checked and removed), `[z]` a collision or a CRC error,
//! `[]` no answer, `[UID,RSSI]` a tag an inventory found. Older firmware also prints
//! `[,RSSI]` for an empty slot and `[z,RSSI]` for a collided one, and some echo the
//! command; all are read the same way.

use crate::iso15693::{Request, Uid};

/// The reader's commands.
pub mod command {
    /// "Who are you": the answer names the board.
    pub const IDENTIFY: u8 = 0xFF;
    pub const FIRMWARE: u8 = 0xFE;
    /// Write registers: address, value, address, value…
    pub const WRITE_REGISTERS: u8 = 0x10;
    /// ISO 15693 inventory with the firmware's own 16-slot anti-collision.
    pub const INVENTORY: u8 = 0x14;
    /// Send bytes to the tag (the reader adds the CRC), print its answer.
    pub const REQUEST: u8 = 0x18;
}

/// The most parameter bytes a frame carries (its length is one byte on the firmware's
/// side).
pub const MAX_PARAMS: usize = 255 - 8;

/// A frame to the reader, as the ASCII it is sent as; `None` when the parameters are
/// too long for one frame.
#[must_use]
pub fn frame(command: u8, params: &[u8]) -> Option<String> {
    if params.len() > MAX_PARAMS {
        return None;
    }
    let len = u8::try_from(8 + params.len()).ok()?;
    let mut bytes = vec![0x01, len, 0x00, 0x03, 0x04, command];
    bytes.extend_from_slice(params);
    bytes.extend_from_slice(&[0x00, 0x00]);
    Some(hex(&bytes))
}

/// The frame that sends `request` to the tags: inventories through the reader's own
/// anti-collision, everything else in request mode.
#[must_use]
pub fn request(request: &Request) -> Option<String> {
    let air = request.air()?;
    match request {
        Request::Inventory { .. } => frame(command::INVENTORY, &air),
        _ => frame(command::REQUEST, &air),
    }
}

/// Upper-case hex, two digits a byte.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// Bytes from hex digits (either case); `None` for an odd count or a non-hex character.
#[must_use]
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = core::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// One bracketed group of the reader's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Group {
    /// A tag's answer: response flags first, then its data.
    Answer(Vec<u8>),
    /// Two tags answered at once, or the answer's CRC or framing was wrong.
    Collision,
    /// No tag answered.
    NoAnswer,
    /// An inventory found this tag; `rssi` is the reader's signal strength register.
    Tag { uid: Uid, rssi: u8 },
    /// Older firmware: an inventory slot nobody answered in.
    EmptySlot,
    /// Older firmware: an inventory slot two tags answered in.
    CollidedSlot,
}

/// What is wrong with the reader's answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// A `[` without its `]`: the answer was cut off (or is still coming).
    #[error("the reader's answer stops inside a bracket: cut off, or still coming")]
    Unfinished,
    /// A bracket holding something the reader never sends.
    #[error(
        "the reader sent `[{0}]`, which is not an answer it gives: check the reader's firmware and the serial line"
    )]
    Garbled(String),
}

/// The bracketed groups of the reader's answer, in order; text outside brackets (headers,
/// an echoed command, line ends) is ignored.
///
/// # Errors
/// [`AnswerError`]: a bracket left open, or one with something the reader never sends.
pub fn groups(answer: &str) -> Result<Vec<Group>, AnswerError> {
    let mut out = Vec::new();
    let mut rest = answer;
    while let Some(open) = rest.find('[') {
        let inner = &rest[open + 1..];
        let close = inner.find(']').ok_or(AnswerError::Unfinished)?;
        let text = &inner[..close];
        out.push(group(text).ok_or_else(|| AnswerError::Garbled(text.chars().take(80).collect()))?);
        rest = &inner[close + 1..];
    }
    Ok(out)
}

fn group(text: &str) -> Option<Group> {
    if let Some((left, right)) = text.split_once(',') {
        let rssi = unhex(right).filter(|r| r.len() == 1)?[0];
        return match left {
            "" => Some(Group::EmptySlot),
            "z" | "Z" => Some(Group::CollidedSlot),
            uid => Some(Group::Tag { uid: Uid::from_air(&unhex(uid)?)?, rssi }),
        };
    }
    match text {
        "" => Some(Group::NoAnswer),
        "z" | "Z" => Some(Group::Collision),
        data => unhex(data).map(Group::Answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG_A: Uid = Uid([0xE0, 0x04, 0x01, 0x50, 0x12, 0x34, 0x56, 0x78]);
    const TAG_B: Uid = Uid([0xE0, 0x07, 0x00, 0x00, 0x1A, 0x2B, 0x3C, 0x4D]);

    #[test]
    fn frames_are_the_bytes_the_board_reads() {
        assert_eq!(frame(command::IDENTIFY, &[]).as_deref(), Some("0108000304FF0000"));
        assert_eq!(request(&Request::Inventory { afi: None }).as_deref(), Some("010B000304140601000000"));
        assert_eq!(
            request(&Request::Inventory { afi: Some(0x07) }).as_deref(),
            Some("010C00030414160107000000")
        );
        assert_eq!(
            request(&Request::ReadBlocks { uid: TAG_A, first: 0, count: 8 }).as_deref(),
            Some("011400030418222378563412500104E000070000")
        );
        assert_eq!(
            request(&Request::WriteBlock { uid: TAG_A, block: 0, data: [0x11, 0x01, 0x01, 0x31] }).as_deref(),
            Some("011700030418222178563412500104E000110101310000")
        );
        assert_eq!(
            request(&Request::WriteAfi { uid: TAG_A, afi: 0x07 }).as_deref(),
            Some("011300030418222778563412500104E0070000")
        );
        assert_eq!(
            request(&Request::SystemInfo { uid: TAG_A }).as_deref(),
            Some("011200030418222B78563412500104E00000")
        );
        // docs/rfid.md, section 1.7: NXP's Set EAS; Reset EAS the same with A3.
        assert_eq!(
            request(&Request::SetEas { uid: TAG_A }).as_deref(),
            Some("01130003041822A20478563412500104E00000")
        );
        assert_eq!(
            request(&Request::ResetEas { uid: TAG_A }).as_deref(),
            Some("01130003041822A30478563412500104E00000")
        );
        assert_eq!(
            request(&Request::EasAlarm { uid: TAG_A }).as_deref(),
            Some("01130003041822A50478563412500104E00000")
        );
        assert!(frame(0x18, &[0; MAX_PARAMS]).is_some());
        assert_eq!(frame(0x18, &[0; MAX_PARAMS + 1]), None);
    }

    #[test]
    fn an_inventory_answer_lists_its_tags() {
        let answer = "ISO 15693 Inventory request.\r\n\r\n[78563412500104E0,6E]\r\n[4D3C2B1A000007E0,5B]\r\n";
        assert_eq!(
            groups(answer),
            Ok(vec![Group::Tag { uid: TAG_A, rssi: 0x6E }, Group::Tag { uid: TAG_B, rssi: 0x5B }])
        );
        assert_eq!(groups("ISO 15693 Inventory request.\r\n\r\n"), Ok(vec![]));
        // The older firmware's slot by slot.
        assert_eq!(
            groups("[,40][z,6E][78563412500104E0,6E]"),
            Ok(vec![Group::EmptySlot, Group::CollidedSlot, Group::Tag { uid: TAG_A, rssi: 0x6E }])
        );
    }

    #[test]
    fn a_request_s_answer_is_the_tag_s_bytes_or_what_went_wrong() {
        assert_eq!(groups("Request mode.\r\n[00]\r\n"), Ok(vec![Group::Answer(vec![0x00])]));
        assert_eq!(groups("Request mode.\r\n[0112]\r\n"), Ok(vec![Group::Answer(vec![0x01, 0x12])]));
        assert_eq!(groups("Request mode.\r\n[z]\r\n"), Ok(vec![Group::Collision]));
        assert_eq!(groups("Request mode.\r\n[]\r\n"), Ok(vec![Group::NoAnswer]));
        // An echoed command and debug characters before the bracket are ignored.
        assert_eq!(groups("010C000304101DFF1EFF000080T60F40E[00]"), Ok(vec![Group::Answer(vec![0])]));
    }

    #[test]
    fn half_an_answer_and_garbage_are_named() {
        assert_eq!(groups("Request mode.\r\n[00110101"), Err(AnswerError::Unfinished));
        assert!(matches!(groups("[0G]"), Err(AnswerError::Garbled(g)) if g == "0G"));
        assert!(matches!(groups("[001]"), Err(AnswerError::Garbled(_))), "odd digits");
        assert!(matches!(groups("[78563412500104E0,6]"), Err(AnswerError::Garbled(_))));
        assert!(matches!(groups("[0000000000000000,6E]"), Err(AnswerError::Garbled(_))), "not a UID");
        assert!(matches!(groups("[\u{3042}]"), Err(AnswerError::Garbled(_))));
    }

    proptest::proptest! {
        /// Whatever the reader sends, reading it never panics, and a bracket's bytes read
        /// back as sent.
        #[test]
        fn any_answer_reads_without_a_panic(text in ".{0,200}", data in proptest::collection::vec(0u8.., 0..40)) {
            let _ = groups(&text);
            let answer = format!("Request mode.\r\n[{}]\r\n", hex(&data));
            let want = if data.is_empty() { Group::NoAnswer } else { Group::Answer(data) };
            proptest::prop_assert_eq!(groups(&answer), Ok(vec![want]));
        }
    }
}
