//! The pure core: every decision the kiosk makes, and nothing else.
//!
//! The state machines here ([`PinPad`], [`PatronSession`], [`AdminSession`]) are plain
//! types in the sans-I/O style of rustls and quinn-proto: `on(now, event) -> effects`.
//! They never read a clock, touch a device, or block; time arrives as the `now` argument
//! (a monotonic [`Millis`] reading the orchestrator takes) and every side effect leaves as
//! a value for the orchestrator to carry out. What the screen shows is a pure function of
//! the state (`view()`), so the UI cannot disagree with the flow.
//!
//! Results from drivers come back tagged with the [`SessionId`] of the session that asked
//! for them; a late answer for a session that has ended is dropped, so a slow platform
//! reply can never land in the next patron's session.

mod account;
mod admin;
mod password;
mod patron;
mod pin;
mod returns;
mod secret;
mod tally;

pub use account::{Account, AccountLine, AccountLoan, AccountView, BlockReason, HoldReady, RenewState};
pub use admin::{
    AdminAction, AdminAudit, AdminEffect, AdminEvent, AdminPolicy, AdminSession, AdminView, StaffPin,
};
pub use password::{PASSWORD_MAX, PASSWORD_TRIES, Password, PasswordPad};
pub use patron::{
    AuditEvent, BuzzerPattern, CardFault, CheckStage, CounterPolicy, Effect, Effects, Event, HandOff, ItemId,
    ItemRefusal, LabelRefusal, LampPattern, LibraryCardLogin, LinkFault, LinkStage, Loan, LoanLine,
    LoginMethod, Notice, OfflinePolicy, OnPad, PASSWORD_LOCKS, PatronRefusal, PatronSession, PrintFault,
    PrintJob, ProofFailure, Refusal, Reply, Scan, Screen, Security, SessionPolicy, StaffCall, Tap, TypeFault,
    TypingView, Verdict, View,
};
pub use pin::{PIN_LEN, PinKey, PinPad, PinPadEffect, PinPadEvent, PinStage, PinView};
pub use returns::{Return, ReturnLine, Returned};
pub use secret::{PatronId, Pin, SecretDigits};
pub use tally::{RefusalKind, Tally, TurnedAway};

use core::time::Duration;

/// A reading of the orchestrator's monotonic clock, in milliseconds since it started.
///
/// The flow only ever compares and adds these; it never asks for the time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// This instant plus a duration (saturating; a kiosk does not run for 584 million years).
    #[must_use]
    pub fn after(self, d: Duration) -> Millis {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Millis(self.0.saturating_add(ms))
    }

    /// Whole seconds from `self` until `later`, rounded up; 0 if `later` has passed.
    #[must_use]
    pub fn secs_until(self, later: Millis) -> u32 {
        let ms = later.0.saturating_sub(self.0);
        u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX)
    }
}

/// Identifies one patron session; driver requests carry it and replies must echo it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionId(pub u32);
