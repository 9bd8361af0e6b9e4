//! The two CRCs an ISO 15693 library tag meets.

/// ISO 15693's CRC on the air (ISO/IEC 13239, "CRC-16/X-25"): polynomial 0x1021
/// reflected, initial 0xFFFF, final complement; sent least significant byte first. The
/// reader adds and strips it; the virtual reader needs it to make and break frames.
#[must_use]
pub fn iso15693(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x8408 } else { crc >> 1 };
        }
    }
    !crc
}

/// Whether `frame` ends with its correct ISO 15693 CRC (least significant byte first).
#[must_use]
pub fn iso15693_ok(frame: &[u8]) -> bool {
    match frame.len().checked_sub(2) {
        Some(n) => {
            let [lo, hi] = iso15693(&frame[..n]).to_le_bytes();
            frame[n] == lo && frame[n + 1] == hi
        }
        None => false,
    }
}

/// The Danish data model's CRC ("CRC-16/CCITT-FALSE"): polynomial 0x1021, initial
/// 0xFFFF, not reflected, no final XOR.
#[must_use]
pub fn danish(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 == 0 { crc << 1 } else { (crc << 1) ^ 0x1021 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iso_crc_gives_the_standard_check_value_and_the_worked_examples() {
        assert_eq!(iso15693(b"123456789"), 0x906E);
        assert_eq!(iso15693(&[0x26, 0x01, 0x00]), 0x0AF6);
        assert_eq!(iso15693(&[0x06, 0x01, 0x00]), 0x09CD);
        assert_eq!(iso15693(&[0x00]), 0xF078);
        assert!(iso15693_ok(&[0x26, 0x01, 0x00, 0xF6, 0x0A]));
        assert!(!iso15693_ok(&[0x26, 0x01, 0x00, 0x0A, 0xF6]));
        assert!(!iso15693_ok(&[0xF6]));
    }

    #[test]
    fn the_danish_crc_gives_the_models_own_test_vector() {
        assert_eq!(danish(b"123456789"), 0x29B1);
        assert_eq!(danish(b"RFID tag data model"), 0x1AEE);
    }
}
