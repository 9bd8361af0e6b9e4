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

use std::collections::HashMap;

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

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], PackError> {
        let end =
            self.at.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or(PackError::Truncated(self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, PackError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, PackError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, PackError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn str(&mut self, len: usize) -> Result<String, PackError> {
        let at = self.at;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| PackError::NotUtf8(at))
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
        Pack::parse_keeping(bytes, &|_| true)
    }

    /// Reads and checks a whole pack, keeping the prompts of the languages `keep` wants
    /// (the kiosk keeps the languages it offers): the others are checked in place and
    /// never copied, so they cost no memory once read.
    ///
    /// # Errors
    /// As [`Pack::parse`].
    pub fn parse_keeping(bytes: &[u8], keep: &dyn Fn(&str) -> bool) -> Result<Pack, PackError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4).map_err(|_| PackError::NotAPack)? != MAGIC {
            return Err(PackError::NotAPack);
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(PackError::Version(version));
        }
        let count = r.u16()?;
        let mut prompts = Vec::with_capacity(usize::from(count).min(4096));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..count {
            let n = usize::from(r.u8()?);
            let language = r.str(n)?;
            let n = usize::from(r.u8()?);
            let key = r.str(n)?;
            let n = usize::from(r.u16()?);
            let text = r.str(n)?;
            let samples = r.u32()?;
            let n = r.u32()? as usize;
            let audio = r.take(n)?;
            if samples == 0 || adpcm::decode(audio, samples as usize).is_none() {
                return Err(PackError::BadAudio { language, key });
            }
            if !seen.insert((language.clone(), key.clone())) {
                return Err(PackError::Duplicate { language, key });
            }
            if keep(&language) {
                prompts.push(Prompt { language, key, text, samples, adpcm: audio.to_vec() });
            }
        }
        if r.at != bytes.len() {
            return Err(PackError::TrailingBytes(bytes.len() - r.at));
        }
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
    fn only_the_languages_asked_for_are_kept_the_others_checked() {
        let prompt = |language: &str, key: &str| Prompt {
            language: language.into(),
            key: key.into(),
            text: "t".into(),
            samples: 2,
            adpcm: crate::adpcm::encode(&[0, 0]),
        };
        let pack = Pack::new(vec![prompt("ja", "idle"), prompt("en", "idle"), prompt("ko", "idle")]).unwrap();
        let kept = Pack::parse_keeping(&pack.to_bytes(), &|l| ["ja", "ko"].contains(&l)).unwrap();
        assert_eq!(kept.prompts().len(), 2);
        assert!(kept.get("ja", "idle").is_some() && kept.get("ko", "idle").is_some());
        assert!(kept.get("en", "idle").is_none());
    }
}
