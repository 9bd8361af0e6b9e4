//! The usage statistics' counting: what each audit event adds to the kiosk's counters,
//! the counters kept per hour, and their lines in the statistics file.
//!
//! Only numbers: sessions by how the patron logged in, loans, renewals, returns,
//! refusals by reason, patrons turned away by reason, PIN and password locks, staff
//! calls, printer faults, offline loans and their replay. Never a patron, never a book.
//! The binary keeps the file and the clock; this module decides what is counted and how
//! a line reads.

use std::collections::BTreeMap;

use crate::flow::{AuditEvent, LoginMethod, RefusalKind, StaffCall, TurnedAway};
use crate::scene::{UsageBar, UsageKind, UsageRow, UsageView};

/// How a session began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SessionKind {
    MyNumberCard,
    LibraryCard,
    Label,
    /// A returns session (no login).
    Returns,
}

impl SessionKind {
    pub const ALL: [SessionKind; 4] =
        [SessionKind::MyNumberCard, SessionKind::LibraryCard, SessionKind::Label, SessionKind::Returns];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SessionKind::MyNumberCard => "my_number_card",
            SessionKind::LibraryCard => "library_card",
            SessionKind::Label => "label",
            SessionKind::Returns => "returns",
        }
    }
}

/// One thing the statistics count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counter {
    Sessions(SessionKind),
    /// Books lent, online and offline.
    Loans,
    /// Of those, lent while the library system was offline.
    OfflineLoans,
    Renewals,
    Returns,
    /// A book not lent, renewed or returned, by why.
    Refusals(RefusalKind),
    /// A patron not let in to borrow, by why.
    TurnedAway(TurnedAway),
    /// A card's PIN locked at this kiosk (its third wrong PIN typed here).
    PinLocks,
    /// A library card refused here after three wrong passwords.
    PasswordLocks,
    StaffCalls,
    /// The printer out of paper or not working (each time staff were called for it).
    PrinterFaults,
    /// Offline loans the library system accepted when they were sent.
    OfflineReplayed,
    /// Offline loans the library system refused when they were sent.
    OfflineReplayRefused,
}

/// How many counters there are.
pub const COUNTERS: usize = SessionKind::ALL.len() + 4 + RefusalKind::ALL.len() + TurnedAway::ALL.len() + 6;

/// What a counter is called in a metrics exposition: the metric, and its one label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub help: &'static str,
    pub label: Option<(&'static str, &'static str)>,
}

impl Counter {
    /// Every counter, in the order the CSV's columns and the metrics list them.
    pub fn all() -> impl Iterator<Item = Counter> {
        SessionKind::ALL
            .into_iter()
            .map(Counter::Sessions)
            .chain([Counter::Loans, Counter::OfflineLoans, Counter::Renewals, Counter::Returns])
            .chain(RefusalKind::ALL.into_iter().map(Counter::Refusals))
            .chain(TurnedAway::ALL.into_iter().map(Counter::TurnedAway))
            .chain([
                Counter::PinLocks,
                Counter::PasswordLocks,
                Counter::StaffCalls,
                Counter::PrinterFaults,
                Counter::OfflineReplayed,
                Counter::OfflineReplayRefused,
            ])
    }

    fn index(self) -> usize {
        let s = SessionKind::ALL.len();
        let r = s + 4;
        let t = r + RefusalKind::ALL.len();
        let o = t + TurnedAway::ALL.len();
        match self {
            Counter::Sessions(k) => k as usize,
            Counter::Loans => s,
            Counter::OfflineLoans => s + 1,
            Counter::Renewals => s + 2,
            Counter::Returns => s + 3,
            Counter::Refusals(k) => r + k as usize,
            Counter::TurnedAway(k) => t + k as usize,
            Counter::PinLocks => o,
            Counter::PasswordLocks => o + 1,
            Counter::StaffCalls => o + 2,
            Counter::PrinterFaults => o + 3,
            Counter::OfflineReplayed => o + 4,
            Counter::OfflineReplayRefused => o + 5,
        }
    }

    /// Its family and, for a counter with kinds, its kind: `("refusals", Some("on_hold"))`.
    #[must_use]
    pub fn parts(self) -> (&'static str, Option<&'static str>) {
        match self {
            Counter::Sessions(k) => ("sessions", Some(k.name())),
            Counter::Loans => ("loans", None),
            Counter::OfflineLoans => ("offline_loans", None),
            Counter::Renewals => ("renewals", None),
            Counter::Returns => ("returns", None),
            Counter::Refusals(k) => ("refusals", Some(k.name())),
            Counter::TurnedAway(k) => ("patrons_refused", Some(k.name())),
            Counter::PinLocks => ("pin_locks", None),
            Counter::PasswordLocks => ("password_locks", None),
            Counter::StaffCalls => ("staff_calls", None),
            Counter::PrinterFaults => ("printer_faults", None),
            Counter::OfflineReplayed => ("offline_replayed", Some("accepted")),
            Counter::OfflineReplayRefused => ("offline_replayed", Some("refused")),
        }
    }

    /// Its name in the statistics file and the CSV header: `refusals.on_hold`, `loans`.
    #[must_use]
    pub fn key(self) -> String {
        match self.parts() {
            (family, Some(kind)) => format!("{family}.{kind}"),
            (family, None) => family.to_owned(),
        }
    }

    /// The counter a key names (`None`: a key this version does not know, as a newer
    /// version's file may hold after a rollback).
    #[must_use]
    pub fn from_key(key: &str) -> Option<Counter> {
        Counter::all().find(|c| {
            let (family, kind) = c.parts();
            match kind {
                Some(kind) => key.strip_prefix(family).and_then(|k| k.strip_prefix('.')) == Some(kind),
                None => key == family,
            }
        })
    }

    /// Its metric in the Prometheus exposition.
    #[must_use]
    pub fn metric(self) -> Metric {
        let (name, help, label) = match self {
            Counter::Sessions(k) => {
                ("kiosk_sessions_total", "Patron sessions, by how they began.", Some(("method", k.name())))
            }
            Counter::Loans => ("kiosk_loans_total", "Books lent, online and offline.", None),
            Counter::OfflineLoans => {
                ("kiosk_offline_loans_total", "Books lent while the library system was offline.", None)
            }
            Counter::Renewals => ("kiosk_renewals_total", "Loans renewed.", None),
            Counter::Returns => ("kiosk_returns_total", "Books returned.", None),
            Counter::Refusals(k) => (
                "kiosk_refusals_total",
                "Books not lent, renewed or returned, by why.",
                Some(("reason", k.name())),
            ),
            Counter::TurnedAway(k) => (
                "kiosk_patrons_refused_total",
                "Patrons not let in to borrow, by why.",
                Some(("reason", k.name())),
            ),
            Counter::PinLocks => {
                ("kiosk_pin_locks_total", "Card PINs locked by a wrong PIN typed here.", None)
            }
            Counter::PasswordLocks => {
                ("kiosk_password_locks_total", "Library cards refused after three wrong passwords.", None)
            }
            Counter::StaffCalls => {
                ("kiosk_staff_calls_total", "Times the staff lamp called for someone.", None)
            }
            Counter::PrinterFaults => {
                ("kiosk_printer_faults_total", "Times the printer ran out of paper or failed.", None)
            }
            Counter::OfflineReplayed | Counter::OfflineReplayRefused => (
                "kiosk_offline_replayed_total",
                "Offline loans sent to the library system, by its answer.",
                Some(("result", self.parts().1.unwrap_or_default())),
            ),
        };
        Metric { name, help, label }
    }
}

/// A value for every counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts([u32; COUNTERS]);

impl Default for Counts {
    fn default() -> Self {
        Counts([0; COUNTERS])
    }
}

impl Counts {
    pub fn add(&mut self, counter: Counter, n: u32) {
        let slot = &mut self.0[counter.index()];
        *slot = slot.saturating_add(n);
    }

    #[must_use]
    pub fn get(&self, counter: Counter) -> u32 {
        self.0[counter.index()]
    }

    /// Adds every counter of `other`.
    pub fn merge(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.saturating_add(b);
        }
    }

    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|n| *n == 0)
    }

    /// The sum of a family's counters (`"sessions"`: every kind of session).
    #[must_use]
    pub fn family(&self, family: &str) -> u32 {
        Counter::all().filter(|c| c.parts().0 == family).map(|c| self.get(c)).fold(0, u32::saturating_add)
    }

    /// What an audit event adds.
    pub fn record(&mut self, event: &AuditEvent) {
        match event {
            AuditEvent::SessionStarted(method) => self.add(
                Counter::Sessions(match method {
                    LoginMethod::MyNumberCard => SessionKind::MyNumberCard,
                    LoginMethod::LibraryCard => SessionKind::LibraryCard,
                    LoginMethod::MethodDLabel => SessionKind::Label,
                }),
                1,
            ),
            AuditEvent::ReturnsStarted => self.add(Counter::Sessions(SessionKind::Returns), 1),
            // The third wrong PIN typed here (a card locked elsewhere and put down here is
            // a staff call, not a lock made here).
            AuditEvent::PinRejected { tries_left: 0 } => self.add(Counter::PinLocks, 1),
            AuditEvent::PasswordRejected { tries_left: 0 } => self.add(Counter::PasswordLocks, 1),
            AuditEvent::StaffCalled(why) => {
                self.add(Counter::StaffCalls, 1);
                if matches!(why, StaffCall::PrinterOutOfPaper | StaffCall::PrinterFault) {
                    self.add(Counter::PrinterFaults, 1);
                }
            }
            AuditEvent::SessionEnded(t) | AuditEvent::ReturnsEnded(t) => {
                self.add(Counter::Loans, t.lent.into());
                self.add(Counter::OfflineLoans, t.lent_offline.into());
                self.add(Counter::Renewals, t.renewed.into());
                self.add(Counter::Returns, t.returned.into());
                for kind in RefusalKind::ALL {
                    self.add(Counter::Refusals(kind), t.refusals(kind).into());
                }
            }
            AuditEvent::TurnedAway(why) => self.add(Counter::TurnedAway(*why), 1),
            AuditEvent::PinRejected { .. }
            | AuditEvent::CardLocked
            | AuditEvent::PasswordRejected { .. }
            | AuditEvent::StaffCallCleared
            | AuditEvent::CardRemovedEarly
            | AuditEvent::HandedOff(_)
            | AuditEvent::Linked { .. }
            | AuditEvent::Unlinked => {}
        }
    }

    /// The counters that are not zero, with their values.
    pub fn nonzero(&self) -> impl Iterator<Item = (Counter, u32)> + '_ {
        Counter::all().map(|c| (c, self.get(c))).filter(|(_, n)| *n > 0)
    }
}

/// An hour: whole hours since 1970-01-01 00:00 UTC.
pub type Hour = u32;

/// The counters of each hour.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hours(BTreeMap<Hour, Counts>);

/// The first line of a statistics file.
pub const FILE_HEADER: &str = "# kiosk usage statistics v1: <hour since 1970 UTC> <counter>=<count>...";

/// Why a line of the statistics file was not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadLine {
    #[error("no hour at the start of the line")]
    NoHour,
    #[error("`{0}` is not <counter>=<count>")]
    NotACount(String),
}

impl Hours {
    /// Adds `counts` to `hour`.
    pub fn add(&mut self, hour: Hour, counts: &Counts) {
        if !counts.is_zero() {
            self.0.entry(hour).or_default().merge(counts);
        }
    }

    /// Forgets the hours before `first`.
    pub fn keep_from(&mut self, first: Hour) {
        self.0 = self.0.split_off(&first);
    }

    /// The counts of `hour` (zero when nothing happened).
    #[must_use]
    pub fn get(&self, hour: Hour) -> Counts {
        self.0.get(&hour).copied().unwrap_or_default()
    }

    /// The newest hour with counts.
    #[must_use]
    pub fn newest(&self) -> Option<Hour> {
        self.0.keys().next_back().copied()
    }

    /// The hours with counts, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (Hour, &Counts)> {
        self.0.iter().map(|(h, c)| (*h, c))
    }

    /// The sum of the hours from `first` to `last`, both included.
    #[must_use]
    pub fn sum(&self, first: Hour, last: Hour) -> Counts {
        let mut total = Counts::default();
        if first <= last {
            for (_, c) in self.0.range(first..=last) {
                total.merge(c);
            }
        }
        total
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One hour's line: `491234 loans=3 sessions.my_number_card=2` (counters that are
    /// zero left out).
    #[must_use]
    pub fn line(hour: Hour, counts: &Counts) -> String {
        let mut line = hour.to_string();
        for (c, n) in counts.nonzero() {
            line.push(' ');
            line.push_str(&c.key());
            line.push('=');
            line.push_str(&n.to_string());
        }
        line.push('\n');
        line
    }

    /// Reads a line written by [`Hours::line`]. A counter this version does not know is
    /// skipped (a newer version wrote it before a rollback); anything else unreadable
    /// refuses the whole line.
    ///
    /// # Errors
    /// What is wrong with the line.
    pub fn parse_line(line: &str) -> Result<(Hour, Counts), BadLine> {
        let mut words = line.split_ascii_whitespace();
        let hour = words.next().and_then(|h| h.parse::<Hour>().ok()).ok_or(BadLine::NoHour)?;
        let mut counts = Counts::default();
        for word in words {
            let bad = || BadLine::NotACount(word.chars().take(40).collect());
            let (key, n) = word.split_once('=').ok_or_else(bad)?;
            let n = n.parse::<u32>().map_err(|_| bad())?;
            if key.is_empty()
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
            {
                return Err(bad());
            }
            if let Some(c) = Counter::from_key(key) {
                counts.add(c, n);
            }
        }
        Ok((hour, counts))
    }
}

/// A local day for the usage page: its label (the day of the month) and its first hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day {
    pub day_of_month: u8,
    pub first_hour: Hour,
}

/// The staff's usage page: loans by hour today and by day over `days` (oldest first,
/// today last; each day runs to the next one's first hour, today for 24 hours), and the
/// counts of today and of all the days.
#[must_use]
pub fn view(hours: &Hours, days: &[Day], csv_address: &str) -> UsageView {
    let Some(today) = days.last() else { return UsageView::default() };
    let loans = |first: Hour, end: Hour| hours.sum(first, end.saturating_sub(1)).get(Counter::Loans);
    let hourly: Vec<u32> = (0..24).map(|h| loans(today.first_hour + h, today.first_hour + h + 1)).collect();
    let daily: Vec<u32> = days
        .iter()
        .enumerate()
        .map(|(i, d)| loans(d.first_hour, days.get(i + 1).map_or(d.first_hour + 24, |next| next.first_hour)))
        .collect();
    let bars = |values: &[u32], label: &dyn Fn(usize) -> String, today: usize| {
        let top = values.iter().copied().max().unwrap_or(0).max(1);
        values
            .iter()
            .enumerate()
            .map(|(i, v)| UsageBar {
                label: label(i),
                value: int(*v),
                height: int(v.saturating_mul(1000) / top),
                today: i == today,
            })
            .collect()
    };
    let today_counts = hours.sum(today.first_hour, today.first_hour + 23);
    let all = hours.sum(days[0].first_hour, today.first_hour + 23);
    let rows = [
        UsageKind::Sessions,
        UsageKind::MyNumberCard,
        UsageKind::LibraryCard,
        UsageKind::Label,
        UsageKind::ReturnsSessions,
        UsageKind::Loans,
        UsageKind::OfflineLoans,
        UsageKind::Renewals,
        UsageKind::Returns,
        UsageKind::BooksRefused,
        UsageKind::PatronsRefused,
        UsageKind::PinLocks,
        UsageKind::StaffCalls,
        UsageKind::PrinterFaults,
    ]
    .into_iter()
    .map(|what| UsageRow { what, today: int(row(&today_counts, what)), fortnight: int(row(&all, what)) })
    .collect();
    UsageView {
        hours: bars(&hourly, &|h| if h % 6 == 0 { h.to_string() } else { String::new() }, usize::MAX),
        days: bars(&daily, &|i| days[i].day_of_month.to_string(), days.len() - 1),
        rows,
        csv_address: csv_address.to_owned(),
    }
}

/// What a line of the usage page counts.
fn row(c: &Counts, what: UsageKind) -> u32 {
    match what {
        UsageKind::Sessions => c.family("sessions") - c.get(Counter::Sessions(SessionKind::Returns)),
        UsageKind::MyNumberCard => c.get(Counter::Sessions(SessionKind::MyNumberCard)),
        UsageKind::LibraryCard => c.get(Counter::Sessions(SessionKind::LibraryCard)),
        UsageKind::Label => c.get(Counter::Sessions(SessionKind::Label)),
        UsageKind::ReturnsSessions => c.get(Counter::Sessions(SessionKind::Returns)),
        UsageKind::Loans => c.get(Counter::Loans),
        UsageKind::OfflineLoans => c.get(Counter::OfflineLoans),
        UsageKind::Renewals => c.get(Counter::Renewals),
        UsageKind::Returns => c.get(Counter::Returns),
        UsageKind::BooksRefused => c.family("refusals"),
        UsageKind::PatronsRefused => c.family("patrons_refused"),
        UsageKind::PinLocks => c.get(Counter::PinLocks),
        UsageKind::StaffCalls => c.get(Counter::StaffCalls),
        UsageKind::PrinterFaults => c.get(Counter::PrinterFaults),
    }
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Tally;

    #[test]
    fn every_counter_has_its_own_slot_and_key() {
        let all: Vec<Counter> = Counter::all().collect();
        assert_eq!(all.len(), COUNTERS);
        let mut slots: Vec<usize> = all.iter().map(|c| c.index()).collect();
        slots.sort_unstable();
        assert_eq!(slots, (0..COUNTERS).collect::<Vec<_>>());
        for c in all {
            assert_eq!(Counter::from_key(&c.key()), Some(c), "{}", c.key());
        }
    }

    #[test]
    fn a_line_reads_back_and_unknown_counters_are_skipped() {
        let mut counts = Counts::default();
        counts.add(Counter::Loans, 3);
        counts.add(Counter::Refusals(RefusalKind::OnHold), 1);
        let line = Hours::line(491_234, &counts);
        assert_eq!(line, "491234 loans=3 refusals.on_hold=1\n");
        assert_eq!(Hours::parse_line(&line), Ok((491_234, counts)));
        assert_eq!(
            Hours::parse_line("491234 loans=3 refusals.on_hold=1 gate_alarms=4"),
            Ok((491_234, counts))
        );
        assert_eq!(Hours::parse_line("\0\0\0"), Err(BadLine::NoHour));
        assert!(matches!(Hours::parse_line("491234 loans=x"), Err(BadLine::NotACount(_))));
        assert!(matches!(Hours::parse_line("491234 loans"), Err(BadLine::NotACount(_))));
        assert!(matches!(Hours::parse_line("491234 LOANS=1"), Err(BadLine::NotACount(_))));
    }

    #[test]
    fn a_session_s_tally_adds_its_loans_and_refusals() {
        let mut t = Tally::default();
        (t.lent, t.lent_offline, t.renewed, t.not_done) = (2, 1, 1, 1);
        t.refused(&crate::flow::ItemRefusal::OnHoldForAnother);
        let mut counts = Counts::default();
        counts.record(&AuditEvent::SessionStarted(LoginMethod::LibraryCard));
        counts.record(&AuditEvent::SessionEnded(t));
        counts.record(&AuditEvent::StaffCalled(StaffCall::PrinterOutOfPaper));
        counts.record(&AuditEvent::PasswordRejected { tries_left: 1 });
        counts.record(&AuditEvent::PasswordRejected { tries_left: 0 });
        counts.record(&AuditEvent::CardLocked);
        counts.record(&AuditEvent::PinRejected { tries_left: 1 });
        let got: Vec<(String, u32)> = counts.nonzero().map(|(c, n)| (c.key(), n)).collect();
        let want = [
            ("sessions.library_card", 1),
            ("loans", 2),
            ("offline_loans", 1),
            ("renewals", 1),
            ("refusals.on_hold", 1),
            ("password_locks", 1),
            ("staff_calls", 1),
            ("printer_faults", 1),
        ];
        assert_eq!(got, want.map(|(k, n)| (k.to_owned(), n)));
        assert_eq!(counts.family("sessions"), 1);
    }

    #[test]
    fn the_page_charts_today_by_hour_and_the_days_by_day() {
        let mut hours = Hours::default();
        let mut loans = |hour: Hour, n: u32| {
            let mut c = Counts::default();
            c.add(Counter::Loans, n);
            c.add(Counter::Sessions(SessionKind::MyNumberCard), 1);
            hours.add(hour, &c);
        };
        // Day 1 starts at hour 100, day 2 (today) at 124.
        loans(99, 7);
        loans(105, 2);
        loans(124 + 9, 4);
        loans(124 + 10, 1);
        let days = [Day { day_of_month: 5, first_hour: 100 }, Day { day_of_month: 6, first_hour: 124 }];
        let v = view(&hours, &days, "");
        assert_eq!(v.hours.len(), 24);
        assert_eq!((v.hours[9].value, v.hours[9].height), (4, 1000));
        assert_eq!((v.hours[10].value, v.hours[10].height), (1, 250));
        assert_eq!(v.hours[6].label, "6");
        assert_eq!(v.hours[7].label, "");
        let days: Vec<(String, i32, bool)> =
            v.days.iter().map(|b| (b.label.clone(), b.value, b.today)).collect();
        assert_eq!(days, vec![("5".to_owned(), 2, false), ("6".to_owned(), 5, true)]);
        let loans = v.rows.iter().find(|r| r.what == UsageKind::Loans).map(|r| (r.today, r.fortnight));
        assert_eq!(loans, Some((5, 7)));
        let sessions = v.rows.iter().find(|r| r.what == UsageKind::Sessions).map(|r| (r.today, r.fortnight));
        assert_eq!(sessions, Some((2, 3)));
        assert_eq!(view(&Hours::default(), &[], "x"), UsageView::default());
    }

    #[test]
    fn hours_sum_and_forget() {
        let mut hours = Hours::default();
        let mut one = Counts::default();
        one.add(Counter::Loans, 1);
        for h in [10, 11, 11, 12] {
            hours.add(h, &one);
        }
        hours.add(13, &Counts::default());
        assert_eq!(hours.sum(11, 12).get(Counter::Loans), 3);
        assert_eq!(hours.sum(12, 11).get(Counter::Loans), 0);
        hours.keep_from(11);
        assert_eq!(hours.iter().map(|(h, _)| h).collect::<Vec<_>>(), vec![11, 12]);
    }
}
