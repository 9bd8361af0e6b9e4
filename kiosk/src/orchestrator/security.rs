//! Item security that follows the loan, and the RFID pad.
//!
//! A book's security (its RFID tag's AFI or EAS bit, or its magnetic strip) is switched
//! off only for a loan the library system accepted, and back on for a return it accepted
//! (`journaled` calls [`SecurityUnit::follow`] between the library system's answer and the
//! journal's record of it, so a power cut between the two is settled at the next start:
//! lent, switched off; not lent, switched on).
//!
//! The RFID pad is one thread that owns the reader ([`start_pad`]): it inventories the pad
//! every [`POLL_EVERY`], reads each new tag once, groups tags into items (a set's parts
//! under its one identifier), tells the event loop what changed ([`Input::Pad`]), and
//! carries out the security switches the checkout and return tasks ask for, between two
//! inventories.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kiosk_core::flow::{ItemId, OnPad};
use kiosk_rfid::{EvmReader, ReaderError, TagError, Uid};
use tokio::sync::mpsc;

use super::Input;
use crate::config::TagSecurity;

/// How often the pad is inventoried.
pub const POLL_EVERY: Duration = Duration::from_millis(150);
/// Inventories a tag may miss before it counts as taken off (a tag at the edge of the
/// field misses one now and then).
const MISSES: u8 = 2;
/// Tries of a security switch on one tag.
const TRIES: u32 = 3;
/// How long a reader that is gone waits before it is opened again.
const REOPEN_EVERY: Duration = Duration::from_secs(2);
/// The longest a security switch may take before it counts as failed (the patron is
/// sent to the counter; the checkout's answer does not wait longer).
pub const SWITCH_LIMIT: Duration = Duration::from_secs(10);
/// How long an item that left the pad is remembered: asked to switch it, the pad says it
/// was taken off (rather than that it has no tag).
const GONE_FOR: Duration = Duration::from_secs(600);

/// Why an item's security could not be switched.
#[derive(Debug, thiserror::Error)]
pub enum SecurityFault {
    #[error("the book was taken off the RFID pad before its security was switched")]
    NotOnPad,
    #[error("part of the set was taken off the RFID pad before its security was switched")]
    PartsGone,
    /// Never seen on the pad, which read everything on it: a book without a tag (scanned
    /// by its barcode).
    #[error("the book has no RFID tag on the pad (scanned by its barcode): nothing to switch")]
    NoTag,
    /// Not found, and the pad could not tell (its reader failing, or a tag on it unread):
    /// staff check it.
    #[error("the book's tag was not found, and the pad could not read everything on it")]
    NotRead,
    #[error("the tag's AFI is locked: it cannot follow the loan (staff replace the tag)")]
    Locked,
    #[error("the tag refused the switch: {0} (staff check the tag)")]
    Refused(String),
    #[error("the RFID reader failed: {0}")]
    Reader(String),
    #[error("the RFID reader is not there: {0}")]
    ReaderGone(String),
    #[error("the security switch took longer than {0:?}")]
    TooSlow(Duration),
    #[error("the RFID pad's thread has stopped; restart the kiosk")]
    PadStopped,
    #[error("the desensitizer failed: {0}")]
    Desensitizer(String),
}

/// What switches items' security: the RFID pad, or a desensitizer unit.
#[derive(Clone)]
pub enum SecurityUnit {
    Rfid(PadHandle),
    Desensitizer { unit: Arc<dyn kiosk_io::Desensitizer>, wait: Duration, pulses: Arc<AtomicUsize> },
}

impl core::fmt::Debug for SecurityUnit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SecurityUnit::Rfid(_) => "SecurityUnit(RFID pad)",
            SecurityUnit::Desensitizer { .. } => "SecurityUnit(desensitizer)",
        })
    }
}

impl SecurityUnit {
    /// Switches `item`'s security to follow its loan: off when `lent`, on when not.
    ///
    /// A desensitizer only switches off (the library's return process sensitizes strips
    /// again): asked to switch one on, it does nothing and says so.
    ///
    /// # Errors
    /// [`SecurityFault`]: the book is not there, its tag is locked, the device failed.
    pub async fn follow(&self, item: &ItemId, lent: bool) -> Result<(), SecurityFault> {
        tokio::time::timeout(SWITCH_LIMIT, self.switch(item, lent))
            .await
            .map_err(|_| SecurityFault::TooSlow(SWITCH_LIMIT))?
    }

    /// A loan's security: switched off unless the library system said to keep it on
    /// (`desensitize` `Some(false)`); a book without a tag (never on a pad that read
    /// everything) has nothing to switch; any other fault is a failure (the patron takes
    /// the book to the counter).
    pub async fn for_loan(&self, item: &ItemId, desensitize: Option<bool>) -> kiosk_core::flow::Security {
        use kiosk_core::flow::Security;
        if desensitize == Some(false) {
            return Security::Unchanged;
        }
        match self.follow(item, true).await {
            Ok(()) => Security::Switched,
            Err(SecurityFault::NoTag) => Security::Unchanged,
            Err(e) => {
                tracing::warn!(error = %e, "a lent item's security could not be switched off");
                Security::Failed
            }
        }
    }

    /// Whether it is the desensitizer (which only desensitizes, and only the book lying
    /// in it now).
    #[must_use]
    pub fn is_desensitizer(&self) -> bool {
        matches!(self, SecurityUnit::Desensitizer { .. })
    }

    async fn switch(&self, item: &ItemId, lent: bool) -> Result<(), SecurityFault> {
        match self {
            SecurityUnit::Rfid(pad) => pad.follow(item, lent).await,
            SecurityUnit::Desensitizer { .. } if !lent => {
                tracing::debug!("a desensitizer does not sensitize: the return process does");
                Ok(())
            }
            SecurityUnit::Desensitizer { unit, wait, pulses } => {
                let (unit, wait) = (unit.clone(), *wait);
                let done = tokio::task::spawn_blocking(move || unit.desensitize(wait))
                    .await
                    .map_err(|e| SecurityFault::Desensitizer(e.to_string()))?;
                done.map_err(|e| SecurityFault::Desensitizer(e.to_string()))?;
                pulses.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
    }
}

/// The library's values for its tags (`[rfid]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagValues {
    pub security: TagSecurity,
    pub afi_on_shelf: u8,
    pub afi_on_loan: u8,
    /// A library card's tag logs its patron in (as a scan of its number would).
    pub patron_cards: bool,
}

enum Command {
    Follow {
        item: String,
        lent: bool,
        reply: std::sync::mpsc::Sender<Result<(), SecurityFault>>,
        /// Set when the caller stopped waiting: the switch is not made behind its back.
        abandoned: Arc<std::sync::atomic::AtomicBool>,
    },
}

/// The way to the pad's thread.
#[derive(Clone, Debug)]
pub struct PadHandle {
    commands: std::sync::mpsc::Sender<Command>,
}

impl PadHandle {
    /// The answer is waited for on a blocking thread, in real time: the pad's thread
    /// works in real time, whatever the runtime's clock (the scripted demo pauses it).
    async fn follow(&self, item: &ItemId, lent: bool) -> Result<(), SecurityFault> {
        let (reply, answer) = std::sync::mpsc::channel();
        let abandoned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        self.commands
            .send(Command::Follow { item: item.0.clone(), lent, reply, abandoned: abandoned.clone() })
            .map_err(|_| SecurityFault::PadStopped)?;
        let waited = tokio::task::spawn_blocking(move || answer.recv_timeout(SWITCH_LIMIT)).await;
        match waited {
            Ok(Ok(result)) => result,
            Ok(Err(std::sync::mpsc::RecvTimeoutError::Timeout)) => {
                abandoned.store(true, Ordering::SeqCst);
                Err(SecurityFault::TooSlow(SWITCH_LIMIT))
            }
            Ok(Err(std::sync::mpsc::RecvTimeoutError::Disconnected)) | Err(_) => {
                Err(SecurityFault::PadStopped)
            }
        }
    }
}

/// Opens the reader (again, after it was unplugged).
pub type Opener = Box<dyn FnMut() -> Result<EvmReader, ReaderError> + Send>;

/// Starts the pad's thread: `open` opens the reader; what is on the pad goes to `inputs`.
///
/// # Errors
/// The thread cannot be started.
pub fn start_pad(
    open: Opener,
    values: TagValues,
    inputs: mpsc::UnboundedSender<Input>,
) -> std::io::Result<PadHandle> {
    let (commands, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new().name("rfid-pad".into()).spawn(move || {
        // Stopped (the kiosk shuts down, or the thread panicked): the status page says so.
        let _stopped = Stopped(inputs.clone());
        let mut pad = Pad {
            open,
            reader: None,
            values,
            inputs,
            tags: BTreeMap::new(),
            sent: BTreeMap::new(),
            gone: BTreeMap::new(),
            shown: None,
            read_all: false,
        };
        pad.run(&rx);
    })?;
    Ok(PadHandle { commands })
}

/// Says the pad stopped when its thread ends, by a return or a panic.
struct Stopped(mpsc::UnboundedSender<Input>);

impl Drop for Stopped {
    fn drop(&mut self) {
        use kiosk_ui::{Device, DeviceState, status_row};
        let row =
            status_row(Device::RfidPad, DeviceState::NotWorking, 0, "the RFID pad's thread has stopped");
        let _ = self.0.send(Input::Status(row));
    }
}

/// What a tag on the pad is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Read {
    /// Not read yet (or its read failed: tried again at the next inventory).
    Unread,
    Item {
        item: String,
        parts: u8,
        part: u8,
    },
    /// A library card's tag (its number).
    PatronCard,
    /// Not a library item: ignored (staff were told once).
    NotAnItem,
}

struct Tag {
    read: Read,
    misses: u8,
    /// Reads that failed (a tag that never answers its read is given up on after
    /// [`READ_TRIES`], with a note to staff).
    failed_reads: u8,
}

/// Reads of a new tag before it is taken as not a library item.
const READ_TRIES: u8 = 3;

struct Pad {
    open: Opener,
    reader: Option<EvmReader>,
    values: TagValues,
    inputs: mpsc::UnboundedSender<Input>,
    tags: BTreeMap<Uid, Tag>,
    /// What the event loop was last told, by item.
    sent: BTreeMap<String, OnPad>,
    /// Items that left the pad, and when.
    gone: BTreeMap<String, std::time::Instant>,
    /// The status row last sent (sent again only when it changes).
    shown: Option<Result<usize, String>>,
    /// The last inventory finished (every tag on the pad was found).
    read_all: bool,
}

impl Pad {
    fn run(&mut self, commands: &std::sync::mpsc::Receiver<Command>) {
        // An inventory starts every POLL_EVERY (not POLL_EVERY after the last one ended):
        // its own time on the air and its quiet are part of the period.
        let mut next = std::time::Instant::now();
        loop {
            let wait = next.saturating_duration_since(std::time::Instant::now());
            match commands.recv_timeout(wait) {
                // A caller that gave up (its time ran out) is not switched behind its back.
                Ok(Command::Follow { abandoned, .. }) if abandoned.load(Ordering::SeqCst) => {}
                Ok(Command::Follow { item, lent, reply, .. }) => {
                    let _ = reply.send(self.follow(&item, lent));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if self.inputs.is_closed() {
                return;
            }
            if std::time::Instant::now() >= next {
                next = std::time::Instant::now() + POLL_EVERY;
                self.poll();
            }
        }
    }

    /// The reader, opened if it is not (`None`: it cannot be now; the status page says why).
    fn reader(&mut self) -> Option<&mut EvmReader> {
        if self.reader.is_none() {
            match (self.open)() {
                Ok(r) => {
                    tracing::info!(path = r.path(), "RFID pad: reader ready");
                    self.reader = Some(r);
                }
                Err(e) => {
                    self.status(Err(e.to_string()));
                    std::thread::sleep(REOPEN_EVERY);
                    return None;
                }
            }
        }
        self.reader.as_mut()
    }

    fn status(&mut self, state: Result<usize, String>) {
        use kiosk_ui::{Device, DeviceState, status_row};
        if self.shown.as_ref() == Some(&state) {
            return;
        }
        self.shown = Some(state.clone());
        let row = match state {
            Ok(n) => {
                status_row(Device::RfidPad, DeviceState::TagsOnPad, i32::try_from(n).unwrap_or(i32::MAX), "")
            }
            Err(why) => status_row(Device::RfidPad, DeviceState::NotWorking, 0, &why),
        };
        let _ = self.inputs.send(Input::Status(row));
    }

    /// A reader error: a reader that is gone is closed (opened again at the next poll).
    fn failed(&mut self, e: &ReaderError) {
        tracing::warn!(error = %e, "RFID pad: the reader failed");
        self.status(Err(e.to_string()));
        if matches!(e, ReaderError::Gone | ReaderError::Io(_) | ReaderError::Timeout(_)) {
            self.reader = None;
        }
    }

    /// One inventory: new tags read, tags gone counted out, the event loop told what
    /// changed.
    fn poll(&mut self) {
        let Some(reader) = self.reader() else { return };
        let inventory = match reader.inventory(None) {
            Ok(i) => i,
            Err(e) => {
                self.read_all = false;
                self.failed(&e);
                return;
            }
        };
        self.read_all = inventory.complete;
        let seen: BTreeSet<Uid> = inventory.uids.iter().copied().collect();
        for uid in &inventory.uids {
            let tag = self.tags.entry(*uid).or_insert(Tag { read: Read::Unread, misses: 0, failed_reads: 0 });
            tag.misses = 0;
        }
        // Only an inventory that finished says a tag is gone.
        if inventory.complete {
            for (uid, tag) in &mut self.tags {
                if !seen.contains(uid) {
                    tag.misses = tag.misses.saturating_add(1);
                }
            }
            self.tags.retain(|_, t| t.misses < MISSES);
        }
        let unread: Vec<Uid> =
            self.tags.iter().filter(|(_, t)| t.read == Read::Unread).map(|(u, _)| *u).collect();
        for uid in unread {
            self.read_tag(uid);
        }
        self.publish();
        if self.reader.is_some() {
            self.status(Ok(self.tags.len()));
        }
    }

    /// Reads a new tag's data model: its first 8 blocks, which hold the Danish model and
    /// ISO 28560-3's basic block; a tag they do not decode is asked its DSFID and memory
    /// and read as far as its model needs (ISO 28560-2 runs longer).
    fn read_tag(&mut self, uid: Uid) {
        use kiosk_rfid::{NotAnItem, model};
        let Some(reader) = self.reader.as_mut() else { return };
        let decoded = reader.read_blocks(uid, 0, 8).and_then(|bytes| match model::decode(None, &bytes) {
            Ok(tag) => Ok(Ok(tag)),
            Err(NotAnItem::Blank) => Ok(Err(NotAnItem::Blank)),
            Err(_) => {
                let info = reader.system_info(uid)?;
                let blocks = model::blocks_needed(info.dsfid, info.memory);
                let bytes = reader.read_blocks(uid, 0, blocks)?;
                Ok(model::decode(info.dsfid, &bytes))
            }
        });
        let decoded = match decoded {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "RFID pad: a new tag could not be read yet");
                if matches!(e, ReaderError::Gone | ReaderError::Io(_)) {
                    self.failed(&e);
                } else if let Some(t) = self.tags.get_mut(&uid) {
                    t.failed_reads += 1;
                    if t.failed_reads >= READ_TRIES {
                        tracing::info!(error = %e, "RFID pad: a tag that cannot be read is ignored");
                        t.read = Read::NotAnItem;
                        let _ = self.inputs.send(Input::TagIgnored);
                    }
                }
                return;
            }
        };
        let read = match decoded {
            Ok(t) if t.usage == kiosk_rfid::Usage::PatronCard => {
                if self.values.patron_cards {
                    // As if its number had been scanned: the same rules decide.
                    let _ = self.inputs.send(Input::Scan(t.item.clone()));
                }
                Read::PatronCard
            }
            // Any other use (on loan, reference, one whose tag says nothing of its use,
            // even one marked discarded): the library system decides whether it lends.
            Ok(t) => Read::Item { item: t.item, parts: t.parts.max(1), part: t.part.max(1) },
            Err(why) => {
                tracing::info!(%why, "RFID pad: a tag that is not a library item is ignored");
                let _ = self.inputs.send(Input::TagIgnored);
                Read::NotAnItem
            }
        };
        if let Some(t) = self.tags.get_mut(&uid) {
            t.read = read;
        }
    }

    /// The items on the pad now, each told to the event loop when it changed.
    fn publish(&mut self) {
        let mut now: BTreeMap<String, OnPad> = BTreeMap::new();
        for tag in self.tags.values() {
            if let Read::Item { item, parts, part } = &tag.read {
                let entry = now.entry(item.clone()).or_insert_with(|| OnPad {
                    item: ItemId(item.clone()),
                    parts: *parts,
                    present: Vec::new(),
                    duplicate: false,
                });
                if entry.present.contains(part) {
                    entry.duplicate = true;
                } else {
                    entry.present.push(*part);
                    entry.present.sort_unstable();
                }
                entry.parts = entry.parts.max(*parts);
            }
        }
        for (item, on) in &now {
            if self.sent.get(item) != Some(on) {
                let _ = self.inputs.send(Input::Pad(on.clone()));
            }
        }
        let at = std::time::Instant::now();
        for (item, was) in &self.sent {
            if !now.contains_key(item) {
                let gone = OnPad { present: Vec::new(), duplicate: false, ..was.clone() };
                let _ = self.inputs.send(Input::Pad(gone));
                self.gone.insert(item.clone(), at);
            }
        }
        for item in now.keys() {
            self.gone.remove(item);
        }
        self.gone.retain(|_, when| at.duration_since(*when) < GONE_FOR);
        self.sent = now;
    }

    /// The tags of `item` on the pad.
    fn uids_of(&self, item: &str) -> Vec<Uid> {
        self.tags
            .iter()
            .filter(|(_, t)| matches!(&t.read, Read::Item { item: i, .. } if i == item))
            .map(|(u, _)| *u)
            .collect()
    }

    /// Switches every tag of `item` to follow its loan (each tag tried [`TRIES`] times):
    /// only when every part of its set is on the pad.
    fn follow(&mut self, item: &str, lent: bool) -> Result<(), SecurityFault> {
        if self.uids_of(item).is_empty() {
            // Asked before the pad was read (at start, settling a crash's loans): look now.
            self.poll();
        }
        let uids = self.uids_of(item);
        if uids.is_empty() {
            let unread = self.tags.values().any(|t| matches!(t.read, Read::Unread | Read::NotAnItem));
            return Err(if self.gone.contains_key(item) {
                SecurityFault::NotOnPad
            } else if self.reader.is_none() || !self.read_all || unread {
                SecurityFault::NotRead
            } else {
                SecurityFault::NoTag
            });
        }
        let (mut parts, mut present) = (1, BTreeSet::new());
        for tag in self.tags.values() {
            if let Read::Item { item: i, parts: n, part } = &tag.read
                && i == item
            {
                parts = parts.max(*n);
                present.insert(*part);
            }
        }
        if present.len() < usize::from(parts) {
            return Err(SecurityFault::PartsGone);
        }
        let values = self.values;
        for uid in uids {
            let mut last = Err(SecurityFault::NotOnPad);
            for _ in 0..TRIES {
                last = match self.reader() {
                    Some(reader) => switch(reader, uid, lent, values),
                    None => Err(SecurityFault::ReaderGone("it cannot be opened".to_owned())),
                };
                match &last {
                    Ok(()) | Err(SecurityFault::Locked | SecurityFault::Refused(_)) => break,
                    Err(SecurityFault::ReaderGone(why)) => {
                        tracing::warn!(why, "RFID pad: the reader went during a security switch");
                        if self.reader.is_none() {
                            // It could not be opened again (that waited already): no use trying on.
                            break;
                        }
                        self.reader = None;
                    }
                    Err(e) => tracing::warn!(error = %e, "RFID pad: a security switch failed; trying again"),
                }
            }
            last?;
        }
        Ok(())
    }
}

/// One tag's AFI and (where the library uses it) EAS bit, for a loan or not. A tag
/// without an EAS bit (not NXP's) is switched by its AFI alone where the library uses
/// both; where it uses the EAS bit only, such a tag cannot follow the loan.
fn switch(reader: &mut EvmReader, uid: Uid, lent: bool, v: TagValues) -> Result<(), SecurityFault> {
    let fault = |e: ReaderError| match e {
        ReaderError::Tag(TagError::Locked) => SecurityFault::Locked,
        // What the tag will never do; anything else it said may be a weak field: tried again.
        e @ (ReaderError::Tag(
            TagError::NotSupported | TagError::OptionNotSupported | TagError::NotRecognised,
        )
        | ReaderError::NoEas(_)) => SecurityFault::Refused(e.to_string()),
        ReaderError::NoTag => SecurityFault::NotOnPad,
        e @ (ReaderError::Gone | ReaderError::Io(_) | ReaderError::Timeout(_) | ReaderError::Open { .. }) => {
            SecurityFault::ReaderGone(e.to_string())
        }
        e => SecurityFault::Reader(e.to_string()),
    };
    if matches!(v.security, TagSecurity::Afi | TagSecurity::Both) {
        reader.write_afi(uid, if lent { v.afi_on_loan } else { v.afi_on_shelf }).map_err(fault)?;
    }
    if matches!(v.security, TagSecurity::Eas | TagSecurity::Both) {
        match reader.set_eas(uid, !lent) {
            Ok(()) => {}
            Err(ReaderError::NoEas(_)) if v.security == TagSecurity::Both => {}
            Err(e) => return Err(fault(e)),
        }
    }
    Ok(())
}
