//! Offline lending around the library system: whether this kiosk may lend offline now,
//! the loans it makes then (into [`crate::offline::OfflineQueue`]), and the replay that
//! sends them when the library system answers again: in the order made, each once,
//! surviving a crash or a power cut mid-replay.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kiosk_core::flow::{ItemId, ItemRefusal, Loan, Refusal};
use kiosk_ils::client::{OfflineCheckout, Reconciled};
use kiosk_ils::{ItemProblem, Sip2Library, SipDate};

use crate::config;
use crate::offline::{ClockTrust, OfflineQueue, OfflineRefusal, ReplayRefusal, State};

/// How often the replay looks for the library system (and reads its clock).
pub const REPLAY_EVERY: Duration = Duration::from_secs(5);

/// Offline lending: the queue, the clock it trusts, the library's limits.
pub struct OfflineLending {
    queue: Arc<Mutex<OfflineQueue>>,
    clock: ClockTrust,
    limits: config::Offline,
    library: Arc<Sip2Library>,
    utc_offset: i32,
    /// One replay at a time; how many rounds each loan failed in with an error that is
    /// not an outage.
    replaying: tokio::sync::Mutex<std::collections::HashMap<u32, u32>>,
    /// The usage statistics (replayed loans, accepted and refused).
    usage: Option<Arc<crate::usage::Usage>>,
}

/// Rounds a loan may fail in with an error that is not an outage (a garbled answer, a
/// barcode SIP2 cannot carry) before it is set aside for staff, so the loans behind it go
/// on.
pub const POISONED_AFTER: u32 = 3;

impl core::fmt::Debug for OfflineLending {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("OfflineLending(..)")
    }
}

/// What the staff menu shows of offline lending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OfflineView {
    /// Loans made offline, not yet taken by the library system.
    pub waiting: usize,
    /// Loans the library system refused on replay: `(item, made (Unix s), why)`.
    pub refused: Vec<(String, i64, ReplayRefusal)>,
}

/// What one replay round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub lent: usize,
    pub refused: usize,
    /// Still waiting (the library system stopped answering, or a write failed).
    pub waiting: usize,
}

fn lock(q: &Mutex<OfflineQueue>) -> std::sync::MutexGuard<'_, OfflineQueue> {
    q.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

impl OfflineLending {
    #[must_use]
    pub fn new(
        queue: OfflineQueue,
        clock: ClockTrust,
        limits: config::Offline,
        library: Arc<Sip2Library>,
        utc_offset: i32,
    ) -> OfflineLending {
        OfflineLending {
            queue: Arc::new(Mutex::new(queue)),
            clock,
            limits,
            library,
            utc_offset,
            replaying: tokio::sync::Mutex::new(std::collections::HashMap::new()),
            usage: None,
        }
    }

    /// Counts the loans it sends in the usage statistics.
    #[must_use]
    pub fn counting(mut self, usage: Arc<crate::usage::Usage>) -> OfflineLending {
        self.usage = Some(usage);
        self
    }

    /// Whether a patron may be let in offline now: a clock to trust, the oldest loan
    /// waiting not too old, room in the queue. (The patron's own limit is per book.)
    pub fn may_lend_now(&self) -> bool {
        if !self.limits.enabled {
            return false;
        }
        if !self.clock.trusted() {
            tracing::warn!(
                "the library system is offline and the clock cannot be trusted: no offline lending"
            );
            return false;
        }
        let q = lock(&self.queue);
        let too_old = q.oldest_waiting().is_some_and(|t| {
            unix_now().saturating_sub(t) > i64::try_from(self.limits.max_age.as_secs()).unwrap_or(i64::MAX)
        });
        if too_old {
            tracing::warn!(
                "the oldest offline loan is older than offline.max_hours: no more offline lending"
            );
            return false;
        }
        q.waiting() < self.limits.items_total
    }

    /// Runs `f` on the queue on a blocking thread (its writes fsync); `None` if that
    /// thread stopped.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut OfflineQueue) -> R + Send + 'static,
    ) -> Option<R> {
        let queue = self.queue.clone();
        super::spawn_scrubbed(move || f(&mut lock(&queue))).await.ok()
    }

    /// Lends `item` offline (fsync'ed into the queue before the patron is told).
    pub async fn lend(&self, patron: &str, item: &ItemId) -> Result<Loan, Refusal> {
        if !self.limits.enabled || !self.clock.trusted() {
            return Err(ItemRefusal::OfflineStopped.into());
        }
        let made = unix_now();
        let due_day = made + i64::from(self.limits.loan_days) * 86_400;
        let due = SipDate::from_unix(due_day, self.utc_offset);
        let limits = (self.limits.items_per_patron, self.limits.items_total);
        let (p, i) = (zeroize::Zeroizing::new(patron.to_owned()), item.0.clone());
        let made_result = self
            .write(move |q| q.lend(&p, &i, made, due_day, limits))
            .await
            .unwrap_or(Err(OfflineRefusal::Stopped));
        match made_result {
            Ok(()) => Ok(Loan {
                item: item.clone(),
                title: String::new(),
                due: kiosk_ils::display_due_date(due.as_str()),
                renewed: false,
                desensitize: None,
                security: kiosk_core::flow::Security::Unchanged,
            }),
            Err(OfflineRefusal::PatronLimit(_) | OfflineRefusal::TotalLimit(_)) => {
                Err(ItemRefusal::OfflineLimit.into())
            }
            Err(OfflineRefusal::AlreadyLent) => Err(ItemRefusal::OnLoanToAnother.into()),
            Err(e) => {
                tracing::error!(error = %e, "an offline loan was not made");
                Err(ItemRefusal::OfflineStopped.into())
            }
        }
    }

    /// Whether `item` was lent offline and that loan has not reached the library system:
    /// a round of the replay is tried first (the library system answers when this is
    /// asked), and if the loan still waits, the book is neither lent nor returned online.
    pub async fn still_pending(&self, item: &ItemId) -> bool {
        let waits = |q: &OfflineQueue| q.waiting_for(&item.0);
        if !waits(&lock(&self.queue)) {
            return false;
        }
        self.replay().await;
        waits(&lock(&self.queue))
    }

    /// For the staff menu.
    pub fn view(&self) -> OfflineView {
        let q = lock(&self.queue);
        OfflineView {
            waiting: q.waiting(),
            refused: q
                .refused()
                .map(|l| {
                    let why = match &l.state {
                        State::Refused { why, .. } => *why,
                        _ => ReplayRefusal::Other,
                    };
                    (l.item.clone(), l.made, why)
                })
                .collect(),
        }
    }

    /// Staff handled the refused loans.
    pub async fn clear_refused(&self) {
        match self.write(OfflineQueue::clear_refused).await {
            Some(Ok(())) => {}
            Some(Err(e)) => tracing::error!(error = %e, "the offline queue could not be rewritten"),
            None => tracing::error!("the offline queue's thread stopped"),
        }
    }

    /// Reads the library system's clock (after its last status message) into the trust.
    pub async fn read_library_clock(&self) {
        if let Some(skew) = self.library.clock_skew().await {
            self.clock.library_clock(skew);
        }
    }

    /// Sends the loans waiting, in the order made, until one cannot be (the library
    /// system stopped answering): each is marked "sent" (fsync) before it leaves, and one
    /// found marked is reconciled by the item's status before it is sent again.
    pub async fn replay(&self) -> Replayed {
        let mut failures = self.replaying.lock().await;
        let mut done = Replayed::default();
        loop {
            let next = lock(&self.queue).next_to_replay();
            let Some((seq, patron, item, made, due, sent)) = next else { break };
            if sent {
                match self.library.reconcile_checkout(&patron, &item).await {
                    Ok(Reconciled::Lent(_)) => {
                        tracing::info!("an offline loan sent before a crash had been taken");
                        if !self.answered(seq, State::Lent).await {
                            break;
                        }
                        done.lent += 1;
                        continue;
                    }
                    Ok(Reconciled::Other(problem)) => {
                        if !self.answered(seq, refused(&problem)).await {
                            break;
                        }
                        done.refused += 1;
                        continue;
                    }
                    // Not lent: send it (below).
                    Ok(Reconciled::NotLent) => {}
                    Err(e) => {
                        if self.set_aside(&mut failures, seq, &e).await {
                            done.refused += 1;
                            continue;
                        }
                        tracing::info!(error = %e, "the library system does not answer yet; offline loans wait");
                        break;
                    }
                }
            } else {
                let marked = self.write(move |q| q.sending(seq)).await;
                if !matches!(marked, Some(Ok(()))) {
                    tracing::error!("an offline loan's replay could not be marked; not sent");
                    break;
                }
            }
            let offline = OfflineCheckout {
                made: SipDate::from_unix(made, self.utc_offset),
                due: SipDate::from_unix(due, self.utc_offset),
            };
            match self.library.replay_offline_checkout(&patron, &item, &offline).await {
                Ok(Ok(_loan)) => {
                    if !self.answered(seq, State::Lent).await {
                        break;
                    }
                    done.lent += 1;
                }
                Ok(Err(r)) => {
                    if !self.answered(seq, refused(&r.problem)).await {
                        break;
                    }
                    tracing::warn!("the library system refused an offline loan; listed for staff");
                    done.refused += 1;
                }
                Err(e) => {
                    if self.set_aside(&mut failures, seq, &e).await {
                        done.refused += 1;
                        continue;
                    }
                    // Sent or not, it is marked: the next round reconciles it first.
                    tracing::info!(error = %e, "offline replay stopped; it goes on when the library system answers");
                    break;
                }
            }
        }
        done.waiting = lock(&self.queue).waiting();
        if let Some(usage) = &self.usage {
            use kiosk_core::usage::Counter;
            usage.count(Counter::OfflineReplayed, u32::try_from(done.lent).unwrap_or(u32::MAX));
            usage.count(Counter::OfflineReplayRefused, u32::try_from(done.refused).unwrap_or(u32::MAX));
        }
        done
    }

    /// An error sending loan `seq`: an outage waits (false); anything else counts, and at
    /// [`POISONED_AFTER`] rounds the loan is set aside for staff (true), its outcome
    /// unknown to the kiosk, so the loans behind it go on.
    async fn set_aside(
        &self,
        failures: &mut std::collections::HashMap<u32, u32>,
        seq: u32,
        e: &kiosk_ils::Sip2Error,
    ) -> bool {
        if e.unreachable() {
            return false;
        }
        let n = failures.entry(seq).or_insert(0);
        *n += 1;
        if *n < POISONED_AFTER {
            return false;
        }
        tracing::error!(error = %e, "an offline loan keeps failing; set aside for staff, the others go on");
        let message = format!("not confirmed, check this book's loan: {e}");
        let state = State::Refused { why: ReplayRefusal::Other, message };
        failures.remove(&seq);
        self.answered(seq, state).await
    }

    async fn answered(&self, seq: u32, state: State) -> bool {
        match self.write(move |q| q.answered(seq, state)).await {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                tracing::error!(error = %e, "an offline loan's answer could not be written; it is reconciled later");
                false
            }
            None => false,
        }
    }
}

/// The replay's loop: every [`REPLAY_EVERY`], the library system's clock is read into
/// the trust, and when loans wait and the library system answers, they are sent.
pub async fn replay_forever(offline: Arc<OfflineLending>, library: Option<Arc<Sip2Library>>) {
    loop {
        offline.read_library_clock().await;
        if offline.view().waiting > 0
            && let Some(library) = &library
            && library.probe().await.is_ok()
        {
            offline.read_library_clock().await;
            let done = offline.replay().await;
            if done.lent + done.refused > 0 {
                tracing::info!(
                    lent = done.lent,
                    refused = done.refused,
                    waiting = done.waiting,
                    "offline loans sent to the library system"
                );
            }
        }
        tokio::time::sleep(REPLAY_EVERY).await;
    }
}

/// The staff list's rows: the book, when it was lent (the library's local time), why.
#[must_use]
pub fn rows(view: &OfflineView) -> Vec<kiosk_ui::OfflineRow> {
    let offset = crate::clock::Clock::library().utc_offset_secs();
    view.refused
        .iter()
        .map(|(item, made, why)| {
            let lent_at = crate::offline::local_time(*made, offset, false);
            let why = match why {
                ReplayRefusal::OnHold => kiosk_ui::Refusal::OnHold,
                ReplayRefusal::OnLoan => kiosk_ui::Refusal::OnLoan,
                ReplayRefusal::NotFound => kiosk_ui::Refusal::NotInCatalogue,
                ReplayRefusal::Other => kiosk_ui::Refusal::Other,
            };
            kiosk_ui::OfflineRow { item: item.clone(), lent_at, why }
        })
        .collect()
}

fn refused(problem: &ItemProblem) -> State {
    let (why, message) = match problem {
        ItemProblem::OnHoldForAnother => (ReplayRefusal::OnHold, String::new()),
        ItemProblem::OnLoanToAnother => (ReplayRefusal::OnLoan, String::new()),
        ItemProblem::NotFound => (ReplayRefusal::NotFound, String::new()),
        ItemProblem::Refused(m) => (ReplayRefusal::Other, m.clone().unwrap_or_default()),
        ItemProblem::NotCheckedOut => (ReplayRefusal::Other, String::new()),
    };
    State::Refused { why, message }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::journal::Journal;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiosk-offline-lending-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A synchronised clock (timesyncd's marker present) unless `trusted` is false.
    fn clock(d: &Path, trusted: bool) -> ClockTrust {
        if trusted {
            std::fs::write(d.join("synchronized"), "").unwrap();
        }
        ClockTrust {
            synced_marker: d.join("synchronized"),
            boot_id: d.join("no-boot-id"),
            agreed_file: d.join("clock-agreed"),
        }
    }

    fn lending(
        d: &Path,
        limits: config::Offline,
        trusted: bool,
        before: &[(&str, &str, i64)],
    ) -> OfflineLending {
        let journal = Arc::new(Journal::open(&d.join("journal")).unwrap());
        let mut queue = OfflineQueue::open(journal).unwrap();
        for (patron, item, made) in before {
            queue.lend(patron, item, *made, made + 86_400, (50, 50)).unwrap();
        }
        // Never asked in these tests: lending offline needs no library system.
        let library = Sip2Library::new(kiosk_ils::ClientConfig::new("127.0.0.1:9", "LIB"));
        OfflineLending::new(queue, clock(d, trusted), limits, library, 9 * 3600)
    }

    fn item(n: u8) -> ItemId {
        ItemId(format!("75000000{n:02}"))
    }

    fn refused(r: Result<Loan, Refusal>) -> ItemRefusal {
        r.err().map(|r| r.reason).unwrap_or(ItemRefusal::NoAnswer)
    }

    #[tokio::test]
    async fn items_per_patron_and_items_total_are_the_limits() {
        let d = dir("limits");
        let limits = config::Offline {
            enabled: true,
            items_per_patron: 2,
            items_total: 3,
            ..config::Offline::default()
        };
        let o = lending(&d, limits, true, &[]);
        assert!(o.lend("P1", &item(1)).await.is_ok());
        assert!(o.lend("P1", &item(2)).await.is_ok());
        assert_eq!(refused(o.lend("P1", &item(3)).await), ItemRefusal::OfflineLimit, "items_per_patron");
        assert!(o.lend("P2", &item(3)).await.is_ok());
        assert!(!o.may_lend_now(), "items_total reached: nobody else is let in");
        assert_eq!(refused(o.lend("P3", &item(4)).await), ItemRefusal::OfflineLimit, "items_total");
        assert_eq!(
            refused(o.lend("P2", &item(1)).await),
            ItemRefusal::OnLoanToAnother,
            "lent offline already"
        );
        assert_eq!(o.view().waiting, 3);
    }

    #[tokio::test]
    async fn loan_days_sets_the_provisional_due_date() {
        let d = dir("due");
        let limits = config::Offline { enabled: true, loan_days: 7, ..config::Offline::default() };
        let o = lending(&d, limits, true, &[]);
        let loan = o.lend("P1", &item(1)).await.unwrap();
        let due = SipDate::from_unix(unix_now() + 7 * 86_400, 9 * 3600);
        assert_eq!(loan.due, kiosk_ils::display_due_date(due.as_str()));
    }

    #[tokio::test]
    async fn max_hours_stops_offline_lending_once_the_oldest_loan_waits_that_long() {
        let d = dir("age");
        let limits = config::Offline {
            enabled: true,
            max_age: Duration::from_secs(3600),
            ..config::Offline::default()
        };
        let o = lending(&d, limits.clone(), true, &[("P1", "7500000001", unix_now() - 1800)]);
        assert!(o.may_lend_now(), "half an hour old");
        let d = dir("age-old");
        let o = lending(&d, limits, true, &[("P1", "7500000001", unix_now() - 3700)]);
        assert!(!o.may_lend_now(), "older than max_hours");
    }

    /// A loan that fails for a reason that is not an outage (here a barcode SIP2 cannot
    /// carry) is set aside for staff after a few rounds; the loans behind it go on.
    #[tokio::test]
    async fn a_loan_that_keeps_failing_is_set_aside_and_the_others_go_on() {
        let d = dir("poison");
        let mut catalogue = kiosk_sim::sip2::Catalogue::demo();
        catalogue.patron("2300012345678", "Bench", None, false);
        catalogue.item("7500000002", "本");
        let sim =
            kiosk_sim::sip2::Sip2Sim::start(catalogue, kiosk_sim::sip2::Behaviour::default()).await.unwrap();
        let journal = Arc::new(Journal::open(&d.join("journal")).unwrap());
        let mut queue = OfflineQueue::open(journal).unwrap();
        let now = unix_now();
        queue.lend("2300012345678", "75|bad", now - 10, now + 86_400, (5, 5)).unwrap();
        queue.lend("2300012345678", "7500000002", now - 5, now + 86_400, (5, 5)).unwrap();
        let mut cfg = kiosk_ils::ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
        cfg.offline_replay = true;
        cfg.login =
            Some(kiosk_ils::Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
        let limits = config::Offline { enabled: true, ..config::Offline::default() };
        let o = OfflineLending::new(queue, clock(&d, true), limits, Sip2Library::new(cfg), 9 * 3600);
        for round in 1..POISONED_AFTER {
            let done = o.replay().await;
            assert_eq!((done.lent, done.refused, done.waiting), (0, 0, 2), "round {round}: it waits");
        }
        let done = o.replay().await;
        assert_eq!((done.lent, done.refused, done.waiting), (1, 1, 0), "set aside, the next one lent");
        let view = o.view();
        assert_eq!(view.refused.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["75|bad"]);
        assert_eq!(sim.stats().no_block_log.len(), 1, "the bad one never reached the library system");
    }

    #[tokio::test]
    async fn an_untrusted_clock_lends_nothing_offline() {
        let d = dir("clock");
        let o = lending(&d, config::Offline { enabled: true, ..config::Offline::default() }, false, &[]);
        assert!(!o.may_lend_now());
        assert_eq!(refused(o.lend("P1", &item(1)).await), ItemRefusal::OfflineStopped);
        assert_eq!(o.view().waiting, 0);
    }
}
