//! Bundle download: into `<dir>/<name>.part`, resumed with an HTTP Range request after a
//! cut connection (or restarted cleanly when the server ignores Range), then checked for
//! size and hash before it is renamed. A bundle that fails the hash is deleted, never
//! handed to RAUC. A full data partition is its own error, so the admin screen and the
//! server can say so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha1::Digest;

use crate::ddi::{Artifact, Ddi};

/// Where bundles come from: builds the GET request for a URL (with whatever
/// authorization the source needs).
pub trait Source {
    /// A GET request for `url`.
    fn get(&self, url: &str) -> reqwest::RequestBuilder;
}

impl Source for Ddi {
    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.authorize(self.http().get(url))
    }
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The data partition is full.
    #[error(
        "the data partition is full: the bundle needs {needed} bytes in {dir}; free space there \
         (old logs, leftover downloads) and assign the update again"
    )]
    DiskFull {
        /// The bundle's size.
        needed: u64,
        /// The download directory.
        dir: PathBuf,
    },
    /// The bytes do not match the server's hash.
    #[error(
        "the downloaded bundle does not match the server's {algorithm} (announced {expected}, \
         received {actual}); it was deleted. Check the artifact stored on the server"
    )]
    HashMismatch {
        /// `sha256` or `sha1`.
        algorithm: &'static str,
        /// What the server announced.
        expected: String,
        /// What arrived.
        actual: String,
    },
    /// The file is not the announced size.
    #[error(
        "the downloaded bundle has {actual} bytes, the server announced {expected}; it was \
         deleted. Check the artifact stored on the server"
    )]
    SizeMismatch {
        /// What the server announced.
        expected: u64,
        /// What arrived.
        actual: u64,
    },
    /// More bytes than announced.
    #[error("the server sent more than the announced {0} bytes; check the artifact stored on the server")]
    TooLong(u64),
    /// The deployment gives no hash to check against.
    #[error("the server gave no sha256 or sha1 for the bundle; refusing to install an unchecked download")]
    NoHash,
    /// The server refused the download itself (4xx).
    #[error("the server answered HTTP {0} to the bundle download; check the deployment and the artifact")]
    Refused(u16),
    /// Gave up after the configured attempts (network or server down); the partial file is
    /// kept and the next poll resumes it.
    #[error("download interrupted {attempts} times, last: {last}; it resumes at the next poll")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// Another local file error.
    #[error("cannot write the bundle to {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io_err(e: std::io::Error, path: &Path, needed: u64) -> DownloadError {
    // ENOSPC (28) or EDQUOT (122).
    if matches!(e.raw_os_error(), Some(28) | Some(122)) || e.kind() == std::io::ErrorKind::StorageFull {
        let dir = path.parent().unwrap_or(path).to_path_buf();
        DownloadError::DiskFull { needed, dir }
    } else {
        DownloadError::Io { path: path.to_path_buf(), source: e }
    }
}

/// One attempt's failure: retry (resume) or stop.
enum Attempt {
    Retry(String),
    Fatal(DownloadError),
}

/// Downloads `artifact` into `dir`, calling `progress(bytes_so_far, total)`.
pub async fn fetch(
    ddi: &impl Source,
    artifact: &Artifact,
    dir: &Path,
    attempts: u32,
    mut progress: impl FnMut(u64, u64),
) -> Result<PathBuf, DownloadError> {
    let needed = artifact.size;
    std::fs::create_dir_all(dir).map_err(|e| io_err(e, &dir.join("."), needed))?;
    let name: String = artifact
        .filename
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
        .collect();
    let part = dir.join(format!("{name}.part"));
    let done = dir.join(&name);
    // A bundle downloaded and checked by an earlier cycle (deferred before installing).
    if done.exists() {
        if verify(artifact, &done).is_ok() {
            return Ok(done);
        }
        let _ = std::fs::remove_file(&done);
    }
    let mut last = String::new();
    let attempts = attempts.max(1);
    for attempt in 1..=attempts {
        match one_attempt(ddi, artifact, &part, &mut progress).await {
            Ok(()) => {
                verify(artifact, &part)?;
                std::fs::rename(&part, &done).map_err(|e| io_err(e, &done, needed))?;
                return Ok(done);
            }
            Err(Attempt::Fatal(e)) => {
                let _ = std::fs::remove_file(&part);
                return Err(e);
            }
            Err(Attempt::Retry(why)) => {
                tracing::warn!(attempt, attempts, error = %why, "download interrupted; will resume");
                last = why;
                if attempt < attempts {
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                }
            }
        }
    }
    Err(DownloadError::GaveUp { attempts, last })
}

async fn one_attempt(
    ddi: &impl Source,
    artifact: &Artifact,
    part: &Path,
    progress: &mut impl FnMut(u64, u64),
) -> Result<(), Attempt> {
    let total = artifact.size;
    let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if have == total && total > 0 {
        return Ok(());
    }
    if have > total {
        let _ = std::fs::remove_file(part);
    }
    let have = have.min(total);
    let mut req = ddi.get(&artifact.url);
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
    }
    let mut resp = req.send().await.map_err(|e| Attempt::Retry(e.to_string()))?;
    let status = resp.status().as_u16();
    let fatal = |e: std::io::Error| Attempt::Fatal(io_err(e, part, total));
    let resumes_at_have = resp
        .headers()
        .get("Content-Range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split_once('-'))
        .and_then(|(start, _)| start.trim().parse::<u64>().ok())
        == Some(have);
    let (mut file, mut written) = match status {
        206 if have > 0 && resumes_at_have => {
            (std::fs::OpenOptions::new().append(true).open(part).map_err(fatal)?, have)
        }
        // A range that does not start where the file ends: start over rather than splice.
        206 => {
            let _ = std::fs::remove_file(part);
            return Err(Attempt::Retry(format!(
                "the server resumed at the wrong offset (have {have} bytes)"
            )));
        }
        // The server ignored Range (or this is the first attempt): start over cleanly.
        200 => (std::fs::File::create(part).map_err(fatal)?, 0),
        // 416: our partial file is longer than the artifact now (it changed); start over.
        416 => {
            let _ = std::fs::remove_file(part);
            return Err(Attempt::Retry("the server refused the resume (416); starting over".into()));
        }
        s if s >= 500 => return Err(Attempt::Retry(format!("the server answered {s}"))),
        s => return Err(Attempt::Fatal(DownloadError::Refused(s))),
    };
    loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => {
                written += bytes.len() as u64;
                if written > total {
                    return Err(Attempt::Fatal(DownloadError::TooLong(total)));
                }
                file.write_all(&bytes).map_err(fatal)?;
                progress(written, total);
            }
            Ok(None) => break,
            Err(e) => {
                file.flush().map_err(fatal)?;
                return Err(Attempt::Retry(format!("connection lost at {written} of {total} bytes: {e}")));
            }
        }
    }
    file.sync_all().map_err(fatal)?;
    if written < total {
        return Err(Attempt::Retry(format!("truncated: {written} of {total} bytes")));
    }
    Ok(())
}

/// Checks the size and the strongest hash the server gave; deletes a file that fails.
fn verify(artifact: &Artifact, path: &Path) -> Result<(), DownloadError> {
    let io = |source| DownloadError::Io { path: path.to_path_buf(), source };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len != artifact.size {
        let _ = std::fs::remove_file(path);
        return Err(DownloadError::SizeMismatch { expected: artifact.size, actual: len });
    }
    let (algorithm, expected, actual) = match (&artifact.sha256, &artifact.sha1) {
        (Some(e), _) => ("sha256", e, hash_file::<sha2::Sha256>(path).map_err(io)?),
        (None, Some(e)) => ("sha1", e, hash_file::<sha1::Sha1>(path).map_err(io)?),
        (None, None) => return Err(DownloadError::NoHash),
    };
    if &actual != expected {
        let _ = std::fs::remove_file(path);
        return Err(DownloadError::HashMismatch { algorithm, expected: expected.clone(), actual });
    }
    Ok(())
}

fn hash_file<D: Digest>(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut d = D::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        d.update(&buf[..n]);
    }
    Ok(d.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
