//! The ISO 15693 requests the kiosk sends to a tag, and the tag's answers.
//!
//! Bytes here are as on the air without the CRC (the reader adds and strips it): the
//! flags byte, the command code, then the command's data; a UID travels least
//! significant byte first.

use core::fmt;

/// Request flags (ISO/IEC 15693-3, table 3 and 4).
pub mod flags {
    /// Two subcarriers (never used: one subcarrier is the default).
    pub const SUBCARRIERS: u8 = 0x01;
    /// High data rate (26.48 kbit/s): four times faster than the low rate.
    pub const HIGH_RATE: u8 = 0x02;
    /// An inventory request: bits 5–8 mean AFI / one slot / option.
    pub const INVENTORY: u8 = 0x04;
    /// Inventory: only tags with this AFI answer.
    pub const AFI: u8 = 0x10;
    /// Inventory: one slot instead of 16.
    pub const ONE_SLOT: u8 = 0x20;
    /// Not an inventory: the request names its tag by UID.
    pub const ADDRESS: u8 = 0x20;
    /// Not an inventory: the option flag (a TI Tag-it answers a write after a further
    /// EOF; on a read, each block's security status comes first).
    pub const OPTION: u8 = 0x40;
}

/// Command codes (ISO/IEC 15693-3, table 5).
pub mod command {
    pub const INVENTORY: u8 = 0x01;
    pub const READ_SINGLE: u8 = 0x20;
    pub const WRITE_SINGLE: u8 = 0x21;
    pub const READ_MULTIPLE: u8 = 0x23;
    pub const WRITE_AFI: u8 = 0x27;
    pub const LOCK_AFI: u8 = 0x28;
    pub const SYSTEM_INFO: u8 = 0x2B;
    /// NXP custom command (ICODE SLI/SLIX): the EAS bit on; the exit gate's EAS Alarm
    /// then finds the tag.
    pub const SET_EAS: u8 = 0xA2;
    /// NXP custom command: the EAS bit off.
    pub const RESET_EAS: u8 = 0xA3;
    /// NXP custom command: the EAS bit frozen as it is, for good. Never sent by the kiosk.
    pub const LOCK_EAS: u8 = 0xA4;
    /// NXP custom command: a tag whose EAS bit is on answers, one whose bit is off stays
    /// silent.
    pub const EAS_ALARM: u8 = 0xA5;

    /// Whether `cmd` is a custom command (A0–DF): the IC manufacturer's code follows it,
    /// and a tag of another manufacturer ignores it.
    #[must_use]
    pub fn is_custom(cmd: u8) -> bool {
        (0xA0..=0xDF).contains(&cmd)
    }
}

/// IC manufacturer codes (ISO/IEC 7816-6), the second byte of a UID.
pub mod manufacturer {
    /// NXP (ICODE SLI, SLIX): has the EAS bit.
    pub const NXP: u8 = 0x04;
    /// Texas Instruments (Tag-it HF-I): answers a write only with the option flag.
    pub const TEXAS_INSTRUMENTS: u8 = 0x07;
}

/// A tag's unique identifier, most significant byte first: `E0`, the manufacturer
/// (ISO/IEC 7816-6: `04` NXP, `07` Texas Instruments), then the serial.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(pub [u8; 8]);

impl Uid {
    /// The UID from its on-air order (least significant byte first); `None` unless it is
    /// 8 bytes ending in `E0`.
    #[must_use]
    pub fn from_air(bytes: &[u8]) -> Option<Uid> {
        let mut uid: [u8; 8] = bytes.try_into().ok()?;
        uid.reverse();
        (uid[0] == 0xE0).then_some(Uid(uid))
    }

    /// On-air order, least significant byte first.
    #[must_use]
    pub fn air(&self) -> [u8; 8] {
        let mut b = self.0;
        b.reverse();
        b
    }

    /// The manufacturer's code.
    #[must_use]
    pub fn manufacturer(&self) -> u8 {
        self.0[1]
    }

    /// Whether a write to this tag needs the option flag (Texas Instruments' Tag-it
    /// answers a write only after a further EOF).
    #[must_use]
    pub fn write_needs_option(&self) -> bool {
        self.manufacturer() == manufacturer::TEXAS_INSTRUMENTS
    }

    /// Whether the tag has an EAS bit: NXP's tags do, through NXP's custom commands;
    /// other manufacturers' (Texas Instruments' Tag-it) do not.
    #[must_use]
    pub fn has_eas(&self) -> bool {
        self.manufacturer() == manufacturer::NXP
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uid({self})")
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// A request to the tags in the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Every tag (or every tag with this AFI) answers with its UID, in 16 slots.
    Inventory { afi: Option<u8> },
    /// `count` blocks from `first` (1 to 256).
    ReadBlocks { uid: Uid, first: u8, count: u16 },
    /// One block of 4 bytes.
    WriteBlock { uid: Uid, block: u8, data: [u8; 4] },
    /// The tag's application family identifier: what the exit gate looks for.
    WriteAfi { uid: Uid, afi: u8 },
    /// DSFID, AFI and memory size.
    SystemInfo { uid: Uid },
    /// NXP: the EAS bit on (the exit gate's EAS Alarm finds the tag).
    SetEas { uid: Uid },
    /// NXP: the EAS bit off.
    ResetEas { uid: Uid },
    /// NXP: the tag answers only while its EAS bit is on.
    EasAlarm { uid: Uid },
}

impl Request {
    /// The request's bytes on the air, without the CRC; `None` for a read of 0 or more
    /// than 256 blocks.
    #[must_use]
    pub fn air(&self) -> Option<Vec<u8>> {
        use flags::{ADDRESS, AFI, HIGH_RATE, INVENTORY, OPTION};
        let addressed = |uid: &Uid, option: bool, cmd: u8| {
            let mut v = vec![HIGH_RATE | ADDRESS | if option { OPTION } else { 0 }, cmd];
            v.extend_from_slice(&uid.air());
            v
        };
        let custom = |uid: &Uid, cmd: u8| {
            let mut v = vec![HIGH_RATE | ADDRESS, cmd, manufacturer::NXP];
            v.extend_from_slice(&uid.air());
            v
        };
        Some(match self {
            Request::Inventory { afi: None } => vec![HIGH_RATE | INVENTORY, command::INVENTORY, 0],
            Request::Inventory { afi: Some(a) } => {
                vec![HIGH_RATE | INVENTORY | AFI, command::INVENTORY, *a, 0]
            }
            Request::ReadBlocks { uid, first, count } => {
                let n = u8::try_from(count.checked_sub(1)?).ok()?;
                let mut v = addressed(uid, false, command::READ_MULTIPLE);
                v.extend_from_slice(&[*first, n]);
                v
            }
            Request::WriteBlock { uid, block, data } => {
                let mut v = addressed(uid, uid.write_needs_option(), command::WRITE_SINGLE);
                v.push(*block);
                v.extend_from_slice(data);
                v
            }
            Request::WriteAfi { uid, afi } => {
                let mut v = addressed(uid, uid.write_needs_option(), command::WRITE_AFI);
                v.push(*afi);
                v
            }
            Request::SystemInfo { uid } => addressed(uid, false, command::SYSTEM_INFO),
            // NXP's custom commands: the manufacturer's code before the UID. No option
            // flag: an NXP tag answers a write by itself, and the reader's firmware sends
            // the EOF an option-flag write waits for only after ISO commands (and A5).
            Request::SetEas { uid } => custom(uid, command::SET_EAS),
            Request::ResetEas { uid } => custom(uid, command::RESET_EAS),
            Request::EasAlarm { uid } => custom(uid, command::EAS_ALARM),
        })
    }
}

/// A tag's error code (ISO/IEC 15693-3, table 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("the tag does not support this command")]
    NotSupported,
    #[error("the tag did not recognise the command (a format error)")]
    NotRecognised,
    #[error("the tag does not support this option")]
    OptionNotSupported,
    #[error("the tag reported an error without a reason")]
    Unknown,
    #[error("no such block on this tag")]
    NoSuchBlock,
    #[error("the block is locked already")]
    AlreadyLocked,
    #[error("locked: the tag refuses to change it")]
    Locked,
    #[error("the tag could not program the block")]
    NotProgrammed,
    #[error("the tag could not lock the block")]
    NotLocked,
    #[error("the tag's own error code {0:#04x}")]
    Other(u8),
    #[error("the tag's answer was empty")]
    Empty,
}

impl TagError {
    fn from_code(code: u8) -> TagError {
        match code {
            0x01 => TagError::NotSupported,
            0x02 => TagError::NotRecognised,
            0x03 => TagError::OptionNotSupported,
            0x0F => TagError::Unknown,
            0x10 => TagError::NoSuchBlock,
            0x11 => TagError::AlreadyLocked,
            0x12 => TagError::Locked,
            0x13 => TagError::NotProgrammed,
            0x14 => TagError::NotLocked,
            other => TagError::Other(other),
        }
    }
}

/// A tag's answer: its data after the response flags, or the error it gave.
///
/// # Errors
/// The tag's error code, or [`TagError::Empty`].
pub fn response(bytes: &[u8]) -> Result<&[u8], TagError> {
    let (&flags, rest) = bytes.split_first().ok_or(TagError::Empty)?;
    if flags & 0x01 == 0 { Ok(rest) } else { Err(TagError::from_code(rest.first().copied().unwrap_or(0x0F))) }
}

/// What Get System Information said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemInfo {
    pub uid: Uid,
    pub dsfid: Option<u8>,
    pub afi: Option<u8>,
    /// Blocks and bytes per block.
    pub memory: Option<(u16, u8)>,
    pub ic_reference: Option<u8>,
}

impl SystemInfo {
    /// Reads the data of a Get System Information answer (after the response flags).
    #[must_use]
    pub fn parse(data: &[u8]) -> Option<SystemInfo> {
        let (&info, rest) = data.split_first()?;
        let uid = Uid::from_air(rest.get(..8)?)?;
        let mut rest = rest.get(8..)?;
        let mut take = |present: bool, n: usize| -> Option<Option<&[u8]>> {
            if !present {
                return Some(None);
            }
            let (field, tail) = (rest.get(..n)?, rest.get(n..)?);
            rest = tail;
            Some(Some(field))
        };
        let dsfid = take(info & 0x01 != 0, 1)?.map(|b| b[0]);
        let afi = take(info & 0x02 != 0, 1)?.map(|b| b[0]);
        let memory = take(info & 0x04 != 0, 2)?.map(|b| (u16::from(b[0]) + 1, (b[1] & 0x1F) + 1));
        let ic_reference = take(info & 0x08 != 0, 1)?.map(|b| b[0]);
        Some(SystemInfo { uid, dsfid, afi, memory, ic_reference })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG_A: Uid = Uid([0xE0, 0x04, 0x01, 0x50, 0x12, 0x34, 0x56, 0x78]);
    const TAG_B: Uid = Uid([0xE0, 0x07, 0x00, 0x00, 0x1A, 0x2B, 0x3C, 0x4D]);

    #[test]
    fn a_uid_reads_from_the_air_back_to_front() {
        let air = [0x78, 0x56, 0x34, 0x12, 0x50, 0x01, 0x04, 0xE0];
        assert_eq!(Uid::from_air(&air), Some(TAG_A));
        assert_eq!(TAG_A.air(), air);
        assert_eq!(TAG_A.to_string(), "E004015012345678");
        assert_eq!(Uid::from_air(&air[..7]), None);
        assert_eq!(Uid::from_air(&[0; 8]), None, "not an ISO 15693 UID");
        assert!(TAG_B.write_needs_option() && !TAG_A.write_needs_option());
    }

    #[test]
    fn requests_are_the_bytes_the_standard_says() {
        assert_eq!(Request::Inventory { afi: None }.air(), Some(vec![0x06, 0x01, 0x00]));
        assert_eq!(Request::Inventory { afi: Some(0x07) }.air(), Some(vec![0x16, 0x01, 0x07, 0x00]));
        let read = Request::ReadBlocks { uid: TAG_A, first: 0, count: 8 }.air();
        assert_eq!(read, Some([&[0x22, 0x23][..], &TAG_A.air(), &[0x00, 0x07]].concat()));
        assert_eq!(Request::ReadBlocks { uid: TAG_A, first: 0, count: 0 }.air(), None);
        assert_eq!(Request::ReadBlocks { uid: TAG_A, first: 0, count: 257 }.air(), None);
        let write = Request::WriteBlock { uid: TAG_B, block: 1, data: [1, 2, 3, 4] }.air();
        assert_eq!(write.map(|w| w[0]), Some(0x62), "a Tag-it write carries the option flag");
        let afi = Request::WriteAfi { uid: TAG_A, afi: 0xC2 }.air();
        assert_eq!(afi, Some([&[0x22, 0x27][..], &TAG_A.air(), &[0xC2]].concat()));
        let afi = Request::WriteAfi { uid: TAG_B, afi: 0xC2 }.air();
        assert_eq!(afi.map(|w| w[0]), Some(0x62), "a Tag-it AFI write carries the option flag");
    }

    #[test]
    fn eas_requests_are_nxp_s_custom_commands() {
        // Flags 22, the command, NXP's code 04, then the UID.
        let set = Request::SetEas { uid: TAG_A }.air();
        assert_eq!(set, Some([&[0x22, 0xA2, 0x04][..], &TAG_A.air()].concat()));
        let reset = Request::ResetEas { uid: TAG_A }.air();
        assert_eq!(reset, Some([&[0x22, 0xA3, 0x04][..], &TAG_A.air()].concat()));
        let alarm = Request::EasAlarm { uid: TAG_A }.air();
        assert_eq!(alarm, Some([&[0x22, 0xA5, 0x04][..], &TAG_A.air()].concat()));
        assert!(TAG_A.has_eas() && !TAG_B.has_eas(), "a Tag-it has no EAS bit");
        assert!(command::is_custom(command::EAS_ALARM) && !command::is_custom(command::WRITE_AFI));
    }

    #[test]
    fn a_tag_s_error_is_named() {
        assert_eq!(response(&[0x00, 0xAA]), Ok(&[0xAA][..]));
        assert_eq!(response(&[0x01, 0x12]), Err(TagError::Locked));
        assert_eq!(response(&[0x01, 0x10]), Err(TagError::NoSuchBlock));
        assert_eq!(response(&[0x01]), Err(TagError::Unknown));
        assert_eq!(response(&[0x01, 0xA7]), Err(TagError::Other(0xA7)));
        assert_eq!(response(&[]), Err(TagError::Empty));
    }

    #[test]
    fn system_information_reads_its_optional_fields() {
        // Info flags 0F: DSFID 3E, AFI 07, 28 blocks of 4 bytes, IC reference 01.
        let data = [&[0x0F][..], &TAG_A.air(), &[0x3E, 0x07, 0x1B, 0x03, 0x01]].concat();
        let info = SystemInfo::parse(&data);
        assert_eq!(
            info,
            Some(SystemInfo {
                uid: TAG_A,
                dsfid: Some(0x3E),
                afi: Some(0x07),
                memory: Some((28, 4)),
                ic_reference: Some(0x01)
            })
        );
        let only_afi = [&[0x02][..], &TAG_A.air(), &[0xC2]].concat();
        assert_eq!(SystemInfo::parse(&only_afi).and_then(|i| i.afi), Some(0xC2));
        assert_eq!(SystemInfo::parse(&[0x0F]), None);
        assert_eq!(SystemInfo::parse(&data[..data.len() - 1]), None, "a field cut short");
    }
}
