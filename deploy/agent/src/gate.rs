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

use crate::agent::{Agent, Pending};
use crate::config::AgentConfig;
use crate::ddi::{Execution, Finished};
use crate::rauc::Rauc;
use crate::status::{self, Phase, Status};

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
pub async fn run(cfg: &AgentConfig, command: &[String]) -> Result<GateOutcome, String> {
    let rauc = Rauc::connect(cfg.rauc.bus_address.as_deref()).await.map_err(|e| e.to_string())?;
    let booted = rauc.boot_slot().await.map_err(|e| e.to_string())?;
    let pending = Pending::read(&cfg.paths.state_dir);
    let healthy = check_passes(cfg, command).await;
    let agent = Agent::new(cfg.clone()).map_err(|e| e.to_string())?;
    let state_dir = &cfg.paths.state_dir;
    let set_status = |phase: Phase, version: Option<&str>| {
        let _ = status::write(&cfg.paths.status_file, &Status::now(phase, version.map(str::to_owned)));
    };
    let report = |p: &Pending, finished: Finished, detail: String| {
        let agent = &agent;
        let p = p.clone();
        async move {
            if let Err(e) = agent.ddi().feedback(&p.action_id, Execution::Closed, finished, &[detail]).await {
                tracing::warn!(error = %e, "could not report the update's outcome to the server");
            }
        }
    };
    let outcome = match (healthy, pending) {
        (true, None) => {
            rauc.mark("good", "booted").await.map_err(|e| e.to_string())?;
            GateOutcome::Healthy
        }
        (healthy, Some(p)) if p.from_slot == booted => {
            // The new slot never passed: U-Boot fell back, or we marked it bad.
            if healthy {
                rauc.mark("good", "booted").await.map_err(|e| e.to_string())?;
            }
            let detail =
                format!("rolled back to slot {booted}: version {} did not pass the health check", p.version);
            set_status(Phase::Failed { error: detail.clone() }, Some(&p.version));
            report(&p, Finished::Failure, detail).await;
            Pending::clear(state_dir);
            if healthy { GateOutcome::RolledBack(p.version) } else { GateOutcome::Unhealthy }
        }
        (true, Some(p)) => {
            rauc.mark("good", "booted").await.map_err(|e| e.to_string())?;
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
            rauc.mark("bad", "booted").await.map_err(|e| e.to_string())?;
            let detail =
                format!("version {} failed the health check on slot {booted}; rolling back", p.version);
            set_status(Phase::Failed { error: detail }, Some(&p.version));
            let cmd = &cfg.policy.reboot_command;
            if let Some((prog, args)) = cmd.split_first() {
                let _ = std::process::Command::new(prog).args(args).status();
            }
            GateOutcome::RollingBack(p.version)
        }
        (false, None) => GateOutcome::Unhealthy,
    };
    tracing::info!(?outcome, booted, "health gate");
    Ok(outcome)
}
