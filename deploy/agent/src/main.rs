//! `kiosk-update`: the kiosk's update agent (hawkBit DDI + RAUC over D-Bus).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiosk_update::agent::Agent;
use kiosk_update::{AgentConfig, gate, status};

const DEFAULT_CONFIG: &str = "/etc/kiosk/update.toml";

#[derive(Debug, Parser)]
#[command(name = "kiosk-update", version, about = "Update agent of the kiosk (hawkBit DDI + RAUC)")]
struct Cli {
    /// The agent's configuration file.
    #[arg(long, short, global = true, default_value = DEFAULT_CONFIG)]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Poll the server forever and install updates when the kiosk is idle.
    Run,
    /// One poll cycle (for tests and for IT at the console).
    Once,
    /// The boot health gate: run the health command, mark the slot good, or roll back.
    Gate {
        /// The health command and its arguments (after `--`).
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Print the status the admin screen shows.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cfg = match AgentConfig::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kiosk-update: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kiosk-update: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        match cli.command {
            Command::Status => match status::read(&cfg.paths.status_file) {
                Ok(s) => {
                    eprintln!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kiosk-update: no status yet ({}): {e}", cfg.paths.status_file.display());
                    ExitCode::FAILURE
                }
            },
            Command::Gate { command } => match gate::run(&cfg, &command).await {
                Ok(o) => {
                    eprintln!("kiosk-update: gate: {o:?}");
                    if o.is_healthy() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
                }
                Err(e) => {
                    eprintln!("kiosk-update: gate: {e}");
                    ExitCode::FAILURE
                }
            },
            Command::Run | Command::Once => {
                let agent = match Agent::new(cfg) {
                    Ok(a) => a,
                    Err(e) => {
                        eprintln!("kiosk-update: {e}");
                        return ExitCode::from(2);
                    }
                };
                if matches!(cli.command, Command::Run) {
                    agent.run().await;
                    return ExitCode::SUCCESS;
                }
                match agent.cycle().await {
                    Ok((kiosk_update::agent::Outcome::Failed(e), _)) => {
                        eprintln!("kiosk-update: update failed: {e}");
                        ExitCode::FAILURE
                    }
                    Ok((o, _)) => {
                        eprintln!("kiosk-update: {o:?}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("kiosk-update: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
        }
    })
}
