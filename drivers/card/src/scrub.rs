//! Card data must not rest on a thread's stack after use. The zeroing allocator clears the
//! heap when a buffer is freed, and secrets are `Zeroizing`, but a function that copied a
//! response or a certificate into a local leaves those bytes in its stack frame when it
//! returns, until a later call happens to overwrite them. A thread that handled card
//! data therefore scrubs its stack: [`scrub_stack`] zeroes the `SCRUB_BYTES` below the
//! caller's frame, where the frames of the calls it made were.
//!
//! [`stack_holds`] reads a thread's stack through `/proc/self/mem` (no `unsafe`), for the
//! tests that show nothing is left.

use std::io::{Read, Seek, SeekFrom};

use zeroize::Zeroize;

/// How deep below the caller [`scrub_stack`] zeroes. The card worker's deepest call (a
/// certificate read through PC/SC and its parse) uses well under this.
pub const SCRUB_BYTES: usize = 256 * 1024;

/// Zeroes [`SCRUB_BYTES`] of this thread's stack below the caller's frame. Call it where
/// the stack is shallow (a worker's loop, between commands). Never inlined, so its frame
/// is below the caller's.
#[inline(never)]
pub fn scrub_stack() {
    scrub::<{ SCRUB_BYTES / 8 }>();
}

/// [`scrub_stack`] for `WORDS` × 8 bytes (an idle tokio worker scrubs less).
#[inline(never)]
pub fn scrub<const WORDS: usize>() {
    let mut area = [0u64; WORDS];
    // Volatile writes: the compiler may not drop them as dead stores.
    area.zeroize();
    std::hint::black_box(&area);
}

/// An address in the caller's stack frame (more exactly, just below it): where a scan of
/// a thread's stack starts. For tests.
#[inline(never)]
pub fn stack_position() -> usize {
    let here = 0u8;
    std::hint::black_box(&here) as *const u8 as usize
}

/// Whether `needle` occurs in this process's memory in the `depth` bytes below `top` (a
/// [`stack_position`] of the thread to look at), read through `/proc/self/mem`. Call it
/// from another thread while that one waits, so the scan does not disturb what it looks
/// at. For tests.
///
/// # Errors
/// `/proc/self/mem` cannot be read there.
pub fn stack_holds(needle: &[u8], top: usize, depth: usize) -> std::io::Result<bool> {
    let start = top.saturating_sub(depth);
    let mut memory = vec![0u8; top - start];
    let mut mem = std::fs::File::open("/proc/self/mem")?;
    mem.seek(SeekFrom::Start(start as u64))?;
    mem.read_exact(&mut memory)?;
    Ok(!needle.is_empty() && memory.windows(needle.len()).any(|w| w == needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    const NEEDLE: &[u8] = b"\x02\x10card-serial-0001";

    /// Leaves a copy of `NEEDLE` deep in a returned frame (16 KiB down), as a parser with a
    /// large local buffer would.
    #[inline(never)]
    fn leave_a_copy() {
        let mut local = [0u8; 16 * 1024];
        local[64..64 + NEEDLE.len()].copy_from_slice(std::hint::black_box(NEEDLE));
        std::hint::black_box(&local);
    }

    #[test]
    fn a_copy_left_in_a_returned_frame_is_found_and_then_scrubbed() {
        let (to_test, from_worker) = channel();
        let (to_worker, from_test) = channel::<()>();
        let worker = std::thread::spawn(move || {
            let top = stack_position();
            leave_a_copy();
            to_test.send(top).unwrap();
            from_test.recv().unwrap();
            scrub_stack();
            to_test.send(top).unwrap();
            from_test.recv().unwrap();
        });
        let top = from_worker.recv().unwrap();
        let before = stack_holds(NEEDLE, top, 64 * 1024).unwrap();
        to_worker.send(()).unwrap();
        let top = from_worker.recv().unwrap();
        let after = stack_holds(NEEDLE, top, 64 * 1024).unwrap();
        to_worker.send(()).unwrap();
        worker.join().unwrap();
        assert_eq!((before, after), (true, false), "(left before the scrub, left after)");
    }
}
