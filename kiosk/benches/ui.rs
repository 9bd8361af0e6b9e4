#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! UI benchmark: the kiosk against a Chromium kiosk showing the same borrowing screen.
//!
//! - Slint: the real `kiosk` binary (`kiosk demo --bench-first-frame`: the console (flow,
//!   admin session) with the demo's configuration, rendering its first screen at
//!   1280×800 with the software renderer; the demo's simulated devices are not started). Time from spawn to "first-frame" on stdout;
//!   PSS summed over the process tree, sampled every 10 ms, peak.
//! - Chromium (Debian `chromium`): `--headless=new --kiosk --screenshot` of
//!   `ui/bench/borrowing.html`, a static copy of the borrowing screen. Time from spawn to
//!   exit (the screenshot is written); PSS summed over its process tree, peak.
//! - Frame render time of every screen (the screenshot tests' sample scenes) at 1280×800,
//!   in process.
//!
//! `cargo bench -p kiosk --bench ui` (needs `apt-get install chromium`). Under `cargo test`
//! it runs one quick round and skips Chromium if it is not installed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kiosk_ui::fixtures::sample_scenes;
use kiosk_ui::headless::Headless;

const CHROMIUM: &str = "/usr/bin/chromium";

/// PSS of one process in KiB, from `/proc/PID/smaps_rollup` (0 if it is gone).
fn pss_kib(pid: u32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { return 0 };
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The process and all its descendants, from `/proc/*/stat`.
fn tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // "pid (comm) state ppid …": comm may hold spaces, so split after the last ')'.
            let ppid: Option<u32> =
                stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// Samples the summed PSS of a process tree every 10 ms until stopped; keeps the peak and
/// the largest number of processes seen.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    procs: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn start(root: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let procs = Arc::new(AtomicU64::new(0));
        let (s, p, n) = (stop.clone(), peak.clone(), procs.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let pids = tree(root);
                let sum: u64 = pids.iter().map(|&pid| pss_kib(pid)).sum();
                p.fetch_max(sum, Ordering::Relaxed);
                n.fetch_max(pids.len() as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Sampler { stop, peak, procs, thread }
    }

    /// (peak PSS in MiB, most processes at once).
    fn finish(self) -> (f64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        (self.peak.load(Ordering::Relaxed) as f64 / 1024.0, self.procs.load(Ordering::Relaxed))
    }
}

#[derive(Clone, Copy, Debug)]
struct Run {
    first_frame: Duration,
    pss_mib: f64,
    procs: u64,
}

fn kiosk_run() -> Run {
    let start = Instant::now();
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["demo", "--bench-first-frame"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kiosk");
    let sampler = Sampler::start(child.id());
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let first_frame = start.elapsed();
    assert_eq!(line.trim(), "first-frame", "kiosk did not render its first frame");
    // Let the sampler see the settled process, frame held.
    std::thread::sleep(Duration::from_millis(60));
    let (pss_mib, procs) = sampler.finish();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    Run { first_frame, pss_mib, procs }
}

fn chromium_run(page: &Path, shot: &Path) -> Run {
    let profile = tempdir("kiosk-bench-chromium");
    let start = Instant::now();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless=new",
            "--kiosk",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let sampler = Sampler::start(child.id());
    let status = child.wait().unwrap();
    let first_frame = start.elapsed();
    let (pss_mib, procs) = sampler.finish();
    assert!(status.success() && shot.exists(), "chromium wrote no screenshot");
    let _ = std::fs::remove_dir_all(&profile);
    Run { first_frame, pss_mib, procs }
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn summary(name: &str, runs: &[Run]) -> (f64, f64) {
    let ms: Vec<f64> = runs.iter().map(|r| r.first_frame.as_secs_f64() * 1e3).collect();
    let pss: Vec<f64> = runs.iter().map(|r| r.pss_mib).collect();
    let lo = ms.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ms.iter().copied().fold(0.0, f64::max);
    let procs = runs.iter().map(|r| r.procs).max().unwrap_or(0);
    let (m, p) = (median_ms(ms), median_ms(pss.clone()));
    let pss_hi = pss.iter().copied().fold(0.0, f64::max);
    println!(
        "{name:<40} first frame p50 {m:8.1} ms (min {lo:.1}, max {hi:.1}); peak PSS p50 {p:6.1} MiB (max {pss_hi:.1}); processes {procs}"
    );
    (m, p)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let rounds = if bench { 10 } else { 1 };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = root.join("ui/bench/borrowing.html").canonicalize().unwrap();
    let out = tempdir("kiosk-bench-ui");

    let chromium = Path::new(CHROMIUM).exists();
    if !chromium && bench {
        eprintln!("ui bench: {CHROMIUM} is missing: `apt-get install chromium` (the comparison needs it)");
        std::process::exit(2);
    }
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    // Interleaved, so noise on the shared machine hits both alike; one warm-up each.
    for round in 0..=rounds {
        let k = kiosk_run();
        let c = chromium.then(|| chromium_run(&page, &out.join(format!("chromium-{round}.png"))));
        if round > 0 || !bench {
            ours.push(k);
            theirs.extend(c);
        }
    }
    println!("UI at 1280x800, {} rounds, interleaved (first of each discarded as warm-up)", ours.len());
    let (km, kp) = summary("kiosk (Slint software renderer, demo)", &ours);
    if !theirs.is_empty() {
        let (cm, cp) = summary("Chromium --headless=new --kiosk", &theirs);
        println!("ratio Chromium / kiosk: first frame {:.1}x, PSS {:.1}x", cm / km, cp / kp);
    } else {
        println!("Chromium: not installed, comparison skipped");
    }

    // Frame render time per screen, in process.
    let ui = Headless::new(1280, 800).unwrap();
    let reps = if bench { 30 } else { 2 };
    println!("\nframe render (full frame, software renderer, in process), p50 of {reps}:");
    let mut worst = (0.0f64, "");
    let mut png_ms = Vec::new();
    for (name, scene) in sample_scenes() {
        let _ = ui.render(&scene).unwrap();
        let mut t = Vec::new();
        for _ in 0..reps {
            let s = Instant::now();
            let shot = ui.render(&scene).unwrap();
            t.push(s.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(&shot);
        }
        let m = median_ms(t);
        if m > worst.0 {
            worst = (m, name);
        }
        let s = Instant::now();
        ui.render(&scene).unwrap().save_png(&out.join(format!("{name}.png"))).unwrap();
        png_ms.push(s.elapsed().as_secs_f64() * 1e3);
        println!("  {name:<28} {m:7.2} ms");
    }
    println!(
        "slowest screen: {} at {:.2} ms; render + PNG encode p50 {:.1} ms",
        worst.1,
        worst.0,
        median_ms(png_ms)
    );
    // A long session: the borrowing screen with 50 books (newest first, some refused).
    let loans: Vec<_> = (1..=50usize)
        .rev()
        .map(|n| {
            if n % 7 == 0 {
                kiosk_ui::refused_row(n, "", &format!("40000000{n:02}"), kiosk_ui::Refusal::OnHold, "")
            } else {
                kiosk_ui::loan_row(n, &format!("吾輩は猫である 第{n}巻"), "2026-12-21")
            }
        })
        .collect();
    let long = kiosk_ui::Scene {
        screen: kiosk_ui::Screen::Borrowing,
        borrowed: 43,
        refused: 7,
        loans,
        ..kiosk_ui::fixtures::base()
    };
    let _ = ui.render(&long).unwrap();
    let mut t = Vec::new();
    for _ in 0..reps {
        let s = Instant::now();
        std::hint::black_box(ui.render(&long).unwrap());
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    println!("borrowing screen with 50 rows at 1280x800: p50 {:.2} ms (of {reps})", median_ms(t));
    let _ = std::io::stdout().flush();
    let _ = std::fs::remove_dir_all(&out);
}
