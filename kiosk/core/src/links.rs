//! When linking a card to a library card needs staff to confirm.
//!
//! At the counter, staff link the card on the reader to the library card they scan. A
//! link that would silently take a card from one patron, or a library card from another
//! card, is a conflict: the screen names it and nothing is written until staff confirm.

use crate::flow::LinkFault;

/// Whether a link of the card on the reader to `wanted` may be written.
///
/// `current` is the library card the card on the reader is linked to now;
/// `wanted_has_a_card` says whether another card is already linked to `wanted`;
/// `replace` is staff's confirmation.
///
/// # Errors
/// [`LinkFault::CardLinkedElsewhere`] when the card belongs to another library card,
/// [`LinkFault::PatronLinkedElsewhere`] when the library card has another card.
pub fn may_link(
    current: Option<&str>,
    wanted: &str,
    wanted_has_a_card: bool,
    replace: bool,
) -> Result<(), LinkFault> {
    if replace {
        return Ok(());
    }
    match current {
        Some(c) if c != wanted => Err(LinkFault::CardLinkedElsewhere),
        None if wanted_has_a_card => Err(LinkFault::PatronLinkedElsewhere),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_of_a_link() {
        assert_eq!(may_link(None, "20", false, false), Ok(()));
        assert_eq!(may_link(Some("20"), "20", true, false), Ok(()), "linking again to the same card is fine");
        assert_eq!(may_link(Some("21"), "20", false, false), Err(LinkFault::CardLinkedElsewhere));
        assert_eq!(may_link(None, "20", true, false), Err(LinkFault::PatronLinkedElsewhere));
        assert_eq!(may_link(Some("21"), "20", true, true), Ok(()), "staff confirmed");
        assert_eq!(may_link(None, "20", true, true), Ok(()), "staff confirmed");
    }
}
