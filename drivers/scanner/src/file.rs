//! Scans as lines of a file or a FIFO: for the end-to-end tests and the demo
//! (`echo 2012345678901 > /run/kiosk/scanner.fifo`).

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::ScannerError;
use crate::line::{LineAssembler, LineConfig, Terminator};
use crate::poll::{Readiness, wait_readable};
use crate::scanner::Scanner;

/// One scan per line (LF or CR LF) of a FIFO or a regular file.
///
/// - A FIFO is opened for reading *and* writing, so opening does not wait for a writer
///   and the scanner never sees an end of file: writers may come and go (`echo … >`
///   once per scan).
/// - A regular file is read to its end (a last line without a newline counts); after
///   that, [`ScannerError::Ended`].
/// - Lines longer than the maximum are refused as with a real scanner.
#[derive(Debug)]
pub struct LineFileScanner {
    file: File,
    path: PathBuf,
    lines: LineAssembler,
    pending: VecDeque<Result<String, ScannerError>>,
    ended: bool,
}

impl LineFileScanner {
    /// Opens `path`; scans longer than `max_len` characters are refused.
    ///
    /// # Errors
    /// [`ScannerError::Open`] naming the path.
    pub fn open(path: impl AsRef<Path>, max_len: usize) -> Result<LineFileScanner, ScannerError> {
        let path = path.as_ref().to_owned();
        let open_err = |source| ScannerError::Open { path: path.clone(), source };
        let fifo = std::fs::metadata(&path).map_err(open_err)?.file_type().is_fifo();
        let file = OpenOptions::new().read(true).write(fifo).open(&path).map_err(open_err)?;
        let config = LineConfig { terminator: Terminator::Enter, max_len, idle_gap: None };
        Ok(LineFileScanner {
            file,
            path,
            lines: LineAssembler::new(config),
            pending: VecDeque::new(),
            ended: false,
        })
    }

    fn device(&self) -> String {
        self.path.display().to_string()
    }
}

impl Scanner for LineFileScanner {
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 512];
        loop {
            if let Some(r) = self.pending.pop_front() {
                return r.map(Some);
            }
            if self.ended {
                return Err(ScannerError::Ended { device: self.device() });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let io_err = |source| ScannerError::Io { device: self.path.display().to_string(), source };
            match wait_readable(self.file.as_fd(), left).map_err(io_err)? {
                Readiness::Readable | Readiness::Hangup => {}
                Readiness::TimedOut if Instant::now() >= deadline => return Ok(None),
                Readiness::TimedOut => continue,
            }
            let now = Instant::now();
            match self.file.read(&mut buf) {
                Ok(0) => {
                    // End of a regular file: a last line without its newline still counts.
                    self.pending
                        .extend(self.lines.push_bytes(b"\n", now).into_iter().map(|r| r.map_err(Into::into)));
                    self.ended = true;
                }
                Ok(n) => {
                    let results = self.lines.push_bytes(&buf[..n], now);
                    self.pending.extend(results.into_iter().map(|r| r.map_err(ScannerError::from)));
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) => {}
                Err(source) => return Err(ScannerError::Io { device: self.device(), source }),
            }
        }
    }
}
