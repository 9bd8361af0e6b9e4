//! Small servers for the bad-input tests: an OCSP endpoint that replays saved bytes, a
//! proxy in front of a real responder that rewrites its answers (tampering), and a TLS
//! "server" that answers every ClientHello with a TLS 1.1 ServerHello (a downgrade).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::http::{self, Response};

/// A fixture server; stops when dropped.
#[derive(Debug)]
pub struct Fixture {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fixture {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

type Rewrite = Arc<dyn Fn(Vec<u8>) -> Vec<u8> + Send + Sync>;

async fn serve_http(listener: TcpListener, answer: Arc<dyn Fn(Vec<u8>) -> BoxAnswer + Send + Sync>) {
    loop {
        let Ok((mut tcp, _)) = listener.accept().await else { continue };
        let answer = answer.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            if let Some(req) = http::read_request(&mut tcp, &mut buf).await {
                let body = answer(req.body).await;
                let resp = Response::new(200, "application/ocsp-response", body);
                let _ = http::write_response(&mut tcp, &resp, true).await;
            }
        });
    }
}

type BoxAnswer = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<u8>> + Send>>;

/// Answers every OCSP request with `response` (a replay).
pub async fn replay(response: Vec<u8>) -> std::io::Result<Fixture> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let response = Arc::new(response);
    let task = tokio::spawn(serve_http(
        listener,
        Arc::new(move |_req| {
            let r = response.clone();
            Box::pin(async move { r.to_vec() }) as BoxAnswer
        }),
    ));
    Ok(Fixture { addr, task })
}

/// Forwards each OCSP request to `upstream` (HTTP/1.0, as `openssl ocsp` speaks) and
/// passes the answer through `rewrite`.
pub async fn proxy(
    upstream: SocketAddr,
    rewrite: impl Fn(Vec<u8>) -> Vec<u8> + Send + Sync + 'static,
) -> std::io::Result<Fixture> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let rewrite: Rewrite = Arc::new(rewrite);
    let task = tokio::spawn(serve_http(
        listener,
        Arc::new(move |req: Vec<u8>| {
            let rewrite = rewrite.clone();
            Box::pin(async move {
                match forward(upstream, &req).await {
                    Ok(body) => rewrite(body),
                    Err(_) => Vec::new(),
                }
            }) as BoxAnswer
        }),
    ));
    Ok(Fixture { addr, task })
}

/// A TLS front (the platform PKI's good server certificate, like the platform's) for an
/// OCSP responder that speaks plain HTTP, such as `openssl ocsp`: the kiosk reaches its
/// platform only over TLS. Each request is passed on unchanged.
pub async fn tls_front(upstream: SocketAddr) -> Result<Fixture, super::SimError> {
    let pki = super::PlatformPki::shared().map_err(|e| super::SimError::Pki(e.to_string()))?;
    let acceptor =
        tokio_rustls::TlsAcceptor::from(Arc::new(super::server_config(pki, super::ServerCert::Good)?));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                while let Some(req) = http::read_request(&mut tls, &mut buf).await {
                    let body = forward(upstream, &req.body).await.unwrap_or_default();
                    let resp = Response::new(200, "application/ocsp-response", body);
                    if http::write_response(&mut tls, &resp, false).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(Fixture { addr, task })
}

async fn forward(upstream: SocketAddr, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tcp = TcpStream::connect(upstream).await?;
    let head = format!(
        "POST / HTTP/1.0\r\nHost: {upstream}\r\nContent-Type: application/ocsp-request\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await?;
    tcp.write_all(body).await?;
    let mut all = Vec::new();
    tcp.read_to_end(&mut all).await?;
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(all.len());
    Ok(all.split_off(split))
}

/// Answers any ClientHello with a ServerHello for TLS 1.1 (0x0302) and
/// TLS_RSA_WITH_AES_128_CBC_SHA: a server (or man in the middle) forcing a downgrade.
pub async fn tls11_server() -> std::io::Result<Fixture> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let mut hello = [0u8; 2048];
                if tcp.read(&mut hello).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut body = vec![0x03, 0x02];
                body.extend_from_slice(&[0x5a; 32]); // server random
                body.extend_from_slice(&[0x00, 0x00, 0x2f, 0x00]); // no session id, suite, null compression
                let mut hs = vec![0x02, 0x00, 0x00, body.len() as u8];
                hs.extend_from_slice(&body);
                let mut record = vec![0x16, 0x03, 0x02, 0x00, hs.len() as u8];
                record.extend_from_slice(&hs);
                let _ = tcp.write_all(&record).await;
                let mut rest = [0u8; 256];
                let _ = tcp.read(&mut rest).await;
            });
        }
    });
    Ok(Fixture { addr, task })
}
