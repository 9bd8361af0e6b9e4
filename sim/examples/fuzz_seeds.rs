//! Writes the fuzz targets' fixtures and seed corpora (`fuzz/fixtures`, `fuzz/seeds`) from
//! the simulators and the real peers the tests use: the virtual JPKI card's answers,
//! `openssl ocsp`'s responses, CRLs signed by the test CA, the SIP2 simulator's replies
//! in each library system's dialect and both character sets, the virtual printer's
//! status bytes, Method D tokens and link snapshots as the kiosk writes them.
//!
//!   cargo run -p kiosk-sim --example fuzz_seeds -- fuzz
//!
//! The fixtures (a fresh JPKI CA and card, the OCSP request's nonce, the day they were
//! made) and the seeds belong together: run it again only to replace both, then commit
//! both. Seeds a simulator does not produce (configuration files, the update server's
//! JSON) are kept by hand under `fuzz/seeds/`.
#![allow(clippy::print_stdout)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kiosk_card::{Jpki, ReadMode};
use kiosk_ils::codec::checksum;
use kiosk_ils::{Charset, Profile};
use kiosk_platform::crl::CrlBuilder;
use kiosk_platform::links::LinkIndex;
use kiosk_platform::links::snapshot::Snapshot;
use kiosk_platform::ocsp::build_request;
use kiosk_platform::{ServiceId, hex};
use kiosk_printer::{LabelDate, TokenKey};
use kiosk_sim::card::{CardConfig, CertProfile, InProcess, TestPki, VirtualCard};
use kiosk_sim::platform::openssl_ocsp::Responder;
use kiosk_sim::platform::pki::jpki_sign;
use kiosk_sim::printer::PrinterSink;
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};
use serde_json::json;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The transaction id the `platform_answer` target asks with.
const TX: &str = "2f1c4a3e-6a57-4c1e-9d0b-0c7f5e1b9a42";
/// The link key and municipality of the `link_snapshot` target.
const LINK_KEY: &[u8] = b"fuzz link key, 32 bytes or more!";

struct Out {
    root: PathBuf,
    count: usize,
}

impl Out {
    /// Writes one seed, named by its content like libFuzzer's own corpus files.
    fn seed(&mut self, target: &str, bytes: &[u8]) -> Res<()> {
        let dir = self.root.join("seeds").join(target);
        std::fs::create_dir_all(&dir)?;
        let name = hex(&Sha256::digest(bytes)[..10]);
        std::fs::write(dir.join(name), bytes)?;
        self.count += 1;
        Ok(())
    }

    fn fixture(&self, name: &str, bytes: &[u8]) -> Res<()> {
        let dir = self.root.join("fixtures");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        Ok(())
    }
}

fn main() -> Res<()> {
    let root = std::env::args().nth(1).map_or_else(|| PathBuf::from("fuzz"), PathBuf::from);
    let mut out = Out { root, count: 0 };
    let pki = TestPki::generate(&CertProfile::default())?;
    let now = SystemTime::now();
    let made_at = now.duration_since(UNIX_EPOCH)?.as_secs();
    out.fixture("jpki-ca.der", &pki.ca_cert_der)?;
    out.fixture("card.der", &pki.user_cert_der)?;
    out.fixture("made-at.bin", &made_at.to_be_bytes())?;

    card(&mut out, &pki)?;
    ocsp(&mut out, &pki)?;
    crl(&mut out, &pki, now)?;
    platform_answers(&mut out)?;
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(sip2(&mut out))?;
    printer(&mut out)?;
    token(&mut out)?;
    snapshot(&mut out, now)?;
    println!("{} seeds and the fixtures written under {}", out.count, out.root.display());
    Ok(())
}

/// The virtual card's side of a whole session: every command and response.
fn card(out: &mut Out, pki: &TestPki) -> Res<()> {
    let shared = std::sync::Arc::new(std::sync::Mutex::new(VirtualCard::new(CardConfig::default(), pki)));
    for mode in [ReadMode::Auto, ReadMode::ShortChunks] {
        let mut jpki = Jpki::new(InProcess::new(shared.clone(), mode == ReadMode::Auto), mode);
        jpki.select_ap()?;
        jpki.read_auth_certificate()?;
        jpki.verify_pin(b"0000")?;
        jpki.verify_pin(b"1234")?;
        jpki.sign_sha256(&[7; 32])?;
    }
    let log = shared.lock().map_err(|_| "card lock")?.log().to_vec();
    for e in log {
        out.seed("apdu", &e.command)?;
        out.seed("apdu", &e.response)?;
    }
    out.seed("certificate", &pki.user_cert_der)?;
    out.seed("certificate", &pki.ca_cert_der)?;
    Ok(())
}

/// `openssl ocsp` answering a request for the fixtures' card: good, unknown (another
/// serial), revoked, and without a nonce.
fn ocsp(out: &mut Out, pki: &TestPki) -> Res<()> {
    let dir = std::env::temp_dir().join(format!("kiosk-fuzz-seeds-ocsp-{}", std::process::id()));
    let ca = x509_cert::Certificate::from_der(&pki.ca_cert_der)?;
    let card = x509_cert::Certificate::from_der(&pki.user_cert_der)?;
    let query = build_request(&ca, &card)?;
    out.fixture("ocsp-nonce.bin", &query.nonce)?;
    let serial = CertProfile::default().serial;
    let serial_hex: String = serial.iter().map(|b| format!("{b:02X}")).collect();
    // The responder only to write the CA's files and an index; answers come from
    // `openssl ocsp -reqin`, one request at a time.
    drop(Responder::for_test_ca(&dir, pki, &[])?);
    std::fs::write(dir.join("request.der"), &query.der)?;
    let indexes = [
        format!("V\t991231235959Z\t\t{serial_hex}\tunknown\t/C=JP/CN=card\n"),
        format!("R\t991231235959Z\t250101000000Z,keyCompromise\t{serial_hex}\tunknown\t/C=JP/CN=card\n"),
        "V\t991231235959Z\t\t01\tunknown\t/C=JP/CN=other\n".to_owned(),
    ];
    for index in indexes {
        std::fs::write(dir.join("index.txt"), index)?;
        for extra in [&[][..], &["-no_nonce"][..], &["-resp_no_certs"][..]] {
            let status = Command::new("openssl")
                .args(["ocsp", "-index", "index.txt", "-rsigner", "jpki-ca.crt", "-rkey", "jpki-ca.key"])
                .args([
                    "-CA",
                    "jpki-ca.crt",
                    "-nmin",
                    "60",
                    "-reqin",
                    "request.der",
                    "-respout",
                    "response.der",
                ])
                .args(extra)
                .current_dir(&dir)
                .output()?;
            if !status.status.success() {
                return Err(format!("openssl ocsp: {}", String::from_utf8_lossy(&status.stderr)).into());
            }
            out.seed("ocsp_response", &std::fs::read(dir.join("response.der"))?)?;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// CRLs signed by the test CA: empty, a few serials, with reason codes.
fn crl(out: &mut Out, pki: &TestPki, now: SystemTime) -> Res<()> {
    let issuer_der = x509_cert::Certificate::from_der(&pki.ca_cert_der)?.tbs_certificate.subject.to_der()?;
    let day = Duration::from_secs(86_400);
    let base = CrlBuilder {
        issuer_der,
        this_update: now - day,
        next_update: now + day,
        crl_number: 5,
        delta_of: None,
        reason: None,
    };
    let serials: Vec<Vec<u8>> = (1u64..=5).map(|i| (i * 0x01_0203_0405).to_be_bytes().to_vec()).collect();
    for (builder, count) in [
        (base.clone(), 0),
        (base.clone(), 5),
        (CrlBuilder { reason: Some(1), ..base.clone() }, 3),
        (CrlBuilder { delta_of: Some(4), ..base.clone() }, 1),
    ] {
        let tbs = builder.tbs(&serials[..count], now - day);
        out.seed("crl", &CrlBuilder::finish(&tbs, &jpki_sign(pki, &tbs)))?;
    }
    Ok(())
}

/// The platform's answers in the shape the simulator gives them, behind the target's
/// selector byte (HTTP status index, bit 3: a verify answer).
fn platform_answers(out: &mut Out) -> Res<()> {
    let at = "2027-01-15T10:00:00Z";
    let nonce = "ab".repeat(32);
    let answers = [
        (0u8, json!({"transactionId": TX, "nonce": nonce, "expiresAt": at})),
        (5, json!({"transactionId": TX, "reason": "maintenance"})),
        (8, json!({"transactionId": TX, "status": "good", "checkedAt": at, "nextUpdate": at})),
        (
            8,
            json!({"transactionId": TX, "status": "good", "checkedAt": at, "nextUpdate": at, "serviceId": "P0001", "reissued": true}),
        ),
        (9, json!({"transactionId": TX, "reason": "revoked"})),
        (9, json!({"transactionId": TX, "reason": "bad-signature"})),
        (9, json!({"transactionId": TX, "reason": "nonce-expired"})),
        (10, json!({"transactionId": TX, "reason": "not-linked"})),
        (10, json!({"transactionId": TX, "reason": "no-such-call"})),
        (10, json!({"transactionId": TX, "reason": "unknown-service-provider"})),
        (11, json!({"transactionId": TX, "reason": "expired"})),
    ];
    for (which, body) in answers {
        let mut seed = vec![which];
        seed.extend_from_slice(&serde_json::to_vec(&body)?);
        out.seed("platform_answer", &seed)?;
    }
    Ok(())
}

/// The SIP2 simulator's replies to a whole session, as each library system's dialect
/// sends them, in UTF-8 and CP932; the seed is the selector byte (bit 0: CP932) and the
/// bytes as read from the socket.
async fn sip2(out: &mut Out) -> Res<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dialects = [
        ("utf8", Behaviour::default()),
        ("cp932", Behaviour { charset: Charset::Cp932, ..Behaviour::default() }),
        (
            "evergreen",
            Behaviour { login: Behaviour::default().login, ..Behaviour::profile(Profile::Evergreen) },
        ),
        ("koha", Behaviour { login: Behaviour::default().login, ..Behaviour::profile(Profile::Koha) }),
    ];
    let date = "20261206    120000";
    let blank = "                  ";
    for (name, behaviour) in dialects {
        let cp932 = behaviour.charset == Charset::Cp932;
        let sim = Sip2Sim::start(Catalogue::demo(), behaviour).await?;
        let mut s = tokio::net::TcpStream::connect(sim.addr()).await?;
        // "Le Piège de Bogota" has no CP932 bytes: the simulator, like a real system,
        // cannot send it in that character set.
        let held = if cp932 { "2000000001" } else { "3000000001" };
        let requests = [
            "9300CNkiosk|COsecret|".to_owned(),
            "9900302.00".to_owned(),
            format!("23001{date}AOKIOSKLIB|AAP0001|AC|AD1234|"),
            format!("63001{date}          AOKIOSKLIB|AAP0004|"),
            format!("11YN{date}{blank}AOKIOSKLIB|AAP0001|AB1000000002|AC|"),
            format!("11YN{date}{blank}AOKIOSKLIB|AAP0001|AB{held}|AC|"),
            format!("11YN{date}{blank}AOKIOSKLIB|AAP0003|AB1000000001|AC|"),
            format!("29NN{date}{blank}AOKIOSKLIB|AAP0004|AB2000000002|"),
            format!("17{date}AOKIOSKLIB|AB2000000002|"),
            format!("09N{date}{date}APdesk|AOKIOSKLIB|AB1000000002|AC|"),
            format!("35{date}AOKIOSKLIB|AAP0001|"),
        ];
        let mut stream = vec![u8::from(cp932)];
        for (seq, request) in requests.iter().enumerate() {
            let mut frame = format!("{request}AY{}AZ", seq % 10).into_bytes();
            frame.extend_from_slice(&checksum(&frame));
            frame.push(b'\r');
            s.write_all(&frame).await?;
            let mut reply = Vec::new();
            let mut byte = [0u8; 1];
            while reply.last() != Some(&b'\r') {
                if s.read(&mut byte).await? == 0 {
                    return Err(
                        format!("{name}: the simulator closed the connection after {request:?}").into()
                    );
                }
                reply.push(byte[0]);
            }
            // Koha's CRLF: the LF arrives with the next reply.
            let mut one = vec![u8::from(cp932)];
            one.extend_from_slice(&reply);
            out.seed("sip2_frame", &one)?;
            stream.extend_from_slice(&reply);
        }
        out.seed("sip2_frame", &stream)?;
    }
    Ok(())
}

/// The virtual printer's answers to `DLE EOT 1, 2, 4` in each state it can be put in.
fn printer(out: &mut Out) -> Res<()> {
    let sink = PrinterSink::start("127.0.0.1:0")?;
    let states: [fn(&mut kiosk_sim::printer::Switches); 5] = [
        |_| {},
        |s| s.paper_out = true,
        |s| s.paper_near_end = true,
        |s| s.cover_open = true,
        |s| s.offline = true,
    ];
    for state in states {
        sink.set(|s| {
            *s = Default::default();
            state(s);
        });
        let mut link = std::net::TcpStream::connect(sink.addr())?;
        link.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut answer = [0u8; 3];
        for (n, byte) in [1u8, 2, 4].into_iter().zip(&mut answer) {
            link.write_all(&[0x10, 0x04, n])?;
            let mut one = [0u8; 1];
            link.read_exact(&mut one)?;
            *byte = one[0];
        }
        out.seed("escpos_status", &answer)?;
    }
    Ok(())
}

/// Method D tokens as the kiosk prints them: today's, yesterday's, another key's.
fn token(out: &mut Out) -> Res<()> {
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    out.fixture("token.key", &key)?;
    let ours = TokenKey::new(&key)?;
    let other = TokenKey::new(&[0x5a; 32])?;
    let today = LabelDate::new(2026, 12, 6).ok_or("date")?;
    let yesterday = LabelDate::new(2026, 12, 5).ok_or("date")?;
    for (k, day, patron) in
        [(&ours, today, "P0001"), (&ours, yesterday, "P0001"), (&other, today, "2000123456789")]
    {
        out.seed("method_d_token", kiosk_printer::token::sign(patron, day, "kiosk-1", k)?.as_bytes())?;
    }
    Ok(())
}

/// Link snapshots: the target signs what follows its header itself (mode 1), or reads
/// the file as it is (mode 0).
fn snapshot(out: &mut Out, now: SystemTime) -> Res<()> {
    let mut index = LinkIndex::default();
    for (i, patron) in ["P0001", "P0002", "2000123456789"].iter().enumerate() {
        let key = [u8::try_from(i)?; 32];
        index.push_sorted(key, &ServiceId::new(patron).ok_or("patron")?);
    }
    let snap = Snapshot {
        municipality: "131016".to_owned(),
        store_id: "0b6c3c1e-store".to_owned(),
        change: 42,
        taken: now,
        index,
    };
    let bytes = snap.encode(LINK_KEY);
    let mut raw = vec![0u8];
    raw.extend_from_slice(&bytes);
    out.seed("link_snapshot", &raw)?;
    // Mode 1: the body after the header, without the signature.
    let header = b"kiosk-link-snapshot v1\n".len();
    let mut body = vec![1u8];
    body.extend_from_slice(&bytes[header..bytes.len() - 32]);
    out.seed("link_snapshot", &body)?;
    Ok(())
}
