//! What stops the kiosk, with what to do about it.

use crate::orchestrator::StartError;

/// Why the kiosk (or its demo) could not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    /// The async runtime could not start.
    #[error("cannot start the kiosk's runtime ({0}); the board may be out of memory or threads: restart it")]
    Runtime(#[source] std::io::Error),
    /// A driver could not start (the config names a device or file that is not there).
    #[error(transparent)]
    Start(#[from] StartError),
    /// The event loop ended with a panic.
    #[error(
        "the kiosk's event loop stopped unexpectedly ({0}); systemd restarts the kiosk, and the journal keeps every loan"
    )]
    EventLoop(#[source] tokio::task::JoinError),
    /// The screen (KMS/DRM on the board, a window on a desktop) could not be opened or
    /// stopped working.
    #[error(
        "the screen failed ({0}); check that the display is connected and that no other program holds it"
    )]
    Screen(#[source] kiosk_ui::slint::PlatformError),
    /// This build has no screen back-end.
    #[error(
        "this build has no screen back-end: build with --features board (or desktop), or run with --headless"
    )]
    NoScreen,
    /// The headless renderer (tests, the control protocol, the scripted demo) failed.
    #[error("the headless renderer failed: {0}")]
    Headless(#[from] kiosk_ui::headless::ShotError),
    /// A thread could not be started.
    #[error("cannot start the {what} thread ({source}); the board may be out of memory: restart it")]
    Thread {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The demo's simulated devices could not be made.
    #[error("the demo's simulated devices cannot start: {0}")]
    DemoDevices(String),
    /// The demo's output folder or output could not be written.
    #[error("the demo cannot write {what} ({source})")]
    DemoOutput {
        what: String,
        #[source]
        source: std::io::Error,
    },
}
