//! A small HTTP/1.1 proxy in front of gooseBit that breaks downloads on purpose: it cuts a
//! bundle download after some bytes, can then play a server that is down (connections
//! accepted and closed at once), and records every request head (to see a resume's Range).
//! Each request gets its own upstream connection (`Connection: close`), so faults hit
//! exactly the request they are meant for.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    heads: Vec<String>,
    cut_after: Option<usize>,
    down_after_cut: bool,
    down: bool,
    refused: usize,
    on_download: Option<Hook>,
}

/// The proxy; stops accepting when dropped.
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("addr", &self.addr).finish()
    }
}

impl Proxy {
    /// A proxy to `upstream` on a free loopback port.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = handle(conn, upstream, &st);
                });
            }
        });
        Proxy { addr, state, stop }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next bundle download is cut after `bytes` of the response; then, if
    /// `then_down`, the "server" is down until [`Proxy::up`] (no clock decides when it
    /// comes back, so a busy machine cannot make a test see it back too early or late).
    pub fn cut_next_download(&self, bytes: usize, then_down: bool) {
        let mut s = self.state.lock().unwrap();
        s.cut_after = Some(bytes);
        s.down_after_cut = then_down;
    }

    /// The "server" is back.
    pub fn up(&self) {
        self.state.lock().unwrap().down = false;
    }

    /// Runs `hook` when the next bundle download starts (before a byte is sent).
    pub fn on_next_download(&self, hook: impl FnOnce() + Send + 'static) {
        self.state.lock().unwrap().on_download = Some(Box::new(hook));
    }

    /// The request heads of bundle downloads seen so far.
    pub fn downloads(&self) -> Vec<String> {
        self.state.lock().unwrap().heads.iter().filter(|h| is_download(h)).cloned().collect()
    }

    /// Connections refused while "down".
    pub fn refused(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    /// Whether the "server" is down now.
    pub fn is_down(&self) -> bool {
        self.state.lock().unwrap().down
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn is_download(head: &str) -> bool {
    head.lines().next().and_then(|l| l.split(' ').nth(1)).is_some_and(|p| p.ends_with("/download"))
}

fn handle(client: TcpStream, upstream: SocketAddr, state: &Mutex<State>) -> std::io::Result<()> {
    let mut client = client;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let rest = buf[end + 4..].to_vec();
    let (cut, hook) = {
        let mut s = state.lock().unwrap();
        if s.down {
            s.refused += 1;
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
        s.heads.push(head.clone());
        if is_download(&head) {
            let cut = s.cut_after.take();
            if cut.is_some() && std::mem::take(&mut s.down_after_cut) {
                s.down = true;
            }
            (cut, s.on_download.take())
        } else {
            (None, None)
        }
    };
    if let Some(hook) = hook {
        hook();
    }
    let mut new_head: String = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    new_head.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(new_head.as_bytes())?;
    up.write_all(&rest)?;
    // The rest of a request body, if any, flows on its own.
    let (mut from_client, mut to_up) = (client.try_clone()?, up.try_clone()?);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_up);
    });
    let mut sent = 0usize;
    loop {
        let n = up.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        match cut {
            Some(limit) if sent + n >= limit => {
                client.write_all(&chunk[..limit - sent])?;
                client.flush()?;
                break;
            }
            _ => {
                client.write_all(&chunk[..n])?;
                sent += n;
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.shutdown(Shutdown::Both);
    Ok(())
}
