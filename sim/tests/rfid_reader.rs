//! The RFID driver (`kiosk-rfid`'s `EvmReader`) against the virtual TRF7970A on a real
//! pseudo-terminal: set-up, an inventory of a stack, the Danish model read and written,
//! the AFI switched and read back, a locked AFI and a tag taken away named, an NXP tag's
//! EAS bit switched and read back (a Tag-it's absence of one named), each maker's tags
//! written with the option flag they need; and the proof
//! that the virtual reader is faithful: `rfidgeek` (PyPI), the reader's own Python client,
//! inventories, reads and writes tags on it, and our driver reads what it wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use kiosk_rfid::danish::{self, DanishTag, Usage};
use kiosk_rfid::{EvmReader, ReaderError, TagError, Uid};
use kiosk_sim::rfid::{VirtualReader, VirtualTag};

fn item(barcode: &str, parts: u8, part: u8) -> Vec<u8> {
    let tag = DanishTag {
        version: 1,
        usage: Usage::Circulating,
        parts,
        part,
        item: barcode.into(),
        country: "JP".into(),
        library: "1000001".into(),
    };
    danish::encode(&tag).unwrap().to_vec()
}

fn reader(v: &VirtualReader) -> EvmReader {
    EvmReader::open(v.path().to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_stack_of_twenty_is_inventoried_read_and_switched() {
    let v = VirtualReader::start().unwrap();
    // Twenty labels whose UIDs share their low nibble: every slot of the first round collides.
    let tags: Vec<VirtualTag> = (0..20u32)
        .map(|i| VirtualTag::blank((i << 4) | 0x8).with_data(&item(&format!("75000{i:03}"), 1, 1)))
        .collect();
    for t in &tags {
        v.place(t.clone());
    }
    let mut r = reader(&v);
    let inventory = r.inventory(None).unwrap();
    assert!(inventory.complete);
    let mut found = inventory.uids;
    assert_eq!(found.len(), 20);
    found.sort();
    let mut want: Vec<Uid> = tags.iter().map(|t| t.uid).collect();
    want.sort();
    assert_eq!(found, want);

    let uid = tags[3].uid;
    let blocks = r.read_blocks(uid, 0, 8).unwrap();
    assert_eq!(danish::decode(&blocks).map(|t| t.item), Ok("75000003".to_owned()));

    // Lent: the AFI says "checked out"; an AFI inventory for "on shelf" no longer sees it.
    for t in &tags {
        r.write_afi(t.uid, 0x07).unwrap();
    }
    r.write_afi(uid, 0xC2).unwrap();
    assert_eq!(v.tag(uid).map(|t| t.afi), Some(0xC2));
    let on_shelf = r.inventory(Some(0x07)).unwrap().uids;
    assert_eq!(on_shelf.len(), 19);
    assert!(!on_shelf.contains(&uid));
    assert_eq!(r.system_info(uid).unwrap().afi, Some(0xC2));
}

#[test]
fn a_locked_afi_and_a_tag_taken_away_are_named() {
    let v = VirtualReader::start().unwrap();
    let mut locked = VirtualTag::blank(1);
    locked.afi = 0x07;
    locked.afi_locked = true;
    v.place(locked.clone());
    let mut r = reader(&v);
    assert!(matches!(r.write_afi(locked.uid, 0xC2), Err(ReaderError::Tag(TagError::Locked))));
    assert_eq!(v.tag(locked.uid).map(|t| t.afi), Some(0x07), "unchanged");
    v.remove(locked.uid);
    assert!(matches!(r.read_blocks(locked.uid, 0, 8), Err(ReaderError::NoTag)));
    // Blocks past the tag's end are the tag's own error.
    let short = VirtualTag::blank(2);
    v.place(short.clone());
    assert!(matches!(r.read_blocks(short.uid, 27, 2), Err(ReaderError::Tag(TagError::NoSuchBlock))));
    // A write is confirmed by reading it back.
    r.write_block(short.uid, 5, [1, 2, 3, 4]).unwrap();
    assert_eq!(v.tag(short.uid).map(|t| t.blocks[5]), Some([1, 2, 3, 4]));
}

#[test]
fn something_that_is_not_the_reader_is_named() {
    // A pseudo-terminal nobody answers on.
    let (_master, slave) = serialport::TTYPort::pair().unwrap();
    let path = serialport::SerialPort::name(&slave).unwrap();
    match EvmReader::open(&path) {
        Err(ReaderError::Timeout(_)) => {}
        other => panic!("{other:?}"),
    }
    match EvmReader::open("/dev/kiosk-no-such-reader") {
        Err(e @ ReaderError::Open { .. }) => assert!(e.to_string().contains("plugged in"), "{e}"),
        other => panic!("{other:?}"),
    }
}

/// An NXP tag's EAS bit switched on and off, each read back with EAS Alarm; silence is
/// "off" only from a tag that is there; the bit stays with the tag when it leaves the pad
/// and comes back.
#[test]
fn eas_is_set_reset_read_back_and_stays_with_the_tag() {
    let v = VirtualReader::start().unwrap();
    let tag = VirtualTag::blank(0x0E45).with_data(&item("75000045", 1, 1));
    v.place(tag.clone());
    let mut r = reader(&v);
    assert!(!r.eas(tag.uid).unwrap(), "a new label's bit is off");
    r.set_eas(tag.uid, true).unwrap();
    assert_eq!(v.tag(tag.uid).and_then(|t| t.eas), Some(true));
    assert!(r.eas(tag.uid).unwrap());
    // Taken away: not "off", but no tag.
    let away = v.remove(tag.uid).unwrap();
    assert!(matches!(r.eas(tag.uid), Err(ReaderError::NoTag)));
    assert!(matches!(r.set_eas(tag.uid, false), Err(ReaderError::Unconfirmed)));
    // Back on the pad, the bit is as it was.
    v.place(away);
    assert!(r.eas(tag.uid).unwrap());
    r.set_eas(tag.uid, false).unwrap();
    assert_eq!(v.tag(tag.uid).and_then(|t| t.eas), Some(false));
    assert!(!r.eas(tag.uid).unwrap());
    // Switching a bit that is already so is confirmed too.
    r.set_eas(tag.uid, false).unwrap();
    assert_eq!(v.stats().eas_writes, 3);
    // The tag's data is untouched.
    assert_eq!(danish::decode(&r.read_blocks(tag.uid, 0, 8).unwrap()).map(|t| t.item), Ok("75000045".into()));
    // Every answer damaged: the bit read is a collision, a write is never reported done.
    v.faults(|f| f.damaged_air = true);
    assert!(matches!(r.eas(tag.uid), Err(ReaderError::Collision)));
    assert!(matches!(r.set_eas(tag.uid, true), Err(ReaderError::Unconfirmed)));
    v.faults(|f| f.damaged_air = false);
    assert!(r.eas(tag.uid).unwrap(), "the tag took it");
}

/// A Texas Instruments Tag-it has no EAS bit: named, and nothing is sent to it. An NXP
/// tag that says it has none is named the same way.
#[test]
fn a_tag_without_eas_is_named() {
    let v = VirtualReader::start().unwrap();
    let ti = VirtualTag::tag_it(0x1A2B_3C4D);
    v.place(ti.clone());
    let mut r = reader(&v);
    let frames = v.stats().frames;
    let e = r.set_eas(ti.uid, true).unwrap_err();
    assert!(matches!(e, ReaderError::NoEas(uid) if uid == ti.uid), "{e:?}");
    assert!(e.to_string().contains("E00700001A2B3C4D"), "{e}");
    assert!(matches!(r.eas(ti.uid), Err(ReaderError::NoEas(_))));
    assert_eq!(v.stats().frames, frames, "nothing sent");
    let plain = VirtualTag { eas: None, ..VirtualTag::blank(9) };
    v.place(plain.clone());
    assert!(matches!(r.set_eas(plain.uid, true), Err(ReaderError::NoEas(_))));
    assert!(matches!(r.eas(plain.uid), Err(ReaderError::NoEas(_))));
    assert_eq!(v.stats().eas_writes, 0);
}

/// One request-mode frame sent on a raw port, and the reader's answer up to its line end.
fn raw_request(port: &mut dyn serialport::SerialPort, air: &[u8]) -> String {
    let frame = kiosk_rfid::evm::frame(kiosk_rfid::evm::command::REQUEST, air).unwrap();
    port.write_all(frame.as_bytes()).unwrap();
    let mut text = String::new();
    let start = std::time::Instant::now();
    let mut buf = [0u8; 256];
    while !text.contains("]\r\n") && start.elapsed() < std::time::Duration::from_secs(2) {
        if let Ok(n) = port.read(&mut buf) {
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
    text
}

/// Texas Instruments' Tag-it answers a write only when the request has the option flag
/// (the firmware then sends the EOF it waits for): without it the reader hears nothing.
/// The driver picks the flag by manufacturer, so both makers' tags are written at the
/// first try; a locked AFI is named on either.
#[test]
fn each_maker_s_tags_are_written_with_the_option_flag_they_need() {
    let v = VirtualReader::start().unwrap();
    let ti = VirtualTag::tag_it(0x1A2B_3C4D);
    let nxp = VirtualTag::blank(0x1234_5678);
    v.place(ti.clone());
    v.place(nxp.clone());
    {
        let path = v.path().to_str().unwrap();
        let mut port =
            serialport::new(path, 115_200).timeout(std::time::Duration::from_millis(20)).open().unwrap();
        let write =
            |flags: u8, tag: &VirtualTag| [&[flags, 0x21][..], &tag.uid.air(), &[2, 9, 8, 7, 6]].concat();
        assert_eq!(raw_request(&mut *port, &write(0x22, &ti)), "Request mode.\r\n[]\r\n");
        assert_eq!(raw_request(&mut *port, &write(0x62, &ti)), "Request mode.\r\n[00]\r\n");
        assert_eq!(raw_request(&mut *port, &write(0x22, &nxp)), "Request mode.\r\n[00]\r\n");
        assert_eq!(raw_request(&mut *port, &write(0x62, &nxp)), "Request mode.\r\n[00]\r\n");
    }
    let mut r = reader(&v);
    for tag in [&ti, &nxp] {
        let frames = v.stats().frames;
        r.write_block(tag.uid, 5, [1, 2, 3, 4]).unwrap();
        r.write_afi(tag.uid, 0x07).unwrap();
        assert_eq!(v.stats().frames - frames, 4, "{}: each write answered at the first try", tag.uid);
        let now = v.tag(tag.uid).unwrap();
        assert_eq!((now.blocks[5], now.afi), ([1, 2, 3, 4], 0x07));
    }
    let mut locked = VirtualTag::tag_it(0x0BAD_AF15);
    locked.afi = 0x07;
    locked.afi_locked = true;
    v.place(locked.clone());
    assert!(matches!(r.write_afi(locked.uid, 0xC2), Err(ReaderError::Tag(TagError::Locked))));
    assert_eq!(v.tag(locked.uid).map(|t| t.afi), Some(0x07));
}

/// The test virtualenv's Python (`cargo xtask test` installs rfidgeek into it).
fn python() -> PathBuf {
    let venv = std::env::var_os("KIOSK_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv"));
    venv.join("bin/python")
}

/// rfidgeek drives the virtual reader as it would the board: set-up, inventory, the
/// Danish model read (its CRC checked by rfidgeek), a tag written; our driver then reads
/// the tag rfidgeek wrote (rfidgeek swaps the set's two bytes: read the same).
#[test]
fn rfidgeek_inventories_reads_and_writes_tags_on_the_virtual_reader() {
    let v = VirtualReader::start().unwrap();
    let a = VirtualTag::blank(0x1234_5678).with_data(&item("75000001", 1, 1));
    let b = VirtualTag::blank(0x1A2B_3C4D);
    v.place(a.clone());
    v.place(b.clone());
    let script = r#"
import sys
from rfidgeek import PyRFIDGeek, ISO15693
r = PyRFIDGeek(sys.argv[1])
r.set_protocol(ISO15693)
uids = list(r.inventory())
print("UIDS " + " ".join(uids))
t = r.read_danish_model_tag(sys.argv[2])
print("READ %s %s %s" % (t["id"], t["crc_ok"], t["usage_type"]))
ok = r.write_danish_model_tag(sys.argv[3], {"id": "75000002", "partno": 2, "nparts": 3, "country": "JP", "library": "1000001"})
print("WROTE %s" % ok)
r.close()
"#;
    let out = Command::new(python())
        .args(["-c", script, v.path().to_str().unwrap()])
        .arg(kiosk_rfid::evm::hex(&a.uid.air()))
        .arg(kiosk_rfid::evm::hex(&b.uid.air()))
        .output()
        .expect("the test virtualenv's python (cargo xtask test makes it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = |p: &str| stdout.lines().find(|l| l.starts_with(p)).unwrap_or_default().to_owned();
    let mut uids: Vec<String> = line("UIDS ").split_whitespace().skip(1).map(str::to_owned).collect();
    uids.sort();
    let mut want = vec![kiosk_rfid::evm::hex(&a.uid.air()), kiosk_rfid::evm::hex(&b.uid.air())];
    want.sort();
    assert_eq!(uids, want);
    assert_eq!(line("READ "), "READ 75000001 True for-circulation");
    assert_eq!(line("WROTE "), "WROTE True");
    let mut r = reader(&v);
    let written = danish::decode(&r.read_blocks(b.uid, 0, 8).unwrap()).unwrap();
    assert_eq!((written.item.as_str(), written.parts, written.part), ("75000002", 3, 2));
}

#[test]
fn half_an_answer_damaged_air_and_a_pulled_cable_are_named() {
    let mut v = VirtualReader::start().unwrap();
    let tag = VirtualTag::blank(7).with_data(&item("75000007", 1, 1));
    v.place(tag.clone());
    let mut r = reader(&v);
    // Half an answer, then silence: the request's deadline, and the next one works.
    v.faults(|f| f.half_answer = true);
    assert!(matches!(r.read_blocks(tag.uid, 0, 8), Err(ReaderError::Timeout(_))));
    assert_eq!(r.read_blocks(tag.uid, 0, 8).map(|b| b.len()).ok(), Some(32));
    // Every answer damaged on the air: tried three times, then named, never data.
    v.faults(|f| f.damaged_air = true);
    let frames = v.stats().frames;
    assert!(matches!(r.read_blocks(tag.uid, 0, 8), Err(ReaderError::Collision)));
    assert_eq!(v.stats().frames - frames, 3);
    // A write whose answers are all lost may have happened: it is never reported as
    // refused (here the tag took it).
    assert!(matches!(r.write_afi(tag.uid, 0xC2), Err(ReaderError::Unconfirmed)));
    assert_eq!(v.tag(tag.uid).map(|t| t.afi), Some(0xC2));
    v.faults(|f| f.damaged_air = false);
    r.write_afi(tag.uid, 0x07).unwrap();
    // The cable pulled: named at once, not after a deadline.
    v.unplug();
    let t = std::time::Instant::now();
    let gone = r.inventory(None);
    assert!(matches!(gone, Err(ReaderError::Gone)), "{gone:?}");
    assert!(t.elapsed() < std::time::Duration::from_secs(1), "{:?}", t.elapsed());
}

#[test]
fn in_real_time_the_air_and_the_serial_line_take_what_iso_15693_says() {
    let v = VirtualReader::start().unwrap();
    v.place(VirtualTag::blank(0x78));
    v.place(VirtualTag::blank(0x4D));
    let mut r = reader(&v);
    v.real_time(true);
    assert_eq!(r.inventory(None).unwrap().uids.len(), 2);
    // 17.9 ms on the air (one round, two answers, fourteen empty slots) and 100
    // characters on the serial line (8.7 ms).
    let simulated = v.stats().simulated;
    let ms = simulated.as_secs_f64() * 1000.0;
    assert!((26.0..27.5).contains(&ms), "{simulated:?}");
    // Eight blocks: 15.5 ms on the air, 40 + 85 characters on the line.
    r.read_blocks(VirtualTag::blank(0x78).uid, 0, 8).unwrap();
    let ms = (v.stats().simulated - simulated).as_secs_f64() * 1000.0;
    assert!((26.0..27.5).contains(&ms), "{ms} ms");
}
