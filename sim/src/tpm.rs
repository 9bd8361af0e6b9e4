//! A software TPM 2.0 (Debian's `swtpm`, libtpms inside) on loopback: a board's TPM for
//! the tests. Each [`Swtpm`] has its own state directory, so two of them are two boards;
//! stopping one and starting another on the same directory is the same board rebooted.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running swtpm; killed when dropped.
#[derive(Debug)]
pub struct Swtpm {
    child: Child,
    port: u16,
    dir: PathBuf,
}

fn free_port_pair() -> std::io::Result<u16> {
    // Two free ports side by side (swtpm's server and control channels).
    for _ in 0..50 {
        let a = TcpListener::bind("127.0.0.1:0")?;
        let port = a.local_addr()?.port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::other("no two free ports side by side"))
}

impl Swtpm {
    /// Starts a TPM whose state lives in `dir` (created; kept when the TPM stops).
    ///
    /// # Errors
    /// swtpm cannot start, or does not listen within 10 s.
    pub fn start(dir: &Path) -> std::io::Result<Swtpm> {
        std::fs::create_dir_all(dir)?;
        let port = free_port_pair()?;
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.display()))
            .arg("--server")
            .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
            .arg("--ctrl")
            .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut tpm = Swtpm { child, port, dir: dir.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() >= deadline || tpm.child.try_wait()?.is_some() {
                return Err(std::io::Error::other("swtpm did not start listening"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // That probe connection was the server's one client for a moment: wait until
        // swtpm has seen it go.
        std::thread::sleep(Duration::from_millis(50));
        Ok(tpm)
    }

    /// The TCTI address the kiosk is configured with.
    #[must_use]
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
