#![allow(clippy::unwrap_used)]
//! The JPKI operations against scripted card answers: exact APDUs, fault handling, and
//! "no PIN try is ever spent by the driver itself".

use std::collections::VecDeque;

use kiosk_card::apdu::ResponseBuf;
use kiosk_card::jpki::JPKI_AID;
use kiosk_card::{
    ApduError, CardError, Channel, FaultClass, Jpki, PinOutcome, PinStatus, ReadMode, Transport,
};
use proptest::prelude::*;

/// Answers each command with the next scripted response; records what was sent.
#[derive(Debug, Default)]
struct Script {
    answers: VecDeque<Result<Vec<u8>, ()>>,
    sent: Vec<Vec<u8>>,
    extended: bool,
}

impl Script {
    fn new(answers: &[&[u8]]) -> Self {
        Script { answers: answers.iter().map(|a| Ok(a.to_vec())).collect(), ..Script::default() }
    }
    fn extended(mut self) -> Self {
        self.extended = true;
        self
    }
}

struct Tx<'a>(&'a mut Script);

impl Channel for Tx<'_> {
    fn transmit(&mut self, command: &[u8], response: &mut ResponseBuf) -> Result<(), CardError> {
        self.0.sent.push(command.to_vec());
        match self.0.answers.pop_front() {
            Some(Ok(r)) => {
                response.clear();
                response.extend_from_slice(&r).unwrap();
                Ok(())
            }
            Some(Err(())) | None => Err(CardError::CardRemoved),
        }
    }
}

impl Transport for Script {
    type Transaction<'a> = Tx<'a>;
    fn transaction(&mut self) -> Result<Tx<'_>, CardError> {
        Ok(Tx(self))
    }
    fn extended_length(&self) -> bool {
        self.extended
    }
    fn hold_exclusive(&mut self) -> Result<(), CardError> {
        Ok(())
    }
    fn unpower(&mut self) -> Result<(), CardError> {
        Ok(())
    }
}

const OK: &[u8] = &[0x90, 0x00];

fn select_ap() -> Vec<u8> {
    let mut v = vec![0x00, 0xA4, 0x04, 0x0C, 0x0A];
    v.extend_from_slice(&JPKI_AID);
    v
}

fn fake_cert(len: usize) -> Vec<u8> {
    let body = len - 4;
    let mut c = vec![0x30, 0x82, (body >> 8) as u8, body as u8];
    c.extend((0..body).map(|i| i as u8));
    c
}

fn with_sw(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.extend_from_slice(OK);
    v
}

fn is_verify(c: &[u8]) -> bool {
    c.get(1) == Some(&0x20)
}

#[test]
fn certificate_in_256_byte_chunks_sizes_from_the_first_read() {
    let cert = fake_cert(778);
    let script = Script::new(&[
        OK,
        OK,
        &with_sw(&cert[..256]),
        &with_sw(&cert[256..512]),
        &with_sw(&cert[512..768]),
        &with_sw(&cert[768..]),
    ]);
    let mut jpki = Jpki::new(script, ReadMode::Auto);
    assert_eq!(jpki.read_auth_certificate().unwrap(), cert);
    let sent = &jpki.transport().sent;
    assert_eq!(sent[0], select_ap());
    assert_eq!(sent[1], [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
    assert_eq!(sent[2], [0x00, 0xB0, 0x00, 0x00, 0x00]);
    assert_eq!(sent[3], [0x00, 0xB0, 0x01, 0x00, 0x00]);
    assert_eq!(sent[5], [0x00, 0xB0, 0x03, 0x00, 0x0A]);
    assert_eq!(jpki.traffic().apdus, 6);
}

#[test]
fn certificate_in_one_extended_read_and_filler_is_dropped() {
    let cert = fake_cert(1300);
    let mut file = cert.clone();
    file.extend_from_slice(&[0xFF; 100]);
    let mut jpki = Jpki::new(Script::new(&[OK, OK, &with_sw(&file)]).extended(), ReadMode::Auto);
    assert_eq!(jpki.read_auth_certificate().unwrap(), cert);
    assert_eq!(jpki.transport().sent[2], [0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(jpki.traffic().apdus, 3);
}

#[test]
fn a_refused_extended_read_falls_back_to_short_chunks() {
    let cert = fake_cert(300);
    let script = Script::new(&[OK, OK, &[0x67, 0x00], OK, &with_sw(&cert[..256]), &with_sw(&cert[256..])]);
    let mut jpki = Jpki::new(script.extended(), ReadMode::Auto);
    assert_eq!(jpki.read_auth_certificate().unwrap(), cert);
    assert_eq!(jpki.transport().sent[4], [0x00, 0xB0, 0x00, 0x00, 0x00]);
}

#[test]
fn short_chunks_mode_ignores_extended_support() {
    let cert = fake_cert(300);
    let script = Script::new(&[OK, OK, &with_sw(&cert[..256]), &with_sw(&cert[256..])]).extended();
    let mut jpki = Jpki::new(script, ReadMode::ShortChunks);
    assert_eq!(jpki.read_auth_certificate().unwrap(), cert);
    assert_eq!(jpki.traffic().apdus, 4);
}

#[test]
fn bad_certificate_files_are_named_errors() {
    // Not DER.
    let mut j = Jpki::new(Script::new(&[OK, OK, &with_sw(&[0x04; 256])]), ReadMode::Auto);
    assert!(matches!(j.read_auth_certificate(), Err(CardError::CertificateNotDer)));
    // The header claims more than the file holds: end of file first.
    let cert = fake_cert(778);
    let mut j = Jpki::new(Script::new(&[OK, OK, &with_sw(&cert[..256]), &[0x6B, 0x00]]), ReadMode::Auto);
    let e = j.read_auth_certificate().unwrap_err();
    assert!(matches!(e, CardError::CertificateLengthMismatch { declared: 778, available: 256 }), "{e}");
    // Extended read that returns less than the header says.
    let mut j =
        Jpki::new(Script::new(&[OK, OK, &with_sw(&cert[..500]), &[0x6B, 0x00]]).extended(), ReadMode::Auto);
    assert!(matches!(j.read_auth_certificate(), Err(CardError::CertificateLengthMismatch { .. })));
    // 64 KiB of garbage that starts like a huge DER object.
    let mut garbage = vec![0x30, 0x83, 0x00, 0xFF, 0xF0];
    garbage.resize(65_536, 0xA5);
    let mut j = Jpki::new(Script::new(&[OK, OK, &with_sw(&garbage)]).extended(), ReadMode::Auto);
    assert!(matches!(j.read_auth_certificate(), Err(CardError::CertificateTooLarge { .. })));
    // Truncated response: no status word.
    let mut j = Jpki::new(Script::new(&[OK, OK, &[0x30]]), ReadMode::Auto);
    let e = j.read_auth_certificate().unwrap_err();
    assert!(matches!(e, CardError::Malformed(ApduError::MissingStatusWord)));
    assert_eq!(e.class(), FaultClass::Unreadable);
    // More data than asked for.
    let mut j = Jpki::new(Script::new(&[OK, OK, &with_sw(&[0x30; 300])]), ReadMode::Auto);
    assert!(matches!(j.read_auth_certificate(), Err(CardError::ResponseTooLong { .. })));
}

#[test]
fn first_command_6f00_is_retried_once_then_named() {
    let mut j = Jpki::new(Script::new(&[&[0x6F, 0x00], OK]), ReadMode::Auto);
    j.select_ap().unwrap();
    assert_eq!(j.transport().sent, [select_ap(), select_ap()]);
    let mut j = Jpki::new(Script::new(&[&[0x6F, 0x00], &[0x6F, 0x00]]), ReadMode::Auto);
    let e = j.select_ap().unwrap_err();
    assert!(matches!(e, CardError::CardFailure(_)), "{e}");
}

#[test]
fn a_card_without_jpki_is_not_a_my_number_card() {
    let mut j = Jpki::new(Script::new(&[&[0x6A, 0x82]]), ReadMode::Auto);
    let e = j.read_auth_certificate().unwrap_err();
    assert!(matches!(e, CardError::NotJpki));
    assert_eq!(e.class(), FaultClass::NotMyNumberCard);
    assert!(e.to_string().contains("My Number card"));
}

#[test]
fn tries_query_is_an_empty_verify_and_both_blocked_encodings_are_blocked() {
    for (sw, want) in [
        ([0x63, 0xC3], PinStatus::TriesLeft(3)),
        ([0x63, 0xC1], PinStatus::TriesLeft(1)),
        ([0x63, 0xC0], PinStatus::Blocked),
        ([0x69, 0x84], PinStatus::Blocked),
    ] {
        let mut j = Jpki::new(Script::new(&[OK, OK, &sw]), ReadMode::Auto);
        assert_eq!(j.pin_tries().unwrap(), want);
        let sent = &j.transport().sent;
        assert_eq!(sent[1], [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18]);
        assert_eq!(sent[2], [0x00, 0x20, 0x00, 0x80], "no data, no Lc: spends no try");
    }
}

#[test]
fn verify_sends_one_apdu_and_maps_every_answer() {
    for (sw, want) in [
        ([0x90, 0x00], PinOutcome::Verified),
        ([0x63, 0xC2], PinOutcome::Wrong { tries_left: 2 }),
        ([0x63, 0xC0], PinOutcome::Blocked),
        ([0x69, 0x84], PinOutcome::Blocked),
    ] {
        let mut j = Jpki::new(Script::new(&[OK, OK, &sw]), ReadMode::Auto);
        assert_eq!(j.verify_pin(b"1234").unwrap(), want);
        let sent = &j.transport().sent;
        assert_eq!(sent[2], [0x00, 0x20, 0x00, 0x80, 0x04, b'1', b'2', b'3', b'4']);
        assert_eq!(sent.iter().filter(|c| is_verify(c)).count(), 1);
    }
}

#[test]
fn a_malformed_pin_is_refused_before_anything_is_sent() {
    for pin in [&b"123"[..], b"12345", b"12a4", b""] {
        let mut j = Jpki::new(Script::new(&[]), ReadMode::Auto);
        assert!(matches!(j.verify_pin(pin), Err(CardError::InvalidPinFormat)));
        assert!(j.transport().sent.is_empty());
    }
}

#[test]
fn a_verify_that_fails_in_transit_is_never_resent() {
    let mut s = Script::new(&[OK, OK]);
    s.answers.push_back(Err(()));
    let mut j = Jpki::new(s, ReadMode::Auto);
    assert!(matches!(j.verify_pin(b"1234"), Err(CardError::CardRemoved)));
    assert_eq!(j.transport().sent.iter().filter(|c| is_verify(c)).count(), 1);
}

#[test]
fn sign_sends_the_sha256_digest_info_with_80_2a_00_80() {
    let digest = [7u8; 32];
    let mut j = Jpki::new(Script::new(&[OK, OK, &with_sw(&[1; 256])]), ReadMode::Auto);
    assert_eq!(j.sign_sha256(&digest).unwrap(), vec![1; 256]);
    let cmd = &j.transport().sent[2];
    assert_eq!(cmd[..5], [0x80, 0x2A, 0x00, 0x80, 51]);
    assert_eq!(cmd[5..24], kiosk_card::jpki::SHA256_DIGEST_INFO_PREFIX);
    assert_eq!(cmd[24..56], digest);
    assert_eq!(cmd[56], 0x00);
    let mut j = Jpki::new(Script::new(&[OK, OK, &[0x69, 0x82]]), ReadMode::Auto);
    assert!(matches!(j.sign_sha256(&digest), Err(CardError::PinNotVerified)));
    let mut j = Jpki::new(Script::new(&[OK, OK, &with_sw(&[1; 128])]), ReadMode::Auto);
    assert!(matches!(j.sign_sha256(&digest), Err(CardError::BadSignatureLength(128))));
}

#[test]
fn token_label_is_trimmed() {
    let mut label = b"JPKIAPICCTOKEN2".to_vec();
    label.resize(32, b' ');
    let mut j = Jpki::new(Script::new(&[OK, OK, &with_sw(&label)]), ReadMode::Auto);
    assert_eq!(j.token_label().unwrap(), "JPKIAPICCTOKEN2");
    assert_eq!(j.transport().sent[2], [0x00, 0xB0, 0x00, 0x00, 0x20]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the card answers, every operation returns (no panic), and the driver
    /// sends at most the one VERIFY it was asked for.
    #[test]
    fn arbitrary_card_answers_never_panic(answers in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..300), 0..8), extended in any::<bool>()) {
        let refs: Vec<&[u8]> = answers.iter().map(Vec::as_slice).collect();
        let mut s = Script::new(&refs);
        s.extended = extended;
        let mut j = Jpki::new(s, ReadMode::Auto);
        let _ = j.read_auth_certificate();
        let _ = j.pin_tries();
        let _ = j.verify_pin(b"0000");
        let _ = j.sign_sha256(&[0; 32]);
        let _ = j.token_label();
        let verifies_with_data = j.transport().sent.iter().filter(|c| is_verify(c) && c.len() > 4).count();
        prop_assert!(verifies_with_data <= 1);
    }
}
