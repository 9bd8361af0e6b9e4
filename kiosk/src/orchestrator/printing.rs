//! Printing: receipts and Method D labels composed by the printer driver and printed
//! whole by a [`Printer`] (the ESC/POS one on a blocking thread, or the demo's virtual
//! one); the printer's faults in the flow's terms.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use kiosk_core::flow::{ItemId, ItemRefusal, PrintFault, PrintJob, Refusal, Reply, SessionId};
use kiosk_ils::Library as _;
use kiosk_printer::transport::AnyDriver;
use kiosk_printer::{
    Device, Job, LabelWords, NotLent, PrintError, Receipt, ReceiptLine, ReceiptWords, RefusedLine,
    compose_label, compose_receipt,
};
use kiosk_ui::Language;
use kiosk_ui::words::{due_date, tr, tr_n};

use super::{Input, Orchestrator};

/// A print in progress: done when the printer has the whole job.
pub type Printing = Pin<Box<dyn Future<Output = Result<(), PrintError>> + Send>>;

/// The receipt printer as the event loop uses it: a composed job in, printed whole.
pub trait Printer: Send + Sync {
    fn print(&self, job: Job) -> Printing;
}

/// An ESC/POS printer on any transport; its calls block, so each job goes out on a
/// blocking thread.
pub struct EscPos(pub Arc<Mutex<Device<AnyDriver>>>);

impl core::fmt::Debug for EscPos {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EscPos(..)")
    }
}

impl Printer for EscPos {
    fn print(&self, job: Job) -> Printing {
        let device = self.0.clone();
        Box::pin(async move {
            super::spawn_scrubbed(move || {
                device.lock().unwrap_or_else(PoisonError::into_inner).print(&job).map(|_| ())
            })
            .await
            .unwrap_or_else(|_| Err(PrintError::Io(std::io::Error::other("the printing thread stopped"))))
        })
    }
}

/// The language a receipt or label is printed in: the patron's, when the printer's Kanji
/// set (JIS X 0208, in which receipts are sent) holds its letters: Japanese, easy
/// Japanese and English; otherwise English. Simplified Chinese has characters JIS lacks
/// (书, 还), hangul and Vietnamese's and Portuguese's accented letters are not in it, and
/// a receipt with 〓 in place of letters helps nobody. (`printed_language_can_be_printed`
/// checks every catalogue.)
#[must_use]
pub fn printed_language(language: Language) -> Language {
    match language {
        Language::Japanese | Language::EasyJapanese | Language::English => language,
        Language::Chinese | Language::Korean | Language::Vietnamese | Language::Portuguese => {
            Language::English
        }
    }
}

/// A receipt's words in the patron's language, from the screens' catalogues: `lent`
/// books lent (renewals not counted), `renewed` renewed, `refused` not lent. A receipt
/// of renewals only says how many were renewed, not "0 books borrowed".
#[must_use]
pub fn receipt_words(language: Language, lent: usize, renewed: usize, refused: usize) -> ReceiptWords {
    let language = printed_language(language);
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    ReceiptWords {
        renewed_total: if renewed == 0 {
            String::new()
        } else {
            tr_n(language, "{n} book renewed", "{n} books renewed", count(renewed))
        },
        heading: tr(language, "Loan receipt", &[]),
        untitled: tr(language, "(untitled)", &[]),
        renewed: tr(language, "Renewed", &[]),
        due: tr(language, "Due back {}", &["{}"]),
        total: if lent == 0 && renewed > 0 {
            String::new()
        } else {
            tr_n(language, "{n} book borrowed", "{n} books borrowed", count(lent))
        },
        not_lent: tr_n(language, "{n} book not borrowed", "{n} books not borrowed", count(refused)),
        why: [
            tr(language, "This item is not in the library's catalogue.", &[]),
            tr(language, "Another patron has reserved this book.", &[]),
            tr(language, "This book is recorded as on loan to someone else.", &[]),
            tr(language, "This book cannot be borrowed here.", &[]),
            tr(language, "Not confirmed: staff will check whether it was lent.", &[]),
        ],
        to_counter: tr(language, "Please take the books not borrowed to the counter.", &[]),
        patron: tr(language, "Patron: {}", &["{}"]),
        questions: tr(language, "Questions? Please ask at the counter.", &[]),
    }
}

/// A Method D label's words in the patron's language (see [`printed_language`]).
#[must_use]
pub fn label_words(language: Language) -> LabelWords {
    let language = printed_language(language);
    LabelWords {
        valid_today: tr(language, "Valid today only", &[]),
        scan_it: tr(language, "Scan this at a self-checkout machine.", &[]),
    }
}

/// The account's summary for a receipt, in the screen's words: books on loan (and how
/// many overdue), the next due date, reserved books ready. No titles: the receipt of
/// this visit lists those it is about.
#[must_use]
pub fn account_summary(language: Language, a: &kiosk_ils::Account) -> Vec<String> {
    let language = printed_language(language);
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let mut lines = vec![if a.loans.is_empty() {
        tr(language, "You have no books on loan.", &[])
    } else {
        tr_n(language, "{n} book on loan", "{n} books on loan", count(a.loans.len()))
    }];
    let overdue = a.loans.iter().filter(|l| l.overdue).count();
    if overdue > 0 {
        lines.push(tr_n(language, "{n} book overdue", "{n} books overdue", count(overdue)));
    }
    // The loans come sorted by due date: the first with a date is the next due.
    if let Some(next) = a.loans.iter().find(|l| kiosk_ils::due_date_key(&l.due).is_some()) {
        let date = due_date(language, &kiosk_ils::display_due_date(&next.due));
        lines.push(tr(language, "Next due date: {}", &[&date]));
    }
    lines.push(if a.holds_ready.is_empty() {
        tr(language, "No reserved books are waiting for you.", &[])
    } else {
        tr_n(
            language,
            "{n} reserved book is ready for you",
            "{n} reserved books are ready for you",
            count(a.holds_ready.len()),
        )
    });
    lines
}

/// A refused book as the receipt lists it: by title, or by its number with words saying
/// so when the library system gave no title; why; the library system's own words.
fn refused_line(language: Language, item: &ItemId, r: &Refusal) -> RefusedLine {
    let (why, message) = match &r.reason {
        ItemRefusal::NotInCatalogue => (NotLent::NotInCatalogue, None),
        ItemRefusal::OnHoldForAnother => (NotLent::OnHold, None),
        ItemRefusal::OnLoanToAnother => (NotLent::OnLoan, None),
        ItemRefusal::Refused(message) => (NotLent::Other, message.clone()),
        // A checkout is never answered so; the receipt says "cannot be borrowed here".
        ItemRefusal::NotCheckedOut => (NotLent::Other, None),
        // Offline, not lent here now: "cannot be borrowed here".
        ItemRefusal::OfflineLimit | ItemRefusal::OfflineStopped | ItemRefusal::OfflinePending => {
            (NotLent::Other, None)
        }
        // A set not whole on the pad: "cannot be borrowed here" (the screen named the parts).
        ItemRefusal::PartsMissing { .. } | ItemRefusal::DuplicateTags => (NotLent::Other, None),
        // Not confirmed either way: staff check it, as for no answer.
        ItemRefusal::NoAnswer | ItemRefusal::Unconfirmed => (NotLent::NoAnswer, None),
    };
    let title = r
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| tr(language, "Item number {}", &[&item.0]));
    RefusedLine { title, why, message }
}

fn print_fault(e: &kiosk_printer::PrintError) -> PrintFault {
    use kiosk_printer::PrintError as E;
    tracing::warn!(error = %e, "print failed");
    match e {
        E::OutOfPaper | E::PaperRanOutDuringJob => PrintFault::OutOfPaper,
        E::CoverOpen | E::Offline | E::NoStatusReply { .. } | E::Open { .. } | E::Disconnected { .. } => {
            PrintFault::Offline
        }
        _ => PrintFault::Failed,
    }
}

impl Orchestrator {
    pub(super) fn print(&mut self, session: SessionId, job: PrintJob) {
        let Some(printer) = self.drivers.printer.clone() else {
            let _ =
                self.inputs.send(Input::Reply { session, reply: Reply::Printed(Err(PrintFault::Offline)) });
            return;
        };
        let settings = self.drivers.job_settings.clone();
        let keys = self.drivers.label_keys.clone();
        // Printed in the language the patron is reading the screen in, when the printer
        // can print it.
        let language = printed_language(self.console.language());
        let library = self.drivers.library.clone();
        // Short: the printing screen's own time runs meanwhile, and a receipt without the
        // summary is better than a session ended on a malfunction.
        let timeout = self.drivers.timeout.min(std::time::Duration::from_secs(10));
        self.spawn(session, false, async move {
            // The account's summary, asked now (the loans just made are in it); if the
            // library system cannot say, the receipt of this visit is printed without it.
            let summary = match (&job, library) {
                (PrintJob::Receipt { account: true, patron, .. }, Some(library)) => {
                    match tokio::time::timeout(timeout, library.account(patron.expose(), None)).await {
                        Ok(Ok(a)) => account_summary(language, &a),
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "the account summary could not be read; printed without it");
                            Vec::new()
                        }
                        Err(_) => {
                            tracing::warn!("the account summary took too long; printed without it");
                            Vec::new()
                        }
                    }
                }
                (PrintJob::Receipt { offline: true, .. }, _) => vec![tr(
                    language,
                    "The library system was offline: these due dates are provisional until the loans reach it.",
                    &[],
                )],
                _ => Vec::new(),
            };
            let composed = super::spawn_scrubbed(move || {
                let (today, now_text) = crate::clock::local_now();
                let composed = match &job {
                    PrintJob::Receipt { loans, refused, patron, .. } => compose_receipt(
                        &settings,
                        &Receipt {
                            printed_at: now_text,
                            lines: loans
                                .iter()
                                .map(|l| ReceiptLine {
                                    // A book without a title (lent offline, or the
                                    // library system gave none) by its number.
                                    title: if l.title.trim().is_empty() {
                                        tr(language, "Item number {}", &[&l.item.0])
                                    } else {
                                        l.title.clone()
                                    },
                                    due: due_date(language, &l.due),
                                    renewed: l.renewed,
                                })
                                .collect(),
                            refused: refused
                                .iter()
                                .map(|(item, r)| refused_line(language, item, r))
                                .collect(),
                            // Printed masked, and only if the library turned it on.
                            patron: settings.receipt_shows_patron.then(|| patron.expose().to_owned()),
                            summary,
                        },
                        &receipt_words(
                            language,
                            loans.iter().filter(|l| !l.renewed).count(),
                            loans.iter().filter(|l| l.renewed).count(),
                            refused.len(),
                        ),
                    ),
                    PrintJob::MethodDLabel { patron } => match keys.first() {
                        Some(key) => {
                            compose_label(&settings, patron.expose(), today, key, &label_words(language))
                        }
                        None => return Err(PrintFault::Failed),
                    },
                };
                composed.map_err(|e| {
                    tracing::warn!(error = %e, "print job could not be composed");
                    PrintFault::Failed
                })
            })
            .await
            .unwrap_or(Err(PrintFault::Failed));
            let result = match composed {
                Ok(job) => printer.print(job).await.map_err(|e| print_fault(&e)),
                Err(fault) => Err(fault),
            };
            Some(Input::Reply { session, reply: Reply::Printed(result) })
        });
    }
}

#[cfg(test)]
#[cfg(feature = "demo")]
mod tests {
    use super::*;

    /// A receipt with a loan, a renewal and a refused book without a title, composed and
    /// read back by the virtual printer.
    fn printed(language: Language) -> String {
        let settings = kiosk_printer::JobSettings {
            library_name: "姫路市立城内図書館".into(),
            kiosk_id: "K1".into(),
            paper: kiosk_printer::PaperWidth::Mm80,
            symbology: kiosk_printer::Symbology::Code128 { check: kiosk_printer::CheckDigit::None },
            label_paper: kiosk_printer::LabelPaper::Continuous,
            receipt_shows_patron: false,
        };
        // (title, due date as the library system gave it, renewed)
        let loans = [("こころ", "2026-12-07", false), ("Norwegian Wood", "2026-12-21", true)];
        let refused =
            [(ItemId("4000000011".into()), Refusal { reason: ItemRefusal::OnHoldForAnother, title: None })];
        let receipt = Receipt {
            printed_at: "2026-12-05 10:00".into(),
            lines: loans
                .iter()
                .map(|&(title, due, renewed)| ReceiptLine {
                    title: title.into(),
                    due: due_date(language, due),
                    renewed,
                })
                .collect(),
            refused: refused.iter().map(|(i, r)| refused_line(language, i, r)).collect(),
            patron: None,
            summary: Vec::new(),
        };
        let job = compose_receipt(&settings, &receipt, &receipt_words(language, 1, 1, 1)).unwrap();
        let pages = kiosk_sim::printer::render(
            job.bytes(),
            kiosk_printer::PaperWidth::Mm80.dots(),
            kiosk_sim::printer::load_font().as_ref(),
        );
        pages.iter().flat_map(|p| p.lines.iter().map(|l| format!("{l}\n"))).collect()
    }

    #[test]
    fn the_account_summary_counts_loans_overdue_the_next_due_date_and_holds_without_titles() {
        let loan = |item: &str, due: &str, overdue| kiosk_ils::AccountLoan {
            item: item.into(),
            title: "こころ".into(),
            due: due.into(),
            overdue,
        };
        let a = kiosk_ils::Account {
            loans: vec![loan("1", "20261130    235900", true), loan("2", "20261209    235900", false)],
            holds_ready: vec![kiosk_ils::HoldReady {
                item: "3".into(),
                title: "坊っちゃん".into(),
                pickup: None,
                until: None,
            }],
            ..kiosk_ils::Account::default()
        };
        let ja = account_summary(Language::Japanese, &a);
        assert_eq!(
            ja,
            [
                "2冊を借りています",
                "1冊が返却期限を過ぎています",
                "次の返却期限：11月30日（月）",
                "予約の本が1冊用意できています"
            ]
        );
        assert!(ja.iter().all(|l| !l.contains("こころ") && !l.contains("坊っちゃん")), "no titles");
        let en = account_summary(Language::English, &kiosk_ils::Account::default());
        assert_eq!(en, ["You have no books on loan.", "No reserved books are waiting for you."]);
    }

    /// Every language's receipt is printed in words the printer's Kanji set holds; the
    /// languages printed in English are those whose own words it does not.
    #[test]
    fn printed_language_can_be_printed() {
        let printable = |w: &ReceiptWords| {
            [&w.heading, &w.total, &w.renewed_total, &w.not_lent, &w.to_counter, &w.questions, &w.due]
                .iter()
                .all(|t| t.chars().all(kiosk_printer::text::printable))
        };
        for language in Language::ALL {
            let printed = receipt_words(language, 2, 1, 1);
            assert!(printable(&printed), "{language:?}: {printed:?}");
            let own = kiosk_ui::words::tr(language, "Questions? Please ask at the counter.", &[])
                + &kiosk_ui::words::tr(language, "Loan receipt", &[])
                + &kiosk_ui::words::tr(language, "Due back {}", &["1"]);
            let holds = own.chars().all(kiosk_printer::text::printable);
            assert_eq!(printed_language(language) == language, holds, "{language:?}: {own}");
        }
    }

    #[test]
    fn a_receipt_of_renewals_only_counts_the_renewals_not_zero_loans() {
        let w = receipt_words(Language::Japanese, 0, 6, 0);
        assert_eq!((w.total.as_str(), w.renewed_total.as_str()), ("", "6冊の貸出を延長しました"));
        let w = receipt_words(Language::English, 2, 0, 0);
        assert_eq!((w.total.as_str(), w.renewed_total.as_str()), ("2 books borrowed", ""));
        let w = receipt_words(Language::English, 0, 0, 1);
        assert_eq!(w.total, "0 books borrowed", "a session that lent nothing says so");
    }

    #[test]
    fn the_receipt_is_printed_in_the_patron_s_language_in_the_screens_words() {
        let ja = printed(Language::Japanese);
        for expected in [
            "貸出票",
            "返却期限：12月7日（月）",
            "貸出を延長しました",
            "1冊を貸し出しました",
            "1冊の貸出を延長しました",
            "貸出できなかった本：1冊",
            "資料番号：4000000011",
            "ほかの方が予約",
        ] {
            assert!(ja.contains(expected), "{expected:?} not on the Japanese receipt:\n{ja}");
        }
        let en = printed(Language::English);
        for expected in [
            "Loan receipt",
            "Due back Mon 7 Dec",
            "1 book borrowed",
            "1 book renewed",
            "1 book not borrowed",
            "Item number 4000000011",
            "Another patron has reserved",
        ] {
            assert!(en.contains(expected), "{expected:?} not on the English receipt:\n{en}");
        }
        for japanese in ["貸出", "返却", "資料", "予約", "カウンター"] {
            assert!(!en.contains(japanese), "{japanese:?} on the English receipt:\n{en}");
        }
    }
}
