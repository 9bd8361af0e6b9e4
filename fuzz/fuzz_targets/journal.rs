#![no_main]
//! The loan journal read back at start: a file of base64 lines (raw, mode 0), or records
//! sealed with the journal's own key (any other mode: what a crash could leave, whatever
//! the plain text). Never panics; unreadable records are skipped.

use kiosk::journal::Journal;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn journal() -> Option<&'static (Journal, PathBuf)> {
    static J: OnceLock<Option<(Journal, PathBuf)>> = OnceLock::new();
    J.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("kiosk-fuzz-journal-{}", std::process::id())).join("journal");
        let j = Journal::open(&dir).ok()?;
        Some((j, dir))
    })
    .as_ref()
}

const NAME: &str = "1765000000000-1.journal";

fuzz_target!(|data: &[u8]| {
    let Some((journal, dir)) = journal() else { return };
    let Some((&mode, rest)) = data.split_first() else { return };
    let file = dir.join(NAME);
    let bytes = if mode == 0 {
        rest.to_vec()
    } else {
        let mut out = Vec::new();
        for line in rest.split(|&b| b == b'\n') {
            let Ok(sealed) = journal.seal(NAME, &mut line.to_vec()) else { return };
            out.extend_from_slice(sealed.as_bytes());
            out.push(b'\n');
        }
        out
    };
    if std::fs::write(&file, bytes).is_err() {
        return;
    }
    if let Ok(unfinished) = journal.unfinished() {
        for u in unfinished {
            let _ = journal.settle(&u.file);
        }
    }
    let _ = std::fs::remove_file(&file);
});
