#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! The kiosk's own journey figures and a soak, over the real stack of the end-to-end
//! tests (virtual card → vpcd → private pcscd; platform simulator over mutual TLS; SIP2
//! simulator; printer sink):
//!
//! 1. timings of the three-book journey: card tap → PIN pad ready, PIN submitted → ready
//!    to scan, each checkout, and the whole journey (medians of 20); the account: tap →
//!    the screen with 50 loans, and renew-all of 20 loans (medians of 20);
//! 2. a soak: many sessions in a row with random faults (wrong PIN, card yanked at a
//!    random step, an item on hold, a slow platform, a dropped SIP2 connection), the
//!    kiosk's RSS sampled every 100 sessions (no growth beyond 5 % after warm-up), no
//!    panic, and afterwards the kiosk's log, its journal directory and a core dump of the
//!    process (gdb's `gcore`) searched for the PIN, the patron number, the patron's name
//!    and the card's serial.
//!
//! 3. the kiosk's RSS and PSS with the voice on: the blind patron's keypad journey
//!    (`kiosk_e2e::voice`) with headphones in and each title said, sampled every 10 ms.
//!
//! `cargo build --release -p kiosk && cargo bench -p kiosk-e2e --bench journey` (root:
//! private namespaces). `KIOSK_SOAK_SESSIONS` sets the soak length (default 2,000),
//! `KIOSK_VOICE_RUNS` the keypad journeys with the voice on (default 10).
//! Under `cargo test` it runs 3 timed journeys and a 40-session soak.

use std::time::{Duration, Instant};

use kiosk_e2e::{BOOKS, Kiosk, ON_HOLD, PATRON, Stack};
use kiosk_sim::card::CardConfig;
use kiosk_sim::card::stack::{INSIDE_ENV, rerun_in_private_stack};
use kiosk_sim::platform::Fault;
use kiosk_sim::sip2::ItemState;

/// The soak card's PIN: distinctive bytes to look for afterwards.
const PIN: &str = "7391";
const PATRON_NAME: &str = "End To End";

fn card() -> CardConfig {
    CardConfig { auth_pin: *b"7391", ..CardConfig::default() }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Every item back on the shelf (the soak patron borrows the same books again and again).
fn return_everything(stack: &Stack) {
    stack.ils.catalogue(|c| {
        for item in c.items.values_mut() {
            if matches!(item.state, ItemState::OnLoan { .. }) {
                item.state = ItemState::Available;
            }
        }
    });
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn timed_journeys(stack: &Stack, k: &mut Kiosk, runs: usize) {
    let (mut tap, mut pin, mut items, mut total) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        return_everything(stack);
        k.wait("idle", 20);
        let start = Instant::now();
        let (_card, inserted) = stack.card(card());
        k.timed("pin=Entering", 20).expect("PIN pad");
        tap.push(start.elapsed());
        for d in PIN.chars() {
            k.tap(&format!("digit-{d}"));
        }
        let submitted = Instant::now();
        k.tap("submit");
        k.timed("screen=borrowing", 30).expect("borrowing");
        pin.push(submitted.elapsed());
        for (i, book) in BOOKS.iter().enumerate() {
            let t = Instant::now();
            k.scan(book);
            k.timed(&format!("borrowed={}", i + 1), 20).expect("checkout");
            items.push(t.elapsed());
        }
        total.push(start.elapsed());
        k.tap("finish");
        k.wait("receipt-choice", 10);
        k.tap("no-receipt");
        k.wait("ending", 10);
        inserted.remove();
    }
    k.wait("idle", 20);
    println!(
        "journey over the real stack, medians of {runs} (simulated card latency: none; loopback peers):"
    );
    println!("| step | median | min | max |");
    println!("|---|---|---|---|");
    for (name, v) in [
        ("card tap → PIN pad ready (certificate read, tries query)", tap),
        ("PIN submitted → ready to scan (VERIFY, signature, platform, SIP2 patron)", pin),
        ("one checkout (scan → line on screen)", items),
        ("whole three-book journey (tap → third book on screen)", total),
    ] {
        let (lo, hi) = (*v.iter().min().unwrap(), *v.iter().max().unwrap());
        println!("| {name} | {:.1} ms | {:.1} ms | {:.1} ms |", ms(median(v)), ms(lo), ms(hi));
    }
}

/// The account: card and PIN, account tapped → screen with 50 loans (3 overdue,
/// 2 holds ready), and renew-all of 20 loans (tap → the last answer on screen), medians
/// of `runs`.
fn account_figures(stack: &Stack, k: &mut Kiosk, runs: usize) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let now = i64::try_from(now).unwrap();
    let day = |d: i64| kiosk_ils::SipDate::from_unix(now + d * 86_400, 9 * 3600).to_string();
    let lend = |count: i64| {
        stack.ils.catalogue(|c| {
            c.renewal_limit = u32::MAX;
            // The patron's loans from the journeys go back; the soak's item on hold stays
            // on hold for its patron.
            c.items.retain(|id, _| !id.starts_with("800000") && !id.starts_with("810000"));
            for item in c.items.values_mut() {
                if matches!(&item.state, ItemState::OnLoan { patron, .. } if patron == PATRON) {
                    item.state = ItemState::Available;
                }
            }
            for n in 0..count {
                let id = format!("80000{n:05}");
                c.item(&id, &format!("口座の本 {n}"));
                c.lend(&id, PATRON, &day(if n < 3 { n - 3 } else { n }));
            }
            for id in ["8100000001", "8100000002"] {
                c.item(id, "予約本");
                if let Some(i) = c.items.get_mut(id) {
                    i.state = ItemState::OnHoldFor(PATRON.into());
                }
            }
        });
    };
    let (mut open, mut renew) = (Vec::new(), Vec::new());
    for (count, times) in [(50, &mut open), (20, &mut renew)] {
        for _ in 0..runs {
            lend(count);
            k.wait("idle", 20);
            // The account is private: the card and its PIN.
            let (_card, inserted) = stack.card(card());
            k.timed("pin=Entering", 20).expect("PIN pad");
            for d in PIN.chars() {
                k.tap(&format!("digit-{d}"));
            }
            k.tap("submit");
            k.timed("screen=borrowing", 30).expect("borrowing");
            let tap = Instant::now();
            k.tap("account");
            k.timed(&format!("account=Shown/loans={count}/"), 30).expect("account");
            if count == 50 {
                // From the tap sent to the scene with the list (the control pipe's round
                // trips included: an upper bound of the kiosk's time).
                times.push(tap.elapsed());
            } else {
                let t = Instant::now();
                k.tap("renew-all");
                // The library system has renewed all 20, then the screen says so (a scene
                // from before the tap also says renewing=0).
                let deadline = Instant::now() + Duration::from_secs(60);
                let renewed =
                    |n: i64| stack.ils.item(&format!("80000{n:05}")).is_some_and(|i| i.renewals_executed > 0);
                while !(0..count).all(renewed) {
                    assert!(Instant::now() < deadline, "renew-all did not finish");
                    std::thread::sleep(Duration::from_millis(1));
                }
                k.timed("renewing=0/", 60).expect("renewed");
                times.push(t.elapsed());
            }
            k.tap("dismiss");
            k.wait("borrowing", 10);
            k.tap("finish");
            if count == 50 {
                // Nothing lent or renewed: no receipt to offer.
                k.wait("ending", 10);
            } else {
                k.wait("receipt-choice", 10);
                k.tap("no-receipt");
                k.wait("ending", 10);
            }
            inserted.remove();
            k.wait("idle", 20);
        }
    }
    stack.ils.catalogue(|c| c.items.retain(|id, _| !id.starts_with("800000") && !id.starts_with("810000")));
    println!("account over the real stack (SIP2 simulator on loopback), medians of {runs}:");
    println!("| step | median | min | max |");
    println!("|---|---|---|---|");
    for (name, v) in [
        (
            "tap → account screen with 50 loans (tap sent → list in the scene: 3 pages of 63, overdue and holds lists, 52 × 17)",
            open,
        ),
        ("renew all, 20 loans (tap → the last answer on screen: 20 × journal fsync + 29)", renew),
    ] {
        let (lo, hi) = (*v.iter().min().unwrap(), *v.iter().max().unwrap());
        println!("| {name} | {:.1} ms | {:.1} ms | {:.1} ms |", ms(median(v)), ms(lo), ms(hi));
    }
}

/// A tiny deterministic generator (no dependency, reproducible runs).
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Books for the soak: a rotating shelf, so no scan repeats the one before it (the
/// scanner's debounce would rightly drop a repeat within 1.5 s).
const SHELF: usize = 50;

fn shelf(n: usize) -> String {
    format!("90000000{:02}", n % SHELF)
}

fn soak(stack: &Stack, k: &mut Kiosk, sessions: usize) {
    stack.ils.catalogue(|c| {
        for i in 0..SHELF {
            c.item(&shelf(i), "Soak Test Book");
        }
    });
    let mut next_book = 0usize;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut samples = Vec::new();
    let started = Instant::now();
    for n in 0..sessions {
        // Sampled before the session, so a session that ends early still counts.
        if n > 0 && n % 100 == 0 {
            sample(k, n, started, &mut samples);
        }
        return_everything(stack);
        k.wait("idle", 30);
        let fault = rng.next(6);
        stack.platform.set_fault(if fault == 4 {
            Fault::Slow(Duration::from_millis(300))
        } else {
            Fault::None
        });
        if fault == 5 {
            stack.ils.faults(|f| f.disconnect_after_checkout = 1);
        }
        let (_card, inserted) = stack.card(card());
        if fault == 0 {
            // Yanked at the PIN pad.
            k.until("pin=Entering", 20);
            inserted.remove();
            continue;
        }
        if fault == 1 {
            k.pin("0000");
            k.until("tries_left=Some(2)", 20);
        }
        k.pin(PIN);
        k.wait("borrowing", 30);
        let books = 1 + rng.next(3) as usize;
        for i in 0..books {
            k.scan(&shelf(next_book));
            next_book += 1;
            k.until(&format!("borrowed={}", i + 1), 20);
        }
        if fault == 2 {
            k.scan(ON_HOLD);
            k.until(&format!("lines={}", books + 1), 20);
        }
        if fault == 3 {
            // Yanked while borrowing.
            inserted.remove();
        } else {
            k.tap("finish");
            if fault == 2 {
                // The refused book is named before the receipt.
                k.wait("refused", 10);
                k.tap("dismiss");
            }
            k.wait("receipt-choice", 10);
            k.tap(if rng.next(2) == 0 { "print-receipt" } else { "no-receipt" });
            k.wait("ending", 20);
            inserted.remove();
        }
    }
    k.wait("idle", 30);
    sample(k, sessions, started, &mut samples);
    println!("\nsoak: {sessions} sessions in {:.1} s", started.elapsed().as_secs_f64());
    println!("RSS (KiB) by session: {samples:?}");
    let stats = stack.ils.stats();
    println!(
        "library system: {} checkouts applied, {} duplicate checkouts, {} connections",
        stats.checkouts_applied, stats.duplicate_checkouts, stats.connections
    );
    assert_eq!(stats.duplicate_checkouts, 0, "no checkout was doubled");
    // After warm-up (the first sample), RSS grows by no more than 5 %.
    if let (Some(first), Some(last)) = (samples.first(), samples.last())
        && samples.len() >= 2
    {
        let growth = last.1 as f64 / first.1 as f64 - 1.0;
        println!("RSS growth after warm-up: {:+.1} %", growth * 100.0);
        assert!(growth <= 0.05, "RSS grew {:.1} % over the soak", growth * 100.0);
    }
}

/// RSS after `n` sessions, kept and also written on the side: a long soak's figures
/// survive an interrupted run.
fn sample(k: &Kiosk, n: usize, started: Instant, samples: &mut Vec<(usize, u64)>) {
    let rss = rss_kib(k.pid());
    samples.push((n, rss));
    let line = format!("{n} sessions, RSS {rss} KiB, {:.0} s\n", started.elapsed().as_secs_f64());
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::env::temp_dir().join("kiosk-soak-progress.txt"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
}

/// The needles: what must never be written down or left in memory.
fn needles(stack: &Stack) -> Vec<(&'static str, Vec<u8>)> {
    let mut verify = vec![0x00, 0x20, 0x00, 0x80, 0x04];
    verify.extend_from_slice(PIN.as_bytes());
    let serial_hex: String = stack.serial.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("PIN (VERIFY APDU)", verify),
        ("patron number", PATRON.as_bytes().to_vec()),
        ("patron name", PATRON_NAME.as_bytes().to_vec()),
        ("card serial (hex)", serial_hex.into_bytes()),
        ("card serial (bytes)", stack.serial.clone()),
    ]
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() || hay.len() < needle.len() {
        return 0;
    }
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The mapping a file offset of an ELF core dump belongs to, from the dump's program
/// headers and the process's `/proc/PID/maps` taken just before: `[heap]`, a library, or
/// an anonymous mapping (thread stacks and malloc arenas).
fn region(dump: &[u8], offset: usize, maps: &str) -> String {
    let u64_at = |at: usize| dump.get(at..at + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()));
    let u16_at = |at: usize| dump.get(at..at + 2).map_or(0, |b| u16::from_le_bytes(b.try_into().unwrap()));
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36) as usize, u16_at(0x38) as usize);
    let Some(vaddr) = (0..phnum).find_map(|n| {
        let ph = phoff + n * phentsize;
        let (kind, file_off, vaddr, size) = (
            dump.get(ph..ph + 4).map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap())),
            u64_at(ph + 8) as usize,
            u64_at(ph + 16),
            u64_at(ph + 32) as usize,
        );
        (kind == 1 && (file_off..file_off + size).contains(&offset))
            .then(|| vaddr + (offset - file_off) as u64)
    }) else {
        return "not in a PT_LOAD segment".to_owned();
    };
    let line = maps.lines().find(|l| {
        let range = l.split_whitespace().next().unwrap_or("");
        let (lo, hi) = range.split_once('-').unwrap_or(("0", "0"));
        let (lo, hi) = (u64::from_str_radix(lo, 16).unwrap_or(0), u64::from_str_radix(hi, 16).unwrap_or(0));
        (lo..hi).contains(&vaddr)
    });
    format!("address {vaddr:#x} in {}", line.unwrap_or("no mapping"))
}

fn privacy(stack: &Stack, k: &Kiosk) {
    let needles = needles(stack);
    let log = std::fs::read(stack.dir.join("kiosk.log")).unwrap_or_default();
    for (what, n) in &needles {
        assert_eq!(find(&log, n), 0, "the kiosk's log holds the {what}");
    }
    assert_eq!(k.journal_files(), 0, "the journal directory is empty after the sessions");
    // Idle connections close after 10 s (kiosk-platform's IDLE_CONNECTION; hyper's pool
    // reaper runs at that interval too, so allow two); then look.
    std::thread::sleep(Duration::from_secs(22));
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", k.pid())).unwrap_or_default();
    let core = stack.dir.join("core");
    let out = std::process::Command::new("gcore")
        .arg("-o")
        .arg(&core)
        .arg(k.pid().to_string())
        .output()
        .expect("gcore (Debian gdb) is installed by cargo xtask test");
    let file = stack.dir.join(format!("core.{}", k.pid()));
    assert!(out.status.success() && file.exists(), "gcore failed: {}", String::from_utf8_lossy(&out.stderr));
    let dump = std::fs::read(&file).unwrap();
    println!("\nprivacy: core dump of {} MiB", dump.len() / (1 << 20));
    let mut found = Vec::new();
    for (what, n) in &needles {
        let hits = find(&dump, n);
        println!("  {what}: {hits} occurrence(s) in the core dump");
        if hits > 0 {
            found.push(*what);
            // Where: the bytes around each hit, printable only, to find the buffer.
            for (i, _) in dump.windows(n.len()).enumerate().filter(|(_, w)| *w == &n[..]).take(8) {
                let around = &dump[i.saturating_sub(60)..(i + n.len() + 60).min(dump.len())];
                let text: String =
                    around.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
                println!("    at {i:#x} ({}): {text}", region(&dump, i, &maps));
            }
        }
    }
    let _ = std::fs::remove_file(&file);
    assert!(found.is_empty(), "the kiosk's memory still holds: {found:?}");
}

/// `VmRSS` and the `Pss` of `/proc/<pid>/smaps_rollup`, KiB.
fn rss_pss_kib(pid: u32) -> Option<(u64, u64)> {
    let field = |text: &str, name: &str| -> Option<u64> {
        text.lines().find_map(|l| l.strip_prefix(name))?.split_whitespace().next()?.parse().ok()
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    Some((field(&status, "VmRSS:")?, field(&rollup, "Pss:")?))
}

/// The kiosk with its voice on at its heaviest (the prompt pack of the languages it
/// offers, a player thread on the speaker's ALSA device and another on the headphones',
/// the headphones in, each book's title made by the synthesiser) and the tactile keypad:
/// the blind patron's loan `runs` times, RSS and PSS sampled every 10 ms.
fn voice_memory(runs: usize) {
    let stack = Stack::start("bench-voice");
    stack.link(PATRON);
    stack.ils.catalogue(|c| c.loan_limit = 1_000);
    let (mut k, mut keys, _speaker, _phones) = kiosk_e2e::voice::headphones_kiosk(&stack, "");
    keys.headphones(true);
    k.until("headphones=true", 10);
    let pid = k.pid();
    let started = rss_pss_kib(pid);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peak = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some((rss, pss)) = rss_pss_kib(pid) {
                    peak = (peak.0.max(rss), peak.1.max(pss));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        })
    };
    let mut each = Vec::new();
    for _ in 0..runs {
        kiosk_e2e::voice::borrow_by_keypad(&mut k, &stack, &mut keys, None);
        return_everything(&stack);
        each.extend(rss_pss_kib(pid).map(|(rss, _)| rss));
    }
    let after = rss_pss_kib(pid);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    k.quit();
    println!(
        "voice on, headphones in, titles said, keypad journey x{runs}: at start RSS/PSS {started:?} KiB; peak RSS {} KiB, peak PSS {} KiB; after {after:?} KiB",
        peak.0, peak.1
    );
    println!("voice on: RSS (KiB) after each journey: {each:?}");
}

fn inside(bench: bool) {
    let voice_runs = std::env::var("KIOSK_VOICE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if bench { 10 } else { 1 });
    voice_memory(voice_runs);
    let stack = Stack::start("bench");
    stack.link(PATRON);
    stack.ils.catalogue(|c| c.loan_limit = 100);
    let mut k = Kiosk::start(&stack);
    timed_journeys(&stack, &mut k, if bench { 20 } else { 3 });
    account_figures(&stack, &mut k, if bench { 20 } else { 3 });
    let sessions = std::env::var("KIOSK_SOAK_SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if bench { 2_000 } else { 40 });
    soak(&stack, &mut k, sessions);
    privacy(&stack, &k);
    k.quit();
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    if std::env::var_os(INSIDE_ENV).is_some() {
        inside(bench);
        return;
    }
    let args: &[&str] = if bench { &["--bench"] } else { &[] };
    let out = rerun_in_private_stack(args).unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the journey benchmark failed inside its private namespace");
}
