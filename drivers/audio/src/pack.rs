//! The prompt pack: every spoken prompt of every language with a voice, in one file made
//! at build time (`cargo xtask prompts`) from the screens' own catalogues, so a wording
//! changed on screen is changed in speech too (the kiosk's tests compare each prompt's
//! text with the catalogue's).
//!
//! ```text
//! "KVOX" version:u8=1 count:u16
//! count × { language:str8 key:str8 text:str16 samples:u32 bytes:u32 adpcm[bytes] }
//! ```
//! Little-endian; `str8`/`str16` are UTF-8 with a u8/u16 length. A pack is read whole
//! and checked (every clip decodes) before any of it is used.
//!
//! The kiosk opens it as a [`PackFile`]: checked from end to end at start, then only its
//! index kept in memory; a prompt's audio is read from the file when it is played, so
//! the kiosk's memory does not grow with the pack (every language's notices and dates).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::{Clip, adpcm};

const MAGIC: &[u8; 4] = b"KVOX";
const VERSION: u8 = 1;

/// Why a pack was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("not a prompt pack (it does not start with KVOX): rebuild it with `cargo xtask prompts`")]
    NotAPack,
    #[error("prompt pack version {0}, this kiosk reads version 1: rebuild it with `cargo xtask prompts`")]
    Version(u8),
    #[error("the prompt pack is cut short at byte {0}: copy it again")]
    Truncated(usize),
    #[error("the prompt pack has text that is not UTF-8 at byte {0}")]
    NotUtf8(usize),
    #[error("the prompt {language}/{key} does not decode: rebuild the pack")]
    BadAudio { language: String, key: String },
    #[error("the prompt {language}/{key} is in the pack twice")]
    Duplicate { language: String, key: String },
    #[error("the prompt pack has {0} bytes after its last prompt")]
    TrailingBytes(usize),
    #[error("the prompt pack could not be read at byte {at} ({why}): check the storage")]
    Read { at: usize, why: String },
}

/// One prompt: what it says, in which language, and its audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// A catalogue code (`ja`, `en`…).
    pub language: String,
    /// What the prompt is for (`idle`, `pin`, `tries-left-2`…).
    pub key: String,
    /// The words spoken, as the catalogue has them.
    pub text: String,
    /// Samples at [`crate::RATE`].
    pub samples: u32,
    /// IMA ADPCM ([`adpcm::encode`]).
    pub adpcm: Vec<u8>,
}

impl Prompt {
    /// The prompt's samples (checked when the pack was read).
    #[must_use]
    pub fn clip(&self) -> Clip {
        adpcm::decode(&self.adpcm, self.samples as usize).unwrap_or_default().into()
    }

    /// How long it plays, in milliseconds.
    #[must_use]
    pub fn millis(&self) -> u64 {
        u64::from(self.samples) * 1000 / u64::from(crate::RATE)
    }
}

/// Every prompt, found by language and key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pack {
    prompts: Vec<Prompt>,
    index: HashMap<(String, String), usize>,
}

/// One prompt's header as read, and where its audio starts in the pack.
struct Entry {
    language: String,
    key: String,
    text: String,
    samples: u32,
    at: u64,
}

/// Reads a pack from any source, one field at a time, counting the bytes read (for the
/// errors' offsets and the audio's place in the file).
struct Reader<R> {
    source: R,
    at: usize,
}

impl<R: Read> Reader<R> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), PackError> {
        let mut done = 0;
        while done < buf.len() {
            match self.source.read(&mut buf[done..]) {
                Ok(0) => return Err(PackError::Truncated(self.at + done)),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(PackError::Read { at: self.at + done, why: e.to_string() }),
            }
        }
        self.at += buf.len();
        Ok(())
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], PackError> {
        let mut b = [0; N];
        self.fill(&mut b)?;
        Ok(b)
    }
    fn u8(&mut self) -> Result<u8, PackError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, PackError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, PackError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn str(&mut self, len: usize) -> Result<String, PackError> {
        let at = self.at;
        let mut b = vec![0; len];
        self.fill(&mut b)?;
        String::from_utf8(b).map_err(|_| PackError::NotUtf8(at))
    }

    /// Reads and checks the whole pack, handing `found` each prompt and its audio (the
    /// buffer is reused from prompt to prompt).
    fn read(mut self, found: &mut dyn FnMut(Entry, &[u8])) -> Result<(), PackError> {
        let mut magic = [0; 4];
        self.fill(&mut magic).map_err(|_| PackError::NotAPack)?;
        if &magic != MAGIC {
            return Err(PackError::NotAPack);
        }
        let version = self.u8()?;
        if version != VERSION {
            return Err(PackError::Version(version));
        }
        let count = self.u16()?;
        let mut seen = std::collections::HashSet::new();
        let mut audio = Vec::new();
        for _ in 0..count {
            let n = usize::from(self.u8()?);
            let language = self.str(n)?;
            let n = usize::from(self.u8()?);
            let key = self.str(n)?;
            let n = usize::from(self.u16()?);
            let text = self.str(n)?;
            let samples = self.u32()?;
            let n = self.u32()? as usize;
            let at = self.at as u64;
            // Read in steps: a length that lies about a short file fails as cut short,
            // not as an allocation of what it claims.
            audio.clear();
            let mut left = n;
            while left > 0 {
                let step = left.min(64 * 1024);
                let from = audio.len();
                audio.resize(from + step, 0);
                self.fill(&mut audio[from..])?;
                left -= step;
            }
            if samples == 0 || adpcm::decode(&audio, samples as usize).is_none() {
                return Err(PackError::BadAudio { language, key });
            }
            if !seen.insert((language.clone(), key.clone())) {
                return Err(PackError::Duplicate { language, key });
            }
            found(Entry { language, key, text, samples, at }, &audio);
        }
        let at = self.at;
        let rest = std::io::copy(&mut self.source, &mut std::io::sink())
            .map_err(|e| PackError::Read { at, why: e.to_string() })?;
        if rest > 0 {
            return Err(PackError::TrailingBytes(usize::try_from(rest).unwrap_or(usize::MAX)));
        }
        Ok(())
    }
}

impl Pack {
    /// A pack of these prompts (the build tool's side).
    ///
    /// # Errors
    /// A language and key given twice.
    pub fn new(prompts: Vec<Prompt>) -> Result<Pack, PackError> {
        let mut index = HashMap::new();
        for (i, p) in prompts.iter().enumerate() {
            if index.insert((p.language.clone(), p.key.clone()), i).is_some() {
                return Err(PackError::Duplicate { language: p.language.clone(), key: p.key.clone() });
            }
        }
        Ok(Pack { prompts, index })
    }

    /// Reads and checks a whole pack.
    ///
    /// # Errors
    /// [`PackError`]: not a pack, another version, cut short, bad text or audio, a
    /// prompt twice, bytes left over.
    pub fn parse(bytes: &[u8]) -> Result<Pack, PackError> {
        let mut prompts = Vec::new();
        Reader { source: bytes, at: 0 }.read(&mut |e, audio| {
            prompts.push(Prompt {
                language: e.language,
                key: e.key,
                text: e.text,
                samples: e.samples,
                adpcm: audio.to_vec(),
            });
        })?;
        Pack::new(prompts)
    }

    /// The pack as bytes ([`Pack::parse`] reads them back).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&u16::try_from(self.prompts.len()).unwrap_or(u16::MAX).to_le_bytes());
        for p in self.prompts.iter().take(usize::from(u16::MAX)) {
            for (s, wide) in [(&p.language, false), (&p.key, false), (&p.text, true)] {
                let bytes = s.as_bytes();
                if wide {
                    let n = bytes.len().min(usize::from(u16::MAX));
                    out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes());
                    out.extend_from_slice(&bytes[..n]);
                } else {
                    let n = bytes.len().min(255);
                    out.push(u8::try_from(n).unwrap_or(u8::MAX));
                    out.extend_from_slice(&bytes[..n]);
                }
            }
            out.extend_from_slice(&p.samples.to_le_bytes());
            out.extend_from_slice(&u32::try_from(p.adpcm.len()).unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(&p.adpcm);
        }
        out
    }

    /// The prompt for `key` in `language`.
    #[must_use]
    pub fn get(&self, language: &str, key: &str) -> Option<&Prompt> {
        self.index.get(&(language.to_owned(), key.to_owned())).map(|i| &self.prompts[*i])
    }

    /// Every prompt, in the order made.
    #[must_use]
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }
}

/// Why a pack file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PackFileError {
    #[error("{0}")]
    Open(#[source] std::io::Error),
    #[error(transparent)]
    Damaged(#[from] PackError),
}

/// A prompt pack on disk: checked whole when opened (as [`Pack::parse`]), then only the
/// index of the languages kept stays in memory; each prompt's audio is read from the
/// file when asked for (a few kilobytes, from the page cache once played).
#[derive(Debug)]
pub struct PackFile {
    file: std::fs::File,
    index: HashMap<(String, String), Stored>,
}

#[derive(Clone, Copy, Debug)]
struct Stored {
    at: u64,
    bytes: u32,
    samples: u32,
    /// The audio's FNV-1a hash when checked: a pack rewritten in place after the start
    /// (a copy over it) is found, not played as noise or as another prompt's audio.
    hash: u64,
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

impl PackFile {
    /// Opens and checks the pack at `path`, indexing the prompts of the languages `keep`
    /// wants (the kiosk keeps those it offers; the others are checked, not kept).
    ///
    /// # Errors
    /// [`PackFileError::Open`] when the file cannot be read, [`PackFileError::Damaged`]
    /// with the [`PackError`] when it is not a whole, good pack.
    pub fn open(path: &Path, keep: &dyn Fn(&str) -> bool) -> Result<PackFile, PackFileError> {
        let file = std::fs::File::open(path).map_err(PackFileError::Open)?;
        let mut index = HashMap::new();
        let source = std::io::BufReader::with_capacity(64 * 1024, &file);
        Reader { source, at: 0 }.read(&mut |e, audio| {
            if keep(&e.language) {
                let bytes = u32::try_from(audio.len()).unwrap_or(u32::MAX);
                let stored = Stored { at: e.at, bytes, samples: e.samples, hash: fnv1a(audio) };
                index.insert((e.language, e.key), stored);
            }
        })?;
        Ok(PackFile { file, index })
    }

    /// The prompt for `key` in `language`, read from the file and decoded; `None` when
    /// the pack has none, or when its audio no longer reads as it did when checked (cut
    /// or copied over since: the log says so).
    #[must_use]
    pub fn clip(&self, language: &str, key: &str) -> Option<Clip> {
        use std::os::unix::fs::FileExt;
        let s = *self.index.get(&(language.to_owned(), key.to_owned()))?;
        let mut audio = vec![0; s.bytes as usize];
        let read = self.file.read_exact_at(&mut audio, s.at);
        let same = read.is_ok() && fnv1a(&audio) == s.hash;
        let samples = same.then(|| adpcm::decode(&audio, s.samples as usize)).flatten();
        if samples.is_none() {
            tracing::warn!(
                language,
                key,
                "the prompt pack no longer reads as it did at start: the prompt is left out"
            );
        }
        Some(samples?.into())
    }

    /// How many prompts are kept (the languages offered).
    #[must_use]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// No prompt kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(language: &str, key: &str, samples: &[i16]) -> Prompt {
        Prompt {
            language: language.into(),
            key: key.into(),
            text: "本を置いてください".into(),
            samples: u32::try_from(samples.len()).unwrap_or(0),
            adpcm: adpcm::encode(samples),
        }
    }

    #[test]
    fn a_pack_reads_back_what_was_written() {
        let pack =
            Pack::new(vec![prompt("ja", "idle", &[0, 100, -100, 50]), prompt("en", "idle", &[1, 2, 3])])
                .unwrap();
        let back = Pack::parse(&pack.to_bytes()).unwrap();
        assert_eq!(back, pack);
        assert_eq!(back.get("en", "idle").map(|p| p.clip().len()), Some(3));
        assert!(back.get("ko", "idle").is_none());
    }

    #[test]
    fn damaged_packs_are_refused_by_name() {
        let good = Pack::new(vec![prompt("ja", "idle", &[0, 100, -100, 50])]).unwrap().to_bytes();
        assert_eq!(Pack::parse(b"RIFF...."), Err(PackError::NotAPack));
        assert_eq!(Pack::parse(b"KV"), Err(PackError::NotAPack));
        let mut v2 = good.clone();
        v2[4] = 2;
        assert_eq!(Pack::parse(&v2), Err(PackError::Version(2)));
        for cut in 5..good.len() {
            assert!(matches!(Pack::parse(&good[..cut]), Err(PackError::Truncated(_))), "cut at {cut}");
        }
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(Pack::parse(&extra), Err(PackError::TrailingBytes(1)));
        let mut bad_text = good.clone();
        bad_text[9] = 0xff; // inside "ja"
        assert!(matches!(Pack::parse(&bad_text), Err(PackError::NotUtf8(_))));
        // More samples claimed than the audio holds.
        let mut p = prompt("ja", "idle", &[0, 100, -100, 50]);
        p.samples = 40;
        let bytes = Pack { prompts: vec![p], index: HashMap::new() }.to_bytes();
        assert!(matches!(Pack::parse(&bytes), Err(PackError::BadAudio { .. })));
        let twice =
            Pack { prompts: vec![prompt("ja", "x", &[1]), prompt("ja", "x", &[1])], index: HashMap::new() };
        assert!(matches!(Pack::parse(&twice.to_bytes()), Err(PackError::Duplicate { .. })));
    }

    #[test]
    fn a_pack_file_keeps_only_its_index_and_reads_each_prompt_when_asked() {
        let prompt = |language: &str, key: &str, samples: &[i16]| Prompt {
            language: language.into(),
            key: key.into(),
            text: "t".into(),
            samples: u32::try_from(samples.len()).unwrap_or(0),
            adpcm: crate::adpcm::encode(samples),
        };
        let wave: Vec<i16> = (0..4000).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
        let pack = Pack::new(vec![
            prompt("ja", "idle", &wave),
            prompt("en", "idle", &[5, 6]),
            prompt("ko", "idle", &[1]),
        ])
        .unwrap();
        let dir = std::env::temp_dir().join(format!("kiosk-pack-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kiosk-voice.pack");
        std::fs::write(&path, pack.to_bytes()).unwrap();
        let file = PackFile::open(&path, &|l| ["ja", "ko"].contains(&l)).unwrap();
        assert_eq!(file.len(), 2);
        // The same samples as the whole pack read in memory.
        assert_eq!(file.clip("ja", "idle"), Some(pack.get("ja", "idle").unwrap().clip()));
        assert_eq!(file.clip("ko", "idle").map(|c| c.len()), Some(1));
        assert!(file.clip("en", "idle").is_none(), "not kept");
        assert!(file.clip("ja", "nope").is_none());
        // Damaged on disk: refused by name when opened, like a pack read whole.
        let bytes = pack.to_bytes();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(
            PackFile::open(&path, &|_| true),
            Err(PackFileError::Damaged(PackError::Truncated(_)))
        ));
        assert!(matches!(PackFile::open(&dir.join("none"), &|_| true), Err(PackFileError::Open(_))));
        // Cut after it was opened: the prompt is left out, nothing panics.
        std::fs::write(&path, pack.to_bytes()).unwrap();
        let file = PackFile::open(&path, &|_| true).unwrap();
        std::fs::write(&path, &bytes[..20]).unwrap();
        assert!(file.clip("ja", "idle").is_none());
        // Copied over in place by another pack of the same length: not played.
        let other = Pack::new(vec![
            prompt("ja", "idle", &wave.iter().map(|s| s / 2).collect::<Vec<_>>()),
            prompt("en", "idle", &[5, 6]),
            prompt("ko", "idle", &[1]),
        ])
        .unwrap()
        .to_bytes();
        assert_eq!(other.len(), bytes.len());
        std::fs::write(&path, &other).unwrap();
        assert!(file.clip("ja", "idle").is_none());
        assert!(file.clip("ko", "idle").is_some(), "its own audio unchanged");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
