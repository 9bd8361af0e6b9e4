//! The card reader's two threads: a watcher that reports insertion and removal (blocking
//! in `SCardGetStatusChange`, no polling), and a worker that runs the JPKI commands the
//! flow asks for. PC/SC calls block, so they live on their own threads and talk to the
//! event loop through channels. [`execute`] carries out one command on any transport:
//! the demo's virtual card in process runs the same code.

use std::ffi::CString;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use kiosk_card::cert::JpkiCertificate;
use kiosk_card::error::{CardError, FaultClass};
use kiosk_card::pcsc::{PcscCard, PcscReaders, Presence};
use kiosk_card::{Jpki, PinOutcome, PinStatus, ReadMode, Transport};
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

use super::Input;
use kiosk_core::flow::{CardFault, Pin, Reply, SessionId};

/// What the event loop asks of the card.
pub enum CardCommand {
    ReadCertificate {
        session: SessionId,
    },
    QueryPinTries {
        session: SessionId,
    },
    VerifyPin {
        session: SessionId,
        pin: Pin,
    },
    /// Sign SHA-256(`message`) with the authentication key (after the PIN).
    Sign {
        message: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, CardError>>,
    },
    /// Power the card off (clears the verified PIN) and disconnect.
    PowerOff,
}

impl core::fmt::Debug for CardCommand {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CardCommand::ReadCertificate { .. } => "ReadCertificate",
            CardCommand::QueryPinTries { .. } => "QueryPinTries",
            CardCommand::VerifyPin { .. } => "VerifyPin(redacted)",
            CardCommand::Sign { .. } => "Sign",
            CardCommand::PowerOff => "PowerOff",
        })
    }
}

/// What the card threads tell the event loop.
#[derive(Debug)]
pub enum CardNews {
    Inserted,
    Removed,
    Certificate {
        session: SessionId,
        result: Result<Box<JpkiCertificate>, CardFault>,
    },
    Reply {
        session: SessionId,
        reply: Reply,
    },
    /// The reader's state for the admin screen: `Ok(reader name)` or the problem.
    Reader(Result<String, String>),
}

/// The handle the event loop keeps.
#[derive(Debug, Clone)]
pub struct CardHandle {
    commands: Commands,
}

/// Where the commands go: the PC/SC worker thread, or a task (the demo's card).
#[derive(Debug, Clone)]
enum Commands {
    Thread(std_mpsc::Sender<CardCommand>),
    #[cfg(feature = "demo")]
    Task(mpsc::UnboundedSender<CardCommand>),
}

impl CardHandle {
    /// A worker task reading `commands` (the demo's virtual card).
    #[cfg(feature = "demo")]
    pub(crate) fn task(commands: mpsc::UnboundedSender<CardCommand>) -> CardHandle {
        CardHandle { commands: Commands::Task(commands) }
    }

    /// Sends a command; if the worker is gone the answer never comes, and the flow's
    /// driver timeout ends the session (and the supervisor restarts the worker).
    pub fn send(&self, command: CardCommand) {
        let sent = match &self.commands {
            Commands::Thread(tx) => tx.send(command).is_ok(),
            #[cfg(feature = "demo")]
            Commands::Task(tx) => tx.send(command).is_ok(),
        };
        if !sent {
            tracing::error!("the card worker has stopped");
        }
    }
}

/// The flow's view of a driver error.
pub fn fault(e: &CardError) -> CardFault {
    match e.class() {
        FaultClass::NotMyNumberCard => CardFault::NotMyNumberCard,
        FaultClass::ReaderFailed => CardFault::ReaderFailed,
        FaultClass::CardRemoved | FaultClass::Unreadable | FaultClass::Kiosk => CardFault::Unreadable,
    }
}

type Current = Arc<Mutex<Option<CString>>>;

/// Starts the watcher and the worker for readers whose name contains `pattern`.
pub fn start(
    pattern: &str,
    mode: ReadMode,
    news: mpsc::UnboundedSender<Input>,
) -> std::io::Result<CardHandle> {
    let current: Current = Arc::new(Mutex::new(None));
    let (tx, rx) = std_mpsc::channel();
    {
        let (pattern, current, news) = (pattern.to_owned(), current.clone(), news.clone());
        thread::Builder::new().name("card-watch".into()).spawn(move || watch(&pattern, &current, &news))?;
    }
    {
        let pattern = pattern.to_owned();
        thread::Builder::new()
            .name("card-work".into())
            .spawn(move || work(&pattern, mode, &current, &rx, &news))?;
    }
    Ok(CardHandle { commands: Commands::Thread(tx) })
}

fn send(news: &mpsc::UnboundedSender<Input>, n: CardNews) -> bool {
    news.send(Input::Card(n)).is_ok()
}

/// Insertion and removal, forever (until the event loop is gone).
fn watch(pattern: &str, current: &Current, news: &mpsc::UnboundedSender<Input>) {
    let mut readers = PcscReaders::new(pattern);
    let mut last_state: Option<Result<String, String>> = None;
    let mut report = |state: Result<String, String>, news: &mpsc::UnboundedSender<Input>| {
        if last_state.as_ref() != Some(&state) {
            last_state = Some(state.clone());
            send(news, CardNews::Reader(state));
        }
    };
    loop {
        if news.is_closed() {
            return;
        }
        match readers.wait_for_card(Duration::from_secs(1)) {
            Ok(Presence::TimedOut) => {
                let state = match readers.find_reader() {
                    Ok(Some(name)) => Ok(name.to_string_lossy().into_owned()),
                    Ok(None) => Err(CardError::NoReader { pattern: pattern.to_owned() }.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                report(state, news);
            }
            Ok(Presence::Card { reader, .. }) => {
                report(Ok(reader.to_string_lossy().into_owned()), news);
                *current.lock().unwrap_or_else(PoisonError::into_inner) = Some(reader.clone());
                if !send(news, CardNews::Inserted) {
                    return;
                }
                loop {
                    match readers.wait_for_removal(&reader, Duration::from_secs(1)) {
                        Ok(true) => break,
                        Ok(false) if news.is_closed() => return,
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "card reader watch failed; treating the card as removed");
                            break;
                        }
                    }
                }
                *current.lock().unwrap_or_else(PoisonError::into_inner) = None;
                if !send(news, CardNews::Removed) {
                    return;
                }
            }
            Err(e) => {
                report(Err(e.to_string()), news);
                thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// The JPKI commands, one at a time.
fn work(
    pattern: &str,
    mode: ReadMode,
    current: &Current,
    commands: &std_mpsc::Receiver<CardCommand>,
    news: &mpsc::UnboundedSender<Input>,
) {
    let mut readers = PcscReaders::new(pattern);
    let mut card: Option<Jpki<PcscCard>> = None;
    let mut connect = || -> Result<Jpki<PcscCard>, CardError> {
        let reader = current.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let reader = reader.ok_or(CardError::NoCard)?;
        Ok(Jpki::new(readers.connect(&reader)?, mode))
    };
    serve(commands, &mut card, &mut connect, news);
    drop_card(&mut card);
    kiosk_card::scrub::scrub_stack();
}

/// The worker's loop: each command, then the stack it used scrubbed (no response,
/// certificate or PIN byte stays in the frames it returned from).
fn serve<T: Transport>(
    commands: &std_mpsc::Receiver<CardCommand>,
    card: &mut Option<Jpki<T>>,
    connect: &mut dyn FnMut() -> Result<Jpki<T>, CardError>,
    news: &mpsc::UnboundedSender<Input>,
) {
    while serve_next(commands, card, connect, news) {
        kiosk_card::scrub::scrub_stack();
    }
}

/// Takes the next command and carries it out, in a frame of its own below the worker's
/// loop (never inlined into it), so that the scrub after it reaches everything the
/// command touched, the received command (and its PIN) included. False when the event
/// loop is gone.
#[inline(never)]
fn serve_next<T: Transport>(
    commands: &std_mpsc::Receiver<CardCommand>,
    card: &mut Option<Jpki<T>>,
    connect: &mut dyn FnMut() -> Result<Jpki<T>, CardError>,
    news: &mpsc::UnboundedSender<Input>,
) -> bool {
    match commands.recv() {
        Ok(command) => {
            execute(command, card, connect, news);
            true
        }
        Err(_) => false,
    }
}

/// Carries out one command on the card in `card`, connecting it first (`connect`) when
/// there is none; the answer goes to `news` (a signature to the command's own channel).
#[inline(never)]
pub(crate) fn execute<T: Transport>(
    command: CardCommand,
    card: &mut Option<Jpki<T>>,
    connect: &mut dyn FnMut() -> Result<Jpki<T>, CardError>,
    news: &mpsc::UnboundedSender<Input>,
) {
    tracing::debug!(?command, "card command");
    let mut connected = |card: &mut Option<Jpki<T>>| -> Result<(), CardError> {
        if card.is_none() {
            *card = Some(connect()?);
        }
        Ok(())
    };
    match command {
        CardCommand::ReadCertificate { session } => {
            let result = connected(card)
                .and_then(|()| with(card, Jpki::read_auth_certificate))
                .and_then(|der| JpkiCertificate::from_der(&der).map_err(CardError::from));
            let result = result.map(Box::new).map_err(|e| {
                tracing::info!(error = %e, "certificate read failed");
                drop_card(card);
                fault(&e)
            });
            send(news, CardNews::Certificate { session, result });
        }
        CardCommand::QueryPinTries { session } => {
            let reply = match connected(card).and_then(|()| with(card, Jpki::pin_tries)) {
                Ok(PinStatus::TriesLeft(n)) => Reply::PinTries(n),
                Ok(PinStatus::Blocked) => Reply::PinTries(0),
                Ok(PinStatus::Verified) => Reply::PinVerified,
                Err(e) => failed(card, &e),
            };
            send(news, CardNews::Reply { session, reply });
        }
        CardCommand::VerifyPin { session, pin } => {
            let digits = Zeroizing::new(*pin.as_ascii());
            drop(pin);
            let reply = match connected(card).and_then(|()| with(card, |j| j.verify_pin(&*digits))) {
                Ok(PinOutcome::Verified) => Reply::PinVerified,
                Ok(PinOutcome::Wrong { tries_left }) => Reply::WrongPin { tries_left },
                Ok(PinOutcome::Blocked) => Reply::PinBlocked,
                Err(e) => failed(card, &e),
            };
            send(news, CardNews::Reply { session, reply });
        }
        CardCommand::Sign { message, reply } => {
            let result = connected(card).and_then(|()| with(card, |j| j.sign_message(&message)));
            if result.is_err() {
                drop_card(card);
            }
            let _ = reply.send(result);
        }
        CardCommand::PowerOff => drop_card(card),
    }
}

fn with<T: Transport, R>(
    card: &mut Option<Jpki<T>>,
    f: impl FnOnce(&mut Jpki<T>) -> Result<R, CardError>,
) -> Result<R, CardError> {
    match card.as_mut() {
        Some(j) => f(j),
        None => Err(CardError::NoCard),
    }
}

fn failed<T: Transport>(card: &mut Option<Jpki<T>>, e: &CardError) -> Reply {
    tracing::info!(error = %e, "card command failed");
    drop_card(card);
    Reply::CardError(fault(e))
}

/// Unpowers the card (the verified PIN is gone) and disconnects.
fn drop_card<T: Transport>(card: &mut Option<Jpki<T>>) {
    if let Some(mut j) = card.take() {
        if let Err(e) = j.power_off() {
            tracing::debug!(error = %e, "power-off of a card already gone");
        }
        if let Err(e) = j.into_transport().close() {
            tracing::debug!(error = %e, "disconnect of a card already gone");
        }
    }
}

#[cfg(all(test, feature = "demo"))]
mod tests {
    use super::*;
    use kiosk_card::scrub::{stack_holds, stack_position};
    use kiosk_sim::card::{CardConfig, InProcess, TestPki, shared_card};

    /// The card worker's loop for one patron on kiosk-sim's virtual card (certificate,
    /// PIN tries, PIN, signature), then its stack read from this thread while it waits
    /// for the next command, as it would between patrons.
    #[test]
    fn the_card_worker_s_stack_keeps_no_serial_or_pin_after_a_session() {
        let cert = JpkiCertificate::from_der(&TestPki::shared().unwrap().user_cert_der).unwrap();
        let serial = cert.serial().expose().to_vec();
        // The serial as it stands in the certificate's DER: tag, length, content.
        let mut serial_tlv = vec![0x02, serial.len() as u8];
        serial_tlv.extend_from_slice(&serial);
        // The PIN's digits (without the scrub, a debug build leaves them in the frames of
        // the VERIFY).
        let pin_digits = *b"1234";
        let card = shared_card(CardConfig::default()).unwrap();
        let (news, mut heard) = mpsc::unbounded_channel();
        let (commands, queue) = std_mpsc::channel();
        let (to_test, top) = std_mpsc::channel();
        let worker = thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                to_test.send(stack_position()).unwrap();
                let mut slot = None;
                let mut connect = || Ok(Jpki::new(InProcess::new(card.clone(), true), ReadMode::Auto));
                serve(&queue, &mut slot, &mut connect, &news);
            })
            .unwrap();
        let top = top.recv().unwrap();
        let (reply, signature) = oneshot::channel();
        let pin = Pin::from_ascii(pin_digits).unwrap();
        for command in [
            CardCommand::ReadCertificate { session: SessionId(1) },
            CardCommand::QueryPinTries { session: SessionId(1) },
            CardCommand::VerifyPin { session: SessionId(1), pin },
            CardCommand::Sign { message: b"challenge".to_vec(), reply },
        ] {
            commands.send(command).unwrap();
        }
        // The session really happened: the certificate came, the PIN was right, it signed.
        assert!(matches!(
            heard.blocking_recv(),
            Some(Input::Card(CardNews::Certificate { result: Ok(_), .. }))
        ));
        assert!(matches!(heard.blocking_recv(), Some(Input::Card(CardNews::Reply { .. }))));
        assert!(matches!(
            heard.blocking_recv(),
            Some(Input::Card(CardNews::Reply { reply: Reply::PinVerified, .. }))
        ));
        assert!(matches!(signature.blocking_recv(), Ok(Ok(_))));
        // The worker scrubs right after the signature; give it a moment to get there.
        let left = || {
            let serial_left = stack_holds(&serial_tlv, top, 1 << 20).unwrap()
                || stack_holds(&serial, top, 1 << 20).unwrap();
            (serial_left, stack_holds(&pin_digits, top, 1 << 20).unwrap())
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while left() != (false, false) && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(left(), (false, false), "(serial, PIN) left on the card worker's stack");
        drop(commands);
        worker.join().unwrap();
    }
}
