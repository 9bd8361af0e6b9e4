#![allow(clippy::unwrap_used)]
//! The agent's `rauc` module against the real RAUC 1.8 (Debian) over a private D-Bus, with
//! the production system.conf on file-backed slots, the real U-Boot environment tools on a
//! file, and the production boot script: signed bundles install into the other slot;
//! unsigned, tampered, foreign-CA, wrong-hardware and older bundles are refused; unblessed
//! slots fall back after three boots; the real `kiosk-update gate` binary blesses or rolls
//! back; a power cut in the middle of an install leaves the running slot alone.
//!
//! Bundles are plain here: this CI kernel has no dm-verity, so RAUC cannot install verity
//! bundles (the production config, which refuses plain, is checked separately).

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use kiosk_update::agent::{Pending, VetError, vet};
use kiosk_update::rauc::RaucError;
use kiosk_update::status::Phase;
use kiosk_update::version::Version;
use support::{
    COMPATIBLE, Format, Kiosk, KioskOptions, NEW, Pki, RUNNING, bundle, holds, rootfs, run, status,
};

const INSTALL: Duration = Duration::from_secs(60);

fn running() -> Version {
    Version::parse(RUNNING).unwrap()
}

async fn slot_status(kiosk: &Kiosk) -> HashMap<String, HashMap<String, String>> {
    kiosk.rauc().await.slot_status().await.unwrap().into_iter().collect()
}

fn zeroes_at_start(path: &Path) -> bool {
    use std::io::Read;
    let mut buf = vec![0u8; 1 << 20];
    std::fs::File::open(path).unwrap().read_exact(&mut buf).unwrap();
    buf.iter().all(|b| *b == 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_bundle_installs_into_the_other_slot_and_boots() {
    let mut kiosk = Kiosk::new().await;
    let image = rootfs(&kiosk.path("images"), NEW, 16, 256);
    let b = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &kiosk.path("images/new.raucb"));
    let rauc = kiosk.rauc().await;

    let v = vet(&rauc, b.to_str().unwrap(), COMPATIBLE, &running()).await.unwrap();
    assert_eq!(v.as_str(), NEW);
    let mut progress = Vec::new();
    rauc.install(b.to_str().unwrap(), INSTALL, |p, m| progress.push((p, m.to_owned()))).await.unwrap();

    assert!(holds(&kiosk.slot("B"), &image), "slot B must hold the new image byte for byte");
    assert!(holds(&kiosk.slot("A"), &kiosk.running_image), "the running slot must not change");
    assert_eq!(kiosk.boot_order(), ["B", "A"], "the new slot boots first");
    assert_eq!(kiosk.tries_left("B"), 3);
    assert_eq!(rauc.primary().await.unwrap(), "rootfs.1");
    assert_eq!(slot_status(&kiosk).await["rootfs.1"]["bundle.version"], NEW);
    assert!(progress.len() >= 2 && progress.last().unwrap().0 == 100, "progress: {progress:?}");

    assert_eq!(kiosk.reboot().await, "B");
    let release = std::fs::read_to_string(kiosk.release_file()).unwrap();
    assert!(release.contains(&format!("VERSION_ID={NEW}")), "{release}");
    assert_eq!(kiosk.rauc().await.boot_slot().await.unwrap(), "B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_tampered_foreign_and_wrong_hardware_bundles_are_refused() {
    let kiosk = Kiosk::new().await;
    let dir = kiosk.path("images");
    let image = rootfs(&dir, NEW, 16, 256);
    let good = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &dir.join("good.raucb"));

    // Unsigned: the same payload as a bare squashfs, no signature.
    let content = dir.join("unsigned");
    std::fs::create_dir_all(&content).unwrap();
    std::fs::copy(&image, content.join("rootfs.ext4")).unwrap();
    std::fs::write(
        content.join("manifest.raucm"),
        format!("[update]\ncompatible={COMPATIBLE}\nversion={NEW}\n\n[image.rootfs]\nfilename=rootfs.ext4\n"),
    )
    .unwrap();
    let unsigned = dir.join("unsigned.raucb");
    run(std::process::Command::new("mksquashfs").arg(&content).arg(&unsigned).args([
        "-all-root",
        "-noappend",
        "-quiet",
    ]));

    // Tampered: one byte of the signed payload flipped.
    let tampered = dir.join("tampered.raucb");
    let mut bytes = std::fs::read(&good).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&tampered, bytes).unwrap();

    // Signed by another CA (a valid chain, just not ours).
    let other = Pki::generate(&kiosk.path("other-ca"), "Someone else");
    let foreign = bundle(&other, &image, NEW, COMPATIBLE, Format::Plain, &dir.join("foreign.raucb"));

    // Signed by us, for other hardware.
    let wrong = bundle(&kiosk.pki, &image, NEW, "kiosk-rpi5", Format::Plain, &dir.join("wrong.raucb"));

    let env_before = kiosk.env();
    let rauc = kiosk.rauc().await;
    for (name, b, rauc_says) in [
        ("unsigned", &unsigned, "signature"),
        ("tampered", &tampered, "signature"),
        ("foreign CA", &foreign, "signature verification failed"),
        ("wrong compatible", &wrong, "Compatible mismatch"),
    ] {
        let path = b.to_str().unwrap();
        match rauc.install(path, INSTALL, |_, _| {}).await {
            Err(RaucError::Refused(why)) => {
                println!("{name}: RAUC: {why}");
                assert!(
                    why.to_lowercase().contains(&rauc_says.to_lowercase()),
                    "{name}: RAUC said {why:?}, expected {rauc_says:?}"
                );
            }
            other => panic!("{name}: RAUC must refuse the install, got {other:?}"),
        }
        let vetted = vet(&rauc, path, COMPATIBLE, &running()).await;
        match (name, vetted) {
            ("wrong compatible", Err(VetError::WrongCompatible { bundle, kiosk })) => {
                assert_eq!((bundle.as_str(), kiosk.as_str()), ("kiosk-rpi5", COMPATIBLE));
            }
            (_, Err(e @ VetError::Rauc(RaucError::Unverifiable(_)))) => println!("{name}: vet: {e}"),
            (_, other) => panic!("{name}: the agent's vet must refuse it, got {other:?}"),
        }
    }
    assert!(zeroes_at_start(&kiosk.slot("B")), "nothing may be written to slot B");
    assert!(holds(&kiosk.slot("A"), &kiosk.running_image));
    assert_eq!(kiosk.env(), env_before, "the boot order must not change");
    // The good one still goes in (the refusals left RAUC in a sane state).
    rauc.install(good.to_str().unwrap(), INSTALL, |_, _| {}).await.unwrap();
    assert!(holds(&kiosk.slot("B"), &image));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_version_is_refused_by_the_agent_though_rauc_1_8_would_install_it() {
    let kiosk = Kiosk::new().await;
    let dir = kiosk.path("images");
    let older = "2026.1.0";
    let image = rootfs(&dir, older, 16, 64);
    let b = bundle(&kiosk.pki, &image, older, COMPATIBLE, Format::Plain, &dir.join("older.raucb"));
    let same = bundle(&kiosk.pki, &image, RUNNING, COMPATIBLE, Format::Plain, &dir.join("same.raucb"));
    let rauc = kiosk.rauc().await;

    match vet(&rauc, b.to_str().unwrap(), COMPATIBLE, &running()).await {
        Err(e @ VetError::Downgrade { .. }) => {
            let message = e.to_string();
            assert!(message.contains(older) && message.contains(RUNNING), "{message}");
        }
        other => panic!("a downgrade must be refused, got {other:?}"),
    }
    // Reinstalling the running version is allowed (repairs a damaged other slot).
    vet(&rauc, same.to_str().unwrap(), COMPATIBLE, &running()).await.unwrap();
    // RAUC 1.8 has no min-bundle-version: it installs the older bundle itself. The agent's
    // check above is what stands between a kiosk and a downgrade on Debian 12's RAUC.
    rauc.install(b.to_str().unwrap(), INSTALL, |_, _| {}).await.unwrap();
    assert!(holds(&kiosk.slot("B"), &image));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_production_config_refuses_plain_bundles_and_verifies_verity_ones() {
    let kiosk = Kiosk::with(KioskOptions { production_formats: true, ..KioskOptions::default() }).await;
    let dir = kiosk.path("images");
    let image = rootfs(&dir, NEW, 16, 256);
    let plain = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &dir.join("plain.raucb"));
    let verity = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Verity, &dir.join("verity.raucb"));
    let rauc = kiosk.rauc().await;

    match rauc.install(plain.to_str().unwrap(), INSTALL, |_, _| {}).await {
        Err(RaucError::Refused(why)) => assert!(why.contains("'plain' not allowed"), "{why}"),
        other => panic!("bundle-formats=-plain must refuse a plain bundle, got {other:?}"),
    }
    assert!(matches!(
        vet(&rauc, plain.to_str().unwrap(), COMPATIBLE, &running()).await,
        Err(VetError::Rauc(_))
    ));
    // The verity bundle passes RAUC's signature check and the agent's checks.
    let v = vet(&rauc, verity.to_str().unwrap(), COMPATIBLE, &running()).await.unwrap();
    assert_eq!(v.as_str(), NEW);
    // Installing it needs dm-verity in the kernel, which this CI machine may not have.
    let installed = rauc.install(verity.to_str().unwrap(), INSTALL, |_, _| {}).await;
    if Path::new("/dev/mapper/control").exists() {
        installed.unwrap();
        assert!(holds(&kiosk.slot("B"), &image));
    } else {
        match installed {
            Err(RaucError::Refused(why)) => assert!(why.contains("/dev/mapper/control"), "{why}"),
            other => panic!("without device-mapper RAUC cannot mount a verity bundle, got {other:?}"),
        }
        assert!(zeroes_at_start(&kiosk.slot("B")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_never_marked_good_falls_back_after_three_boots() {
    let mut kiosk = Kiosk::new().await;
    let image = rootfs(&kiosk.path("images"), NEW, 16, 64);
    let b = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &kiosk.path("images/new.raucb"));
    kiosk.rauc().await.install(b.to_str().unwrap(), INSTALL, |_, _| {}).await.unwrap();

    for left in [2, 1, 0] {
        assert_eq!(kiosk.reboot().await, "B", "the new slot gets three tries");
        assert_eq!(kiosk.tries_left("B"), left);
    }
    assert_eq!(kiosk.reboot().await, "A", "after three unblessed boots U-Boot boots the old slot");
    assert_eq!(kiosk.tries_left("A"), 2);
    let release = std::fs::read_to_string(kiosk.release_file()).unwrap();
    assert!(release.contains(&format!("VERSION_ID={RUNNING}")), "{release}");
    let slots = slot_status(&kiosk).await;
    assert_eq!(slots["rootfs.1"]["boot-status"], "bad", "{slots:?}");
    assert_eq!(slots["rootfs.0"]["state"], "booted");
    // And it stays on A: B has no try left.
    assert_eq!(kiosk.reboot().await, "A");
}

/// Installs [`NEW`] the way the agent does (record included) and reboots into it.
async fn installed_and_rebooted(kiosk: &mut Kiosk) -> std::path::PathBuf {
    let image = rootfs(&kiosk.path("images"), NEW, 16, 64);
    let b = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &kiosk.path("images/new.raucb"));
    kiosk.rauc().await.install(b.to_str().unwrap(), INSTALL, |_, _| {}).await.unwrap();
    Pending { action_id: "7".into(), version: NEW.into(), from_slot: "A".into() }
        .write(&kiosk.path("data/kiosk-update"))
        .unwrap();
    assert_eq!(kiosk.reboot().await, "B");
    assert_eq!(kiosk.tries_left("B"), 2);
    // No server in these tests: feedback goes nowhere (the gate only warns).
    kiosk.write_agent_config("http://127.0.0.1:9", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_marks_a_healthy_new_slot_good() {
    let mut kiosk = Kiosk::new().await;
    let config = installed_and_rebooted(&mut kiosk).await;

    let (ok, log) = kiosk.gate(&config, &["true"]);
    assert!(ok, "{log}");
    assert!(log.contains("UpdateConfirmed"), "{log}");
    assert_eq!(kiosk.tries_left("B"), 3, "mark good gives the slot its tries back");
    assert_eq!(kiosk.boot_order()[0], "B");
    assert_eq!(slot_status(&kiosk).await["rootfs.1"]["boot-status"], "good");
    assert!(Pending::read(&kiosk.path("data/kiosk-update")).is_none());
    let s = status(&kiosk.status_file());
    assert_eq!((s.phase, s.version.as_deref()), (Phase::Idle, Some(NEW)));
    assert_eq!(kiosk.reboots(), 0);
    // It keeps booting B.
    assert_eq!(kiosk.reboot().await, "B");
    let (ok, log) = kiosk.gate(&config, &["true"]);
    assert!(ok && log.contains("Healthy"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_rolls_an_unhealthy_new_slot_back() {
    let mut kiosk = Kiosk::new().await;
    let config = installed_and_rebooted(&mut kiosk).await;

    let (ok, log) = kiosk.gate(&config, &["false"]);
    assert!(!ok, "an unhealthy update must fail the gate:\n{log}");
    assert!(log.contains("RollingBack"), "{log}");
    assert_eq!(kiosk.tries_left("B"), 0, "mark bad takes the slot's tries");
    assert_eq!(kiosk.reboots(), 1, "the gate reboots into the old slot");
    match status(&kiosk.status_file()).phase {
        Phase::Failed { error } => assert!(error.contains("failed the health check"), "{error}"),
        other => panic!("{other:?}"),
    }

    assert_eq!(kiosk.reboot().await, "A");
    let (ok, log) = kiosk.gate(&config, &["true"]);
    assert!(ok, "the old slot is healthy:\n{log}");
    assert!(log.contains("RolledBack"), "{log}");
    assert!(Pending::read(&kiosk.path("data/kiosk-update")).is_none());
    match status(&kiosk.status_file()).phase {
        Phase::Failed { error } => assert!(error.contains("rolled back to slot A"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(kiosk.tries_left("A"), 3);
    assert!(holds(&kiosk.slot("A"), &kiosk.running_image));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_during_the_install_leaves_the_running_slot_alone() {
    let mut kiosk = Kiosk::with(KioskOptions { slot_mib: 300, ..KioskOptions::default() }).await;
    // 256 MiB: RAUC needs about a second to copy it, long enough to pull the plug.
    let image = rootfs(&kiosk.path("images"), NEW, 256, 64);
    let b = bundle(&kiosk.pki, &image, NEW, COMPATIBLE, Format::Plain, &kiosk.path("images/big.raucb"));
    let env_before = kiosk.env();
    let pid = kiosk.rauc_pid().to_string();

    let rauc = kiosk.rauc().await;
    let mut killed_at = None;
    let cut = tokio::time::timeout(
        Duration::from_secs(30),
        rauc.install(b.to_str().unwrap(), INSTALL, |percent, message| {
            if killed_at.is_none() && message.starts_with("Copying image") {
                killed_at = Some((percent, message.to_owned()));
                run(std::process::Command::new("kill").args(["-9", &pid]));
            }
        }),
    )
    .await
    .expect("the agent must notice at once that RAUC is gone, not wait for the install timeout");
    assert!(killed_at.is_some(), "RAUC never reported copying the image");
    assert!(matches!(cut, Err(RaucError::ServiceLost)), "{cut:?}");

    kiosk.power_cut();
    assert!(holds(&kiosk.slot("A"), &kiosk.running_image), "the running slot must be untouched");
    assert_eq!(kiosk.boot_order()[0], "A", "the booted slot stays first: {:?}", kiosk.env());
    assert_eq!(kiosk.tries_left("A"), 3);
    assert_eq!(env_before["BOOT_A_LEFT"], "3");
    assert_eq!(kiosk.reboot().await, "A", "after the power cut the kiosk boots what it ran");
    let release = std::fs::read_to_string(kiosk.release_file()).unwrap();
    assert!(release.contains(&format!("VERSION_ID={RUNNING}")), "{release}");

    // The next attempt starts from scratch and succeeds.
    kiosk.rauc().await.install(b.to_str().unwrap(), INSTALL, |_, _| {}).await.unwrap();
    assert!(holds(&kiosk.slot("B"), &image));
    assert_eq!(kiosk.boot_order(), ["B", "A"]);
}
