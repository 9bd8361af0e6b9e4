//! The local link store (OCSP and CRL modes): `HMAC-SHA256(link_key, issuer ‖ serial)` →
//! the library's patron barcode. The serial is never stored in clear. Staff fill it at
//! the counter (card + library card + staff PIN); after a card re-issue the serial
//! changes and staff link the new card, which replaces the patron's old entry.
//!
//! File format (text, one link a line, mode 0600, replaced atomically):
//! `kiosk-links v1` then `<64 hex digits> <barcode>` lines.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use hmac::{Hmac, Mac};
use kiosk_card::cert::JpkiCertificate;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{PlatformError, ServiceId, hex, proof, unhex};

const HEADER: &str = "kiosk-links v1";

/// The store: a key, a file, and its entries in memory.
pub struct LinkStore {
    path: PathBuf,
    key: Zeroizing<Vec<u8>>,
    entries: RwLock<BTreeMap<[u8; 32], ServiceId>>,
}

impl std::fmt::Debug for LinkStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkStore").field("path", &self.path).field("links", &self.len()).finish()
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> PlatformError {
    PlatformError::LinkStore(format!("{what}: {e}"))
}

impl LinkStore {
    /// Opens the store at `path` (missing file = empty store) with the key in `key_file`
    /// (at least 32 bytes).
    pub fn open(path: &Path, key_file: &Path) -> Result<Self, PlatformError> {
        let key = Zeroizing::new(fs::read(key_file).map_err(|e| err("key file", e))?);
        Self::with_key(path, key.to_vec())
    }

    pub fn with_key(path: &Path, key: Vec<u8>) -> Result<Self, PlatformError> {
        let key = Zeroizing::new(key);
        if key.len() < 32 {
            return Err(PlatformError::LinkStore("the link key must be at least 32 bytes".into()));
        }
        let entries = match fs::read_to_string(path) {
            Ok(text) => parse(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(err("read", e)),
        };
        Ok(LinkStore { path: path.to_owned(), key, entries: RwLock::new(entries) })
    }

    /// The keyed hash of a card certificate (issuer DN DER ‖ serial content octets).
    pub fn keyed_hash(&self, cert: &JpkiCertificate) -> [u8; 32] {
        let (issuer, serial) = proof::issuer_and_serial(cert);
        keyed_hash(&self.key, &issuer, &serial)
    }

    /// The patron linked to this card, if any.
    pub fn resolve(&self, cert: &JpkiCertificate) -> Option<ServiceId> {
        let h = self.keyed_hash(cert);
        self.entries.read().ok()?.get(&h).cloned()
    }

    /// Links the card to `patron`, replacing any other card linked to that patron (the
    /// staff re-link after a re-issue) and writing the file atomically.
    pub fn link(&self, cert: &JpkiCertificate, patron: &ServiceId) -> Result<(), PlatformError> {
        let h = self.keyed_hash(cert);
        let mut entries = self.entries.write().map_err(|_| PlatformError::LinkStore("poisoned".into()))?;
        let mut next = entries.clone();
        next.retain(|_, p| p != patron);
        next.insert(h, patron.clone());
        write_atomic(&self.path, &render(&next))?;
        *entries = next;
        Ok(())
    }

    /// Removes the card's link. `Ok(false)` when it had none.
    pub fn unlink(&self, cert: &JpkiCertificate) -> Result<bool, PlatformError> {
        let h = self.keyed_hash(cert);
        let mut entries = self.entries.write().map_err(|_| PlatformError::LinkStore("poisoned".into()))?;
        let mut next = entries.clone();
        if next.remove(&h).is_none() {
            return Ok(false);
        }
        write_atomic(&self.path, &render(&next))?;
        *entries = next;
        Ok(true)
    }

    /// True when `patron` is linked to some card.
    pub fn has_patron(&self, patron: &ServiceId) -> bool {
        self.entries.read().is_ok_and(|e| e.values().any(|p| p == patron))
    }

    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

fn parse(text: &str) -> Result<BTreeMap<[u8; 32], ServiceId>, PlatformError> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(PlatformError::LinkStore("not a kiosk link store (bad header)".into()));
    }
    let mut map = BTreeMap::new();
    for (n, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let bad = || PlatformError::LinkStore(format!("line {} is malformed", n + 2));
        let (h, patron) = line.split_once(' ').ok_or_else(bad)?;
        let h: [u8; 32] = unhex(h).and_then(|v| v.try_into().ok()).ok_or_else(bad)?;
        map.insert(h, ServiceId::new(patron).ok_or_else(bad)?);
    }
    Ok(map)
}

fn render(entries: &BTreeMap<[u8; 32], ServiceId>) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for (h, p) in entries {
        out.push_str(&hex(h));
        out.push(' ');
        out.push_str(p.expose());
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
    fn file_round_trip_rejects_garbage_and_short_keys() {
        let dir = std::env::temp_dir().join(format!("kiosk-links-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("links");
        let mut m = BTreeMap::new();
        m.insert([7u8; 32], ServiceId::new("LIB-1").unwrap());
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
