//! Printing: receipts and Method D labels composed by the printer driver and printed
//! whole on a blocking thread; the printer's faults in the flow's terms.

use kiosk_core::flow::{PrintFault, PrintJob, Reply, SessionId};
use kiosk_printer::{Receipt, ReceiptLine, compose_label, compose_receipt};

use super::{Input, Orchestrator};

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
            let result = tokio::task::spawn_blocking(move || {
                let (today, now_text) = crate::clock::local_now();
                let composed = match &job {
                    PrintJob::Receipt { loans } => compose_receipt(
                        &settings,
                        &Receipt {
                            printed_at: now_text,
                            lines: loans
                                .iter()
                                .map(|l| ReceiptLine { title: l.title.clone(), due: l.due.clone() })
                                .collect(),
                            patron: None,
                        },
                    ),
                    PrintJob::MethodDLabel { patron } => match keys.first() {
                        Some(key) => compose_label(&settings, patron.expose(), today, key),
                        None => return Err(PrintFault::Failed),
                    },
                };
                let composed = composed.map_err(|e| {
                    tracing::warn!(error = %e, "print job could not be composed");
                    PrintFault::Failed
                })?;
                let device = printer.lock().map_err(|_| PrintFault::Failed)?;
                device.print(&composed).map(|_| ()).map_err(|e| print_fault(&e))
            })
            .await
            .unwrap_or(Err(PrintFault::Failed));
            Some(Input::Reply { session, reply: Reply::Printed(result) })
        });
    }
}
