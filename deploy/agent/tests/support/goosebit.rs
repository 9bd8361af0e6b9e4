//! A private gooseBit (the hawkBit-DDI server from PyPI, pinned in xtask) on loopback, and
//! the few calls of its management API the fleet tests make as the fleet operator: upload
//! a bundle, start a rollout or assign software, read a device's state, log and rollouts.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::repo;

/// The virtualenv `cargo xtask test` installs gooseBit into (or `KIOSK_PY_VENV`).
fn python() -> PathBuf {
    let venv =
        std::env::var_os("KIOSK_PY_VENV").map(PathBuf::from).unwrap_or_else(|| repo().join("target/py-venv"));
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: run `cargo xtask test`, which installs goosebit from PyPI into target/py-venv",
        py.display()
    );
    py
}

/// One gooseBit server.
#[derive(Debug)]
pub struct GooseBit {
    /// Its work directory (settings, SQLite database, artifacts, log).
    pub dir: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    child: Child,
    http: reqwest::Client,
    token: String,
}

impl GooseBit {
    /// Starts gooseBit in `dir` and creates its admin user.
    pub async fn start(dir: &Path) -> GooseBit {
        let _ = rustls::crypto::ring::default_provider().install_default();
        std::fs::create_dir_all(dir).unwrap();
        let log = std::fs::File::create(dir.join("goosebit.log")).unwrap();
        let mut child = Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/goosebit_server.py"))
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "goosebit_server.py printed {line:?}:\n{}",
                std::fs::read_to_string(dir.join("goosebit.log")).unwrap_or_default()
            )
        });
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(20)).build().unwrap();
        let mut server = GooseBit {
            dir: dir.to_path_buf(),
            url: format!("http://127.0.0.1:{port}"),
            child,
            http,
            token: String::new(),
        };
        // The socket listens before gooseBit has started; wait for it to answer.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let setup = server
                .http
                .post(format!("{}/setup", server.url))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("username=admin%40kiosk.test&password=fleet-test")
                .send()
                .await;
            if let Ok(resp) = setup
                && resp.status().is_success()
            {
                let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
                server.token = v["access_token"].as_str().unwrap().to_owned();
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("gooseBit exited ({status}):\n{}", server.log());
            }
            assert!(Instant::now() < deadline, "gooseBit did not come up:\n{}", server.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// gooseBit's own log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("goosebit.log")).unwrap_or_default()
    }

    /// The socket address (for a proxy in front).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("http://").parse().unwrap()
    }

    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req =
            self.http.request(method.clone(), format!("{}/api/v1{path}", self.url)).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {}", String::from_utf8_lossy(&bytes));
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    /// Uploads a bundle (gooseBit reads its manifest: compatible, version); its software id.
    pub async fn upload(&self, bundle: &Path) -> i64 {
        let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
        let boundary = "kiosk-update-test-boundary-7f3a";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend(std::fs::read(bundle).unwrap());
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let resp = self
            .http
            .put(format!("{}/api/v1/software", self.url))
            .bearer_auth(&self.token)
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        assert!(status.is_success(), "upload {name}: {status} {}", String::from_utf8_lossy(&bytes));
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        v["id"].as_i64().unwrap()
    }

    /// The stored artifact file of an uploaded bundle (to corrupt it).
    pub fn artifact(&self, file_name: &str) -> PathBuf {
        let artifacts = self.dir.join("artifacts");
        for entry in std::fs::read_dir(&artifacts).unwrap() {
            let candidate = entry.unwrap().path().join(file_name);
            if candidate.exists() {
                return candidate;
            }
        }
        panic!("no stored artifact {file_name} under {}", artifacts.display())
    }

    /// A rollout of `software` to the devices of `feed` (gooseBit's default feed is
    /// `default`, where a new device starts in rollout mode); the rollout's id.
    pub async fn rollout(&self, name: &str, feed: &str, software: i64) -> i64 {
        let v = self
            .api(
                reqwest::Method::PUT,
                "/rollouts",
                Some(serde_json::json!({"name": name, "feed": feed, "software_id": software})),
            )
            .await;
        v["id"].as_i64().unwrap()
    }

    /// One rollout's record (`success_count`, `failure_count`, …).
    pub async fn rollout_state(&self, id: i64) -> Value {
        let v = self.api(reqwest::Method::GET, "/rollouts", None).await;
        v["rollouts"].as_array().unwrap().iter().find(|r| r["id"].as_i64() == Some(id)).cloned().unwrap()
    }

    /// Assigns `software` to `device` directly (gooseBit refuses an incompatible one).
    pub async fn assign(&self, device: &str, software: i64) {
        self.api(
            reqwest::Method::PATCH,
            "/devices",
            Some(serde_json::json!({"devices": [device], "software": software.to_string()})),
        )
        .await;
    }

    /// Makes gooseBit believe `device` is `board` hardware (as if it had registered so).
    /// gooseBit only offers a device bundles whose `compatible` matches its registered
    /// hardware; hawkBit has no such check. This stands in for a device record that is
    /// wrong, the way a wrong bundle still reaches a kiosk.
    pub async fn register_hardware(&self, device: &str, board: &str, version: &str) {
        let body = serde_json::json!({"mode": "merge", "data": {"hw_boardname": board, "hw_revision": "default", "sw_version": version}});
        let resp = self
            .http
            .put(format!("{}/DEFAULT/controller/v1/{device}/configData", self.url))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "configData: {}", resp.status());
    }

    /// A device as the fleet operator sees it (`last_state`, `sw_version`, …).
    pub async fn device(&self, id: &str) -> Value {
        self.api(reqwest::Method::GET, &format!("/devices/{id}"), None).await
    }

    /// The feedback details the device sent for its current action.
    pub async fn device_log(&self, id: &str) -> String {
        let v = self.api(reqwest::Method::GET, &format!("/devices/{id}/log"), None).await;
        v["log"].as_str().unwrap_or_default().to_owned()
    }
}

impl Drop for GooseBit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
