//! The PC/SC transport on the `pcsc` crate (pcsc-lite on Linux).
//!
//! - Readers are found by a case-insensitive substring of their name.
//! - Insertion and removal are awaited with `SCardGetStatusChange` (one blocking call,
//!   woken by pcscd), including the PnP pseudo-reader so a reader plugged in later is
//!   seen without polling.
//! - When pcscd is absent or restarts (`NoService`, `ServiceStopped`, `InvalidHandle`),
//!   the context is dropped and established again. While the daemon is down there is
//!   nothing to wait on, so re-establishing is retried every [`SERVICE_RETRY`] until the
//!   caller's deadline; that is the only timed retry.
//! - A card is connected shared for the certificate read and reconnected exclusive
//!   (keeping its state) before the PIN is used; the session ends with
//!   `SCardDisconnect(SCARD_UNPOWER_CARD)`, which clears the verified PIN.

use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use crate::apdu::{RESPONSE_CAPACITY, ResponseBuf};
use crate::error::CardError;
use crate::transport::{Channel, Transport};

/// How long to wait before establishing a context again while pcscd is down.
pub const SERVICE_RETRY: Duration = Duration::from_millis(100);

/// `FEATURE_GET_TLV_PROPERTIES` (PC/SC part 10).
const FEATURE_GET_TLV_PROPERTIES: u8 = 0x12;
/// `PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize`.
const PROPERTY_MAX_APDU_DATA_SIZE: u8 = 0x0A;
/// pcsc-lite's `CLASS2_IOCTL_MAGIC` (ioctl codes of PC/SC part 10 features).
const CLASS2_IOCTL_MAGIC: u32 = 0x0033_0000;
/// `CM_IOCTL_GET_FEATURE_REQUEST`.
const IOCTL_GET_FEATURE_REQUEST: u32 = pcsc::ctl_code(3400) as u32;

/// What [`PcscReaders::wait_for_card`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// A card is in this reader.
    Card { reader: CString, atr: Vec<u8> },
    /// The deadline passed first.
    TimedOut,
}

/// The readers of one kiosk: the PC/SC context and the reader-name pattern.
pub struct PcscReaders {
    pattern: String,
    context: Option<Context>,
}

impl PcscReaders {
    /// `pattern`: a case-insensitive part of the reader's name (e.g. `"Virtual PCD 00 00"`,
    /// `"SONY FeliCa"`); empty matches every reader.
    pub fn new(pattern: impl Into<String>) -> Self {
        PcscReaders { pattern: pattern.into(), context: None }
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    fn context(&mut self) -> Result<&Context, CardError> {
        if self.context.is_none() {
            self.context = Some(Context::establish(Scope::User).map_err(CardError::from)?);
        }
        self.context.as_ref().ok_or(CardError::ServiceUnavailable)
    }

    /// Drops the context after a daemon failure; the next call establishes a new one.
    fn reset_context(&mut self) {
        self.context = None;
    }

    /// A handle that makes a blocked [`wait_for_card`](Self::wait_for_card) /
    /// [`wait_for_removal`](Self::wait_for_removal) return (`SCardCancel`), from another
    /// thread.
    pub fn canceller(&mut self) -> Result<Context, CardError> {
        Ok(self.context()?.clone())
    }

    /// The first reader whose name matches the pattern, if one is connected.
    pub fn find_reader(&mut self) -> Result<Option<CString>, CardError> {
        Ok(self.matching_readers()?.into_iter().next())
    }

    fn matching_readers(&mut self) -> Result<Vec<CString>, CardError> {
        let pattern = self.pattern.to_lowercase();
        let readers = match self.context()?.list_readers_owned() {
            Ok(r) => r,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => {
                let e = CardError::from(e);
                if matches!(e, CardError::ServiceUnavailable) {
                    self.reset_context();
                }
                return Err(e);
            }
        };
        Ok(readers.into_iter().filter(|r| r.to_string_lossy().to_lowercase().contains(&pattern)).collect())
    }

    /// Waits until a card is in a matching reader, or `timeout` passes. Survives the
    /// reader being unplugged and plugged back, and pcscd stopping and starting.
    pub fn wait_for_card(&mut self, timeout: Duration) -> Result<Presence, CardError> {
        let deadline = Instant::now() + timeout;
        loop {
            let readers = match self.matching_readers() {
                Ok(r) => r,
                Err(CardError::ServiceUnavailable) => {
                    if !sleep_until_retry(deadline) {
                        return Ok(Presence::TimedOut);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut states: Vec<ReaderState> =
                readers.iter().map(|r| ReaderState::new(r.clone(), State::UNAWARE)).collect();
            states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE));
            match self.watch(&mut states, deadline, |s| {
                s.name() != pcsc::PNP_NOTIFICATION()
                    && s.event_state().contains(State::PRESENT)
                    && !s.event_state().contains(State::MUTE)
            })? {
                Watch::Matched(i) => {
                    let s = &states[i];
                    return Ok(Presence::Card { reader: s.name().to_owned(), atr: s.atr().to_vec() });
                }
                Watch::TimedOut => return Ok(Presence::TimedOut),
                Watch::Rescan => continue,
            }
        }
    }

    /// Waits until the reader `reader` is empty (or gone), or `timeout` passes.
    /// Returns whether the card is out.
    pub fn wait_for_removal(&mut self, reader: &CStr, timeout: Duration) -> Result<bool, CardError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.context().is_err() {
                // pcscd is down: the reader (and the card session) are gone with it.
                return Ok(true);
            }
            let mut states = vec![ReaderState::new(reader.to_owned(), State::UNAWARE)];
            match self.watch(&mut states, deadline, |s| {
                s.event_state().intersects(State::EMPTY | State::UNKNOWN | State::UNAVAILABLE)
            }) {
                Ok(Watch::Matched(_)) => return Ok(true),
                Ok(Watch::TimedOut) => return Ok(false),
                Ok(Watch::Rescan) => continue,
                Err(CardError::ReaderRemoved | CardError::ServiceUnavailable) => return Ok(true),
                Err(e) => return Err(e),
            }
        }
    }

    /// Blocks in `SCardGetStatusChange` until `done` holds for a state, the reader list
    /// changes, or the deadline passes.
    fn watch(
        &mut self,
        states: &mut [ReaderState],
        deadline: Instant,
        done: impl Fn(&ReaderState) -> bool,
    ) -> Result<Watch, CardError> {
        let mut first = true;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() && !first {
                return Ok(Watch::TimedOut);
            }
            let context = self.context()?;
            // The first call, with every state UNAWARE, returns at once with the
            // current state.
            let wait = if first { Duration::ZERO } else { remaining };
            match context.get_status_change(wait, states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) if first => {}
                Err(pcsc::Error::Timeout) => return Ok(Watch::TimedOut),
                Err(pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable) => return Ok(Watch::Rescan),
                Err(e) => {
                    let e = CardError::from(e);
                    if matches!(e, CardError::ServiceUnavailable) {
                        self.reset_context();
                        return if sleep_until_retry(deadline) {
                            Ok(Watch::Rescan)
                        } else {
                            Ok(Watch::TimedOut)
                        };
                    }
                    return Err(e);
                }
            }
            if let Some(i) = states.iter().position(&done) {
                return Ok(Watch::Matched(i));
            }
            let mut rescan = false;
            for s in states.iter_mut() {
                let changed = s.event_state().contains(State::CHANGED);
                if s.name() == pcsc::PNP_NOTIFICATION() {
                    rescan |= changed && !first;
                } else {
                    rescan |= s.event_state().intersects(State::UNKNOWN | State::UNAVAILABLE);
                }
                s.sync_current_state();
            }
            if rescan {
                return Ok(Watch::Rescan);
            }
            first = false;
        }
    }

    /// Connects to the card in `reader`, shared, T=1 or T=0.
    pub fn connect(&mut self, reader: &CStr) -> Result<PcscCard, CardError> {
        let context = self.context()?;
        let card = match context.connect(reader, ShareMode::Shared, Protocols::ANY) {
            Ok(c) => c,
            Err(e) => {
                let e = CardError::from(e);
                if matches!(e, CardError::ServiceUnavailable) {
                    self.reset_context();
                }
                return Err(e);
            }
        };
        // A reader that reports its maximum APDU size is taken at its word; one that does
        // not (vpcd 3.3, many CCID readers) is tried, and the driver falls back to short
        // reads if the extended one fails.
        let extended = max_apdu_data_size(&card).is_none_or(|n| n > 256);
        Ok(PcscCard { card: Some(card), extended, exclusive: false })
    }
}

impl std::fmt::Debug for PcscReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscReaders")
            .field("pattern", &self.pattern)
            .field("connected_to_pcscd", &self.context.is_some())
            .finish()
    }
}

enum Watch {
    Matched(usize),
    TimedOut,
    Rescan,
}

/// Sleeps [`SERVICE_RETRY`] unless that passes the deadline; false when out of time.
fn sleep_until_retry(deadline: Instant) -> bool {
    let now = Instant::now();
    if now + SERVICE_RETRY > deadline {
        return false;
    }
    std::thread::sleep(SERVICE_RETRY);
    true
}

/// The reader's `dwMaxAPDUDataSize` (PC/SC part 10 TLV properties), if it reports one.
fn max_apdu_data_size(card: &pcsc::Card) -> Option<u32> {
    let mut buf = [0u8; 256];
    // Each feature: tag (1), length 4 (1), ioctl code (4, big endian). A driver that
    // does not list its features (vpcd) may still answer the conventional code.
    let ioctl = match card.control(IOCTL_GET_FEATURE_REQUEST.into(), &[], &mut buf) {
        Ok(features) => features
            .chunks_exact(6)
            .find(|f| f[0] == FEATURE_GET_TLV_PROPERTIES && f[1] == 4)
            .map(|f| u32::from_be_bytes([f[2], f[3], f[4], f[5]]))?,
        Err(_) => pcsc::ctl_code((CLASS2_IOCTL_MAGIC + u32::from(FEATURE_GET_TLV_PROPERTIES)).into()) as u32,
    };
    let mut buf = [0u8; 256];
    let props = card.control(ioctl.into(), &[], &mut buf).ok()?;
    let mut rest = props;
    while let [tag, len, tail @ ..] = rest {
        let len = usize::from(*len);
        let value = tail.get(..len)?;
        if *tag == PROPERTY_MAX_APDU_DATA_SIZE {
            let mut le = [0u8; 4];
            le.get_mut(..len.min(4))?.copy_from_slice(value.get(..len.min(4))?);
            return Some(u32::from_le_bytes(le));
        }
        rest = &tail[len..];
    }
    None
}

/// A connected card. Dropping it (or [`PcscCard::close`]) unpowers the card.
pub struct PcscCard {
    card: Option<pcsc::Card>,
    extended: bool,
    exclusive: bool,
}

impl std::fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscCard")
            .field("connected", &self.card.is_some())
            .field("extended", &self.extended)
            .field("exclusive", &self.exclusive)
            .finish()
    }
}

impl PcscCard {
    fn card(&mut self) -> Result<&mut pcsc::Card, CardError> {
        self.card.as_mut().ok_or(CardError::NoCard)
    }

    /// Overrides extended-length detection (for readers that misreport it).
    pub fn set_extended_length(&mut self, on: bool) {
        self.extended = on;
    }

    /// Ends the session: `SCardDisconnect` with `SCARD_UNPOWER_CARD`, which clears the
    /// verified PIN. A card already removed is not an error.
    pub fn close(mut self) -> Result<(), CardError> {
        self.disconnect()
    }

    fn disconnect(&mut self) -> Result<(), CardError> {
        let Some(card) = self.card.take() else { return Ok(()) };
        match card.disconnect(Disposition::UnpowerCard) {
            Ok(()) => Ok(()),
            Err((_card, pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard)) => Ok(()),
            Err((_card, e)) => Err(e.into()),
        }
    }
}

impl Drop for PcscCard {
    fn drop(&mut self) {
        if let Err(e) = self.disconnect() {
            tracing::warn!(error = %e, "could not unpower the card at the end of the session");
        }
    }
}

/// A PC/SC transaction (`SCardBeginTransaction` … `SCardEndTransaction(LEAVE_CARD)`).
#[allow(missing_debug_implementations)]
pub struct PcscTransaction<'a>(pcsc::Transaction<'a>);

impl Channel for PcscTransaction<'_> {
    fn transmit(&mut self, command: &[u8], response: &mut ResponseBuf) -> Result<(), CardError> {
        response.clear();
        response.resize(RESPONSE_CAPACITY, 0).map_err(|_| CardError::Malformed(crate::ApduError::TooLong))?;
        let n = self.0.transmit(command, response)?.len();
        response.truncate(n);
        Ok(())
    }
}

impl Transport for PcscCard {
    type Transaction<'a> = PcscTransaction<'a>;

    fn transaction(&mut self) -> Result<PcscTransaction<'_>, CardError> {
        Ok(PcscTransaction(self.card()?.transaction()?))
    }

    fn extended_length(&self) -> bool {
        self.extended
    }

    fn hold_exclusive(&mut self) -> Result<(), CardError> {
        if !self.exclusive {
            self.card()?.reconnect(ShareMode::Exclusive, Protocols::ANY, Disposition::LeaveCard)?;
            self.exclusive = true;
        }
        Ok(())
    }

    fn unpower(&mut self) -> Result<(), CardError> {
        self.card()?.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::UnpowerCard)?;
        self.exclusive = false;
        Ok(())
    }

    fn close(self) -> Result<(), CardError> {
        PcscCard::close(self)
    }
}
