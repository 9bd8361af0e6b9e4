//! The management endpoint end to end: Debian's Prometheus, started in a private
//! directory, scrapes the real kiosk over HTTPS with a client certificate while a patron
//! borrows; a PromQL question ("books lent in the last hour") gets the right number; a
//! client without the management CA's certificate gets nothing; the usage CSV has the
//! hour's loans; the counts are in the statistics file after the kiosk stops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_e2e::{BOOKS, Kiosk, PATRON, Stack, log_in, staff_login};
use kiosk_sim::card::stack::enter_private_stack;
use kiosk_sim::platform::{PlatformPki, TlsIdentity};

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Prometheus in `dir`, scraping the kiosk at `target` every second with `client`'s
/// certificate; killed on drop.
struct Prometheus {
    child: Child,
    port: u16,
}

impl Prometheus {
    fn start(dir: &Path, target: &str, ca: &Path, client: &TlsIdentity) -> Prometheus {
        std::fs::write(dir.join("prom-client.pem"), &client.chain_pem).unwrap();
        std::fs::write(dir.join("prom-client.key"), &client.key_pem).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: kiosk\n    scheme: https\n    tls_config:\n      ca_file: {ca}\n      cert_file: {cert}\n      key_file: {key}\n      server_name: localhost\n    static_configs:\n      - targets: ['{target}']\n        labels:\n          library: e2e\n",
            ca = ca.display(),
            cert = dir.join("prom-client.pem").display(),
            key = dir.join("prom-client.key").display(),
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus (Debian's prometheus package, installed by the test command)");
        Prometheus { child, port }
    }

    /// The value of a PromQL instant query's first sample, if it has one.
    fn query(&self, promql: &str) -> Option<String> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(s, "GET /api/v1/query?query={encoded} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        // {"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[1.7e9,"2"]}]}}
        let value = answer.split("\"value\":[").nth(1)?;
        let value = value.split(',').nth(1)?;
        Some(value.split('"').nth(1)?.to_owned())
    }

    /// Waits until `promql` answers `want`.
    fn until(&self, promql: &str, want: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = None;
        while Instant::now() < deadline {
            last = self.query(promql);
            if last.as_deref() == Some(want) {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("{promql} is {last:?}, not {want} after {secs} s");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` from the endpoint at `port` over TLS, trusting `ca_pem`, with `client`'s
/// certificate (or none): the whole answer, or why there is none.
fn fetch(port: u16, path: &str, ca_pem: &str, client: Option<&TlsIdentity>) -> Result<String, String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(id) => {
            let chain = CertificateDer::pem_slice_iter(id.chain_pem.as_bytes()).map(Result::unwrap).collect();
            let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    write!(tls, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    match tls.read_to_end(&mut answer) {
        Ok(_) => Ok(String::from_utf8_lossy(&answer).into_owned()),
        // The endpoint closes without close_notify only on a refusal.
        Err(e) if answer.is_empty() => Err(e.to_string()),
        Err(_) => Ok(String::from_utf8_lossy(&answer).into_owned()),
    }
}

#[test]
fn prometheus_scrapes_the_kiosk_and_counts_the_loans_of_the_last_hour() {
    if !enter_private_stack("prometheus_scrapes_the_kiosk_and_counts_the_loans_of_the_last_hour") {
        return;
    }
    let stack = Stack::start("metrics");
    stack.link(PATRON);
    let pki = PlatformPki::shared().unwrap();
    let dir = &stack.dir;
    std::fs::write(dir.join("management-ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(dir.join("metrics.pem"), &pki.server.chain_pem).unwrap();
    std::fs::write(dir.join("metrics.key"), &pki.server.key_pem).unwrap();
    let port = free_port();
    let config = dir.join("kiosk.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[metrics]\nlisten = \"127.0.0.1:{port}\"\nca_file = \"management-ca.pem\"\ncert_file = \"metrics.pem\"\nkey_file = \"metrics.key\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    let prometheus = Prometheus::start(
        dir,
        &format!("127.0.0.1:{port}"),
        &dir.join("management-ca.pem"),
        &pki.client("it-prometheus").unwrap(),
    );

    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    // Scraped through mutual TLS, every counter there from the start.
    prometheus.until("up{job=\"kiosk\"}", "1", 30);
    prometheus.until("kiosk_loans_total", "0", 10);
    prometheus.until("kiosk_in_service", "1", 10);

    // A card patron borrows two books; a third is not in the catalogue.
    let (_card, inserted) = log_in(&mut k, &stack);
    for (i, b) in BOOKS[..2].iter().enumerate() {
        k.scan(b);
        k.until(&format!("borrowed={}", i + 1), 20);
    }
    k.scan("1000000099");
    k.until("refused=1", 20);
    k.tap("finish");
    k.wait("refused", 10);
    k.tap("dismiss");
    k.wait("receipt-choice", 10);
    k.tap("no-receipt");
    k.wait("ending", 20);
    inserted.remove();
    k.wait("idle", 20);

    // The question IT asks: books lent at this kiosk in the last hour.
    prometheus.until("round(sum(increase(kiosk_loans_total{library=\"e2e\"}[1h])))", "2", 30);
    prometheus.until("kiosk_sessions_total{method=\"my_number_card\"}", "1", 10);
    prometheus.until("kiosk_refusals_total{reason=\"not_in_catalogue\"}", "1", 10);
    prometheus.until("kiosk_device_ok{device=\"printer\"}", "1", 10);

    // Nobody else: no certificate, or one from another CA, gets no answer.
    let no_cert = fetch(port, "/metrics", &pki.ca_pem, None);
    // (The handshake fails: an alert, or the connection closed under the client's first
    // write. The endpoint closes nothing else before a handshake: a busy one still shakes
    // hands.)
    assert!(no_cert.is_err(), "{no_cert:?}");
    let stranger = fetch(port, "/metrics", &pki.ca_pem, Some(&pki.stranger_terminal));
    assert!(stranger.is_err(), "{stranger:?}");
    // IT's own certificate downloads the hour's counts as CSV.
    let it = pki.client("it-desk").unwrap();
    let csv = fetch(port, "/usage.csv", &pki.ca_pem, Some(&it)).unwrap();
    assert!(csv.starts_with("HTTP/1.1 200 OK\r\n"), "{csv}");
    let body = csv.split("\r\n\r\n").nth(1).unwrap();
    let header: Vec<&str> = body.lines().next().unwrap().split(',').collect();
    let loans = header.iter().position(|c| *c == "loans").unwrap();
    let lent: u32 = body.lines().skip(1).filter_map(|l| l.split(',').nth(loans)?.parse::<u32>().ok()).sum();
    assert_eq!(lent, 2, "{body}");
    let other = fetch(port, "/etc/passwd", &pki.ca_pem, Some(&it)).unwrap();
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");

    // The staff see it on the Usage page.
    staff_login(&mut k);
    k.tap("admin-page-usage");
    k.until("usage_loans_today=2", 10);
    k.shot("admin-usage");
    k.tap("admin-close");
    k.wait("idle", 10);

    // The counts are in the statistics file once the kiosk has stopped.
    k.quit();
    let stats = std::fs::read_to_string(dir.join("state/usage.stats")).unwrap();
    let loans: u32 = stats
        .lines()
        .flat_map(|l| l.split(' '))
        .filter_map(|w| w.strip_prefix("loans="))
        .map(|n| n.parse::<u32>().unwrap())
        .sum();
    assert_eq!(loans, 2, "{stats}");
    assert!(stats.contains("refusals.not_in_catalogue=1"), "{stats}");
}
