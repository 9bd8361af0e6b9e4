//! Logging: `tracing` to journald when the kiosk runs under systemd, to stderr otherwise,
//! and the one place that decides which fields may be logged.
//!
//! Personal data is kept out of logs in two layers:
//! 1. by type: [`kiosk_core::flow::Pin`], [`kiosk_core::flow::PatronId`] and the config's secrets
//!    print only a redacted form with `{:?}` and have no `Display`;
//! 2. by field name: an event with a field named like personal data ([`FORBIDDEN_FIELDS`])
//!    is not written at all; a warning naming the source line is written instead, so the
//!    mistake is found and fixed rather than shipped.

use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Field names that may carry personal data and so never reach a log.
pub const FORBIDDEN_FIELDS: &[&str] = &[
    "pin",
    "staff_pin",
    "serial",
    "certificate",
    "cert",
    "card_number",
    "patron",
    "patron_id",
    "patron_barcode",
    "name",
    "title",
    "titles",
    "password",
    "my_number",
];

/// May a field with this name be logged?
#[must_use]
pub fn field_allowed(name: &str) -> bool {
    !FORBIDDEN_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// May this event or span be logged at all?
#[must_use]
pub fn metadata_allowed(meta: &Metadata<'_>) -> bool {
    meta.fields().iter().all(|f| field_allowed(f.name()))
}

/// Writes a warning for each event the privacy filter drops.
struct DroppedEventWarning;

impl<S: Subscriber> Layer<S> for DroppedEventWarning {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !metadata_allowed(meta) {
            eprintln!(
                "kiosk: a log event at {}:{} was dropped: it has a field that may hold personal data",
                meta.file().unwrap_or("?"),
                meta.line().unwrap_or(0)
            );
        }
    }
}

/// Where log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    Journald,
    Stderr,
}

/// Installs the global subscriber. The level comes from `KIOSK_LOG` (e.g. `debug`,
/// `kiosk=trace`), default `info`. Returns where logs go.
pub fn init() -> Sink {
    let filter = || EnvFilter::try_from_env("KIOSK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let privacy = || filter_fn(metadata_allowed);
    // Under systemd, stderr is already a journal stream; the native protocol keeps fields.
    let journald = std::env::var_os("JOURNAL_STREAM").and_then(|_| tracing_journald::layer().ok());
    let registry = tracing_subscriber::registry().with(DroppedEventWarning);
    match journald {
        Some(layer) => {
            let _already = registry.with(layer.with_filter(privacy()).with_filter(filter())).try_init();
            Sink::Journald
        }
        None => {
            // Colours only on a terminal: a log file or a pipe gets plain text.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_ansi(ansi);
            let _already = registry.with(fmt.with_filter(privacy()).with_filter(filter())).try_init();
            Sink::Stderr
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn personal_fields_are_never_written() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let fmt = tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).with_ansi(false);
        let subscriber = tracing_subscriber::registry().with(fmt.with_filter(filter_fn(metadata_allowed)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(tries_left = 2, "wrong PIN");
            tracing::info!(pin = "1234", "must not appear");
            tracing::info!(serial = "0A1B2C", "must not appear");
            tracing::info!(patron_id = "2300012345678", "must not appear");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("wrong PIN"), "{text}");
        for secret in ["1234", "0A1B2C", "2300012345678", "must not appear"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn field_policy() {
        assert!(field_allowed("tries_left"));
        assert!(field_allowed("message"));
        assert!(!field_allowed("PIN"));
        assert!(!field_allowed("serial"));
        assert!(!field_allowed("title"));
    }
}
