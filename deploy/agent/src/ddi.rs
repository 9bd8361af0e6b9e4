//! A client for hawkBit's Direct Device Integration API (DDI), the subset a RAUC device
//! needs: poll, configData, deploymentBase (one chunk, one artifact), feedback.
//!
//! Base path: `{url}/{tenant}/controller/v1/{controllerId}`; auth: `TargetToken`.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{AgentConfig, Server};

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum DdiError {
    /// Connection, TLS or timeout.
    #[error("cannot reach the update server ({0}); check the network and server.url")]
    Unreachable(String),
    /// The server refused our credentials.
    #[error(
        "the update server refused this kiosk (HTTP {status} to {what}); check server.controller_id \
         and the target token"
    )]
    Unauthorized {
        /// HTTP status (401 or 403).
        status: u16,
        /// Which request.
        what: &'static str,
    },
    /// The server answered with another error status.
    #[error("the update server answered HTTP {status} to {what}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Which request.
        what: &'static str,
    },
    /// The answer is not what DDI specifies, or asks for what this agent does not do.
    #[error("the update server's answer is not usable: {0}")]
    Protocol(String),
    /// The target token cannot be read.
    #[error(transparent)]
    Token(#[from] crate::config::TokenError),
    /// The CA file cannot be used.
    #[error("{key} {path}: {message}")]
    CaFile {
        /// The configuration key naming it (`server.ca_file`, `manifest.ca_file`).
        key: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

fn status_error(status: u16, what: &'static str) -> DdiError {
    if status == 401 || status == 403 {
        DdiError::Unauthorized { status, what }
    } else {
        DdiError::Status { status, what }
    }
}

/// The answer to a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// When to poll next.
    pub sleep: Duration,
    /// The server wants our attributes.
    pub config_data: Option<String>,
    /// An update is waiting.
    pub deployment: Option<String>,
    /// An action is to be cancelled.
    pub cancel: Option<String>,
}

/// `forced`, `attempt` or `skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Handling {
    /// Do it now.
    Forced,
    /// Do it (a soft request).
    Attempt,
    /// Do not.
    Skip,
}

/// One deployment: the bundle to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The action id (feedback goes to it).
    pub action_id: String,
    /// Whether to download.
    pub download: Handling,
    /// Whether to install.
    pub update: Handling,
    /// `available` / `unavailable`, when the server uses maintenance windows.
    pub maintenance_window: Option<String>,
    /// The chunk's version.
    pub version: String,
    /// The bundle.
    pub artifact: Artifact,
}

/// The bundle file of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// File name.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256, when the server gives one (hawkBit does).
    pub sha256: Option<String>,
    /// Lower-case hex SHA-1 (gooseBit gives only this).
    pub sha1: Option<String>,
    /// Where to download it.
    pub url: String,
}

/// Feedback `execution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// Working on it.
    Proceeding,
    /// Downloading.
    Download,
    /// Downloaded.
    Downloaded,
    /// Done (with `Finished`).
    Closed,
    /// Will do later.
    Scheduled,
}

impl Execution {
    fn as_str(self) -> &'static str {
        match self {
            Execution::Proceeding => "proceeding",
            Execution::Download => "download",
            Execution::Downloaded => "downloaded",
            Execution::Closed => "closed",
            Execution::Scheduled => "scheduled",
        }
    }
}

/// Feedback `result.finished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Installed and healthy.
    Success,
    /// Failed (the old version runs).
    Failure,
    /// Not finished.
    None,
}

impl Finished {
    fn as_str(self) -> &'static str {
        match self {
            Finished::Success => "success",
            Finished::Failure => "failure",
            Finished::None => "none",
        }
    }
}

/// The DDI client of one kiosk.
#[derive(Debug, Clone)]
pub struct Ddi {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Ddi {
    /// A client for `server`, the `[server]` section of the agent's configuration.
    pub fn new(cfg: &AgentConfig, server: &Server) -> Result<Self, DdiError> {
        let token = cfg.target_token()?;
        let http = http_client(server.ca_file.as_deref(), "server.ca_file", cfg.timeout())?;
        let base = format!(
            "{}/{}/controller/v1/{}",
            server.url.trim_end_matches('/'),
            server.tenant,
            server.controller_id
        );
        Ok(Ddi { http, base, token })
    }

    /// The HTTP client (downloads reuse it).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Adds the `Authorization` header when a token is configured.
    pub fn authorize(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => req.header("Authorization", format!("TargetToken {t}")),
            None => req,
        }
    }

    async fn get_json(&self, url: &str, what: &'static str) -> Result<Value, DdiError> {
        let resp = self
            .authorize(self.http.get(url).header("Accept", "application/hal+json, application/json"))
            .send()
            .await
            .map_err(|e| DdiError::Unreachable(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(status_error(status.as_u16(), what));
        }
        let bytes = resp.bytes().await.map_err(|e| DdiError::Unreachable(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| DdiError::Protocol(format!("{what}: {e}")))
    }

    async fn send_json(
        &self,
        req: reqwest::RequestBuilder,
        body: &Value,
        what: &'static str,
    ) -> Result<(), DdiError> {
        let body = serde_json::to_vec(body).map_err(|e| DdiError::Protocol(e.to_string()))?;
        let resp = self
            .authorize(req.header("Content-Type", "application/json").body(body))
            .send()
            .await
            .map_err(|e| DdiError::Unreachable(e.to_string()))?;
        let status = resp.status();
        if status.is_success() { Ok(()) } else { Err(status_error(status.as_u16(), what)) }
    }

    /// `GET {base}`.
    pub async fn poll(&self) -> Result<Poll, DdiError> {
        parse_poll(&self.get_json(&self.base, "poll").await?)
    }

    /// `PUT configData` (merge) with this kiosk's attributes.
    pub async fn put_config_data(&self, url: &str, data: Value) -> Result<(), DdiError> {
        self.send_json(self.http.put(url), &json!({ "mode": "merge", "data": data }), "configData").await
    }

    /// `GET deploymentBase/{actionId}`.
    pub async fn deployment(&self, url: &str) -> Result<Deployment, DdiError> {
        parse_deployment(&self.get_json(url, "deploymentBase").await?)
    }

    /// `POST deploymentBase/{actionId}/feedback`.
    pub async fn feedback(
        &self,
        action_id: &str,
        execution: Execution,
        finished: Finished,
        details: &[String],
    ) -> Result<(), DdiError> {
        let url = format!("{}/deploymentBase/{action_id}/feedback", self.base);
        let body = json!({
            "id": action_id,
            "status": {
                "execution": execution.as_str(),
                "result": { "finished": finished.as_str() },
                "details": details,
            }
        });
        self.send_json(self.http.post(&url), &body, "feedback").await
    }
}

/// Reads a poll answer: when to poll next (5 minutes if the server does not say) and the
/// links it offers.
///
/// # Errors
/// A `sleep` that is not `HH:MM:SS`.
pub fn parse_poll(v: &Value) -> Result<Poll, DdiError> {
    let sleep = v
        .pointer("/config/polling/sleep")
        .and_then(Value::as_str)
        .map(parse_sleep)
        .transpose()?
        .unwrap_or(Duration::from_secs(300));
    let link =
        |name: &str| v.pointer(&format!("/_links/{name}/href")).and_then(Value::as_str).map(str::to_owned);
    Ok(Poll {
        sleep,
        config_data: link("configData"),
        deployment: link("deploymentBase"),
        cancel: link("cancelAction"),
    })
}

/// `HH:MM:SS` → duration.
///
/// # Errors
/// Anything but three numbers with hours under 24 and minutes and seconds under 60
/// (hawkBit's own limit for the polling time is 23:59:59).
pub fn parse_sleep(text: &str) -> Result<Duration, DdiError> {
    let parts: Result<Vec<u64>, _> = text.split(':').map(str::parse::<u64>).collect();
    match parts.as_deref() {
        Ok(&[h, m, s]) if h < 24 && m < 60 && s < 60 => Ok(Duration::from_secs(h * 3600 + m * 60 + s)),
        _ => Err(DdiError::Protocol(format!("polling sleep {text:?} is not HH:MM:SS"))),
    }
}

/// Parses a deploymentBase answer. Exactly one chunk with one artifact, as RAUC
/// installs one bundle; anything else is refused rather than half-done.
pub fn parse_deployment(v: &Value) -> Result<Deployment, DdiError> {
    let bad = |what: &str| DdiError::Protocol(format!("deploymentBase: {what}"));
    let action_id = match v.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad("no id")),
    };
    let d = v.get("deployment").ok_or_else(|| bad("no deployment"))?;
    let handling = |key: &str| -> Result<Handling, DdiError> {
        serde_json::from_value(d.get(key).cloned().unwrap_or(Value::String("forced".into())))
            .map_err(|_| bad(&format!("{key} is not forced/attempt/skip")))
    };
    let chunks = d.get("chunks").and_then(Value::as_array).ok_or_else(|| bad("no chunks"))?;
    let [chunk] = chunks.as_slice() else {
        return Err(bad(&format!("{} chunks; this agent installs exactly one bundle", chunks.len())));
    };
    let artifacts = chunk.get("artifacts").and_then(Value::as_array).ok_or_else(|| bad("no artifacts"))?;
    let [a] = artifacts.as_slice() else {
        return Err(bad(&format!("{} artifacts; this agent installs exactly one bundle", artifacts.len())));
    };
    let hash = |name: &str| {
        a.pointer(&format!("/hashes/{name}")).and_then(Value::as_str).map(|h| h.to_ascii_lowercase())
    };
    let (sha256, sha1) = (hash("sha256"), hash("sha1"));
    if sha256.is_none() && sha1.is_none() {
        return Err(bad("the artifact has neither a sha256 nor a sha1 hash"));
    }
    let url = a
        .pointer("/_links/download/href")
        .or_else(|| a.pointer("/_links/download-http/href"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("the artifact has no download link"))?;
    Ok(Deployment {
        action_id,
        download: handling("download")?,
        update: handling("update")?,
        maintenance_window: d.get("maintenanceWindow").and_then(Value::as_str).map(str::to_owned),
        version: chunk.get("version").and_then(Value::as_str).unwrap_or_default().to_owned(),
        artifact: Artifact {
            filename: a.get("filename").and_then(Value::as_str).unwrap_or("update.raucb").to_owned(),
            size: a.get("size").and_then(Value::as_u64).ok_or_else(|| bad("the artifact has no size"))?,
            sha256,
            sha1,
            url: url.to_owned(),
        },
    })
}

/// The agent's HTTP client: TLS 1.2/1.3 with `ca_file`'s roots when given (`key` names the
/// setting in errors), else the system's; `timeout` per read.
pub fn http_client(
    ca_file: Option<&std::path::Path>,
    key: &'static str,
    timeout: Duration,
) -> Result<reqwest::Client, DdiError> {
    // reqwest builds its default TLS even for plain-HTTP clients; give it ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("kiosk-update/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca_file {
        let ca_error = |message: String| DdiError::CaFile { key, path: ca.to_path_buf(), message };
        let pem = std::fs::read(ca).map_err(|e| ca_error(e.to_string()))?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| ca_error(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(ca_error("holds no PEM certificate".into()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| DdiError::Client(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder.build().map_err(|e| DdiError::Client(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hawkbit_deployment() {
        let v = json!({"id":"8","deployment":{"download":"forced","update":"attempt","maintenanceWindow":"available",
            "chunks":[{"part":"os","version":"2026.11.0","name":"kiosk","artifacts":[{"filename":"k.raucb","size":42,
            "hashes":{"sha1":"AB","md5":"cd","sha256":"EF"},"_links":{"download-http":{"href":"http://x/a"}}}]}]}});
        let d = parse_deployment(&v).unwrap();
        assert_eq!(d.action_id, "8");
        assert_eq!(d.update, Handling::Attempt);
        assert_eq!(d.artifact.sha256.as_deref(), Some("ef"));
        assert_eq!(d.artifact.url, "http://x/a");
        assert_eq!(d.maintenance_window.as_deref(), Some("available"));
    }

    /// Found by the `hawkbit` fuzz target: hours that overflow when turned into
    /// seconds panicked the agent; now a named protocol error.
    #[test]
    fn a_poll_answer_with_a_sleep_of_endless_hours_is_refused() {
        let crash = br#"{"config":{"polling":{"sleep":"24674407370955161:0:4"}}}"#;
        let v: Value = serde_json::from_slice(crash).unwrap();
        let e = parse_poll(&v).unwrap_err();
        assert!(matches!(e, DdiError::Protocol(_)), "{e}");
    }

    #[test]
    fn refuses_two_artifacts_and_missing_hashes() {
        let a = json!({"filename":"a","size":1,"hashes":{"sha1":"aa"},"_links":{"download":{"href":"h"}}});
        let two =
            json!({"id":1,"deployment":{"chunks":[{"version":"1","artifacts":[a.clone(), a.clone()]}]}});
        assert!(parse_deployment(&two).is_err());
        let nohash = json!({"id":1,"deployment":{"chunks":[{"version":"1","artifacts":[
            {"filename":"a","size":1,"hashes":{},"_links":{"download":{"href":"h"}}}]}]}});
        assert!(parse_deployment(&nohash).is_err());
        let one = json!({"id":1,"deployment":{"chunks":[{"version":"1","artifacts":[a]}]}});
        assert_eq!(parse_deployment(&one).unwrap().action_id, "1");
    }

    #[test]
    fn parses_sleep() {
        assert_eq!(parse_sleep("00:05:01").unwrap(), Duration::from_secs(301));
        assert!(parse_sleep("5m").is_err());
        assert_eq!(parse_sleep("23:59:59").unwrap(), Duration::from_secs(86_399));
        for wrong in ["24:00:00", "00:60:00", "00:00:60"] {
            assert!(parse_sleep(wrong).is_err(), "{wrong}");
        }
    }
}
