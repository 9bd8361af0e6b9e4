//! The update source of a small site without hawkBit: a JSON manifest on any HTTPS server
//! (format in `docs/fleet-rollout.md`, "Small sites without hawkBit"):
//!
//! ```json
//! {"version": "2026.11.0", "compatible": "kiosk-rpi4", "url": "kiosk-2026.11.0.raucb",
//!  "sha256": "<64 hex digits>", "size": 123456}
//! ```
//!
//! `url` is absolute or relative to the manifest. The agent turns a manifest that offers a
//! newer version into the same [`Deployment`] a hawkBit server would send, so download,
//! vetting, install, policy and the health gate are the same; there is no server to report
//! to, so feedback is logged.

use std::time::Duration;

use serde::Deserialize;

use crate::config::{AgentConfig, Manifest, secure_url};
use crate::ddi::{Artifact, DdiError, Deployment, Handling, http_client};
use crate::version::{BadVersion, Version};

/// Largest manifest accepted (it is a few hundred bytes).
const MAX_MANIFEST: usize = 64 * 1024;

/// What is wrong with the manifest or fetching it.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Connection, TLS or timeout.
    #[error("cannot reach the update manifest {url} ({message}); check the network and manifest.url")]
    Unreachable {
        /// The manifest's URL.
        url: String,
        /// Why.
        message: String,
    },
    /// The web server answered with an error status.
    #[error(
        "the web server answered HTTP {status} to the update manifest {url}; check manifest.url and \
         that the manifest is published there"
    )]
    Status {
        /// The manifest's URL.
        url: String,
        /// HTTP status.
        status: u16,
    },
    /// Not JSON, or not the manifest's fields.
    #[error(
        "the update manifest {url} is not valid: {message}; it must be JSON like {{\"version\": \
         \"2026.11.0\", \"compatible\": \"kiosk-rpi4\", \"url\": \"kiosk.raucb\", \"sha256\": \"…\", \
         \"size\": 123}} (docs/fleet-rollout.md, \"Small sites without hawkBit\")"
    )]
    Malformed {
        /// The manifest's URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// `version` is not a release version.
    #[error("the update manifest {url}: version: {source}; write the bundle's version")]
    BadVersion {
        /// The manifest's URL.
        url: String,
        /// What is wrong.
        source: BadVersion,
    },
    /// `sha256` is not 64 hex digits.
    #[error(
        "the update manifest {url}: sha256 {value:?} is not 64 hex digits; write the output of \
         `sha256sum` for the bundle"
    )]
    BadSha256 {
        /// The manifest's URL.
        url: String,
        /// What it says.
        value: String,
    },
    /// The bundle URL cannot be used.
    #[error("the update manifest {url}: bundle url: {message}")]
    BadBundleUrl {
        /// The manifest's URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The manifest is for other hardware.
    #[error(
        "the update manifest {url} is for {manifest:?} but this kiosk is {kiosk:?}; publish the \
         {kiosk:?} bundle's manifest there, or point manifest.url at it"
    )]
    WrongCompatible {
        /// The manifest's URL.
        url: String,
        /// The manifest's `compatible`.
        manifest: String,
        /// This kiosk's.
        kiosk: String,
    },
}

/// The manifest as written.
#[derive(Debug, Deserialize)]
struct Raw {
    version: String,
    compatible: String,
    url: String,
    sha256: String,
    size: u64,
}

/// A checked manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The offered version.
    pub version: Version,
    /// The hardware it is for.
    pub compatible: String,
    /// The bundle's absolute URL.
    pub url: String,
    /// Lower-case hex SHA-256 of the bundle.
    pub sha256: String,
    /// The bundle's size in bytes.
    pub size: u64,
}

impl Release {
    /// The deployment the agent installs, as if a hawkBit server had sent it.
    pub fn deployment(&self) -> Deployment {
        let last = self.url.rsplit('/').next().unwrap_or_default();
        let last = last.split(['?', '#']).next().unwrap_or_default();
        let name = if last.is_empty() { "update.raucb" } else { last };
        Deployment {
            action_id: format!("manifest-{}", self.version),
            download: Handling::Forced,
            update: Handling::Forced,
            maintenance_window: None,
            version: self.version.to_string(),
            artifact: Artifact {
                // The version in the name: a partial download of another version is never resumed.
                filename: format!("{}-{name}", self.version),
                size: self.size,
                sha256: Some(self.sha256.clone()),
                sha1: None,
                url: self.url.clone(),
            },
        }
    }
}

/// Parses and checks manifest bytes fetched from `manifest_url`.
pub fn parse(bytes: &[u8], manifest_url: &reqwest::Url) -> Result<Release, ManifestError> {
    let url = manifest_url.to_string();
    let raw: Raw = serde_json::from_slice(bytes)
        .map_err(|e| ManifestError::Malformed { url: url.clone(), message: e.to_string() })?;
    let version = Version::parse(&raw.version)
        .map_err(|source| ManifestError::BadVersion { url: url.clone(), source })?;
    let sha256 = raw.sha256.trim().to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ManifestError::BadSha256 { url, value: raw.sha256 });
    }
    if raw.size == 0 {
        return Err(ManifestError::Malformed { url, message: "size is 0".into() });
    }
    let bad_url = |message: String| ManifestError::BadBundleUrl { url: url.clone(), message };
    let bundle =
        manifest_url.join(&raw.url).map_err(|e| bad_url(format!("{:?} is not a URL ({e})", raw.url)))?;
    let bundle = secure_url(bundle.as_str()).map_err(bad_url)?;
    Ok(Release { version, compatible: raw.compatible, url: bundle.to_string(), sha256, size: raw.size })
}

/// The manifest client of one kiosk.
#[derive(Debug, Clone)]
pub struct ManifestClient {
    http: reqwest::Client,
    url: reqwest::Url,
    poll: Duration,
}

impl ManifestClient {
    /// A client for `manifest`, the `[manifest]` section of the agent's configuration.
    pub fn new(cfg: &AgentConfig, manifest: &Manifest) -> Result<Self, DdiError> {
        let url = secure_url(&manifest.url).map_err(|e| DdiError::Client(format!("manifest.url: {e}")))?;
        let http = http_client(manifest.ca_file.as_deref(), "manifest.ca_file", cfg.timeout())?;
        Ok(ManifestClient { http, url, poll: Duration::from_secs(manifest.poll_secs.max(1)) })
    }

    /// How long to wait between polls.
    pub fn poll_interval(&self) -> Duration {
        self.poll
    }

    /// Fetches and checks the manifest.
    pub async fn fetch(&self) -> Result<Release, ManifestError> {
        let url = self.url.to_string();
        let unreachable =
            |e: reqwest::Error| ManifestError::Unreachable { url: url.clone(), message: e.to_string() };
        let mut resp = self
            .http
            .get(self.url.clone())
            .header("Accept", "application/json")
            .header("Cache-Control", "no-cache")
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(ManifestError::Status { url, status: status.as_u16() });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_MANIFEST {
                return Err(ManifestError::Malformed {
                    url,
                    message: format!("larger than {MAX_MANIFEST} bytes; is manifest.url the bundle?"),
                });
            }
        }
        // Relative bundle URLs resolve against where the manifest ended up (redirects).
        parse(&body, resp.url())
    }
}

impl crate::download::Source for ManifestClient {
    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> reqwest::Url {
        reqwest::Url::parse("https://updates.example/kiosk/manifest.json").unwrap()
    }

    const HASH: &str = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

    #[test]
    fn resolves_relative_urls_and_lowercases_the_hash() {
        let m = format!(
            r#"{{"version":"2026.11.0","compatible":"kiosk-rpi4","url":"b/k.raucb","sha256":"{HASH}","size":5}}"#
        );
        let r = parse(m.as_bytes(), &base()).unwrap();
        assert_eq!(r.url, "https://updates.example/kiosk/b/k.raucb");
        assert_eq!(r.sha256, HASH.to_ascii_lowercase());
        let d = r.deployment();
        assert_eq!(d.artifact.filename, "2026.11.0-k.raucb");
        assert_eq!(d.version, "2026.11.0");
    }

    #[test]
    fn refuses_bad_fields() {
        let m = |v: &str, u: &str, h: &str| {
            format!(r#"{{"version":"{v}","compatible":"c","url":"{u}","sha256":"{h}","size":5}}"#)
        };
        assert!(matches!(parse(b"{", &base()), Err(ManifestError::Malformed { .. })));
        assert!(matches!(
            parse(m("x", "k", HASH).as_bytes(), &base()),
            Err(ManifestError::BadVersion { .. })
        ));
        assert!(matches!(parse(m("1", "k", "ab").as_bytes(), &base()), Err(ManifestError::BadSha256 { .. })));
        let http = m("1", "http://updates.example/k", HASH);
        assert!(matches!(parse(http.as_bytes(), &base()), Err(ManifestError::BadBundleUrl { .. })));
    }
}
