#![allow(clippy::unwrap_used)]
//! The card driver through the real stack: our virtual JPKI card → vsmartcard vpcd →
//! a private pcscd → pcsc-lite → `kiosk-card`. Each test runs in its own mount and
//! network namespace (see `kiosk_sim::card::stack`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kiosk_card::pcsc::{PcscCard, PcscReaders, Presence};
use kiosk_card::{CardError, FaultClass, Jpki, JpkiCertificate, PinOutcome, PinStatus, ReadMode};
use kiosk_sim::card::stack::{Pcscd, READER, READY_TIMEOUT, enter_private_stack};
use kiosk_sim::card::{
    CardConfig, Fault, Inserted, SharedCard, TestPki, lock, selects_other_application, shared_card,
};

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

/// pcscd up, card inserted, connected.
fn setup(config: CardConfig) -> (Pcscd, SharedCard, Inserted, PcscReaders, PcscCard) {
    let pcscd = Pcscd::start().unwrap();
    pcscd.wait_ready().unwrap();
    let card = shared_card(config).unwrap();
    let inserted = Inserted::insert(card.clone(), pcscd.card_addr(), READY_TIMEOUT).unwrap();
    let mut readers = PcscReaders::new(READER);
    let Presence::Card { reader, .. } = readers.wait_for_card(READY_TIMEOUT).unwrap() else {
        panic!("no card seen; pcscd log:\n{}", pcscd.log())
    };
    let conn = readers.connect(&reader).unwrap();
    (pcscd, card, inserted, readers, conn)
}

/// Polls `cond` for up to 5 s.
fn eventually(cond: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

fn assert_only_jpki_selected(card: &SharedCard) {
    let log = lock(card).log().to_vec();
    assert!(!log.is_empty());
    assert!(log.iter().all(|e| !selects_other_application(&e.command)), "an AP other than JPKI was selected");
}

#[test]
fn certificate_tries_pin_and_signature_through_pcscd() {
    if !enter_private_stack("certificate_tries_pin_and_signature_through_pcscd") {
        return;
    }
    let (_pcscd, card, _inserted, _readers, conn) = setup(CardConfig::default());
    assert!(kiosk_card::Transport::extended_length(&conn), "vpcd advertises extended APDUs");
    let mut jpki = Jpki::new(conn, ReadMode::Auto);
    let der = jpki.read_auth_certificate().unwrap();
    assert!(jpki.traffic().apdus <= 3, "certificate in {} APDUs", jpki.traffic().apdus);
    let pki = TestPki::shared().unwrap();
    assert_eq!(der, pki.user_cert_der);
    let cert = JpkiCertificate::from_der(&der).unwrap();
    let ca = JpkiCertificate::from_der(&pki.ca_cert_der).unwrap();
    assert_eq!(cert.verify_chain(std::slice::from_ref(&ca), now()).unwrap(), 0);
    assert!(cert.subject().contains("CN=997794E9AGCIEG13221003A"));
    assert_eq!(jpki.token_label().unwrap(), "JPKIAPICCTOKEN2");

    assert_eq!(jpki.pin_tries().unwrap(), PinStatus::TriesLeft(3));
    let before = jpki.traffic().apdus;
    assert_eq!(jpki.verify_pin(b"1234").unwrap(), PinOutcome::Verified);
    let signature = jpki.sign_message(b"challenge").unwrap();
    assert!(jpki.traffic().apdus - before <= 4, "PIN + signature in {} APDUs", jpki.traffic().apdus - before);
    cert.verify_message(b"challenge", &signature).unwrap();
    assert!(lock(&card).is_auth_pin_verified());

    jpki.into_transport().close().unwrap();
    // vpcd's power-off message needs no answer, so it may reach the card just after
    // SCardDisconnect returns: wait for it, bounded.
    assert!(eventually(|| !lock(&card).is_auth_pin_verified()), "UnpowerCard at session end clears the PIN");
    assert_only_jpki_selected(&card);
}

#[test]
fn short_chunks_read_the_same_certificate() {
    if !enter_private_stack("short_chunks_read_the_same_certificate") {
        return;
    }
    let (_pcscd, _card, _inserted, _readers, conn) = setup(CardConfig::default());
    let mut jpki = Jpki::new(conn, ReadMode::ShortChunks);
    let der = jpki.read_auth_certificate().unwrap();
    assert_eq!(der, TestPki::shared().unwrap().user_cert_der);
    let chunks = der.len().div_ceil(256) as u32;
    assert_eq!(jpki.traffic().apdus, 2 + chunks);
}

#[test]
fn wrong_pin_down_to_lock_then_blocked() {
    if !enter_private_stack("wrong_pin_down_to_lock_then_blocked") {
        return;
    }
    let (_pcscd, card, _inserted, _readers, conn) = setup(CardConfig::default());
    let mut jpki = Jpki::new(conn, ReadMode::Auto);
    assert_eq!(jpki.pin_tries().unwrap(), PinStatus::TriesLeft(3));
    assert_eq!(jpki.verify_pin(b"0000").unwrap(), PinOutcome::Wrong { tries_left: 2 });
    assert_eq!(jpki.pin_tries().unwrap(), PinStatus::TriesLeft(2));
    assert_eq!(jpki.verify_pin(b"1111").unwrap(), PinOutcome::Wrong { tries_left: 1 });
    assert_eq!(jpki.verify_pin(b"2222").unwrap(), PinOutcome::Blocked, "63C0 on the exhausting try");
    assert_eq!(jpki.pin_tries().unwrap(), PinStatus::Blocked);
    assert_eq!(jpki.verify_pin(b"1234").unwrap(), PinOutcome::Blocked, "6984 afterwards, even the right PIN");
    assert!(matches!(jpki.sign_message(b"x"), Err(CardError::PinNotVerified)));
    assert_eq!(lock(&card).auth_tries(), 0);
}

#[test]
fn blocked_card_reports_blocked_without_spending_anything() {
    if !enter_private_stack("blocked_card_reports_blocked_without_spending_anything") {
        return;
    }
    let (_pcscd, card, _inserted, _readers, conn) =
        setup(CardConfig { auth_tries: 0, ..CardConfig::default() });
    let mut jpki = Jpki::new(conn, ReadMode::Auto);
    assert_eq!(jpki.pin_tries().unwrap(), PinStatus::Blocked);
    let verifies = lock(&card).log().iter().filter(|e| e.command.get(1) == Some(&0x20)).count();
    assert_eq!(verifies, 1);
}

#[test]
fn card_removed_during_the_certificate_read() {
    if !enter_private_stack("card_removed_during_the_certificate_read") {
        return;
    }
    let config = CardConfig { faults: vec![Fault::Yank { ins: 0xB0, nth: 2 }], ..CardConfig::default() };
    let (_pcscd, card, _inserted, mut readers, conn) = setup(config);
    let mut jpki = Jpki::new(conn, ReadMode::ShortChunks);
    let e = jpki.read_auth_certificate().unwrap_err();
    assert!(matches!(e.class(), FaultClass::CardRemoved | FaultClass::Unreadable), "{e:?}");
    assert!(lock(&card).log().last().unwrap().response.is_empty(), "the card left mid-APDU");
    drop(jpki);
    let reader = readers.find_reader().unwrap().unwrap();
    assert!(readers.wait_for_removal(&reader, READY_TIMEOUT).unwrap());
}

#[test]
fn card_removed_during_verify_spends_no_try() {
    if !enter_private_stack("card_removed_during_verify_spends_no_try") {
        return;
    }
    // The first VERIFY is the tries query; the card leaves during the second.
    let config = CardConfig { faults: vec![Fault::Yank { ins: 0x20, nth: 2 }], ..CardConfig::default() };
    let (_pcscd, card, _inserted, _readers, conn) = setup(config);
    let mut jpki = Jpki::new(conn, ReadMode::Auto);
    assert_eq!(jpki.pin_tries().unwrap(), PinStatus::TriesLeft(3));
    let e = jpki.verify_pin(b"0000").unwrap_err();
    assert!(matches!(e.class(), FaultClass::CardRemoved | FaultClass::Unreadable), "{e:?}");
    let verifies = lock(&card).log().iter().filter(|e| e.command.get(1) == Some(&0x20)).count();
    assert_eq!(verifies, 2, "the driver did not resend the VERIFY");
    assert_eq!(lock(&card).auth_tries(), 3);
}

#[test]
fn reader_absent_at_start_then_appearing_and_pcscd_restart() {
    if !enter_private_stack("reader_absent_at_start_then_appearing_and_pcscd_restart") {
        return;
    }
    // The driver waits before pcscd (and so the reader) exists.
    let waiter = std::thread::spawn(|| PcscReaders::new(READER).wait_for_card(Duration::from_secs(30)));
    let mut pcscd = Pcscd::start().unwrap();
    pcscd.wait_ready().unwrap();
    let card = shared_card(CardConfig::default()).unwrap();
    let inserted = Inserted::insert(card.clone(), pcscd.card_addr(), READY_TIMEOUT).unwrap();
    let presence = waiter.join().unwrap().unwrap();
    assert!(matches!(presence, Presence::Card { .. }), "{presence:?}");

    // pcscd dies and comes back: the same PcscReaders recovers.
    let mut readers = PcscReaders::new(READER);
    assert!(matches!(readers.wait_for_card(READY_TIMEOUT).unwrap(), Presence::Card { .. }));
    drop(inserted);
    pcscd.restart().unwrap();
    pcscd.wait_ready().unwrap();
    let _inserted = Inserted::insert(card, pcscd.card_addr(), READY_TIMEOUT).unwrap();
    let Presence::Card { reader, .. } = readers.wait_for_card(READY_TIMEOUT).unwrap() else {
        panic!("card not seen after the pcscd restart")
    };
    let mut jpki = Jpki::new(readers.connect(&reader).unwrap(), ReadMode::Auto);
    assert_eq!(jpki.pin_tries().unwrap(), PinStatus::TriesLeft(3));
}

#[test]
fn wait_for_card_times_out_on_an_empty_reader() {
    if !enter_private_stack("wait_for_card_times_out_on_an_empty_reader") {
        return;
    }
    let pcscd = Pcscd::start().unwrap();
    pcscd.wait_ready().unwrap();
    let mut readers = PcscReaders::new(READER);
    let t = std::time::Instant::now();
    assert_eq!(readers.wait_for_card(Duration::from_millis(300)).unwrap(), Presence::TimedOut);
    assert!(t.elapsed() >= Duration::from_millis(250));
}

/// A patron's session through pcsc-lite on a thread of its own (certificate, PIN,
/// signature, power off), then that thread's stack read from here while it waits: once it
/// has scrubbed (`kiosk_card::scrub`, as the kiosk's card worker does after each
/// command), neither the certificate's serial nor the PIN is left on it.
#[test]
fn a_session_through_pcscd_leaves_no_serial_or_pin_on_the_stack_once_scrubbed() {
    use kiosk_card::scrub::{scrub_stack, stack_holds, stack_position};
    if !enter_private_stack("a_session_through_pcscd_leaves_no_serial_or_pin_on_the_stack_once_scrubbed") {
        return;
    }
    let (_pcscd, _card, _inserted, _readers, conn) = setup(CardConfig::default());
    let cert = JpkiCertificate::from_der(&TestPki::shared().unwrap().user_cert_der).unwrap();
    let serial = cert.serial().expose().to_vec();
    let (to_test, from_worker) = std::sync::mpsc::channel();
    let (to_worker, from_test) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let top = stack_position();
        let mut jpki = Jpki::new(conn, ReadMode::Auto);
        let der = jpki.read_auth_certificate().unwrap();
        let read = JpkiCertificate::from_der(&der).unwrap();
        assert!(matches!(jpki.verify_pin(b"1234").unwrap(), PinOutcome::Verified));
        let signature = jpki.sign_message(b"challenge").unwrap();
        jpki.power_off().unwrap();
        drop((jpki, der, read, signature));
        to_test.send(top).unwrap();
        from_test.recv().unwrap();
        scrub_stack();
        to_test.send(top).unwrap();
        from_test.recv().unwrap();
    });
    let mut found = Vec::new();
    for _ in 0..2 {
        let top = from_worker.recv().unwrap();
        found
            .push((stack_holds(&serial, top, 1 << 20).unwrap(), stack_holds(b"1234", top, 1 << 20).unwrap()));
        to_worker.send(()).unwrap();
    }
    worker.join().unwrap();
    println!("left on the stack (serial, PIN): before the scrub {:?}, after {:?}", found[0], found[1]);
    assert_eq!(found[1], (false, false), "(serial, PIN) left after the scrub");
}
