//! The configfs script writes the report descriptor this crate's reports are made for,
//! and every key code a layout types is within the descriptor's range.

use std::path::Path;
use std::process::Command;

use kiosk_keyboard::{Layout, REPORT_DESCRIPTOR, reports};

#[test]
fn the_script_writes_our_report_descriptor() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/usb-gadget/kiosk-usb-gadget.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    let line = text.lines().find(|l| l.starts_with("DESCRIPTOR=")).expect("DESCRIPTOR= line");
    let quoted = line.trim_start_matches("DESCRIPTOR='").trim_end_matches('\'');
    // printf(1) turns the octal escapes into bytes, as the script does.
    let out = Command::new("printf").arg(quoted).output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, REPORT_DESCRIPTOR);
    let sh = Command::new("sh").arg("-n").arg(&script).status().unwrap();
    assert!(sh.success(), "the script parses");
}

#[test]
fn every_key_code_typed_is_within_the_descriptors_logical_maximum() {
    // Logical maximum of the key array: `26 A4 00` (16-bit, so it is not negative).
    let max = REPORT_DESCRIPTOR.windows(3).find(|w| w[0] == 0x26).map(|w| u16::from_le_bytes([w[1], w[2]]));
    let max = max.expect("a 16-bit logical maximum");
    let printable: String = (0x20u8..0x7f).map(char::from).collect();
    for layout in [Layout::Us, Layout::Jis] {
        for report in reports(&printable, layout).unwrap() {
            assert!(report[2..].iter().all(|&k| u16::from(k) <= max), "{layout:?}: {report:?}");
        }
    }
}
