//! The virtual card as a vsmartcard vpcd client: the card connects to the vpcd reader
//! driver inside pcscd over TCP on loopback; frames are a 2-byte big-endian length and the
//! payload. One-byte payloads are control messages (`00` power off, `01` power on, `02`
//! reset, `04` get ATR; only `04` is answered); longer ones are C-APDUs, answered with one
//! R-APDU. Connecting inserts the card, closing the socket removes it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::applet::{Answer, VirtualCard};

/// vpcd's default port for slot 0 (`0x8C7B`).
pub const VPCD_PORT: u16 = 35963;

/// A card shared between the vpcd connection and the test that inspects it.
pub type SharedCard = Arc<Mutex<VirtualCard>>;

/// Locks a shared card (a panicked holder does not make the card unusable).
pub fn lock(card: &SharedCard) -> std::sync::MutexGuard<'_, VirtualCard> {
    card.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A card inserted in a vpcd reader. Dropping it (or [`Inserted::remove`]) removes it.
#[derive(Debug)]
pub struct Inserted {
    stream: TcpStream,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Inserted {
    /// Connects `card` to vpcd at `addr`, retrying while vpcd is not listening yet, for
    /// at most `timeout`.
    pub fn insert(card: SharedCard, addr: SocketAddr, timeout: Duration) -> io::Result<Inserted> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                Ok(s) => break s,
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        let thread =
            std::thread::Builder::new().name("vpcd-card".into()).spawn(move || serve(reader, &card))?;
        Ok(Inserted { stream, thread: Some(thread) })
    }

    /// Takes the card out of the field: closes the connection.
    pub fn remove(mut self) {
        self.shutdown();
    }

    /// Whether the card yanked itself (a [`super::Fault::Yank`]) or vpcd hung up.
    pub fn is_out(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn shutdown(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Inserted {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Serves vpcd until it hangs up, the card yanks itself or something fails. Whatever
/// ends it, the connection is closed: vpcd then sees the card leave instead of waiting
/// forever for an answer (the test's `Inserted` still holds the other handle).
fn serve(stream: TcpStream, card: &SharedCard) -> io::Result<()> {
    let result = serve_frames(&stream, card);
    let _ = stream.shutdown(Shutdown::Both);
    // Out of the reader's field a contactless card has no power: whatever was verified
    // is gone (a real card forgets its PIN state when it is taken away).
    lock(card).power_off();
    result
}

fn serve_frames(mut stream: &TcpStream, card: &SharedCard) -> io::Result<()> {
    let mut len = [0u8; 2];
    let mut buf = vec![0u8; usize::from(u16::MAX)];
    loop {
        stream.read_exact(&mut len)?;
        let n = usize::from(u16::from_be_bytes(len));
        let msg = &mut buf[..n];
        stream.read_exact(msg)?;
        let reply = match msg {
            [0x00] => {
                lock(card).power_off();
                None
            }
            [0x01] => {
                lock(card).power_on();
                None
            }
            [0x02] => {
                lock(card).reset();
                None
            }
            [0x04] => Some(lock(card).atr().to_vec()),
            [_] | [] => None,
            apdu => match lock(card).transmit(apdu) {
                Answer::Response(r) => Some(r),
                Answer::Yank => return Ok(()),
                // Nothing goes back: vpcd, and pcscd's SCardTransmit behind it, wait
                // until the card is taken away (the connection closes).
                Answer::Silence => None,
            },
        };
        if let Some(reply) = reply {
            let n = u16::try_from(reply.len()).map_err(|_| io::Error::other("response over 64 KiB"))?;
            let mut frame = Vec::with_capacity(reply.len() + 2);
            frame.extend_from_slice(&n.to_be_bytes());
            frame.extend_from_slice(&reply);
            stream.write_all(&frame)?;
            if reply.is_empty() {
                // vpcd (3.3) waits for an empty answer's zero bytes in a blocking
                // `recv(…, 0)` that returns only when the connection closes: pcscd would
                // hang in SCardTransmit. Closing delivers the empty R-APDU (vpcd reads 0
                // bytes and reports success) and then vpcd ejects the card.
                return Ok(());
            }
        }
    }
}
