//! End-to-end tests of the `kiosk` binary live in `tests/`; this crate has no code of its own.
