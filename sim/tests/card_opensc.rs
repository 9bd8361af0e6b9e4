//! Peer test: OpenSC's JPKI driver (code nobody here wrote) against our virtual card
//! through the same private pcscd + vpcd. If OpenSC disagrees, the virtual card is wrong.

use std::process::Command;

use kiosk_sim::card::stack::{Pcscd, READY_TIMEOUT, enter_private_stack};
use kiosk_sim::card::{CardConfig, Inserted, TestPki, lock, shared_card};

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd} {args:?} failed ({}):\n{text}", out.status);
    text
}

#[test]
fn opensc_reads_and_signs_with_the_virtual_card() {
    if !enter_private_stack("opensc_reads_and_signs_with_the_virtual_card") {
        return;
    }
    let pcscd = Pcscd::start().unwrap();
    pcscd.wait_ready().unwrap();
    let card = shared_card(CardConfig::default()).unwrap();
    let _inserted = Inserted::insert(card.clone(), pcscd.card_addr(), READY_TIMEOUT).unwrap();
    let mut readers = kiosk_card::pcsc::PcscReaders::new(kiosk_sim::card::stack::READER);
    readers.wait_for_card(READY_TIMEOUT).unwrap();

    let dir = std::env::temp_dir().join(format!("kiosk-opensc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();

    // 1. OpenSC names the card jpki.
    let name = run("opensc-tool", &["-r", "0", "-n"]);
    assert!(name.lines().any(|l| l.trim() == "jpki"), "opensc-tool -n said:\n{name}");

    // 2. The user-authentication PIN shows 3 tries.
    let pins = run("pkcs15-tool", &["-r", "0", "--list-pins"]);
    let auth = pins.split("PIN [").find(|b| b.starts_with("User Authentication PIN")).expect(&pins);
    assert!(
        auth.contains("Tries left")
            && auth.lines().any(|l| l.contains("Tries left") && l.trim_end().ends_with('3')),
        "{pins}"
    );

    // 3. OpenSC reads back our certificate.
    let pem = run("pkcs15-tool", &["-r", "0", "--read-certificate", "01"]);
    std::fs::write(path("cert.pem"), pem.as_bytes()).unwrap();
    run("openssl", &["x509", "-in", &path("cert.pem"), "-outform", "DER", "-out", &path("cert.der")]);
    let pki = TestPki::shared().unwrap();
    assert_eq!(std::fs::read(path("cert.der")).unwrap(), pki.user_cert_der);

    // 4. OpenSC signs with the right PIN; openssl verifies with the certificate's key.
    std::fs::write(path("data"), b"a challenge from the kiosk").unwrap();
    run("openssl", &["dgst", "-sha256", "-binary", "-out", &path("digest"), &path("data")]);
    lock(&card).clear_log();
    run(
        "pkcs15-crypt",
        &[
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
            &path("digest"),
            "-o",
            &path("sig"),
        ],
    );
    run("openssl", &["x509", "-in", &path("cert.pem"), "-pubkey", "-noout", "-out", &path("pub.pem")]);
    let verified = run(
        "openssl",
        &["dgst", "-sha256", "-verify", &path("pub.pem"), "-signature", &path("sig"), &path("data")],
    );
    assert!(verified.contains("Verified OK"), "{verified}");
    let _ = std::fs::remove_dir_all(&dir);
}
