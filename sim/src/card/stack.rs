//! A private pcscd with a vsmartcard vpcd reader, for tests that go through the real
//! PC/SC stack without touching the machine's own pcscd.
//!
//! pcscd 1.9 always serves `/run/pcscd/pcscd.comm` (it ignores `PCSCLITE_CSOCK_NAME`),
//! and vpcd listens on every interface. So each such test re-runs itself
//! ([`enter_private_stack`]) inside `unshare --mount --net`: a tmpfs on `/run/pcscd`
//! and a network namespace with only loopback. Inside, the test starts its own pcscd
//! ([`Pcscd::start`]) and plugs the virtual card in ([`super::Inserted::insert`]).
//! Tests run in parallel without seeing each other; nothing listens outside.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_card::pcsc::PcscReaders;

use super::vpcd::VPCD_PORT;

/// Set in the re-run test process (inside the namespaces).
pub const INSIDE_ENV: &str = "KIOSK_SIM_PRIVATE_PCSCD";
/// Where Debian's vsmartcard-vpcd puts the reader driver.
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// The reader pcscd makes for vpcd slot 0.
pub const READER: &str = "Virtual PCD 00 00";
/// How long readiness waits may take before the test fails.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Returns true when the caller runs inside the private namespaces and should run the
/// test body. Otherwise it re-runs `test_name` (the test's full path in the harness, e.g.
/// `reads_certificate`) of the current test binary there, panics if that fails or ran
/// no test, and returns false.
pub fn enter_private_stack(test_name: &str) -> bool {
    if std::env::var_os(INSIDE_ENV).is_some() {
        return true;
    }
    let out = match rerun_in_private_stack(&[test_name, "--exact", "--nocapture", "--test-threads=1"]) {
        Ok(o) => o,
        Err(e) => panic!("cannot run unshare (util-linux) for a private pcscd: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test_name} failed inside its private pcscd namespace ({}).\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    false
}

/// Runs the current executable again with `args`, inside a private mount namespace (a
/// tmpfs on `/run/pcscd`) and a network namespace with only loopback, with
/// [`INSIDE_ENV`] set. Needs root (or the capabilities for `unshare`).
pub fn rerun_in_private_stack(args: &[&str]) -> io::Result<std::process::Output> {
    let exe = std::env::current_exe()?;
    let script = "set -e; ip link set lo up; mkdir -p /run/pcscd; \
                  mount -t tmpfs -o mode=0755 tmpfs /run/pcscd; exec \"$@\"";
    // Namespaces need root: a user who ran the test command with sudo rights gets the
    // namespace through `sudo -n` (no password prompt; a clear failure if not allowed).
    let mut cmd = if is_root() {
        Command::new("unshare")
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", "--", "env", &format!("{INSIDE_ENV}=1"), "unshare"]);
        c
    };
    cmd.args(["--mount", "--net", "--propagation", "private", "--", "sh", "-c", script, "sh"])
        .arg(&exe)
        .args(args)
        .env(INSIDE_ENV, "1")
        .stdin(Stdio::null())
        .output()
}

/// True when this process runs as root (`/proc/self/status` says effective uid 0).
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
            .unwrap_or(false)
    })
}

/// A pcscd started by a test, with one vpcd reader on `port` (slots `port`, `port + 1`).
#[derive(Debug)]
pub struct Pcscd {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

impl Pcscd {
    /// Starts pcscd in the foreground with a reader config naming only vpcd. Call it
    /// inside [`enter_private_stack`].
    pub fn start() -> io::Result<Pcscd> {
        let dir = std::env::temp_dir().join(format!("kiosk-pcscd-{}", std::process::id()));
        fs::create_dir_all(dir.join("conf"))?;
        let port = VPCD_PORT;
        fs::write(
            dir.join("conf").join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:{port}\nLIBPATH {VPCD_DRIVER}\nCHANNELID {port}\n"
            ),
        )?;
        let mut pcscd = Pcscd { child: None, dir, port };
        pcscd.spawn()?;
        Ok(pcscd)
    }

    fn spawn(&mut self) -> io::Result<()> {
        // A killed daemon leaves its socket and pid file behind; the next one would
        // refuse to start.
        for f in ["pcscd.comm", "pcscd.pid"] {
            let _ = fs::remove_file(Path::new("/run/pcscd").join(f));
        }
        let log = fs::File::create(self.dir.join("pcscd.log"))?;
        let child = Command::new("pcscd")
            .args(["--foreground", "--debug", "-c"])
            .arg(self.dir.join("conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// Where vpcd listens for the card.
    pub fn card_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// pcscd's log so far (for failure messages).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("pcscd.log")).unwrap_or_default()
    }

    /// Waits (bounded) until pcscd answers and lists the vpcd reader.
    pub fn wait_ready(&self) -> io::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut readers = PcscReaders::new(READER);
        loop {
            if let Ok(Some(_)) = readers.find_reader() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("pcscd did not list {READER} within {READY_TIMEOUT:?}; log:\n{}", self.log()),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the daemon (as a crash or `systemctl restart` would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the daemon again after [`Pcscd::stop`].
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        self.spawn()
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
