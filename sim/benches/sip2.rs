//! `cargo bench -p kiosk-sim --bench sip2`: SIP2 checkout figures for docs/performance.md.
//!
//! 1. Our client against the simulator over loopback: checkouts per second, p50/p99.
//! 2. In the same run, a minimal client (pre-encoded frames, write, read to CR) against
//!    the same simulator: the raw round trip.
//! 3. The kiosk's own work per item without I/O: encode the 11, decode the 12, build the
//!    loan (NFC title).
//! 4. TLS (rustls, ring) against plain TCP: connect time (TCP + TLS handshake + 93/99)
//!    for a fresh client and for a reconnect that resumes the TLS session, and checkout
//!    p50/p99 over TLS and plain, interleaved.
//! 5. A patron's first request on a connection the library system closed while idle:
//!    from the call to the answer (reconnect, 93, 99, then the 23), against the same
//!    request on an open connection, interleaved.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use kiosk_ils::TlsSettings;
use kiosk_ils::client::{Client, ClientConfig, Credentials};
use kiosk_ils::codec::{Charset, DecodeOptions, SipDate, display_text};
use kiosk_ils::messages::{CheckoutRequest, CirculationResponse, Login, Message};
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim, TestPki, numbered_items};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `cargo bench` passes `--bench`; under `cargo test --benches` (as `cargo xtask test`
/// runs it) this runs as a quick smoke test with few items.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut lat: Vec<Duration>, total: Duration) -> Duration {
    lat.sort_unstable();
    let p50 = percentile(&lat, 0.50);
    println!(
        "{name:<34} {:>9.0} msg/s   p50 {:>7.1} µs   p99 {:>7.1} µs",
        lat.len() as f64 / total.as_secs_f64(),
        p50.as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6
    );
    p50
}

fn checkout_request(item: &str) -> Message {
    Message::Checkout(CheckoutRequest {
        sc_renewal_policy: false,
        no_block: false,
        date: SipDate::now(9 * 3600),
        nb_due_date: SipDate::blank(),
        institution: "KIOSKLIB".into(),
        patron: "P0002".into(),
        item: item.into(),
        terminal_password: String::new(),
        item_properties: None,
        patron_password: None,
        fee_acknowledged: Some(false),
        cancel: Some(false),
        extra: vec![],
    })
}

async fn read_to_cr(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    buf.clear();
    let mut byte = [0u8; 512];
    loop {
        let n = stream.read(&mut byte).await.unwrap();
        assert!(n > 0, "simulator closed");
        buf.extend_from_slice(&byte[..n]);
        if buf.last() == Some(&b'\r') {
            return;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n_items: usize = if full_run() { 3000 } else { 50 };
    let mut catalogue = Catalogue::demo();
    catalogue.loan_limit = usize::MAX;
    numbered_items(&mut catalogue, "C", n_items);
    numbered_items(&mut catalogue, "M", n_items);
    let sim = Sip2Sim::start(catalogue, Behaviour::default()).await.unwrap();

    // Warm-up and connection set-up are outside the timed loops.
    let mut cfg = ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    let mut client = Client::new(cfg);
    client.connect().await.unwrap();

    let mut raw = TcpStream::connect(sim.addr()).await.unwrap();
    raw.set_nodelay(true).unwrap();
    let login = Message::Login(Login {
        uid_algorithm: '0',
        pwd_algorithm: '0',
        user: "kiosk".into(),
        password: "secret".into(),
        location: None,
        extra: vec![],
    });
    let mut buf = Vec::new();
    raw.write_all(&login.encode(Some(0), Charset::Utf8, true).unwrap()).await.unwrap();
    read_to_cr(&mut raw, &mut buf).await;
    let frames: Vec<Vec<u8>> = (0..n_items)
        .map(|n| {
            checkout_request(&format!("M{n:06}"))
                .encode(Some((n % 9 + 1) as u8), Charset::Utf8, true)
                .unwrap()
        })
        .collect();

    println!("SIP2 checkout over loopback, {n_items} items each, same simulator, same run");
    // Interleave the two clients so machine noise hits both alike.
    let mut ours = Vec::with_capacity(n_items);
    let mut minimal = Vec::with_capacity(n_items);
    let (mut ours_total, mut raw_total) = (Duration::ZERO, Duration::ZERO);
    for (n, frame) in frames.iter().enumerate() {
        let t = Instant::now();
        let loan = client.checkout("P0002", &format!("C{n:06}")).await.unwrap().unwrap();
        let d = t.elapsed();
        assert!(!loan.title.is_empty());
        ours.push(d);
        ours_total += d;

        let t = Instant::now();
        raw.write_all(frame).await.unwrap();
        read_to_cr(&mut raw, &mut buf).await;
        let d = t.elapsed();
        assert_eq!(&buf[..3], b"121");
        minimal.push(d);
        raw_total += d;
    }
    let ours_p50 = report("kiosk client (11 -> 12)", ours, ours_total);
    let raw_p50 = report("minimal client (bytes -> CR)", minimal, raw_total);
    println!(
        "kiosk's added time per item (p50 difference): {:.1} µs",
        (ours_p50.as_secs_f64() - raw_p50.as_secs_f64()) * 1e6
    );

    // CPU only: encode + decode + loan bookkeeping.
    let reply = Message::CheckoutResponse(CirculationResponse {
        ok: true,
        renewal_ok: false,
        magnetic_media: Some(false),
        desensitize: Some(true),
        date: SipDate::now(9 * 3600),
        institution: "KIOSKLIB".into(),
        patron: "P0002".into(),
        item: "1000000003".into(),
        title: "ホ\u{309A}ケットモンスター図鑑　第２版".into(),
        due_date: "20261207    120000".into(),
        fee_type: None,
        security_inhibit: None,
        currency: None,
        fee_amount: None,
        media_type: Some("001".into()),
        item_properties: None,
        transaction_id: None,
        screen_messages: vec![],
        print_lines: vec![],
        extra: vec![],
    })
    .encode(Some(3), Charset::Utf8, true)
    .unwrap();
    let opts = DecodeOptions { charset: Charset::Utf8, require_checksum: true };
    let rounds: u32 = if full_run() { 200_000 } else { 1_000 };
    let t = Instant::now();
    let mut titles = 0usize;
    for _ in 0..rounds {
        let frame = checkout_request("1000000003").encode(Some(3), Charset::Utf8, true).unwrap();
        std::hint::black_box(&frame);
        let d = Message::decode(std::hint::black_box(&reply[..reply.len() - 1]), opts).unwrap();
        if let Message::CheckoutResponse(r) = d.message {
            titles += display_text(&r.title).len();
        }
    }
    let per = t.elapsed() / rounds;
    std::hint::black_box(titles);
    println!("encode 11 + decode 12 + NFC title, no I/O: {:.2} µs per item", per.as_secs_f64() * 1e6);
    assert_eq!(sim.stats().duplicate_checkouts, 0);
    drop(sim);

    tls_figures(n_items).await;
    closed_connection_figures().await;
}

/// Section 5: the simulator closes connections idle for 50 ms; each round waits until it
/// has closed the client's, then times the client's next patron status (23).
async fn closed_connection_figures() {
    let rounds = if full_run() { 300 } else { 10 };
    let behaviour = Behaviour { idle_close: Some(Duration::from_millis(50)), ..Behaviour::default() };
    let sim = Sip2Sim::start(Catalogue::demo(), behaviour).await.unwrap();
    let mut cfg = ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    let mut client = Client::new(cfg);
    client.connect().await.unwrap();
    let (mut closed, mut open) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let (mut closed_total, mut open_total) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        let t = Instant::now();
        client.patron_status("P0002", None).await.unwrap().unwrap();
        let d = t.elapsed();
        open.push(d);
        open_total += d;
        // Wait (bounded) for the server to close the now idle connection.
        let deadline = Instant::now() + Duration::from_secs(30);
        while sim.stats().idle_closes <= round as u64 {
            assert!(Instant::now() < deadline, "the simulator did not close the idle connection");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let t = Instant::now();
        client.patron_status("P0002", None).await.unwrap().unwrap();
        let d = t.elapsed();
        closed.push(d);
        closed_total += d;
    }
    let stats = client.stats();
    println!();
    println!("First request on a connection the server closed while idle, {rounds} rounds, loopback");
    report("23 on an open connection", open, open_total);
    report("23 on a closed one (reconnect+93+99)", closed, closed_total);
    println!(
        "found closed before sending: {} of {rounds}; sent again after the close: {}",
        stats.reconnects - stats.sent_again_after_close,
        stats.sent_again_after_close
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 of `n` connects (TCP, TLS handshake if any, 93 login, 99 status).
async fn connects(cfg: &ClientConfig, n: usize, fresh: bool) -> (Duration, Duration) {
    let mut lat = Vec::with_capacity(n);
    let mut reused = Client::new(cfg.clone());
    reused.connect().await.unwrap();
    for _ in 0..n {
        let t;
        if fresh {
            let mut c = Client::new(cfg.clone());
            t = Instant::now();
            c.connect().await.unwrap();
        } else {
            reused.disconnect();
            t = Instant::now();
            reused.connect().await.unwrap();
        }
        lat.push(t.elapsed());
    }
    lat.sort_unstable();
    (percentile(&lat, 0.50), percentile(&lat, 0.99))
}

async fn tls_figures(n_items: usize) {
    let n_connects = if full_run() { 300 } else { 10 };
    let pki = TestPki::new("bench CA").unwrap();
    let mut catalogue = Catalogue::demo();
    catalogue.loan_limit = usize::MAX;
    numbered_items(&mut catalogue, "T", n_items);
    let tls_sim =
        Sip2Sim::start_tls(catalogue.clone(), Behaviour::default(), &pki.server(&["127.0.0.1"]).unwrap())
            .await
            .unwrap();
    let plain_sim = Sip2Sim::start(catalogue, Behaviour::default()).await.unwrap();
    let mut plain_cfg = ClientConfig::new(plain_sim.addr().to_string(), "KIOSKLIB");
    plain_cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    let mut tls_cfg = plain_cfg.clone();
    tls_cfg.addr = tls_sim.addr().to_string();
    tls_cfg.tls = Some(TlsSettings::from_ca_pem(pki.ca_pem().as_bytes().to_vec(), "bench CA"));

    println!();
    println!(
        "SIP2 over TLS (rustls, ring) against plain TCP, {n_connects} connects, {n_items} checkouts each"
    );
    for (name, fresh) in [("new client (full handshake)", true), ("reconnect (session resumed)", false)] {
        let (p50, p99) = connects(&plain_cfg, n_connects, fresh).await;
        let (t50, t99) = connects(&tls_cfg, n_connects, fresh).await;
        println!(
            "connect + 93 + 99, {name:<28} plain p50 {:>6.2} ms p99 {:>6.2} ms   TLS p50 {:>6.2} ms p99 {:>6.2} ms",
            ms(p50),
            ms(p99),
            ms(t50),
            ms(t99)
        );
    }

    let mut plain = Client::new(plain_cfg);
    let mut tls = Client::new(tls_cfg);
    plain.connect().await.unwrap();
    tls.connect().await.unwrap();
    let (mut plain_lat, mut tls_lat) = (Vec::with_capacity(n_items), Vec::with_capacity(n_items));
    let (mut plain_total, mut tls_total) = (Duration::ZERO, Duration::ZERO);
    for n in 0..n_items {
        let item = format!("T{n:06}");
        let t = Instant::now();
        plain.checkout("P0002", &item).await.unwrap().unwrap();
        let d = t.elapsed();
        plain_lat.push(d);
        plain_total += d;
        let t = Instant::now();
        tls.checkout("P0002", &item).await.unwrap().unwrap();
        let d = t.elapsed();
        tls_lat.push(d);
        tls_total += d;
    }
    let plain_p50 = report("checkout, plain TCP", plain_lat, plain_total);
    let tls_p50 = report("checkout, TLS", tls_lat, tls_total);
    println!(
        "TLS added time per checkout (p50 difference): {:.1} µs",
        (tls_p50.as_secs_f64() - plain_p50.as_secs_f64()) * 1e6
    );
    assert_eq!(tls_sim.stats().duplicate_checkouts, 0);
    assert_eq!(tls.stats().connects, 1);
}
