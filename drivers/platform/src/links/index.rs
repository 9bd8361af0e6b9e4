//! The links in memory: keyed hashes sorted for a binary search, each with an offset into
//! one buffer of patron numbers. About 50 bytes a link (32 of them the hash), so a
//! million links fit a small board; no allocation per link.

use crate::ServiceId;

/// A keyed hash of a card certificate (see [`super::keyed_hash`]).
pub type Credential = [u8; 32];

/// Credential → patron number, compact and sorted.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LinkIndex {
    keys: Vec<Credential>,
    /// Offset in `arena` of each key's patron: a length byte, then the number.
    patrons: Vec<u32>,
    arena: Vec<u8>,
    /// Bytes of `arena` no key points at any more (replaced or removed links).
    garbage: usize,
}

impl std::fmt::Debug for LinkIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkIndex").field("links", &self.keys.len()).finish()
    }
}

impl LinkIndex {
    /// An index of `links`, in any order; for a credential given twice the last wins.
    pub fn from_links(mut links: Vec<(Credential, ServiceId)>) -> Self {
        // Stable, so that among equal credentials the last one given stays last.
        links.sort_by_key(|l| l.0);
        let mut index = LinkIndex::default();
        index.keys.reserve(links.len());
        index.patrons.reserve(links.len());
        for (key, patron) in links {
            if index.keys.last() == Some(&key) {
                index.keys.pop();
                index.patrons.pop();
            }
            let offset = index.push_patron(&patron);
            index.keys.push(key);
            index.patrons.push(offset);
        }
        index.compact();
        index
    }

    /// An empty index with room for `links` links and `patron_bytes` of patron numbers.
    pub fn with_capacity(links: usize, patron_bytes: usize) -> Self {
        LinkIndex {
            keys: Vec::with_capacity(links),
            patrons: Vec::with_capacity(links),
            arena: Vec::with_capacity(patron_bytes),
            garbage: 0,
        }
    }

    /// Appends a link whose credential sorts after every one already here (a snapshot is
    /// written in order); false, and nothing added, when it does not.
    pub fn push_sorted(&mut self, key: Credential, patron: &ServiceId) -> bool {
        if self.keys.last().is_some_and(|last| *last >= key) {
            return false;
        }
        let offset = self.push_patron(patron);
        self.keys.push(key);
        self.patrons.push(offset);
        true
    }

    fn push_patron(&mut self, patron: &ServiceId) -> u32 {
        let offset = self.arena.len() as u32;
        let bytes = patron.expose().as_bytes();
        // A patron number is at most 64 bytes (ServiceId::new).
        self.arena.push(bytes.len() as u8);
        self.arena.extend_from_slice(bytes);
        offset
    }

    fn patron_bytes(&self, i: usize) -> &[u8] {
        let at = self.patrons[i] as usize;
        let len = self.arena.get(at).copied().unwrap_or(0) as usize;
        self.arena.get(at + 1..at + 1 + len).unwrap_or(&[])
    }

    fn patron_str(&self, i: usize) -> &str {
        std::str::from_utf8(self.patron_bytes(i)).unwrap_or("")
    }

    /// The patron linked to `key`.
    pub fn get(&self, key: &Credential) -> Option<ServiceId> {
        let i = self.keys.binary_search(key).ok()?;
        ServiceId::new(self.patron_str(i))
    }

    /// Links `key` to `patron`, replacing what `key` was linked to.
    pub fn insert(&mut self, key: Credential, patron: &ServiceId) {
        match self.keys.binary_search(&key) {
            Ok(i) => {
                if self.patron_bytes(i) == patron.expose().as_bytes() {
                    return;
                }
                self.garbage += 1 + self.patron_bytes(i).len();
                self.patrons[i] = self.push_patron(patron);
            }
            Err(i) => {
                let offset = self.push_patron(patron);
                self.keys.insert(i, key);
                self.patrons.insert(i, offset);
            }
        }
        self.compact_if_wasteful();
    }

    /// This index with `batch` applied (each credential linked to its patron, or
    /// unlinked for `None`; for a credential given twice the last wins), in one pass over
    /// both: a large batch costs what a rebuild costs, not a shift of the whole index per
    /// link.
    pub fn merged(&self, batch: Vec<(Credential, Option<ServiceId>)>) -> LinkIndex {
        let mut batch = batch;
        // Stable: among equal credentials the last given stays last, and is kept.
        batch.sort_by_key(|b| b.0);
        let mut deduped: Vec<(Credential, Option<ServiceId>)> = Vec::with_capacity(batch.len());
        for b in batch {
            match deduped.last_mut() {
                Some(last) if last.0 == b.0 => *last = b,
                _ => deduped.push(b),
            }
        }
        let mut out = LinkIndex::with_capacity(self.len() + deduped.len(), self.arena.len() - self.garbage);
        let mut ours = self.iter().peekable();
        let mut theirs = deduped.into_iter().peekable();
        loop {
            let take_ours = match (ours.peek(), theirs.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((k, _)), Some((t, _))) => *k < t,
            };
            if take_ours {
                if let Some((k, p)) = ours.next()
                    && let Some(p) = ServiceId::new(p)
                {
                    out.push_sorted(*k, &p);
                }
                continue;
            }
            if let Some((key, patron)) = theirs.next() {
                // A link already here for the same credential is replaced (or removed).
                if ours.peek().is_some_and(|(k, _)| **k == key) {
                    ours.next();
                }
                if let Some(p) = patron {
                    out.push_sorted(key, &p);
                }
            }
        }
        out
    }

    /// Removes `key`'s link; false when it had none.
    pub fn remove(&mut self, key: &Credential) -> bool {
        let Ok(i) = self.keys.binary_search(key) else { return false };
        self.garbage += 1 + self.patron_bytes(i).len();
        self.keys.remove(i);
        self.patrons.remove(i);
        self.compact_if_wasteful();
        true
    }

    /// Removes every credential of `patron` but `keep`; how many went.
    pub fn remove_patron_except(&mut self, patron: &ServiceId, keep: &Credential) -> usize {
        let wanted = patron.expose().as_bytes();
        let gone: Vec<Credential> = (0..self.keys.len())
            .filter(|&i| self.patron_bytes(i) == wanted && &self.keys[i] != keep)
            .map(|i| self.keys[i])
            .collect();
        for key in &gone {
            self.remove(key);
        }
        gone.len()
    }

    /// True when some credential is linked to `patron` (a scan: the counter's question).
    pub fn has_patron(&self, patron: &ServiceId) -> bool {
        let wanted = patron.expose().as_bytes();
        (0..self.keys.len()).any(|i| self.patron_bytes(i) == wanted)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every link in credential order.
    pub fn iter(&self) -> impl Iterator<Item = (&Credential, &str)> + '_ {
        self.keys.iter().enumerate().map(|(i, k)| (k, self.patron_str(i)))
    }

    /// Bytes held (capacity), for the figures.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 32 + self.patrons.capacity() * 4 + self.arena.capacity()
    }

    fn compact_if_wasteful(&mut self) {
        if self.garbage > 4096 && self.garbage > self.arena.len() / 2 {
            self.compact();
        }
    }

    /// Rewrites the arena with only the patrons some key points at.
    fn compact(&mut self) {
        let mut arena = Vec::with_capacity(self.arena.len() - self.garbage);
        for i in 0..self.keys.len() {
            let bytes = self.patron_bytes(i);
            let offset = arena.len() as u32;
            arena.push(bytes.len() as u8);
            arena.extend_from_slice(bytes);
            self.patrons[i] = offset;
        }
        arena.shrink_to_fit();
        self.arena = arena;
        self.garbage = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ServiceId {
        ServiceId::new(s).unwrap()
    }

    #[test]
    fn insert_replace_remove_and_patrons() {
        let mut ix = LinkIndex::default();
        ix.insert([2; 32], &p("B"));
        ix.insert([1; 32], &p("A"));
        ix.insert([3; 32], &p("A"));
        assert_eq!(ix.get(&[1; 32]), Some(p("A")));
        assert_eq!(ix.get(&[2; 32]), Some(p("B")));
        assert_eq!(ix.get(&[9; 32]), None);
        ix.insert([2; 32], &p("C"));
        assert_eq!(ix.get(&[2; 32]), Some(p("C")));
        assert!(ix.has_patron(&p("A")) && !ix.has_patron(&p("B")));
        assert_eq!(ix.remove_patron_except(&p("A"), &[3; 32]), 1);
        assert_eq!(ix.get(&[1; 32]), None);
        assert_eq!(ix.get(&[3; 32]), Some(p("A")));
        assert!(ix.remove(&[3; 32]) && !ix.remove(&[3; 32]));
        assert_eq!(
            ix.iter().map(|(k, v)| (k[0], v.to_owned())).collect::<Vec<_>>(),
            vec![(2, "C".to_owned())]
        );
    }

    #[test]
    fn a_merged_batch_links_replaces_and_unlinks_like_one_insert_at_a_time() {
        let base = LinkIndex::from_links((0..50u8).map(|i| ([i * 2; 32], p(&format!("B{i}")))).collect());
        let batch: Vec<(Credential, Option<ServiceId>)> = vec![
            ([1; 32], Some(p("N1"))),
            ([4; 32], Some(p("R4"))),
            ([6; 32], None),
            ([201; 32], Some(p("N201"))),
            ([1; 32], Some(p("N1-again"))),
            ([7; 32], None),
            ([8; 32], None),
            ([8; 32], Some(p("back"))),
        ];
        let mut one_by_one = base.clone();
        for (k, v) in &batch {
            match v {
                Some(v) => one_by_one.insert(*k, v),
                None => {
                    one_by_one.remove(k);
                }
            }
        }
        let merged = base.merged(batch);
        let all = |ix: &LinkIndex| ix.iter().map(|(k, v)| (*k, v.to_owned())).collect::<Vec<_>>();
        assert_eq!(all(&merged), all(&one_by_one));
        assert_eq!(merged.get(&[1; 32]), Some(p("N1-again")));
        assert_eq!(merged.get(&[6; 32]), None);
        assert_eq!(merged.get(&[8; 32]), Some(p("back")));
        assert_eq!(merged.len(), 50 + 2 - 1);
    }

    #[test]
    fn bulk_build_keeps_the_last_of_a_credential_and_compacts() {
        let ix = LinkIndex::from_links(vec![([5; 32], p("X")), ([4; 32], p("Y")), ([5; 32], p("Z"))]);
        assert_eq!(ix.len(), 2);
        assert_eq!(ix.get(&[5; 32]), Some(p("Z")));
        let mut churned = ix.clone();
        for n in 0..10_000u32 {
            churned.insert([5; 32], &p(&format!("P{n}")));
        }
        assert!(churned.arena.len() < 64 * 1024, "replaced patrons do not pile up: {}", churned.arena.len());
        assert_eq!(churned.get(&[5; 32]), Some(p("P9999")));
        assert_eq!(churned.get(&[4; 32]), Some(p("Y")));
    }
}
