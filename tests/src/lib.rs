//! The end-to-end harness: the real `kiosk` binary (`kiosk run --headless`) with its real
//! drivers, against
//! - our virtual My Number card behind a private pcscd + vsmartcard vpcd (a real PC/SC
//!   reader as far as the kiosk knows),
//! - the platform simulator over mutual TLS,
//! - the SIP2 library-system simulator over TCP,
//! - the virtual ESC/POS printer over TCP,
//! - scans through a named pipe (the scanner driver's line-file source).
//!
//! Used by the journeys (`tests/journeys.rs`) and the soak and timing benchmark
//! (`benches/journey.rs`). Test-support code: it panics on any setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, missing_debug_implementations)]

pub mod voice;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kiosk_card::JpkiCertificate;
use kiosk_sim::card::stack::{Pcscd, READER, READY_TIMEOUT};
use kiosk_sim::card::{CardConfig, Inserted, SharedCard, TestPki, shared_card};
use kiosk_sim::links::LinkServer;
use kiosk_sim::platform::{PlatformPki, PlatformSim, ServerCert};
use kiosk_sim::printer::PrinterSink;
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};

/// The patron the card is linked to (a 13-digit library card number).
pub const PATRON: &str = "2300987654321";
pub const BLOCKED_PATRON: &str = "2300099999999";
pub const BOOKS: [&str; 3] = ["1000000001", "1000000002", "1000000003"];
pub const ON_HOLD: &str = "3000000001";
/// The argon2 hash of the staff PIN 0000 (the demo's).
pub const STAFF_PIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$PldoI+eVPnF60y+qDaeJ1A$mP9qO9ocszJabAie2dFV2fDjE+9tGQBF0ElszIqlKnI";

/// The allocator's settings `kiosk.service` starts the kiosk with (its `MALLOC_…`
/// `Environment=` lines), so the kiosk runs here as it runs on the floor.
pub fn unit_allocator_environment() -> Vec<(String, String)> {
    include_str!("../../systemd/kiosk.service")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Environment="))
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| k.starts_with("MALLOC_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub fn kiosk_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("KIOSK_BIN") {
        return PathBuf::from(bin);
    }
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

pub fn pem(label: &str, der: &[u8]) -> String {
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
pub struct Stack {
    pub pcscd: Pcscd,
    /// Runs the platform and library-system simulators.
    rt: tokio::runtime::Runtime,
    pub platform: PlatformSim,
    pub ils: Sip2Sim,
    pub printer: PrinterSink,
    pub dir: PathBuf,
    pub serial: Vec<u8>,
    pub shots: PathBuf,
    inserted: std::cell::Cell<usize>,
}

impl Stack {
    pub fn start(journey: &str) -> Stack {
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

[audio]
device = "none"
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
        Stack { pcscd, rt, platform, ils, printer, dir, serial, shots, inserted: std::cell::Cell::new(0) }
    }

    /// Makes `kiosk.toml` a counter's: `library.mode = "counter"`, the platform's CRL with a
    /// local link store (`links.txt`, key `link.key`), no library system, method C typing
    /// into `keyboard` with the `layout`, library cards checked with mod 10 (2-1). The
    /// CRL published first revokes nothing.
    pub fn counter(&self, keyboard: &Path, layout: &str) {
        let now = std::time::SystemTime::now();
        self.platform.publish_crl(&[], now - Duration::from_secs(60), Duration::from_secs(86_400), 1);
        std::fs::write(self.dir.join("link.key"), [0x3cu8; 32]).unwrap();
        self.counter_in(&self.dir, READER, keyboard, layout, "mod10w21");
    }

    /// Writes `dir/kiosk.toml` for a counter on `reader` (see [`Stack::counter`]), library
    /// cards checked with `check_digit`.
    fn counter_in(&self, dir: &Path, reader: &str, keyboard: &Path, layout: &str, check_digit: &str) {
        let config = format!(
            r#"[library]
name = "E2E市立図書館"
institution_id = "KIOSKLIB"
kiosk_id = "e2e-counter"
mode = "counter"

[card]
reader = "{reader}"

{crl}
[ils]
mode = "simulated"

[printer]
transport = "tcp"
host = "127.0.0.1"
port = {printer}
paper_width_mm = 58
check_digit = "{check_digit}"

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

[counter]
keyboard_device = "{keyboard}"
keyboard_layout = "{layout}"
key_delay_ms = 0
"#,
            crl = crl_platform(&self.platform.url()),
            printer = self.printer.addr().port(),
            hash = STAFF_PIN_HASH,
            keyboard = keyboard.display(),
        );
        std::fs::write(dir.join("kiosk.toml"), config).unwrap();
    }

    pub fn link(&self, patron: &str) {
        self.platform.link(&self.serial, patron);
    }

    /// Replaces `from` by `to` in `kiosk.toml` (which must hold `from`).
    /// The library system goes down (stops listening; open connections close).
    pub fn ils_down(&mut self) {
        self.ils.stop();
    }

    /// The library system comes back on the same port, with what it had.
    pub fn ils_up(&mut self) {
        let ils = &mut self.ils;
        self.rt.block_on(ils.restart()).unwrap();
    }

    pub fn config_replace(&self, from: &str, to: &str) {
        let path = self.dir.join("kiosk.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        assert!(config.contains(from), "no {from:?} in {config}");
        std::fs::write(&path, config.replacen(from, to, 1)).unwrap();
    }

    /// Adds `line` to a section of `kiosk.toml`: `setting("card", "require_pin = false")`.
    pub fn setting(&self, section: &str, line: &str) {
        let path = self.dir.join("kiosk.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        let header = format!("[{section}]\n");
        assert!(config.contains(&header), "no {header}: {config}");
        std::fs::write(&path, config.replacen(&header, &format!("{header}{line}\n"), 1)).unwrap();
    }

    /// Makes the kiosk's platform the CRL mode (the platform's CRL, revoking nothing, and
    /// a local link store `links.txt`, key `link.key`) and links the demo card to
    /// `patron` in that store, as the counter would.
    pub fn crl_with_local_link(&self, patron: &str) {
        let now = std::time::SystemTime::now();
        self.platform.publish_crl(&[], now - Duration::from_secs(60), Duration::from_secs(86_400), 1);
        self.local_link(patron, &crl_platform(&self.platform.url()));
    }

    /// Makes the kiosk's platform the OCSP mode, asking Debian's `openssl ocsp` (which
    /// says the demo card is good, signed by the JPKI test CA), with the local link store
    /// linking the demo card to `patron`; the kiosk reaches it over TLS through a front
    /// with the platform's certificate. Keep both while the kiosk runs.
    pub fn ocsp_with_local_link(
        &self,
        patron: &str,
    ) -> (kiosk_sim::platform::openssl_ocsp::Responder, kiosk_sim::platform::fixtures::Fixture) {
        let jpki = TestPki::shared().unwrap();
        let dir = self.dir.join("ocsp");
        let responder =
            kiosk_sim::platform::openssl_ocsp::Responder::for_test_ca(&dir, jpki, &[&self.serial]).unwrap();
        let upstream = std::net::SocketAddr::from(([127, 0, 0, 1], responder.port()));
        let front = self.rt.block_on(kiosk_sim::platform::fixtures::tls_front(upstream)).unwrap();
        let url = format!("https://127.0.0.1:{}", front.addr.port());
        let ocsp = crl_platform(&url)
            .replace("mode = \"crl\"", "mode = \"ocsp\"")
            .replace(&format!("url = \"{url}/crl\""), &format!("url = \"{url}\""));
        self.local_link(patron, &ocsp);
        (responder, front)
    }

    /// Links the demo card to `patron` in `links.txt` (key `link.key`) and puts `platform`
    /// in place of `kiosk.toml`'s [platform] section.
    fn local_link(&self, patron: &str, platform: &str) {
        let key = [0x3cu8; 32];
        std::fs::write(self.dir.join("link.key"), key).unwrap();
        let store =
            kiosk_platform::links::LinkStore::with_key(&self.dir.join("links.txt"), key.to_vec()).unwrap();
        let cert = JpkiCertificate::from_der(&TestPki::shared().unwrap().user_cert_der).unwrap();
        store.link(&cert, &kiosk_platform::ServiceId::new(patron).unwrap()).unwrap();
        let path = self.dir.join("kiosk.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        let (Some(from), Some(to)) = (config.find("[platform]\n"), config.find("[ils]\n")) else {
            panic!("no [platform] before [ils]: {config}")
        };
        std::fs::write(&path, format!("{}{platform}\n{}", &config[..from], &config[to..])).unwrap();
    }

    /// Makes `dir`'s `kiosk.toml` follow the shared link store on `server` as device
    /// `role` of `municipality` (enrolled there now), with the link key `key`: the CRL
    /// platform mode, the snapshot `links.snapshot`, a refresh every second.
    pub fn shared_links(
        &self,
        dir: &Path,
        server: &LinkServer,
        role: &str,
        municipality: &str,
        key: u8,
        may_link: bool,
    ) {
        let id = server.add_device(role, municipality, may_link).unwrap();
        std::fs::write(dir.join("links-ca.pem"), server.ca_pem().unwrap()).unwrap();
        std::fs::write(dir.join("links-client.pem"), &id.chain_pem).unwrap();
        std::fs::write(dir.join("links-client.key"), &id.key_pem).unwrap();
        std::fs::write(dir.join("link.key"), [key; 32]).unwrap();
        let now = std::time::SystemTime::now();
        self.platform.publish_crl(&[], now - Duration::from_secs(60), Duration::from_secs(86_400), 1);
        let path = dir.join("kiosk.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        let (Some(from), Some(to)) = (config.find("[platform]\n"), config.find("[ils]\n")) else {
            panic!("no [platform] before [ils]: {config}")
        };
        let platform = crl_platform(&self.platform.url()).replace("links.txt", "links.snapshot");
        let shared = format!(
            "link_server = \"{url}\"\nlink_server_ca_file = \"links-ca.pem\"\nlink_client_cert = \"links-client.pem\"\n\
             link_client_key = \"links-client.key\"\nmunicipality = \"{municipality}\"\nlink_refresh_s = 1\n\n",
            url = server.url(role),
        );
        std::fs::write(&path, format!("{}{platform}{shared}{}", &config[..from], &config[to..])).unwrap();
    }

    /// A counter in `self.dir/<name>` beside the kiosk: its own `kiosk.toml` (counter
    /// mode, the second reader `Virtual PCD 00 01`, the platform's CRL), files, scans FIFO
    /// and state, linking in the shared store on `server` as `role` of `municipality`.
    /// Start it with [`Kiosk::start_in`].
    pub fn counter_at(
        &self,
        name: &str,
        server: &LinkServer,
        role: &str,
        municipality: &str,
        key: u8,
    ) -> PathBuf {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["platform-ca.pem", "jpki-ca.pem", "label.key"] {
            std::fs::copy(self.dir.join(file), dir.join(file)).unwrap();
        }
        assert!(Command::new("mkfifo").arg(dir.join("scans.fifo")).status().unwrap().success());
        std::fs::write(dir.join("hidg0"), b"").unwrap();
        self.counter_in(&dir, "Virtual PCD 00 01", &dir.join("hidg0"), "jis", "none");
        self.shared_links(&dir, server, role, municipality, key, true);
        dir
    }

    /// Puts a card on the reader. Waits first until pcscd has seen every earlier card
    /// leave: vpcd can miss a card put back faster than pcscd polls (a patron cannot).
    pub fn card(&self, config: CardConfig) -> (SharedCard, Inserted) {
        self.card_in(config, 0)
    }

    /// [`Stack::card`] on the reader of vpcd's `slot` (0: `Virtual PCD 00 00`, 1:
    /// `Virtual PCD 00 01`, the second device's).
    pub fn card_in(&self, config: CardConfig, slot: u16) -> (SharedCard, Inserted) {
        let before = self.inserted.get();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.pcscd.log().matches("Card Removed From").count() < before {
            assert!(Instant::now() < deadline, "pcscd did not see the last card go:\n{}", self.pcscd.log());
            std::thread::sleep(Duration::from_millis(10));
        }
        self.inserted.set(before + 1);
        let card = shared_card(config).unwrap();
        let mut addr = self.pcscd.card_addr();
        addr.set_port(addr.port() + slot);
        let inserted = Inserted::insert(card.clone(), addr, READY_TIMEOUT).unwrap();
        (card, inserted)
    }

    pub fn loans(&self, patron: &str) -> Vec<String> {
        self.ils.loans_of(patron)
    }
}

/// The `[platform]` section of a kiosk in CRL mode with a local link store (`links.txt`,
/// key `link.key`), the platform simulator at `url`.
fn crl_platform(url: &str) -> String {
    format!(
        r#"[platform]
mode = "crl"
url = "{url}/crl"
ca_file = "platform-ca.pem"
jpki_ca_file = "jpki-ca.pem"
connect_timeout_s = 2
request_timeout_s = 3
link_store = "links.txt"
link_key_file = "link.key"
"#
    )
}

/// The kiosk process and its control pipe.
pub struct Kiosk {
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
    pub fn start(stack: &Stack) -> Kiosk {
        Kiosk::start_with(stack, &[])
    }

    pub fn start_with(stack: &Stack, wrapper: &[&str]) -> Kiosk {
        Kiosk::start_env(stack, wrapper, &[])
    }

    /// [`Kiosk::start_with`] with more environment variables for the kiosk.
    pub fn start_env(stack: &Stack, wrapper: &[&str], env: &[(&str, &Path)]) -> Kiosk {
        Kiosk::start_at(stack, &stack.dir, wrapper, env)
    }

    /// A second device of the stack: its `kiosk.toml`, state, scans FIFO and log in `dir`
    /// (see [`Stack::counter_at`]).
    pub fn start_in(stack: &Stack, dir: &Path) -> Kiosk {
        Kiosk::start_at(stack, dir, &[], &[])
    }

    fn start_at(stack: &Stack, dir: &Path, wrapper: &[&str], env: &[(&str, &Path)]) -> Kiosk {
        let state_dir = dir.join("state");
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
            .arg(dir.join("kiosk.toml"))
            .env("KIOSK_STATE_DIR", &state_dir)
            .env("KIOSK_BUSY_FILE", dir.join("session-active"))
            .env("KIOSK_UPDATE_STATUS", dir.join("update-status.json"))
            .env("KIOSK_UPDATE_REQUEST", dir.join("update-request"))
            .env("KIOSK_LOG", "debug,hyper=info,hyper_util=info,reqwest=info,rustls=info,h2=info")
            .envs(unit_allocator_environment())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("kiosk.log")).map_or_else(|_| Stdio::null(), Stdio::from))
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
            fifo: dir.join("scans.fifo"),
            shots: stack.shots.clone(),
            // A kiosk started again in the same journey goes on numbering its shots.
            step: std::fs::read_dir(&stack.shots).map_or(0, Iterator::count),
            state_dir,
        };
        let ready = k.lines.recv_timeout(Duration::from_secs(30));
        let log = || std::fs::read_to_string(dir.join("kiosk.log")).unwrap_or_default();
        assert_eq!(ready.as_deref(), Ok("ready"), "kiosk did not start; log:\n{}", log());
        k
    }

    pub fn say(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        self.lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("no answer to {command:?}: {e}"))
    }

    pub fn tap(&mut self, button: &str) {
        let answer = self.say(&format!("tap {button}"));
        assert_eq!(answer, format!("tapped {button}"));
    }

    /// Types a PIN once the keypad is enabled (after the card's tries count is in).
    pub fn pin(&mut self, digits: &str) {
        self.until("pin=Entering", 20);
        for d in digits.chars() {
            self.tap(&format!("digit-{d}"));
        }
        self.tap("submit");
    }

    pub fn wait(&mut self, screen: &str, secs: u32) {
        let answer = self.say(&format!("wait {screen} {secs}"));
        assert_eq!(answer, format!("ok {screen}"), "scene: {}", self.scene());
    }

    pub fn scene(&mut self) -> String {
        self.say("scene")
    }

    /// Waits (inside the kiosk, polling every millisecond) until the scene line contains
    /// `text`; returns how long that took from when the command arrived, or `None` on
    /// timeout.
    pub fn timed(&mut self, text: &str, secs: u64) -> Option<Duration> {
        let answer = self.say(&format!("until {secs} {text}"));
        let us: u64 = answer.strip_prefix("ok ")?.split(' ').next()?.parse().ok()?;
        Some(Duration::from_micros(us))
    }

    /// Waits until the scene line contains `text`.
    pub fn until(&mut self, text: &str, secs: u64) -> String {
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

    pub fn shot(&mut self, name: &str) -> PathBuf {
        self.step += 1;
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        let answer = self.say(&format!("shot {}", path.display()));
        assert_eq!(answer, format!("shot {}", path.display()));
        path
    }

    /// A scan, through the scanner driver (a line on the named pipe).
    pub fn scan(&mut self, code: &str) {
        if self.scans.is_none() {
            self.scans = Some(std::fs::OpenOptions::new().write(true).open(&self.fifo).unwrap());
        }
        let f = self.scans.as_mut().unwrap();
        writeln!(f, "{code}").unwrap();
        f.flush().unwrap();
    }

    /// The kiosk's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn quit(mut self) {
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

    pub fn journal_files(&self) -> usize {
        std::fs::read_dir(self.state_dir.join("journal")).map_or(0, |d| d.count())
    }
}

pub fn log(stack: &Stack) -> String {
    std::fs::read_to_string(stack.dir.join("kiosk.log")).unwrap_or_default()
}

/// From the borrowing screen: `book` scanned and lent, Finish, a receipt or none, the
/// card taken off, back at idle.
pub fn borrow_one_and_leave(k: &mut Kiosk, inserted: Inserted, book: &str, receipt: bool) {
    k.scan(book);
    k.until("borrowed=1", 20);
    k.tap("finish");
    k.wait("receipt-choice", 10);
    k.tap(if receipt { "print-receipt" } else { "no-receipt" });
    k.wait("ending", 20);
    inserted.remove();
    k.wait("idle", 20);
}

/// Everything the virtual printer printed, as text lines (58 mm paper, the demo's font).
pub fn printed_text(stack: &Stack) -> String {
    let pages = kiosk_sim::printer::render(
        &stack.printer.job_bytes(),
        kiosk_printer::PaperWidth::Mm58.dots(),
        kiosk_sim::printer::load_font().as_ref(),
    );
    pages.iter().flat_map(|p| p.lines.iter().map(|l| format!("{l}\n"))).collect()
}

/// Card in, right PIN, borrowing screen.
pub fn log_in(k: &mut Kiosk, stack: &Stack) -> (SharedCard, Inserted) {
    k.wait("idle", 20);
    let card = stack.card(CardConfig::default());
    k.wait("pin", 20);
    k.shot("pin");
    k.pin("1234");
    k.wait("borrowing", 30);
    card
}

/// A board for the hardware fingerprint (`KIOSK_HARDWARE_ROOT`): `proc/cpuinfo` with
/// the board's serial and `etc/machine-id`, below `stack.dir/<name>`.
pub fn board(stack: &Stack, name: &str, serial: &str) -> PathBuf {
    let root = stack.dir.join(name);
    std::fs::create_dir_all(root.join("proc")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("proc/cpuinfo"), format!("processor\t: 0\nSerial\t\t: {serial}\n")).unwrap();
    std::fs::write(root.join("etc/machine-id"), format!("{serial:0>32}\n")).unwrap();
    root
}

/// Opens the staff menu with the staff PIN (0000).
pub fn staff_login(k: &mut Kiosk) {
    k.tap("admin-open");
    k.wait("admin-pin", 10);
    for _ in 0..4 {
        k.tap("admin-digit-0");
    }
    k.tap("admin-submit");
    k.wait("admin-menu", 20);
}

/// Reads the one-dimensional barcodes in a PNG with zbarimg (NW-7's guards removed).
pub fn read_barcodes(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg").args(["--quiet", "--raw"]).arg(png).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_matches(|c: char| "ABCDabcd".contains(c)).to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Renders the printed label like paper and reads its QR code with zbarimg.
pub fn decode_token(stack: &Stack, job: &[u8]) -> String {
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

#[cfg(test)]
mod unit_tests {
    #[test]
    fn the_unit_s_allocator_settings_are_found() {
        assert_eq!(super::unit_allocator_environment(), [("MALLOC_ARENA_MAX".to_owned(), "1".to_owned())]);
    }
}
