//! The `kiosk` command: runs the kiosk, checks a config file, hashes a staff PIN.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(feature = "demo")]
use kiosk::demo;
use kiosk::{config, logging};

/// Every heap block is zeroed when freed: personal data that passed through a buffer (a
/// SIP2 frame, a platform answer, a TLS record) does not linger in freed memory, where a
/// core dump or a later bug could find it. The kiosk's privacy soak checks a core dump.
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

/// Where the kiosk looks for its configuration when none is given.
const DEFAULT_CONFIG: &str = "/etc/kiosk/kiosk.toml";

#[derive(Debug, Parser)]
#[command(name = "kiosk", version, about = "My Number card self-checkout kiosk for public libraries")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the kiosk with the devices and peers the configuration file names. A missing
    /// or broken file stops it (exit code 2, with what to fix); the demo is `kiosk demo`.
    Run {
        /// The configuration file.
        #[arg(long, short, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// No screen: render on request and read taps from standard input (see
        /// `kiosk::orchestrator::control`; the end-to-end tests use it).
        #[arg(long)]
        headless: bool,
    },
    #[cfg(feature = "demo")]
    /// The demo on simulated hardware: a window when there is a display (and the
    /// `desktop` feature), otherwise the scripted journeys printed as text.
    Demo {
        /// A library's configuration file: the demo keeps its policy (PIN, timeouts,
        /// labels, library name) but simulates every device and peer.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print the scripted journeys as text even if a window could open.
        #[arg(long)]
        text: bool,
        /// The counter profile (methods A-D, linking cards) instead of self-checkout;
        /// method C types into a file in the demo's folder instead of /dev/hidg0.
        #[arg(long, conflicts_with = "text")]
        counter: bool,
        /// Play a script without a display and write a screenshot per step.
        #[arg(long, requires_all = ["script", "shots"])]
        headless: bool,
        /// The script (see kiosk/demo/borrow-three-books.script).
        #[arg(long, requires = "headless")]
        script: Option<PathBuf>,
        /// Where the screenshots go.
        #[arg(long, requires = "headless")]
        shots: Option<PathBuf>,
        /// For the UI benchmark (kiosk/benches/ui.rs): render the first screen headlessly,
        /// print `first-frame`, then wait for standard input to close.
        #[arg(long, hide = true, conflicts_with_all = ["text", "headless"])]
        bench_first_frame: bool,
    },
    /// Check that the configured devices and peers answer (the boot health gate runs
    /// this): exit code 0 when all do, 1 when one does not, 2 for a bad config file.
    Health {
        /// The configuration file.
        #[arg(long, short, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Register this terminal at the platform (`platform.mode = "api"`) and store the
    /// certificate it issues; prints the terminal ID and the hardware fingerprint first.
    /// The files go to the owner of their directory (the kiosk's user for its state
    /// directory). Exit code 0 when registered, 1 when refused or unreachable, 2 for a bad
    /// config file.
    Register {
        /// The configuration file.
        #[arg(long, short, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Check a configuration file and print every problem at once (exit code 2 if any).
    CheckConfig {
        /// The configuration file to check.
        file: PathBuf,
    },
    /// Read a staff PIN (4–8 digits) from standard input and print its argon2 hash for
    /// `admin.staff_pin_hash`.
    HashStaffPin,
    /// Print, as CSV, the loans made offline that the library system refused when they
    /// were sent (each is a book out without a loan: record it at the counter). Exit code
    /// 0, 1 if the queue cannot be read, 2 for a bad config file.
    OfflineReport {
        /// The configuration file (its `[security]` says where the journal key is kept).
        #[arg(long, short, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Add each loan's patron number (staff recording the loans at the counter need
        /// it; without this flag the report names no patron).
        #[arg(long)]
        with_patron: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run { config: DEFAULT_CONFIG.into(), headless: false }) {
        Command::Run { config, headless } => run(&config, headless),
        #[cfg(feature = "demo")]
        Command::Demo { bench_first_frame: true, .. } => first_frame(),
        #[cfg(feature = "demo")]
        Command::Demo { config: file, text, counter, headless, script, shots, .. } => {
            let config = match (&file, counter) {
                (Some(file), _) => match demo_config(file, counter) {
                    Ok(c) => c,
                    Err(code) => return code,
                },
                (None, true) => demo_counter_config(),
                (None, false) => config::Config::demo(),
            };
            match (headless, script, shots) {
                (true, Some(script), Some(shots)) => run_script(&config, &script, &shots),
                _ if counter && !has_display() => {
                    eprintln!(
                        "kiosk: the counter demo needs a display (a desktop session, with `cargo xtask demo -- \
                         --counter`), or play its script headlessly: kiosk demo --counter --headless \
                         --script kiosk/demo/counter.script --shots /tmp/counter-shots"
                    );
                    ExitCode::from(2)
                }
                _ => run_demo(&config, text),
            }
        }
        Command::CheckConfig { file } => check_config(&file),
        Command::Health { config } => health(&config),
        Command::Register { config } => register(&config),
        Command::HashStaffPin => hash_staff_pin(),
        Command::OfflineReport { config, with_patron } => offline_report(&config, with_patron),
    }
}

fn offline_report(path: &Path, with_patron: bool) -> ExitCode {
    let config = match config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kiosk: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = kiosk::orchestrator::state_dir().join("journal");
    let journal = match kiosk::journal::Journal::open_with(&dir, &config.security.sealer()) {
        Ok(j) => std::sync::Arc::new(j),
        Err(e) => {
            eprintln!("kiosk: {e}");
            return ExitCode::from(1);
        }
    };
    match kiosk::offline::OfflineQueue::open(journal) {
        Ok(queue) => {
            let offset = kiosk::clock::Clock::library().utc_offset_secs();
            let mut out = std::io::stdout().lock();
            match write!(out, "{}", kiosk::offline::report(&queue, offset, with_patron)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kiosk: could not write the report: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("kiosk: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(path: &Path, headless: bool) -> ExitCode {
    logging::init();
    match config::load(path) {
        Ok(config) if config.all_simulated() => {
            eprintln!(
                "kiosk: {}: every device and peer in this file is simulated, so there is nothing to \
                 run; configure the card reader, platform and library system (see \
                 deploy/kiosk.example.toml), or run the demo with `kiosk demo --config {}`",
                path.display(),
                path.display()
            );
            ExitCode::from(2)
        }
        Ok(config) => {
            let ui = if headless {
                kiosk::orchestrator::UiMode::Headless
            } else {
                kiosk::orchestrator::UiMode::Screen
            };
            tracing::info!(config = %config.summary(), "starting");
            match kiosk::orchestrator::run(&config, ui) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "the kiosk stopped");
                    eprintln!("kiosk: {e}");
                    ExitCode::from(3)
                }
            }
        }
        Err(e) => {
            tracing::error!(config = %path.display(), "the configuration file cannot be used");
            eprintln!("kiosk: {e}");
            if matches!(e, config::ConfigError::Io { .. }) {
                eprintln!("kiosk: to see the demo without a configuration file, run `kiosk demo`");
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "demo")]
/// A library's configuration with every device and peer simulated, for `kiosk demo
/// --config FILE`.
fn demo_config(file: &Path, counter: bool) -> Result<config::Config, ExitCode> {
    match config::load(file) {
        Ok(c) => Ok(c.simulated(counter.then(demo_keyboard_file).as_deref())),
        Err(e) => {
            eprintln!("kiosk: {e}");
            Err(ExitCode::from(2))
        }
    }
}

#[cfg(feature = "demo")]
/// A window can open (the `desktop` feature and a display).
fn has_display() -> bool {
    cfg!(feature = "desktop")
        && (std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some())
}

#[cfg(feature = "demo")]
/// The counter demo's configuration; method C types into `kiosk-demo/hidg0` in the
/// temporary directory (created empty here), decoded with `kiosk-keyboard` if you like.
fn demo_counter_config() -> config::Config {
    config::Config::demo_counter(&demo_keyboard_file())
}

#[cfg(feature = "demo")]
fn demo_keyboard_file() -> PathBuf {
    let dir = std::env::temp_dir().join("kiosk-demo");
    let file = dir.join("hidg0");
    let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, b""));
    file
}

#[cfg(feature = "demo")]
fn run_demo(config: &config::Config, text_only: bool) -> ExitCode {
    #[cfg(feature = "desktop")]
    if !text_only && has_display() {
        return match kiosk::demo::run_window(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kiosk: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let _ = text_only;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let pages = std::env::temp_dir().join("kiosk-demo");
    match demo::text::run(&mut out, config, &pages) {
        Ok(summary) if summary.ended_idle => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("kiosk: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "demo")]
fn run_script(config: &config::Config, script: &Path, shots: &Path) -> ExitCode {
    match demo::script::run(config, script, shots) {
        Ok(files) => {
            let mut out = std::io::stdout().lock();
            for f in files {
                let _ignored = writeln!(out, "{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kiosk: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "demo")]
/// The kiosk's first frame (the console's first scene, as the demo shows it), headless at
/// 1280x800; the process then stays as it is (frame kept) until standard input closes, so
/// the benchmark can read its memory. The demo's simulated devices are not started: they
/// make a test PKI (RSA keys) at start, which no kiosk on real devices does.
fn first_frame() -> ExitCode {
    let run = || -> Result<(), String> {
        let ui = kiosk_ui::headless::Headless::new(1280, 800).map_err(|e| e.to_string())?;
        let console = kiosk_core::console::Console::new(config::Config::demo().console_settings());
        let mut scene = console.scene();
        scene.demo_mode = true;
        let _frame = ui.render(&scene).map_err(|e| e.to_string())?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "first-frame").and_then(|()| out.flush()).map_err(|e| e.to_string())?;
        std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink()).map_err(|e| e.to_string())?;
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk: {e}");
            ExitCode::FAILURE
        }
    }
}

fn health(path: &Path) -> ExitCode {
    let config = match config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kiosk: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines = rt.block_on(kiosk::orchestrator::drivers::health(&config));
    let mut out = std::io::stdout().lock();
    let mut all_ok = true;
    for l in &lines {
        let (mark, text) = match &l.result {
            Ok(t) => ("ok  ", t),
            Err(t) if !l.required => ("warn", t),
            Err(t) => {
                all_ok = false;
                ("FAIL", t)
            }
        };
        let _ = writeln!(out, "{mark} {}: {text}", l.what);
    }
    if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn register(path: &Path) -> ExitCode {
    use kiosk::orchestrator::registration;
    logging::init();
    let config = match config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let view = registration::view(&config);
    let mut out = std::io::stdout().lock();
    if !view.id.is_empty() {
        let _ = writeln!(out, "terminal ID: {}\nfingerprint: {}", view.id, view.fingerprint);
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kiosk: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(registration::register(&config)) {
        Ok(()) => {
            let _ = writeln!(out, "{}", registration::state(&config, std::time::SystemTime::now()));
            ExitCode::SUCCESS
        }
        Err(e @ registration::RegisterError::NotApi { .. }) => {
            let _ = writeln!(out, "{e}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kiosk: registration failed: {e}\n{}", e.advice());
            ExitCode::FAILURE
        }
    }
}

fn check_config(path: &Path) -> ExitCode {
    match config::load(path) {
        Ok(config) => {
            let mut out = std::io::stdout().lock();
            let _ignored = writeln!(out, "{}: OK ({})", path.display(), config.summary());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn hash_staff_pin() -> ExitCode {
    let mut line = zeroize::Zeroizing::new(String::new());
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("kiosk: could not read the PIN from standard input: {e}");
        return ExitCode::from(2);
    }
    match config::hash_staff_pin(line.trim().as_bytes()) {
        Ok(hash) => {
            let mut out = std::io::stdout().lock();
            let _ignored = writeln!(out, "{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kiosk: {e}");
            ExitCode::from(2)
        }
    }
}
