//! SIP2 (3M Standard Interchange Protocol 2.00) for the kiosk: a byte-exact codec
//! ([`codec`], [`messages`]), an async client with resend and reconciliation
//! ([`client`]), and the [`Library`] trait the orchestrator uses, so another protocol
//! (NCIP, a vendor API) can be added without touching the flow.
//!
//! This crate does not depend on `kiosk`: its outcome types ([`Standing`], [`Loan`],
//! [`ItemProblem`], [`PatronProblem`]) are its own; the orchestrator maps them to the
//! flow's `Reply`s.

pub mod client;
pub mod codec;
pub mod dialect;
pub mod error;
pub mod library;
pub mod messages;
pub mod tls;

pub use client::{CheckoutPermission, Client, ClientConfig, Credentials, InProcessPeer, Sip2Library};
pub use codec::{Charset, SipDate, display_due_date, display_text, due_date_key};
pub use dialect::{ChargedItems, Profile, Resend};
pub use error::{DecodeError, EncodeError, Sip2Error};
pub use library::{
    Account, AccountLoan, CheckinOutcome, HoldReady, ItemProblem, Library, LibraryError, Loan, PatronProblem,
    Refused, Standing,
};
pub use messages::Message;
pub use tls::{ClientIdentity, TlsSettings};
