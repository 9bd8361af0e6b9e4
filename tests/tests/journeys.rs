#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! The whole kiosk, end to end: the real `kiosk` binary (`kiosk run --headless`) with its
//! real drivers, against
//! - our virtual My Number card behind a private pcscd + vsmartcard vpcd (a real PC/SC
//!   reader as far as the kiosk knows),
//! - the platform simulator over mutual TLS,
//! - the SIP2 library-system simulator over TCP,
//! - the virtual ESC/POS printer over TCP,
//! - scans through a named pipe (the scanner driver's line-file source).
//!
//! Each journey runs in its own mount + network namespace (only loopback), like the card
//! tests. A patron is driven through the headless control protocol (`tap`, `wait`,
//! `shot`, `scene`); screenshots of every step go to `target/e2e-journeys/<journey>/`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kiosk_card::JpkiCertificate;
use kiosk_sim::card::stack::{Pcscd, READER, READY_TIMEOUT, enter_private_stack};
use kiosk_sim::card::{
    CardConfig, Inserted, SharedCard, TestPki, lock, selects_other_application, shared_card,
};
use kiosk_sim::platform::{Fault, PlatformPki, PlatformSim, ServerCert};
use kiosk_sim::printer::PrinterSink;
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};

/// The patron the card is linked to (a 13-digit library card number).
const PATRON: &str = "2300012345678";
const BLOCKED_PATRON: &str = "2300099999999";
const BOOKS: [&str; 3] = ["1000000001", "1000000002", "1000000003"];
const ON_HOLD: &str = "3000000001";
/// The argon2 hash of the staff PIN 0000 (the demo's).
const STAFF_PIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$PldoI+eVPnF60y+qDaeJ1A$mP9qO9ocszJabAie2dFV2fDjE+9tGQBF0ElszIqlKnI";

fn kiosk_binary() -> PathBuf {
    // target/<profile>/deps/journeys-… → target/<profile>/kiosk
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join("kiosk");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p kiosk` (cargo xtask test does)",
        bin.display()
    );
    bin
}

fn pem(label: &str, der: &[u8]) -> String {
    use std::fmt::Write as _;
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        let _ = writeln!(out, "{}", std::str::from_utf8(line).unwrap());
    }
    let _ = writeln!(out, "-----END {label}-----");
    out
}

/// Everything around the kiosk: pcscd + the card slot, platform, library system, printer.
struct Stack {
    pcscd: Pcscd,
    /// Runs the platform and library-system simulators.
    _rt: tokio::runtime::Runtime,
    platform: PlatformSim,
    ils: Sip2Sim,
    printer: PrinterSink,
    dir: PathBuf,
    serial: Vec<u8>,
    shots: PathBuf,
}

impl Stack {
    fn start(journey: &str) -> Stack {
        let pcscd = Pcscd::start().unwrap();
        pcscd.wait_ready().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let platform = rt.block_on(PlatformSim::start(ServerCert::Good)).unwrap();
        let mut catalogue = Catalogue::demo();
        catalogue.patron(PATRON, "End To End", None, false);
        catalogue.patron(BLOCKED_PATRON, "Blocked Patron", None, true);
        let ils = rt.block_on(Sip2Sim::start(catalogue, Behaviour::default())).unwrap();
        let printer = PrinterSink::start("127.0.0.1:0").unwrap();
        let dir = std::env::temp_dir().join(format!("kiosk-e2e-{journey}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pki = PlatformPki::shared().unwrap();
        let jpki = TestPki::shared().unwrap();
        std::fs::write(dir.join("platform-ca.pem"), &pki.ca_pem).unwrap();
        std::fs::write(dir.join("client.pem"), &pki.terminal.chain_pem).unwrap();
        std::fs::write(dir.join("client.key"), &pki.terminal.key_pem).unwrap();
        std::fs::write(dir.join("jpki-ca.pem"), pem("CERTIFICATE", &jpki.ca_cert_der)).unwrap();
        std::fs::write(dir.join("label.key"), [0x5au8; 32]).unwrap();
        let fifo = dir.join("scans.fifo");
        assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let config = format!(
            r#"[library]
name = "E2E市立図書館"
institution_id = "KIOSKLIB"
service_provider_id = "{sp}"
kiosk_id = "e2e-01"

[card]
reader = "{reader}"

[platform]
mode = "api"
url = "{url}"
ca_file = "platform-ca.pem"
jpki_ca_file = "jpki-ca.pem"
client_cert = "client.pem"
client_key = "client.key"
terminal_id = "kiosk-01"
terminal_password = "secret-01"
connect_timeout_s = 2
request_timeout_s = 3

[ils]
mode = "sip2"
host = "127.0.0.1"
port = {ils}
login_user = "kiosk"
login_password = "secret"
request_timeout_s = 2

[printer]
transport = "tcp"
host = "127.0.0.1"
port = {printer}
paper_width_mm = 58

[label]
method_d = true
token_key_file = "label.key"

[io]
backend = "simulated"

[admin]
staff_pin_hash = "{hash}"

[scanner]
kind = "fifo"
path = "scans.fifo"
"#,
            sp = platform.service_provider(),
            reader = READER,
            url = platform.url(),
            ils = ils.addr().port(),
            printer = printer.addr().port(),
            hash = STAFF_PIN_HASH,
        );
        std::fs::write(dir.join("kiosk.toml"), config).unwrap();
        let serial = JpkiCertificate::from_der(&jpki.user_cert_der).unwrap().serial().expose().to_vec();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let shots = root.join("target").join("e2e-journeys").join(journey);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        Stack { pcscd, _rt: rt, platform, ils, printer, dir, serial, shots }
    }

    fn link(&self, patron: &str) {
        self.platform.link(&self.serial, patron);
    }

    fn card(&self, config: CardConfig) -> (SharedCard, Inserted) {
        let card = shared_card(config).unwrap();
        let inserted = Inserted::insert(card.clone(), self.pcscd.card_addr(), READY_TIMEOUT).unwrap();
        (card, inserted)
    }

    fn loans(&self, patron: &str) -> Vec<String> {
        self.ils.loans_of(patron)
    }
}

/// The kiosk process and its control pipe.
struct Kiosk {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    scans: Option<std::fs::File>,
    fifo: PathBuf,
    shots: PathBuf,
    step: usize,
    state_dir: PathBuf,
}

impl Kiosk {
    fn start(stack: &Stack) -> Kiosk {
        Kiosk::start_with(stack, &[])
    }

    fn start_with(stack: &Stack, wrapper: &[&str]) -> Kiosk {
        let state_dir = stack.dir.join("state");
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(kiosk_binary());
                c
            }
            None => Command::new(kiosk_binary()),
        };
        let mut child = cmd
            .args(["run", "--headless", "--config"])
            .arg(stack.dir.join("kiosk.toml"))
            .env("KIOSK_STATE_DIR", &state_dir)
            .env("KIOSK_LOG", "debug,hyper=info,hyper_util=info,reqwest=info,rustls=info,h2=info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::create(stack.dir.join("kiosk.log"))
                    .map_or_else(|_| Stdio::null(), Stdio::from),
            )
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let k = Kiosk {
            child,
            stdin,
            lines,
            scans: None,
            fifo: stack.dir.join("scans.fifo"),
            shots: stack.shots.clone(),
            step: 0,
            state_dir,
        };
        let ready = k.lines.recv_timeout(Duration::from_secs(30));
        assert_eq!(ready.as_deref(), Ok("ready"), "kiosk did not start; log:\n{}", log(stack));
        k
    }

    fn say(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        self.lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("no answer to {command:?}: {e}"))
    }

    fn tap(&mut self, button: &str) {
        let answer = self.say(&format!("tap {button}"));
        assert_eq!(answer, format!("tapped {button}"));
    }

    /// Types a PIN once the keypad is enabled (after the card's tries count is in).
    fn pin(&mut self, digits: &str) {
        self.until("pin=Entering", 20);
        for d in digits.chars() {
            self.tap(&format!("digit-{d}"));
        }
        self.tap("submit");
    }

    fn wait(&mut self, screen: &str, secs: u32) {
        let answer = self.say(&format!("wait {screen} {secs}"));
        assert_eq!(answer, format!("ok {screen}"), "scene: {}", self.scene());
    }

    fn scene(&mut self) -> String {
        self.say("scene")
    }

    /// Waits until the scene line contains `text`.
    fn until(&mut self, text: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let scene = self.scene();
            if scene.contains(text) {
                return scene;
            }
            assert!(Instant::now() < deadline, "waited {secs} s for {text:?}; scene: {scene}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn shot(&mut self, name: &str) -> PathBuf {
        self.step += 1;
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        let answer = self.say(&format!("shot {}", path.display()));
        assert_eq!(answer, format!("shot {}", path.display()));
        path
    }

    /// A scan, through the scanner driver (a line on the named pipe).
    fn scan(&mut self, code: &str) {
        if self.scans.is_none() {
            self.scans = Some(std::fs::OpenOptions::new().write(true).open(&self.fifo).unwrap());
        }
        let f = self.scans.as_mut().unwrap();
        writeln!(f, "{code}").unwrap();
        f.flush().unwrap();
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn quit(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "kiosk exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("kiosk did not stop on quit");
    }

    fn journal_files(&self) -> usize {
        std::fs::read_dir(self.state_dir.join("journal")).map_or(0, |d| d.count())
    }
}

fn log(stack: &Stack) -> String {
    std::fs::read_to_string(stack.dir.join("kiosk.log")).unwrap_or_default()
}

/// Card in, right PIN, borrowing screen.
fn log_in(k: &mut Kiosk, stack: &Stack) -> (SharedCard, Inserted) {
    k.wait("idle", 20);
    let card = stack.card(CardConfig::default());
    k.wait("pin", 20);
    k.shot("pin");
    k.pin("1234");
    k.wait("borrowing", 30);
    card
}

#[test]
fn a_patron_borrows_three_books_takes_a_receipt_and_the_card() {
    if !enter_private_stack("a_patron_borrows_three_books_takes_a_receipt_and_the_card") {
        return;
    }
    let stack = Stack::start("borrow-three-books");
    stack.link(PATRON);
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    k.shot("idle");
    let (card, inserted) = log_in(&mut k, &stack);
    k.shot("borrowing");
    for (i, book) in BOOKS.iter().enumerate() {
        k.scan(book);
        k.until(&format!("borrowed={}", i + 1), 20);
    }
    k.shot("three-books");
    k.tap("finish");
    k.wait("receipt-choice", 10);
    k.shot("receipt-choice");
    k.tap("print-receipt");
    k.wait("ending", 20);
    k.shot("take-your-card");
    // The session is over while the card is still on the reader: the kiosk has powered it
    // off, so its PIN is no longer verified (nobody can use the card's verified state).
    let deadline = Instant::now() + Duration::from_secs(5);
    while lock(&card).is_auth_pin_verified() {
        assert!(Instant::now() < deadline, "the kiosk left the card powered with its PIN verified");
        std::thread::sleep(Duration::from_millis(20));
    }
    inserted.remove();
    k.wait("idle", 20);
    k.shot("idle-again");

    let mut loans = stack.loans(PATRON);
    loans.sort();
    assert_eq!(loans, BOOKS.to_vec(), "the library system lent exactly the three books");
    assert_eq!(stack.ils.stats().duplicate_checkouts, 0);
    let printed = stack.printer.job_bytes();
    assert!(!printed.is_empty(), "a receipt was printed");
    // The receipt names no patron.
    assert!(!String::from_utf8_lossy(&printed).contains(PATRON));
    assert!(
        lock(&card).log().iter().all(|e| !selects_other_application(&e.command)),
        "only the JPKI AP was selected"
    );
    assert_eq!(k.journal_files(), 0, "the session's journal is gone");
    k.quit();
}

#[test]
fn wrong_pin_twice_then_right_and_a_locked_card_calls_staff_who_reset_the_kiosk() {
    if !enter_private_stack("wrong_pin_twice_then_right_and_a_locked_card_calls_staff_who_reset_the_kiosk") {
        return;
    }
    let stack = Stack::start("wrong-pin");
    stack.link(PATRON);
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    let (card, inserted) = stack.card(CardConfig::default());
    k.wait("pin", 20);
    k.pin("0000");
    k.until("tries_left=Some(2)", 20);
    k.shot("wrong-pin-2-left");
    k.pin("1111");
    k.until("pin=LastTryWarning", 20);
    k.shot("last-try-warning");
    k.tap("acknowledge-last-try");
    k.pin("1234");
    k.wait("borrowing", 30);
    assert_eq!(lock(&card).auth_tries(), 3, "the right PIN resets the card's counter");
    inserted.remove();
    k.wait("idle", 20);

    // A card with no tries left: nothing is sent to it but the tries query; staff are called.
    let (card, inserted) = stack.card(CardConfig { auth_tries: 0, ..CardConfig::default() });
    k.until("staff_called=true", 30);
    k.shot("card-locked");
    assert!(
        lock(&card).log().iter().all(|e| e.command.get(1) != Some(&0x20) || e.command.len() <= 5),
        "no VERIFY with a PIN was sent to a blocked card"
    );
    inserted.remove();
    // Staff: hidden long-press, staff PIN, reset.
    k.tap("admin-open");
    k.wait("admin-pin", 10);
    for _ in 0..4 {
        k.tap("admin-digit-0");
    }
    k.tap("admin-submit");
    k.wait("admin-menu", 20);
    k.shot("admin-menu");
    k.tap("admin-reset");
    k.until("staff_called=false", 20);
    k.wait("idle", 20);
    k.quit();
}

#[test]
fn revoked_not_linked_platform_down_and_blocked_patrons_are_refused_with_a_reason() {
    if !enter_private_stack("revoked_not_linked_platform_down_and_blocked_patrons_are_refused_with_a_reason")
    {
        return;
    }
    let stack = Stack::start("refusals");
    let mut k = Kiosk::start(&stack);
    let journey = |k: &mut Kiosk, expect: &str, shot: &str| {
        k.wait("idle", 20);
        let (_card, inserted) = stack.card(CardConfig::default());
        k.wait("pin", 20);
        k.pin("1234");
        k.wait("ending", 40);
        let scene = k.scene();
        assert!(scene.contains(expect), "expected {expect}: {scene}");
        k.shot(shot);
        inserted.remove();
        k.wait("idle", 30);
    };
    // Not linked to a patron of this library.
    journey(&mut k, "NotLinked", "not-linked");
    // Linked to a patron the library system blocks.
    stack.link(BLOCKED_PATRON);
    journey(&mut k, "Blocked", "patron-blocked");
    // Revoked.
    stack.link(PATRON);
    stack.platform.revoke(&stack.serial);
    journey(&mut k, "Revoked", "revoked");
    // The platform is down (maintenance): refused, nothing lent.
    let sim2 = &stack.platform;
    sim2.set_fault(Fault::Status(503));
    journey(&mut k, "PlatformUnavailable", "platform-down");
    assert!(stack.loans(PATRON).is_empty() && stack.loans(BLOCKED_PATRON).is_empty(), "nothing was lent");
    k.quit();
}

#[test]
fn an_item_on_hold_is_refused_and_the_others_are_lent() {
    if !enter_private_stack("an_item_on_hold_is_refused_and_the_others_are_lent") {
        return;
    }
    let stack = Stack::start("item-on-hold");
    stack.link(PATRON);
    let mut k = Kiosk::start(&stack);
    let (_card, inserted) = log_in(&mut k, &stack);
    k.scan(ON_HOLD);
    k.until("lines=1", 20);
    k.scan(BOOKS[0]);
    let scene = k.until("borrowed=1", 20);
    assert!(scene.contains("lines=2"), "{scene}");
    k.shot("on-hold-refused");
    assert_eq!(stack.loans(PATRON), vec![BOOKS[0].to_owned()]);
    inserted.remove();
    k.wait("idle", 20);
    k.quit();
}

#[test]
fn a_power_cut_mid_checkout_neither_loses_nor_doubles_the_loan() {
    if !enter_private_stack("a_power_cut_mid_checkout_neither_loses_nor_doubles_the_loan") {
        return;
    }
    let stack = Stack::start("power-cut");
    stack.link(PATRON);
    let mut k = Kiosk::start(&stack);
    let (_card, inserted) = log_in(&mut k, &stack);
    // The library system applies the checkout but answers late; the kiosk dies meanwhile.
    stack.ils.faults(|f| f.delay_checkout_reply = Some(Duration::from_secs(5)));
    k.scan(BOOKS[0]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while stack.loans(PATRON).is_empty() {
        assert!(Instant::now() < deadline, "the checkout never reached the library system");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(k.journal_files(), 1, "the intent was journalled before sending");
    k.kill();
    inserted.remove();
    // Restart: the unfinished checkout is reconciled before anyone is served.
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 30);
    assert_eq!(k.journal_files(), 0, "the journal was settled");
    assert_eq!(stack.loans(PATRON), vec![BOOKS[0].to_owned()], "lent once: not lost");
    assert_eq!(stack.ils.stats().duplicate_checkouts, 0, "and not doubled");
    // The journal never held the patron number or the item in clear (it is gone now; the
    // log must not have them either).
    let log = log(&stack);
    assert!(!log.contains(PATRON) && !log.contains(BOOKS[0]), "log:\n{log}");
    k.quit();
}

#[test]
fn a_card_yanked_at_each_step_returns_to_idle_and_lends_nothing() {
    if !enter_private_stack("a_card_yanked_at_each_step_returns_to_idle_and_lends_nothing") {
        return;
    }
    let stack = Stack::start("card-yanked");
    stack.link(PATRON);
    stack.platform.set_fault(Fault::Slow(Duration::from_millis(1500)));
    let mut k = Kiosk::start(&stack);
    // At the PIN pad.
    k.wait("idle", 20);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.wait("pin", 20);
    inserted.remove();
    k.wait("idle", 20);
    // While the validity check runs.
    let (card, inserted) = stack.card(CardConfig::default());
    k.wait("pin", 20);
    k.pin("1234");
    k.wait("checking", 20);
    inserted.remove();
    k.wait("idle", 20);
    assert!(!lock(&card).is_auth_pin_verified());
    stack.platform.set_fault(Fault::None);
    // While borrowing: the session ends, nothing more is lent.
    let (_card, inserted) = log_in(&mut k, &stack);
    inserted.remove();
    k.wait("idle", 20);
    k.scan(BOOKS[1]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(stack.loans(PATRON).is_empty(), "a scan after the card left lends nothing");
    k.quit();
}

#[test]
fn a_library_card_patron_borrows_and_a_method_d_label_works_today() {
    if !enter_private_stack("a_library_card_patron_borrows_and_a_method_d_label_works_today") {
        return;
    }
    let stack = Stack::start("library-card-and-label");
    stack.link(PATRON);
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    // A library card scan.
    k.scan(PATRON);
    k.wait("borrowing", 20);
    k.shot("library-card-login");
    k.scan(BOOKS[2]);
    k.until("borrowed=1", 20);
    k.tap("finish");
    k.wait("receipt-choice", 10);
    k.tap("no-receipt");
    k.wait("idle", 30);
    assert_eq!(stack.loans(PATRON), vec![BOOKS[2].to_owned()]);

    // A card patron prints a Method D label instead of borrowing here.
    let before = stack.printer.job_bytes().len();
    let (_card, inserted) = log_in(&mut k, &stack);
    k.tap("print-label");
    k.wait("ending", 30);
    k.shot("label-printed");
    inserted.remove();
    k.wait("idle", 20);
    let label = stack.printer.job_bytes()[before..].to_vec();
    assert!(!label.is_empty(), "the label was printed");
    let token = decode_token(&stack, &label);
    assert!(token.starts_with("MD1*"), "{token}");
    // Scanned today at a kiosk of the same fleet: it logs the patron in.
    k.scan(&token);
    k.wait("borrowing", 20);
    k.scan(BOOKS[0]);
    k.until("borrowed=1", 20);
    k.shot("label-login");
    k.tap("finish");
    k.wait("receipt-choice", 10);
    k.tap("no-receipt");
    k.wait("idle", 30);
    k.quit();

    // Tomorrow (libfaketime moves the kiosk's clock a day on): refused.
    let mut k = Kiosk::start_with(&stack, &["faketime", "-f", "+1d"]);
    k.wait("idle", 20);
    k.scan(&token);
    let scene = k.until("Label", 20);
    assert!(scene.contains("WrongDay"), "{scene}");
    k.shot("label-tomorrow-refused");
    k.quit();
}

/// Renders the printed label like paper and reads its QR code with zbarimg.
fn decode_token(stack: &Stack, job: &[u8]) -> String {
    let pages = kiosk_sim::printer::render(job, kiosk_printer::PaperWidth::Mm58.dots(), None);
    let page = pages.first().expect("the label has a page");
    let png = stack.dir.join("label.png");
    page.save_png(&png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(out.status.success(), "zbarimg read no QR code: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
