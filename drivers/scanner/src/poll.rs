//! Waiting for a file descriptor to become readable, with a timeout (poll(2)).

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

/// What poll(2) said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// There is something to read (possibly an end of file or an error).
    Readable,
    /// Nothing within the timeout (or a signal interrupted the wait).
    TimedOut,
    /// The other side hung up or the device went away.
    Hangup,
}

pub(crate) fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<Readiness> {
    // Round up, so a wait of 0.4 ms does not become a busy loop of zero-time polls.
    let ms = timeout.as_nanos().div_ceil(1_000_000);
    let timeout =
        i32::try_from(ms).ok().and_then(|ms| PollTimeout::try_from(ms).ok()).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    match nix::poll::poll(&mut fds, timeout) {
        Ok(0) | Err(Errno::EINTR) => Ok(Readiness::TimedOut),
        Ok(_) => {
            let revents = fds[0].revents().unwrap_or(PollFlags::empty());
            if revents.contains(PollFlags::POLLIN) {
                Ok(Readiness::Readable)
            } else if revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
                Ok(Readiness::Hangup)
            } else {
                Ok(Readiness::TimedOut)
            }
        }
        Err(e) => Err(io::Error::from(e)),
    }
}
