//! The demo shell: a scripted patron journey through the real flow, with every driver
//! simulated in-process, printed step by step.
//!
//! It shows a newcomer (and a test) what the kiosk decides: which effects each event
//! produces, what the drivers answer, and what the screen shows.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use kiosk_printer::token::{self, LabelDate, TokenKey};
use kiosk_printer::{JobSettings, Receipt, ReceiptLine, compose_label, compose_receipt};

use crate::config::Config;
use kiosk_core::flow::{
    Effect, Event, ItemId, ItemRefusal, LabelRefusal, Loan, LoanLine, Millis, Notice, PatronId,
    PatronSession, PinKey, PinStage, PrintFault, PrintJob, Reply, Scan, Screen, Tap, Verdict, View,
};

/// The demo patron's card PIN. Printed here because it is a demo fixture, not a secret.
pub const DEMO_PIN: [u8; 4] = [1, 2, 3, 4];

/// A simulated My Number card: PIN and tries counter.
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
const CATALOGUE: &[(&str, &str, Option<ItemRefusal>)] = &[
    ("9784101010014", "吾輩は猫である", None),
    ("9784003101018", "坊っちゃん", None),
    ("9784041001011", "こころ", Some(ItemRefusal::OnHoldForAnother)),
    ("9784101010021", "Norwegian Wood", None),
];

/// The demo patron's library card number (NW-7, no check digit, as the demo config).
const DEMO_PATRON: &str = "2300012345678";

/// What the scripted run ended with, for tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub borrowed: usize,
    pub refused: usize,
    pub receipts_printed: usize,
    pub labels_printed: usize,
    pub labels_refused: usize,
    pub verify_commands: usize,
    pub ended_idle: bool,
    /// The pages the virtual printer rendered (PNG files).
    pub pages: Vec<PathBuf>,
}

/// The simulated world the flow talks to: card, platform, library system, printer.
pub(crate) struct World {
    card: SimCard,
    summary: DemoSummary,
    settings: JobSettings,
    key: TokenKey,
    today: LabelDate,
    now_text: String,
    out_dir: PathBuf,
    /// The virtual printer's Japanese font, loaded at the first print: parsed, it holds
    /// every glyph's outline (about 60 MiB for IPAex Gothic), which a kiosk that never
    /// prints should not carry.
    font: std::cell::OnceCell<Option<kiosk_sim::printer::Font>>,
    /// The demo card's link (the counter links and unlinks it).
    link: Option<PatronId>,
    /// What a scan is (the kiosk's rules, from the demo configuration).
    classifier: kiosk_core::scan::Classifier,
    /// Counter method C: the real HID encoder, typing into a file in the demo's folder.
    keyboard: Option<(kiosk_keyboard::Gadget, &'static str)>,
}

fn pin_keys(digits: [u8; 4]) -> Vec<Event> {
    digits
        .into_iter()
        .map(|d| Event::Tap(Tap::Pin(PinKey::Digit(d))))
        .chain([Event::Tap(Tap::Pin(PinKey::Submit))])
        .collect()
}

/// Runs the scripted journeys, writing what happens to `out` and the printed pages to
/// `out_dir`:
/// 1. a patron borrows books: one wrong PIN, the right one, four books (one refused), a
///    receipt, card off;
/// 2. a patron prints a Method D label for another self-checkout machine;
/// 3. that label is scanned here the same day and lends a book;
/// 4. yesterday's label is refused.
///
/// # Errors
/// Writing to `out`, or creating `out_dir`.
pub fn run(out: &mut dyn Write, config: &Config, out_dir: &Path) -> io::Result<DemoSummary> {
    let mut world = World::new(config, out_dir)?;
    if world.font().is_none() {
        writeln!(
            out,
            "(no Japanese font at {}: printed text is drawn as boxes)",
            kiosk_sim::printer::FONT_PATH
        )?;
    }
    let mut flow = PatronSession::new(config.session_policy());
    let mut now = Millis(0);
    writeln!(out, "kiosk demo: simulated card, platform, library system and printer")?;
    writeln!(out, "screen  {}", describe(&flow.view(now)))?;

    let mut borrow = vec![Event::CardInserted];
    borrow.extend(pin_keys([9, 9, 9, 9]));
    borrow.extend(pin_keys(DEMO_PIN));
    borrow.extend(CATALOGUE.iter().map(|(code, _, _)| Event::Scanned(Scan::Item(ItemId((*code).into())))));
    borrow.extend([Event::Tap(Tap::Finish), Event::Tap(Tap::PrintReceipt), Event::CardRemoved]);
    play(out, &mut flow, &mut world, &mut now, "1. A patron borrows books", borrow)?;

    let mut label = vec![Event::CardInserted];
    label.extend(pin_keys(DEMO_PIN));
    label.extend([Event::Tap(Tap::PrintLabel), Event::CardRemoved]);
    play(out, &mut flow, &mut world, &mut now, "2. A patron prints a Method D label", label)?;

    let scan_label = |world: &World, printed: LabelDate| -> Event {
        let verified = token::sign(DEMO_PATRON, printed, &world.settings.kiosk_id, &world.key)
            .map_err(|_| LabelRefusal::Malformed)
            .and_then(|t| {
                token::verify(&t, world.today, std::slice::from_ref(&world.key))
                    .map_err(crate::orchestrator::scan::label_refusal)
            });
        Event::Scanned(Scan::MethodDLabel(
            verified.and_then(|v| PatronId::new(v.patron.as_str()).ok_or(LabelRefusal::Malformed)),
        ))
    };
    let today = world.today;
    let same_day = vec![
        scan_label(&world, today),
        Event::Scanned(Scan::Item(ItemId(CATALOGUE[1].0.into()))),
        Event::Tap(Tap::Finish),
        Event::Tap(Tap::NoReceipt),
        Event::Tap(Tap::Dismiss),
    ];
    play(out, &mut flow, &mut world, &mut now, "3. The label is scanned here, the same day", same_day)?;

    let yesterday = previous_day(today);
    let stale = vec![scan_label(&world, yesterday), Event::Tap(Tap::Dismiss)];
    play(out, &mut flow, &mut world, &mut now, "4. Yesterday's label is refused", stale)?;

    let mut summary = world.summary;
    summary.ended_idle = flow.is_idle();
    writeln!(
        out,
        "done: {} borrowed, {} refused, {} receipt(s), {} label(s), {} label(s) refused, {} VERIFY command(s), back to idle: {}",
        summary.borrowed,
        summary.refused,
        summary.receipts_printed,
        summary.labels_printed,
        summary.labels_refused,
        summary.verify_commands,
        summary.ended_idle
    )?;
    for page in &summary.pages {
        writeln!(out, "printed page: {}", page.display())?;
    }
    Ok(summary)
}

fn play(
    out: &mut dyn Write,
    flow: &mut PatronSession,
    world: &mut World,
    now: &mut Millis,
    title: &str,
    events: Vec<Event>,
) -> io::Result<()> {
    writeln!(out, "\n== {title} ==")?;
    for event in events {
        *now = Millis(now.0 + 1_000);
        if let Event::Scanned(Scan::MethodDLabel(Err(_))) = &event {
            world.summary.labels_refused += 1;
        }
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            writeln!(out, "event   {}", event_line(&event))?;
            for effect in flow.on(*now, event) {
                writeln!(out, "  effect {effect:?}")?;
                if let Some(reply) = world.simulate(&effect, out)?
                    && let Some(session) = effect.session()
                {
                    queue.push_back(Event::Reply { session, reply });
                }
            }
        }
        writeln!(out, "screen  {}", describe(&flow.view(*now)))?;
    }
    Ok(())
}

impl World {
    pub(crate) fn new(config: &Config, out_dir: &Path) -> io::Result<World> {
        std::fs::create_dir_all(out_dir)?;
        let (today, now_text) = crate::clock::local_now();
        Ok(World {
            card: SimCard { tries: 3 },
            summary: DemoSummary::default(),
            settings: config.job_settings(),
            key: demo_key(),
            today,
            now_text,
            out_dir: out_dir.to_owned(),
            font: std::cell::OnceCell::new(),
            link: PatronId::new(DEMO_PATRON),
            classifier: kiosk_core::scan::Classifier::standard(
                &config.scanner.library_card_prefix,
                config.scanner.staff_card_prefix.as_deref(),
            )
            .map_err(io::Error::other)?,
            keyboard: config.mode.counter().map(|c| {
                let gadget = kiosk_keyboard::Gadget::new(
                    c.keyboard.device.path(),
                    c.keyboard.layout,
                    c.keyboard.key_delay,
                );
                (gadget, c.keyboard.terminator.text())
            }),
        })
    }

    fn font(&self) -> Option<&kiosk_sim::printer::Font> {
        self.font.get_or_init(kiosk_sim::printer::load_font).as_ref()
    }

    /// The catalogue's books, in order, for the demo's "scan a book" button.
    pub(crate) fn book(n: usize) -> ItemId {
        ItemId(CATALOGUE[n % CATALOGUE.len()].0.to_owned())
    }

    /// The demo patron's library card.
    pub(crate) fn library_card() -> Option<PatronId> {
        PatronId::new(DEMO_PATRON)
    }

    /// What a scanned barcode is, by the kiosk's own rules.
    pub(crate) fn classify(&self, code: &str) -> Scan {
        crate::orchestrator::scan::classify(
            &self.classifier,
            self.settings.symbology,
            std::slice::from_ref(&self.key),
            self.today,
            code,
        )
    }

    /// The simulated drivers: the answer each effect would get.
    pub(crate) fn simulate(&mut self, effect: &Effect, out: &mut dyn Write) -> io::Result<Option<Reply>> {
        Ok(Some(match effect {
            Effect::ReadCertificate { .. } => Reply::Certificate(Ok(())),
            Effect::QueryPinTries { .. } => Reply::PinTries(self.card.tries),
            Effect::VerifyPin { pin, .. } => {
                self.summary.verify_commands += 1;
                self.card.verify(pin.as_ascii())
            }
            Effect::ProvePossession { .. } => Reply::Proof(Ok(())),
            Effect::CheckValidity { .. } => Reply::Validity(Verdict::Good { patron: None }),
            Effect::ResolvePatron { .. } => {
                Reply::Patron(self.link.clone().ok_or(kiosk_core::flow::PatronRefusal::NotLinked))
            }
            Effect::TypeNumber { patron, .. } => Reply::Typed(match &self.keyboard {
                None => Err(kiosk_core::flow::TypeFault::NoKeyboard),
                Some((gadget, terminator)) => {
                    gadget.type_text(patron.expose(), terminator).map_err(|e| match e {
                        kiosk_keyboard::GadgetError::Missing { .. } => {
                            kiosk_core::flow::TypeFault::NoKeyboard
                        }
                        kiosk_keyboard::GadgetError::Untypable(_) => kiosk_core::flow::TypeFault::Untypable,
                        kiosk_keyboard::GadgetError::Write { .. } => kiosk_core::flow::TypeFault::Failed,
                    })
                }
            }),
            Effect::Link { patron, replace, .. } => Reply::Linked(
                kiosk_core::links::may_link(
                    self.link.as_ref().map(PatronId::expose),
                    patron.expose(),
                    false,
                    *replace,
                )
                .map(|()| self.link = Some(patron.clone())),
            ),
            Effect::Unlink { .. } => Reply::Unlinked(Ok(self.link.take().is_some())),
            Effect::PatronStatus { .. } => Reply::Standing(Ok(())),
            Effect::Checkout { item, .. } => {
                let result = match CATALOGUE.iter().find(|(code, _, _)| *code == item.0) {
                    Some((_, title, None)) => {
                        self.summary.borrowed += 1;
                        Ok(Loan { item: item.clone(), title: (*title).into(), due: "2026-12-07".into() })
                    }
                    Some((_, _, Some(why))) => {
                        self.summary.refused += 1;
                        Err(why.clone())
                    }
                    None => Err(ItemRefusal::NotInCatalogue),
                };
                Reply::Checkout { item: item.clone(), result }
            }
            Effect::Print { job, .. } => Reply::Printed(self.print(job, out)?),
            Effect::PowerOffCard
            | Effect::EndSession { .. }
            | Effect::Lamp(_)
            | Effect::Buzzer(_)
            | Effect::Audit(_) => return Ok(None),
        }))
    }

    /// Composes the job with the real printer driver and renders it on the virtual
    /// printer, as the paper would show it.
    fn print(&mut self, job: &PrintJob, out: &mut dyn Write) -> io::Result<Result<(), PrintFault>> {
        let (composed, name) = match job {
            PrintJob::Receipt { loans } => {
                let receipt = Receipt {
                    printed_at: self.now_text.clone(),
                    lines: loans
                        .iter()
                        .map(|l| ReceiptLine { title: l.title.clone(), due: l.due.clone() })
                        .collect(),
                    patron: None,
                };
                self.summary.receipts_printed += 1;
                (compose_receipt(&self.settings, &receipt), "receipt")
            }
            PrintJob::MethodDLabel { patron } => {
                self.summary.labels_printed += 1;
                (compose_label(&self.settings, patron.expose(), self.today, &self.key), "label")
            }
        };
        let composed = match composed {
            Ok(job) => job,
            Err(e) => {
                writeln!(out, "  printer: {e}")?;
                return Ok(Err(PrintFault::Failed));
            }
        };
        let pages = kiosk_sim::printer::render(composed.bytes(), self.settings.paper.dots(), self.font());
        for page in pages {
            let path = self.out_dir.join(format!("{name}-{}.png", self.summary.pages.len() + 1));
            page.save_png(&path)?;
            writeln!(out, "  printer: {} bytes → {}", composed.bytes().len(), path.display())?;
            self.summary.pages.push(path);
        }
        Ok(Ok(()))
    }
}

/// A fresh random fleet key for the demo (the demo config's "ephemeral" key).
fn demo_key() -> TokenKey {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    let random =
        std::fs::File::open("/dev/urandom").and_then(|mut f| io::Read::read_exact(&mut f, &mut *bytes));
    if random.is_err() {
        bytes.copy_from_slice(b"kiosk demo key, not random!!!!!!");
    }
    TokenKey::new(&*bytes).unwrap_or_else(|_| unreachable!("32 bytes is the minimum"))
}

fn previous_day(d: LabelDate) -> LabelDate {
    if d.day() > 1 {
        return LabelDate::new(d.year(), d.month(), d.day() - 1).unwrap_or(d);
    }
    let (y, m) = if d.month() == 1 { (d.year() - 1, 12) } else { (d.year(), d.month() - 1) };
    (28..=31).rev().find_map(|day| LabelDate::new(y, m, day)).unwrap_or(d)
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
            let dots: String = "●".repeat(pad.entered) + &"○".repeat(kiosk_core::flow::PIN_LEN - pad.entered);
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
                    LoanLine::Refused { reason, .. } => {
                        format!("refused ({reason:?}); please take it to the counter")
                    }
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
                Notice::LabelPrinted => {
                    "Here is your label: scan it at a self-checkout machine today (valid today only).".to_owned()
                }
                Notice::LabelRefused(LabelRefusal::WrongDay) => {
                    "This label was printed on another day: labels are valid on the day they are printed only."
                        .to_owned()
                }
                other => format!("{other:?}"),
            };
            if *card_present { format!("{what} Please take your card.") } else { what }
        }
        // The number itself is never written to the text log.
        Screen::HandOff { method, typing, seconds_left, .. } => {
            format!("Counter: number handed off by {method:?} ({typing:?}), cleared in {seconds_left} s")
        }
        Screen::LinkWaitingForCard => "Counter: link a card; waiting for the card".to_owned(),
        Screen::Linking { current, bad_scan, stage } => format!(
            "Counter: linking ({stage:?}), linked now: {}{}",
            current.as_deref().unwrap_or("none"),
            if *bad_scan { ", last scan had a wrong check digit" } else { "" }
        ),
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
    fn the_scripted_journeys() {
        let mut out = Vec::new();
        let dir = std::env::temp_dir().join(format!("kiosk-demo-test-{}", std::process::id()));
        let summary = run(&mut out, &Config::demo(), &dir).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!((summary.borrowed, summary.refused), (4, 1), "{text}");
        assert_eq!((summary.receipts_printed, summary.labels_printed, summary.labels_refused), (1, 1, 1));
        assert_eq!(summary.verify_commands, 3);
        assert!(summary.ended_idle);
        assert_eq!(summary.pages.len(), 2);
        assert!(summary.pages.iter().all(|p| p.exists()));
        assert!(text.contains("2 tries left, last PIN was wrong"), "{text}");
        assert!(text.contains("printed on another day"), "{text}");
        assert!(!text.contains("1234"), "the PIN must not be printed: {text}");
        assert!(!text.contains(DEMO_PATRON), "the patron number must not be printed");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn calendar_arithmetic() {
        assert_eq!(previous_day(LabelDate::new(2026, 3, 1).unwrap()), LabelDate::new(2026, 2, 28).unwrap());
        assert_eq!(previous_day(LabelDate::new(2026, 1, 1).unwrap()), LabelDate::new(2025, 12, 31).unwrap());
    }
}
