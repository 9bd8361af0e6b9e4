//! A tiny static HTTP/1.1 file server on loopback for the manifest tests: serves the files
//! of one directory (GET only, `Range: bytes=N-` answered with 206, as a web server
//! would), one request per connection, and records the paths requested.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The server; stops accepting when dropped.
#[derive(Debug)]
pub struct FileServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The directory it serves.
    pub root: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl FileServer {
    /// Serves `root` on a free loopback port.
    pub fn start(root: &Path) -> FileServer {
        std::fs::create_dir_all(root).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (dir, reqs, sp) = (root.to_path_buf(), requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (dir, reqs) = (dir.clone(), reqs.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &dir, &reqs);
                });
            }
        });
        FileServer { addr, root: root.to_path_buf(), requests, stop }
    }

    /// `http://127.0.0.1:port/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Writes `bytes` as the file `path` (relative to the root).
    pub fn put(&self, path: &str, bytes: &[u8]) {
        let p = self.root.join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(conn: TcpStream, root: &Path, requests: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) =
        (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or("/").to_owned());
    let mut range_start: Option<u64> = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("range")
        {
            range_start = v.trim().strip_prefix("bytes=").and_then(|r| r.split('-').next()?.parse().ok());
        }
    }
    let path = target.split('?').next().unwrap_or("/").trim_start_matches('/').to_owned();
    requests.lock().unwrap().push(path.clone());
    let mut out = conn;
    let file =
        (method == "GET" && !path.contains("..")).then(|| std::fs::read(root.join(&path)).ok()).flatten();
    let Some(body) = file else {
        return out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    };
    let total = body.len() as u64;
    match range_start {
        Some(start) if start < total => {
            let head = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{total}\r\nConnection: close\r\n\r\n",
                total - start,
                total - 1
            );
            out.write_all(head.as_bytes())?;
            out.write_all(&body[usize::try_from(start).unwrap()..])
        }
        Some(_) => out.write_all(
            format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        None => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n");
            out.write_all(head.as_bytes())?;
            out.write_all(&body)
        }
    }
}
