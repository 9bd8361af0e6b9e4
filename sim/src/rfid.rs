//! A virtual TRF7970A evaluation module on a pseudo-terminal, with ISO 15693 tags on its
//! pad: the reader's host protocol as its firmware (Revision 03) reads and answers it,
//! and tags with real memory (blocks, AFI, its lock, lock bits, DSFID, an NXP tag's EAS
//! bit).
//!
//! The firmware's strictness is kept: a frame must start exactly where the last one
//! ended, its length decides how many characters are read, and a stray character before
//! a frame leaves the reader confused (as the real board is). Inventories run ISO 15693's
//! 16-slot anti-collision over the tags' UIDs, so tags come back in slot order. Tags
//! behave as their manufacturer's do: an NXP tag carries out NXP's custom EAS commands
//! (a tag of another manufacturer ignores a custom command that is not its own), and a
//! Texas Instruments Tag-it answers a write only after the EOF that the firmware sends
//! when the request has the option flag (`docs/rfid.md`, section 2.5). A test
//! places and removes tags while the reader runs; `rfidgeek` (PyPI) and our driver open
//! [`VirtualReader::path`] as they would `/dev/ttyUSB0`.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use kiosk_rfid::evm::{hex, unhex};
use kiosk_rfid::iso15693::{Uid, command, flags, manufacturer};

/// One tag: what it holds and what it allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualTag {
    pub uid: Uid,
    pub dsfid: u8,
    pub afi: u8,
    pub afi_locked: bool,
    pub blocks: Vec<[u8; 4]>,
    pub locked: Vec<bool>,
    /// The EAS bit (NXP's tags); `None` for a tag that has none (a Tag-it).
    pub eas: Option<bool>,
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
            eas: Some(false),
        }
    }

    /// A blank Texas Instruments Tag-it HF-I Plus: 64 blocks of 4 bytes, AFI 0, no EAS
    /// bit; it answers a write only with the option flag. `tag_it(0x1A2B_3C4D)` is
    /// `docs/rfid.md`'s tag B.
    #[must_use]
    pub fn tag_it(serial: u32) -> VirtualTag {
        let s = serial.to_be_bytes();
        VirtualTag {
            uid: Uid([0xE0, manufacturer::TEXAS_INSTRUMENTS, 0x00, 0x00, s[0], s[1], s[2], s[3]]),
            dsfid: 0,
            afi: 0,
            afi_locked: false,
            blocks: vec![[0; 4]; 64],
            locked: vec![false; 64],
            eas: None,
        }
    }

    /// A library's label on the shelf (AFI `07`): an NXP ICODE SLIX holding `item`, part
    /// `part` of `parts`, in the Danish model (ISO 28560-3's basic block) as `rfidgeek`
    /// writes it. An item the model cannot hold leaves the label blank.
    #[must_use]
    pub fn library_item(serial: u32, item: &str, parts: u8, part: u8) -> VirtualTag {
        use kiosk_rfid::danish::{self, DanishTag};
        let data = DanishTag {
            version: 1,
            usage: kiosk_rfid::Usage::Circulating,
            parts,
            part,
            item: item.to_owned(),
            country: "JP".into(),
            library: "1000001".into(),
        };
        let bytes = danish::encode(&data).map(|b| b.to_vec()).unwrap_or_default();
        let mut tag = VirtualTag::blank(serial).with_data(&bytes);
        tag.afi = 0x07;
        tag
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
    /// Frames left unanswered by a hung reader ([`Faults::hang_afi_writes`]).
    pub held: usize,
    /// Set EAS and Reset EAS carried out.
    pub eas_writes: usize,
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
    /// A write AFI request gets no answer at all, nor does anything after it until the
    /// fault is cleared, as from a reader that hung mid-command (the tests kill the kiosk
    /// while it waits; [`ReaderStats::held`] counts the frames left unanswered).
    pub hang_afi_writes: bool,
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
                // `01 LL 00 03 04 18 flags 27 …`: a write AFI in request mode; the reader
                // then answers nothing more until the fault is cleared (it hung).
                let afi_write = frame.get(5) == Some(&0x18) && frame.get(7) == Some(&0x27);
                if pad.faults.hang_afi_writes && (afi_write || pad.stats.held > 0) {
                    pad.stats.held += 1;
                    continue;
                }
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
            let write = params.get(1).is_some_and(|&cmd| writes(cmd));
            let option = params.first().is_some_and(|f| f & flags::OPTION != 0);
            let ns = air::exchange(params.len(), tag.len() / 2)
                + if write { air::PROGRAMMING } else { 0 }
                + if write && option { air::SLOT_MARKER } else { 0 };
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

/// One request as a tag reads it: its flags, its command, the manufacturer's code a
/// custom command carries, and the command's data after the UID.
struct Asked<'a> {
    flags: u8,
    cmd: u8,
    manufacturer: Option<u8>,
    data: &'a [u8],
}

/// Commands that change the tag (ISO/IEC 15693-3's writes and locks, NXP's EAS writes):
/// with the option flag the tag answers only after a further EOF from the reader.
fn writes(cmd: u8) -> bool {
    matches!(cmd, 0x21 | 0x22 | 0x24 | 0x27 | 0x28 | 0x29 | 0x2A)
        || matches!(cmd, command::SET_EAS | command::RESET_EAS | command::LOCK_EAS)
}

/// The commands after which the Rev 03 firmware, when the request has the option flag,
/// waits 20 ms and sends the EOF the tag waits for (`docs/rfid.md`, section 2.5). Not
/// NXP's EAS writes: an NXP tag asked for one with the option flag does it, then waits
/// in vain.
fn firmware_sends_eof(cmd: u8) -> bool {
    matches!(cmd, 0x21 | 0x22 | 0x24 | 0x27 | 0x28 | 0x29 | 0x2A | 0xA5)
}

/// A request-mode answer: the tag's bytes in hex, `z` for several tags answering, "" for
/// none.
fn request(pad: &mut Pad, air: &[u8]) -> String {
    let (Some(&f), Some(&cmd)) = (air.first(), air.get(1)) else { return String::new() };
    // A custom command carries its manufacturer's code before the UID.
    let custom = command::is_custom(cmd);
    let head = if custom { 3 } else { 2 };
    let Some(rest) = air.get(head..) else { return String::new() };
    let manufacturer = if custom { air.get(2).copied() } else { None };
    let addressed = f & flags::INVENTORY == 0 && f & flags::ADDRESS != 0;
    if addressed {
        let Some(uid) = rest.get(..8).and_then(Uid::from_air) else { return String::new() };
        let Some(i) = pad.tags.iter().position(|t| t.uid == uid) else { return String::new() };
        let data = rest.get(8..).unwrap_or_default();
        return carry_out(pad, i, &Asked { flags: f, cmd, manufacturer, data });
    }
    // Every tag carries out a request to all, and two answers or more collide (how
    // rfidgeek's AFI writes change every tag on the pad).
    let asked = Asked { flags: f, cmd, manufacturer, data: rest };
    let answers: Vec<String> =
        (0..pad.tags.len()).map(|i| carry_out(pad, i, &asked)).filter(|a| !a.is_empty()).collect();
    match answers.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        _ => "z".to_owned(),
    }
}

/// Tag `i` carries out the request; its answer in hex as the reader hears it ("" for
/// none).
fn carry_out(pad: &mut Pad, i: usize, asked: &Asked<'_>) -> String {
    let Some(tag) = pad.tags.get(i) else { return String::new() };
    let own = tag.uid.manufacturer();
    if asked.manufacturer.is_some_and(|m| m != own) {
        // Another manufacturer's custom command: not for this tag.
        return String::new();
    }
    let answer = perform(pad, i, asked.cmd, asked.data);
    if !writes(asked.cmd) {
        return answer;
    }
    // A write's answer: with the option flag the tag waits for an EOF, which the firmware
    // sends only after some commands; a Tag-it waits for it even without the flag, and
    // without the flag the firmware never sends it.
    let option = asked.flags & flags::OPTION != 0;
    let heard = if option { firmware_sends_eof(asked.cmd) } else { own != manufacturer::TEXAS_INSTRUMENTS };
    if heard { answer } else { String::new() }
}

/// A stand-in for the 256-bit EAS sequence an NXP tag sends when its EAS bit is on (the
/// sequence is NXP's, its bits not verified here; the driver reads any answer without
/// an error as "on").
const EAS_SEQUENCE: [u8; 32] = [0x55; 32];

/// Tag `i` carries out command `cmd` with `data`; its answer in hex, as it would send it
/// (whether the reader hears it is [`carry_out`]'s to say).
fn perform(pad: &mut Pad, i: usize, cmd: u8, data: &[u8]) -> String {
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
        command::SET_EAS | command::RESET_EAS if tag.eas.is_some() => {
            tag.eas = Some(cmd == command::SET_EAS);
            pad.stats.eas_writes += 1;
            ok(&[])
        }
        // Only a tag whose EAS bit is on answers; one whose bit is off stays silent.
        command::EAS_ALARM if tag.eas.is_some() => {
            if tag.eas == Some(true) {
                ok(&EAS_SEQUENCE)
            } else {
                String::new()
            }
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

    /// A request-mode answer to `air` (flags, command, …) from the pad holding `tags`.
    fn ask(tags: Vec<VirtualTag>, air: &[u8]) -> (String, Vec<VirtualTag>) {
        let mut pad = Pad { tags, ..Pad::default() };
        let answer = request(&mut pad, air);
        (answer, pad.tags)
    }

    fn addressed(flags: u8, cmd: u8, tag: &VirtualTag, data: &[u8]) -> Vec<u8> {
        [&[flags, cmd][..], &tag.uid.air(), data].concat()
    }

    #[test]
    fn a_tag_it_answers_a_write_only_with_the_option_flag() {
        let ti = VirtualTag::tag_it(0x1A2B_3C4D);
        assert_eq!(ti.uid.to_string(), "E00700001A2B3C4D");
        // With the flag the firmware sends the EOF the tag waits for.
        let (answer, tags) = ask(vec![ti.clone()], &addressed(0x62, 0x21, &ti, &[1, 1, 2, 3, 4]));
        assert_eq!((answer.as_str(), tags[0].blocks[1]), ("00", [1, 2, 3, 4]));
        // Without it the tag writes, then waits for an EOF that never comes.
        let (answer, tags) = ask(vec![ti.clone()], &addressed(0x22, 0x27, &ti, &[0xC2]));
        assert_eq!((answer.as_str(), tags[0].afi), ("", 0xC2));
        // A read needs no flag.
        assert_eq!(ask(vec![ti.clone()], &addressed(0x22, 0x20, &ti, &[0])).0, "0000000000");
        // A locked AFI is refused either way, once the tag answers.
        let locked = VirtualTag { afi_locked: true, ..ti.clone() };
        assert_eq!(ask(vec![locked.clone()], &addressed(0x62, 0x27, &locked, &[0xC2])).0, "0112");
        assert_eq!(ask(vec![locked.clone()], &addressed(0x22, 0x27, &locked, &[0xC2])).0, "");
    }

    #[test]
    fn an_nxp_tag_answers_a_write_with_or_without_the_option_flag() {
        let nxp = VirtualTag::blank(1);
        assert_eq!(ask(vec![nxp.clone()], &addressed(0x22, 0x21, &nxp, &[1, 1, 2, 3, 4])).0, "00");
        assert_eq!(ask(vec![nxp.clone()], &addressed(0x62, 0x21, &nxp, &[1, 1, 2, 3, 4])).0, "00");
        // The firmware sends no EOF after an option-flag Set EAS: done, never answered.
        let set_eas = [&[0x62, 0xA2, 0x04][..], &nxp.uid.air()].concat();
        let (answer, tags) = ask(vec![nxp.clone()], &set_eas);
        assert_eq!((answer.as_str(), tags[0].eas), ("", Some(true)));
    }

    #[test]
    fn eas_is_nxp_s_and_its_alarm_answers_only_when_on() {
        let custom = |cmd: u8, mfg: u8, tag: &VirtualTag| [&[0x22, cmd, mfg][..], &tag.uid.air()].concat();
        let nxp = VirtualTag::blank(1);
        assert_eq!(nxp.eas, Some(false));
        assert_eq!(ask(vec![nxp.clone()], &custom(0xA5, 0x04, &nxp)).0, "", "off: silent");
        let (answer, tags) = ask(vec![nxp.clone()], &custom(0xA2, 0x04, &nxp));
        assert_eq!((answer.as_str(), tags[0].eas), ("00", Some(true)));
        let on = tags[0].clone();
        assert_eq!(ask(vec![on.clone()], &custom(0xA5, 0x04, &on)).0, format!("00{}", "55".repeat(32)));
        let (answer, tags) = ask(vec![on.clone()], &custom(0xA3, 0x04, &on));
        assert_eq!((answer.as_str(), tags[0].eas), ("00", Some(false)));
        // NXP's command with another manufacturer's code is not for an NXP tag.
        assert_eq!(ask(vec![on.clone()], &custom(0xA3, 0x07, &on)).0, "");
        // A Tag-it ignores NXP's commands.
        let ti = VirtualTag::tag_it(2);
        let (answer, tags) = ask(vec![ti.clone()], &custom(0xA2, 0x04, &ti));
        assert_eq!((answer.as_str(), tags[0].eas), ("", None));
        // An NXP tag without EAS says it does not support it.
        let plain = VirtualTag { eas: None, ..VirtualTag::blank(3) };
        assert_eq!(ask(vec![plain.clone()], &custom(0xA2, 0x04, &plain)).0, "0101");
        // The gate's EAS Alarm to all: one tag on answers, two collide, none is silence.
        let alarm = [0x02, 0xA5, 0x04];
        assert_eq!(ask(vec![nxp.clone(), ti.clone(), on.clone()], &alarm).0.len(), 66);
        let on2 = VirtualTag { eas: Some(true), ..VirtualTag::blank(4) };
        assert_eq!(ask(vec![on.clone(), on2], &alarm).0, "z");
        assert_eq!(ask(vec![nxp, ti], &alarm).0, "");
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
