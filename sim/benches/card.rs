#![allow(clippy::unwrap_used, clippy::print_stdout)]
//! Card benchmark over the real stack (virtual card → vpcd → private pcscd → pcsc-lite):
//! APDUs, bytes and wall time from "card present" to "certificate read" and from "PIN
//! submitted" to "signature verified", for kiosk-card and for OpenSC doing the same work
//! on the same card (counted from the card's APDU log). `cargo bench -p kiosk-sim --bench card`.

use std::process::Command;
use std::time::{Duration, Instant};

use kiosk_card::pcsc::{PcscReaders, Presence};
use kiosk_card::{Jpki, JpkiCertificate, PinOutcome, ReadMode};
use kiosk_sim::card::stack::{INSIDE_ENV, Pcscd, READER, READY_TIMEOUT, rerun_in_private_stack};
use kiosk_sim::card::{CardConfig, Inserted, SharedCard, lock, shared_card};

const RUNS: usize = 15;

#[derive(Clone, Copy, Debug, Default)]
struct Figure {
    apdus: usize,
    bytes: usize,
    time: Duration,
}

fn card_traffic(card: &SharedCard) -> (usize, usize) {
    let c = lock(card);
    (c.log().len(), c.log().iter().map(|e| e.command.len() + e.response.len()).sum())
}

fn median(mut runs: Vec<Figure>) -> Figure {
    runs.sort_by_key(|f| f.time);
    runs[runs.len() / 2]
}

fn measure(card: &SharedCard, f: impl FnOnce()) -> Figure {
    lock(card).clear_log();
    let t = Instant::now();
    f();
    let time = t.elapsed();
    let (apdus, bytes) = card_traffic(card);
    Figure { apdus, bytes, time }
}

fn opensc(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn inside() {
    let pcscd = Pcscd::start().unwrap();
    pcscd.wait_ready().unwrap();
    let card = shared_card(CardConfig::default()).unwrap();
    let _inserted = Inserted::insert(card.clone(), pcscd.card_addr(), READY_TIMEOUT).unwrap();
    let mut readers = PcscReaders::new(READER);
    let Presence::Card { reader, .. } = readers.wait_for_card(READY_TIMEOUT).unwrap() else {
        panic!("no card")
    };
    let challenge = b"kiosk challenge 0123456789abcdef";

    let mut rows = Vec::new();
    for (name, mode) in
        [("kiosk-card, extended", ReadMode::Auto), ("kiosk-card, 256-byte chunks", ReadMode::ShortChunks)]
    {
        let mut cert_runs = Vec::new();
        let mut sign_runs = Vec::new();
        for _ in 0..RUNS {
            let mut cert = None;
            let mut jpki = None;
            cert_runs.push(measure(&card, || {
                let mut j = Jpki::new(readers.connect(&reader).unwrap(), mode);
                cert = Some(JpkiCertificate::from_der(&j.read_auth_certificate().unwrap()).unwrap());
                jpki = Some(j);
            }));
            let (mut jpki, cert) = (jpki.unwrap(), cert.unwrap());
            jpki.pin_tries().unwrap();
            sign_runs.push(measure(&card, || {
                assert_eq!(jpki.verify_pin(b"1234").unwrap(), PinOutcome::Verified);
                let sig = jpki.sign_message(challenge).unwrap();
                cert.verify_message(challenge, &sig).unwrap();
            }));
            jpki.into_transport().close().unwrap();
        }
        rows.push((name, median(cert_runs), median(sign_runs)));
    }

    let dir = std::env::temp_dir().join(format!("kiosk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let digest = dir.join("digest");
    std::fs::write(&digest, [0x5Au8; 32]).unwrap();
    let sig = dir.join("sig");
    let (digest, sig) = (digest.to_string_lossy().into_owned(), sig.to_string_lossy().into_owned());
    let mut cert_runs = Vec::new();
    let mut sign_runs = Vec::new();
    for _ in 0..RUNS.min(5) {
        cert_runs.push(measure(&card, || opensc(&["pkcs15-tool", "-r", "0", "--read-certificate", "01"])));
        sign_runs.push(measure(&card, || {
            opensc(&[
                "pkcs15-crypt",
                "-r",
                "0",
                "--sign",
                "--key",
                "01",
                "--pkcs1",
                "--sha-256",
                "--pin",
                "1234",
                "-i",
                &digest,
                "-o",
                &sig,
            ])
        }));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let osc =
        ("OpenSC 0.23 (pkcs15-tool / pkcs15-crypt, whole process)", median(cert_runs), median(sign_runs));

    println!("| who | certificate: APDUs | bytes | time | PIN + signature: APDUs | bytes | time |");
    println!("|---|---|---|---|---|---|---|");
    for (name, c, s) in rows.iter().chain(std::iter::once(&osc)) {
        println!(
            "| {name} | {} | {} | {:.1} ms | {} | {} | {:.1} ms |",
            c.apdus,
            c.bytes,
            c.time.as_secs_f64() * 1e3,
            s.apdus,
            s.bytes,
            s.time.as_secs_f64() * 1e3
        );
    }
    let ours = rows[0];
    println!(
        "\nkiosk-card (extended) / OpenSC: certificate APDUs {}/{}, bytes {:.2}, time {:.3}; PIN+signature APDUs {}/{}, bytes {:.2}, time {:.3}",
        ours.1.apdus,
        osc.1.apdus,
        ours.1.bytes as f64 / osc.1.bytes as f64,
        ours.1.time.as_secs_f64() / osc.1.time.as_secs_f64(),
        ours.2.apdus,
        osc.2.apdus,
        ours.2.bytes as f64 / osc.2.bytes as f64,
        ours.2.time.as_secs_f64() / osc.2.time.as_secs_f64(),
    );
    // What the card worker adds to every command: zeroing 256 KiB of its stack.
    let mut scrubs: Vec<Duration> = (0..2_000)
        .map(|_| {
            let t = Instant::now();
            kiosk_card::scrub::scrub_stack();
            t.elapsed()
        })
        .collect();
    scrubs.sort();
    println!(
        "\nstack scrub after each card command ({} KiB): p50 {:.1} µs, p99 {:.1} µs",
        kiosk_card::scrub::SCRUB_BYTES / 1024,
        scrubs[scrubs.len() / 2].as_secs_f64() * 1e6,
        scrubs[scrubs.len() * 99 / 100].as_secs_f64() * 1e6
    );
}

fn main() {
    if std::env::var_os(INSIDE_ENV).is_some() {
        inside();
        return;
    }
    // `cargo test --benches` runs bench binaries too: measure only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let out = rerun_in_private_stack(&["--bench"]).unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.status.success(), "card benchmark failed:\n{}", String::from_utf8_lossy(&out.stderr));
}
