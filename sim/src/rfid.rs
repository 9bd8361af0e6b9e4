//! A virtual TRF7970A evaluation module on a pseudo-terminal, with ISO 15693 tags on its
//! pad: the reader's host protocol as its firmware (Revision 03) reads and answers it,
//! and tags with real memory (blocks, AFI, its lock, lock bits, DSFID).
//!
//! The firmware's strictness is kept: a frame must start exactly where the last one
//! ended, its length decides how many characters are read, and a stray character before
//! a frame leaves the reader confused (as the real board is). Inventories run ISO 15693's
//! 16-slot anti-collision over the tags' UIDs, so tags come back in slot order. A test
//! places and removes tags while the reader runs; `rfidgeek` (PyPI) and our driver open
//! [`VirtualReader::path`] as they would `/dev/ttyUSB0`.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use kiosk_rfid::evm::{hex, unhex};
use kiosk_rfid::iso15693::{Uid, command, flags};

/// One tag: what it holds and what it allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualTag {
    pub uid: Uid,
    pub dsfid: u8,
    pub afi: u8,
    pub afi_locked: bool,
    pub blocks: Vec<[u8; 4]>,
    pub locked: Vec<bool>,
}

impl VirtualTag {
    /// A blank NXP ICODE SLIX label: 28 blocks of 4 bytes, AFI 0.
    #[must_use]
    pub fn blank(serial: u32) -> VirtualTag {
        let s = serial.to_be_bytes();
        VirtualTag {
            uid: Uid([0xE0, 0x04, 0x01, 0x50, s[0], s[1], s[2], s[3]]),
            dsfid: 0,
            afi: 0,
            afi_locked: false,
            blocks: vec![[0; 4]; 28],
            locked: vec![false; 28],
        }
    }

    /// The tag with `bytes` written from block 0.
    #[must_use]
    pub fn with_data(mut self, bytes: &[u8]) -> VirtualTag {
        for (i, chunk) in bytes.chunks(4).enumerate() {
            if let Some(block) = self.blocks.get_mut(i) {
                block[..chunk.len()].copy_from_slice(chunk);
            }
        }
        self
    }
}

/// What the reader and the tags did, for tests to count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReaderStats {
    pub frames: usize,
    pub inventories: usize,
    pub block_writes: usize,
    pub afi_writes: usize,
    /// The time the air and the serial line took, in real time mode.
    pub simulated: Duration,
}

/// What the reader does wrong, for the bad-input tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The next answer stops halfway, and nothing more comes for it.
    pub half_answer: bool,
    /// Every tag's answer arrives damaged (a CRC error on the air): the reader says `[z]`.
    pub damaged_air: bool,
}

#[derive(Debug, Default)]
struct Pad {
    tags: Vec<VirtualTag>,
    stats: ReaderStats,
    faults: Faults,
    /// Take the time the air and the serial line take (ISO 15693's high data rate,
    /// 115200 baud).
    real_time: bool,
}

/// The virtual reader, running until dropped.
#[derive(Debug)]
pub struct VirtualReader {
    pad: Arc<Mutex<Pad>>,
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The slave end, kept open so the pseudo-terminal stays while nobody has it open.
    _slave: serialport::TTYPort,
}

impl VirtualReader {
    /// A reader on a new pseudo-terminal, its pad empty.
    ///
    /// # Errors
    /// No pseudo-terminal could be made.
    pub fn start() -> io::Result<VirtualReader> {
        let (mut master, slave) = serialport::TTYPort::pair().map_err(io::Error::other)?;
        // A process another test starts must not inherit the master end: it would keep
        // the line up after the reader is unplugged.
        for fd in [std::os::fd::AsRawFd::as_raw_fd(&master), std::os::fd::AsRawFd::as_raw_fd(&slave)] {
            use nix::fcntl::{FcntlArg, FdFlag, fcntl};
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(io::Error::from)?;
        }
        let path = serialport::SerialPort::name(&slave)
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other("the pty has no name"))?;
        serialport::SerialPort::set_timeout(&mut master, Duration::from_millis(20))
            .map_err(io::Error::other)?;
        let pad = Arc::new(Mutex::new(Pad::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (pad, stop) = (pad.clone(), stop.clone());
            std::thread::spawn(move || firmware(&mut master, &pad, &stop))
        };
        Ok(VirtualReader { pad, path, stop, thread: Some(thread), _slave: slave })
    }

    /// The serial device to open.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn pad(&self) -> std::sync::MutexGuard<'_, Pad> {
        self.pad.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a tag on the pad.
    pub fn place(&self, tag: VirtualTag) {
        let mut pad = self.pad();
        pad.tags.retain(|t| t.uid != tag.uid);
        pad.tags.push(tag);
    }

    /// Takes a tag off the pad.
    pub fn remove(&self, uid: Uid) -> Option<VirtualTag> {
        let mut pad = self.pad();
        let i = pad.tags.iter().position(|t| t.uid == uid)?;
        Some(pad.tags.remove(i))
    }

    /// A tag on the pad, as it is now.
    #[must_use]
    pub fn tag(&self, uid: Uid) -> Option<VirtualTag> {
        self.pad().tags.iter().find(|t| t.uid == uid).cloned()
    }

    #[must_use]
    pub fn stats(&self) -> ReaderStats {
        self.pad().stats.clone()
    }

    /// Changes what the reader does wrong.
    pub fn faults(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.pad().faults);
    }

    /// Answers only after the time the real reader would take: its frames on the serial
    /// line (86.8 µs a character) and the tags' exchanges on the air at ISO 15693's high
    /// data rate (`docs/rfid.md`, section 2.8).
    pub fn real_time(&self, on: bool) {
        self.pad().real_time = on;
    }

    /// The USB cable pulled: the serial line hangs up.
    pub fn unplug(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VirtualReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The firmware's loop: characters in, a frame when its length has arrived, the answer
/// out.
fn firmware(port: &mut serialport::TTYPort, pad: &Mutex<Pad>, stop: &AtomicBool) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 256];
    while !stop.load(Ordering::Relaxed) {
        match port.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
        while let Some((frame, used)) = next_frame(&pending) {
            pending.drain(..used);
            let (answer, wait) = {
                let mut pad = pad.lock().unwrap_or_else(PoisonError::into_inner);
                pad.stats.frames += 1;
                let (answer, air) = answer(&mut pad, &frame);
                let wait = pad.real_time.then(|| serial(used + answer.len()) + air);
                pad.stats.simulated += wait.unwrap_or_default();
                if core::mem::take(&mut pad.faults.half_answer) {
                    (answer.get(..answer.len() / 2).unwrap_or_default().to_owned(), wait)
                } else {
                    (answer, wait)
                }
            };
            if let Some(wait) = wait {
                std::thread::sleep(wait);
            }
            let _ = port.write_all(answer.as_bytes()).and_then(|()| port.flush());
        }
    }
}

/// A whole frame at the start of `pending` (the firmware insists on `01` there) and the
/// characters it used; `None` until all of it has come. Like the firmware, `\r` is
/// skipped, other non-hex characters count but are dropped.
fn next_frame(pending: &[u8]) -> Option<(Vec<u8>, usize)> {
    if pending.len() < 4 || &pending[..2] != b"01" {
        return None;
    }
    let len = usize::from(unhex(core::str::from_utf8(&pending[2..4]).ok()?)?.first().copied()?);
    // A length below the header's own is taken as the header: the firmware moves on.
    let chars = (2 * len).max(4);
    if pending.len() < chars {
        return None;
    }
    let digits: String =
        pending[..chars].iter().filter(|c| c.is_ascii_hexdigit()).map(|c| char::from(*c)).collect();
    let even = &digits[..digits.len() - digits.len() % 2];
    Some((unhex(even).unwrap_or_default(), chars))
}

/// The time `chars` characters take on the serial line at 115200 8N1.
fn serial(chars: usize) -> Duration {
    Duration::from_nanos(86_806 * u64::try_from(chars).unwrap_or(u64::MAX))
}

/// ISO 15693 at the high data rate, one subcarrier (`docs/rfid.md`, section 2.8), in
/// nanoseconds.
mod air {
    /// A byte from the reader (1-of-4).
    pub const READER_BYTE: u64 = 302_080;
    /// The reader's SOF and EOF.
    pub const READER_FRAMING: u64 = 75_520 + 37_760;
    /// A byte from a tag.
    pub const TAG_BYTE: u64 = 302_080;
    /// A tag's SOF and EOF.
    pub const TAG_FRAMING: u64 = 2 * 151_040;
    /// Reader's EOF to the tag's answer.
    pub const T1: u64 = 320_900;
    /// A tag's answer to the reader's next EOF.
    pub const T2: u64 = 309_200;
    /// An empty slot.
    pub const EMPTY_SLOT: u64 = 474_000;
    /// A slot marker (a lone EOF).
    pub const SLOT_MARKER: u64 = 37_760;
    /// A write's programming time at most (ISO/IEC 15693-3).
    pub const PROGRAMMING: u64 = 20_000_000;

    /// A request of `request` bytes and, after t1, its answer of `answer` bytes (CRCs
    /// added to both).
    pub fn exchange(request: usize, answer: usize) -> u64 {
        let n = |b: usize| u64::try_from(b + 2).unwrap_or(u64::MAX);
        n(request) * READER_BYTE + READER_FRAMING + T1 + n(answer) * TAG_BYTE + TAG_FRAMING
    }

    /// An inventory's `rounds`, with `answers` slots answered (a UID or a collision).
    pub fn inventory(rounds: u64, answers: u64) -> u64 {
        let request = 5 * READER_BYTE + READER_FRAMING;
        let answered = T1 + 12 * TAG_BYTE + TAG_FRAMING + T2;
        let empty = (16 * rounds).saturating_sub(answers);
        rounds * (request + 15 * SLOT_MARKER) + answers * answered + empty * EMPTY_SLOT
    }
}

/// The firmware's answer to one frame (`01 LL 00 03 04 CMD params… 00 00`), and the time
/// its tag exchanges take on the air.
fn answer(pad: &mut Pad, frame: &[u8]) -> (String, Duration) {
    let Some(&cmd) = frame.get(5) else { return ("\r\n".to_owned(), Duration::ZERO) };
    let params = frame.get(6..frame.len().saturating_sub(2)).unwrap_or_default();
    let text = |s: &str| (s.to_owned(), Duration::ZERO);
    match cmd {
        0xFF => text("TRF7970A EVM \r\n\r\n"),
        0xFE => text("Firmware Revision 03 from 11/Nov/2013 \r\n\r\n"),
        0x10 => text("Register write request.\r\n\r\n"),
        0xF0 => text("AGC Toggle\r\n"),
        0xF1 => text("AM PM Toggle\r\n"),
        0x14 => {
            pad.stats.inventories += 1;
            let afi =
                params.first().is_some_and(|f| f & flags::AFI != 0).then(|| params.get(2).copied()).flatten();
            let mut out = String::from("ISO 15693 Inventory request.\r\n");
            let (found, rounds) = inventory(&pad.tags, afi);
            for uid in &found {
                out.push_str(&format!("\r\n[{},6E]", hex(&uid.air())));
            }
            out.push_str("\r\n");
            let answers = u64::try_from(found.len()).unwrap_or(0) + rounds.collided;
            (out, Duration::from_nanos(air::inventory(rounds.rounds, answers)))
        }
        0x18 => {
            let tag = request(pad, params);
            let write = matches!(params.get(1), Some(&(command::WRITE_SINGLE | command::WRITE_AFI)));
            let ns = air::exchange(params.len(), tag.len() / 2) + if write { air::PROGRAMMING } else { 0 };
            let tag = if pad.faults.damaged_air && !tag.is_empty() { "z".to_owned() } else { tag };
            (format!("Request mode.\r\n[{tag}]\r\n"), Duration::from_nanos(ns))
        }
        0xF3..=0xFC => text(""),
        _ => text("\r\n"),
    }
}

/// Whether a tag with `tag_afi` answers an inventory for `afi` (ISO/IEC 15693-3: a nibble
/// of 0 in the request is a wildcard).
fn afi_matches(afi: Option<u8>, tag_afi: u8) -> bool {
    match afi {
        None | Some(0) => true,
        // `X0`: every sub-family of family X; `0Y`: the proprietary sub-family Y only;
        // `XY`: exactly that.
        Some(a) if a & 0x0F == 0 => a >> 4 == tag_afi >> 4,
        Some(a) => a == tag_afi,
    }
}

/// How many rounds an inventory took and how many of their slots collided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Rounds {
    rounds: u64,
    collided: u64,
}

/// The UIDs a 16-slot inventory finds, in the order the slots give them: the standard
/// anti-collision over the UIDs' low bits, a slot answered by two tags searched again
/// with a longer mask.
fn inventory(tags: &[VirtualTag], afi: Option<u8>) -> (Vec<Uid>, Rounds) {
    let answering: Vec<u64> =
        tags.iter().filter(|t| afi_matches(afi, t.afi)).map(|t| u64::from_be_bytes(t.uid.0)).collect();
    let mut found = Vec::new();
    let mut count = Rounds::default();
    let mut rounds = vec![(0u32, 0u64)];
    while let Some((len, mask)) = rounds.pop() {
        count.rounds += 1;
        let lowmask = if len == 0 { 0 } else { (1u64 << len) - 1 };
        let mut collided = Vec::new();
        for slot in 0..16u64 {
            let here: Vec<u64> = answering
                .iter()
                .copied()
                .filter(|u| u & lowmask == mask && (u >> len) & 0xF == slot)
                .collect();
            match here.as_slice() {
                [] => {}
                [one] => found.push(Uid(one.to_be_bytes())),
                _ if len + 4 < 64 => {
                    count.collided += 1;
                    collided.push((len + 4, mask | (slot << len)));
                }
                _ => {}
            }
        }
        rounds.extend(collided.into_iter().rev());
    }
    (found, count)
}

/// A request-mode answer: the tag's bytes in hex, `z` for several tags answering, "" for
/// none.
fn request(pad: &mut Pad, air: &[u8]) -> String {
    let (Some(&f), Some(&cmd)) = (air.first(), air.get(1)) else { return String::new() };
    let addressed = f & flags::INVENTORY == 0 && f & flags::ADDRESS != 0;
    let (target, data) = if addressed {
        let Some(uid) = air.get(2..10).and_then(Uid::from_air) else { return String::new() };
        (pad.tags.iter().position(|t| t.uid == uid), air.get(10..).unwrap_or_default())
    } else {
        match pad.tags.len() {
            0 => (None, air.get(2..).unwrap_or_default()),
            1 => (Some(0), air.get(2..).unwrap_or_default()),
            _ => {
                // Every tag carries out a request to all, and their answers collide
                // (how rfidgeek's AFI writes change every tag on the pad).
                let data = air.get(2..).unwrap_or_default().to_vec();
                for i in 0..pad.tags.len() {
                    let _ = carry_out(pad, i, cmd, &data);
                }
                return "z".to_owned();
            }
        }
    };
    let Some(i) = target else { return String::new() };
    let data = data.to_vec();
    carry_out(pad, i, cmd, &data)
}

/// Tag `i` carries out command `cmd` with `data`; its answer in hex.
fn carry_out(pad: &mut Pad, i: usize, cmd: u8, data: &[u8]) -> String {
    let Some(tag) = pad.tags.get_mut(i) else { return String::new() };
    let ok = |data: &[u8]| hex(&[&[0x00][..], data].concat());
    let err = |code: u8| hex(&[0x01, code]);
    match cmd {
        command::READ_SINGLE | command::READ_MULTIPLE => {
            let first = usize::from(data.first().copied().unwrap_or(0));
            let count = if cmd == command::READ_SINGLE {
                1
            } else {
                usize::from(data.get(1).copied().unwrap_or(0)) + 1
            };
            match tag.blocks.get(first..first + count) {
                Some(blocks) => ok(&blocks.concat()),
                None => err(0x10),
            }
        }
        command::WRITE_SINGLE => {
            let block = usize::from(data.first().copied().unwrap_or(0xFF));
            let Some(bytes) = data.get(1..5) else { return err(0x02) };
            match (tag.blocks.get_mut(block), tag.locked.get(block)) {
                (Some(_), Some(true)) => err(0x12),
                (Some(b), Some(false)) => {
                    b.copy_from_slice(bytes);
                    pad.stats.block_writes += 1;
                    ok(&[])
                }
                _ => err(0x10),
            }
        }
        command::WRITE_AFI => {
            let Some(&afi) = data.first() else { return err(0x02) };
            if tag.afi_locked {
                return err(0x12);
            }
            tag.afi = afi;
            pad.stats.afi_writes += 1;
            ok(&[])
        }
        command::LOCK_AFI => {
            if tag.afi_locked {
                return err(0x11);
            }
            tag.afi_locked = true;
            ok(&[])
        }
        command::SYSTEM_INFO => {
            let n = u8::try_from(tag.blocks.len().saturating_sub(1)).unwrap_or(0xFF);
            ok(&[&[0x0F][..], &tag.uid.air(), &[tag.dsfid, tag.afi, n, 0x03, 0x01]].concat())
        }
        _ => err(0x01),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: u64) -> VirtualTag {
        VirtualTag { uid: Uid((0xE004_0000_0000_0000 | s).to_be_bytes()), ..VirtualTag::blank(0) }
    }

    #[test]
    fn an_inventory_finds_every_tag_even_when_their_slots_collide() {
        // 0x18 and 0x28 share slot 8; 20 tags with the same low nibble.
        let tags: Vec<VirtualTag> = (0..20u64).map(|i| uid((i << 4) | 0x8)).collect();
        let (mut found, rounds) = inventory(&tags, None);
        assert_eq!(found.len(), 20);
        // Slot 8 collides; under it, slots 0 to 3 (tags 0–3 and 16–19) collide again.
        assert_eq!(rounds, Rounds { rounds: 6, collided: 5 });
        found.sort();
        found.dedup();
        assert_eq!(found.len(), 20);
        let two = [uid(0x78), uid(0x4D)];
        assert_eq!(inventory(&two, None).0, vec![two[0].uid, two[1].uid], "slot 8, then slot 13");
    }

    #[test]
    fn an_afi_inventory_finds_only_its_family() {
        let mut on_shelf = uid(1);
        on_shelf.afi = 0x07;
        let mut lent = uid(2);
        lent.afi = 0xC2;
        let tags = [on_shelf.clone(), lent];
        assert_eq!(inventory(&tags, Some(0x07)).0, vec![on_shelf.uid]);
        assert_eq!(inventory(&tags, None).0.len(), 2);
    }

    #[test]
    fn frames_wait_for_their_length_and_start_where_the_last_ended() {
        assert_eq!(next_frame(b"0108000304FF00"), None, "not all there yet");
        assert_eq!(next_frame(b"0108000304FF0000"), Some((vec![1, 8, 0, 3, 4, 0xFF, 0, 0], 16)));
        assert_eq!(next_frame(b"\n0108000304FF0000"), None, "a stray character confuses the firmware");
        assert_eq!(next_frame(b"01000000").map(|(_, used)| used), Some(4), "a zero length moves on");
    }

    #[test]
    fn afi_selection_follows_iso_15693() {
        assert!(afi_matches(None, 0xC2) && afi_matches(Some(0), 0x00));
        assert!(afi_matches(Some(0x07), 0x07));
        assert!(!afi_matches(Some(0x07), 0x17), "0Y: the proprietary sub-family only");
        assert!(afi_matches(Some(0xC0), 0xC2) && !afi_matches(Some(0xC0), 0x07));
        assert!(!afi_matches(Some(0x07), 0x00), "a blank tag never answers the gate");
    }
}
