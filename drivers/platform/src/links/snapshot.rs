//! The signed local snapshot of a shared link store: what a kiosk lends from while the
//! store cannot be reached, and starts from before it can.
//!
//! Binary, replaced atomically (0600), signed with HMAC-SHA256 under a key derived from
//! the municipality's link key, so a snapshot edited on the board, or one made for
//! another municipality, is refused by name:
//!
//! ```text
//! "kiosk-link-snapshot v1\n"
//! municipality: u8 length, bytes
//! store:        u8 length, bytes: which shared store (its `link_store.id`)
//! change:       i64 BE, the store's last change the snapshot holds
//! taken:        u64 BE, Unix seconds of the last time the store was read
//! count:        u32 BE
//! count ×       32-byte credential, u8 length, patron number
//! signature:    32 bytes, HMAC-SHA256 over everything before it
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::index::{Credential, LinkIndex};
use crate::ServiceId;

const MAGIC: &[u8] = b"kiosk-link-snapshot v1\n";

/// Why a snapshot was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a link snapshot (bad header)")]
    NotASnapshot,
    #[error(
        "its signature does not match: it was changed after the kiosk wrote it, or made with another link key"
    )]
    Signature,
    #[error("it was made for municipality {found:?}, this kiosk belongs to {wanted:?}")]
    OtherMunicipality { found: String, wanted: String },
    #[error("it is cut short or malformed")]
    Malformed,
}

/// A snapshot's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub municipality: String,
    /// Which shared store the links came from.
    pub store_id: String,
    /// The shared store's change number the snapshot is complete up to.
    pub change: i64,
    /// When the store was last read (the snapshot's age is counted from here).
    pub taken: SystemTime,
    pub index: LinkIndex,
}

/// The signature a snapshot's `body` (everything before the signature) carries under
/// `link_key`.
#[must_use]
pub fn signature(body: &[u8], link_key: &[u8]) -> [u8; 32] {
    let mut mac = mac(link_key);
    mac.update(body);
    mac.finalize().into_bytes().into()
}

fn mac(link_key: &[u8]) -> Hmac<Sha256> {
    // A key of its own, derived from the link key: a snapshot signature is never a
    // credential hash.
    let derived: [u8; 32] = Hmac::<Sha256>::new_from_slice(link_key)
        .map(|mut m| {
            m.update(b"kiosk link snapshot signing key v1");
            m.finalize().into_bytes().into()
        })
        .unwrap_or([0; 32]);
    #[allow(clippy::expect_used)] // HMAC takes a key of any length.
    Hmac::<Sha256>::new_from_slice(&derived).expect("HMAC key of any length")
}

impl Snapshot {
    /// The file's bytes, signed with `link_key`.
    pub fn encode(&self, link_key: &[u8]) -> Vec<u8> {
        let parts = Parts {
            municipality: &self.municipality,
            store_id: &self.store_id,
            change: self.change,
            taken: self.taken,
            index: &self.index,
        };
        encode(&parts, link_key)
    }

    /// Reads and checks a snapshot for `municipality`: the signature first, nothing of
    /// the content is believed before it.
    pub fn decode(bytes: &[u8], link_key: &[u8], municipality: &str) -> Result<Snapshot, SnapshotError> {
        if !bytes.starts_with(MAGIC) {
            return Err(SnapshotError::NotASnapshot);
        }
        let split =
            bytes.len().checked_sub(32).filter(|&n| n >= MAGIC.len()).ok_or(SnapshotError::Malformed)?;
        let (body, signature) = bytes.split_at(split);
        let mut mac = mac(link_key);
        mac.update(body);
        mac.verify_slice(signature).map_err(|_| SnapshotError::Signature)?;
        let mut r = Reader(&body[MAGIC.len()..]);
        let found = std::str::from_utf8(r.take_short()?).map_err(|_| SnapshotError::Malformed)?.to_owned();
        if found != municipality {
            return Err(SnapshotError::OtherMunicipality { found, wanted: municipality.to_owned() });
        }
        let store_id = std::str::from_utf8(r.take_short()?).map_err(|_| SnapshotError::Malformed)?.to_owned();
        let change = i64::from_be_bytes(r.array()?);
        let taken = UNIX_EPOCH
            .checked_add(Duration::from_secs(u64::from_be_bytes(r.array()?)))
            .ok_or(SnapshotError::Malformed)?;
        let count = u32::from_be_bytes(r.array()?) as usize;
        // Straight into the index: the snapshot is written in credential order.
        let links = count.min(r.0.len() / 33);
        let mut index = LinkIndex::with_capacity(links, r.0.len().saturating_sub(links * 32));
        for _ in 0..count {
            let key: Credential = r.array()?;
            let patron = std::str::from_utf8(r.take_short()?).map_err(|_| SnapshotError::Malformed)?;
            let patron = ServiceId::new(patron).ok_or(SnapshotError::Malformed)?;
            if !index.push_sorted(key, &patron) {
                return Err(SnapshotError::Malformed);
            }
        }
        if !r.0.is_empty() {
            return Err(SnapshotError::Malformed);
        }
        Ok(Snapshot { municipality: found, store_id, change, taken, index })
    }
}

/// What a snapshot is made of, borrowed from a store's view.
#[derive(Debug)]
pub struct Parts<'a> {
    pub municipality: &'a str,
    pub store_id: &'a str,
    pub change: i64,
    pub taken: SystemTime,
    pub index: &'a LinkIndex,
}

/// A snapshot's bytes from its parts, signed with `link_key` (without copying the index).
pub fn encode(parts: &Parts<'_>, link_key: &[u8]) -> Vec<u8> {
    let short = |out: &mut Vec<u8>, text: &str| {
        let b = text.as_bytes();
        let n = b.len().min(255);
        out.push(n as u8);
        out.extend_from_slice(&b[..n]);
    };
    let index = parts.index;
    let mut out = Vec::with_capacity(MAGIC.len() + 64 + index.len() * 48);
    out.extend_from_slice(MAGIC);
    short(&mut out, parts.municipality);
    short(&mut out, parts.store_id);
    out.extend_from_slice(&parts.change.to_be_bytes());
    let secs = parts.taken.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    out.extend_from_slice(&secs.to_be_bytes());
    out.extend_from_slice(&(index.len() as u32).to_be_bytes());
    for (key, patron) in index.iter() {
        out.extend_from_slice(key);
        out.push(patron.len() as u8);
        out.extend_from_slice(patron.as_bytes());
    }
    let signature = signature(&out, link_key);
    out.extend_from_slice(&signature);
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        if self.0.len() < n {
            return Err(SnapshotError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn take_short(&mut self) -> Result<&'a [u8], SnapshotError> {
        let n = self.take(1)?[0] as usize;
        self.take(n)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        self.take(N)?.try_into().map_err(|_| SnapshotError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let links = (0..100u8).map(|i| ([i; 32], ServiceId::new(&format!("LIB-{i}")).unwrap())).collect();
        Snapshot {
            municipality: "132012".into(),
            store_id: "0f3c".into(),
            change: 4711,
            taken: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            index: LinkIndex::from_links(links),
        }
    }

    #[test]
    fn round_trip() {
        let s = sample();
        let bytes = s.encode(&[7; 32]);
        assert_eq!(Snapshot::decode(&bytes, &[7; 32], "132012").unwrap(), s);
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let bytes = sample().encode(&[7; 32]);
        for i in MAGIC.len()..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            assert_eq!(Snapshot::decode(&bad, &[7; 32], "132012"), Err(SnapshotError::Signature), "byte {i}");
        }
    }

    #[test]
    fn wrong_key_municipality_header_and_truncation_are_named() {
        let bytes = sample().encode(&[7; 32]);
        assert_eq!(Snapshot::decode(&bytes, &[8; 32], "132012"), Err(SnapshotError::Signature));
        assert!(matches!(
            Snapshot::decode(&bytes, &[7; 32], "132039"),
            Err(SnapshotError::OtherMunicipality { .. })
        ));
        assert_eq!(Snapshot::decode(b"kiosk-links v1\n", &[7; 32], "x"), Err(SnapshotError::NotASnapshot));
        assert_eq!(Snapshot::decode(MAGIC, &[7; 32], "x"), Err(SnapshotError::Malformed));
        assert_eq!(
            Snapshot::decode(&bytes[..bytes.len() - 1], &[7; 32], "132012"),
            Err(SnapshotError::Signature)
        );
    }
}
