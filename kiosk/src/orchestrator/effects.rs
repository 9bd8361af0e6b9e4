//! The flow's effects, each sent to the room that carries it out.

use std::time::Duration;

use kiosk_core::flow::{AuditEvent, BuzzerPattern, Effect, LampPattern};

use super::Orchestrator;
use super::card::CardCommand;

impl Orchestrator {
    /// Carries out one effect of the flow: the only place that matches on [`Effect`]
    /// (each kind goes to its room: card and identity, lending, printing, the counter,
    /// the outputs).
    pub(super) fn effect(&mut self, effect: Effect) {
        tracing::debug!(?effect, "effect");
        #[cfg(feature = "demo")]
        if let Some(demo) = &self.drivers.demo {
            demo.record(&effect);
        }
        match effect {
            Effect::ReadCertificate { session } => {
                self.begin(session);
                self.card(CardCommand::ReadCertificate { session }, session);
            }
            Effect::QueryPinTries { session } => self.card(CardCommand::QueryPinTries { session }, session),
            Effect::VerifyPin { session, pin } => self.card(CardCommand::VerifyPin { session, pin }, session),
            Effect::ProvePossession { session } => self.prove(session),
            Effect::CheckValidity { session } => self.check(session),
            Effect::ResolvePatron { session } => self.resolve_patron(session),
            Effect::TypeNumber { session, patron } => self.type_number(session, patron),
            Effect::Link { session, patron, replace } => self.link(session, &patron, replace),
            Effect::Unlink { session } => self.unlink(session),
            Effect::PatronStatus { session, patron, password, .. } => {
                self.patron_status(session, patron, password);
            }
            Effect::Checkout { session, patron, item, offline: false } => {
                self.checkout(session, patron, item)
            }
            Effect::Checkout { session, patron, item, offline: true } => {
                self.offline_checkout(session, patron, item);
            }
            Effect::Account { session, patron } => self.account(session, patron),
            Effect::Renew { session, patron, item, due } => self.renew(session, patron, item, due),
            Effect::Return { session, item } => self.return_item(session, item),
            Effect::Print { session, job } => self.print(session, job),
            Effect::PowerOffCard => {
                if let Some(c) = &self.drivers.card {
                    c.send(CardCommand::PowerOff);
                }
            }
            Effect::EndSession { session } => {
                if self.session.as_ref().is_some_and(|(s, _)| *s == session) {
                    self.end_session();
                }
            }
            Effect::Lamp(p) => self.drivers.outputs.lamp(lamp(p)),
            Effect::Buzzer(p) => {
                // The tones in order, for a technician (and the end-to-end tests) to read.
                tracing::debug!(pattern = ?p, "buzzer");
                self.drivers.outputs.buzzer(buzzer(p));
            }
            Effect::ReleaseGate => {
                tracing::debug!("gate released");
                self.drivers.outputs.gate();
            }
            Effect::Audit(a) => {
                tracing::info!(event = ?a, "audit");
                self.drivers.usage.record(&a);
                // A session's numbers are written when it ends (the rest within a minute).
                if matches!(a, AuditEvent::SessionEnded(_) | AuditEvent::ReturnsEnded(_)) {
                    self.flush_usage();
                }
            }
        }
    }
}

/// The staff lamp's pattern on the GPIO ticker.
fn lamp(p: LampPattern) -> kiosk_io::Pattern {
    match p {
        LampPattern::Off => kiosk_io::Pattern::Off,
        LampPattern::Steady => kiosk_io::Pattern::Steady,
        LampPattern::Blink => {
            kiosk_io::Pattern::Blink { on: Duration::from_millis(500), off: Duration::from_millis(500) }
        }
    }
}

/// The buzzer's pattern on the GPIO ticker.
fn buzzer(p: BuzzerPattern) -> kiosk_io::Pattern {
    match p {
        BuzzerPattern::Off => kiosk_io::Pattern::Off,
        BuzzerPattern::Beep => kiosk_io::Pattern::Beep { on: Duration::from_millis(200) },
        BuzzerPattern::Lent => kiosk_io::Pattern::Beep { on: Duration::from_millis(60) },
        BuzzerPattern::Refused => kiosk_io::Pattern::Pulses {
            on: Duration::from_millis(120),
            off: Duration::from_millis(80),
            count: 3,
        },
        BuzzerPattern::Reminder => {
            kiosk_io::Pattern::Repeat { on: Duration::from_millis(150), period: Duration::from_secs(3) }
        }
    }
}
