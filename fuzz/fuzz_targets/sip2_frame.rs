#![no_main]
//! SIP2 from the library system: the byte stream cut into frames (bounded length), each
//! frame's checksum and sequence number, and every message decoder, in UTF-8 and
//! Shift_JIS (CP932), with and without a required checksum. Never panics; a decoded
//! message encodes again.

use kiosk_ils::codec::{DecodeOptions, FrameBuffer};
use kiosk_ils::{Charset, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, stream)) = data.split_first() else { return };
    let charset = if mode & 1 == 0 { Charset::Utf8 } else { Charset::Cp932 };
    let opts = DecodeOptions { charset, require_checksum: mode & 2 != 0 };
    let mut frames = FrameBuffer::new(4096);
    // Fed in pieces, as a socket delivers it.
    for piece in stream.chunks(usize::from(mode >> 2).max(1)) {
        frames.extend(piece);
        while let Ok(Some(frame)) = frames.next_frame() {
            assert!(frame.len() <= 4096);
            if let Ok(decoded) = Message::decode(&frame, opts) {
                let _ = decoded.message.encode(decoded.seq, charset, opts.require_checksum);
            }
        }
    }
});
