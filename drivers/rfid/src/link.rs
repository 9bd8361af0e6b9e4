//! The reader on its serial line: one command at a time, each answer read until it is
//! complete by the rules of its command (`docs/rfid.md`, sections 1.3 and 4.3), the
//! retries real readers need, writes confirmed by reading back.

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
    Io(#[from] std::io::Error),
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
    #[error("read back, the tag does not hold what was written: not confirmed")]
    NotConfirmed,
}

/// When an answer is complete.
#[derive(Clone, Copy, Debug)]
enum Done {
    /// A header line, then an empty line.
    Lines,
    /// One line (the toggles print their name and the closing line end only).
    Line,
    /// The first bracketed group closed.
    Bracket,
    /// Quiet for a while after the header (an inventory prints tags as it finds them).
    Quiet,
}

/// How long a request-mode answer may take.
const REQUEST_DEADLINE: Duration = Duration::from_millis(300);
/// How long an inventory may take in all (a collision storm ends here).
const INVENTORY_DEADLINE: Duration = Duration::from_secs(2);
/// The quiet that ends an inventory's answer.
const INVENTORY_QUIET: Duration = Duration::from_millis(100);
/// Tries of a request a tag did not answer clearly (a tag at the edge of the field).
const REQUEST_TRIES: u32 = 3;

/// A TRF7970A evaluation module on a serial line.
pub struct EvmReader {
    port: Box<dyn serialport::SerialPort>,
    path: String,
}

impl core::fmt::Debug for EvmReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EvmReader({})", self.path)
    }
}

impl EvmReader {
    /// Opens the reader at `path` (115200 8N1) and sets it up for ISO 15693 at the high
    /// data rate.
    ///
    /// # Errors
    /// [`ReaderError::Open`], or whatever set-up met ([`ReaderError::NotTheReader`]…).
    pub fn open(path: &str) -> Result<EvmReader, ReaderError> {
        let port = serialport::new(path, 115_200)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(10))
            .open()
            .map_err(|source| ReaderError::Open { path: path.to_owned(), source })?;
        EvmReader::from_port(port, path)
    }

    /// The reader on an open port, set up.
    ///
    /// # Errors
    /// As [`EvmReader::open`].
    pub fn from_port(port: Box<dyn serialport::SerialPort>, path: &str) -> Result<EvmReader, ReaderError> {
        let mut reader = EvmReader { port, path: path.to_owned() };
        reader.init()?;
        Ok(reader)
    }

    /// Identify, then RF on at full power with ISO 15693's high data rate, the main
    /// receiver input.
    fn init(&mut self) -> Result<(), ReaderError> {
        let said = self.command(evm::command::IDENTIFY, &[], Done::Lines, REQUEST_DEADLINE)?;
        if !said.contains("TRF7970A") {
            let said = said.trim().chars().take(60).collect();
            return Err(ReaderError::NotTheReader { path: self.path.clone(), said });
        }
        self.command(
            evm::command::WRITE_REGISTERS,
            &[0x00, 0x21, 0x01, 0x02],
            Done::Lines,
            REQUEST_DEADLINE,
        )?;
        self.command(0xF1, &[0xFF], Done::Line, REQUEST_DEADLINE)?;
        Ok(())
    }

    /// Sends one frame, whole, and reads its answer until it is complete.
    fn command(
        &mut self,
        cmd: u8,
        params: &[u8],
        done: Done,
        deadline: Duration,
    ) -> Result<String, ReaderError> {
        let frame = evm::frame(cmd, params).ok_or(ReaderError::Unexpected)?;
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        self.port.write_all(frame.as_bytes())?;
        self.port.flush()?;
        let start = Instant::now();
        let mut last = Instant::now();
        let mut text = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match self.port.read(&mut buf) {
                // A serial port's read times out with an error; nothing read means the
                // line hung up (the reader unplugged).
                Ok(0) => return Err(ReaderError::Gone),
                Ok(n) => {
                    text.extend_from_slice(&buf[..n]);
                    last = Instant::now();
                }
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {}
                Err(e) => return Err(ReaderError::Io(e)),
            }
            let s = String::from_utf8_lossy(&text);
            let complete = match done {
                Done::Lines => s.contains("\r\n\r\n"),
                Done::Line => s.contains("\r\n"),
                Done::Bracket => s.find('[').is_some_and(|open| s[open..].contains(']')),
                Done::Quiet => s.contains("\r\n") && last.elapsed() >= INVENTORY_QUIET,
            };
            if complete {
                return Ok(s.into_owned());
            }
            if start.elapsed() >= deadline {
                return Err(ReaderError::Timeout(deadline));
            }
        }
    }

    /// The tags on the pad (only those with `afi`, when given), each once.
    ///
    /// # Errors
    /// The reader's failures; a collision storm is [`ReaderError::Timeout`].
    pub fn inventory(&mut self, afi: Option<u8>) -> Result<Vec<Uid>, ReaderError> {
        let air = Request::Inventory { afi }.air().ok_or(ReaderError::Unexpected)?;
        let text = self.command(evm::command::INVENTORY, &air, Done::Quiet, INVENTORY_DEADLINE)?;
        let mut uids = Vec::new();
        for group in evm::groups(&text)? {
            if let Group::Tag { uid, .. } = group
                && !uids.contains(&uid)
            {
                uids.push(uid);
            }
        }
        Ok(uids)
    }

    /// One request to one tag, tried again when the tag did not answer clearly; the tag's
    /// data after its response flags.
    fn request(&mut self, request: &Request) -> Result<Vec<u8>, ReaderError> {
        let air = request.air().ok_or(ReaderError::Unexpected)?;
        let mut last = ReaderError::NoTag;
        for attempt in 0..REQUEST_TRIES {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
            let text = self.command(evm::command::REQUEST, &air, Done::Bracket, REQUEST_DEADLINE)?;
            match evm::groups(&text)?.into_iter().next() {
                Some(Group::Answer(bytes)) => return Ok(iso15693::response(&bytes)?.to_vec()),
                Some(Group::Collision) => last = ReaderError::Collision,
                Some(Group::NoAnswer) | None => last = ReaderError::NoTag,
                Some(_) => return Err(ReaderError::Unexpected),
            }
        }
        Err(last)
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

    /// Writes one block, then reads it back.
    ///
    /// # Errors
    /// The reader's or the tag's (a locked block is [`TagError::Locked`]), or
    /// [`ReaderError::NotConfirmed`].
    pub fn write_block(&mut self, uid: Uid, block: u8, data: [u8; 4]) -> Result<(), ReaderError> {
        self.request(&Request::WriteBlock { uid, block, data })?;
        if self.read_blocks(uid, block, 1)? == data { Ok(()) } else { Err(ReaderError::NotConfirmed) }
    }

    /// Writes the tag's AFI (what the exit gate reads), then reads it back.
    ///
    /// # Errors
    /// The reader's or the tag's (a locked AFI is [`TagError::Locked`]), or
    /// [`ReaderError::NotConfirmed`].
    pub fn write_afi(&mut self, uid: Uid, afi: u8) -> Result<(), ReaderError> {
        self.request(&Request::WriteAfi { uid, afi })?;
        if self.system_info(uid)?.afi == Some(afi) { Ok(()) } else { Err(ReaderError::NotConfirmed) }
    }
}
