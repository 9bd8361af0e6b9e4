//! The usage statistics' figures: what counting costs a session (its audit events
//! counted in memory, then its line appended to `usage.stats` and synced, as the kiosk
//! does when a session ends), the bytes a session adds to the file, a year's file (size,
//! and the time to read and rewrite it at start), and one scrape of `/metrics`.
//!
//! `cargo bench -p kiosk --bench usage` (2,000 sessions). Under `cargo test` it runs 20,
//! to keep it working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use kiosk::metrics::{Health, render};
use kiosk::usage::{FILE, Usage, hour_now};
use kiosk_core::flow::{AuditEvent, ItemRefusal, LoginMethod, Tally};
use kiosk_core::usage::{Counter, Counts, FILE_HEADER, Hours, SessionKind};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = if bench { 2_000 } else { 20 };
    // On the disk the target directory is on (not a tmpfs): the sync is real.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("usage-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let usage = Usage::open(&dir, 400);

    // A session: card login, three books lent, one refused, then its end.
    let mut tally = Tally::default();
    (tally.lent, tally.not_done) = (3, 1);
    tally.refused(&ItemRefusal::OnHoldForAnother);
    let events = [AuditEvent::SessionStarted(LoginMethod::MyNumberCard), AuditEvent::SessionEnded(tally)];

    let mut record = Vec::with_capacity(n);
    let mut flush = Vec::with_capacity(n);
    let mut bytes = 0usize;
    for _ in 0..n {
        let t = Instant::now();
        for e in &events {
            usage.record(e);
        }
        record.push(t.elapsed());
        let t = Instant::now();
        bytes += usage.flush().unwrap();
        flush.push(t.elapsed());
    }
    record.sort();
    flush.sort();
    println!("per session ({n} sessions, {})", dir.display());
    println!("  counted in memory: p50 {:?}, p99 {:?}", percentile(&record, 0.5), percentile(&record, 0.99));
    println!(
        "  line appended and synced (on a blocking thread, after the session): p50 {:?}, p99 {:?}",
        percentile(&flush, 0.5),
        percentile(&flush, 0.99)
    );
    println!("  bytes appended: {:.1} per session", bytes as f64 / n as f64);

    // A year and a month at a busy branch: 12 open hours a day, every kind of count.
    let mut year = Hours::default();
    let first = hour_now() - 400 * 24;
    for day in 0..400 {
        for h in 9..21 {
            let mut c = Counts::default();
            for (i, counter) in Counter::all().enumerate() {
                if i % 3 == 0
                    || matches!(counter, Counter::Loans | Counter::Sessions(SessionKind::MyNumberCard))
                {
                    c.add(counter, 1 + (h + day) % 17);
                }
            }
            year.add(first + day * 24 + h, &c);
        }
    }
    let mut text = format!("{FILE_HEADER}\n");
    for (h, c) in year.iter() {
        text.push_str(&Hours::line(h, c));
    }
    std::fs::write(dir.join(FILE), &text).unwrap();
    let t = Instant::now();
    let opened = Usage::open(&dir, 400);
    let open = t.elapsed();
    let t = Instant::now();
    let csv = kiosk::usage::csv(&opened.all_hours().unwrap(), false);
    let export = t.elapsed();
    println!(
        "a year's file (400 days x 12 hours, a third of the counters non-zero): {} KiB; read and rewritten at start in {open:?}; hourly CSV {} KiB in {export:?}",
        text.len() / 1024,
        csv.len() / 1024
    );

    let health = Health {
        in_service: true,
        devices: vec![("reader", true), ("printer", true), ("platform", true), ("library_system", true)],
        ..Health::default()
    };
    let counts = opened.since_start();
    let mut scrape = Vec::with_capacity(n);
    let mut size = 0;
    for _ in 0..n {
        let t = Instant::now();
        size = render(&health, &counts, 1_796_533_200, "0.1.0").len();
        scrape.push(t.elapsed());
    }
    scrape.sort();
    println!(
        "/metrics rendered: {size} bytes, p50 {:?}, p99 {:?}",
        percentile(&scrape, 0.5),
        percentile(&scrape, 0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
