//! The USB gadget's HID device: reports written one by one, with a delay between keys
//! (some library systems' input fields drop keys typed faster than a person would).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::layout::{Layout, Untypable, reports};

/// Why the number could not be typed.
#[derive(Debug, thiserror::Error)]
pub enum GadgetError {
    #[error(
        "the USB keyboard device {path} is missing ({source}): is the board connected to the counter PC \
         with the data USB port, and the HID gadget set up (see docs)? Methods A, B and D still work"
    )]
    Missing { path: PathBuf, source: std::io::Error },
    #[error(
        "typing into {path} failed after {typed} of {total} keys ({source}): check the USB cable to the counter PC"
    )]
    Write { path: PathBuf, typed: usize, total: usize, source: std::io::Error },
    #[error(transparent)]
    Untypable(#[from] Untypable),
}

/// The HID gadget device (normally `/dev/hidg0`).
#[derive(Debug, Clone)]
pub struct Gadget {
    path: PathBuf,
    layout: Layout,
    key_delay: Duration,
}

impl Gadget {
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, layout: Layout, key_delay: Duration) -> Gadget {
        Gadget { path: path.into(), layout, key_delay }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Types `text` then `terminator` (e.g. `"\n"`), nothing else.
    ///
    /// # Errors
    /// A character the layout cannot type (nothing is typed), a missing device, or a
    /// write that fails part-way (the message says how far it got).
    pub fn type_text(&self, text: &str, terminator: &str) -> Result<(), GadgetError> {
        let all = reports(&format!("{text}{terminator}"), self.layout)?;
        // Append: no difference on the character device; a file standing in for it (the
        // demo, tests) keeps every report ever typed.
        let mut dev = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|source| GadgetError::Missing { path: self.path.clone(), source })?;
        for (i, report) in all.iter().enumerate() {
            dev.write_all(report).map_err(|source| GadgetError::Write {
                path: self.path.clone(),
                typed: i / 2,
                total: all.len() / 2,
                source,
            })?;
            if i % 2 == 1 && !self.key_delay.is_zero() {
                std::thread::sleep(self.key_delay);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("kiosk-hidg-{name}-{}", std::process::id()))
    }

    #[test]
    fn the_reports_written_decode_back_to_the_number_on_both_layouts() {
        for layout in [Layout::Us, Layout::Jis] {
            let path = tmp(&format!("{layout:?}"));
            std::fs::write(&path, b"").unwrap();
            Gadget::new(&path, layout, Duration::ZERO).type_text("A2300012345678B", "\n").unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let reports: Vec<[u8; 8]> = bytes.chunks(8).map(|c| c.try_into().unwrap()).collect();
            assert_eq!(decode(&reports, layout), "A2300012345678B\n");
            std::fs::remove_file(path).ok();
        }
    }

    #[test]
    fn a_missing_gadget_is_a_named_error_and_untypable_text_types_nothing() {
        let e =
            Gadget::new("/nonexistent/hidg0", Layout::Us, Duration::ZERO).type_text("123", "\n").unwrap_err();
        assert!(matches!(e, GadgetError::Missing { .. }) && e.to_string().contains("Methods A, B and D"));
        let path = tmp("untypable");
        std::fs::write(&path, b"").unwrap();
        let e = Gadget::new(&path, Layout::Jis, Duration::ZERO).type_text("12３", "\n").unwrap_err();
        assert!(matches!(e, GadgetError::Untypable(_)));
        assert!(std::fs::read(&path).unwrap().is_empty(), "nothing was typed");
        std::fs::remove_file(path).ok();
    }

    /// The pause between keys (`counter.key_delay_ms`) is kept after every key: 14 keys at
    /// 20 ms take at least 280 ms (a lower bound: a slow machine only adds to it).
    #[test]
    fn the_key_delay_is_kept_between_keys() {
        let path = tmp("delay");
        std::fs::write(&path, b"").unwrap();
        let started = std::time::Instant::now();
        Gadget::new(&path, Layout::Us, Duration::from_millis(20)).type_text("2300012345678", "\n").unwrap();
        assert!(started.elapsed() >= Duration::from_millis(280), "{:?}", started.elapsed());
        assert_eq!(std::fs::read(&path).unwrap().len(), 14 * 2 * 8, "14 keys, pressed and released");
        let _ = std::fs::remove_file(&path);
    }
}
