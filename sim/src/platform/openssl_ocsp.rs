//! Debian's `openssl ocsp` as an independent OCSP responder: over an `openssl ca`
//! database (`index.txt`) in a directory, listening on a port the kernel picks (`-port
//! 0`, read back from its "ACCEPT" line), killed by PID when dropped.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use rsa::pkcs8::{EncodePrivateKey, LineEnding};

use crate::card::pki::TestPki;

/// A running `openssl ocsp`.
#[derive(Debug)]
pub struct Responder {
    child: Child,
    port: u16,
}

impl Responder {
    /// Starts `openssl ocsp -index index.txt -rsigner <signer_crt> -rkey <signer_key> -CA
    /// <ca_crt>` in `dir`, answers valid for 60 minutes, with `extra` arguments.
    pub fn start(
        dir: &Path,
        signer_crt: &str,
        signer_key: &str,
        ca_crt: &str,
        extra: &[&str],
    ) -> io::Result<Responder> {
        let mut args = vec![
            "ocsp",
            "-index",
            "index.txt",
            "-port",
            "0",
            "-rsigner",
            signer_crt,
            "-rkey",
            signer_key,
            "-CA",
            ca_crt,
            "-nmin",
            "60",
        ];
        args.extend_from_slice(extra);
        let mut child = Command::new("openssl")
            .args(&args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        // "ACCEPT [::]:PORT PID=N" once it listens.
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let port =
            line.split_whitespace().nth(1).and_then(|a| a.rsplit(':').next()).and_then(|p| p.parse().ok());
        match port {
            Some(port) => Ok(Responder { child, port }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other(format!("unexpected responder output {line:?}")))
            }
        }
    }

    /// For the JPKI test CA: writes its certificate and key and an `index.txt` listing
    /// `good` serials as valid into `dir`, and starts a responder the CA signs for itself.
    pub fn for_test_ca(dir: &Path, pki: &TestPki, good: &[&[u8]]) -> io::Result<Responder> {
        std::fs::create_dir_all(dir)?;
        let pem = |label: &str, der: &[u8]| {
            let b64 = base64_lines(der);
            format!("-----BEGIN {label}-----\n{b64}-----END {label}-----\n")
        };
        std::fs::write(dir.join("jpki-ca.crt"), pem("CERTIFICATE", &pki.ca_cert_der))?;
        let key = pki.ca_key.to_pkcs8_pem(LineEnding::LF).map_err(|e| io::Error::other(e.to_string()))?;
        std::fs::write(dir.join("jpki-ca.key"), key.as_bytes())?;
        let mut index = std::fs::File::create(dir.join("index.txt"))?;
        for serial in good {
            let hex: String = serial.iter().map(|b| format!("{b:02X}")).collect();
            writeln!(index, "V\t991231235959Z\t\t{hex}\tunknown\t/C=JP/CN=card")?;
        }
        drop(index);
        Responder::start(dir, "jpki-ca.crt", "jpki-ca.key", "jpki-ca.crt", &[])
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn base64_lines(der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    text.as_bytes().chunks(64).map(|c| format!("{}\n", String::from_utf8_lossy(c))).collect()
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
