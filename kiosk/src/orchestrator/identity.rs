//! Who the patron is: the card's commands, the proof of possession (the card signs a
//! challenge and the kiosk checks signature and chain itself), the validity check at the
//! platform, and the patron it names.

use std::time::SystemTime;

use kiosk_core::flow::{PatronId, PatronRefusal, ProofFailure, Reply, SessionId};
use kiosk_platform::{Possession, Verdict as PlatformVerdict};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use super::card::{self, CardCommand};
use super::session::Proof;
use super::{Input, Orchestrator};

impl Orchestrator {
    /// The patron: named by the platform's answer, or by the local link store (OCSP and
    /// CRL modes, and a counter that skips the online check).
    pub(super) fn resolve_patron(&mut self, session: SessionId) {
        let data = self.data(session);
        let patron = data.and_then(|d| d.patron.clone()).or_else(|| {
            let cert = data.and_then(|d| d.certificate.clone())?;
            let found = self.drivers.links.as_ref()?.resolve(&cert)?;
            PatronId::new(found.expose())
        });
        let reply = Reply::Patron(patron.ok_or(PatronRefusal::NotLinked));
        let _ = self.inputs.send(Input::Reply { session, reply });
    }

    pub(super) fn card(&mut self, command: CardCommand, session: SessionId) {
        match &self.drivers.card {
            Some(c) => c.send(command),
            None => {
                let reply = Reply::CardError(kiosk_core::flow::CardFault::ReaderFailed);
                let _ = self.inputs.send(Input::Reply { session, reply });
            }
        }
    }

    /// Challenge (from the platform, or made here), the card's signature, and the
    /// kiosk's own check of signature and chain before anything is sent anywhere.
    pub(super) fn prove(&mut self, session: SessionId) {
        let (Some(card), Some(cert)) =
            (self.drivers.card.clone(), self.data(session).and_then(|d| d.certificate.clone()))
        else {
            let outcome = Err(ProofFailure::UntrustedCertificate);
            let _ = self.inputs.send(Input::Proof { session, outcome });
            return;
        };
        let platform = self.drivers.platform.clone();
        let trust = self.drivers.trust.clone();
        let timeout = self.drivers.timeout;
        self.spawn(session, false, async move {
            let challenge = match &platform {
                Some(p) => match tokio::time::timeout(timeout, p.challenge()).await {
                    Ok(Ok(c)) => c,
                    // No challenge from the platform: the check that follows will not be
                    // able to reach it either; a local challenge still proves the card.
                    _ => kiosk_platform::Challenge::local().ok()?,
                },
                None => kiosk_platform::Challenge::local().ok()?,
            };
            let (tx, rx) = oneshot::channel();
            card.send(CardCommand::Sign { message: challenge.nonce.clone(), reply: tx });
            let signature = match rx.await {
                Ok(Ok(sig)) => Zeroizing::new(sig),
                Ok(Err(e)) => {
                    let reply = Reply::CardError(card::fault(&e));
                    return Some(Input::Reply { session, reply });
                }
                Err(_) => return None,
            };
            let outcome = match trust.check(&cert, &challenge, &signature, SystemTime::now()) {
                Ok(_) => Ok(Proof { challenge, signature }),
                Err(PlatformVerdict::Untrusted(kiosk_platform::Untrusted::BadSignature)) => {
                    Err(ProofFailure::BadSignature)
                }
                Err(_) => Err(ProofFailure::UntrustedCertificate),
            };
            Some(Input::Proof { session, outcome })
        });
    }

    /// The certificate's validity and patron: with the card's proof, or, where the
    /// library does not ask for the PIN, the certificate alone.
    pub(super) fn check(&mut self, session: SessionId) {
        let data = self.data(session).map(|d| (d.certificate.clone(), d.proof.clone()));
        let require_pin = self.drivers.config.card.require_pin;
        let (platform, cert, proof) = match (self.drivers.platform.clone(), data) {
            (Some(platform), Some((Some(cert), proof))) if proof.is_some() || !require_pin => {
                (platform, cert, proof)
            }
            (None, _) => {
                let verdict = PlatformVerdict::Unavailable(kiosk_platform::PlatformError::Config(
                    "no platform configured".into(),
                ));
                let _ = self.inputs.send(Input::Verdict { session, verdict });
                return;
            }
            // A check without the proof the library asks for: never (the flow never asks
            // for one; refused as a failed proof if it ever did).
            (Some(_), Some((Some(_), None))) => {
                let verdict = PlatformVerdict::Untrusted(kiosk_platform::Untrusted::BadSignature);
                let _ = self.inputs.send(Input::Verdict { session, verdict });
                return;
            }
            // The session's certificate is gone (the card left): nothing to check.
            (Some(_), _) => return,
        };
        let timeout = self.drivers.timeout;
        self.spawn(session, false, async move {
            let possession = match &proof {
                Some(p) => Possession::Proven { challenge: &p.challenge, signature: &p.signature },
                None => Possession::NotAsked,
            };
            let verdict = match tokio::time::timeout(timeout, platform.verify(&cert, possession)).await {
                Ok(v) => v,
                Err(_) => PlatformVerdict::Unavailable(kiosk_platform::PlatformError::Timeout(timeout)),
            };
            Some(Input::Verdict { session, verdict })
        });
    }
}
