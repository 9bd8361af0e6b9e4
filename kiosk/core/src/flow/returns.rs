//! Returns at the kiosk (`[library] returns = true`): no card needed, books scanned one
//! at a time, each sent to the library system as a checkin (journaled like a loan), each
//! result on its own line: returned; returned but reserved for someone else (put it on
//! the hold shelf, or give it to staff); returned with something for staff to look at; or
//! not returned and why.

use std::collections::VecDeque;

use super::Millis;
use super::patron::{ItemId, ItemRefusal, Refusal};
use super::tally::{self, Tally};

/// What the library system said about a returned book.
#[derive(Clone, PartialEq, Eq)]
pub enum Returned {
    /// Back on the shelf (the return box).
    Done,
    /// Another patron reserved it: it goes to the hold shelf (`shelf`, in the library
    /// system's words, when it named one).
    ToHoldShelf { shelf: Option<String> },
    /// Returned, with an alert the library system did not explain (another branch's
    /// book, in transit…): staff look at it; its message, if any.
    StaffCheck { message: Option<String> },
}

impl core::fmt::Debug for Returned {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Returned::Done => f.write_str("Done"),
            Returned::ToHoldShelf { .. } => f.write_str("ToHoldShelf"),
            Returned::StaffCheck { .. } => f.write_str("StaffCheck"),
        }
    }
}

/// A return the library system answered: the book's title (when it gave one) and where
/// the book goes.
#[derive(Clone, PartialEq, Eq)]
pub struct Return {
    pub title: Option<String>,
    pub outcome: Returned,
}

impl core::fmt::Debug for Return {
    // Titles stay out of logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Return({:?})", self.outcome)
    }
}

/// One line of the returns list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnLine {
    Returned {
        item: ItemId,
        ret: Return,
    },
    /// Not returned (or not answered): why.
    Refused {
        item: ItemId,
        refusal: Refusal,
    },
}

/// The returns session's bookkeeping.
#[derive(Debug, Default)]
pub(super) struct Returns {
    pub(super) lines: Vec<ReturnLine>,
    pub(super) queue: VecDeque<ItemId>,
    pub(super) in_flight: Option<(ItemId, Millis)>,
    pub(super) finishing: bool,
}

impl Returns {
    /// Whether `item` was already scanned in this session and returned, or sent without
    /// an answer (it may have been returned: the journal reconciles it; a second return
    /// would only answer "not on loan"). A book the library system refused may be scanned
    /// again.
    pub(super) fn knows(&self, item: &ItemId) -> bool {
        self.queue.contains(item)
            || self.in_flight.as_ref().is_some_and(|(i, _)| i == item)
            || self.lines.iter().any(|l| match l {
                ReturnLine::Returned { item: i, .. } => i == item,
                ReturnLine::Refused { item: i, refusal } => {
                    i == item && matches!(refusal.reason, ItemRefusal::NoAnswer | ItemRefusal::Unconfirmed)
                }
            })
    }

    /// The late answer of a return given up on replaces its "no answer" line.
    pub(super) fn answered_late(&mut self, item: &ItemId, line: ReturnLine) -> bool {
        let unanswered = self.lines.iter().position(|l| {
            matches!(l, ReturnLine::Refused { item: i, refusal } if i == item && refusal.reason == ItemRefusal::NoAnswer)
        });
        match unanswered {
            Some(at) => {
                self.lines[at] = line;
                true
            }
            None => false,
        }
    }

    /// The session's numbers: books returned, not returned and why.
    pub(super) fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for line in &self.lines {
            match line {
                ReturnLine::Returned { .. } => tally::bump(&mut t.returned),
                ReturnLine::Refused { refusal, .. } => {
                    tally::bump(&mut t.not_done);
                    t.refused(&refusal.reason);
                }
            }
        }
        t
    }
}
