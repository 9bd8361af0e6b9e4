//! Method D labels work once. A label's token is valid all the day it was printed; a
//! photocopy of it would be too. The kiosk keeps a digest of each token it let in today
//! (SHA-256 of the token: neither the patron number nor anything that gives it back
//! without the label key) in `labels-used` beside the journal, appended and fsync'ed, so a
//! restart remembers; the next day's first use starts the file afresh.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use kiosk_printer::token::LabelDate;

/// The labels let in today.
#[derive(Debug)]
pub struct UsedLabels {
    path: PathBuf,
    day: Option<String>,
    seen: HashSet<String>,
}

fn digest(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.trim().as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl UsedLabels {
    /// The record at `path` (read on first use).
    #[must_use]
    pub fn new(path: &Path) -> UsedLabels {
        UsedLabels { path: path.to_path_buf(), day: None, seen: HashSet::new() }
    }

    /// True the first time `token` is presented on `today` (and records it); false for a
    /// label already let in today, here or before a restart. A record that cannot be
    /// written is logged and kept in memory: the label still works once until a restart.
    pub fn first_use(&mut self, token: &str, today: LabelDate) -> bool {
        let day = today.to_string();
        if self.day.as_deref() != Some(day.as_str()) {
            self.load(&day);
        }
        let d = digest(token);
        if !self.seen.insert(d.clone()) {
            return false;
        }
        if let Err(e) = self.append(&format!("{day} {d}\n")) {
            tracing::warn!(error = %e, path = %self.path.display(), "a used label could not be recorded");
        }
        true
    }

    /// Today's records; older days' are dropped from the file.
    fn load(&mut self, day: &str) {
        self.day = Some(day.to_owned());
        self.seen.clear();
        let Ok(f) = fs::File::open(&self.path) else { return };
        let mut older = false;
        for line in BufReader::new(f).lines().map_while(Result::ok) {
            match line.split_once(' ') {
                Some((d, hash)) if d == day && hash.len() == 64 => {
                    self.seen.insert(hash.to_owned());
                }
                _ => older = true,
            }
        }
        if older {
            let today: String = self.seen.iter().map(|h| format!("{day} {h}\n")).collect();
            if let Err(e) = fs::write(&self.path, today) {
                tracing::warn!(error = %e, path = %self.path.display(), "yesterday's used labels could not be dropped");
            }
        }
    }

    fn append(&self, line: &str) -> std::io::Result<()> {
        let mut f = OpenOptions::new().create(true).append(true).mode(0o600).open(&self.path)?;
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiosk-labels-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_label_works_once_a_day_even_across_a_restart_and_keeps_no_number() {
        let d = dir("once");
        let path = d.join("labels-used");
        let today = LabelDate::new(2026, 12, 6).unwrap();
        let token = "MD1*2300987654321*20261206*e2e-01*SIGNATURE";
        let mut used = UsedLabels::new(&path);
        assert!(used.first_use(token, today));
        assert!(!used.first_use(token, today), "a photocopy, the same day");
        assert!(used.first_use("MD1*2300111111111*20261206*e2e-01*OTHER", today), "another label");
        // After a restart the record is read back.
        let mut again = UsedLabels::new(&path);
        assert!(!again.first_use(token, today));
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("2300987654321"), "no patron number: {text}");
        // The next day the file starts afresh (the token itself would fail its date then).
        let tomorrow = LabelDate::new(2026, 12, 7).unwrap();
        assert!(again.first_use(token, tomorrow));
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 1, "yesterday's records dropped");
        fs::remove_dir_all(d).unwrap();
    }
}
