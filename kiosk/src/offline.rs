//! Offline lending's queue: loans made while the library system did not answer, kept
//! until they are sent to it (SIP2 checkout with `no block`, the loan's own time and its
//! provisional due date), each exactly once, in the order made.
//!
//! One file, `offline.queue`, beside the loan journal and sealed with its key (each
//! record ChaCha20-Poly1305 with the file name as associated data, one per line, fsync'ed
//! before anything depends on it):
//! - `L seq made due patron item`: a loan made offline (written before the patron is told
//!   the book is lent);
//! - `S seq`: its replay is about to be sent (written before the checkout leaves);
//! - `D seq lent` or `D seq refused code message`: the library system's answer.
//!
//! A loan with `S` and no `D` (the kiosk died while its replay was out) is reconciled by
//! the item's status before anything is sent again, so a replay is never doubled. Loans
//! replayed and lent are dropped when the file is rewritten (atomically: a new file,
//! fsync, rename, fsync of the directory); refused ones stay for staff until staff clear
//! them. A torn last line (power cut mid-write) opens with no key and is ignored: nothing
//! depended on it, because everything waits for the fsync.
//!
//! Time: an offline loan carries the kiosk's clock, which the board (no RTC) cannot vouch
//! for until something sets it. [`ClockTrust`] says when it may be believed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::journal::{Journal, JournalError, sync_dir};

/// The queue's file name, in the journal's directory.
pub const FILE: &str = "offline.queue";

/// Why the library system refused a replayed loan (the staff list words it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayRefusal {
    /// Reserved for another patron.
    OnHold,
    /// On loan to someone else.
    OnLoan,
    /// The library system does not know the item.
    NotFound,
    /// Any other refusal (the library system's message is kept with it).
    Other,
}

impl ReplayRefusal {
    fn code(self) -> &'static str {
        match self {
            ReplayRefusal::OnHold => "on-hold",
            ReplayRefusal::OnLoan => "on-loan",
            ReplayRefusal::NotFound => "not-found",
            ReplayRefusal::Other => "other",
        }
    }

    fn parse(s: &str) -> ReplayRefusal {
        match s {
            "on-hold" => ReplayRefusal::OnHold,
            "on-loan" => ReplayRefusal::OnLoan,
            "not-found" => ReplayRefusal::NotFound,
            _ => ReplayRefusal::Other,
        }
    }
}

/// Where an offline loan is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Not sent yet.
    Waiting,
    /// Sent (or about to be) without an answer: reconcile before sending again.
    Sending,
    /// The library system took it.
    Lent,
    /// The library system refused it: the book is out without a loan; staff must act.
    Refused { why: ReplayRefusal, message: String },
}

/// One loan made offline.
pub struct OfflineLoan {
    pub seq: u32,
    /// When it was made (Unix seconds, from a trusted clock).
    pub made: i64,
    /// The provisional due date given to the patron (Unix seconds).
    pub due: i64,
    /// The patron number (secret: never logged).
    pub patron: Zeroizing<String>,
    pub item: String,
    pub state: State,
}

impl core::fmt::Debug for OfflineLoan {
    // No patron, and no library-system message (it may name the patron).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match &self.state {
            State::Waiting => "waiting",
            State::Sending => "sending",
            State::Lent => "lent",
            State::Refused { .. } => "refused",
        };
        write!(f, "OfflineLoan({}, {state}, patron redacted)", self.seq)
    }
}

/// Why an offline loan was not made.
#[derive(Debug, thiserror::Error)]
pub enum OfflineRefusal {
    #[error("this patron already has {0} books lent offline, the library's limit")]
    PatronLimit(usize),
    #[error("the kiosk already holds {0} loans made offline, the library's limit")]
    TotalLimit(usize),
    #[error("this book is already lent offline")]
    AlreadyLent,
    #[error("the kiosk's clock is behind the last offline loan's: it went back, so offline loans stop")]
    ClockWentBack,
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the offline queue's thread stopped")]
    Stopped,
}

/// The offline queue (see the module's documentation).
pub struct OfflineQueue {
    journal: Arc<Journal>,
    path: PathBuf,
    loans: Vec<OfflineLoan>,
    next: u32,
    file: Option<File>,
}

impl core::fmt::Debug for OfflineQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "OfflineQueue({} loans)", self.loans.len())
    }
}

impl OfflineQueue {
    /// Opens the queue beside the journal, reading what a previous run left.
    ///
    /// # Errors
    /// If the file exists and cannot be read.
    pub fn open(journal: Arc<Journal>) -> Result<OfflineQueue, JournalError> {
        let path = journal.dir().join(FILE);
        let mut q = OfflineQueue { journal, path, loans: Vec::new(), next: 0, file: None };
        let bytes = match fs::read(&q.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(q),
            Err(source) => return Err(JournalError::Read { path: q.path.clone(), source }),
        };
        let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
        let (mut unreadable, mut last_bad) = (0usize, false);
        for (i, line) in lines.iter().enumerate() {
            match std::str::from_utf8(line).ok().and_then(|l| q.journal.open_line(FILE, l)) {
                Some(plain) => q.apply(&plain),
                // The last line torn by a power cut: nothing depended on it.
                None if i + 1 == lines.len() => last_bad = true,
                None => unreadable += 1,
            }
        }
        if unreadable > 0 {
            // Records this key cannot open (another key, a damaged file): the file is kept
            // aside for IT, never written over; the loans that opened go on.
            let aside = q.path.with_extension("queue.unreadable");
            tracing::error!(
                records = unreadable,
                kept = %aside.display(),
                "offline loans that cannot be read with the journal key; the file is kept for IT"
            );
            fs::rename(&q.path, &aside)
                .map_err(|source| JournalError::Write { path: aside.clone(), source })?;
            q.rewrite()?;
        } else if last_bad || !bytes.ends_with(b"\n") {
            // The torn record is cut off, so the next one starts on a line of its own.
            q.rewrite()?;
        }
        Ok(q)
    }

    fn apply(&mut self, plain: &str) {
        let f: Vec<&str> = plain.split('\t').collect();
        let seq = || f.get(1).and_then(|s| s.parse::<u32>().ok());
        match (f.first().copied(), seq()) {
            (Some("L"), Some(seq)) if f.len() >= 6 => {
                let (Ok(made), Ok(due)) = (f[2].parse(), f[3].parse()) else { return };
                self.loans.push(OfflineLoan {
                    seq,
                    made,
                    due,
                    patron: Zeroizing::new(f[4].to_owned()),
                    item: f[5].to_owned(),
                    state: State::Waiting,
                });
                self.next = self.next.max(seq + 1);
            }
            (Some("S"), Some(seq)) => self.set(seq, State::Sending),
            (Some("D"), Some(seq)) => {
                let state = match f.get(2).copied() {
                    Some("lent") => State::Lent,
                    _ => State::Refused {
                        why: ReplayRefusal::parse(f.get(3).copied().unwrap_or_default()),
                        message: f.get(4).copied().unwrap_or_default().to_owned(),
                    },
                };
                self.set(seq, state);
            }
            _ => {}
        }
    }

    fn set(&mut self, seq: u32, state: State) {
        if let Some(l) = self.loans.iter_mut().find(|l| l.seq == seq) {
            l.state = state;
        }
    }

    fn append(&mut self, plain: String) -> Result<(), JournalError> {
        let mut bytes = plain.into_bytes();
        let line = self.journal.seal(FILE, &mut bytes)?;
        let write = |source| JournalError::Write { path: self.path.clone(), source };
        if self.file.is_none() {
            let f =
                OpenOptions::new().create(true).append(true).mode(0o600).open(&self.path).map_err(write)?;
            sync_dir(self.journal.dir()).map_err(write)?;
            self.file = Some(f);
        }
        let Some(f) = self.file.as_mut() else { return Ok(()) };
        f.write_all(format!("{line}\n").as_bytes()).map_err(write)?;
        f.sync_data().map_err(write)
    }

    /// Loans not yet taken by the library system (waiting or being sent).
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.loans.iter().filter(|l| matches!(l.state, State::Waiting | State::Sending)).count()
    }

    /// Whether `item` was lent offline and not yet taken by the library system.
    #[must_use]
    pub fn waiting_for(&self, item: &str) -> bool {
        self.loans.iter().any(|l| l.item == item && matches!(l.state, State::Waiting | State::Sending))
    }

    /// When the oldest loan still waiting was made.
    #[must_use]
    pub fn oldest_waiting(&self) -> Option<i64> {
        self.loans.iter().filter(|l| matches!(l.state, State::Waiting | State::Sending)).map(|l| l.made).min()
    }

    /// Loans the library system refused on replay: books out without a loan.
    pub fn refused(&self) -> impl Iterator<Item = &OfflineLoan> {
        self.loans.iter().filter(|l| matches!(l.state, State::Refused { .. }))
    }

    /// Records a loan made offline (fsync'ed before it returns), within the limits.
    ///
    /// # Errors
    /// [`OfflineRefusal`]: a limit reached, the book already lent offline, the clock
    /// behind the last offline loan, or the queue not written (nothing recorded).
    pub fn lend(
        &mut self,
        patron: &str,
        item: &str,
        made: i64,
        due: i64,
        limits: (usize, usize),
    ) -> Result<(), OfflineRefusal> {
        let (per_patron, total) = limits;
        let open = |l: &&OfflineLoan| matches!(l.state, State::Waiting | State::Sending);
        if self.loans.iter().filter(open).any(|l| l.item == item) {
            return Err(OfflineRefusal::AlreadyLent);
        }
        let mine = self.loans.iter().filter(open).filter(|l| l.patron.as_str() == patron).count();
        if mine >= per_patron {
            return Err(OfflineRefusal::PatronLimit(per_patron));
        }
        if self.waiting() >= total {
            return Err(OfflineRefusal::TotalLimit(total));
        }
        if self.loans.iter().any(|l| l.made > made) {
            return Err(OfflineRefusal::ClockWentBack);
        }
        let seq = self.next;
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        self.append(format!("L\t{seq}\t{made}\t{due}\t{}\t{}", clean(patron), clean(item)))?;
        self.next += 1;
        self.loans.push(OfflineLoan {
            seq,
            made,
            due,
            patron: Zeroizing::new(patron.to_owned()),
            item: item.to_owned(),
            state: State::Waiting,
        });
        Ok(())
    }

    /// The next loan to replay, in the order made: `(seq, patron, item, made, due,
    /// already sent)`; a loan already sent must be reconciled before it is sent again.
    #[must_use]
    pub fn next_to_replay(&self) -> Option<(u32, Zeroizing<String>, String, i64, i64, bool)> {
        self.loans
            .iter()
            .find(|l| matches!(l.state, State::Waiting | State::Sending))
            .map(|l| (l.seq, l.patron.clone(), l.item.clone(), l.made, l.due, l.state == State::Sending))
    }

    /// Its replay is about to be sent (fsync'ed first).
    ///
    /// # Errors
    /// If it cannot be written: do not send.
    pub fn sending(&mut self, seq: u32) -> Result<(), JournalError> {
        self.append(format!("S\t{seq}"))?;
        self.set(seq, State::Sending);
        Ok(())
    }

    /// The library system's answer to a replay.
    ///
    /// # Errors
    /// If it cannot be written (the loan stays "sent" and is reconciled next time).
    pub fn answered(&mut self, seq: u32, state: State) -> Result<(), JournalError> {
        let record = match &state {
            State::Refused { why, message } => {
                format!("D\t{seq}\trefused\t{}\t{}", why.code(), message.replace(['\t', '\n', '\r'], " "))
            }
            _ => format!("D\t{seq}\tlent"),
        };
        self.append(record)?;
        self.set(seq, state);
        // Nothing left to send: the lent ones are dropped (refused ones stay for staff).
        if self.waiting() == 0 {
            self.rewrite()?;
        }
        Ok(())
    }

    /// Staff handled the refused loans: they are dropped from the queue.
    ///
    /// # Errors
    /// If the queue cannot be rewritten.
    pub fn clear_refused(&mut self) -> Result<(), JournalError> {
        self.loans.retain(|l| !matches!(l.state, State::Refused { .. }));
        self.rewrite()
    }

    /// Rewrites the file with the loans still waiting, being sent or refused (atomically).
    fn rewrite(&mut self) -> Result<(), JournalError> {
        self.loans.retain(|l| l.state != State::Lent);
        self.file = None;
        let write = |source| JournalError::Write { path: self.path.clone(), source };
        if self.loans.is_empty() {
            match fs::remove_file(&self.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(write(e)),
            }
            return sync_dir(self.journal.dir()).map_err(write);
        }
        let tmp = self.path.with_extension("queue.new");
        let mut lines = String::new();
        for l in &self.loans {
            let mut records =
                vec![format!("L\t{}\t{}\t{}\t{}\t{}", l.seq, l.made, l.due, l.patron.as_str(), l.item)];
            match &l.state {
                State::Sending => records.push(format!("S\t{}", l.seq)),
                State::Refused { why, message } => {
                    records.push(format!("D\t{}\trefused\t{}\t{message}", l.seq, why.code()));
                }
                State::Waiting | State::Lent => {}
            }
            for r in records {
                let mut bytes = r.into_bytes();
                lines.push_str(&self.journal.seal(FILE, &mut bytes)?);
                lines.push('\n');
            }
        }
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(write)?;
        f.write_all(lines.as_bytes()).map_err(write)?;
        f.sync_all().map_err(write)?;
        fs::rename(&tmp, &self.path).map_err(write)?;
        sync_dir(self.journal.dir()).map_err(write)
    }

    /// The file (for the privacy checks).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The loans the library system refused on replay, as CSV for staff (`kiosk
/// offline-report`): when each was lent (the library's local time), the item, why, the
/// library system's words; and, only when `with_patron` (staff who must record the loan at
/// the counter), the patron number.
#[must_use]
pub fn report(queue: &OfflineQueue, utc_offset_secs: i32, with_patron: bool) -> String {
    let field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    // The library system's message may name the patron: it goes with the patron only.
    let mut out = String::from(if with_patron {
        "lent_at,item,reason,message,patron\n"
    } else {
        "lent_at,item,reason\n"
    });
    for l in queue.refused() {
        let (why, message) = match &l.state {
            State::Refused { why, message } => (why.code(), message.as_str()),
            _ => ("other", ""),
        };
        let at = local_time(l.made, utc_offset_secs, true);
        out.push_str(&format!("{at},{},{why}", field(&l.item)));
        if with_patron {
            out.push_str(&format!(",{},{}", field(message), field(&l.patron)));
        }
        out.push('\n');
    }
    out
}

/// `unix` as the library's local time, `2026-12-06 14:05` (with `:09` seconds if asked),
/// for staff.
#[must_use]
pub fn local_time(unix: i64, utc_offset_secs: i32, seconds: bool) -> String {
    let d = kiosk_ils::SipDate::from_unix(unix, utc_offset_secs);
    let part = |r: core::ops::Range<usize>| d.as_str().get(r).unwrap_or_default().to_owned();
    let mut out = format!("{}-{}-{} {}:{}", part(0..4), part(4..6), part(6..8), part(12..14), part(14..16));
    if seconds {
        out.push(':');
        out.push_str(&part(16..18));
    }
    out
}

/// Whether the kiosk's clock may be believed for an offline loan's time.
///
/// The board has no real-time clock: until something sets it, its time is whatever the
/// image booted with. An offline loan carries a time the library system will record, so
/// the kiosk lends offline only while one of these holds:
/// - systemd-timesyncd has synchronised the clock since boot (its marker file);
/// - in this boot, the library system's own clock (its status message's date) agreed
///   with the kiosk's to within [`MAX_SKEW_SECS`] (recorded in a file with the boot's id,
///   so a restart of the kiosk keeps it, a reboot does not).
///
/// And a loan is never stamped earlier than the last offline loan (the clock went back).
#[derive(Clone, Debug)]
pub struct ClockTrust {
    /// Marker of a synchronised clock (`/run/systemd/timesync/synchronized`).
    pub synced_marker: PathBuf,
    /// The boot's id (`/proc/sys/kernel/random/boot_id`).
    pub boot_id: PathBuf,
    /// Where the library system's agreement is recorded for this boot.
    pub agreed_file: PathBuf,
}

/// The most the kiosk's clock may differ from the library system's and still be trusted.
pub const MAX_SKEW_SECS: i64 = 300;

impl ClockTrust {
    /// The board's paths, with the record in `state_dir`.
    #[must_use]
    pub fn system(state_dir: &Path) -> ClockTrust {
        ClockTrust {
            synced_marker: PathBuf::from("/run/systemd/timesync/synchronized"),
            boot_id: PathBuf::from("/proc/sys/kernel/random/boot_id"),
            agreed_file: state_dir.join("clock-agreed"),
        }
    }

    fn boot(&self) -> Option<String> {
        fs::read_to_string(&self.boot_id).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    }

    /// The library system's clock was read: `skew` seconds ahead of the kiosk's. Within
    /// [`MAX_SKEW_SECS`] it is recorded for this boot; beyond, the record is removed.
    pub fn library_clock(&self, skew: i64) {
        if skew.abs() <= MAX_SKEW_SECS
            && let Some(boot) = self.boot()
        {
            if fs::read_to_string(&self.agreed_file).is_ok_and(|s| s.trim() == boot) {
                return;
            }
            if let Err(e) = fs::write(&self.agreed_file, format!("{boot}\n")) {
                tracing::warn!(error = %e, "could not record that the clock agrees with the library system's");
            }
        } else if skew.abs() > MAX_SKEW_SECS {
            tracing::warn!(skew, "the kiosk's clock disagrees with the library system's: no offline lending");
            let _ = fs::remove_file(&self.agreed_file);
        }
    }

    /// Whether the clock may be believed now.
    #[must_use]
    pub fn trusted(&self) -> bool {
        if self.synced_marker.exists() {
            return true;
        }
        match (self.boot(), fs::read_to_string(&self.agreed_file)) {
            (Some(boot), Ok(agreed)) => agreed.trim() == boot,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiosk-offline-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn queue(d: &Path) -> OfflineQueue {
        OfflineQueue::open(Arc::new(Journal::open(&d.join("journal")).unwrap())).unwrap()
    }

    const LIMITS: (usize, usize) = (2, 3);

    #[test]
    fn loans_survive_a_restart_in_order_with_their_state() {
        let d = dir("restart");
        let mut q = queue(&d);
        q.lend("P1", "B1", 100, 1_300, LIMITS).unwrap();
        q.lend("P1", "B2", 101, 1_301, LIMITS).unwrap();
        q.lend("P2", "B3", 102, 1_302, LIMITS).unwrap();
        q.sending(0).unwrap();
        drop(q);
        let mut q = queue(&d);
        assert_eq!(q.waiting(), 3);
        let (seq, patron, item, made, due, sent) = q.next_to_replay().unwrap();
        assert_eq!((seq, patron.as_str(), item.as_str(), made, due, sent), (0, "P1", "B1", 100, 1_300, true));
        q.answered(0, State::Lent).unwrap();
        q.sending(1).unwrap();
        let refused = State::Refused { why: ReplayRefusal::OnHold, message: "予約\tあり".into() };
        q.answered(1, refused).unwrap();
        drop(q);
        let q = queue(&d);
        assert_eq!(q.next_to_replay().map(|r| r.0), Some(2), "the next in order");
        let refused: Vec<_> = q.refused().collect();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].item, "B2");
        assert_eq!(
            refused[0].state,
            State::Refused { why: ReplayRefusal::OnHold, message: "予約 あり".into() }
        );
    }

    #[test]
    fn nothing_in_the_file_is_readable_without_the_key() {
        let d = dir("sealed");
        let mut q = queue(&d);
        // Long values: a short one could turn up in base64 by chance.
        q.lend("2300099887766", "9784003101018", 100, 1_300, LIMITS).unwrap();
        q.sending(0).unwrap();
        let raw = fs::read_to_string(q.path()).unwrap();
        assert_eq!(raw.lines().count(), 2);
        assert!(!raw.contains("2300099887766") && !raw.contains("9784003101018"), "{raw}");
        assert!(raw.lines().all(|l| !l.contains('\t')), "records are sealed, not tab-separated text");
    }

    #[test]
    fn limits_a_book_lent_twice_and_a_clock_gone_back_are_refused() {
        let d = dir("limits");
        let mut q = queue(&d);
        q.lend("P1", "B1", 100, 1_300, LIMITS).unwrap();
        assert!(matches!(q.lend("P2", "B1", 101, 1_301, LIMITS), Err(OfflineRefusal::AlreadyLent)));
        q.lend("P1", "B2", 102, 1_302, LIMITS).unwrap();
        assert!(matches!(q.lend("P1", "B3", 103, 1_303, LIMITS), Err(OfflineRefusal::PatronLimit(2))));
        q.lend("P2", "B3", 104, 1_304, LIMITS).unwrap();
        assert!(matches!(q.lend("P3", "B4", 105, 1_305, LIMITS), Err(OfflineRefusal::TotalLimit(3))));
        assert!(matches!(q.lend("P3", "B4", 90, 1_290, (5, 5)), Err(OfflineRefusal::ClockWentBack)));
        assert_eq!(q.waiting(), 3);
        assert_eq!(q.oldest_waiting(), Some(100));
    }

    #[test]
    fn all_replayed_leaves_no_file_and_refusals_stay_until_cleared() {
        let d = dir("compact");
        let mut q = queue(&d);
        q.lend("P1", "B1", 100, 1_300, LIMITS).unwrap();
        q.lend("P1", "B2", 101, 1_301, LIMITS).unwrap();
        q.sending(0).unwrap();
        q.answered(0, State::Lent).unwrap();
        q.sending(1).unwrap();
        q.answered(1, State::Refused { why: ReplayRefusal::Other, message: String::new() }).unwrap();
        assert!(q.path().exists(), "the refusal is kept for staff");
        q.clear_refused().unwrap();
        assert!(!q.path().exists());
        let mut q = queue(&d);
        assert_eq!((q.waiting(), q.refused().count()), (0, 0));
        q.lend("P1", "B3", 200, 1_400, LIMITS).unwrap();
        q.sending(0).unwrap_or_else(|_| panic!("a new loan takes the next number"));
        q.answered(0, State::Lent).unwrap();
        assert!(!q.path().exists(), "every loan replayed: nothing left");
    }

    #[test]
    fn the_report_lists_refusals_and_the_patron_only_when_asked() {
        let d = dir("report");
        let mut q = queue(&d);
        q.lend("P1", "B1", 1_796_558_400, 1_797_768_000, LIMITS).unwrap();
        q.lend("P2", "B2", 1_796_558_460, 1_797_768_060, LIMITS).unwrap();
        q.sending(0).unwrap();
        q.answered(0, State::Lent).unwrap();
        q.sending(1).unwrap();
        q.answered(1, State::Refused { why: ReplayRefusal::OnHold, message: "予約 \"至急\"".into() })
            .unwrap();
        let plain = report(&q, 9 * 3600, false);
        assert_eq!(plain, "lent_at,item,reason\n2026-12-06 21:01:00,\"B2\",on-hold\n");
        assert!(!plain.contains("P2") && !plain.contains("至急"), "no patron, no message that may name one");
        assert!(report(&q, 9 * 3600, true).ends_with(",\"予約 \"\"至急\"\"\",\"P2\"\n"));
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let d = dir("torn");
        let mut q = queue(&d);
        q.lend("P1", "B1", 100, 1_300, LIMITS).unwrap();
        let path = q.path().to_path_buf();
        drop(q);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"c2VhbGVkIGJ1dCB0b3Ju").unwrap();
        drop(f);
        let mut q = queue(&d);
        assert_eq!(q.waiting(), 1);
        // The torn record was cut off: the next record is read after a restart.
        q.lend("P1", "B2", 101, 1_301, LIMITS).unwrap();
        drop(q);
        assert_eq!(queue(&d).waiting(), 2);
    }

    #[test]
    fn records_another_key_cannot_open_are_kept_aside_never_dropped() {
        let d = dir("other-key");
        let mut q = queue(&d);
        q.lend("P1", "B1", 100, 1_300, LIMITS).unwrap();
        let path = q.path().to_path_buf();
        drop(q);
        // A record sealed with another key, then one with ours.
        let other = dir("other-key-2");
        let mut q2 = queue(&other);
        q2.lend("P9", "B9", 99, 1_299, LIMITS).unwrap();
        let foreign = fs::read_to_string(q2.path()).unwrap();
        let ours = fs::read_to_string(&path).unwrap();
        fs::write(&path, format!("{foreign}{ours}")).unwrap();
        let q = queue(&d);
        assert_eq!(q.waiting(), 1, "ours still goes on");
        assert!(path.with_extension("queue.unreadable").exists(), "the file is kept for IT");
    }

    #[test]
    fn the_clock_is_trusted_when_synchronised_or_agreed_in_this_boot() {
        let d = dir("clock");
        fs::write(d.join("boot_id"), "boot-1\n").unwrap();
        let trust = ClockTrust {
            synced_marker: d.join("synchronized"),
            boot_id: d.join("boot_id"),
            agreed_file: d.join("clock-agreed"),
        };
        assert!(!trust.trusted(), "nothing says so");
        trust.library_clock(MAX_SKEW_SECS + 1);
        assert!(!trust.trusted(), "the library system's clock disagrees");
        trust.library_clock(-3);
        assert!(trust.trusted(), "it agrees");
        fs::write(d.join("boot_id"), "boot-2\n").unwrap();
        assert!(!trust.trusted(), "a reboot forgets it");
        trust.library_clock(2);
        assert!(trust.trusted());
        trust.library_clock(-(MAX_SKEW_SECS + 60));
        assert!(!trust.trusted(), "a later disagreement withdraws it");
        fs::write(d.join("synchronized"), "").unwrap();
        assert!(trust.trusted(), "timesyncd synchronised the clock");
    }
}
