//! Property tests: encode→decode round trips; every frame we write verifies; decoding
//! arbitrary bytes never panics.

use kiosk_ils::codec::{
    Charset, DecodeOptions, Field, FrameBuffer, RawMessage, SipDate, checksum_verifies, decode_frame,
    encode_frame, fixed_width,
};
use kiosk_ils::messages::{
    CheckoutRequest, CirculationResponse, Message, PatronStatusFlags, PatronStatusResponse,
};
use proptest::prelude::*;

const IDS: &[&[u8; 2]] = &[
    b"93", b"94", b"99", b"98", b"23", b"24", b"63", b"64", b"11", b"12", b"09", b"10", b"29", b"30", b"17",
    b"18", b"35", b"36",
];

fn text() -> impl Strategy<Value = String> {
    // ASCII, kana, kanji, a combining mark, full-width forms; never '|', CR, LF, NUL.
    "[a-zA-Z0-9 .,:$/ぁ-んァ-ヶ一-龠ー\u{3000}\u{309A}Ａ-ｚé-]{0,24}"
}

fn field() -> impl Strategy<Value = Field> {
    ("[A-Z][A-Z0-9]", text()).prop_map(|(id, v)| Field::new(&[id.as_bytes()[0], id.as_bytes()[1]], v))
}

fn raw_message() -> impl Strategy<Value = RawMessage> {
    (prop::sample::select(IDS), prop::collection::vec(field(), 0..8), prop::option::of(0u8..10))
        .prop_flat_map(|(id, fields, seq)| {
            let width = fixed_width(id).unwrap_or(0);
            (
                Just(*id),
                prop::collection::vec(prop::sample::select(vec!['0', '1', '9', ' ', 'Y', 'N']), width),
                Just(fields),
                Just(seq),
            )
        })
        .prop_map(|(id, fixed, fields, seq)| RawMessage {
            id,
            fixed: fixed.into_iter().collect(),
            fields,
            seq,
        })
}

fn date() -> impl Strategy<Value = SipDate> {
    prop_oneof![Just(SipDate::blank()), (0i64..4_102_444_800).prop_map(|s| SipDate::from_unix(s, 9 * 3600))]
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn circulation() -> impl Strategy<Value = CirculationResponse> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            date(),
        ),
        (text(), text(), text(), text(), text()),
        (opt_text(), prop::option::of(any::<bool>()), opt_text(), opt_text(), opt_text(), opt_text()),
        (
            prop::collection::vec(text(), 0..3),
            prop::collection::vec(text(), 0..2),
            prop::collection::vec(field_unknown(), 0..3),
        ),
    )
        .prop_map(
            |(
                (ok, renewal_ok, magnetic_media, desensitize, date),
                (institution, patron, item, title, due_date),
                (fee_type, security_inhibit, currency, fee_amount, media_type, transaction_id),
                (screen_messages, print_lines, extra),
            )| {
                CirculationResponse {
                    ok,
                    renewal_ok,
                    magnetic_media,
                    desensitize,
                    date,
                    institution,
                    patron,
                    item,
                    title,
                    due_date,
                    fee_type,
                    security_inhibit,
                    currency,
                    fee_amount,
                    media_type,
                    item_properties: None,
                    transaction_id,
                    screen_messages,
                    print_lines,
                    extra,
                }
            },
        )
}

/// Vendor extension fields (ids no message here defines).
fn field_unknown() -> impl Strategy<Value = Field> {
    (prop::sample::select(vec!["PA", "PB", "ZZ", "XK"]), text())
        .prop_map(|(id, v)| Field::new(&[id.as_bytes()[0], id.as_bytes()[1]], v))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn raw_round_trip_and_checksum_verifies(msg in raw_message(), cp932 in any::<bool>()) {
        let charset = if cp932 { Charset::Cp932 } else { Charset::Utf8 };
        let Ok(frame) = encode_frame(&msg, charset, true) else {
            // Only Shift_JIS may refuse (a 0x7C trail byte or an unmappable char).
            prop_assert!(cp932);
            return Ok(());
        };
        prop_assert_eq!(frame.last(), Some(&b'\r'));
        let body = &frame[..frame.len() - 1];
        prop_assert!(!body.contains(&b'\r'));
        let split = body.len() - 4;
        prop_assert!(checksum_verifies(&body[..split], &body[split..]));
        let (back, _) = decode_frame(body, DecodeOptions { charset, require_checksum: true }).unwrap();
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn one_flipped_bit_before_the_checksum_is_always_caught(msg in raw_message(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let frame = encode_frame(&msg, Charset::Utf8, true).unwrap();
        let mut body = frame[..frame.len() - 1].to_vec();
        let i = at.index(body.len() - 4);
        body[i] ^= 1 << bit;
        let decoded = decode_frame(&body, DecodeOptions { charset: Charset::Utf8, require_checksum: true });
        prop_assert!(decoded.is_err());
    }

    #[test]
    fn typed_checkout_response_round_trip(m in circulation(), seq in 0u8..10, renew in any::<bool>()) {
        let msg = if renew { Message::RenewResponse(m) } else { Message::CheckoutResponse(m) };
        let frame = msg.encode(Some(seq), Charset::Utf8, true).unwrap();
        let d = Message::decode(&frame[..frame.len() - 1], DecodeOptions { charset: Charset::Utf8, require_checksum: true }).unwrap();
        prop_assert_eq!(d.seq, Some(seq));
        prop_assert_eq!(d.message, msg);
    }

    #[test]
    fn typed_checkout_request_round_trip(patron in text(), item in text(), date in date(), nb in date(), no_block in any::<bool>(), extra in prop::collection::vec(field_unknown(), 0..3)) {
        let msg = Message::Checkout(CheckoutRequest {
            sc_renewal_policy: true, no_block, date, nb_due_date: nb, institution: "KIOSK".into(), patron, item,
            terminal_password: String::new(), item_properties: None, patron_password: Some("1234".into()),
            fee_acknowledged: Some(false), cancel: None, extra,
        });
        let frame = msg.encode(Some(3), Charset::Utf8, true).unwrap();
        let d = Message::decode(&frame[..frame.len() - 1], DecodeOptions::default()).unwrap();
        prop_assert_eq!(d.message, msg);
    }

    #[test]
    fn typed_patron_status_round_trip(flags in prop::array::uniform14(any::<bool>()), name in text(), bl in prop::option::of(any::<bool>()), cq in prop::option::of(any::<bool>()), cp932 in any::<bool>()) {
        let charset = if cp932 { Charset::Cp932 } else { Charset::Utf8 };
        let msg = Message::PatronStatusResponse(PatronStatusResponse {
            status: PatronStatusFlags(flags), language: "014".into(), date: SipDate::local(2026, 1, 2, 3, 4, 5),
            institution: "図書館".into(), patron: "A123".into(), name, valid_patron: bl, valid_password: cq,
            currency: None, fee_amount: Some("0".into()), screen_messages: vec!["ようこそ".into()], print_lines: vec![], extra: vec![],
        });
        if let Ok(frame) = msg.encode(Some(1), charset, true) {
            let d = Message::decode(&frame[..frame.len() - 1], DecodeOptions { charset, require_checksum: true }).unwrap();
            prop_assert_eq!(d.message, msg);
        } else {
            prop_assert!(cp932);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), cp932 in any::<bool>()) {
        let charset = if cp932 { Charset::Cp932 } else { Charset::Utf8 };
        let _ = Message::decode(&bytes, DecodeOptions { charset, require_checksum: false });
        let mut buf = FrameBuffer::new(128);
        buf.extend(&bytes);
        while let Ok(Some(f)) = buf.next_frame() {
            let _ = Message::decode(&f, DecodeOptions { charset, require_checksum: true });
        }
    }

    #[test]
    fn frames_split_anywhere_reassemble(msgs in prop::collection::vec(raw_message(), 1..5), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6), crlf in any::<bool>()) {
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend(encode_frame(m, Charset::Utf8, true).unwrap());
            if crlf { stream.push(b'\n'); }
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len())).collect();
        points.sort_unstable();
        let mut buf = FrameBuffer::new(1 << 16);
        let mut out = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([stream.len()]) {
            buf.extend(&stream[last..p]);
            last = p;
            while let Some(f) = buf.next_frame().unwrap() {
                out.push(decode_frame(&f, DecodeOptions::default()).unwrap().0);
            }
        }
        prop_assert_eq!(out, msgs);
    }
}
