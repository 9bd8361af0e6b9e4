//! The crash-safe loan journal.
//!
//! Before the kiosk sends a checkout, renewal or return to the library system it appends an
//! *intent* record to the session's journal file and fsyncs it; when the answer comes it
//! appends the *outcome*. When the session ends with every intent answered, the file is
//! deleted. A file still there at start means the kiosk died (power cut, crash) between
//! sending and hearing back: [`Journal::unfinished`] lists those intents and the kiosk
//! reconciles each with the library system (item information / the patron's charged
//! items) before it serves anyone, so a loan is never lost and never doubled.
//!
//! Privacy: reconciliation needs the patron number and the item barcode, so they are kept,
//! but only encrypted (ChaCha20-Poly1305, a fresh random nonce per record) with a key the
//! kiosk makes on first start, outside the journal directory: sealed to the board's TPM
//! (`journal.key.sealed`, with `security.tpm`) or a file of mode 0600 (`journal.key`),
//! and only until the session ends. A file none of whose records opens with the key is
//! kept for staff, never taken for an answered session. Nothing else about the patron is written: no name, no
//! PIN, no certificate, no title.
//!
//! Format: one record per line, `base64(nonce ‖ ciphertext ‖ tag)`; the file name is the
//! additional authenticated data, so a record cannot be moved to another session's file.
//! A torn last line (power cut mid-write) fails to decrypt and is ignored: its checkout
//! was never sent, because sending waits for the fsync.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use kiosk_keystore::{KeyError, Sealer};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

/// What the library system was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Checkout,
    Renew,
    Return,
}

impl Operation {
    fn code(self) -> &'static str {
        match self {
            Operation::Checkout => "checkout",
            Operation::Renew => "renew",
            Operation::Return => "return",
        }
    }

    fn parse(s: &str) -> Option<Operation> {
        match s {
            "checkout" => Some(Operation::Checkout),
            "renew" => Some(Operation::Renew),
            "return" => Some(Operation::Return),
            _ => None,
        }
    }
}

/// An intent that never got its outcome: to be reconciled with the library system.
pub struct Unfinished {
    /// The journal file it came from (delete it with [`Journal::settle`] once every intent
    /// in it is reconciled).
    pub file: PathBuf,
    pub operation: Operation,
    /// The patron number (secret: never log it).
    pub patron: Zeroizing<String>,
    /// The item barcode (never log it with the patron).
    pub item: Zeroizing<String>,
    /// A renewal's due date before it was asked (reconciliation looks for a later one).
    pub due_before: Option<String>,
}

impl core::fmt::Debug for Unfinished {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Unfinished({:?}, patron and item redacted)", self.operation)
    }
}

/// A journal problem. The kiosk refuses to lend while it cannot journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "the loan journal at {path} cannot be written ({source}): the kiosk lends nothing until it can; \
         check that the data partition is mounted, writable and not full"
    )]
    Write { path: PathBuf, source: io::Error },
    #[error("the loan journal at {path} cannot be read ({source}); check the data partition")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the journal key {path} is not 32 bytes: it was damaged or replaced. Unfinished loans in \
         {dir} cannot be read; staff must check them at the counter, then remove the directory"
    )]
    BadKey { path: PathBuf, dir: PathBuf },
    #[error("the system's random number generator failed; restart the kiosk")]
    Random,
    #[error("the loan journal's key cannot be opened: {0}")]
    Key(kiosk_keystore::KeyError),
}

/// The journal directory and its key.
pub struct Journal {
    dir: PathBuf,
    key: LessSafeKey,
    rng: SystemRandom,
}

impl core::fmt::Debug for Journal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Journal({})", self.dir.display())
    }
}

const KEY_FILE: &str = "journal.key";
const SUFFIX: &str = ".journal";

impl Journal {
    /// Opens (or creates, mode 0700) the journal directory `dir`, with its key in
    /// `dir/../journal.key` (created, mode 0600, on first start).
    ///
    /// # Errors
    /// If the directory or key cannot be made or read, or the key is damaged.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(dir, &Sealer::File)
    }

    /// [`Journal::open`], with the key kept by `sealer`: sealed to the board's TPM
    /// (`dir/../journal.key.sealed`), or the 0600 file.
    ///
    /// # Errors
    /// If the directory or key cannot be made or read, the key is damaged, the TPM cannot
    /// be used, or the key was sealed by another board's TPM.
    pub fn open_with(dir: &Path, sealer: &Sealer) -> Result<Journal, JournalError> {
        let write = |source| JournalError::Write { path: dir.to_path_buf(), source };
        fs::create_dir_all(dir).map_err(write)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(write)?;
        let key_path = dir.parent().unwrap_or(dir).join(KEY_FILE);
        let bytes = sealer.load_or_create(&key_path, 32).map_err(|e| match e {
            KeyError::BadLength { path, .. } => JournalError::BadKey { path, dir: dir.to_path_buf() },
            other => JournalError::Key(other),
        })?;
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes.as_ref()).map_err(|_| JournalError::Random)?;
        Ok(Journal { dir: dir.to_path_buf(), key: LessSafeKey::new(key), rng: SystemRandom::new() })
    }

    /// Starts the journal of a new session. Nothing is written until the first intent.
    pub fn session(self: &std::sync::Arc<Self>, session: u32) -> SessionJournal {
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let name = format!("{millis}-{session}{SUFFIX}");
        SessionJournal {
            journal: self.clone(),
            path: self.dir.join(&name),
            name,
            file: None,
            next: 0,
            open: Vec::new(),
        }
    }

    /// Every intent without an outcome, from journals a crash left behind.
    ///
    /// # Errors
    /// If the directory cannot be read.
    pub fn unfinished(&self) -> Result<Vec<Unfinished>, JournalError> {
        let read = |source| JournalError::Read { path: self.dir.clone(), source };
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map_err(read)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "journal"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for file in files {
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let f = File::open(&file).map_err(|source| JournalError::Read { path: file.clone(), source })?;
            let mut intents: Vec<(u32, Unfinished)> = Vec::new();
            let (mut lines, mut opened) = (0usize, 0usize);
            for line in BufReader::new(f).lines() {
                let Ok(line) = line else { break };
                lines += usize::from(!line.trim().is_empty());
                let Some(plain) = self.open_record(&name, &line) else { continue };
                opened += 1;
                match parse_record(&plain) {
                    Some(Record::Intent { seq, operation, patron, item, due_before }) => intents
                        .push((seq, Unfinished { file: file.clone(), operation, patron, item, due_before })),
                    Some(Record::Outcome { seq }) => intents.retain(|(s, _)| *s != seq),
                    None => {}
                }
            }
            if lines > 0 && opened == 0 {
                // Not one record opens with this key (another key, or the file damaged):
                // kept for staff, never taken for an answered session.
                tracing::warn!(
                    file = %file.display(),
                    "a loan journal file cannot be read with the journal key; it is kept for staff"
                );
                continue;
            }
            if intents.is_empty() {
                // Every intent was answered; the session just did not get to delete it.
                let _ = fs::remove_file(&file);
            }
            out.extend(intents.into_iter().map(|(_, u)| u));
        }
        Ok(out)
    }

    /// Deletes a journal file once its unfinished intents are reconciled.
    ///
    /// # Errors
    /// If the file cannot be removed.
    pub fn settle(&self, file: &Path) -> Result<(), JournalError> {
        match fs::remove_file(file) {
            Ok(()) => {
                sync_dir(&self.dir).map_err(|source| JournalError::Write { path: file.to_path_buf(), source })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(JournalError::Write { path: file.to_path_buf(), source }),
        }
    }

    /// The directory (for the privacy checks and the admin screen).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One record as it is written to the journal file `name`: `plain` encrypted and
    /// authenticated with the journal key (and wiped), base64, without the line end.
    ///
    /// # Errors
    /// [`JournalError::Random`] if no nonce can be drawn.
    pub fn seal(&self, name: &str, plain: &mut Vec<u8>) -> Result<String, JournalError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| JournalError::Random)?;
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(name.as_bytes()), plain)
            .map_err(|_| JournalError::Random)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(plain);
        plain.zeroize();
        Ok(B64.encode(sealed))
    }

    /// One record of the file `name` opened with the journal key (`None`: not one of
    /// this key's records, or torn).
    pub fn open_line(&self, name: &str, line: &str) -> Option<Zeroizing<String>> {
        self.open_record(name, line)
    }

    fn open_record(&self, name: &str, line: &str) -> Option<Zeroizing<String>> {
        let mut bytes = Zeroizing::new(B64.decode(line.trim()).ok()?);
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&bytes[..NONCE_LEN]).ok()?;
        let plain =
            self.key.open_in_place(nonce, Aad::from(name.as_bytes()), &mut bytes[NONCE_LEN..]).ok()?;
        Some(Zeroizing::new(String::from_utf8(plain.to_vec()).ok()?))
    }
}

enum Record {
    Intent {
        seq: u32,
        operation: Operation,
        patron: Zeroizing<String>,
        item: Zeroizing<String>,
        due_before: Option<String>,
    },
    Outcome {
        seq: u32,
    },
}

fn parse_record(plain: &str) -> Option<Record> {
    let mut f = plain.split('\t');
    match (f.next()?, f.next()?.parse().ok()?) {
        ("I", seq) => {
            let operation = Operation::parse(f.next()?)?;
            let patron = Zeroizing::new(f.next()?.to_owned());
            let item = Zeroizing::new(f.next()?.to_owned());
            let due_before = f.next().map(str::to_owned);
            Some(Record::Intent { seq, operation, patron, item, due_before })
        }
        ("O", seq) => Some(Record::Outcome { seq }),
        _ => None,
    }
}

/// The journal of one session.
pub struct SessionJournal {
    journal: std::sync::Arc<Journal>,
    name: String,
    path: PathBuf,
    file: Option<File>,
    next: u32,
    open: Vec<u32>,
}

impl core::fmt::Debug for SessionJournal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SessionJournal({}, {} open)", self.name, self.open.len())
    }
}

/// An intent written and synced: the request may now be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intent(u32);

impl SessionJournal {
    /// Records (and fsyncs) that `operation` on `item` for `patron` is about to be sent.
    ///
    /// # Errors
    /// If the record cannot be written and synced: do not send the request.
    pub fn intend(&mut self, operation: Operation, patron: &str, item: &str) -> Result<Intent, JournalError> {
        self.intend_with(operation, patron, item, None)
    }

    /// [`SessionJournal::intend`] with a renewal's due date before it is asked, which
    /// reconciliation compares with the item's due date after a crash.
    ///
    /// # Errors
    /// If the record cannot be written and synced: do not send the request.
    pub fn intend_with(
        &mut self,
        operation: Operation,
        patron: &str,
        item: &str,
        due_before: Option<&str>,
    ) -> Result<Intent, JournalError> {
        let seq = self.next;
        // Tabs and line breaks cannot occur in barcodes the kiosk accepts; refuse rather
        // than write an ambiguous record.
        if [patron, item, due_before.unwrap_or_default()].iter().any(|s| s.contains(['\t', '\n', '\r'])) {
            return Err(JournalError::Write {
                path: self.path.clone(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "barcode with a control character"),
            });
        }
        let mut plain = format!("I\t{seq}\t{}\t{patron}\t{item}", operation.code());
        if let Some(due) = due_before {
            plain.push('\t');
            plain.push_str(due);
        }
        let mut plain = plain.into_bytes();
        self.append(&mut plain)?;
        self.next += 1;
        self.open.push(seq);
        Ok(Intent(seq))
    }

    /// Records (and fsyncs) that the library system answered `intent`.
    ///
    /// # Errors
    /// If the record cannot be written (the intent then stays open and is reconciled at
    /// the next start, which is safe).
    pub fn answered(&mut self, intent: Intent) -> Result<(), JournalError> {
        let mut plain = format!("O\t{}", intent.0).into_bytes();
        self.append(&mut plain)?;
        self.open.retain(|s| *s != intent.0);
        Ok(())
    }

    /// True when an intent has no outcome yet.
    pub fn has_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Ends the session: deletes the file when every intent was answered; otherwise keeps
    /// it for reconciliation at the next start.
    ///
    /// # Errors
    /// If the file cannot be deleted.
    pub fn close(mut self) -> Result<(), JournalError> {
        drop(self.file.take());
        if self.open.is_empty() && self.next > 0 {
            return self.journal.settle(&self.path);
        }
        Ok(())
    }

    fn append(&mut self, plain: &mut Vec<u8>) -> Result<(), JournalError> {
        let line = self.journal.seal(&self.name, plain)?;
        let path = self.path.clone();
        let write = |source| JournalError::Write { path: path.clone(), source };
        if self.file.is_none() {
            let f =
                OpenOptions::new().create(true).append(true).mode(0o600).open(&self.path).map_err(write)?;
            sync_dir(&self.journal.dir).map_err(write)?;
            self.file = Some(f);
        }
        let Some(f) = self.file.as_mut() else { return Ok(()) };
        f.write_all(format!("{line}\n").as_bytes()).map_err(write)?;
        f.sync_data().map_err(write)
    }
}

/// Makes a directory's entries (a new or removed file) durable.
///
/// # Errors
/// If the directory cannot be opened or synced.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiosk-journal-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d.join("journal")
    }

    #[test]
    fn an_answered_session_leaves_nothing() {
        let dir = tmp("answered");
        let j = std::sync::Arc::new(Journal::open(&dir).unwrap());
        let mut s = j.session(1);
        let i = s.intend(Operation::Checkout, "2300012345678", "9784101010014").unwrap();
        s.answered(i).unwrap();
        s.close().unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        assert!(j.unfinished().unwrap().is_empty());
    }

    #[test]
    fn a_crash_between_send_and_answer_is_found_at_start_and_only_that_intent() {
        let dir = tmp("crash");
        {
            let j = std::sync::Arc::new(Journal::open(&dir).unwrap());
            let mut s = j.session(7);
            let a = s.intend(Operation::Checkout, "2300012345678", "ITEM-A").unwrap();
            s.answered(a).unwrap();
            let _b = s.intend(Operation::Checkout, "2300012345678", "ITEM-B").unwrap();
            // Power cut: the session never closes.
            std::mem::forget(s);
        }
        let j = std::sync::Arc::new(Journal::open(&dir).unwrap());
        let open = j.unfinished().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].item.as_str(), "ITEM-B");
        assert_eq!(open[0].patron.as_str(), "2300012345678");
        assert_eq!(open[0].operation, Operation::Checkout);
        j.settle(&open[0].file).unwrap();
        assert!(j.unfinished().unwrap().is_empty());
    }

    #[test]
    fn nothing_is_written_in_clear_and_the_files_are_private() {
        let dir = tmp("clear");
        let j = std::sync::Arc::new(Journal::open(&dir).unwrap());
        let mut s = j.session(2);
        let _ = s.intend(Operation::Renew, "2300012345678", "9784101010014").unwrap();
        let file = fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
        let text = fs::read_to_string(&file).unwrap();
        assert!(!text.contains("2300012345678") && !text.contains("9784101010014"));
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let key = dir.parent().unwrap().join(KEY_FILE);
        assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(s.has_open());
    }

    #[test]
    fn a_torn_last_line_and_a_record_from_another_file_are_ignored() {
        let dir = tmp("torn");
        let j = std::sync::Arc::new(Journal::open(&dir).unwrap());
        let mut s = j.session(3);
        let _ = s.intend(Operation::Checkout, "P1", "I1").unwrap();
        let file = s.path.clone();
        std::mem::forget(s);
        let good = fs::read_to_string(&file).unwrap();
        // A copy of the record under another session's name fails authentication.
        fs::write(dir.join("1-99.journal"), &good).unwrap();
        // A torn write at the end of the real file.
        let mut f = OpenOptions::new().append(true).open(&file).unwrap();
        f.write_all(&good.as_bytes()[..good.len() / 2]).unwrap();
        let open = j.unfinished().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].file, file);
    }

    #[test]
    fn a_file_no_record_of_which_opens_is_kept_not_taken_for_answered() {
        let dir = tmp("other-key");
        let j = std::sync::Arc::new(Journal::open(&dir).unwrap());
        let mut s = j.session(4);
        let _ = s.intend(Operation::Checkout, "P1", "I1").unwrap();
        let file = s.path.clone();
        std::mem::forget(s);
        drop(j);
        // The key is lost and a new one made: the old file's records do not open.
        fs::remove_file(dir.parent().unwrap().join(KEY_FILE)).unwrap();
        let j = Journal::open(&dir).unwrap();
        assert!(j.unfinished().unwrap().is_empty());
        assert!(file.exists(), "a file that cannot be read is kept for staff");
    }

    #[test]
    fn a_damaged_key_is_a_named_error() {
        let dir = tmp("key");
        drop(Journal::open(&dir).unwrap());
        fs::write(dir.parent().unwrap().join(KEY_FILE), b"short").unwrap();
        let e = Journal::open(&dir).unwrap_err();
        assert!(matches!(e, JournalError::BadKey { .. }), "{e}");
        assert!(e.to_string().contains("staff must check them"));
    }

    #[test]
    fn an_unwritable_directory_refuses_to_journal() {
        let e = Journal::open(Path::new("/proc/kiosk-journal")).unwrap_err();
        assert!(matches!(e, JournalError::Write { .. }));
        assert!(e.to_string().contains("lends nothing"));
    }
}
