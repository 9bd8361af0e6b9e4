//! One cycle of the update agent, and the loop around it.
//!
//! poll → (configData) → deploymentBase → wait for idle / maintenance window → download
//! (resume, hash) → vet with RAUC (signature, `compatible`, no downgrade) → install over
//! D-Bus → record the pending install → reboot when idle. The server hears `proceeding`
//! now and `closed` only after the new slot passed the health check at boot
//! ([`crate::gate`]), so "installed but does not boot" is reported as a failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::AgentConfig;
use crate::ddi::{Ddi, DdiError, Deployment, Execution, Finished, Handling};
use crate::download::{self, DownloadError};
use crate::policy::{self, Defer};
use crate::rauc::Rauc;
use crate::status::{self, Phase, Status};
use crate::version::Version;

/// Longest an install may take before the agent gives up waiting.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What a cycle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to install.
    UpToDate,
    /// An update waits (why).
    Deferred(Defer),
    /// Downloaded only (the server said `update: skip`).
    Downloaded,
    /// Installed into the other slot; waiting for a reboot at idle.
    WaitingForReboot,
    /// Installed and the reboot command was run.
    Rebooting,
    /// The update failed; the server was told (unless it is unreachable). The message.
    Failed(String),
}

/// The install that waits for the reboot and the health check, kept on the data
/// partition across the reboot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The server's action id.
    pub action_id: String,
    /// The installed version.
    pub version: String,
    /// The slot (bootname) that was booted when the install ran: the fallback.
    pub from_slot: String,
}

impl Pending {
    fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("pending.json")
    }

    /// Reads the record, if there is one.
    pub fn read(state_dir: &Path) -> Option<Pending> {
        let bytes = std::fs::read(Self::path(state_dir)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes the record (atomically).
    pub fn write(&self, state_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(state_dir)?;
        let tmp = state_dir.join("pending.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(tmp, Self::path(state_dir))
    }

    /// Removes the record.
    pub fn clear(state_dir: &Path) {
        let _ = std::fs::remove_file(Self::path(state_dir));
    }
}

/// The agent.
#[derive(Debug)]
pub struct Agent {
    cfg: AgentConfig,
    ddi: Ddi,
}

impl Agent {
    /// An agent for `cfg`.
    pub fn new(cfg: AgentConfig) -> Result<Self, DdiError> {
        let ddi = Ddi::new(&cfg)?;
        Ok(Agent { cfg, ddi })
    }

    /// The DDI client.
    pub fn ddi(&self) -> &Ddi {
        &self.ddi
    }

    fn set_status(&self, phase: Phase, version: Option<&str>) {
        let s = Status::now(phase, version.map(str::to_owned));
        if let Err(e) = status::write(&self.cfg.paths.status_file, &s) {
            tracing::warn!(error = %e, "cannot write the status file");
        }
    }

    fn defer_reason(&self, server_window: Option<&str>) -> Option<Defer> {
        let p = &self.cfg.policy;
        policy::may_act(
            &p.busy_file,
            self.cfg.window(),
            policy::local_minute_now(p.utc_offset_minutes),
            server_window,
        )
    }

    async fn feedback(&self, action: &str, execution: Execution, finished: Finished, detail: &str) {
        if let Err(e) = self.ddi.feedback(action, execution, finished, &[detail.to_owned()]).await {
            tracing::warn!(error = %e, action, "feedback not delivered");
        }
    }

    async fn fail(&self, d: &Deployment, message: String) -> Outcome {
        tracing::error!(version = %d.version, error = %message, "update failed");
        self.set_status(Phase::Failed { error: message.clone() }, Some(&d.version));
        self.feedback(&d.action_id, Execution::Closed, Finished::Failure, &message).await;
        Outcome::Failed(message)
    }

    /// Runs the reboot command if the kiosk is idle (and in the window).
    pub fn reboot_if_idle(&self) -> Result<Outcome, String> {
        if let Some(why) = self.defer_reason(None) {
            return Ok(Outcome::Deferred(why));
        }
        let cmd = &self.cfg.policy.reboot_command;
        let (prog, args) = cmd.split_first().ok_or("empty reboot command")?;
        tracing::info!(command = ?cmd, "rebooting into the new slot");
        let status = std::process::Command::new(prog)
            .args(args)
            .status()
            .map_err(|e| format!("cannot run {prog}: {e}"))?;
        if status.success() { Ok(Outcome::Rebooting) } else { Err(format!("{prog} failed: {status}")) }
    }

    /// One poll cycle. Returns what happened and when to poll next. `Err` only when the
    /// server cannot be reached or answers nonsense (nothing was changed on the kiosk).
    pub async fn cycle(&self) -> Result<(Outcome, Duration), String> {
        let state_dir = &self.cfg.paths.state_dir;
        if let Some(p) = Pending::read(state_dir) {
            // Installed, not yet rebooted: only the reboot is left to do.
            self.set_status(Phase::WaitingForReboot, Some(&p.version));
            return Ok((self.reboot_if_idle()?, Duration::from_secs(30)));
        }
        let poll = self.ddi.poll().await.map_err(|e| e.to_string())?;
        let running = self.cfg.running_version()?;
        if let Some(url) = &poll.config_data {
            let attrs = json!({
                "hw_boardname": self.cfg.device.compatible,
                "hw_revision": "default",
                "sw_version": running.as_str(),
            });
            self.ddi.put_config_data(url, attrs).await.map_err(|e| e.to_string())?;
        }
        let Some(url) = &poll.deployment else {
            self.set_status(Phase::Idle, None);
            return Ok((Outcome::UpToDate, poll.sleep));
        };
        let d = self.ddi.deployment(url).await.map_err(|e| e.to_string())?;
        Ok((self.deploy(&d, &running).await, poll.sleep))
    }

    async fn deploy(&self, d: &Deployment, running: &Version) -> Outcome {
        if d.download == Handling::Skip {
            return Outcome::UpToDate;
        }
        if let Some(why) = self.defer_reason(d.maintenance_window.as_deref()) {
            tracing::info!(version = %d.version, reason = why.reason(), "update deferred");
            self.set_status(Phase::Deferred { reason: why.reason().into() }, Some(&d.version));
            return Outcome::Deferred(why);
        }
        self.feedback(&d.action_id, Execution::Download, Finished::None, "downloading").await;
        let mut last_percent = u8::MAX;
        let fetched = download::fetch(
            &self.ddi,
            &d.artifact,
            &self.cfg.paths.download_dir,
            self.cfg.policy.download_attempts,
            |have, total| {
                let percent = u8::try_from(have.saturating_mul(100) / total.max(1)).unwrap_or(100);
                if percent != last_percent && percent % 5 == 0 {
                    last_percent = percent;
                    self.set_status(Phase::Downloading { percent }, Some(&d.version));
                }
            },
        )
        .await;
        let bundle = match fetched {
            Ok(p) => p,
            Err(e @ DownloadError::GaveUp { .. }) => {
                // Server or network down: keep the partial file, resume at the next poll;
                // the action stays open on the server.
                let message = format!("{e}; resuming at the next poll");
                self.set_status(Phase::Failed { error: message.clone() }, Some(&d.version));
                return Outcome::Failed(message);
            }
            Err(e) => return self.fail(d, e.to_string()).await,
        };
        self.feedback(&d.action_id, Execution::Downloaded, Finished::None, "downloaded, hash checked").await;
        if d.update == Handling::Skip {
            return Outcome::Downloaded;
        }
        let outcome = self.install(d, &bundle, running).await;
        if !matches!(outcome, Outcome::Deferred(_)) {
            let _ = std::fs::remove_file(&bundle);
        }
        outcome
    }

    async fn install(&self, d: &Deployment, bundle: &Path, running: &Version) -> Outcome {
        let rauc = match Rauc::connect(self.cfg.rauc.bus_address.as_deref()).await {
            Ok(r) => r,
            Err(e) => return self.fail(d, e.to_string()).await,
        };
        let bundle_str = bundle.to_string_lossy();
        if let Err(message) = vet(&rauc, &bundle_str, &self.cfg.device.compatible, running).await {
            return self.fail(d, message).await;
        }
        // A session may have started during the download.
        if let Some(why) = self.defer_reason(d.maintenance_window.as_deref()) {
            self.set_status(Phase::Deferred { reason: why.reason().into() }, Some(&d.version));
            return Outcome::Deferred(why);
        }
        let from_slot = match rauc.boot_slot().await {
            Ok(s) => s,
            Err(e) => return self.fail(d, e.to_string()).await,
        };
        self.feedback(&d.action_id, Execution::Proceeding, Finished::None, "installing").await;
        let installed = rauc
            .install(&bundle_str, INSTALL_TIMEOUT, |percent, step| {
                self.set_status(Phase::Installing { percent, step: step.to_owned() }, Some(&d.version));
            })
            .await;
        if let Err(e) = installed {
            return self.fail(d, format!("RAUC: {e}")).await;
        }
        let pending = Pending { action_id: d.action_id.clone(), version: d.version.clone(), from_slot };
        if let Err(e) = pending.write(&self.cfg.paths.state_dir) {
            // Without the record the health gate cannot report; say so, the slot is written.
            tracing::error!(error = %e, "cannot record the pending install");
        }
        self.set_status(Phase::WaitingForReboot, Some(&d.version));
        let detail = "installed into the other slot; rebooting when idle, then the health check decides";
        self.feedback(&d.action_id, Execution::Proceeding, Finished::None, detail).await;
        match self.reboot_if_idle() {
            Ok(o @ Outcome::Rebooting) => o,
            Ok(_) => Outcome::WaitingForReboot,
            Err(e) => {
                tracing::error!(error = %e, "reboot failed");
                Outcome::WaitingForReboot
            }
        }
    }

    /// Polls forever, sleeping what the server asks between cycles.
    pub async fn run(&self) {
        loop {
            let sleep = match self.cycle().await {
                Ok((outcome, sleep)) => {
                    tracing::info!(?outcome, "update cycle");
                    sleep
                }
                Err(e) => {
                    tracing::warn!(error = %e, "update server not reachable");
                    Duration::from_secs(60)
                }
            };
            tokio::time::sleep(sleep.clamp(Duration::from_secs(1), Duration::from_secs(24 * 3600))).await;
        }
    }
}

/// Refuses a bundle RAUC cannot verify, one for other hardware, and one older than what
/// runs (anti-downgrade; RAUC ≥ 1.12 also enforces `min-bundle-version`).
pub async fn vet(rauc: &Rauc, bundle: &str, compatible: &str, running: &Version) -> Result<Version, String> {
    let (bundle_compatible, bundle_version) =
        rauc.info(bundle).await.map_err(|e| format!("RAUC refused the bundle: {e}"))?;
    if bundle_compatible != compatible {
        return Err(format!("the bundle is for {bundle_compatible:?}, this kiosk is {compatible:?}"));
    }
    let v = Version::parse(&bundle_version).map_err(|e| e.to_string())?;
    if v.is_older_than(running) {
        return Err(format!("refused a downgrade: the bundle is {v}, this kiosk runs {running}"));
    }
    Ok(v)
}
