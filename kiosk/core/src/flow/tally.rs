//! What a session did, as numbers for the usage statistics: how many books were lent,
//! renewed, returned or refused and why, and why a patron was turned away. Never who,
//! never which book.

use super::patron::{ItemRefusal, Notice, PatronRefusal};

/// Why a book was not lent, renewed or returned, as the statistics count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefusalKind {
    NotInCatalogue,
    OnHold,
    OnLoan,
    Other,
    NoAnswer,
    Unconfirmed,
    NotCheckedOut,
    OfflineLimit,
    OfflineStopped,
    OfflinePending,
    /// A set with parts not on the RFID pad.
    PartsMissing,
    /// Two tags on the pad claim the same item.
    DuplicateTags,
}

impl RefusalKind {
    /// Every kind, in the order the statistics list them.
    pub const ALL: [RefusalKind; 12] = [
        RefusalKind::NotInCatalogue,
        RefusalKind::OnHold,
        RefusalKind::OnLoan,
        RefusalKind::Other,
        RefusalKind::NoAnswer,
        RefusalKind::Unconfirmed,
        RefusalKind::NotCheckedOut,
        RefusalKind::OfflineLimit,
        RefusalKind::OfflineStopped,
        RefusalKind::OfflinePending,
        RefusalKind::PartsMissing,
        RefusalKind::DuplicateTags,
    ];

    /// Its name in the statistics file, the CSV and the metrics (stable: files keep it).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RefusalKind::NotInCatalogue => "not_in_catalogue",
            RefusalKind::OnHold => "on_hold",
            RefusalKind::OnLoan => "on_loan",
            RefusalKind::Other => "other",
            RefusalKind::NoAnswer => "no_answer",
            RefusalKind::Unconfirmed => "unconfirmed",
            RefusalKind::NotCheckedOut => "not_checked_out",
            RefusalKind::OfflineLimit => "offline_limit",
            RefusalKind::OfflineStopped => "offline_stopped",
            RefusalKind::OfflinePending => "offline_pending",
            RefusalKind::PartsMissing => "parts_missing",
            RefusalKind::DuplicateTags => "duplicate_tags",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl ItemRefusal {
    /// The refusal's kind (the library system's own words are not counted).
    #[must_use]
    pub fn kind(&self) -> RefusalKind {
        match self {
            ItemRefusal::NotInCatalogue => RefusalKind::NotInCatalogue,
            ItemRefusal::OnHoldForAnother => RefusalKind::OnHold,
            ItemRefusal::OnLoanToAnother => RefusalKind::OnLoan,
            ItemRefusal::Refused(_) => RefusalKind::Other,
            ItemRefusal::NoAnswer => RefusalKind::NoAnswer,
            ItemRefusal::Unconfirmed => RefusalKind::Unconfirmed,
            ItemRefusal::NotCheckedOut => RefusalKind::NotCheckedOut,
            ItemRefusal::OfflineLimit => RefusalKind::OfflineLimit,
            ItemRefusal::OfflineStopped => RefusalKind::OfflineStopped,
            ItemRefusal::OfflinePending => RefusalKind::OfflinePending,
            ItemRefusal::PartsMissing { .. } => RefusalKind::PartsMissing,
            ItemRefusal::DuplicateTags => RefusalKind::DuplicateTags,
        }
    }
}

/// Why a session ended without the patron being let in to borrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TurnedAway {
    /// The card could not be read, or is not a My Number card.
    CardProblem,
    /// The card did not prove it holds its certificate's key.
    CardNotConfirmed,
    Revoked,
    Expired,
    /// The card is not linked to a patron of this library.
    NotLinked,
    PlatformUnavailable,
    /// The library system does not know the patron.
    Unknown,
    Blocked,
    LibraryUnavailable,
    /// Three wrong library-card passwords.
    WrongPassword,
    /// A Method D label from another day, unsigned, or used already.
    LabelRefused,
    /// A library card where the library takes only My Number cards.
    LibraryCardNotAccepted,
}

impl TurnedAway {
    /// Every reason, in the order the statistics list them.
    pub const ALL: [TurnedAway; 12] = [
        TurnedAway::CardProblem,
        TurnedAway::CardNotConfirmed,
        TurnedAway::Revoked,
        TurnedAway::Expired,
        TurnedAway::NotLinked,
        TurnedAway::PlatformUnavailable,
        TurnedAway::Unknown,
        TurnedAway::Blocked,
        TurnedAway::LibraryUnavailable,
        TurnedAway::WrongPassword,
        TurnedAway::LabelRefused,
        TurnedAway::LibraryCardNotAccepted,
    ];

    /// Its name in the statistics file, the CSV and the metrics (stable: files keep it).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TurnedAway::CardProblem => "card_problem",
            TurnedAway::CardNotConfirmed => "card_not_confirmed",
            TurnedAway::Revoked => "revoked",
            TurnedAway::Expired => "expired",
            TurnedAway::NotLinked => "not_linked",
            TurnedAway::PlatformUnavailable => "platform_unavailable",
            TurnedAway::Unknown => "unknown",
            TurnedAway::Blocked => "blocked",
            TurnedAway::LibraryUnavailable => "library_unavailable",
            TurnedAway::WrongPassword => "wrong_password",
            TurnedAway::LabelRefused => "label_refused",
            TurnedAway::LibraryCardNotAccepted => "library_card_not_accepted",
        }
    }

    /// The reason a session's ending notice gives, if it turned the patron away (a
    /// locked card is counted as a PIN lock, not here).
    #[must_use]
    pub fn from_notice(notice: &Notice) -> Option<TurnedAway> {
        Some(match notice {
            Notice::CardProblem(_) => TurnedAway::CardProblem,
            Notice::ProofFailed(_) => TurnedAway::CardNotConfirmed,
            Notice::Revoked => TurnedAway::Revoked,
            Notice::Expired => TurnedAway::Expired,
            Notice::NotLinked | Notice::PatronRefused(PatronRefusal::NotLinked) => TurnedAway::NotLinked,
            Notice::PlatformUnavailable => TurnedAway::PlatformUnavailable,
            Notice::PatronRefused(PatronRefusal::Unknown) => TurnedAway::Unknown,
            Notice::PatronRefused(PatronRefusal::Blocked(_)) => TurnedAway::Blocked,
            Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable) => TurnedAway::LibraryUnavailable,
            Notice::PatronRefused(PatronRefusal::WrongPassword) | Notice::PasswordRefused => {
                TurnedAway::WrongPassword
            }
            Notice::LabelRefused(_) => TurnedAway::LabelRefused,
            Notice::LibraryCardNotAccepted => TurnedAway::LibraryCardNotAccepted,
            Notice::Goodbye
            | Notice::ReceiptPrinted
            | Notice::LabelPrinted
            | Notice::Cancelled
            | Notice::TimedOut
            | Notice::CardLocked
            | Notice::PrintFailed(_)
            | Notice::IdentifyFirst
            | Notice::Malfunction
            | Notice::NumberCleared
            | Notice::Linked
            | Notice::Unlinked(_)
            | Notice::LinkFailed(_)
            | Notice::ReturnsDone => return None,
        })
    }
}

/// One session's numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Books lent (online or offline), renewals not included.
    pub lent: u16,
    /// Of those, lent while the library system was offline.
    pub lent_offline: u16,
    pub renewed: u16,
    pub returned: u16,
    /// Books the patron brought that were not lent (or, in a returns session, not
    /// returned): what the staff's recent events show.
    pub not_done: u16,
    /// Every refusal of the session (loans, renewals, returns) by kind.
    refusals: [u16; RefusalKind::ALL.len()],
}

impl Tally {
    /// Counts one refusal.
    pub fn refused(&mut self, refusal: &ItemRefusal) {
        let slot = &mut self.refusals[refusal.kind().index()];
        *slot = slot.saturating_add(1);
    }

    /// How many refusals of `kind`.
    #[must_use]
    pub fn refusals(&self, kind: RefusalKind) -> u16 {
        self.refusals[kind.index()]
    }
}

/// Adds one to a count (a session never holds 65,535 books).
pub(super) fn bump(n: &mut u16) {
    *n = n.saturating_add(1);
}
