//! The demo shell: a scripted patron journey through the real flow, with every driver
//! simulated in-process, printed step by step.
//!
//! It shows a newcomer (and a test) what the kiosk decides: which effects each event
//! produces, what the drivers answer, and what the screen shows. The orchestrator issue
//! replaces the in-process simulators with the real driver tasks and `sim/` peers.

use std::collections::VecDeque;
use std::io::{self, Write};

use crate::flow::{
    Effect, Event, ItemId, ItemRefusal, Loan, LoanLine, Millis, Notice, PatronId, PatronSession, PinKey,
    PinStage, Reply, Scan, Screen, SessionPolicy, Tap, Verdict, View,
};

/// The demo patron's card PIN. Printed here because it is a demo fixture, not a secret.
pub const DEMO_PIN: [u8; 4] = [1, 2, 3, 4];

/// A simulated My Number card: PIN, tries counter, and whether it is on the reader.
#[derive(Debug)]
struct SimCard {
    tries: u8,
}

impl SimCard {
    fn verify(&mut self, pin: &[u8; 4]) -> Reply {
        if self.tries == 0 {
            return Reply::PinBlocked;
        }
        let expected = DEMO_PIN.map(|d| b'0' + d);
        if *pin == expected {
            self.tries = 3;
            Reply::PinVerified
        } else {
            self.tries -= 1;
            if self.tries == 0 { Reply::PinBlocked } else { Reply::WrongPin { tries_left: self.tries } }
        }
    }
}

/// The demo library's catalogue: barcode, title, and whether it may be lent.
const CATALOGUE: &[(&str, &str, Option<&str>)] = &[
    ("9784101010014", "吾輩は猫である", None),
    ("9784003101018", "坊っちゃん", None),
    ("9784041001011", "こころ", Some("予約資料のため貸出できません / Reserved for another patron")),
    ("9784101010021", "Norwegian Wood", None),
];

/// What the scripted run ended with, for tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub borrowed: usize,
    pub refused: usize,
    pub receipts_printed: usize,
    pub verify_commands: usize,
    pub ended_idle: bool,
}

/// The scripted journey: card on, one wrong PIN, the right PIN, four books (one refused),
/// a receipt, card off.
fn script() -> Vec<Event> {
    let keys = |digits: [u8; 4]| {
        digits
            .into_iter()
            .map(|d| Event::Tap(Tap::Pin(PinKey::Digit(d))))
            .chain([Event::Tap(Tap::Pin(PinKey::Submit))])
            .collect::<Vec<_>>()
    };
    let mut events = vec![Event::CardInserted];
    events.extend(keys([9, 9, 9, 9]));
    events.extend(keys(DEMO_PIN));
    events.extend(CATALOGUE.iter().map(|(code, _, _)| Event::Scanned(Scan::Item(ItemId((*code).into())))));
    events.extend([Event::Tap(Tap::Finish), Event::Tap(Tap::PrintReceipt), Event::CardRemoved]);
    events
}

/// Runs the scripted journey, writing what happens to `out`.
///
/// # Errors
/// Only if writing to `out` fails.
pub fn run(out: &mut dyn Write, policy: SessionPolicy) -> io::Result<DemoSummary> {
    let mut flow = PatronSession::new(policy);
    let mut card = SimCard { tries: 3 };
    let mut summary = DemoSummary::default();
    let mut now = Millis(0);
    writeln!(out, "kiosk demo: a patron borrows books (simulated card, platform, library system, printer)")?;
    writeln!(out, "screen  {}", describe(&flow.view(now)))?;
    for event in script() {
        now = Millis(now.0 + 1_000);
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            writeln!(out, "event   {}", event_line(&event))?;
            for effect in flow.on(now, event) {
                writeln!(out, "  effect {effect:?}")?;
                if let Some(reply) = simulate(&effect, &mut card, &mut summary) {
                    if let Effect::ReadCertificate { session }
                    | Effect::QueryPinTries { session }
                    | Effect::VerifyPin { session, .. }
                    | Effect::ProvePossession { session }
                    | Effect::CheckValidity { session }
                    | Effect::ResolvePatron { session }
                    | Effect::PatronStatus { session, .. }
                    | Effect::Checkout { session, .. }
                    | Effect::Print { session, .. } = effect
                    {
                        queue.push_back(Event::Reply { session, reply });
                    }
                }
            }
        }
        writeln!(out, "screen  {}", describe(&flow.view(now)))?;
    }
    summary.ended_idle = flow.is_idle();
    writeln!(
        out,
        "done: {} borrowed, {} refused, {} receipt(s), {} VERIFY command(s), back to idle: {}",
        summary.borrowed,
        summary.refused,
        summary.receipts_printed,
        summary.verify_commands,
        summary.ended_idle
    )?;
    Ok(summary)
}

/// The simulated drivers: the answer each effect would get.
fn simulate(effect: &Effect, card: &mut SimCard, summary: &mut DemoSummary) -> Option<Reply> {
    Some(match effect {
        Effect::ReadCertificate { .. } => Reply::Certificate(Ok(())),
        Effect::QueryPinTries { .. } => Reply::PinTries(card.tries),
        Effect::VerifyPin { pin, .. } => {
            summary.verify_commands += 1;
            card.verify(pin.as_ascii())
        }
        Effect::ProvePossession { .. } => Reply::Proof(Ok(())),
        Effect::CheckValidity { .. } => Reply::Validity(Verdict::Good { patron: None }),
        Effect::ResolvePatron { .. } => {
            Reply::Patron(PatronId::new("2300012345678").ok_or(crate::flow::PatronRefusal::NotLinked))
        }
        Effect::PatronStatus { .. } => Reply::Standing(Ok(())),
        Effect::Checkout { item, .. } => {
            let result = match CATALOGUE.iter().find(|(code, _, _)| *code == item.0) {
                Some((_, title, None)) => {
                    summary.borrowed += 1;
                    Ok(Loan { item: item.clone(), title: (*title).into(), due: "2026-12-07".into() })
                }
                Some((_, _, Some(why))) => {
                    summary.refused += 1;
                    Err(ItemRefusal::Refused(Some((*why).into())))
                }
                None => Err(ItemRefusal::Refused(None)),
            };
            Reply::Checkout { item: item.clone(), result }
        }
        Effect::Print { .. } => {
            summary.receipts_printed += 1;
            Reply::Printed(Ok(()))
        }
        Effect::PowerOffCard
        | Effect::EndSession { .. }
        | Effect::Lamp(_)
        | Effect::Buzzer(_)
        | Effect::Audit(_) => return None,
    })
}

fn event_line(event: &Event) -> String {
    match event {
        // The demo's stand-in for the screen: key presses show as dots, like the pad.
        Event::Tap(Tap::Pin(PinKey::Digit(_))) => "Tap(Pin(Digit(•)))".into(),
        other => format!("{other:?}"),
    }
}

/// One line describing what the patron sees.
#[must_use]
pub fn describe(view: &View) -> String {
    let mut line = match &view.screen {
        Screen::Idle => "Idle: place your My Number card or scan your library card".to_owned(),
        Screen::OutOfService => "Out of service".to_owned(),
        Screen::ReadingCard => "Reading your card…".to_owned(),
        Screen::Pin(pad) => {
            let dots: String = "●".repeat(pad.entered) + &"○".repeat(crate::flow::PIN_LEN - pad.entered);
            let stage = match pad.stage {
                PinStage::CheckingTries => "checking tries",
                PinStage::LastTryWarning => "LAST TRY: a wrong PIN will lock your card",
                PinStage::Entering => "enter your 4-digit PIN",
                PinStage::Verifying => "checking PIN",
                PinStage::Verified => "PIN accepted",
                PinStage::Locked => "card locked",
            };
            let tries = pad.tries_left.map(|n| format!(", {n} tries left")).unwrap_or_default();
            let wrong = if pad.last_attempt_wrong { ", last PIN was wrong" } else { "" };
            format!("PIN pad [{dots}] {stage}{tries}{wrong}")
        }
        Screen::Checking { stage, .. } => format!("Checking… ({stage:?})"),
        Screen::Borrowing { lines, waiting, .. } => {
            let shown: Vec<String> = lines
                .iter()
                .map(|l| match l {
                    LoanLine::Borrowed(loan) => format!("{} (due {})", loan.title, loan.due),
                    LoanLine::Refused { reason: ItemRefusal::Refused(Some(why)), .. } => {
                        format!("refused: {why}; please take it to the counter")
                    }
                    LoanLine::Refused { .. } => "refused; please take it to the counter".to_owned(),
                })
                .collect();
            format!(
                "Borrowing: scan your books [{}]{}",
                shown.join(", "),
                if *waiting > 0 { " …" } else { "" }
            )
        }
        Screen::ReceiptChoice => "Would you like a receipt?".to_owned(),
        Screen::Printing { label } => {
            (if *label { "Printing your label…" } else { "Printing your receipt…" }).into()
        }
        Screen::Ending { notice, card_present } => {
            let what = match notice {
                Notice::ReceiptPrinted => "Here is your receipt. Thank you!".to_owned(),
                Notice::Goodbye => "Thank you!".to_owned(),
                other => format!("{other:?}"),
            };
            if *card_present { format!("{what} Please take your card.") } else { what }
        }
    };
    if let Some(secs) = view.timeout_warning {
        line.push_str(&format!(" [still there? {secs} s]"));
    }
    line
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_scripted_patron_borrows_three_books_and_leaves() {
        let mut out = Vec::new();
        let summary = run(&mut out, SessionPolicy::default()).unwrap();
        assert_eq!(
            summary,
            DemoSummary {
                borrowed: 3,
                refused: 1,
                receipts_printed: 1,
                verify_commands: 2,
                ended_idle: true
            }
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("2 tries left, last PIN was wrong"), "{text}");
        assert!(!text.contains("1234"), "the PIN must not be printed: {text}");
        assert!(!text.contains("2300012345678"), "the patron number must not be printed");
    }
}
