//! One cycle of the update agent, and the loop around it.
//!
//! poll → (configData) → deploymentBase → wait for idle / maintenance window → download
//! (resume, hash) → vet with RAUC (signature, `compatible`, no downgrade) → install over
//! D-Bus → record the pending install → reboot when idle. The server hears `proceeding`
//! now and `closed` only after the new slot passed the health check at boot
//! ([`crate::gate`]), so "installed but does not boot" is reported as a failure.
//!
//! The deployment comes from a [`Source`]: a hawkBit server (DDI) or, at a small site, a
//! plain HTTPS manifest ([`crate::manifest`]); everything after the deployment is the same,
//! except that a manifest has no server to report to (feedback is logged).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{self, AgentConfig, ReleaseError};
use crate::ddi::{Ddi, DdiError, Deployment, Execution, Finished, Handling};
use crate::download::{self, DownloadError};
use crate::manifest::{ManifestClient, ManifestError};
use crate::policy::{self, Defer};
use crate::rauc::{Rauc, RaucError};
use crate::request::{self, Request};
use crate::status::{self, Phase, Status};
use crate::version::{BadVersion, Version};

/// Longest an install may take before the agent gives up waiting.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What a cycle did.
#[derive(Debug)]
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
    /// Rebooted since the install: the health gate (kiosk-health.service) decides and
    /// reports; the agent does not poll until it has.
    WaitingForHealthCheck,
    /// The update failed and the old version keeps running. The server was told, except
    /// for an interrupted download ([`DownloadError::GaveUp`]) or install
    /// ([`RaucError::ServiceLost`]), which the next poll takes up again with the action
    /// still open.
    Failed(UpdateError),
}

/// Why an update failed; the running slot is untouched.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// Downloading or checking the download.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The bundle was refused before the install.
    #[error(transparent)]
    Vet(#[from] VetError),
    /// RAUC (unreachable, or the install failed).
    #[error(transparent)]
    Rauc(#[from] RaucError),
}

/// Why a bundle is refused before it is installed.
#[derive(Debug, thiserror::Error)]
pub enum VetError {
    /// RAUC cannot verify it (signature, format, not a bundle) or is unreachable.
    #[error(transparent)]
    Rauc(#[from] RaucError),
    /// Built for other hardware.
    #[error(
        "the bundle is for {bundle:?} but this kiosk is {kiosk:?}; assign the bundle built for {kiosk:?}"
    )]
    WrongCompatible {
        /// The bundle's `compatible`.
        bundle: String,
        /// This kiosk's.
        kiosk: String,
    },
    /// Older than what runs.
    #[error(
        "refused a downgrade: the bundle is {bundle}, this kiosk runs {running}; to go back, \
         build the old software again with a newer version number"
    )]
    Downgrade {
        /// The bundle's version.
        bundle: String,
        /// The running version.
        running: String,
    },
    /// The bundle's version is not a release version.
    #[error("the bundle's version: {0}")]
    BadVersion(#[from] BadVersion),
}

/// Why a cycle stopped before it could change anything on the kiosk.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The server is unreachable or answers nonsense.
    #[error(transparent)]
    Server(#[from] DdiError),
    /// The update manifest is unreachable, invalid or for other hardware.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The running version is unknown.
    #[error(transparent)]
    RunningVersion(#[from] ReleaseError),
    /// The reboot into an installed update failed.
    #[error(transparent)]
    Reboot(#[from] RebootError),
    /// RAUC cannot say which slot runs (with an install pending).
    #[error(transparent)]
    Rauc(#[from] RaucError),
}

/// The reboot command failed.
#[derive(Debug, thiserror::Error)]
pub enum RebootError {
    /// `policy.reboot_command` is empty.
    #[error("policy.reboot_command is empty; set it (e.g. [\"systemctl\", \"reboot\"])")]
    NoCommand,
    /// It could not be started.
    #[error("cannot run the reboot command {program}: {source}; check policy.reboot_command")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// It ran and failed.
    #[error("the reboot command {program} failed ({status}); restart the kiosk by hand when it is idle")]
    Failed {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
    },
}

/// Runs `command` (program and arguments) and waits for it.
pub fn run_reboot(command: &[String]) -> Result<(), RebootError> {
    let (prog, args) = command.split_first().ok_or(RebootError::NoCommand)?;
    let status = std::process::Command::new(prog)
        .args(args)
        .status()
        .map_err(|source| RebootError::Spawn { program: prog.clone(), source })?;
    if status.success() {
        Ok(())
    } else {
        Err(RebootError::Failed { program: prog.clone(), status: status.to_string() })
    }
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

/// Where deployments come from.
#[derive(Debug)]
pub enum Source {
    /// A hawkBit (DDI) server: deployments, feedback.
    HawkBit(Ddi),
    /// A plain HTTPS manifest: a newer version is a deployment; no feedback.
    Manifest(ManifestClient),
}

impl download::Source for Source {
    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        match self {
            Source::HawkBit(ddi) => ddi.get(url),
            Source::Manifest(m) => m.get(url),
        }
    }
}

/// The agent.
#[derive(Debug)]
pub struct Agent {
    cfg: AgentConfig,
    source: Source,
    /// Staff asked to install outside the maintenance window ([`Request::Install`]),
    /// until the next install finishes.
    staff_consent: AtomicBool,
}

impl Agent {
    /// An agent for `cfg`.
    pub fn new(cfg: AgentConfig) -> Result<Self, DdiError> {
        let source = match cfg.source() {
            Some(config::Source::HawkBit(server)) => Source::HawkBit(Ddi::new(&cfg, server)?),
            Some(config::Source::Manifest(m)) => Source::Manifest(ManifestClient::new(&cfg, m)?),
            None => {
                return Err(DdiError::Client(
                    "the configuration needs exactly one of [server] (hawkBit) and [manifest]".into(),
                ));
            }
        };
        Ok(Agent { cfg, source, staff_consent: AtomicBool::new(false) })
    }

    /// The DDI client, when the source is a hawkBit server.
    pub fn ddi(&self) -> Option<&Ddi> {
        match &self.source {
            Source::HawkBit(ddi) => Some(ddi),
            Source::Manifest(_) => None,
        }
    }

    /// Where deployments come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    fn set_status(&self, phase: Phase, version: Option<&str>) {
        let s = Status::now(phase, version.map(str::to_owned));
        if let Err(e) = status::write(&self.cfg.paths.status_file, &s) {
            tracing::warn!(error = %e, "cannot write the status file");
        }
    }

    fn defer_reason(&self, server_window: Option<&str>) -> Option<Defer> {
        let p = &self.cfg.policy;
        let window = if self.staff_consent.load(Ordering::Relaxed) { None } else { self.cfg.window() };
        policy::may_act(&p.busy_file, window, policy::local_minute_now(p.utc_offset_minutes), server_window)
    }

    /// Tells the server about action `action`; with a manifest source, logs it instead.
    pub async fn feedback(&self, action: &str, execution: Execution, finished: Finished, detail: &str) {
        match &self.source {
            Source::HawkBit(ddi) => {
                if let Err(e) = ddi.feedback(action, execution, finished, &[detail.to_owned()]).await {
                    tracing::warn!(error = %e, action, "feedback not delivered");
                }
            }
            Source::Manifest(_) => {
                tracing::info!(
                    action,
                    ?execution,
                    ?finished,
                    detail,
                    "update progress (no server to report to)"
                );
            }
        }
    }

    async fn fail(&self, d: &Deployment, error: impl Into<UpdateError>) -> Outcome {
        let error = error.into();
        let message = error.to_string();
        tracing::error!(version = %d.version, error = %message, "update failed");
        self.set_status(Phase::Failed { error: message.clone() }, Some(&d.version));
        self.feedback(&d.action_id, Execution::Closed, Finished::Failure, &message).await;
        Outcome::Failed(error)
    }

    /// Runs the reboot command if the kiosk is idle (and in the window).
    pub fn reboot_if_idle(&self) -> Result<Outcome, RebootError> {
        if let Some(why) = self.defer_reason(None) {
            return Ok(Outcome::Deferred(why));
        }
        let cmd = &self.cfg.policy.reboot_command;
        tracing::info!(command = ?cmd, "rebooting into the new slot");
        run_reboot(cmd)?;
        Ok(Outcome::Rebooting)
    }

    /// An install is recorded. Reboot only while the next boot goes into the new slot and
    /// this boot is still the old one; after the reboot (into the new slot, or back to the
    /// old one after a fallback) the health gate owns the record and reports the outcome.
    async fn pending(&self, p: &Pending) -> Result<Outcome, CycleError> {
        let rauc = Rauc::connect(self.cfg.rauc.bus_address.as_deref()).await?;
        let booted = rauc.boot_slot().await?;
        let primary = rauc.primary().await?;
        let primary_bootname = rauc
            .slot_status()
            .await?
            .into_iter()
            .find(|(name, _)| *name == primary)
            .and_then(|(_, status)| status.get("bootname").cloned());
        if booted != p.from_slot || primary_bootname.as_deref() == Some(booted.as_str()) {
            tracing::info!(booted, primary, "rebooted since the install; the health gate reports it");
            return Ok(Outcome::WaitingForHealthCheck);
        }
        self.set_status(Phase::WaitingForReboot, Some(&p.version));
        Ok(self.reboot_if_idle()?)
    }

    /// One poll cycle. Returns what happened and when to poll next. `Err` only when the
    /// server cannot be reached or answers nonsense (nothing was changed on the kiosk).
    pub async fn cycle(&self) -> Result<(Outcome, Duration), CycleError> {
        let state_dir = &self.cfg.paths.state_dir;
        if let Some(p) = Pending::read(state_dir) {
            return Ok((self.pending(&p).await?, Duration::from_secs(30)));
        }
        match &self.source {
            Source::HawkBit(ddi) => self.hawkbit_cycle(ddi).await,
            Source::Manifest(m) => self.manifest_cycle(m).await,
        }
    }

    async fn hawkbit_cycle(&self, ddi: &Ddi) -> Result<(Outcome, Duration), CycleError> {
        let poll = ddi.poll().await?;
        let running = self.cfg.running_version()?;
        if let Some(url) = &poll.config_data {
            let attrs = json!({
                "hw_boardname": self.cfg.device.compatible,
                "hw_revision": "default",
                "sw_version": running.as_str(),
            });
            ddi.put_config_data(url, attrs).await?;
        }
        let Some(url) = &poll.deployment else {
            self.set_status(Phase::Idle, None);
            return Ok((Outcome::UpToDate, poll.sleep));
        };
        let d = ddi.deployment(url).await?;
        Ok((self.deploy(&d, &running).await, poll.sleep))
    }

    /// A manifest offering a newer version for this hardware becomes a deployment. A
    /// manifest that cannot be used is shown on the admin screen (except an unreachable
    /// server, which is retried quietly, as with hawkBit).
    async fn manifest_cycle(&self, m: &ManifestClient) -> Result<(Outcome, Duration), CycleError> {
        let running = self.cfg.running_version()?;
        let checked = m.fetch().await.and_then(|release| {
            if release.compatible == self.cfg.device.compatible {
                Ok(release)
            } else {
                Err(ManifestError::WrongCompatible {
                    url: self.cfg.manifest.as_ref().map(|c| c.url.clone()).unwrap_or_default(),
                    manifest: release.compatible,
                    kiosk: self.cfg.device.compatible.clone(),
                })
            }
        });
        let release = match checked {
            Ok(r) => r,
            Err(e) => {
                if !matches!(e, ManifestError::Unreachable { .. }) {
                    tracing::error!(error = %e, "update manifest not usable");
                    self.set_status(Phase::Failed { error: e.to_string() }, None);
                }
                return Err(e.into());
            }
        };
        if !running.is_older_than(&release.version) {
            if release.version.is_older_than(&running) {
                tracing::info!(offered = %release.version, %running, "the manifest offers an older version; no downgrade");
            }
            self.set_status(Phase::Idle, None);
            return Ok((Outcome::UpToDate, m.poll_interval()));
        }
        tracing::info!(offered = %release.version, %running, "the manifest offers a newer version");
        Ok((self.deploy(&release.deployment(), &running).await, m.poll_interval()))
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
            &self.source,
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
                tracing::warn!(version = %d.version, error = %e, "download interrupted");
                self.set_status(Phase::Failed { error: e.to_string() }, Some(&d.version));
                return Outcome::Failed(e.into());
            }
            Err(e) => return self.fail(d, e).await,
        };
        self.feedback(&d.action_id, Execution::Downloaded, Finished::None, "downloaded, hash checked").await;
        if d.update == Handling::Skip {
            return Outcome::Downloaded;
        }
        let outcome = self.install(d, &bundle, running).await;
        let retry = matches!(
            outcome,
            Outcome::Deferred(_) | Outcome::Failed(UpdateError::Rauc(RaucError::ServiceLost))
        );
        if !retry {
            // Installed or refused: either way the bundle is of no further use.
            let _ = std::fs::remove_file(&bundle);
        }
        outcome
    }

    async fn install(&self, d: &Deployment, bundle: &Path, running: &Version) -> Outcome {
        let outcome = self.install_inner(d, bundle, running).await;
        if !matches!(outcome, Outcome::Deferred(_)) {
            self.staff_consent.store(false, Ordering::Relaxed);
        }
        outcome
    }

    async fn install_inner(&self, d: &Deployment, bundle: &Path, running: &Version) -> Outcome {
        let rauc = match Rauc::connect(self.cfg.rauc.bus_address.as_deref()).await {
            Ok(r) => r,
            Err(e) => return self.fail(d, e).await,
        };
        let bundle_str = bundle.to_string_lossy();
        if let Err(e) = vet(&rauc, &bundle_str, &self.cfg.device.compatible, running).await {
            return self.fail(d, e).await;
        }
        // A session may have started during the download.
        if let Some(why) = self.defer_reason(d.maintenance_window.as_deref()) {
            self.set_status(Phase::Deferred { reason: why.reason().into() }, Some(&d.version));
            return Outcome::Deferred(why);
        }
        let from_slot = match rauc.boot_slot().await {
            Ok(s) => s,
            Err(e) => return self.fail(d, e).await,
        };
        self.feedback(&d.action_id, Execution::Proceeding, Finished::None, "installing").await;
        let installed = rauc
            .install(&bundle_str, INSTALL_TIMEOUT, |percent, step| {
                self.set_status(Phase::Installing { percent, step: step.to_owned() }, Some(&d.version));
            })
            .await;
        match installed {
            Ok(()) => {}
            Err(e @ RaucError::ServiceLost) => {
                // RAUC crashed or was restarted mid-install: nothing is activated, and
                // the checked bundle is kept; the action stays open and the next poll
                // installs again.
                tracing::warn!(version = %d.version, error = %e, "install interrupted");
                self.set_status(Phase::Failed { error: e.to_string() }, Some(&d.version));
                return Outcome::Failed(e.into());
            }
            Err(e) => return self.fail(d, e).await,
        }
        // Free the data partition before writing the record the health gate needs.
        let _ = std::fs::remove_file(bundle);
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
            self.wait(sleep.clamp(Duration::from_secs(1), Duration::from_secs(24 * 3600))).await;
        }
    }

    /// Sleeps until the next poll, or until staff ask for something on the admin screen
    /// (the request file is looked at every second).
    pub async fn wait(&self, sleep: Duration) {
        let until = tokio::time::Instant::now() + sleep;
        loop {
            if let Some(r) = request::take(&self.cfg.policy.request_file) {
                tracing::info!(request = r.word(), "asked on the admin screen");
                match r {
                    Request::Check => return,
                    Request::Install => {
                        self.staff_consent.store(true, Ordering::Relaxed);
                        return;
                    }
                    Request::Reboot => {
                        let _logged = self.staff_reboot();
                    }
                }
            }
            let now = tokio::time::Instant::now();
            if now >= until {
                return;
            }
            tokio::time::sleep((until - now).min(Duration::from_secs(1))).await;
        }
    }

    /// Staff asked for a reboot: done at once unless a session runs (the maintenance
    /// window is theirs to overrule).
    ///
    /// # Errors
    /// The reboot command could not run (also shown on the admin screen).
    pub fn staff_reboot(&self) -> Result<Outcome, RebootError> {
        if self.cfg.policy.busy_file.exists() {
            tracing::warn!("reboot asked during a session: not done");
            return Ok(Outcome::Deferred(Defer::SessionActive));
        }
        tracing::info!(command = ?self.cfg.policy.reboot_command, "rebooting: asked on the admin screen");
        run_reboot(&self.cfg.policy.reboot_command).map_err(|e| {
            tracing::error!(error = %e, "reboot failed");
            self.set_status(Phase::Failed { error: format!("the reboot staff asked for failed: {e}") }, None);
            e
        })?;
        Ok(Outcome::Rebooting)
    }
}

/// Refuses a bundle RAUC cannot verify, one for other hardware, and one older than what
/// runs (anti-downgrade; RAUC ≥ 1.12 also enforces `min-bundle-version`, Debian 12's 1.8
/// cannot). Returns the bundle's version.
pub async fn vet(
    rauc: &Rauc,
    bundle: &str,
    compatible: &str,
    running: &Version,
) -> Result<Version, VetError> {
    let (bundle_compatible, bundle_version) = rauc.info(bundle).await?;
    if bundle_compatible != compatible {
        return Err(VetError::WrongCompatible { bundle: bundle_compatible, kiosk: compatible.to_owned() });
    }
    let v = Version::parse(&bundle_version)?;
    if v.is_older_than(running) {
        return Err(VetError::Downgrade { bundle: v.to_string(), running: running.to_string() });
    }
    Ok(v)
}
