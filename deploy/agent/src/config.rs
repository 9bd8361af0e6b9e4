//! The agent's configuration: `/etc/kiosk/update.toml` (see `deploy/update.example.toml`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::policy::Window;
use crate::version::{Version, read_release_key};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// `[server]`: the hawkBit (or gooseBit) server. Exactly one of `[server]` and
    /// `[manifest]` is present.
    pub server: Option<Server>,
    /// `[manifest]`: a plain HTTPS manifest instead of hawkBit (small sites).
    pub manifest: Option<Manifest>,
    /// `[device]`: what this kiosk is and runs.
    pub device: Device,
    /// `[policy]`: when to install and reboot.
    #[serde(default)]
    pub policy: Policy,
    /// `[paths]`: where downloads and state go.
    #[serde(default)]
    pub paths: Paths,
    /// `[rauc]`: how to reach RAUC.
    #[serde(default)]
    pub rauc: Rauc,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Base URL, e.g. `https://hawkbit.city.lg.jp` (http only for tests on loopback).
    pub url: String,
    /// hawkBit tenant (gooseBit: `DEFAULT`).
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// This kiosk's controller id (unique in the fleet; the library's kiosk id).
    pub controller_id: String,
    /// File holding this kiosk's target security token (`TargetToken`), if the server
    /// requires one.
    pub target_token_file: Option<PathBuf>,
    /// CA certificate(s) (PEM) the server's TLS certificate must chain to; required for
    /// https.
    pub ca_file: Option<PathBuf>,
    /// Timeout of one request, seconds (downloads: per read, not in total).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

/// `[manifest]`: the update source of a small site without hawkBit, a JSON file on any
/// web server (format: `docs/fleet-rollout.md`, "Small sites without hawkBit").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The manifest's URL, e.g. `https://updates.example/kiosk/manifest.json` (`http://`
    /// only on loopback, for tests).
    pub url: String,
    /// CA certificate(s) (PEM) for a server with a private CA; absent: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Timeout of one request, seconds (downloads: per read, not in total).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Seconds between polls of the manifest.
    #[serde(default = "default_manifest_poll")]
    pub poll_secs: u64,
}

/// Which update source the configuration names.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A hawkBit (DDI) server.
    HawkBit(&'a Server),
    /// A plain HTTPS manifest.
    Manifest(&'a Manifest),
}

/// Whether `url` may be fetched: `https://`, or `http://` to a loopback address only
/// (tests). Returns the parsed URL.
pub fn secure_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => {
            Err(format!("{url:?} is plain http; use https (http is allowed only on 127.0.0.1 for tests)"))
        }
        other => Err(format!("{url:?} uses {other}:, not https")),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// `[device]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// RAUC `compatible` of this hardware (must equal system.conf's).
    pub compatible: String,
    /// os-release style file with the running version (`VERSION_ID=`).
    #[serde(default = "default_release_file")]
    pub release_file: PathBuf,
}

/// `[policy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Exists while a patron (or staff) session runs: the kiosk creates it at the start
    /// of a session and removes it at the end. No install and no reboot while it exists.
    #[serde(default = "default_busy_file")]
    pub busy_file: PathBuf,
    /// Where the kiosk's admin screen leaves a request (`check`, `install`, `reboot`;
    /// see [`crate::request`]). The agent removes it when it acts.
    #[serde(default = "default_request_file")]
    pub request_file: PathBuf,
    /// Local time window for installs and reboots, `"HH:MM-HH:MM"` (may wrap midnight).
    /// Absent: any time the kiosk is idle.
    pub maintenance_window: Option<String>,
    /// Offset of local time from UTC in minutes (Japan: 540).
    #[serde(default = "default_utc_offset")]
    pub utc_offset_minutes: i32,
    /// Command that reboots the kiosk.
    #[serde(default = "default_reboot")]
    pub reboot_command: Vec<String>,
    /// Download attempts before giving up until the next poll (resumes each time).
    #[serde(default = "default_attempts")]
    pub download_attempts: u32,
    /// Health check attempts at boot before the new slot is declared bad.
    #[serde(default = "default_attempts")]
    pub health_attempts: u32,
    /// Seconds between health check attempts.
    #[serde(default = "default_health_interval")]
    pub health_interval_secs: u64,
}

/// `[paths]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    /// Where bundles are downloaded (the data partition; not the read-only rootfs).
    #[serde(default = "default_data_dir")]
    pub download_dir: PathBuf,
    /// Where the agent keeps the pending-install record across the reboot.
    #[serde(default = "default_data_dir")]
    pub state_dir: PathBuf,
    /// The status file the admin screen reads.
    #[serde(default = "default_status_file")]
    pub status_file: PathBuf,
}

/// `[rauc]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rauc {
    /// D-Bus address of the bus RAUC is on; absent: the system bus. Tests use a private
    /// bus (`unix:path=…`).
    pub bus_address: Option<String>,
}

fn default_manifest_poll() -> u64 {
    3600
}
fn default_tenant() -> String {
    "DEFAULT".into()
}
fn default_timeout() -> u64 {
    30
}
fn default_release_file() -> PathBuf {
    "/etc/os-release".into()
}
fn default_busy_file() -> PathBuf {
    "/run/kiosk/session-active".into()
}
fn default_request_file() -> PathBuf {
    "/run/kiosk/update-request".into()
}
fn default_utc_offset() -> i32 {
    540
}
fn default_reboot() -> Vec<String> {
    vec!["systemctl".into(), "reboot".into()]
}
fn default_attempts() -> u32 {
    3
}
fn default_health_interval() -> u64 {
    20
}
fn default_data_dir() -> PathBuf {
    "/data/kiosk-update".into()
}
fn default_status_file() -> PathBuf {
    "/run/kiosk-update/status.json".into()
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            busy_file: default_busy_file(),
            request_file: default_request_file(),
            maintenance_window: None,
            utc_offset_minutes: default_utc_offset(),
            reboot_command: default_reboot(),
            download_attempts: default_attempts(),
            health_attempts: default_attempts(),
            health_interval_secs: default_health_interval(),
        }
    }
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            download_dir: default_data_dir(),
            state_dir: default_data_dir(),
            status_file: default_status_file(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Neither `[server]` (hawkBit) nor `[manifest]` is configured.
    #[error(
        "{path} names no update source: add a [server] section (hawkBit) or a [manifest] \
         section (url = \"https://…/manifest.json\") for a site without hawkBit"
    )]
    NoSource {
        /// The file.
        path: PathBuf,
    },
    /// Both `[server]` and `[manifest]` are configured.
    #[error(
        "{path} has both a [server] (hawkBit) and a [manifest] section; the kiosk uses one \
         update source, remove the other"
    )]
    TwoSources {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The running version cannot be read (the image is broken or `device.release_file` is
/// wrong); the agent cannot decide what is an upgrade, so it does nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The release file cannot be read.
    #[error("cannot read the running version from {path}: {source}; check device.release_file")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No `VERSION_ID=` line.
    #[error("{path} has no VERSION_ID= line; the image build must write it")]
    NoVersion {
        /// The file.
        path: PathBuf,
    },
    /// `VERSION_ID` is not a release version.
    #[error("{path}: {source}")]
    BadVersion {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: crate::version::BadVersion,
    },
}

/// The target token file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// It cannot be read.
    #[error("cannot read the target token {path}: {source}; check server.target_token_file")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is empty.
    #[error("the target token file {path} is empty; put the kiosk's token from the server there")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl AgentConfig {
    /// Reads and checks the file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Checks configuration text read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_path_buf(), message };
        let cfg: AgentConfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        match cfg.source() {
            None if cfg.server.is_none() => {
                return Err(ConfigError::NoSource { path: path.to_path_buf() });
            }
            None => return Err(ConfigError::TwoSources { path: path.to_path_buf() }),
            Some(Source::HawkBit(server)) => {
                let url = server.url.as_str();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(invalid(format!("server.url must be an http(s) URL, not {url:?}")));
                }
                if url.starts_with("https://") && server.ca_file.is_none() {
                    return Err(invalid("server.ca_file is required for an https server".into()));
                }
                if server.controller_id.is_empty()
                    || !server.controller_id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    return Err(invalid(
                        "server.controller_id must be letters, digits, '-', '_' or '.'".into(),
                    ));
                }
            }
            Some(Source::Manifest(m)) => {
                secure_url(&m.url).map_err(|e| invalid(format!("manifest.url: {e}")))?;
            }
        }
        if let Some(w) = &cfg.policy.maintenance_window {
            Window::parse(w).map_err(|e| invalid(format!("policy.maintenance_window: {e}")))?;
        }
        if cfg.policy.reboot_command.is_empty() {
            return Err(invalid("policy.reboot_command must not be empty".into()));
        }
        Ok(cfg)
    }

    /// The update source; `None` unless exactly one is configured (checked at load).
    pub fn source(&self) -> Option<Source<'_>> {
        match (&self.server, &self.manifest) {
            (Some(s), None) => Some(Source::HawkBit(s)),
            (None, Some(m)) => Some(Source::Manifest(m)),
            _ => None,
        }
    }

    /// The maintenance window, if one is configured (checked at load).
    pub fn window(&self) -> Option<Window> {
        self.policy.maintenance_window.as_deref().and_then(|w| Window::parse(w).ok())
    }

    /// The running version, from `device.release_file` (`VERSION_ID`).
    pub fn running_version(&self) -> Result<Version, ReleaseError> {
        let path = &self.device.release_file;
        let text = std::fs::read_to_string(path)
            .map_err(|source| ReleaseError::Unreadable { path: path.clone(), source })?;
        let v = read_release_key(&text, "VERSION_ID")
            .ok_or_else(|| ReleaseError::NoVersion { path: path.clone() })?;
        Version::parse(&v).map_err(|source| ReleaseError::BadVersion { path: path.clone(), source })
    }

    /// The target token, if configured.
    pub fn target_token(&self) -> Result<Option<String>, TokenError> {
        match self.server.as_ref().and_then(|s| s.target_token_file.as_ref()) {
            None => Ok(None),
            Some(p) => {
                let token = std::fs::read_to_string(p)
                    .map_err(|source| TokenError::Unreadable { path: p.clone(), source })?;
                let token = token.trim();
                if token.is_empty() {
                    return Err(TokenError::Empty { path: p.clone() });
                }
                Ok(Some(token.to_owned()))
            }
        }
    }

    /// Request timeout.
    pub fn timeout(&self) -> Duration {
        let secs = match self.source() {
            Some(Source::HawkBit(s)) => s.timeout_secs,
            Some(Source::Manifest(m)) => m.timeout_secs,
            None => default_timeout(),
        };
        Duration::from_secs(secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[server]
url = "http://127.0.0.1:1"
controller_id = "kiosk-01"
[device]
compatible = "kiosk-rpi4"
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = AgentConfig::parse(MINIMAL, Path::new("t.toml")).unwrap();
        assert_eq!(c.server.as_ref().unwrap().tenant, "DEFAULT");
        assert_eq!(c.policy.utc_offset_minutes, 540);
        assert!(c.window().is_none());
    }

    #[test]
    fn refuses_https_without_ca_and_unknown_keys_and_bad_windows() {
        let https = MINIMAL.replace("http://", "https://");
        assert!(AgentConfig::parse(&https, Path::new("t")).is_err());
        let typo = format!("{MINIMAL}\n[policy]\nbusyfile = \"/x\"\n");
        assert!(AgentConfig::parse(&typo, Path::new("t")).is_err());
        let window = format!("{MINIMAL}\n[policy]\nmaintenance_window = \"25:00-06:00\"\n");
        assert!(AgentConfig::parse(&window, Path::new("t")).is_err());
    }

    const DEVICE: &str = "[device]\ncompatible = \"kiosk-rpi4\"\n";

    #[test]
    fn a_manifest_is_an_alternative_to_the_server() {
        let m = format!("[manifest]\nurl = \"https://updates.example/kiosk/manifest.json\"\n{DEVICE}");
        let c = AgentConfig::parse(&m, Path::new("t")).unwrap();
        assert!(matches!(c.source(), Some(Source::Manifest(_))));
        let local = format!("[manifest]\nurl = \"http://127.0.0.1:8000/m.json\"\n{DEVICE}");
        assert!(AgentConfig::parse(&local, Path::new("t")).is_ok());
        let plain = format!("[manifest]\nurl = \"http://updates.example/m.json\"\n{DEVICE}");
        let e = AgentConfig::parse(&plain, Path::new("t")).unwrap_err().to_string();
        assert!(e.contains("plain http"), "{e}");
        let both = format!("{MINIMAL}[manifest]\nurl = \"https://updates.example/m.json\"\n");
        assert!(matches!(AgentConfig::parse(&both, Path::new("t")), Err(ConfigError::TwoSources { .. })));
        assert!(matches!(AgentConfig::parse(DEVICE, Path::new("t")), Err(ConfigError::NoSource { .. })));
    }
}
