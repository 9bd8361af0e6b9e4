#![allow(clippy::unwrap_used)]
//! The whole update path against a real DDI server: the agent polls gooseBit (PyPI, pinned
//! in xtask), gets the deployment, downloads it (hash checked), installs it through the
//! real RAUC 1.8, reboots, and the real `kiosk-update gate` reports the outcome; the
//! assertions read the server's view (device state, rollout counters, feedback log) through
//! gooseBit's management API. Faults: a bundle for other hardware, an artifact corrupted on
//! the server, a download cut short, the server going down mid-download, a patron session,
//! a full data partition, a new version failing its health check.
//!
//! What gooseBit 0.2.12 does and does not do (read in target/py-venv/.../goosebit):
//! - Feedback: it acts only on `proceeding` (device → Running) and `closed` (success →
//!   Finished, rollout `success_count`; failure → Error, `failure_count`). `download`,
//!   `downloaded` and `scheduled` are accepted (HTTP 200) but logged as "unhandled
//!   execution state". `details` of every feedback are stored and shown as the device log
//!   (`GET /api/v1/devices/{id}/log`); the first `proceeding` clears that log.
//!   `result.progress` is ignored (it parses "Downloaded N%" out of details, SWUpdate style).
//! - Deployments carry a sha1 only (no sha256, no md5) and a `download` link; downloads
//!   support HTTP Range (Starlette's FileResponse), so resume works.
//! - It matches a bundle's `compatible` to the hardware the device sent in configData and
//!   refuses an incompatible assignment; hawkBit does not. A device in Error is offered
//!   nothing until the operator sets `force_update`.
//! - No cancelAction, no maintenance windows, no ETag.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use kiosk_update::agent::{Agent, CycleError, Outcome, Pending, UpdateError, VetError};
use kiosk_update::ddi::DdiError;
use kiosk_update::download::DownloadError;
use kiosk_update::policy::Defer;
use kiosk_update::rauc::RaucError;
use kiosk_update::status::Phase;
use support::{COMPATIBLE, Format, GooseBit, Kiosk, NEW, Proxy, RUNNING, bundle, holds, rootfs, status};

const DEVICE: &str = "kiosk-01";

/// A kiosk registered with its own gooseBit (through a proxy that can break downloads),
/// and the signed update bundle.
struct Fleet {
    agent: Agent,
    proxy: Proxy,
    server: GooseBit,
    kiosk: Kiosk,
    image: PathBuf,
    bundle: PathBuf,
}

impl Fleet {
    async fn new() -> Fleet {
        Self::with(|toml| toml).await
    }

    /// With the agent's configuration passed through `edit`.
    async fn with(edit: impl FnOnce(String) -> String) -> Fleet {
        let kiosk = Kiosk::new().await;
        let server = GooseBit::start(&kiosk.path("goosebit")).await;
        let proxy = Proxy::start(server.addr());
        let image = rootfs(&kiosk.path("images"), NEW, 16, 256);
        let bundle = bundle(
            &kiosk.pki,
            &image,
            NEW,
            COMPATIBLE,
            Format::Plain,
            &kiosk.path(&format!("images/kiosk-{NEW}.raucb")),
        );
        let config = kiosk.agent_config_from(&edit(kiosk.agent_toml(&proxy.url(), "")));
        let agent = Agent::new(config).unwrap();
        // First contact: the server asks for configData and learns hardware and version.
        assert!(matches!(agent.cycle().await.unwrap().0, Outcome::UpToDate));
        let d = server.device(DEVICE).await;
        assert_eq!(d["last_state"], "Registered", "{d}");
        assert_eq!(d["sw_version"], RUNNING, "{d}");
        assert_eq!(d["hardware"]["model"], COMPATIBLE, "{d}");
        Fleet { agent, proxy, server, kiosk, image, bundle }
    }

    async fn cycle(&self) -> Outcome {
        tokio::time::timeout(Duration::from_secs(60), self.agent.cycle()).await.unwrap().unwrap().0
    }

    async fn state(&self) -> String {
        self.server.device(DEVICE).await["last_state"].as_str().unwrap().to_owned()
    }

    /// Nothing reached slot B and the boot order is as before.
    fn nothing_installed(&self) {
        assert!(!holds(&self.kiosk.slot("B"), &self.image), "slot B must not be written");
        assert_eq!(self.kiosk.boot_order(), ["A", "B"]);
        assert!(holds(&self.kiosk.slot("A"), &self.kiosk.running_image));
        assert!(Pending::read(&self.kiosk.path("data/kiosk-update")).is_none());
    }

    fn failed_status(&self) -> String {
        match status(&self.kiosk.status_file()).phase {
            Phase::Failed { error } => error,
            other => panic!("the admin screen must show the failure, shows {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_is_installed_confirmed_at_boot_and_counted_a_success() {
    let mut f = Fleet::new().await;
    let software = f.server.upload(&f.bundle).await;
    let rollout = f.server.rollout("library-a", "default", software).await;

    assert!(matches!(f.cycle().await, Outcome::Rebooting));
    assert!(holds(&f.kiosk.slot("B"), &f.image));
    assert_eq!(f.kiosk.boot_order(), ["B", "A"]);
    assert_eq!(f.kiosk.reboots(), 1);
    assert_eq!(f.proxy.downloads().len(), 1);
    assert!(f.kiosk.downloads().is_empty(), "the installed bundle is deleted: {:?}", f.kiosk.downloads());
    assert_eq!(status(&f.kiosk.status_file()).phase, Phase::WaitingForReboot);
    assert_eq!(f.state().await, "Running", "installed, not yet confirmed");

    assert_eq!(f.kiosk.reboot().await, "B");
    // The agent may poll before the gate ran: it must not reboot the new slot again.
    assert!(matches!(f.cycle().await, Outcome::WaitingForHealthCheck));
    assert_eq!(f.kiosk.reboots(), 1);
    let (ok, log) = f.kiosk.gate(&f.kiosk.path("update.toml"), &["true"]);
    assert!(ok, "{log}");

    let d = f.server.device(DEVICE).await;
    assert_eq!((d["last_state"].as_str(), d["sw_version"].as_str()), (Some("Finished"), Some(NEW)), "{d}");
    let r = f.server.rollout_state(rollout).await;
    assert_eq!((r["success_count"].as_i64(), r["failure_count"].as_i64()), (Some(1), Some(0)), "{r}");
    let feedback = f.server.device_log(DEVICE).await;
    assert!(feedback.contains("health check passed"), "{feedback}");
    assert_eq!(f.kiosk.tries_left("B"), 3, "marked good");

    // Up to date now: the next poll installs nothing.
    assert!(matches!(f.cycle().await, Outcome::UpToDate));
    assert_eq!(f.proxy.downloads().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_for_other_hardware_is_refused_and_reported_failed() {
    let f = Fleet::new().await;
    let wrong = bundle(
        &f.kiosk.pki,
        &f.image,
        NEW,
        "kiosk-rpi5",
        Format::Plain,
        &f.kiosk.path(&format!("images/kiosk-rpi5-{NEW}.raucb")),
    );
    let software = f.server.upload(&wrong).await;
    // gooseBit itself keeps a kiosk-rpi5 bundle from a kiosk-rpi4 (it refuses the
    // assignment). With the device record wrong, or on hawkBit, it gets through:
    f.server.register_hardware(DEVICE, "kiosk-rpi5", RUNNING).await;
    f.server.rollout("library-a", "default", software).await;

    match f.cycle().await {
        Outcome::Failed(UpdateError::Vet(VetError::WrongCompatible { bundle, kiosk })) => {
            assert_eq!((bundle.as_str(), kiosk.as_str()), ("kiosk-rpi5", COMPATIBLE));
        }
        other => panic!("{other:?}"),
    }
    f.nothing_installed();
    assert_eq!(f.proxy.downloads().len(), 1, "downloaded and hash-checked, then refused");
    assert!(f.kiosk.downloads().is_empty(), "{:?}", f.kiosk.downloads());
    assert!(f.failed_status().contains("kiosk-rpi5"));
    assert_eq!(f.state().await, "Error");
    let feedback = f.server.device_log(DEVICE).await;
    assert!(feedback.contains("the bundle is for \"kiosk-rpi5\""), "{feedback}");
    // gooseBit offers nothing to a device in error until the operator forces it.
    assert!(matches!(f.cycle().await, Outcome::UpToDate));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_signed_by_another_ca_is_refused_and_reported_failed() {
    let f = Fleet::new().await;
    // A development-signed bundle uploaded to the production server: gooseBit cannot tell.
    let other = support::Pki::generate(&f.kiosk.path("dev-ca"), "Development");
    let foreign =
        bundle(&other, &f.image, NEW, COMPATIBLE, Format::Plain, &f.kiosk.path("images/dev-signed.raucb"));
    let software = f.server.upload(&foreign).await;
    f.server.rollout("library-a", "default", software).await;

    match f.cycle().await {
        Outcome::Failed(UpdateError::Vet(VetError::Rauc(RaucError::Unverifiable(_)))) => {}
        other => panic!("{other:?}"),
    }
    f.nothing_installed();
    assert!(f.failed_status().contains("RAUC cannot verify the bundle"));
    assert_eq!(f.state().await, "Error");
    assert!(f.server.device_log(DEVICE).await.contains("certificate chain"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifact_corrupted_on_the_server_fails_the_hash_check() {
    let f = Fleet::new().await;
    let software = f.server.upload(&f.bundle).await;
    let stored = f.server.artifact(f.bundle.file_name().unwrap().to_str().unwrap());
    let mut bytes = std::fs::read(&stored).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x55;
    std::fs::write(&stored, bytes).unwrap();
    f.server.rollout("library-a", "default", software).await;

    match f.cycle().await {
        Outcome::Failed(UpdateError::Download(DownloadError::HashMismatch { algorithm, .. })) => {
            assert_eq!(algorithm, "sha1", "gooseBit announces sha1 only");
        }
        other => panic!("{other:?}"),
    }
    f.nothing_installed();
    assert!(f.kiosk.downloads().is_empty(), "a bad download is deleted: {:?}", f.kiosk.downloads());
    assert!(f.failed_status().contains("does not match the server's sha1"));
    assert_eq!(f.state().await, "Error");
    assert!(f.server.device_log(DEVICE).await.contains("does not match"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_short_resumes_where_it_stopped() {
    let f = Fleet::new().await;
    let software = f.server.upload(&f.bundle).await;
    f.server.rollout("library-a", "default", software).await;
    f.proxy.cut_next_download(60_000, false);

    assert!(matches!(f.cycle().await, Outcome::Rebooting));
    let downloads = f.proxy.downloads();
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    let resumed = downloads[1].to_ascii_lowercase();
    let from: u64 = resumed
        .lines()
        .find_map(|l| l.strip_prefix("range: bytes="))
        .and_then(|r| r.trim_end_matches('-').parse().ok())
        .unwrap_or_else(|| panic!("the second request must resume with Range: {resumed}"));
    assert!(from > 0 && from < 60_000, "resumed at {from}");
    assert!(holds(&f.kiosk.slot("B"), &f.image));
    assert_eq!(f.state().await, "Running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_mid_download_is_resumed_at_a_later_poll() {
    let f = Fleet::new().await;
    let software = f.server.upload(&f.bundle).await;
    f.server.rollout("library-a", "default", software).await;
    // Down from the cut until the test brings it back: whatever the machine's load, every
    // attempt below meets the dead server, and the later poll a live one.
    f.proxy.cut_next_download(60_000, true);

    // Three attempts (0.5 s and 1 s apart) all hit the dead server.
    match f.cycle().await {
        Outcome::Failed(UpdateError::Download(DownloadError::GaveUp { attempts, .. })) => {
            assert_eq!(attempts, 3)
        }
        other => panic!("{other:?}"),
    }
    assert!(f.proxy.refused() >= 2);
    assert!(f.failed_status().contains("resumes at the next poll"));
    let partial = f.kiosk.downloads();
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert!(partial[0].ends_with(".part"));
    let have = std::fs::metadata(f.kiosk.path("data/kiosk-update").join(&partial[0])).unwrap().len();
    assert!(have > 0, "the partial download is kept");
    assert_eq!(f.state().await, "Registered", "no failure reported: the action stays open");
    f.nothing_installed();

    // While it is down the poll itself fails, and nothing changes.
    assert!(matches!(f.agent.cycle().await, Err(CycleError::Server(DdiError::Unreachable(_)))));
    f.nothing_installed();
    f.proxy.up();
    assert!(matches!(f.cycle().await, Outcome::Rebooting));
    let last = f.proxy.downloads().last().unwrap().to_ascii_lowercase();
    assert!(last.contains(&format!("range: bytes={have}-")), "must resume at {have}: {last}");
    assert!(holds(&f.kiosk.slot("B"), &f.image));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_waits_for_the_patron_session_to_end() {
    let f = Fleet::new().await;
    let software = f.server.upload(&f.bundle).await;
    f.server.rollout("library-a", "default", software).await;
    let busy = f.kiosk.path("run/session-active");

    // A session runs when the update arrives: nothing is even downloaded.
    std::fs::write(&busy, b"").unwrap();
    assert!(matches!(f.cycle().await, Outcome::Deferred(Defer::SessionActive)));
    assert!(f.proxy.downloads().is_empty());
    match status(&f.kiosk.status_file()).phase {
        Phase::Deferred { reason } => assert_eq!(reason, "waiting for the patron session to end"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&busy).unwrap();

    // A patron starts a session while the bundle downloads: it is kept, not installed.
    let b = busy.clone();
    f.proxy.on_next_download(move || std::fs::write(b, b"").unwrap());
    assert!(matches!(f.cycle().await, Outcome::Deferred(Defer::SessionActive)));
    assert_eq!(f.proxy.downloads().len(), 1);
    assert_eq!(f.kiosk.downloads(), [format!("kiosk-{NEW}.raucb")]);
    f.nothing_installed();
    assert_eq!(f.kiosk.reboots(), 0);
    assert_ne!(f.state().await, "Error");

    // The session ends: the checked bundle is installed without downloading it again.
    std::fs::remove_file(&busy).unwrap();
    assert!(matches!(f.cycle().await, Outcome::Rebooting));
    assert_eq!(f.proxy.downloads().len(), 1);
    assert!(holds(&f.kiosk.slot("B"), &f.image));
    assert_eq!(f.kiosk.reboots(), 1);
}

/// A small tmpfs standing in for a full data partition; unmounted when the kiosk goes.
fn small_partition(f: &Fleet, kib: u32) -> PathBuf {
    let dir = f.kiosk.path("small-data");
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={kib}k,mode=0755"), "kiosk-test-data"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success(), "mounting a tmpfs needs root (CI runs the tests as root)");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_partition_is_reported_and_nothing_is_installed() {
    let mut f = Fleet::new().await;
    let small = small_partition(&f, 64);
    let toml = f.kiosk.agent_toml(&f.proxy.url(), "").replace(
        &format!("download_dir = \"{}\"", f.kiosk.path("data/kiosk-update").display()),
        &format!("download_dir = \"{}\"", small.display()),
    );
    f.agent = Agent::new(f.kiosk.agent_config_from(&toml)).unwrap();
    let software = f.server.upload(&f.bundle).await;
    f.server.rollout("library-a", "default", software).await;

    match f.cycle().await {
        Outcome::Failed(UpdateError::Download(DownloadError::DiskFull { needed, dir })) => {
            assert_eq!(needed, std::fs::metadata(&f.bundle).unwrap().len());
            assert_eq!(dir, small);
        }
        other => panic!("{other:?}"),
    }
    let shown = f.failed_status();
    assert!(shown.contains("the data partition is full"), "{shown}");
    assert_eq!(std::fs::read_dir(&small).unwrap().count(), 0, "the partial download is removed");
    f.nothing_installed();
    assert_eq!(f.state().await, "Error");
    assert!(f.server.device_log(DEVICE).await.contains("the data partition is full"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_failing_its_health_check_rolls_back_and_is_counted_a_failure() {
    let mut f = Fleet::new().await;
    let software = f.server.upload(&f.bundle).await;
    let rollout = f.server.rollout("library-a", "default", software).await;
    assert!(matches!(f.cycle().await, Outcome::Rebooting));
    let config = f.kiosk.path("update.toml");

    assert_eq!(f.kiosk.reboot().await, "B");
    let (ok, log) = f.kiosk.gate(&config, &["false"]);
    assert!(!ok, "{log}");
    assert_eq!(f.kiosk.reboots(), 2, "the gate reboots");
    assert_eq!(f.kiosk.reboot().await, "A", "slot B is marked bad: U-Boot boots A");
    // Back on the old slot, before its gate ran: no reboot either.
    assert!(matches!(f.cycle().await, Outcome::WaitingForHealthCheck));
    assert_eq!(f.kiosk.reboots(), 2);
    let (ok, log) = f.kiosk.gate(&config, &["true"]);
    assert!(ok, "{log}");

    let d = f.server.device(DEVICE).await;
    assert_eq!((d["last_state"].as_str(), d["sw_version"].as_str()), (Some("Error"), Some(RUNNING)), "{d}");
    let r = f.server.rollout_state(rollout).await;
    assert_eq!((r["success_count"].as_i64(), r["failure_count"].as_i64()), (Some(0), Some(1)), "{r}");
    let feedback = f.server.device_log(DEVICE).await;
    assert!(feedback.contains("rolled back to slot A"), "{feedback}");
    assert!(f.failed_status().contains("rolled back to slot A"));
    let release = std::fs::read_to_string(f.kiosk.release_file()).unwrap();
    assert!(release.contains(&format!("VERSION_ID={RUNNING}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_mid_install_is_retried_without_a_failure_report() {
    let kiosk = Kiosk::with(support::KioskOptions { slot_mib: 300, ..Default::default() }).await;
    let server = GooseBit::start(&kiosk.path("goosebit")).await;
    let proxy = Proxy::start(server.addr());
    // 256 MiB (mostly free space): RAUC takes about a second to copy it.
    let image = rootfs(&kiosk.path("images"), NEW, 256, 64);
    let b = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &kiosk.path("images/big.raucb"));
    let mut f = Fleet {
        agent: Agent::new(kiosk.agent_config(&proxy.url(), "")).unwrap(),
        proxy,
        server,
        kiosk,
        image,
        bundle: b,
    };
    assert!(matches!(f.cycle().await, Outcome::UpToDate));
    let software = f.server.upload(&f.bundle).await;
    f.server.rollout("library-a", "default", software).await;

    // Pull the plug when the admin screen shows RAUC copying the image.
    let (status_file, pid) = (f.kiosk.status_file(), f.kiosk.rauc_pid());
    let watcher = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(s) = kiosk_update::status::read(&status_file)
                && let Phase::Installing { step, .. } = s.phase
                && step.starts_with("Copying image")
            {
                let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    });
    let outcome = f.cycle().await;
    assert!(watcher.join().unwrap(), "the status never showed the copy");
    assert!(matches!(outcome, Outcome::Failed(UpdateError::Rauc(RaucError::ServiceLost))), "{outcome:?}");
    assert!(f.failed_status().contains("RAUC stopped in the middle of the install"));
    assert_eq!(f.state().await, "Running", "no failure reported: the action stays open");
    assert_eq!(f.kiosk.downloads(), ["big.raucb"], "the checked bundle is kept");

    assert_eq!(f.kiosk.reboot().await, "A", "the interrupted slot is not booted");
    assert!(holds(&f.kiosk.slot("A"), &f.kiosk.running_image));
    assert!(matches!(f.cycle().await, Outcome::Rebooting));
    assert_eq!(f.proxy.downloads().len(), 1, "installed from the kept bundle");
    assert!(holds(&f.kiosk.slot("B"), &f.image));
    assert_eq!(f.kiosk.boot_order(), ["B", "A"]);
}
