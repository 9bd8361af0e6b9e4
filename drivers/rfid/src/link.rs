//! The reader on its serial line: one command at a time, each answer read until it is
//! complete by the rules of its command (`docs/rfid.md`, sections 1.3 and 4.3), the
//! retries real readers need, writes confirmed by reading back (the AFI with Get System
//! Information, an NXP tag's EAS bit with EAS Alarm).
//!
//! The reader's answers have no end marker and its firmware cannot resynchronise, so an
//! answer counts only after its command's own header line, and after anything that went
//! wrong (a deadline, garbage) the line is drained until it is quiet before the next
//! command: a late answer never passes for the next one's.

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use crate::evm::{self, AnswerError, Group};
use crate::iso15693::{self, Request, SystemInfo, TagError, Uid};

/// Why the reader could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error(
        "cannot open the RFID reader at {path}: {source} (is it plugged in, and is the path in kiosk.toml its /dev/serial/by-id name?)"
    )]
    Open { path: String, source: serialport::Error },
    #[error(
        "the device at {path} does not answer as a TRF7970A RFID reader (it said {said:?}): check the path"
    )]
    NotTheReader { path: String, said: String },
    #[error("the RFID reader did not finish its answer within {0:?}: is it still plugged in?")]
    Timeout(Duration),
    #[error("the RFID reader's serial line failed: {0}")]
    Io(std::io::Error),
    #[error("the RFID reader is gone (unplugged?): its serial line hung up")]
    Gone,
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error("no tag answered (was the book taken off the pad?)")]
    NoTag,
    #[error("two tags answered at once, or the tag's answer was damaged")]
    Collision,
    #[error("the tag refused: {0}")]
    Tag(#[from] TagError),
    #[error("the tag's answer does not fit the request")]
    Unexpected,
    #[error("a read of {0} blocks: 1 to 256 can be read at once")]
    BadCount(u16),
    #[error("read back, the tag does not hold what was written: not confirmed")]
    NotConfirmed,
    #[error(
        "whether the tag took the write is not known (its answer was lost, and so was the read back): check the tag"
    )]
    Unconfirmed,
    #[error(
        "tag {0} has no EAS bit (only NXP's ICODE tags, manufacturer code 04, have one): the exit gate can know it only by its AFI"
    )]
    NoEas(Uid),
}

impl From<std::io::Error> for ReaderError {
    fn from(e: std::io::Error) -> ReaderError {
        // A pulled USB cable: the line hangs up (a pseudo-terminal says broken pipe, a
        // USB serial device EIO or "no such device").
        let gone = matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::NotFound)
            || e.raw_os_error().is_some_and(|n| n == 5 || n == 19)
            || e.to_string().contains("Input/output error");
        if gone { ReaderError::Gone } else { ReaderError::Io(e) }
    }
}

/// When an answer is complete, after its header.
#[derive(Clone, Copy, Debug)]
enum Done {
    /// Then an empty line.
    Lines,
    /// The header's own line end (the toggles print nothing more).
    Line,
    /// The first bracketed group closed.
    Bracket,
    /// Quiet for a while (an inventory prints tags as it finds them).
    Quiet,
}

/// How long a request-mode answer may take.
const REQUEST_DEADLINE: Duration = Duration::from_millis(300);
/// How long an inventory may take in all (a collision storm ends here).
const INVENTORY_DEADLINE: Duration = Duration::from_secs(2);
/// The quiet that ends an inventory's answer, and a drain after a fault.
const QUIET: Duration = Duration::from_millis(100);
/// The longest drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);
/// Tries of a request a tag did not answer clearly (a tag at the edge of the field).
const REQUEST_TRIES: u32 = 3;

/// What an inventory found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inventory {
    /// Each tag once, in the order found.
    pub uids: Vec<Uid>,
    /// False when the reader was still searching at the deadline (a collision storm, a
    /// stack too big): more tags may be on the pad.
    pub complete: bool,
}

/// A TRF7970A evaluation module on a serial line.
pub struct EvmReader {
    port: Box<dyn serialport::SerialPort>,
    path: String,
    /// What the last command that failed had received (for the message).
    last: String,
}

impl core::fmt::Debug for EvmReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EvmReader({})", self.path)
    }
}

fn open_port(path: &str) -> Result<Box<dyn serialport::SerialPort>, ReaderError> {
    serialport::new(path, 115_200)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .timeout(Duration::from_millis(10))
        .open()
        .map_err(|source| ReaderError::Open { path: path.to_owned(), source })
}

impl EvmReader {
    /// Opens the reader at `path` (115200 8N1) and sets it up for ISO 15693 at the high
    /// data rate.
    ///
    /// # Errors
    /// [`ReaderError::Open`], or whatever set-up met ([`ReaderError::NotTheReader`]…).
    pub fn open(path: &str) -> Result<EvmReader, ReaderError> {
        EvmReader::from_port(open_port(path)?, path)
    }

    /// The reader on an open port, set up.
    ///
    /// # Errors
    /// As [`EvmReader::open`].
    pub fn from_port(port: Box<dyn serialport::SerialPort>, path: &str) -> Result<EvmReader, ReaderError> {
        let mut reader = EvmReader { port, path: path.to_owned(), last: String::new() };
        reader.init()?;
        Ok(reader)
    }

    /// The device path it was opened at.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Opens the device again and sets it up (after [`ReaderError::Gone`], or a reader
    /// that stopped making sense).
    ///
    /// # Errors
    /// As [`EvmReader::open`].
    pub fn reopen(&mut self) -> Result<(), ReaderError> {
        self.port = open_port(&self.path)?;
        self.init()
    }

    /// Identify, then RF on at full power with ISO 15693's high data rate, the main
    /// receiver input.
    fn init(&mut self) -> Result<(), ReaderError> {
        match self.command(evm::command::IDENTIFY, &[], "TRF7970A", Done::Lines, REQUEST_DEADLINE) {
            Ok(_) => {}
            Err(ReaderError::Timeout(_)) if !self.last.is_empty() => {
                let said = self.last.trim().chars().take(60).collect();
                return Err(ReaderError::NotTheReader { path: self.path.clone(), said });
            }
            Err(e) => return Err(e),
        }
        let registers = [0x00, 0x21, 0x01, 0x02];
        self.command(
            evm::command::WRITE_REGISTERS,
            &registers,
            "Register write",
            Done::Lines,
            REQUEST_DEADLINE,
        )?;
        self.command(0xF1, &[0xFF], "AM PM Toggle", Done::Line, REQUEST_DEADLINE)?;
        Ok(())
    }
}

impl EvmReader {
    /// Sends one frame, whole, and reads its answer: complete once `header` has come and
    /// then what `done` asks. After a deadline or garbage the line is drained.
    fn command(
        &mut self,
        cmd: u8,
        params: &[u8],
        header: &str,
        done: Done,
        deadline: Duration,
    ) -> Result<String, ReaderError> {
        let frame = evm::frame(cmd, params).ok_or(ReaderError::Unexpected)?;
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        self.last.clear();
        self.port.write_all(frame.as_bytes())?;
        self.port.flush()?;
        let start = Instant::now();
        let mut last = Instant::now();
        let mut text = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match self.port.read(&mut buf) {
                Ok(0) => return Err(ReaderError::Gone),
                Ok(n) => {
                    text.extend_from_slice(buf.get(..n).unwrap_or_default());
                    last = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e.into()),
            }
            let s = String::from_utf8_lossy(&text);
            // Only what follows the command's own header is its answer.
            let after = s.find(header).map(|at| &s[at + header.len()..]);
            let complete = after.is_some_and(|a| match done {
                Done::Lines => a.contains("\r\n\r\n"),
                Done::Line => a.contains("\r\n"),
                Done::Bracket => a.find('[').is_some_and(|open| a[open..].contains(']')),
                Done::Quiet => a.contains("\r\n") && last.elapsed() >= QUIET,
            });
            if complete {
                return Ok(after.unwrap_or_default().to_owned());
            }
            if start.elapsed() >= deadline {
                self.last = s.into_owned();
                self.drain();
                return Err(ReaderError::Timeout(deadline));
            }
        }
    }

    /// Reads and drops whatever the reader still sends, until it has been quiet a while,
    /// so a late answer is not taken for the next command's.
    fn drain(&mut self) {
        let start = Instant::now();
        let mut last = Instant::now();
        let mut buf = [0u8; 512];
        while last.elapsed() < QUIET && start.elapsed() < DRAIN_LIMIT {
            match self.port.read(&mut buf) {
                Ok(n) if n > 0 => last = Instant::now(),
                Ok(_) => return,
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {}
                Err(_) => return,
            }
        }
    }

    /// The tags on the pad (only those with `afi`, when given), each once. A reader still
    /// searching at the deadline gives what it found, marked incomplete.
    ///
    /// # Errors
    /// The reader's failures.
    pub fn inventory(&mut self, afi: Option<u8>) -> Result<Inventory, ReaderError> {
        let air = Request::Inventory { afi }.air().ok_or(ReaderError::Unexpected)?;
        let header = "Inventory request.";
        let (text, complete) =
            match self.command(evm::command::INVENTORY, &air, header, Done::Quiet, INVENTORY_DEADLINE) {
                Ok(text) => (text, true),
                Err(ReaderError::Timeout(_)) if self.last.contains(header) => {
                    let s = core::mem::take(&mut self.last);
                    // Up to the last closed bracket: a group cut off at the deadline is not read.
                    let end = s.rfind(']').map_or(0, |i| i + 1);
                    (s.get(..end).unwrap_or_default().to_owned(), false)
                }
                Err(e) => return Err(e),
            };
        let groups = match evm::groups(&text) {
            Ok(g) => g,
            Err(e) => {
                self.drain();
                return Err(e.into());
            }
        };
        let mut uids = Vec::new();
        for group in groups {
            if let Group::Tag { uid, .. } = group
                && !uids.contains(&uid)
            {
                uids.push(uid);
            }
        }
        Ok(Inventory { uids, complete })
    }

    /// One request to one tag, tried again when the tag did not answer clearly; the tag's
    /// data after its response flags. [`ReaderError::NoTag`] only when every try met
    /// silence; [`ReaderError::Collision`] when any heard a damaged answer.
    fn request(&mut self, request: &Request) -> Result<Vec<u8>, ReaderError> {
        let air = match request {
            Request::ReadBlocks { count, .. } if !(1..=256).contains(count) => {
                return Err(ReaderError::BadCount(*count));
            }
            r => r.air().ok_or(ReaderError::Unexpected)?,
        };
        // Silence on every try is no tag; a damaged answer on any means something answered.
        let mut heard = ReaderError::NoTag;
        for attempt in 0..REQUEST_TRIES {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
            let text =
                self.command(evm::command::REQUEST, &air, "Request mode.", Done::Bracket, REQUEST_DEADLINE)?;
            let groups = match evm::groups(&text) {
                Ok(g) => g,
                Err(e) => {
                    self.drain();
                    return Err(e.into());
                }
            };
            match groups.into_iter().next() {
                Some(Group::Answer(bytes)) => return Ok(iso15693::response(&bytes)?.to_vec()),
                Some(Group::Collision) => heard = ReaderError::Collision,
                Some(Group::NoAnswer) | None => {}
                Some(_) => {
                    self.drain();
                    return Err(ReaderError::Unexpected);
                }
            }
        }
        Err(heard)
    }

    /// `count` blocks from `first`, their bytes.
    ///
    /// # Errors
    /// The reader's or the tag's.
    pub fn read_blocks(&mut self, uid: Uid, first: u8, count: u16) -> Result<Vec<u8>, ReaderError> {
        let data = self.request(&Request::ReadBlocks { uid, first, count })?;
        if data.len() != usize::from(count) * 4 {
            return Err(ReaderError::Unexpected);
        }
        Ok(data)
    }

    /// DSFID, AFI, memory size.
    ///
    /// # Errors
    /// The reader's or the tag's.
    pub fn system_info(&mut self, uid: Uid) -> Result<SystemInfo, ReaderError> {
        let data = self.request(&Request::SystemInfo { uid })?;
        SystemInfo::parse(&data).filter(|i| i.uid == uid).ok_or(ReaderError::Unexpected)
    }

    /// Writes one block, then reads it back. A write whose answer was lost is read back
    /// too: it may have happened.
    ///
    /// # Errors
    /// The tag's refusal (a locked block is [`TagError::Locked`]), [`ReaderError::NotConfirmed`]
    /// when the tag holds something else, [`ReaderError::Unconfirmed`] when neither the
    /// answer nor the read back came.
    pub fn write_block(&mut self, uid: Uid, block: u8, data: [u8; 4]) -> Result<(), ReaderError> {
        let sent = self.request(&Request::WriteBlock { uid, block, data });
        let holds = self.read_blocks(uid, block, 1).map(|b| b == data);
        confirm(sent, holds)
    }

    /// Writes the tag's AFI (what the exit gate reads), then reads it back (also when the
    /// write's answer was lost).
    ///
    /// # Errors
    /// As [`EvmReader::write_block`] (a locked AFI is [`TagError::Locked`]).
    pub fn write_afi(&mut self, uid: Uid, afi: u8) -> Result<(), ReaderError> {
        let sent = self.request(&Request::WriteAfi { uid, afi });
        let holds = self.system_info(uid).map(|i| i.afi == Some(afi));
        confirm(sent, holds)
    }

    /// Whether an NXP tag's EAS bit is on (the exit gate's EAS Alarm finds it). A tag whose
    /// bit is off does not answer EAS Alarm; so silence, on every try, counts as "off"
    /// only once the tag then answers Get System Information: a tag taken away is
    /// [`ReaderError::NoTag`], never "off".
    ///
    /// # Errors
    /// [`ReaderError::NoEas`] for a tag that is not NXP's (nothing is sent), the reader's
    /// or the tag's.
    pub fn eas(&mut self, uid: Uid) -> Result<bool, ReaderError> {
        if !uid.has_eas() {
            return Err(ReaderError::NoEas(uid));
        }
        match self.request(&Request::EasAlarm { uid }) {
            Ok(_) => Ok(true),
            Err(ReaderError::NoTag) => {
                self.system_info(uid)?;
                Ok(false)
            }
            Err(ReaderError::Tag(TagError::NotSupported)) => Err(ReaderError::NoEas(uid)),
            Err(e) => Err(e),
        }
    }

    /// Turns an NXP tag's EAS bit on (`on`: the exit gate alarms) or off, then reads it
    /// back with EAS Alarm (also when the write's answer was lost). Never locks it.
    ///
    /// # Errors
    /// [`ReaderError::NoEas`] for a tag that is not NXP's (nothing is sent); otherwise as
    /// [`EvmReader::write_block`].
    pub fn set_eas(&mut self, uid: Uid, on: bool) -> Result<(), ReaderError> {
        if !uid.has_eas() {
            return Err(ReaderError::NoEas(uid));
        }
        let request = if on { Request::SetEas { uid } } else { Request::ResetEas { uid } };
        let sent = self.request(&request);
        if matches!(sent, Err(ReaderError::Tag(TagError::NotSupported))) {
            return Err(ReaderError::NoEas(uid));
        }
        let holds = self.eas(uid).map(|eas| eas == on);
        confirm(sent, holds)
    }
}

/// A write's outcome from its answer and the read back: the read back decides, unless the
/// tag itself refused.
fn confirm(sent: Result<Vec<u8>, ReaderError>, holds: Result<bool, ReaderError>) -> Result<(), ReaderError> {
    match (sent, holds) {
        (Err(e @ ReaderError::Tag(_)), _) => Err(e),
        (_, Ok(true)) => Ok(()),
        (Ok(_), Ok(false)) => Err(ReaderError::NotConfirmed),
        (Err(e), Ok(false)) => Err(e),
        (_, Err(ReaderError::Gone)) => Err(ReaderError::Gone),
        (_, Err(_)) => Err(ReaderError::Unconfirmed),
    }
}
