//! `cargo xtask fuzz [--seconds N] [TARGET…]`: builds the libFuzzer targets in `fuzz/`
//! (cargo-fuzz, stable toolchain, `--sanitizer none`) and runs each for N seconds (every
//! target when none is named) from its seed corpus, then prints and writes
//! (`target/fuzz/report.md`) the figures: executions, executions per second, the edges
//! and features libFuzzer reached, the corpus it kept, and any crash.
//!
//! `cargo xtask test` runs every target for [`CI_SECONDS`] so a regression shows; a
//! campaign runs each for 30 minutes (`--seconds 1800`). A crash fails the command and
//! leaves its input in `fuzz/artifacts/TARGET/`: it becomes a regression test before the
//! fix.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{cargo, root, run};

/// cargo-fuzz, pinned like the other tools `cargo xtask` installs.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Seconds per target in `cargo xtask test`.
pub const CI_SECONDS: u64 = 12;

/// What one run of one target showed.
struct Figures {
    target: String,
    seconds: u64,
    executions: u64,
    edges: u64,
    features: u64,
    corpus: usize,
    corpus_bytes: u64,
    crash: Option<PathBuf>,
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// The targets, from `fuzz/Cargo.toml`'s `[[bin]]` names.
fn targets() -> Result<Vec<String>, String> {
    let manifest =
        fs::read_to_string(fuzz_dir().join("Cargo.toml")).map_err(|e| format!("fuzz/Cargo.toml: {e}"))?;
    Ok(manifest
        .lines()
        .skip_while(|l| l.trim() != "[[bin]]")
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .map(str::to_owned)
        .collect())
}

fn cargo_fuzz() -> Command {
    let mut cmd = cargo();
    cmd.current_dir(fuzz_dir()).arg("fuzz");
    cmd
}

pub fn fuzz(args: &[String]) -> Result<(), String> {
    let mut seconds = 60;
    let mut wanted = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seconds" {
            seconds =
                it.next().and_then(|s| s.parse().ok()).ok_or("--seconds takes a whole number of seconds")?;
        } else {
            wanted.push(a.clone());
        }
    }
    run_targets(seconds, &wanted)
}

pub fn run_targets(seconds: u64, wanted: &[String]) -> Result<(), String> {
    crate::ensure_cargo_tool("cargo-fuzz", CARGO_FUZZ_VERSION, "fuzz/: the parsers' fuzz targets")?;
    let all = targets()?;
    if let Some(unknown) = wanted.iter().find(|w| !all.contains(w)) {
        return Err(format!("no fuzz target {unknown:?}; the targets are {}", all.join(", ")));
    }
    let chosen: Vec<String> = if wanted.is_empty() { all } else { wanted.to_vec() };
    // The workspace's versions of every crate (the fuzz workspace adds libfuzzer-sys and
    // arbitrary, pinned in its manifest).
    fs::copy(root().join("Cargo.lock"), fuzz_dir().join("Cargo.lock"))
        .map_err(|e| format!("fuzz/Cargo.lock: {e}"))?;
    let target_dir = root().join("target").join("fuzz");
    let target_arg = target_dir.to_string_lossy().into_owned();
    // Debug assertions on: a parser's own invariants are checked on every input.
    run(cargo_fuzz().args([
        "build",
        "--sanitizer",
        "none",
        "--debug-assertions",
        "--target-dir",
        &target_arg,
    ]))?;
    let mut figures = Vec::new();
    for target in &chosen {
        let f = run_one(target, seconds, &target_arg)?;
        println!("xtask: fuzz {}", row(&f));
        figures.push(f);
    }
    let report = report(&figures);
    fs::create_dir_all(&target_dir).map_err(|e| e.to_string())?;
    fs::write(target_dir.join("report.md"), &report).map_err(|e| e.to_string())?;
    println!("{report}");
    let crashed: Vec<String> = figures
        .iter()
        .filter_map(|f| f.crash.as_ref().map(|p| format!("{} ({})", f.target, p.display())))
        .collect();
    if crashed.is_empty() { Ok(()) } else { Err(format!("fuzz targets crashed: {}", crashed.join(", "))) }
}

fn run_one(target: &str, seconds: u64, target_dir: &str) -> Result<Figures, String> {
    let dir = fuzz_dir();
    let corpus = dir.join("corpus").join(target);
    let seeds = dir.join("seeds").join(target);
    let artifacts = dir.join("artifacts").join(target);
    for d in [&corpus, &seeds, &artifacts] {
        fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let started = Instant::now();
    // The binary `cargo fuzz build` made, run directly: `cargo fuzz run` would build again
    // with other settings first.
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let binary = PathBuf::from(target_dir).join(triple).join("release").join(target);
    let output = Command::new(&binary)
        .current_dir(&dir)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        // A parser that takes 10 s or 512 MiB on one input is a finding too.
        .args(["-timeout=10", "-rss_limit_mb=512", "-print_final_stats=1", "-max_len=65536"])
        .arg(&corpus)
        .arg(&seeds)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
    let log = String::from_utf8_lossy(&output.stderr);
    let stat = |name: &str| -> u64 {
        log.lines()
            .filter_map(|l| l.strip_prefix(name))
            .filter_map(|v| v.trim_start_matches(':').trim().parse().ok())
            .next_back()
            .unwrap_or(0)
    };
    // The last status line: "#N  DONE   cov: E ft: F corp: …".
    let last = |key: &str| -> u64 {
        log.lines()
            .filter(|l| l.starts_with('#'))
            .filter_map(|l| {
                l.split_whitespace().skip_while(|w| *w != key).nth(1).and_then(|v| v.parse().ok())
            })
            .next_back()
            .unwrap_or(0)
    };
    // libFuzzer names the input it stopped on: "Test unit written to PATH".
    let crash = (!output.status.success()).then(|| {
        log.lines()
            .filter_map(|l| l.split_once("Test unit written to ").map(|(_, p)| PathBuf::from(p.trim())))
            .next_back()
            .unwrap_or_else(|| {
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
                PathBuf::from(format!("(no input written; the run failed with {}:\n{tail})", output.status))
            })
    });
    // The last status line's "corp: FILES/SIZE": the seeds and what the run added.
    let (files, bytes) = log
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "corp:").nth(1).map(str::to_owned))
        .next_back()
        .and_then(|c| {
            let (n, size) = c.split_once('/')?;
            Some((n.parse().ok()?, parse_size(size)?))
        })
        .unwrap_or((0, 0));
    Ok(Figures {
        target: target.to_owned(),
        seconds: started.elapsed().as_secs().max(1),
        executions: stat("stat::number_of_executed_units"),
        edges: last("cov:"),
        features: last("ft:"),
        corpus: files,
        corpus_bytes: bytes,
        crash,
    })
}

/// libFuzzer's sizes: `123b`, `45Kb`, `6Mb`.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = digits.parse().ok()?;
    match unit {
        "b" => Some(n),
        "Kb" => Some(n << 10),
        "Mb" => Some(n << 20),
        _ => None,
    }
}

/// One target's line of the report (a Markdown table row).
fn row(f: &Figures) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        f.target,
        f.seconds,
        f.executions,
        f.executions / f.seconds.max(1),
        f.edges,
        f.features,
        f.corpus,
        f.corpus_bytes,
        f.crash.as_ref().map_or_else(|| "none".to_owned(), |p| p.display().to_string())
    )
}

fn report(figures: &[Figures]) -> String {
    let mut out = String::from(
        "| target | seconds | executions | per second | edges (cov) | features (ft) | corpus files | corpus bytes | crash |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for f in figures {
        out.push_str(&row(f));
        out.push('\n');
    }
    out
}
