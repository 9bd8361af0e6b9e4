//! The local link store (OCSP and CRL modes): `HMAC-SHA256(link_key, issuer ‖ serial)` →
//! the library's patron barcode. The serial is never stored in clear. Staff fill it at
//! the counter (card + library card + staff PIN); after a card re-issue the serial
//! changes and staff link the new card, which replaces the patron's old entry.
//!
//! Two arrangements:
//! - **local**: the store is a file on the board (text, one link a line, mode 0600,
//!   replaced atomically: `kiosk-links v1` then `<64 hex digits> <barcode>` lines), for a
//!   library whose counter and kiosks share one board or copy the file;
//! - **shared** ([`shared`]): the municipality's store is a PostgreSQL database that
//!   every counter writes and every kiosk follows; each kiosk keeps a signed
//!   [`snapshot`] of it and lends from that while the database cannot be reached.
//!
//! Either way the links live in memory in a compact [`LinkIndex`].

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use kiosk_card::cert::JpkiCertificate;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{PlatformError, ServiceId, hex, proof, unhex};

mod index;
pub mod shared;
pub mod snapshot;

pub use index::{Credential, LinkIndex};
pub use snapshot::{Snapshot, SnapshotError};

const HEADER: &str = "kiosk-links v1";

/// Where the links come from and go to.
#[derive(Debug)]
enum Kind {
    /// The store is this file: the counter writes it, the kiosks on this board read it.
    Local,
    /// The store is shared ([`shared`]); the file is this kiosk's signed snapshot of
    /// `municipality`'s links.
    Snapshot { municipality: String },
}

#[derive(Debug, Default)]
struct State {
    index: LinkIndex,
    /// The shared store's last change applied.
    change: i64,
    /// When the shared store (or the snapshot it came from) was last read.
    taken: Option<SystemTime>,
    /// Changes applied since the snapshot was last written.
    unsaved: bool,
    /// Counts the applied batches, so a snapshot written while another batch came in
    /// does not mark that one saved.
    generation: u64,
    /// Which shared store the view is of (its `link_store.id`); "" before the first read.
    store_id: String,
    /// A snapshot was written since the view was opened.
    written: bool,
}

/// One change read from the shared store: a credential linked to a patron, or unlinked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub change: i64,
    pub credential: Credential,
    pub patron: Option<ServiceId>,
}

/// The store: a key, a file, and its links in memory.
pub struct LinkStore {
    path: PathBuf,
    key: Zeroizing<Vec<u8>>,
    kind: Kind,
    state: RwLock<State>,
    /// Held through each [`LinkStore::apply`]: one batch at a time, so an older read
    /// applied late cannot undo a newer one.
    applying: std::sync::Mutex<()>,
}

impl std::fmt::Debug for LinkStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkStore").field("path", &self.path).field("links", &self.len()).finish()
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> PlatformError {
    PlatformError::LinkStore(format!("{what}: {e}"))
}

fn poisoned() -> PlatformError {
    PlatformError::LinkStore("poisoned".into())
}

fn read_key(key_file: &Path) -> Result<Zeroizing<Vec<u8>>, PlatformError> {
    let key = Zeroizing::new(fs::read(key_file).map_err(|e| err("key file", e))?);
    if key.len() < 32 {
        return Err(PlatformError::LinkStore("the link key must be at least 32 bytes".into()));
    }
    Ok(key)
}

impl LinkStore {
    /// Opens the local store at `path` (missing file = empty store) with the key in
    /// `key_file` (at least 32 bytes).
    pub fn open(path: &Path, key_file: &Path) -> Result<Self, PlatformError> {
        Self::with_key(path, read_key(key_file)?.to_vec())
    }

    pub fn with_key(path: &Path, key: Vec<u8>) -> Result<Self, PlatformError> {
        let key = Zeroizing::new(key);
        if key.len() < 32 {
            return Err(PlatformError::LinkStore("the link key must be at least 32 bytes".into()));
        }
        let index = match fs::read_to_string(path) {
            Ok(text) => parse(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => LinkIndex::default(),
            Err(e) => return Err(err("read", e)),
        };
        let state = State { index, ..State::default() };
        Ok(LinkStore {
            path: path.to_owned(),
            key,
            kind: Kind::Local,
            state: RwLock::new(state),
            applying: std::sync::Mutex::new(()),
        })
    }

    /// A kiosk's view of a shared store of `municipality`, starting from the snapshot at
    /// `path`. A missing snapshot starts empty; a refused one (tampered, another
    /// municipality's, cut short) also starts empty and is returned, to be named to staff
    /// and IT, and is replaced by the next one written.
    pub fn open_snapshot(
        path: &Path,
        key_file: &Path,
        municipality: &str,
    ) -> Result<(Self, Option<SnapshotError>), PlatformError> {
        Self::snapshot_with_key(path, read_key(key_file)?.to_vec(), municipality)
    }

    pub fn snapshot_with_key(
        path: &Path,
        key: Vec<u8>,
        municipality: &str,
    ) -> Result<(Self, Option<SnapshotError>), PlatformError> {
        let key = Zeroizing::new(key);
        if key.len() < 32 {
            return Err(PlatformError::LinkStore("the link key must be at least 32 bytes".into()));
        }
        let (state, refused) = match fs::read(path) {
            Ok(bytes) => match Snapshot::decode(&bytes, &key, municipality) {
                Ok(s) => {
                    let state = State {
                        index: s.index,
                        change: s.change,
                        taken: Some(s.taken),
                        store_id: s.store_id,
                        ..State::default()
                    };
                    (state, None)
                }
                Err(e) => (State::default(), Some(e)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (State::default(), None),
            Err(e) => return Err(err("read the snapshot", e)),
        };
        let kind = Kind::Snapshot { municipality: municipality.to_owned() };
        let store = LinkStore {
            path: path.to_owned(),
            key,
            kind,
            state: RwLock::new(state),
            applying: std::sync::Mutex::new(()),
        };
        Ok((store, refused))
    }

    /// True for a kiosk's view of a shared store.
    pub fn is_snapshot(&self) -> bool {
        matches!(self.kind, Kind::Snapshot { .. })
    }

    /// The keyed hash of a card certificate (issuer DN DER ‖ serial content octets).
    pub fn keyed_hash(&self, cert: &JpkiCertificate) -> Credential {
        let (issuer, serial) = proof::issuer_and_serial(cert);
        keyed_hash(&self.key, &issuer, &serial)
    }

    /// The patron linked to this card, if any.
    pub fn resolve(&self, cert: &JpkiCertificate) -> Option<ServiceId> {
        let h = self.keyed_hash(cert);
        self.state.read().ok()?.index.get(&h)
    }

    /// Links the card to `patron`, replacing any other card linked to that patron (the
    /// staff re-link after a re-issue) and writing the file atomically. A shared store's
    /// links are written through [`shared::SharedLinks::link`] instead.
    pub fn link(&self, cert: &JpkiCertificate, patron: &ServiceId) -> Result<(), PlatformError> {
        self.local_only()?;
        let h = self.keyed_hash(cert);
        let mut state = self.state.write().map_err(|_| poisoned())?;
        let mut next = state.index.clone();
        next.remove_patron_except(patron, &h);
        next.insert(h, patron);
        write_atomic(&self.path, &render(&next))?;
        state.index = next;
        Ok(())
    }

    /// Removes the card's link. `Ok(false)` when it had none.
    pub fn unlink(&self, cert: &JpkiCertificate) -> Result<bool, PlatformError> {
        self.local_only()?;
        let h = self.keyed_hash(cert);
        let mut state = self.state.write().map_err(|_| poisoned())?;
        let mut next = state.index.clone();
        if !next.remove(&h) {
            return Ok(false);
        }
        write_atomic(&self.path, &render(&next))?;
        state.index = next;
        Ok(true)
    }

    fn local_only(&self) -> Result<(), PlatformError> {
        match self.kind {
            Kind::Local => Ok(()),
            Kind::Snapshot { .. } => {
                Err(PlatformError::LinkStore("this kiosk's links come from the shared store".into()))
            }
        }
    }

    /// True when `patron` is linked to some card.
    pub fn has_patron(&self, patron: &ServiceId) -> bool {
        self.state.read().is_ok_and(|s| s.index.has_patron(patron))
    }

    pub fn len(&self) -> usize {
        self.state.read().map(|s| s.index.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shared store's last change this view holds (0: none).
    pub fn change(&self) -> i64 {
        self.state.read().map(|s| s.change).unwrap_or(0)
    }

    /// When the shared store was last read, by this kiosk or by the one whose snapshot
    /// it started from; `None` before either.
    pub fn taken(&self) -> Option<SystemTime> {
        self.state.read().ok().and_then(|s| s.taken)
    }

    /// Applies changes read from the shared store, in order. Changes at or below the
    /// view's last one are skipped (a read that started before a newer one was applied).
    /// A large batch is merged in one pass outside the lock; lookups go on meanwhile.
    pub fn apply(&self, changes: &[Change]) -> Result<(), PlatformError> {
        let _one_at_a_time = self.applying.lock().map_err(|_| poisoned())?;
        let after = self.change();
        let fresh: Vec<&Change> = changes.iter().filter(|c| c.change > after).collect();
        let Some(last) = fresh.iter().map(|c| c.change).max() else { return Ok(()) };
        const ONE_BY_ONE: usize = 64;
        let merged = if fresh.len() > ONE_BY_ONE {
            let batch = fresh.iter().map(|c| (c.credential, c.patron.clone())).collect();
            Some(self.state.read().map_err(|_| poisoned())?.index.merged(batch))
        } else {
            None
        };
        let mut state = self.state.write().map_err(|_| poisoned())?;
        match merged {
            Some(index) => state.index = index,
            None => {
                for c in &fresh {
                    match &c.patron {
                        Some(p) => state.index.insert(c.credential, p),
                        None => {
                            state.index.remove(&c.credential);
                        }
                    }
                }
            }
        }
        state.change = last;
        state.unsaved = true;
        state.generation += 1;
        Ok(())
    }

    /// The view is complete as of `now`: the shared store was read to its last change.
    pub fn mark_read(&self, now: SystemTime) {
        if let Ok(mut state) = self.state.write() {
            state.taken = Some(now);
        }
    }

    /// Which shared store the view is of ("" before the first read).
    pub fn store_id(&self) -> String {
        self.state.read().map(|s| s.store_id.clone()).unwrap_or_default()
    }

    /// The shared store is not the one the view was made from (restored from a backup,
    /// or replaced): the view is emptied, to be read again from its first change.
    pub fn start_over(&self, store_id: &str) -> Result<(), PlatformError> {
        let _one_at_a_time = self.applying.lock().map_err(|_| poisoned())?;
        let mut state = self.state.write().map_err(|_| poisoned())?;
        let (written, had_links) = (state.written, state.change != 0 || !state.index.is_empty());
        // A view that held nothing has nothing to save yet; one that held links must
        // replace its snapshot, which describes the other store.
        *state = State { store_id: store_id.to_owned(), unsaved: had_links, written, ..State::default() };
        Ok(())
    }

    /// A snapshot was written since the view was opened.
    pub fn snapshot_written(&self) -> bool {
        self.state.read().is_ok_and(|s| s.written)
    }

    /// True when changes were applied since the snapshot was last written.
    pub fn unsaved(&self) -> bool {
        self.state.read().is_ok_and(|s| s.unsaved)
    }

    /// Writes the signed snapshot atomically (0600). Only for a shared store's view.
    pub fn write_snapshot(&self) -> Result<(), PlatformError> {
        let Kind::Snapshot { municipality } = &self.kind else {
            return Err(PlatformError::LinkStore("a local store has no snapshot".into()));
        };
        let (bytes, generation) = {
            let state = self.state.read().map_err(|_| poisoned())?;
            let taken = state.taken.unwrap_or(SystemTime::UNIX_EPOCH);
            let parts = snapshot::Parts {
                municipality,
                store_id: &state.store_id,
                change: state.change,
                taken,
                index: &state.index,
            };
            (snapshot::encode(&parts, &self.key), state.generation)
        };
        write_atomic_bytes(&self.path, &bytes)?;
        if let Ok(mut state) = self.state.write() {
            // Changes applied while the file was written stay unsaved for the next time.
            state.unsaved = state.generation != generation;
            state.written = true;
        }
        Ok(())
    }
}

pub(crate) fn keyed_hash(key: &[u8], issuer: &[u8], serial: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return [0; 32] };
    // Length-prefix the issuer so (issuer, serial) pairs cannot collide by shifting bytes.
    mac.update(&(issuer.len() as u32).to_be_bytes());
    mac.update(issuer);
    mac.update(serial);
    mac.finalize().into_bytes().into()
}

fn parse(text: &str) -> Result<LinkIndex, PlatformError> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(PlatformError::LinkStore("not a kiosk link store (bad header)".into()));
    }
    let mut links = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let bad = || PlatformError::LinkStore(format!("line {} is malformed", n + 2));
        let (h, patron) = line.split_once(' ').ok_or_else(bad)?;
        let h: Credential = unhex(h).and_then(|v| v.try_into().ok()).ok_or_else(bad)?;
        links.push((h, ServiceId::new(patron).ok_or_else(bad)?));
    }
    Ok(LinkIndex::from_links(links))
}

fn render(index: &LinkIndex) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for (h, p) in index.iter() {
        out.push_str(&hex(h));
        out.push(' ');
        out.push_str(p);
        out.push('\n');
    }
    out
}

/// Writes `path` atomically: a 0600 temporary file in the same directory, fsync, rename,
/// fsync of the directory.
pub(crate) fn write_atomic(path: &Path, content: &str) -> Result<(), PlatformError> {
    write_atomic_bytes(path, content.as_bytes())
}

pub(crate) fn write_atomic_bytes(path: &Path, content: &[u8]) -> Result<(), PlatformError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| PlatformError::LinkStore("no file name".into()))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| err("create", e))?;
    f.write_all(content).map_err(|e| err("write", e))?;
    f.sync_all().map_err(|e| err("sync", e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| err("rename", e))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hash_depends_on_key_issuer_and_serial() {
        let k1 = [1u8; 32];
        let k2 = [2u8; 32];
        let base = keyed_hash(&k1, b"issuer", b"\x01\x02");
        assert_ne!(base, keyed_hash(&k2, b"issuer", b"\x01\x02"));
        assert_ne!(base, keyed_hash(&k1, b"issuer2", b"\x01\x02"));
        assert_ne!(base, keyed_hash(&k1, b"issuer", b"\x01\x03"));
        assert_ne!(keyed_hash(&k1, b"ab", b"c"), keyed_hash(&k1, b"a", b"bc"));
    }

    #[test]
    fn a_shared_view_saves_its_changes_and_reloads_them_from_its_snapshot() {
        let dir = std::env::temp_dir().join(format!("kiosk-links-view-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("links.snapshot");
        let (view, refused) = LinkStore::snapshot_with_key(&path, vec![9; 32], "132012").unwrap();
        assert_eq!((refused, view.is_snapshot(), view.unsaved()), (None, true, false));
        let patron = ServiceId::new("LIB-7").unwrap();
        let change =
            |n: i64, p: Option<ServiceId>| Change { change: n, credential: [n as u8; 32], patron: p };
        view.start_over("store-1").unwrap();
        view.apply(&[change(3, Some(patron.clone())), change(4, Some(patron.clone()))]).unwrap();
        view.apply(&[change(3, None)]).unwrap();
        assert!(view.unsaved());
        assert_eq!((view.len(), view.change()), (2, 4), "a change at or below the view's last is old news");
        view.apply(&[Change { change: 5, credential: [3; 32], patron: None }]).unwrap();
        view.mark_read(SystemTime::now());
        assert_eq!((view.len(), view.change()), (1, 5));
        view.write_snapshot().unwrap();
        assert!(!view.unsaved());
        view.apply(&[]).unwrap();
        assert!(!view.unsaved(), "no change, nothing to save");
        assert!(view.snapshot_written());
        let (again, refused) = LinkStore::snapshot_with_key(&path, vec![9; 32], "132012").unwrap();
        assert_eq!(again.store_id(), "store-1");
        assert!(again.taken().is_some() && !again.snapshot_written());
        assert_eq!((refused, again.len(), again.change()), (None, 1, 5));
        // Another store (restored from a backup): the view starts over.
        again.start_over("store-2").unwrap();
        assert_eq!((again.len(), again.change(), again.store_id()), (0, 0, "store-2".to_owned()));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_round_trip_rejects_garbage_and_short_keys() {
        let dir = std::env::temp_dir().join(format!("kiosk-links-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("links");
        let m = LinkIndex::from_links(vec![([7u8; 32], ServiceId::new("LIB-1").unwrap())]);
        write_atomic(&path, &render(&m)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(parse(&text).unwrap(), m);
        assert!(parse("nope\n").is_err());
        assert!(parse("kiosk-links v1\nzz LIB\n").is_err());
        assert!(LinkStore::with_key(&path, vec![0; 31]).is_err());
        let store = LinkStore::with_key(&path, vec![0; 32]).unwrap();
        assert_eq!(store.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
