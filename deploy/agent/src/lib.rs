//! kiosk-update: the kiosk's update agent.
//!
//! - [`ddi`]: a client for Eclipse hawkBit's device API (DDI): poll, configData,
//!   deploymentBase, feedback. Tested against gooseBit, a hawkBit-compatible server.
//! - [`manifest`]: the alternative to hawkBit for small sites: a JSON manifest on an HTTPS
//!   server, polled; a newer version for this hardware becomes a deployment.
//! - [`download`]: bundle download with resume (HTTP Range), bounded retries, size and
//!   hash checks, and a clear "disk full" error.
//! - [`rauc`]: RAUC's D-Bus API through zbus: InstallBundle, Progress, LastError,
//!   Completed, Info, Mark, BootSlot.
//! - [`agent`]: one poll cycle: defer while a patron session runs or outside the
//!   maintenance window, download, vet (signature, compatible, no downgrade), install,
//!   report, reboot at idle.
//! - [`gate`]: the boot-time health gate: run `kiosk health`, mark the slot good, or mark
//!   a freshly installed slot bad and reboot into the old one; report the outcome.
//! - [`status`]: the state file the admin screen reads (phase, progress, last error).
//! - [`request`]: what staff ask for on the admin screen (check now, install outside the
//!   maintenance window, reboot).
//!
//! See `docs/deploy.md` for the operator's view.

pub mod agent;
pub mod config;
pub mod ddi;
pub mod download;
pub mod gate;
pub mod manifest;
pub mod policy;
pub mod rauc;
pub mod request;
pub mod status;
pub mod version;

pub use config::AgentConfig;
