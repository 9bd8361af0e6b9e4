//! The boot-time health gate (`kiosk-health.service`, before `boot-complete.target`).
//!
//! Runs the health command (`kiosk health`) up to `policy.health_attempts` times, then:
//!
//! | health | pending install | booted slot | action |
//! |---|---|---|---|
//! | pass | none | any | mark booted good |
//! | pass | yes | the new one | mark good, report success, clear the record |
//! | fail | yes | the new one | mark booted bad, reboot: U-Boot boots the old slot |
//! | any | yes | the old one (fallback) | report failure ("rolled back"), clear; mark good if healthy |
//! | fail | none | any | nothing marked (it is the only good slot); exit non-zero |

use std::time::Duration;

use crate::agent::{Agent, Pending, run_reboot};
use crate::config::AgentConfig;
use crate::ddi::{DdiError, Execution, Finished};
use crate::rauc::{Rauc, RaucError};
use crate::status::{self, Phase, Status};

/// Why the gate could not decide (nothing was marked; systemd sees the unit fail).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// No health command after `--`.
    #[error("no health command given after `--` (kiosk-health.service runs `kiosk health`)")]
    NoCommand,
    /// RAUC cannot be asked or told.
    #[error(transparent)]
    Rauc(#[from] RaucError),
    /// The server client cannot be set up (token or CA file).
    #[error(transparent)]
    Server(#[from] DdiError),
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateOutcome {
    /// Healthy, no update involved; slot marked good.
    Healthy,
    /// The new version booted and passed; slot marked good, server told.
    UpdateConfirmed(String),
    /// The new version failed the health check; slot marked bad, reboot run.
    RollingBack(String),
    /// Booted the old slot after an update: server told the update failed.
    RolledBack(String),
    /// Unhealthy without a pending update: nothing marked.
    Unhealthy,
}

impl GateOutcome {
    /// Whether `boot-complete.target` may be reached.
    pub fn is_healthy(&self) -> bool {
        matches!(self, GateOutcome::Healthy | GateOutcome::UpdateConfirmed(_) | GateOutcome::RolledBack(_))
    }
}

async fn check_passes(cfg: &AgentConfig, command: &[String]) -> bool {
    let Some((prog, args)) = command.split_first() else { return false };
    let attempts = cfg.policy.health_attempts.max(1);
    for attempt in 1..=attempts {
        match std::process::Command::new(prog).args(args).status() {
            Ok(s) if s.success() => return true,
            Ok(s) => tracing::warn!(attempt, attempts, status = %s, "health check failed"),
            Err(e) => tracing::warn!(attempt, attempts, error = %e, "health check could not run"),
        }
        if attempt < attempts {
            tokio::time::sleep(Duration::from_secs(cfg.policy.health_interval_secs)).await;
        }
    }
    false
}

/// Runs the gate with `command` as the health check.
pub async fn run(cfg: &AgentConfig, command: &[String]) -> Result<GateOutcome, GateError> {
    if command.is_empty() {
        return Err(GateError::NoCommand);
    }
    let rauc = Rauc::connect(cfg.rauc.bus_address.as_deref()).await?;
    let booted = rauc.boot_slot().await?;
    let pending = Pending::read(&cfg.paths.state_dir);
    let agent = Agent::new(cfg.clone())?;
    let healthy = check_passes(cfg, command).await;
    let state_dir = &cfg.paths.state_dir;
    let set_status = |phase: Phase, version: Option<&str>| {
        let _ = status::write(&cfg.paths.status_file, &Status::now(phase, version.map(str::to_owned)));
    };
    let report = |p: &Pending, finished: Finished, detail: String| {
        let agent = &agent;
        let p = p.clone();
        async move {
            agent.feedback(&p.action_id, Execution::Closed, finished, &detail).await;
        }
    };
    let outcome = match (healthy, pending) {
        (true, None) => {
            rauc.mark("good", "booted").await?;
            GateOutcome::Healthy
        }
        (healthy, Some(p)) if p.from_slot == booted => {
            // The new slot never passed: U-Boot fell back, or we marked it bad.
            if healthy {
                rauc.mark("good", "booted").await?;
            }
            let detail =
                format!("rolled back to slot {booted}: version {} did not pass the health check", p.version);
            set_status(Phase::Failed { error: detail.clone() }, Some(&p.version));
            report(&p, Finished::Failure, detail).await;
            Pending::clear(state_dir);
            if healthy { GateOutcome::RolledBack(p.version) } else { GateOutcome::Unhealthy }
        }
        (true, Some(p)) => {
            rauc.mark("good", "booted").await?;
            report(
                &p,
                Finished::Success,
                format!("version {} running on slot {booted}, health check passed", p.version),
            )
            .await;
            Pending::clear(state_dir);
            set_status(Phase::Idle, Some(&p.version));
            GateOutcome::UpdateConfirmed(p.version)
        }
        (false, Some(p)) => {
            rauc.mark("bad", "booted").await?;
            let detail =
                format!("version {} failed the health check on slot {booted}; rolling back", p.version);
            set_status(Phase::Failed { error: detail }, Some(&p.version));
            if let Err(e) = run_reboot(&cfg.policy.reboot_command) {
                // The slot is marked bad: whenever the kiosk restarts, U-Boot boots the old one.
                tracing::error!(error = %e, "cannot reboot into the old slot");
            }
            GateOutcome::RollingBack(p.version)
        }
        (false, None) => GateOutcome::Unhealthy,
    };
    tracing::info!(?outcome, booted, "health gate");
    Ok(outcome)
}
