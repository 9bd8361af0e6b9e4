//! Terminal registration at the local authentication platform (`platform.mode = "api"`).
//!
//! The platform trusts a kiosk only through the TLS client certificate it issued for the
//! kiosk's terminal ID, password and hardware fingerprint (`POST /v1/terminals/register`, in `kiosk-platform`'s `api.rs`).
//! A new board has no certificate: the kiosk still starts (it refuses My Number cards
//! with "not registered", library cards work), and staff press *Register this terminal*
//! on the staff menu's Registration page, or IT runs `kiosk register`. Both come here:
//! a new P-256 key and CSR are sent, the certificate returned is checked to be for that
//! key, and the chain and key are stored (mode 0600) where `platform.client_cert` and
//! `platform.client_key` say.
//!
//! The fingerprint is the board's serial and `/etc/machine-id`. The card reader is not
//! part of it: readers fail more often than boards, and swapping one must not need the
//! municipality to reset the registration.

use std::path::PathBuf;
use std::time::SystemTime;

use kiosk_platform::PlatformError;
use kiosk_platform::api::{Registration, leaf_not_after};
use kiosk_platform::fingerprint::HardwareIds;
use zeroize::Zeroizing;

use crate::config::{self, Config};
use kiosk_ui::{RegistrationPhase, RegistrationView};

/// What the Registration page shows. Nothing in it is personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalView {
    pub id: String,
    /// [`fingerprint_words`], empty when the mode has no registration.
    pub fingerprint: String,
    pub state: RegistrationView,
}

/// The board's fingerprint, read below `/` (below `KIOSK_HARDWARE_ROOT` when set: the
/// tests play another board with it).
#[must_use]
pub fn fingerprint() -> [u8; 32] {
    let root = std::env::var_os("KIOSK_HARDWARE_ROOT").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    HardwareIds::read(&root, None).fingerprint()
}

/// The fingerprint as staff read it out over the phone: 16 groups of 4 hex digits.
#[must_use]
pub fn fingerprint_words(fp: &[u8; 32]) -> String {
    let hex = kiosk_platform::hex(fp);
    let groups: Vec<&str> =
        hex.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("????")).collect();
    groups.join(" ")
}

/// Why registration did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("this kiosk checks cards by {mode}: it has no terminal registration")]
    NotApi { mode: &'static str },
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the certificate could not be stored next to {path}: {detail}")]
    Store { path: PathBuf, detail: String },
    #[error("{0}")]
    Platform(#[from] PlatformError),
}

impl RegisterError {
    /// What to do, in words for staff and IT.
    #[must_use]
    pub fn advice(&self) -> &'static str {
        match self {
            RegisterError::NotApi { .. } => "Nothing to do.",
            RegisterError::Read { .. } => {
                "The platform's CA file (platform.ca_file) cannot be read. Call IT."
            }
            RegisterError::Platform(PlatformError::RegistrationRefused(_)) => {
                "Check platform.terminal_id and platform.terminal_password in the configuration. \
                 'Registered with another fingerprint' means this is new hardware: ask the \
                 municipality to reset the terminal's registration, then register again."
            }
            RegisterError::Store { .. } => {
                "Check that the directories of platform.client_cert and platform.client_key are \
                 writable by the kiosk (its state directory, /var/lib/kiosk, is)."
            }
            RegisterError::Platform(e) => e.staff_message(),
        }
    }
}

fn mode_name(config: &Config) -> &'static str {
    match &config.platform {
        config::Platform::Api { .. } => "the platform API",
        config::Platform::Ocsp { .. } => "OCSP",
        config::Platform::Crl { .. } => "a CRL",
        config::Platform::Simulated => "the simulator",
    }
}

/// Registers this terminal and stores the certificate chain and key ([`state`] then
/// says so).
///
/// # Errors
/// Not `api` mode, the CA file unreadable, the platform refusing or unreachable, the
/// files not writable.
pub async fn register(config: &Config) -> Result<(), RegisterError> {
    let config::Platform::Api { endpoint: e, client, terminal } = &config.platform else {
        return Err(RegisterError::NotApi { mode: mode_name(config) });
    };
    let endpoint = super::drivers::endpoint(e, None).map_err(|err| match err {
        super::StartError::Read { path, source } => RegisterError::Read { path, source },
        other => RegisterError::Platform(PlatformError::Config(other.to_string())),
    })?;
    let registration = Registration {
        endpoint,
        terminal_id: terminal.id.as_str().to_owned(),
        password: Zeroizing::new(terminal.password.expose().to_owned()),
        fingerprint: fingerprint(),
    };
    let registered = kiosk_platform::api::register(&registration).await?;
    registered.store(client.cert_path(), client.key_path()).map_err(|e| RegisterError::Store {
        path: client.cert_path().to_path_buf(),
        detail: match e {
            PlatformError::LinkStore(d) => d,
            other => other.to_string(),
        },
    })?;
    for path in [client.cert_path(), client.key_path()] {
        give_to_directory_owner(path);
    }
    tracing::info!(terminal = %terminal.id.as_str(), "terminal registered; certificate stored");
    Ok(())
}

/// `kiosk register` run as root writes root's files into the kiosk's state directory:
/// they go to the directory's owner (the kiosk's user), so the kiosk can read them.
fn give_to_directory_owner(path: &std::path::Path) {
    use std::os::unix::fs::MetadataExt;
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else { return };
    let (Ok(d), Ok(f)) = (std::fs::metadata(dir), std::fs::metadata(path)) else { return };
    if (f.uid(), f.gid()) != (d.uid(), d.gid())
        && let Err(e) = std::os::unix::fs::chown(path, Some(d.uid()), Some(d.gid()))
    {
        tracing::warn!(path = %path.display(), error = %e, "the stored file could not be given to its directory's owner");
    }
}

/// Whether the terminal is registered (reads the stored certificate): the staff page
/// words it from the catalogue, the command line with [`state`].
#[must_use]
pub fn status(config: &Config, now: SystemTime) -> RegistrationView {
    let view = |phase, date: String, detail: String| RegistrationView { phase, date, detail };
    let config::Platform::Api { client, .. } = &config.platform else {
        return view(RegistrationPhase::NotNeeded, String::new(), mode_name(config).to_owned());
    };
    let path = client.cert_path();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return view(RegistrationPhase::NotRegistered, String::new(), String::new());
        }
        Err(e) => {
            return view(RegistrationPhase::Unreadable, String::new(), format!("{}: {e}", path.display()));
        }
    };
    match leaf_not_after(&bytes) {
        Ok(end) if end > now => view(RegistrationPhase::Registered, date(end), String::new()),
        Ok(end) => view(RegistrationPhase::Expired, date(end), String::new()),
        Err(e) => view(RegistrationPhase::Unusable, String::new(), format!("{}: {e}", path.display())),
    }
}

/// Whether the terminal is registered, in words for IT at the console (`kiosk register`).
#[must_use]
pub fn state(config: &Config, now: SystemTime) -> String {
    let v = status(config, now);
    match v.phase {
        RegistrationPhase::NotNeeded => {
            format!("This kiosk checks cards by {}: it needs no terminal registration.", v.detail)
        }
        RegistrationPhase::NotRegistered => "Not registered yet: press Register this terminal.".to_owned(),
        RegistrationPhase::Unreadable => {
            format!("The terminal certificate cannot be read ({}). Call IT.", v.detail)
        }
        RegistrationPhase::Registered => {
            format!("Registered. The terminal certificate is valid until {}.", v.date)
        }
        RegistrationPhase::Expired => {
            format!("The terminal certificate expired on {}: register this terminal again.", v.date)
        }
        RegistrationPhase::Unusable => {
            format!("The terminal certificate cannot be used ({}). Register again.", v.detail)
        }
        RegistrationPhase::Registering => "Registering with the platform…".to_owned(),
        RegistrationPhase::RegisteredRestart => {
            format!(
                "Registered, but the new certificate is not in use yet ({}): restart the kiosk.",
                v.detail
            )
        }
        RegistrationPhase::Failed => format!("Registration failed: {}", v.detail),
    }
}

fn date(t: SystemTime) -> String {
    let mut s = kiosk_platform::time::format_rfc3339(t);
    s.truncate(10);
    s
}

/// The Registration page.
#[must_use]
pub fn view(config: &Config) -> TerminalView {
    match &config.platform {
        config::Platform::Api { terminal, .. } => TerminalView {
            id: terminal.id.as_str().to_owned(),
            fingerprint: fingerprint_words(&fingerprint()),
            state: status(config, SystemTime::now()),
        },
        _ => TerminalView {
            id: String::new(),
            fingerprint: String::new(),
            state: status(config, SystemTime::now()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_reads_as_sixteen_groups() {
        let words = fingerprint_words(&[0xab; 32]);
        assert_eq!(words.split(' ').count(), 16);
        assert!(words.split(' ').all(|g| g == "abab"));
    }

    #[test]
    fn other_modes_say_they_need_no_registration() {
        let config = Config::demo();
        assert!(state(&config, SystemTime::now()).contains("needs no terminal registration"));
        assert!(view(&config).id.is_empty());
    }
}
