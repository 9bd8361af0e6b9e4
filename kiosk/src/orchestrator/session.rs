//! One card session's data besides the flow's own state (the certificate, the proof,
//! the patron the platform named), the tasks running for it, and its end: tasks
//! cancelled (a sent checkout completes), data dropped and wiped, journal closed.

use std::sync::Arc;

use kiosk_core::flow::{PatronId, SessionId, Verdict};
use kiosk_platform::{Challenge, JpkiCertificate, Verdict as PlatformVerdict};
use tokio::task::AbortHandle;
use zeroize::Zeroizing;

use super::{Input, Orchestrator};

/// The card's signature over a challenge.
pub struct Proof {
    pub(super) challenge: Challenge,
    pub(super) signature: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for Proof {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Proof(..)")
    }
}

/// What one card session holds besides the flow's own state; dropped (and wiped) when the
/// session ends.
#[derive(Default)]
pub(super) struct SessionData {
    pub(super) certificate: Option<Arc<JpkiCertificate>>,
    pub(super) proof: Option<Arc<Proof>>,
    pub(super) patron: Option<PatronId>,
}

/// A task running for a session.
pub(super) struct Running {
    pub(super) session: SessionId,
    pub(super) handle: AbortHandle,
    /// A checkout already sent must finish (the journal records its outcome).
    pub(super) must_finish: bool,
}

impl Orchestrator {
    /// The data of `session`, if it is the running one (a late answer for an ended
    /// session finds none).
    pub(super) fn data(&self, session: SessionId) -> Option<&SessionData> {
        self.session.as_ref().filter(|(s, _)| *s == session).map(|(_, d)| d)
    }

    pub(super) fn data_mut(&mut self, session: SessionId) -> Option<&mut SessionData> {
        self.session.as_mut().filter(|(s, _)| *s == session).map(|(_, d)| d)
    }

    pub(super) fn begin(&mut self, session: SessionId) {
        if self.session.as_ref().is_none_or(|(s, _)| *s != session) {
            self.end_session();
            self.session = Some((session, SessionData::default()));
        }
    }

    /// Cancels the session's work (a sent checkout completes), forgets its data, closes
    /// its journal (deleted when every loan was answered).
    pub(super) fn end_session(&mut self) {
        if let Some((session, _data)) = self.session.take() {
            for r in self.running.iter().filter(|r| r.session == session && !r.must_finish) {
                r.handle.abort();
            }
        }
        if let Some(loans) = self.loans.take() {
            // Tasks still holding it (a sent checkout) close it when they finish.
            tokio::spawn(loans.finish());
        }
    }

    pub(super) fn spawn<F>(&mut self, session: SessionId, must_finish: bool, task: F)
    where
        F: std::future::Future<Output = Option<Input>> + Send + 'static,
    {
        let tx = self.inputs.clone();
        let handle = tokio::spawn(async move {
            if let Some(input) = task.await {
                let _ = tx.send(input);
            }
        });
        self.running.push(Running { session, handle: handle.abort_handle(), must_finish });
    }

    /// The platform's verdict in the flow's terms; a Good verdict's patron is kept for
    /// `ResolvePatron`.
    pub(super) fn verdict(&mut self, session: SessionId, verdict: PlatformVerdict) -> Verdict {
        match verdict {
            PlatformVerdict::Good { service_id, reissued, .. } => {
                let patron = service_id.and_then(|s| PatronId::new(s.expose()));
                if reissued && patron.is_some() {
                    // Nothing per patron: that it happened, for staff who may be asked.
                    tracing::info!("re-issued card recognised: the platform followed the old card's link");
                    self.console.log(kiosk_ui::EventKind::CardReissued, 0, 0);
                }
                if let Some(data) = self.data_mut(session) {
                    data.patron.clone_from(&patron);
                }
                Verdict::Good { patron }
            }
            PlatformVerdict::Revoked => Verdict::Revoked,
            PlatformVerdict::Expired => Verdict::Expired,
            PlatformVerdict::NotLinked => Verdict::NotLinked,
            PlatformVerdict::Untrusted(_) => Verdict::Untrusted,
            PlatformVerdict::Unavailable(e) => {
                self.status.set(kiosk_ui::status_row(
                    kiosk_ui::Device::Platform,
                    kiosk_ui::DeviceState::NotWorking,
                    0,
                    &e.to_string(),
                ));
                Verdict::Unavailable
            }
        }
    }
}
