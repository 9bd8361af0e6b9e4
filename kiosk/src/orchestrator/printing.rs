//! Printing: receipts and Method D labels composed by the printer driver and printed
//! whole by a [`Printer`] (the ESC/POS one on a blocking thread, or the demo's virtual
//! one); the printer's faults in the flow's terms.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use kiosk_core::flow::{ItemId, ItemRefusal, PrintFault, PrintJob, Refusal, Reply, SessionId};
use kiosk_printer::transport::AnyDriver;
use kiosk_printer::{
    Device, Job, NotLent, PrintError, Receipt, ReceiptLine, RefusedLine, compose_label, compose_receipt,
};

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
            tokio::task::spawn_blocking(move || {
                device.lock().unwrap_or_else(PoisonError::into_inner).print(&job).map(|_| ())
            })
            .await
            .unwrap_or_else(|_| Err(PrintError::Io(std::io::Error::other("the printing thread stopped"))))
        })
    }
}

/// A refused book as the receipt lists it: by title, or by barcode when the library
/// system gave none; why; the library system's own words.
fn refused_line(item: &ItemId, r: &Refusal) -> RefusedLine {
    let (why, message) = match &r.reason {
        ItemRefusal::NotInCatalogue => (NotLent::NotInCatalogue, None),
        ItemRefusal::OnHoldForAnother => (NotLent::OnHold, None),
        ItemRefusal::OnLoanToAnother => (NotLent::OnLoan, None),
        ItemRefusal::Refused(message) => (NotLent::Other, message.clone()),
        ItemRefusal::NoAnswer => (NotLent::NoAnswer, None),
    };
    let title = r.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| item.0.clone());
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
        self.spawn(session, false, async move {
            let composed = tokio::task::spawn_blocking(move || {
                let (today, now_text) = crate::clock::local_now();
                let composed = match &job {
                    PrintJob::Receipt { loans, refused } => compose_receipt(
                        &settings,
                        &Receipt {
                            printed_at: now_text,
                            lines: loans
                                .iter()
                                .map(|l| ReceiptLine {
                                    title: l.title.clone(),
                                    due: l.due.clone(),
                                    renewed: l.renewed,
                                })
                                .collect(),
                            refused: refused.iter().map(|(item, r)| refused_line(item, r)).collect(),
                            patron: None,
                        },
                    ),
                    PrintJob::MethodDLabel { patron } => match keys.first() {
                        Some(key) => compose_label(&settings, patron.expose(), today, key),
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
