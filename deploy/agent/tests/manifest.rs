#![allow(clippy::unwrap_used)]
//! The small-site update source: a JSON manifest on a plain web server instead of hawkBit.
//! The agent polls the manifest (served over http on loopback by the harness' file server),
//! downloads the bundle it names (sha256 checked), installs it through the real RAUC 1.8,
//! reboots at idle, and the real `kiosk-update gate` confirms it, with nothing reported to
//! any server. Faults: same and older versions, a manifest for other hardware, a bundle
//! that does not match the manifest's sha256, a patron session, a malformed manifest.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use kiosk_update::agent::{Agent, CycleError, Outcome, Pending, UpdateError};
use kiosk_update::download::DownloadError;
use kiosk_update::manifest::ManifestError;
use kiosk_update::policy::Defer;
use kiosk_update::status::Phase;
use support::{COMPATIBLE, FileServer, Format, Kiosk, NEW, RUNNING, bundle, holds, rootfs, status};

/// A kiosk whose agent polls a manifest on its own web server, and the signed bundle.
struct Site {
    agent: Agent,
    web: FileServer,
    kiosk: Kiosk,
    image: PathBuf,
    bundle: Vec<u8>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Site {
    async fn new() -> Site {
        Site::with_policy(|_| String::new()).await
    }

    /// A site whose agent's `[policy]` gets the lines `extra` makes (given the kiosk).
    async fn with_policy(extra: impl FnOnce(&Kiosk) -> String) -> Site {
        let kiosk = Kiosk::new().await;
        let web = FileServer::start(&kiosk.path("web"));
        let image = rootfs(&kiosk.path("images"), NEW, 16, 256);
        let b = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &kiosk.path("images/new.raucb"));
        let bundle = std::fs::read(b).unwrap();
        web.put(&format!("bundles/kiosk-{NEW}.raucb"), &bundle);
        let toml = kiosk.manifest_toml(&web.url("kiosk/manifest.json"), &extra(&kiosk));
        let agent = Agent::new(kiosk.agent_config_from(&toml)).unwrap();
        assert!(agent.ddi().is_none(), "a manifest source has no DDI client");
        Site { agent, web, kiosk, image, bundle }
    }

    /// Publishes a manifest for the bundle (relative URL) with these fields.
    fn publish(&self, version: &str, compatible: &str, sha256: &str) {
        let m = serde_json::json!({
            "version": version,
            "compatible": compatible,
            "url": format!("../bundles/kiosk-{NEW}.raucb"),
            "sha256": sha256,
            "size": self.bundle.len(),
        });
        self.web.put("kiosk/manifest.json", m.to_string().as_bytes());
    }

    fn publish_good(&self) {
        self.publish(NEW, COMPATIBLE, &sha256_hex(&self.bundle));
    }

    async fn cycle(&self) -> Result<Outcome, CycleError> {
        tokio::time::timeout(Duration::from_secs(60), self.agent.cycle()).await.unwrap().map(|(o, _)| o)
    }

    fn bundle_downloads(&self) -> usize {
        self.web.requests().iter().filter(|p| p.ends_with(".raucb")).count()
    }

    /// Nothing reached slot B and the boot order is as before.
    fn nothing_installed(&self) {
        assert!(!holds(&self.kiosk.slot("B"), &self.image), "slot B must not be written");
        assert_eq!(self.kiosk.boot_order(), ["A", "B"]);
        assert!(holds(&self.kiosk.slot("A"), &self.kiosk.running_image));
        assert!(Pending::read(&self.kiosk.path("data/kiosk-update")).is_none());
        assert_eq!(self.kiosk.reboots(), 0);
    }

    fn failed_status(&self) -> String {
        match status(&self.kiosk.status_file()).phase {
            Phase::Failed { error } => error,
            other => panic!("the admin screen must show the failure, shows {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_version_in_the_manifest_is_installed_and_confirmed_at_boot() {
    let mut s = Site::new().await;
    s.publish_good();

    assert!(matches!(s.cycle().await.unwrap(), Outcome::Rebooting));
    assert!(holds(&s.kiosk.slot("B"), &s.image));
    assert_eq!(s.kiosk.boot_order(), ["B", "A"]);
    assert_eq!(s.kiosk.reboots(), 1);
    assert_eq!(s.bundle_downloads(), 1);
    assert!(s.kiosk.downloads().is_empty(), "the installed bundle is deleted: {:?}", s.kiosk.downloads());
    assert_eq!(status(&s.kiosk.status_file()).phase, Phase::WaitingForReboot);
    let pending = Pending::read(&s.kiosk.path("data/kiosk-update")).unwrap();
    assert_eq!((pending.version.as_str(), pending.from_slot.as_str()), (NEW, "A"));

    assert_eq!(s.kiosk.reboot().await, "B");
    assert!(matches!(s.cycle().await.unwrap(), Outcome::WaitingForHealthCheck));
    let (ok, log) = s.kiosk.gate(&s.kiosk.path("update.toml"), &["true"]);
    assert!(ok, "{log}");
    assert!(log.contains("UpdateConfirmed"), "{log}");
    assert!(Pending::read(&s.kiosk.path("data/kiosk-update")).is_none());
    assert_eq!(s.kiosk.tries_left("B"), 3, "marked good");
    let st = status(&s.kiosk.status_file());
    assert_eq!((st.phase, st.version.as_deref()), (Phase::Idle, Some(NEW)));

    // Now it runs the manifest's version: nothing more to do.
    assert!(matches!(s.cycle().await.unwrap(), Outcome::UpToDate));
    assert_eq!(s.bundle_downloads(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_or_an_older_version_does_nothing() {
    let s = Site::new().await;
    let hash = sha256_hex(&s.bundle);
    for version in [RUNNING, "2026.1.0"] {
        s.publish(version, COMPATIBLE, &hash);
        assert!(matches!(s.cycle().await.unwrap(), Outcome::UpToDate), "{version}");
        assert_eq!(status(&s.kiosk.status_file()).phase, Phase::Idle);
    }
    assert_eq!(s.bundle_downloads(), 0, "{:?}", s.web.requests());
    s.nothing_installed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_for_other_hardware_is_refused_with_a_clear_status() {
    let s = Site::new().await;
    s.publish(NEW, "kiosk-rpi5", &sha256_hex(&s.bundle));
    match s.cycle().await {
        Err(CycleError::Manifest(ManifestError::WrongCompatible { manifest, kiosk, .. })) => {
            assert_eq!((manifest.as_str(), kiosk.as_str()), ("kiosk-rpi5", COMPATIBLE));
        }
        other => panic!("{other:?}"),
    }
    let error = s.failed_status();
    println!("status: {error}");
    assert!(error.contains("is for \"kiosk-rpi5\" but this kiosk is \"kiosk-rpi4\""), "{error}");
    assert_eq!(s.bundle_downloads(), 0);
    s.nothing_installed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_that_does_not_match_the_sha256_is_deleted_not_installed() {
    let s = Site::new().await;
    let wrong = sha256_hex(b"another bundle");
    s.publish(NEW, COMPATIBLE, &wrong);
    match s.cycle().await.unwrap() {
        Outcome::Failed(UpdateError::Download(DownloadError::HashMismatch {
            algorithm, expected, ..
        })) => {
            assert_eq!((algorithm, expected.as_str()), ("sha256", wrong.as_str()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.bundle_downloads(), 1);
    assert!(s.kiosk.downloads().is_empty(), "{:?}", s.kiosk.downloads());
    assert!(s.failed_status().contains("does not match"));
    s.nothing_installed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patron_session_defers_the_update() {
    let s = Site::new().await;
    s.publish_good();
    let busy = s.kiosk.path("run/session-active");
    std::fs::write(&busy, b"").unwrap();
    assert!(matches!(s.cycle().await.unwrap(), Outcome::Deferred(Defer::SessionActive)));
    match status(&s.kiosk.status_file()).phase {
        Phase::Deferred { reason } => assert_eq!(reason, "waiting for the patron session to end"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.bundle_downloads(), 0, "nothing is downloaded during a session");
    s.nothing_installed();

    std::fs::remove_file(&busy).unwrap();
    assert!(matches!(s.cycle().await.unwrap(), Outcome::Rebooting));
    assert!(holds(&s.kiosk.slot("B"), &s.image));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_manifest_is_a_named_error_in_the_status_file() {
    let s = Site::new().await;
    s.web.put("kiosk/manifest.json", br#"{"version": "2026.11.0", "compatible": "kiosk-rpi4",,}"#);
    match s.cycle().await {
        Err(CycleError::Manifest(ManifestError::Malformed { .. })) => {}
        other => panic!("{other:?}"),
    }
    let error = s.failed_status();
    println!("status: {error}");
    assert!(error.contains("manifest.json is not valid"), "{error}");
    assert!(error.contains("Small sites without hawkBit"), "{error}");

    // A missing field is named too.
    s.web.put("kiosk/manifest.json", br#"{"version": "2026.11.0", "compatible": "kiosk-rpi4"}"#);
    assert!(matches!(s.cycle().await, Err(CycleError::Manifest(ManifestError::Malformed { .. }))));
    assert!(s.failed_status().contains("missing field `url`"), "{}", s.failed_status());
    assert_eq!(s.bundle_downloads(), 0);
    s.nothing_installed();
}

/// A maintenance window that is closed now: it opens in two hours (Japan time, the
/// agent's default offset).
fn closed_window() -> String {
    let now = kiosk_update::policy::local_minute_now(540);
    let hm = |m: u32| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
    format!("{}-{}", hm((now + 120) % 1440), hm((now + 180) % 1440))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_on_the_admin_screen_check_now_install_outside_the_window_and_reboot() {
    let s = Site::with_policy(|k| {
        format!(
            "request_file = \"{}\"\nmaintenance_window = \"{}\"",
            k.path("run/update-request").display(),
            closed_window()
        )
    })
    .await;
    let request = s.kiosk.path("run/update-request");
    let ask = |word: &str| std::fs::write(&request, format!("{word}\n")).unwrap();
    let waits =
        |secs: u64| tokio::time::timeout(Duration::from_secs(secs), s.agent.wait(Duration::from_secs(3600)));
    s.publish_good();
    assert!(matches!(s.cycle().await.unwrap(), Outcome::Deferred(Defer::OutsideWindow)));
    s.nothing_installed();

    // "Check for updates": the hour-long wait ends within a second or two (30 s allowed
    // for a busy machine: what counts is that it ends long before the hour).
    ask("check");
    assert!(waits(30).await.is_ok(), "the agent did not look at the request");
    assert!(!request.exists(), "the request is removed once taken");
    // Checking is not consent: still outside the window.
    assert!(matches!(s.cycle().await.unwrap(), Outcome::Deferred(Defer::OutsideWindow)));
    s.nothing_installed();

    // "Install when idle": staff overrule the window; the kiosk is idle, so now.
    ask("install");
    assert!(waits(30).await.is_ok());
    assert!(matches!(s.cycle().await.unwrap(), Outcome::Rebooting));
    assert!(holds(&s.kiosk.slot("B"), &s.image));
    assert_eq!(s.kiosk.reboots(), 1);

    // "Restart": not during a session; at once when idle. The agent takes the request
    // and acts on it in the same step of its wait (the request file goes when taken).
    let busy = s.kiosk.path("run/session-active");
    std::fs::write(&busy, b"").unwrap();
    ask("reboot");
    assert!(agent_waits_until(&s.agent, || !request.exists()).await, "the agent did not take the request");
    assert_eq!(s.kiosk.reboots(), 1, "no reboot during a session");
    std::fs::remove_file(&busy).unwrap();
    ask("reboot");
    assert!(agent_waits_until(&s.agent, || s.kiosk.reboots() == 2).await, "no reboot when idle");
}

/// Runs the agent's hour-long wait, which takes the staff's requests, until `done` holds
/// (false after a generous 30 s). A reboot request must not end that wait.
async fn agent_waits_until(agent: &Agent, done: impl Fn() -> bool) -> bool {
    let poll = async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        () = agent.wait(Duration::from_secs(3600)) => panic!("a reboot request ended the wait"),
        r = tokio::time::timeout(Duration::from_secs(30), poll) => r.is_ok(),
    }
}
