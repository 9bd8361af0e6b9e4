//! A scanned line to the flow's [`Scan`]: `kiosk-core` decides what it is; this room
//! supplies the two checks that need the fleet's label keys and the library's check-digit
//! scheme (the printer driver's code, the same that prints them).

use kiosk_core::flow::{LabelRefusal, PatronId, Scan};
use kiosk_core::scan::Classifier;
use kiosk_printer::Symbology;
use kiosk_printer::token::{self, LabelDate, TokenKey, TokenRefusal};

/// What `text` is, with Method D labels verified against `keys` for `today`.
#[must_use]
pub fn classify(
    classifier: &Classifier,
    symbology: Symbology,
    keys: &[TokenKey],
    today: LabelDate,
    text: &str,
) -> Scan {
    kiosk_core::scan::scan(
        classifier,
        text,
        |code| {
            token::verify(code, today, keys)
                .map_err(label_refusal)
                .and_then(|v| PatronId::new(v.patron.as_str()).ok_or(LabelRefusal::Malformed))
        },
        |code| check_digit_holds(symbology, code),
    )
}

/// The library's check digit (`printer.check_digit`) holds for a library card number.
#[must_use]
pub fn check_digit_holds(symbology: Symbology, code: &str) -> bool {
    use kiosk_printer::symbology::verify_check_digit;
    match symbology {
        Symbology::Nw7 { start, stop, check } => verify_check_digit(code, check, Some((start, stop))).is_ok(),
        Symbology::Code128 { check } => verify_check_digit(code, check, None).is_ok(),
    }
}

/// The token's refusal in the flow's terms.
#[must_use]
pub fn label_refusal(r: TokenRefusal) -> LabelRefusal {
    match r {
        TokenRefusal::Malformed => LabelRefusal::Malformed,
        TokenRefusal::UnknownKey => LabelRefusal::UnknownKey,
        TokenRefusal::BadSignature => LabelRefusal::BadSignature,
        TokenRefusal::WrongDay { .. } => LabelRefusal::WrongDay,
    }
}
