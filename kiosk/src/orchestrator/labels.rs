//! Method D labels work once. A label's token is valid all the day it was printed; a
//! photocopy of it would be too. The kiosk keeps a digest of each token that let a patron
//! borrow today (recorded once the library system accepted the patron, so a first try
//! that failed does not use the label up)
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

    /// Whether `token` was let in already on `today` (here, or before a restart).
    pub fn used(&mut self, token: &str, today: LabelDate) -> bool {
        let day = today.to_string();
        if self.day.as_deref() != Some(day.as_str()) {
            self.load(&day);
        }
        self.seen.contains(&digest(token))
    }

    /// Records that `token` let a patron in on `today`: in memory at once, and the line
    /// to append to the file, which [`UsedLabels::append`] writes (with an fsync: on a
    /// blocking thread). `None` when it was recorded already.
    pub fn record(&mut self, token: &str, today: LabelDate) -> Option<(PathBuf, String)> {
        let day = today.to_string();
        if self.day.as_deref() != Some(day.as_str()) {
            self.load(&day);
        }
        let d = digest(token);
        self.seen.insert(d.clone()).then(|| (self.path.clone(), format!("{day} {d}\n")))
    }

    /// True the first time `token` is presented on `today`, recording it (file included).
    pub fn first_use(&mut self, token: &str, today: LabelDate) -> bool {
        match self.record(token, today) {
            Some((path, line)) => {
                if let Err(e) = Self::append(&path, &line) {
                    tracing::warn!(error = %e, path = %path.display(), "a used label could not be recorded");
                }
                true
            }
            None => false,
        }
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
            // Written aside and renamed over: a power cut keeps either file whole.
            let today: String = self.seen.iter().map(|h| format!("{day} {h}\n")).collect();
            let aside = self.path.with_extension("new");
            if let Err(e) = fs::write(&aside, today).and_then(|()| fs::rename(&aside, &self.path)) {
                tracing::warn!(error = %e, path = %self.path.display(), "yesterday's used labels could not be dropped");
            }
        }
    }

    /// Appends a record and syncs it (blocking: call it off the event loop).
    ///
    /// # Errors
    /// The file cannot be opened or written.
    pub fn append(path: &Path, line: &str) -> std::io::Result<()> {
        let mut f = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
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
