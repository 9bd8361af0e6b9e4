//! The UI on a screen: a desktop window (`desktop` feature) or the board's display
//! through KMS with touch (`board` feature). The event loop publishes scenes; a Slint
//! timer applies the newest one; taps go back as inputs.

use kiosk_ui::Scene;
use tokio::sync::{mpsc, watch};

use super::Input;
use crate::error::KioskError;

/// Runs the Slint event loop on this thread until the window closes.
///
/// # Errors
/// No screen back-end in this build, or the window cannot open.
#[cfg(any(feature = "desktop", feature = "board"))]
pub fn serve(
    scenes: watch::Receiver<Scene>,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<(), KioskError> {
    use std::cell::RefCell;
    use std::time::Duration;

    use kiosk_ui::slint::ComponentHandle;

    let ui = kiosk_ui::AppWindow::new().map_err(KioskError::Screen)?;
    kiosk_ui::fit_to_screen(&ui);
    kiosk_ui::apply(&scenes.borrow(), &ui);
    {
        let inputs = inputs.clone();
        kiosk_ui::on_action(&ui, move |a| match a {
            Ok(a) => {
                let _ = inputs.send(Input::Ui(a));
            }
            Err(name) => tracing::error!(button = %name, "a button with no action"),
        });
    }
    let scenes = RefCell::new(scenes);
    let timer = kiosk_ui::slint::Timer::default();
    let weak = ui.as_weak();
    timer.start(kiosk_ui::slint::TimerMode::Repeated, Duration::from_millis(40), move || {
        let Some(ui) = weak.upgrade() else { return };
        // A desktop window learns its size once shown, and may be resized.
        kiosk_ui::fit_to_screen(&ui);
        let mut rx = scenes.borrow_mut();
        if rx.has_changed().unwrap_or(false) {
            kiosk_ui::apply(&rx.borrow_and_update(), &ui);
        }
    });
    ui.run().map_err(KioskError::Screen)
}

/// Without a screen back-end the kiosk runs headless only.
///
/// # Errors
/// Always: this build has no screen.
#[cfg(not(any(feature = "desktop", feature = "board")))]
pub fn serve(
    _scenes: watch::Receiver<Scene>,
    _inputs: &mpsc::UnboundedSender<Input>,
) -> Result<(), KioskError> {
    Err(KioskError::NoScreen)
}
