//! The usage statistics on the device: counted in memory as the flow reports what
//! happened (`kiosk_core::usage` decides what counts), written per hour to `usage.stats`
//! in the state directory, kept `statistics.keep_days` days, read back at start.
//!
//! The file is a text file anyone can read: a header, then `<hour> <counter>=<n>…` lines
//! (hours since 1970 UTC). Writing appends one line per hour that changed and syncs it
//! (a power cut loses at most what was not yet written); at start the file is read, hours
//! older than the kept days are dropped and it is written again whole (a new file synced
//! and renamed over the old, so a cut leaves one or the other). A torn last line (the
//! write a power cut interrupted) is dropped; a line that cannot be read is skipped, and
//! the file as it was is kept beside it as `usage.stats.unreadable` for IT.
//!
//! Only numbers per hour: no patron, no book, no time finer than the hour.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use kiosk_core::flow::AuditEvent;
use kiosk_core::usage::{Counter, Counts, Day, FILE_HEADER, Hour, Hours};

/// The statistics file's name in the state directory.
pub const FILE: &str = "usage.stats";

/// The hour now on the kiosk's clock. (Before NTP answers, the board's clock resumes
/// from its last shutdown, so a count made then may land in an earlier hour.)
#[must_use]
pub fn hour_now() -> Hour {
    hour_of(SystemTime::now())
}

fn hour_of(t: SystemTime) -> Hour {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Hour::try_from(secs / 3600).unwrap_or(Hour::MAX)
}

/// What reading the file found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub hours: Hours,
    /// The last line had no end (a write a power cut interrupted): dropped.
    pub torn: bool,
    /// Lines that could not be read (skipped).
    pub unreadable: usize,
}

/// Reads a statistics file's text.
#[must_use]
pub fn parse(text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    let complete = match text.rfind('\n') {
        Some(end) => {
            loaded.torn = end + 1 < text.len();
            &text[..=end]
        }
        None => {
            loaded.torn = !text.is_empty();
            ""
        }
    };
    for line in complete.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match Hours::parse_line(line) {
            Ok((hour, counts)) => loaded.hours.add(hour, &counts),
            Err(e) => {
                tracing::warn!(error = %e, "a line of the usage statistics could not be read; skipped");
                loaded.unreadable += 1;
            }
        }
    }
    loaded
}

/// The kiosk's usage statistics: the last days' hours (what the staff page draws), the
/// counts not yet written, and the counts since the kiosk started (the metrics'
/// counters). The older hours are in the file only.
#[derive(Debug)]
pub struct Usage {
    /// `None`: kept in memory only (the demo).
    path: Option<PathBuf>,
    keep_days: u32,
    inner: Mutex<Inner>,
    /// One writer at a time: an append and a rewrite never cross.
    writing: Mutex<()>,
}

#[derive(Debug, Default)]
struct Inner {
    recent: Hours,
    pending: BTreeMap<Hour, Counts>,
    since_start: Counts,
    /// Lines appended since the file was last written whole.
    appended: usize,
}

/// Days of hours kept in memory for the staff page (its 14 days and one more).
pub const RECENT_DAYS: u32 = 15;

/// Lines appended before the file is written again whole (one hour, one line).
const COMPACT_AFTER: usize = 2000;

impl Usage {
    /// Statistics kept in memory only.
    #[must_use]
    pub fn in_memory(keep_days: u32) -> Usage {
        Usage { path: None, keep_days, inner: Mutex::new(Inner::default()), writing: Mutex::new(()) }
    }

    /// Opens the statistics in `state_dir`, drops the hours older than `keep_days` and
    /// writes the file again whole. A file that cannot be read or written is reported
    /// and the kiosk counts on (statistics never stop lending).
    #[must_use]
    pub fn open(state_dir: &Path, keep_days: u32) -> Usage {
        let path = state_dir.join(FILE);
        let usage = Usage {
            path: Some(path.clone()),
            keep_days,
            inner: Mutex::new(Inner::default()),
            writing: Mutex::new(()),
        };
        let loaded = match read(&path) {
            Ok(loaded) => loaded,
            Err(e) => {
                // Left as it is (IT may recover it); counting goes on in memory and is
                // appended to it when it can be written.
                tracing::error!(error = %e, path = %path.display(), "the usage statistics could not be read; counting from now");
                return usage;
            }
        };
        if loaded.unreadable > 0 {
            let aside = path.with_extension(format!("stats.unreadable-{}", hour_now()));
            match fs::copy(&path, &aside) {
                Ok(_) => tracing::warn!(
                    lines = loaded.unreadable,
                    kept = %aside.display(),
                    "lines of the usage statistics could not be read: the file as it was is kept for IT"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "the unreadable usage statistics could not be kept aside")
                }
            }
        }
        if loaded.torn {
            tracing::info!(
                "the usage statistics' last line was cut short (a power cut while writing): dropped"
            );
        }
        let mut hours = loaded.hours;
        hours.keep_from(first_kept(reference(&hours), keep_days));
        if let Err(e) = rewrite(&path, &hours) {
            tracing::error!(error = %e, path = %path.display(), "the usage statistics could not be written");
        }
        hours.keep_from(first_kept(hour_now(), RECENT_DAYS.min(keep_days)));
        usage.lock().recent = hours;
        usage
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts what an audit event adds, in the hour now.
    pub fn record(&self, event: &AuditEvent) {
        let mut counts = Counts::default();
        counts.record(event);
        self.add(hour_now(), &counts);
    }

    /// Counts `n` of `counter` in the hour now.
    pub fn count(&self, counter: Counter, n: u32) {
        let mut counts = Counts::default();
        counts.add(counter, n);
        self.add(hour_now(), &counts);
    }

    fn add(&self, hour: Hour, counts: &Counts) {
        if counts.is_zero() {
            return;
        }
        let mut inner = self.lock();
        inner.recent.add(hour, counts);
        inner.pending.entry(hour).or_default().merge(counts);
        inner.since_start.merge(counts);
    }

    /// Whether counts wait to be written.
    #[must_use]
    pub fn unwritten(&self) -> bool {
        !self.lock().pending.is_empty()
    }

    /// Appends the counts not yet written, one line per hour, and syncs the file (after
    /// enough lines, writes it again whole, one line per hour). Blocks: call it on a
    /// blocking thread. Returns the bytes appended.
    ///
    /// # Errors
    /// The file cannot be written: the counts stay pending for the next try.
    pub fn flush(&self) -> io::Result<usize> {
        let Some(path) = &self.path else {
            self.lock().pending.clear();
            return Ok(0);
        };
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = core::mem::take(&mut self.lock().pending);
        if pending.is_empty() {
            return Ok(0);
        }
        let text: String = pending.iter().map(|(h, c)| Hours::line(*h, c)).collect();
        if let Err(e) = append(path, &text) {
            let mut inner = self.lock();
            for (h, c) in pending {
                inner.pending.entry(h).or_default().merge(&c);
            }
            return Err(e);
        }
        let appended = {
            let mut inner = self.lock();
            inner.appended += pending.len();
            inner.appended
        };
        if appended >= COMPACT_AFTER {
            // Only a file read whole is written again whole: lines it cannot read stay.
            let loaded = read(path)?;
            if loaded.unreadable == 0 {
                let mut hours = loaded.hours;
                hours.keep_from(first_kept(reference(&hours), self.keep_days));
                rewrite(path, &hours)?;
            }
            self.lock().appended = 0;
        }
        Ok(text.len())
    }

    /// The counts since the kiosk started.
    #[must_use]
    pub fn since_start(&self) -> Counts {
        self.lock().since_start
    }

    /// The staff page over the last `days` (at most [`RECENT_DAYS`]).
    #[must_use]
    pub fn view(&self, days: &[Day], csv_address: &str) -> kiosk_core::scene::UsageView {
        let mut inner = self.lock();
        inner.recent.keep_from(first_kept(hour_now(), RECENT_DAYS.min(self.keep_days)));
        kiosk_core::usage::view(&inner.recent, days, csv_address)
    }

    /// Every kept hour: the file's and those not yet written. Blocks (reads the file).
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn all_hours(&self) -> io::Result<Hours> {
        let mut hours = match &self.path {
            Some(path) => read(path)?.hours,
            None => self.lock().recent.clone(),
        };
        if self.path.is_some() {
            for (h, c) in &self.lock().pending {
                hours.add(*h, c);
            }
        }
        hours.keep_from(first_kept(reference(&hours), self.keep_days));
        Ok(hours)
    }
}

/// The hour the kept days count back from: now, or the newest hour in the file when the
/// clock is behind it (a board without a real-time clock starts from its last saved time
/// until NTP answers; it is never ahead, so a clock ahead is not guarded against).
fn reference(hours: &Hours) -> Hour {
    let now = hour_now();
    hours.newest().map_or(now, |newest| now.max(newest))
}

/// Reads the statistics file (missing: empty).
fn read(path: &Path) -> io::Result<Loaded> {
    match fs::read(path) {
        Ok(bytes) => Ok(parse(&String::from_utf8_lossy(&bytes))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Loaded::default()),
        Err(e) => Err(e),
    }
}

/// Appends `text` (whole lines) and syncs. A file whose last line was cut short gets its
/// end of line first, so the new lines never join it; on any error the file is cut back
/// to its length before, so a retry never writes a line twice.
fn append(path: &Path, text: &str) -> io::Result<()> {
    use std::os::unix::fs::FileExt as _;
    let mut f = fs::OpenOptions::new().create(true).read(true).append(true).open(path)?;
    let before = f.metadata()?.len();
    let mut lead = String::new();
    if before == 0 {
        lead = format!("{FILE_HEADER}\n");
    } else {
        let mut last = [0u8; 1];
        f.read_exact_at(&mut last, before - 1)?;
        if last[0] != b'\n' {
            lead.push('\n');
        }
    }
    let written = f.write_all(format!("{lead}{text}").as_bytes()).and_then(|()| f.sync_data());
    if let Err(e) = written {
        let _ = f.set_len(before);
        return Err(e);
    }
    Ok(())
}

/// The first hour kept when `keep_days` days are kept.
fn first_kept(now: Hour, keep_days: u32) -> Hour {
    now.saturating_sub(keep_days.saturating_mul(24))
}

/// Writes `hours` as a new file, synced, then renamed over `path`.
fn rewrite(path: &Path, hours: &Hours) -> io::Result<()> {
    let tmp = path.with_extension("stats.new");
    {
        let mut f = fs::File::create(&tmp)?;
        let mut text = format!("{FILE_HEADER}\n");
        for (h, c) in hours.iter() {
            text.push_str(&Hours::line(h, c));
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        crate::journal::sync_dir(dir)?;
    }
    Ok(())
}

/// The last `n` local days in the library's time zone, oldest first, today last.
#[must_use]
pub fn last_days(n: u32) -> Vec<Day> {
    let zone = crate::clock::Clock::library().zone().clone();
    let today = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    (0..n)
        .rev()
        .filter_map(|back| {
            let date = today.checked_sub(jiff::Span::new().days(i64::from(back))).ok()?;
            let start = date.to_zoned(zone.clone()).ok()?.timestamp().as_second();
            Some(Day {
                day_of_month: u8::try_from(date.day()).unwrap_or(0),
                first_hour: Hour::try_from(start.div_euclid(3600)).ok()?,
            })
        })
        .collect()
}

/// The statistics as CSV, one row per hour (`daily`: per day) in the library's local
/// time, oldest first, a column per counter; hours with no count left out.
#[must_use]
pub fn csv(hours: &Hours, daily: bool) -> String {
    let zone = crate::clock::Clock::library().zone().clone();
    let mut out = String::from(if daily { "date" } else { "date,hour" });
    for c in Counter::all() {
        out.push(',');
        out.push_str(&c.key());
    }
    out.push('\n');
    let mut rows: BTreeMap<String, Counts> = BTreeMap::new();
    for (hour, counts) in hours.iter() {
        let at = jiff::Timestamp::from_second(i64::from(hour) * 3600).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let local = at.to_zoned(zone.clone());
        let key = if daily {
            local.strftime("%Y-%m-%d").to_string()
        } else {
            local.strftime("%Y-%m-%d,%H:00").to_string()
        };
        rows.entry(key).or_default().merge(counts);
    }
    for (key, counts) in rows {
        out.push_str(&key);
        for c in Counter::all() {
            out.push(',');
            out.push_str(&counts.get(c).to_string());
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::flow::{LoginMethod, Tally};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiosk-usage-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        d
    }

    fn session(usage: &Usage, lent: u16) {
        usage.record(&AuditEvent::SessionStarted(LoginMethod::MyNumberCard));
        let mut t = Tally::default();
        t.lent = lent;
        usage.record(&AuditEvent::SessionEnded(t));
    }

    #[test]
    fn counts_survive_a_restart_and_old_days_go() {
        let d = dir("restart");
        let old = hour_now() - 50 * 24;
        fs::write(d.join(FILE), format!("{FILE_HEADER}\n{old} loans=9\n")).unwrap_or_else(|e| panic!("{e}"));
        let usage = Usage::open(&d, 30);
        assert!(
            usage.all_hours().unwrap_or_else(|e| panic!("{e}")).is_empty(),
            "an hour older than the kept days is dropped"
        );
        session(&usage, 2);
        session(&usage, 1);
        assert!(usage.flush().unwrap_or_else(|e| panic!("{e}")) > 0);
        assert_eq!(usage.flush().unwrap_or_else(|e| panic!("{e}")), 0, "nothing left to write");
        let again = Usage::open(&d, 30);
        let h = again.all_hours().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.get(hour_now()).get(Counter::Loans), 3);
        assert!(again.since_start().is_zero(), "the metrics count from the start");
        let text = fs::read_to_string(d.join(FILE)).unwrap_or_default();
        assert!(!text.contains("loans=9"), "{text}");
    }

    #[test]
    fn a_torn_line_is_dropped_and_garbage_is_kept_aside() {
        let d = dir("torn");
        let h = hour_now();
        let text = format!("{FILE_HEADER}\n{h} loans=2\n\0\0\0\0\n{h} loans=5 sessions.label=1\n{h} loa");
        fs::write(d.join(FILE), &text).unwrap_or_else(|e| panic!("{e}"));
        let loaded = parse(&text);
        assert!(loaded.torn);
        assert_eq!(loaded.unreadable, 1);
        let usage = Usage::open(&d, 30);
        assert_eq!(usage.all_hours().unwrap_or_else(|e| panic!("{e}")).get(h).get(Counter::Loans), 7);
        let aside = d.join(format!("usage.stats.unreadable-{}", hour_now()));
        assert_eq!(fs::read_to_string(aside).unwrap_or_default(), text);
        let rewritten = fs::read_to_string(d.join(FILE)).unwrap_or_default();
        assert_eq!(rewritten, format!("{FILE_HEADER}\n{h} sessions.label=1 loans=7\n"));
    }

    #[test]
    fn an_append_never_joins_a_line_cut_short() {
        let d = dir("append");
        let path = d.join(FILE);
        fs::write(&path, format!("{FILE_HEADER}\n491000 loans=1\n491001 loa"))
            .unwrap_or_else(|e| panic!("{e}"));
        append(&path, "491002 loans=2\n").unwrap_or_else(|e| panic!("{e}"));
        let loaded = parse(&fs::read_to_string(&path).unwrap_or_default());
        assert_eq!((loaded.unreadable, loaded.torn), (1, false), "the cut line stays a line of its own");
        assert_eq!(loaded.hours.sum(491_000, 491_002).get(Counter::Loans), 3);
        // A new file gets its header.
        let fresh = d.join("fresh.stats");
        append(&fresh, "491002 loans=2\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(fs::read_to_string(&fresh).unwrap_or_default().starts_with(FILE_HEADER));
    }

    #[test]
    fn a_clock_behind_the_file_counts_the_kept_days_from_its_newest_hour() {
        let d = dir("behind");
        // The file's newest hour is 10 days after this board's clock (not set yet); the
        // other is 35 days before that: really older than the 30 days kept.
        let newest = hour_now() + 10 * 24;
        let old = newest - 35 * 24;
        fs::write(d.join(FILE), format!("{FILE_HEADER}\n{old} loans=1\n{newest} loans=2\n"))
            .unwrap_or_else(|e| panic!("{e}"));
        let usage = Usage::open(&d, 30);
        let hours = usage.all_hours().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            hours.iter().map(|(h, c)| (h, c.get(Counter::Loans))).collect::<Vec<_>>(),
            vec![(newest, 2)]
        );
    }

    #[test]
    fn a_file_cut_anywhere_loses_only_its_last_line() {
        let h = 491_000;
        let full = format!("{FILE_HEADER}\n{h} loans=1\n{} loans=2\n{} loans=4\n", h + 1, h + 2);
        for cut in 0..=full.len() {
            let loaded = parse(&full[..cut]);
            let loans = loaded.hours.sum(h, h + 2).get(Counter::Loans);
            assert!([0, 1, 3, 7].contains(&loans), "cut at {cut}: {loans}");
            assert_eq!(loaded.unreadable, 0, "cut at {cut}");
        }
    }

    #[test]
    fn the_csv_has_a_column_per_counter_and_a_row_per_local_hour() {
        let mut hours = Hours::default();
        let mut c = Counts::default();
        c.add(Counter::Loans, 3);
        // 2026-12-06 05:00 UTC is 14:00 in Japan.
        let hour = Hour::try_from(1_796_533_200_i64 / 3600).unwrap_or(0);
        hours.add(hour, &c);
        hours.add(hour + 1, &c);
        let hourly = csv(&hours, false);
        let lines: Vec<&str> = hourly.lines().collect();
        assert!(lines[0].starts_with("date,hour,sessions.my_number_card,"), "{}", lines[0]);
        assert_eq!(lines.len(), 3);
        let loans = lines[0].split(',').position(|c| c == "loans").unwrap_or(0);
        assert_eq!(lines[1].split(',').nth(1), Some("14:00"));
        assert_eq!(lines[1].split(',').nth(loans), Some("3"));
        let daily = csv(&hours, true);
        let loans = daily.lines().next().unwrap_or("").split(',').position(|c| c == "loans").unwrap_or(0);
        assert_eq!(daily.lines().nth(1).and_then(|l| l.split(',').nth(loans)), Some("6"));
    }
}
