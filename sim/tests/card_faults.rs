#![allow(clippy::unwrap_used)]
//! Faults injected in the virtual card, seen by `kiosk-card` through the real stack: our
//! virtual JPKI card → vsmartcard vpcd → a private pcscd → pcsc-lite, as in
//! `card_pcsc.rs`. Each fault must come out as a named `CardError` whose message says
//! what a patron or staff member can do, and must never cost the patron a PIN try.
//!
//! One pcscd per test; the cards of a test go into its reader one after the other.

use std::time::{Duration, Instant};

use kiosk_card::pcsc::{PcscCard, PcscReaders, Presence};
use kiosk_card::{
    ApduError, CardError, CertError, FaultClass, Jpki, JpkiCertificate, PinStatus, ReadMode, StatusWord,
};
use kiosk_sim::card::stack::{Pcscd, READER, READY_TIMEOUT, enter_private_stack};
use kiosk_sim::card::{
    Application, CardConfig, Exchange, Fault, Garble, Inserted, TestPki, lock, selects_other_application,
    shared_card,
};

/// A private pcscd with the vpcd reader, and the driver's view of it.
struct Reader {
    pcscd: Pcscd,
    readers: PcscReaders,
    /// Cards taken off so far.
    removed: usize,
}

impl Reader {
    fn start() -> Self {
        let pcscd = Pcscd::start().unwrap();
        pcscd.wait_ready().unwrap();
        Reader { pcscd, readers: PcscReaders::new(READER), removed: 0 }
    }

    /// Puts a card made with `config` on the reader, runs `f` on a JPKI session over
    /// PC/SC, ends the session (unpower), takes the card off and waits until the reader
    /// is empty. Returns what `f` returned and the card's log.
    ///
    /// Whatever the fault, the kiosk must not have spent a PIN try: the card's counter
    /// is where it started, no VERIFY carried a PIN, and no AP but JPKI was selected.
    fn with_card<R>(
        &mut self,
        config: CardConfig,
        mode: ReadMode,
        f: impl FnOnce(&mut Jpki<PcscCard>) -> R,
    ) -> (R, Vec<Exchange>) {
        let tries = config.auth_tries;
        let card = shared_card(config).unwrap();
        let inserted = Inserted::insert(card.clone(), self.pcscd.card_addr(), READY_TIMEOUT).unwrap();
        let Presence::Card { reader, .. } = self.readers.wait_for_card(READY_TIMEOUT).unwrap() else {
            panic!("no card seen; pcscd log:\n{}", self.pcscd.log())
        };
        let mut jpki = Jpki::new(self.readers.connect(&reader).unwrap(), mode);
        let out = f(&mut jpki);
        jpki.into_transport().close().unwrap();
        inserted.remove();
        assert!(self.readers.wait_for_removal(&reader, READY_TIMEOUT).unwrap(), "the card is still seen");
        // When vpcd ejected the card itself (after an empty answer), the reader state is
        // already empty but pcscd's poll may not have seen the card go; a card put on
        // before that poll would go unnoticed. Wait (bounded) until pcscd logs it.
        self.removed += 1;
        let deadline = Instant::now() + READY_TIMEOUT;
        while self.pcscd.log().matches("Card Removed From").count() < self.removed {
            assert!(Instant::now() < deadline, "pcscd did not see the card go:\n{}", self.pcscd.log());
            std::thread::sleep(Duration::from_millis(20));
        }

        let card = lock(&card);
        let log = card.log().to_vec();
        assert_eq!(card.auth_tries(), tries, "a PIN try was spent; log: {log:02X?}");
        assert!(
            log.iter().all(|e| !(e.command.get(1) == Some(&0x20) && e.command.len() > 4)),
            "a VERIFY with a PIN was sent"
        );
        assert!(
            log.iter().all(|e| !selects_other_application(&e.command)),
            "an AP other than JPKI was selected"
        );
        (out, log)
    }
}

/// The error is of `class`, and its message says what happened and, after the last
/// colon, what to do.
fn assert_actionable(e: &CardError, class: FaultClass) {
    assert_eq!(e.class(), class, "{e:?}");
    let message = e.to_string();
    let (what, advice) = message.rsplit_once(": ").unwrap_or_else(|| panic!("no advice in \"{message}\""));
    assert!(what.len() > 10, "\"{message}\"");
    assert!(advice.contains("please") || advice.contains("staff"), "not actionable: \"{message}\"");
    assert!(!message.contains("1234"), "the message holds the PIN: \"{message}\"");
}

fn is_select_ap(e: &Exchange) -> bool {
    e.command.starts_with(&[0x00, 0xA4, 0x04])
}

fn garble(ins: u8, nth: usize, how: Garble) -> CardConfig {
    CardConfig { faults: vec![Fault::Garble { ins, nth, how }], ..CardConfig::default() }
}

fn cert_file(file: Vec<u8>) -> CardConfig {
    CardConfig { auth_cert_file: Some(file), ..CardConfig::default() }
}

/// Reads the auth certificate and parses it, as the kiosk does on "card present".
fn read_certificate(jpki: &mut Jpki<PcscCard>) -> Result<JpkiCertificate, CardError> {
    Ok(JpkiCertificate::from_der(&jpki.read_auth_certificate()?)?)
}

/// `len` bytes of deterministic garbage.
fn garbage(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

#[test]
fn truncated_answers_and_answers_without_status_word() {
    if !enter_private_stack("truncated_answers_and_answers_without_status_word") {
        return;
    }
    let mut r = Reader::start();
    let pki = TestPki::shared().unwrap();
    let missing_sw = |e: &CardError| matches!(e, CardError::Malformed(ApduError::MissingStatusWord));

    // The extended certificate read cut to 3 bytes (`30 82 LL`): no status word. The next
    // attempt in the same session reads the certificate (the fault was that one answer).
    let ((e, again), _) = r.with_card(garble(0xB0, 1, Garble::Truncate(3)), ReadMode::Auto, |j| {
        (j.read_auth_certificate().unwrap_err(), j.read_auth_certificate().unwrap())
    });
    assert!(missing_sw(&e), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);
    assert_eq!(again, pki.user_cert_der);

    // A 256-byte chunk cut to one byte.
    let (e, log) = r.with_card(garble(0xB0, 1, Garble::Truncate(1)), ReadMode::ShortChunks, |j| {
        j.read_auth_certificate()
    });
    let e = e.unwrap_err();
    assert!(missing_sw(&e), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);
    assert_eq!(log.last().unwrap().response, pki.user_cert_der[..1]);

    // The token label sent without its status word: its last bytes (spaces) are no SW.
    let (e, log) = r.with_card(garble(0xB0, 1, Garble::DropStatusWord), ReadMode::Auto, |j| j.token_label());
    let e = e.unwrap_err();
    assert!(missing_sw(&e), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);
    assert_eq!(log.last().unwrap().response.len(), 32);

    // SELECT answered with nothing at all (its status word dropped). Over vpcd an empty
    // answer also ends the card's connection: the driver sees the empty R-APDU first.
    let (e, _) =
        r.with_card(garble(0xA4, 1, Garble::DropStatusWord), ReadMode::Auto, |j| j.read_auth_certificate());
    let e = e.unwrap_err();
    assert!(missing_sw(&e), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);

    // The tries query answered with nothing: an error, and still no VERIFY with a PIN.
    let (e, log) = r.with_card(garble(0x20, 1, Garble::Truncate(0)), ReadMode::Auto, |j| j.pin_tries());
    let e = e.unwrap_err();
    assert!(missing_sw(&e), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);
    assert_eq!(log.iter().filter(|x| x.command.get(1) == Some(&0x20)).count(), 1, "the query is not resent");
}

#[test]
fn failing_cards_and_cards_without_jpki() {
    if !enter_private_stack("failing_cards_and_cards_without_jpki") {
        return;
    }
    let mut r = Reader::start();
    let pki = TestPki::shared().unwrap();

    // 6F00 to the first command after power-on: the driver repeats that SELECT once and
    // carries on, after the initial power-on and after a power cycle alike.
    let config = CardConfig { faults: vec![Fault::FailFirstCommand], ..CardConfig::default() };
    let ((der, tries_after_cycle), log) = r.with_card(config, ReadMode::Auto, |j| {
        let der = j.read_auth_certificate().unwrap();
        j.power_off().unwrap();
        (der, j.pin_tries().unwrap())
    });
    assert_eq!(der, pki.user_cert_der);
    assert_eq!(tries_after_cycle, PinStatus::TriesLeft(3));
    let failed: Vec<&Exchange> = log.iter().filter(|e| e.response == [0x6F, 0x00]).collect();
    assert_eq!(failed.len(), 2, "{log:02X?}");
    assert!(failed.iter().all(|e| is_select_ap(e)));
    assert!(is_select_ap(&log[0]) && is_select_ap(&log[1]) && log[1].response == [0x90, 0x00]);

    // 6F00 to everything: one repeat, then a named error; no VERIFY at all.
    let config = CardConfig { faults: vec![Fault::AlwaysFail], ..CardConfig::default() };
    let ((cert, tries, verify), log) = r.with_card(config, ReadMode::Auto, |j| {
        (
            j.read_auth_certificate().unwrap_err(),
            j.pin_tries().unwrap_err(),
            j.verify_pin(b"1234").unwrap_err(),
        )
    });
    for e in [&cert, &tries, &verify] {
        assert!(matches!(e, CardError::CardFailure(StatusWord::NoPreciseDiagnosis)), "{e:?}");
        assert_actionable(e, FaultClass::Unreadable);
    }
    assert_eq!(log.len(), 6, "two SELECTs per operation: {log:02X?}");
    assert!(log.iter().all(is_select_ap));

    // A card with some other application: not a My Number card; no VERIFY at all.
    let config = CardConfig { application: Application::Other, ..CardConfig::default() };
    let ((cert, tries, verify), log) = r.with_card(config, ReadMode::Auto, |j| {
        (
            j.read_auth_certificate().unwrap_err(),
            j.pin_tries().unwrap_err(),
            j.verify_pin(b"1234").unwrap_err(),
        )
    });
    for e in [&cert, &tries, &verify] {
        assert!(matches!(e, CardError::NotJpki), "{e:?}");
        assert_actionable(e, FaultClass::NotMyNumberCard);
        assert!(e.to_string().contains("My Number card"));
    }
    assert_eq!(log.len(), 3, "one SELECT per operation: {log:02X?}");
    assert!(log.iter().all(|e| is_select_ap(e) && e.response == [0x6A, 0x82]));
}

#[test]
fn bad_certificate_files() {
    if !enter_private_stack("bad_certificate_files") {
        return;
    }
    let mut r = Reader::start();
    let der = &TestPki::shared().unwrap().user_cert_der;
    let len = der.len();
    let with_declared = |declared: usize| {
        let mut f = der.clone();
        f[2..4].copy_from_slice(&((declared - 4) as u16).to_be_bytes());
        f
    };

    // PEM text where DER belongs.
    let pem = b"-----BEGIN CERTIFICATE-----\nMIIDXTCCAkWgAwIBAgIJAKL0UG+mRkSP\n-----END CERTIFICATE-----\n";
    let (e, _) = r.with_card(cert_file(pem.to_vec()), ReadMode::Auto, read_certificate);
    let e = e.unwrap_err();
    assert!(matches!(e, CardError::CertificateNotDer), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);

    // A DER SEQUENCE of the right size that is no certificate.
    let mut not_x509 = vec![0x30, 0x82, 0x01, 0xFC];
    not_x509.resize(512, 0x00);
    let (e, _) = r.with_card(cert_file(not_x509), ReadMode::ShortChunks, read_certificate);
    let e = e.unwrap_err();
    assert!(matches!(e, CardError::Certificate(CertError::NotDer)), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);

    // 64 KiB of garbage, in one extended read.
    let mut file = garbage(64 * 1024);
    file[0] = 0xA5;
    let (e, log) = r.with_card(cert_file(file), ReadMode::Auto, read_certificate);
    let e = e.unwrap_err();
    assert!(matches!(e, CardError::CertificateNotDer), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);
    assert!(log.last().unwrap().response.len() > 60_000, "the big answer went through vpcd");

    // 64 KiB of garbage behind a header that claims 16 MiB, in short chunks.
    let mut file = garbage(64 * 1024);
    file[..5].copy_from_slice(&[0x30, 0x83, 0xFF, 0xFF, 0xFF]);
    let (e, _) = r.with_card(cert_file(file), ReadMode::ShortChunks, read_certificate);
    let e = e.unwrap_err();
    assert!(matches!(e, CardError::CertificateTooLarge { declared: 0x0100_0004, .. }), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);

    // The header says 256 bytes more than the file holds, read either way.
    for mode in [ReadMode::Auto, ReadMode::ShortChunks] {
        let (e, _) = r.with_card(cert_file(with_declared(len + 256)), mode, read_certificate);
        let e = e.unwrap_err();
        assert!(
            matches!(e, CardError::CertificateLengthMismatch { declared, available } if declared == len + 256 && available == len),
            "{mode:?}: {e:?}"
        );
        assert_actionable(&e, FaultClass::Unreadable);
    }

    // The header says 16 bytes less: the certificate read is cut short and does not parse.
    let (read, _) = r.with_card(cert_file(with_declared(len - 16)), ReadMode::Auto, |j| {
        j.read_auth_certificate().map(|d| (d.len(), JpkiCertificate::from_der(&d).map_err(CardError::from)))
    });
    let (read_len, parsed) = read.unwrap();
    assert_eq!(read_len, len - 16);
    let e = parsed.unwrap_err();
    assert!(matches!(e, CardError::Certificate(CertError::NotDer)), "{e:?}");
    assert_actionable(&e, FaultClass::Unreadable);
}

/// A hostile card floods the certificate read with 65,535 bytes (the most vpcd's frame
/// carries; a PC/SC reader's own limit is 64 KiB + 2): the driver reads it into its one
/// fixed buffer (`RESPONSE_CAPACITY`, allocated once per session, so memory stays at
/// 64 KiB + 2 whatever the card sends), names the error at once (well within a second
/// here; 5 s is the bound asserted) and spends no PIN try.
#[test]
fn a_card_that_floods_an_answer_is_refused_at_once() {
    if !enter_private_stack("a_card_that_floods_an_answer_is_refused_at_once") {
        return;
    }
    assert_eq!(kiosk_card::apdu::RESPONSE_CAPACITY, 65_538);
    assert!(std::mem::size_of::<kiosk_card::apdu::ResponseBuf>() <= 65_538 + 16);
    let mut r = Reader::start();
    for mode in [ReadMode::Auto, ReadMode::ShortChunks] {
        let flood = CardConfig { faults: vec![Fault::Flood { ins: 0xB0, nth: 1 }], ..CardConfig::default() };
        let started = Instant::now();
        let (e, log) = r.with_card(flood, mode, read_certificate);
        let took = started.elapsed();
        let e = e.unwrap_err();
        // Asked for 256 bytes, the flood is refused as too long; asked for up to 64 KiB
        // (extended length), it is read, and its first bytes are no certificate.
        match mode {
            ReadMode::ShortChunks => {
                assert!(matches!(e, CardError::ResponseTooLong { got: 65_533, .. }), "{e:?}");
            }
            _ => assert!(matches!(e, CardError::Certificate(CertError::NotDer)), "{e:?}"),
        }
        assert_actionable(&e, e.class());
        assert_ne!(e.class(), FaultClass::Kiosk);
        assert_eq!(log.last().unwrap().response.len(), 65_535);
        assert!(took < Duration::from_secs(5), "{mode:?}: {took:?}");
    }
}

/// A card that never answers the certificate read holds pcscd's SCardTransmit (and the
/// kiosk's card worker) until it leaves the reader; then the call returns at once with
/// a named error, and the next card in the same reader is read as usual.
#[test]
fn a_card_that_never_answers_is_released_when_it_leaves() {
    if !enter_private_stack("a_card_that_never_answers_is_released_when_it_leaves") {
        return;
    }
    let mut r = Reader::start();
    let silent = CardConfig { faults: vec![Fault::Silent { ins: 0xB0, nth: 1 }], ..CardConfig::default() };
    let card = shared_card(silent).unwrap();
    let inserted = Inserted::insert(card.clone(), r.pcscd.card_addr(), READY_TIMEOUT).unwrap();
    let Presence::Card { reader, .. } = r.readers.wait_for_card(READY_TIMEOUT).unwrap() else {
        panic!("no card seen; pcscd log:\n{}", r.pcscd.log())
    };
    let mut jpki = Jpki::new(r.readers.connect(&reader).unwrap(), ReadMode::Auto);
    let worker = std::thread::spawn(move || read_certificate(&mut jpki).map(|_| ()));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!worker.is_finished(), "the silent card answered");
    let removed = Instant::now();
    inserted.remove();
    let deadline = removed + Duration::from_secs(5);
    while !worker.is_finished() {
        assert!(Instant::now() < deadline, "SCardTransmit still blocked 5 s after the card left");
        std::thread::sleep(Duration::from_millis(20));
    }
    // vpcd hands pcscd an empty answer when the card's connection closes mid-command
    // (a CCID reader reports the card gone): either way a named error, and the watcher
    // has seen the card leave.
    let e = worker.join().unwrap().unwrap_err();
    let class =
        if e.class() == FaultClass::CardRemoved { FaultClass::CardRemoved } else { FaultClass::Unreadable };
    assert_actionable(&e, class);
    assert_eq!(lock(&card).auth_tries(), 3);
    assert!(r.readers.wait_for_removal(&reader, READY_TIMEOUT).unwrap(), "the card is still seen");
    r.removed += 1;
    // The reader is not wedged: the next card is read.
    let (cert, _) = r.with_card(CardConfig::default(), ReadMode::Auto, read_certificate);
    assert!(cert.is_ok(), "{cert:?}");
}
