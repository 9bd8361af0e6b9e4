//! Golden vectors: SIP2 checksums (AY/AZ error detection) of known frames, and an exchange
//! captured against Evergreen SIPServer's stub ILS with error detection on.
#![allow(clippy::unwrap_used)]

use kiosk_ils::codec::{
    Charset, DecodeOptions, FrameBuffer, SipDate, Trailer, checksum, checksum_verifies, decode_frame,
    display_text, encode_frame,
};
use kiosk_ils::messages::{CheckoutRequest, CirculationStatus, Login, Message, PatronStatusFlags};
use kiosk_ils::{DecodeError, EncodeError};

fn hex(prefix: &[u8]) -> String {
    String::from_utf8(checksum(prefix).to_vec()).unwrap()
}

#[test]
fn checksum_vectors_from_the_spec() {
    assert_eq!(hex(b"9900302.00AY1AZ"), "FCA5");
    assert_eq!(hex(b"990 402.00AY1AZ"), "FCB4");
    assert_eq!(hex(b"941AY0AZ"), "FDFD");
    assert_eq!(hex(b"96AZ"), "FEF6");
    assert_eq!(hex(b"97AZ"), "FEF5");
    assert_eq!(
        hex(b"09N20160419    12200820160419    122008APReading Room 1|AO830|AB830$28170815|AC|AY2AZ"),
        "EB80"
    );
    // UTF-8, NFD (e + combining grave), as Evergreen sends it.
    let nfd = "1804020120110630    110249AB30007008503046|AJLe Pie\u{300}ge de Bogota|CK001|AQOSUL|APOSUL|BGOSUL|AH2011-10-28 23:59:59|CSPB LP DAL|AY7AZ";
    assert_eq!(hex(nfd.as_bytes()), "DCF8");
}

#[test]
fn the_corrected_login_example_verifies_and_the_copied_one_does_not() {
    let prefix = b"9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZ";
    assert_eq!(hex(prefix), "EC7B");
    assert!(checksum_verifies(prefix, b"EC7B"));
    assert!(!checksum_verifies(prefix, b"EC78"));
    // And our encoder produces exactly that frame.
    let login = Message::Login(Login {
        uid_algorithm: '0',
        pwd_algorithm: '0',
        user: "LoginUserID".into(),
        password: "LoginPassword".into(),
        location: Some("LocationCode".into()),
        extra: vec![],
    });
    assert_eq!(
        login.encode(Some(5), Charset::Utf8, true).unwrap(),
        b"9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC7B\r"
    );
    let wrong = b"9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC78";
    assert!(matches!(
        decode_frame(wrong, DecodeOptions::default()),
        Err(DecodeError::BadChecksum { expected, found }) if expected == "EC7B" && found == "EC78"
    ));
}

#[test]
fn checksum_is_over_encoded_bytes_in_each_charset() {
    let text = "1720261123    003453AO図書館|AB660|AC|AY1AZ";
    assert_eq!(hex(text.as_bytes()), "F0AA");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    assert_eq!(hex(&sjis), "F3BB");
    // Our encoder agrees in both charsets.
    let raw = decode_frame(&[text.as_bytes(), b"F0AA"].concat(), DecodeOptions::default()).unwrap().0;
    let utf8 = encode_frame(&raw, Charset::Utf8, true).unwrap();
    assert!(utf8.ends_with(b"AY1AZF0AA\r"));
    let cp932 = encode_frame(&raw, Charset::Cp932, true).unwrap();
    assert!(cp932.ends_with(b"AY1AZF3BB\r"));
    let back = decode_frame(
        &cp932[..cp932.len() - 1],
        DecodeOptions { charset: Charset::Cp932, require_checksum: true },
    )
    .unwrap()
    .0;
    assert_eq!(back, raw);
}

const CAPTURED: &[&str] = &[
    "9300CNscclient|COclientpwd|CPWORKSTATION1|AY0AZEFF0",
    "941AY0AZFDFD",
    "9900302.00AY1AZFCA5",
    "98YNNYNN60000320261123    0034202.00AOUWOLS|BXYYYYYYYYYNYNYYYY|AY1AZEDE6",
    "2300120261123    003420AOUWOLS|AAdjfiander|AC|AD6789|AY2AZF03F",
    "24  Y           00120261123    003420AOUWOLS|AAdjfiander|AEDavid J. Fiander|BLY|CQY|AY2AZE7FD",
    "6300120261123    003420Y         AOUWOLS|AAdjfiander|AC|AD6789|BP1|BQ5|AY3AZEC3E",
    "64  Y           00020261123    003420000000000000000100000000AOUWOLS|AAdjfiander|AEDavid J. Fiander|BD2 Meadowvale Dr. St Thomas, ON|BEdjfiander@hotmail.com|BF(519) 555 1234|AQBeacock|AS|AS|AS|AS|AS|BLY|CQY|PA20501231|PB19640925|PCA|PIY|AY3AZBACC",
    "1720261123    003420AOUWOLS|AB1565921879|AC|AY4AZF43B",
    "1803020120261123    003420AB1565921879|AJPerl 5 desktop reference|CK001|BGUWOLS|AY4AZE8A8",
    "11YN20261123    003420                  AOUWOLS|AAdjfiander|AB1565921879|AC|BON|BIN|AY5AZEA04",
    "121NNY20261123    003420AOUWOLS|AAdjfiander|AB1565921879|AJPerl 5 desktop reference|AH20261207    003420|CK001|AY5AZDFBF",
    "29NN20261123    003420                  AOUWOLS|AAdjfiander|AD6789|AB1565921879|AC|BON|AY7AZE97A",
    "301YNN20261123    003420AAdjfiander|AB1565921879|AJPerl 5 desktop reference|AH20261207    003420|CK001|AOUWOLS|AY7AZDFBD",
    "09N20261123    00342020261123    003420APWORKSTATION1|AOUWOLS|AB1565921879|AC|BIN|AY8AZEAB6",
    "101YNN20261123    003420AOUWOLS|AB1565921879|AQ|AJPerl 5 desktop reference|AAdjfiander|CK001|AY8AZE2F2",
    "11YN20261123    003420                  AOUWOLS|AAdjfiander|AB999999|AC|AY9AZED6F",
    "120NUN20261123    003420AOUWOLS|AAdjfiander|AB999999|AJ|AH|AFInvalid Item|BLY|AY9AZE74C",
    "6300120261123    003420          AOUWOLS|AAnosuchpatron|AC|AY0AZEF5F",
    "64YYYY          00120261123    003420000000000000000000000000AOUWOLS|AAnosuchpatron|AE|BLN|AY0AZE820",
    "3520261123    003420AOUWOLS|AAdjfiander|AC|AD6789|AY1AZF0CE",
    "36Y20261123    003420AOUWOLS|AAdjfiander|AFThank you for using Evergreen!|AY1AZE74C",
    "96AZFEF6",
];

#[test]
fn every_captured_frame_decodes_and_reencodes_byte_for_byte() {
    let opts = DecodeOptions { charset: Charset::Utf8, require_checksum: true };
    for frame in CAPTURED {
        let (raw, trailer) = decode_frame(frame.as_bytes(), opts).unwrap_or_else(|e| panic!("{frame}: {e}"));
        assert_eq!(trailer, Trailer::Verified);
        // Raw level: exact bytes, field order kept.
        let again = encode_frame(&raw, Charset::Utf8, true).unwrap();
        assert_eq!(&again[..again.len() - 1], frame.as_bytes(), "raw round trip of {frame}");
        // Typed level: decodes into its message.
        let decoded = Message::decode(frame.as_bytes(), opts).unwrap_or_else(|e| panic!("{frame}: {e}"));
        assert_eq!(decoded.message.id().as_bytes(), &frame.as_bytes()[..2]);
    }
}

#[test]
fn typed_messages_in_spec_order_reencode_exactly() {
    // Frames whose fields are already in the order our encoder writes them.
    let opts = DecodeOptions::default();
    for frame in [
        CAPTURED[0],
        CAPTURED[1],
        CAPTURED[2],
        CAPTURED[3],
        CAPTURED[4],
        CAPTURED[5],
        CAPTURED[8],
        CAPTURED[10],
        CAPTURED[11],
        CAPTURED[15],
        CAPTURED[16],
        CAPTURED[17],
        CAPTURED[20],
        CAPTURED[21],
        CAPTURED[22],
    ] {
        let d = Message::decode(frame.as_bytes(), opts).unwrap();
        let again = d.message.encode(d.seq, Charset::Utf8, true).unwrap();
        assert_eq!(String::from_utf8_lossy(&again[..again.len() - 1]), *frame);
    }
}

#[test]
fn captured_replies_mean_what_they_say() {
    let opts = DecodeOptions::default();
    let m = |i: usize| Message::decode(CAPTURED[i].as_bytes(), opts).unwrap().message;
    let Message::AcsStatus(acs) = m(3) else { panic!() };
    assert!(acs.online && !acs.checkout_ok);
    assert_eq!(acs.timeout(), Some(std::time::Duration::from_secs(60)));
    assert_eq!(acs.retries(), Some(3));
    assert_eq!(acs.institution, "UWOLS");
    let Message::PatronStatusResponse(p) = m(5) else { panic!() };
    assert_eq!((p.valid_patron, p.valid_password), (Some(true), Some(true)));
    assert!(p.status.0[2] && !p.status.denies_borrowing());
    let Message::PatronInformationResponse(info) = m(7) else { panic!() };
    assert_eq!(info.hold_items.len(), 5);
    assert_eq!((info.charged_items_count, info.fine_items_count), (Some(0), Some(1)));
    // Vendor extensions are kept, in order.
    let ids: Vec<String> = info.extra.iter().map(|f| f.id_str()).collect();
    assert_eq!(ids, ["BD", "BE", "BF", "AQ", "PA", "PB", "PC", "PI"]);
    let Message::ItemInformationResponse(item) = m(9) else { panic!() };
    assert_eq!(item.circulation_status, CirculationStatus::Available);
    let Message::CheckoutResponse(c) = m(11) else { panic!() };
    assert!(c.ok && !c.renewal_ok && c.desensitize == Some(true));
    assert_eq!(c.due_date, "20261207    003420");
    let Message::CheckoutResponse(c) = m(17) else { panic!() };
    assert!(!c.ok && c.magnetic_media.is_none() && c.title.is_empty());
    assert_eq!(c.screen_messages, ["Invalid Item"]);
    let Message::PatronInformationResponse(unknown) = m(19) else { panic!() };
    assert_eq!(unknown.valid_patron, Some(false));
    assert!(unknown.status.denies_borrowing() || unknown.status.0[0]);
    assert_eq!(m(22), Message::RequestScResend);
}

#[test]
fn checkout_request_outside_offline_replay_has_blank_nb_due_date() {
    let req = Message::Checkout(CheckoutRequest {
        sc_renewal_policy: true,
        no_block: false,
        date: SipDate::local(2026, 11, 23, 0, 34, 20),
        nb_due_date: SipDate::blank(),
        institution: "UWOLS".into(),
        patron: "djfiander".into(),
        item: "1565921879".into(),
        terminal_password: String::new(),
        item_properties: None,
        patron_password: None,
        fee_acknowledged: Some(false),
        cancel: Some(false),
        extra: vec![],
    });
    assert_eq!(
        String::from_utf8(req.encode(Some(5), Charset::Utf8, true).unwrap()).unwrap(),
        format!("{}\r", CAPTURED[10])
    );
}

#[test]
fn framing_tolerates_crlf_and_leading_lf_and_bounds_the_buffer() {
    let mut buf = FrameBuffer::new(64);
    buf.extend(b"941AY0AZFDFD\r\n\n941AY0AZFD");
    assert_eq!(buf.next_frame().unwrap().unwrap(), b"941AY0AZFDFD");
    assert_eq!(buf.next_frame().unwrap(), None);
    buf.extend(b"FD\r\r\n");
    assert_eq!(buf.next_frame().unwrap().unwrap(), b"941AY0AZFDFD");
    assert_eq!(buf.next_frame().unwrap(), None);
    buf.extend(&[b'x'; 65]);
    assert_eq!(buf.next_frame(), Err(DecodeError::FrameTooLong { limit: 64 }));
    assert_eq!(buf.pending(), 0);
}

#[test]
fn garbage_is_a_named_error_never_a_panic() {
    let opts = DecodeOptions::default();
    assert!(matches!(Message::decode(b"", opts), Err(DecodeError::TooShort)));
    assert!(matches!(Message::decode(b"XX123", opts), Err(DecodeError::UnknownMessage(id)) if id == "XX"));
    assert!(matches!(Message::decode(b"12", opts), Err(DecodeError::Truncated { .. })));
    assert!(matches!(Message::decode(b"941\0", opts), Err(DecodeError::NulByte)));
    assert!(matches!(Message::decode(b"941AY0AZFDFG", opts), Err(DecodeError::MalformedChecksum)));
    assert!(matches!(Message::decode(b"12X", opts), Err(DecodeError::Truncated { .. })));
    assert!(matches!(
        Message::decode(b"12QNNY20261123    003420AO|", opts),
        Err(DecodeError::BadFixedField { field: "ok", .. })
    ));
    assert!(matches!(
        Message::decode(b"941", DecodeOptions { require_checksum: true, ..opts }),
        Err(DecodeError::MissingChecksum)
    ));
}

#[test]
fn lenient_where_servers_are_sloppy() {
    let opts = DecodeOptions::default();
    // No AY/AZ at all, a missing trailing '|', padding before AY, lowercase hex.
    let d = Message::decode(b"941", opts).unwrap();
    assert_eq!(d.trailer, Trailer::None);
    let d = Message::decode(b"36Y20261123    003420AOX|AAp|AFbye", opts).unwrap();
    let Message::EndSessionResponse(r) = d.message else { panic!() };
    assert_eq!(r.screen_messages, ["bye"]);
    let mut padded = b"941".to_vec();
    padded.extend(b"   AY2AZ");
    padded.extend(checksum(&padded));
    let d = Message::decode(&padded, opts).unwrap();
    assert_eq!(d.seq, Some(2));
    let lower = b"941AY0AZfdfd";
    assert!(Message::decode(lower, opts).is_ok());
}

#[test]
fn shift_jis_trail_byte_guard() {
    // ポ is 83 7C in CP932: it would be split at the '|'.
    assert_eq!(Charset::Cp932.encode_text("ポケットモンスター"), Err(EncodeError::TrailByteIsDelimiter));
    assert_eq!(Charset::Cp932.encode_text("吾輩は猫である").unwrap().len(), 14);
    assert_eq!(Charset::Utf8.encode_text("a|b"), Err(EncodeError::ForbiddenChar('|')));
    // Decoding splits on decoded text: a 0x7C trail byte stays inside its character.
    let mut frame = b"1803020120261123    003420AB1|AJ".to_vec();
    frame.extend(encoding_rs::SHIFT_JIS.encode("ポケットモンスター").0.iter());
    frame.extend(b"|AY4AZ");
    frame.extend(checksum(&frame));
    let d =
        Message::decode(&frame, DecodeOptions { charset: Charset::Cp932, require_checksum: true }).unwrap();
    let Message::ItemInformationResponse(r) = d.message else { panic!() };
    assert_eq!(r.title, "ポケットモンスター");
    assert!(r.extra.is_empty());
}

#[test]
fn titles_are_nfc_normalised_for_display() {
    let nfd = "ホ\u{309A}ケットモンスター図鑑　第２版";
    assert_eq!(nfd.chars().count(), 16);
    let nfc = display_text(nfd);
    assert_eq!(nfc, "ポケットモンスター図鑑　第２版");
    assert_eq!(display_text("Le Pie\u{300}ge"), "Le Piège");
}

#[test]
fn patron_status_flags() {
    let mut f = PatronStatusFlags::default();
    assert!(!f.denies_borrowing());
    f.0[PatronStatusFlags::HOLD_PRIVILEGES_DENIED] = true;
    assert!(!f.denies_borrowing());
    f.0[PatronStatusFlags::EXCESSIVE_FINES] = true;
    assert!(f.denies_borrowing());
    assert_eq!(f.reasons(), ["hold privileges denied", "excessive outstanding fines"]);
}

#[test]
fn sip_dates() {
    assert_eq!(SipDate::from_unix(0, 0).as_str(), "19700101    000000");
    // 2026-11-23 00:34:20 JST = 2026-11-22 15:34:20 UTC.
    assert_eq!(SipDate::from_unix(1_795_361_660, 9 * 3600).as_str(), "20261123    003420");
    assert!(SipDate::blank().is_blank());
}
