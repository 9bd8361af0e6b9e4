//! The `kiosk` command: runs the kiosk, checks a config file, hashes a staff PIN.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiosk::{config, demo, logging};

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
    /// Run the kiosk. Without a config file (or with --demo) it runs the demo on simulated
    /// hardware.
    Run {
        /// The configuration file.
        #[arg(long, short, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Use simulated hardware even if a config file exists.
        #[arg(long)]
        demo: bool,
    },
    /// Run the scripted demo journey on simulated hardware and print what the flow does.
    Demo,
    /// Check a configuration file and print every problem at once (exit code 2 if any).
    CheckConfig {
        /// The configuration file to check.
        file: PathBuf,
    },
    /// Read a staff PIN (4–8 digits) from standard input and print its argon2 hash for
    /// `admin.staff_pin_hash`.
    HashStaffPin,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run { config: DEFAULT_CONFIG.into(), demo: false }) {
        Command::Run { config, demo } => run(&config, demo),
        Command::Demo => run_demo(&config::Config::demo()),
        Command::CheckConfig { file } => check_config(&file),
        Command::HashStaffPin => hash_staff_pin(),
    }
}

fn run(path: &Path, force_demo: bool) -> ExitCode {
    logging::init();
    if force_demo || !path.exists() {
        if !force_demo {
            tracing::info!(config = %path.display(), "no configuration file: running the demo on simulated hardware");
        }
        return run_demo(&config::Config::demo());
    }
    match config::load(path) {
        // No hardware configured: the demo, with this library's policy.
        Ok(config) if config.all_simulated() => run_demo(&config),
        Ok(_config) => {
            eprintln!(
                "kiosk: {} configures real hardware, but this build has no hardware orchestrator yet; \
                 run `kiosk demo` to see the flow on simulated hardware",
                path.display()
            );
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn run_demo(config: &config::Config) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let pages = std::env::temp_dir().join("kiosk-demo");
    match demo::run(&mut out, config, &pages) {
        Ok(summary) if summary.ended_idle => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("kiosk: writing the demo output failed: {e}");
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
