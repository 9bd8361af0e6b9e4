//! What a scanned code is, decided once for every scanner and for the demo.
//!
//! [`Classifier`] sorts a code by the library's rules (prefix, length, characters);
//! [`scan`] turns it into the flow's [`Scan`]: a Method D label is verified, a library
//! card number must pass the library's check digit (a misread card is never logged in
//! with or linked), anything else is an item. The two checks that need keys or the
//! printer's symbology arrive as functions, so this stays free of I/O and crypto.

mod classify;

pub use classify::{Charset, Classifier, METHOD_D_PREFIX, Rule, RuleError, ScanKind, Sorted};

use crate::flow::{ItemId, LabelRefusal, PatronId, Scan};

/// The flow's view of a scanned `text`.
///
/// `verify_label` checks a Method D token (signature, key, today's date) and names its
/// patron; `check_digit_holds` says whether the library's check digit holds for a
/// library-card number.
pub fn scan(
    classifier: &Classifier,
    text: &str,
    verify_label: impl FnOnce(&str) -> Result<PatronId, LabelRefusal>,
    check_digit_holds: impl FnOnce(&str) -> bool,
) -> Scan {
    let sorted = classifier.classify(text);
    let code = sorted.code;
    match sorted.kind {
        ScanKind::MethodDLabel => Scan::MethodDLabel(verify_label(&code)),
        // A staff card asks for the staff PIN; whose card it is does not matter (a
        // barcode is easy to copy, so the card alone never opens the menu).
        ScanKind::StaffCard => Scan::StaffCard,
        ScanKind::LibraryCard => match PatronId::new(code.as_str()) {
            Some(_) if !check_digit_holds(&code) => Scan::BadLibraryCard,
            Some(p) => Scan::LibraryCard(p),
            None => Scan::Item(ItemId(code)),
        },
        ScanKind::Item | ScanKind::Unknown => Scan::Item(ItemId(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard() -> Classifier {
        Classifier::standard("20", Some("99")).unwrap()
    }

    #[test]
    fn a_library_card_with_a_good_check_digit_logs_in() {
        let s = scan(&standard(), "2012345678901", |_| Err(LabelRefusal::Malformed), |_| true);
        assert_eq!(s, Scan::LibraryCard(PatronId::new("2012345678901").unwrap()));
    }

    #[test]
    fn a_misread_library_card_is_refused_not_lent_as_an_item() {
        let s = scan(&standard(), "A2012345678901B", |_| Err(LabelRefusal::Malformed), |_| false);
        assert_eq!(s, Scan::BadLibraryCard);
    }

    #[test]
    fn a_staff_card_is_a_staff_card_whatever_its_check_digit() {
        let s = scan(&standard(), "9912345", |_| Err(LabelRefusal::Malformed), |_| false);
        assert_eq!(s, Scan::StaffCard);
    }

    #[test]
    fn a_label_is_verified_and_anything_else_is_an_item() {
        let label = scan(
            &standard(),
            "MD1*k*20261205*x",
            |c| PatronId::new(c).ok_or(LabelRefusal::Malformed),
            |_| true,
        );
        assert!(matches!(label, Scan::MethodDLabel(Ok(_))));
        let refused = scan(&standard(), "MD1*k*20261204*x", |_| Err(LabelRefusal::WrongDay), |_| true);
        assert_eq!(refused, Scan::MethodDLabel(Err(LabelRefusal::WrongDay)));
        assert_eq!(
            scan(&standard(), "T-0001", |_| unreachable!(), |_| unreachable!()),
            Scan::Item(ItemId("T-0001".into()))
        );
    }
}
