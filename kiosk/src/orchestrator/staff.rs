//! The staff menu's work: what the staff's actions do beyond the flow (reset the card,
//! test print, check the devices, register the terminal, ask the update agent), the staff
//! PIN's check off the event loop, the device rows of the status page, the pages that
//! read files (update status, registration), and the update agent's busy file.

use std::time::Instant;

use kiosk_core::flow::{AdminAction, StaffPin};
use kiosk_printer::{Receipt, compose_receipt};
use kiosk_ui::{Device, DeviceState, RegistrationPhase, RegistrationView, Scene, status_row};

use super::card::CardCommand;
use super::{Input, Orchestrator, drivers, registration};

/// The Registration page's line while or after staff register the terminal.
fn note(phase: RegistrationPhase, detail: String) -> RegistrationView {
    RegistrationView { phase, date: String::new(), detail }
}

/// Milliseconds since `started`, for a status line.
fn millis(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// A timeout in whole seconds, for a status line.
fn secs(d: std::time::Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// The admin screen's device rows.
#[derive(Debug, Clone)]
pub(super) struct DeviceStatus {
    rows: Vec<kiosk_ui::StatusRow>,
}

impl DeviceStatus {
    /// The rows this kiosk has: a counter has the USB keyboard instead of the library
    /// system (it hands numbers over through the counter PC, not SIP2).
    pub(super) fn new(counter: bool) -> DeviceStatus {
        use Device::{Keyboard, LibrarySystem, Network, Platform, Printer, Reader, Update};
        let own = if counter { Keyboard } else { LibrarySystem };
        let rows = [Reader, Printer, Platform, own, Network]
            .into_iter()
            .map(|d| kiosk_ui::status_row(d, DeviceState::Starting, 0, ""))
            .chain([kiosk_ui::status_row(Update, DeviceState::Ready, 0, "")])
            .collect();
        DeviceStatus { rows }
    }

    /// Replaces the device's row; the shared link store's row, which only a kiosk
    /// following one has, first comes in below the platform's.
    pub(super) fn set(&mut self, row: kiosk_ui::StatusRow) {
        if let Some(r) = self.rows.iter_mut().find(|r| r.device == row.device) {
            *r = row;
        } else if row.device == Device::OfflineLoans {
            let at = self
                .rows
                .iter()
                .position(|r| r.device == Device::LibrarySystem)
                .map_or(self.rows.len(), |i| i + 1);
            self.rows.insert(at, row);
        } else if matches!(row.device, Device::RfidPad | Device::Desensitizer) {
            // The pad or the desensitizer, where the kiosk has one: after the card reader.
            let at = self.rows.iter().position(|r| r.device == Device::Reader).map_or(0, |i| i + 1);
            self.rows.insert(at, row);
        } else if row.device == Device::LinkStore {
            let at = self
                .rows
                .iter()
                .position(|r| r.device == Device::Platform)
                .map_or(self.rows.len(), |i| i + 1);
            self.rows.insert(at, row);
        } else if row.device == Device::Keypad {
            // Beside the card reader: the patron's other way in.
            let at = self.rows.iter().position(|r| r.device == Device::Reader).map_or(0, |i| i + 1);
            self.rows.insert(at, row);
        } else if row.device == Device::Sound {
            // Below the network, above the software update.
            let at = self.rows.iter().position(|r| r.device == Device::Update).unwrap_or(self.rows.len());
            self.rows.insert(at, row);
        }
    }

    pub(super) fn scene_rows(&self) -> Vec<kiosk_ui::StatusRow> {
        self.rows.clone()
    }
}

impl Orchestrator {
    /// The staff PIN's hash (argon2, slow on purpose) is checked on a blocking thread, not
    /// on the event loop; the answer comes back as [`Input::StaffPinChecked`].
    pub(super) fn check_staff_pin(&mut self, pin: StaffPin) {
        let hash = self.drivers.config.admin.staff_pin_hash.clone();
        let tx = self.inputs.clone();
        tokio::spawn(async move {
            let ok = super::spawn_scrubbed(move || hash.verify(pin.as_ascii())).await.unwrap_or(false);
            let _ = tx.send(Input::StaffPinChecked(ok));
        });
    }

    pub(super) fn staff(&mut self, action: AdminAction) {
        match action {
            AdminAction::ResetKiosk => {
                self.end_session();
                if let Some(c) = &self.drivers.card {
                    c.send(CardCommand::PowerOff);
                }
            }
            AdminAction::TestPrint => self.test_print(),
            AdminAction::TestSound => self.voice.test_sound(self.console.language()),
            AdminAction::Volume { louder } => {
                self.voice.step_volume(louder);
                self.status.set(self.voice.status());
            }
            AdminAction::RefreshStatus => self.probe(),
            AdminAction::RegisterTerminal => self.register_terminal(),
            AdminAction::CheckForUpdate => self.ask_agent(drivers::AgentRequest::Check),
            AdminAction::InstallUpdateWhenIdle => self.ask_agent(drivers::AgentRequest::Install),
            AdminAction::Reboot => self.ask_agent(drivers::AgentRequest::Reboot),
            AdminAction::ClearOfflineRefusals => {
                if let Some(offline) = self.drivers.offline.clone() {
                    tokio::spawn(async move { offline.clear_refused().await });
                }
            }
            other => tracing::info!(action = ?other, "staff action"),
        }
    }

    /// Leaves a request for the update agent (it runs as root; the kiosk cannot install
    /// or reboot). The update page shows it until the agent takes it.
    pub(super) fn ask_agent(&mut self, request: drivers::AgentRequest) {
        let path = &self.drivers.update_request;
        match drivers::ask_agent(path, request) {
            Ok(()) => tracing::info!(?request, "asked the update agent"),
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "the request for the update agent could not be written");
            }
        }
    }

    /// Registers the terminal at the platform (see [`registration`]); on success the new
    /// certificate is used from the next card on, without a restart.
    pub(super) fn register_terminal(&mut self) {
        if self.registering {
            return;
        }
        let config = self.drivers.config.clone();
        if !matches!(config.platform, crate::config::Platform::Api { .. }) {
            self.registration_note = None;
            return;
        }
        self.registering = true;
        self.registration_note = Some(note(RegistrationPhase::Registering, String::new()));
        let tx = self.inputs.clone();
        tokio::spawn(async move {
            let result = match registration::register(&config).await {
                Ok(()) => match drivers::rebuild_platform(&config) {
                    Ok(Some(platform)) => Ok(drivers::NewPlatform(platform)),
                    Ok(None) => Err(note(
                        RegistrationPhase::RegisteredRestart,
                        "no platform back-end was built".to_owned(),
                    )),
                    Err(e) => Err(note(RegistrationPhase::RegisteredRestart, e.to_string())),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "terminal registration failed");
                    Err(note(RegistrationPhase::Failed, format!("{e}. {}", e.advice())))
                }
            };
            let input = Input::Registered(result);
            let _ = tx.send(input);
        });
    }

    /// Checks the platform, the library system and the network for the admin screen
    /// (at start, and when staff open the status page). Nothing about patrons is sent.
    pub(super) fn probe(&mut self) {
        let (ok, detail) = drivers::network_state();
        let state = if ok { DeviceState::Ready } else { DeviceState::NotWorking };
        self.status.set(status_row(Device::Network, state, 0, &detail));
        if let Some(c) = &self.drivers.counter {
            let row = match drivers::keyboard_state(c) {
                Ok(d) => status_row(Device::Keyboard, DeviceState::Ready, 0, &d),
                Err(d) => status_row(Device::Keyboard, DeviceState::NotWorking, 0, &d),
            };
            self.status.set(row);
        }
        let tx = self.inputs.clone();
        let (platform, library, timeout) =
            (self.drivers.platform.clone(), self.drivers.library.clone(), self.drivers.timeout);
        tokio::spawn(async move {
            let started = Instant::now();
            let row = match &platform {
                Some(p) => match tokio::time::timeout(timeout, p.challenge()).await {
                    Ok(Ok(_)) => status_row(Device::Platform, DeviceState::Answers, millis(started), ""),
                    Ok(Err(e)) => status_row(Device::Platform, DeviceState::NotWorking, 0, &e.to_string()),
                    Err(_) => status_row(Device::Platform, DeviceState::NoAnswer, secs(timeout), ""),
                },
                None => status_row(Device::Platform, DeviceState::NotConfigured, 0, ""),
            };
            let _ = tx.send(Input::Status(row));
            let started = Instant::now();
            let row = match &library {
                Some(l) => match tokio::time::timeout(timeout, drivers::library_state(l)).await {
                    Ok(Ok(s)) => status_row(Device::LibrarySystem, DeviceState::Answers, millis(started), &s),
                    Ok(Err(e)) => status_row(Device::LibrarySystem, DeviceState::NotWorking, 0, &e),
                    Err(_) => status_row(Device::LibrarySystem, DeviceState::NoAnswer, secs(timeout), ""),
                },
                None => status_row(Device::LibrarySystem, DeviceState::NotConfigured, 0, ""),
            };
            let _ = tx.send(Input::Status(row));
        });
    }

    /// A receipt with no loans, from the staff menu. Its result is the printer's line on
    /// the status page (a failure says why there, not only in the log).
    pub(super) fn test_print(&mut self) {
        let Some(printer) = self.drivers.printer.clone() else {
            self.status.set(status_row(Device::Printer, DeviceState::NotConfigured, 0, ""));
            return;
        };
        let settings = self.drivers.job_settings.clone();
        let tx = self.inputs.clone();
        // In the language the staff menu is in.
        let words = super::printing::receipt_words(self.console.language(), 0, 0, 0);
        tokio::spawn(async move {
            let (_, now_text) = crate::clock::local_now();
            let receipt = Receipt {
                printed_at: now_text,
                lines: Vec::new(),
                refused: Vec::new(),
                patron: None,
                summary: Vec::new(),
            };
            let result = match compose_receipt(&settings, &receipt, &words) {
                Ok(job) => printer.print(job).await,
                Err(e) => Err(e),
            };
            // A test print that came out leaves the printer's health line as the printer
            // reports it (the paper is the answer); a failure says why there, until the
            // printer's next report.
            if let Err(e) = result {
                tracing::warn!(error = %e, "test print failed");
                let row = status_row(Device::Printer, DeviceState::TestPrintFailed, 0, &e.to_string());
                let _ = tx.send(Input::Status(row));
            }
        });
    }

    /// Keeps the update agent's busy file in step with the flow: present while a patron
    /// (or staff linking a card) is in a session, so no update installs or reboots then.
    pub(super) fn mark_busy(&mut self) {
        let busy = !self.console.flow().is_idle();
        if busy == self.busy_marked {
            return;
        }
        let path = &self.drivers.busy_file;
        let result = if busy { std::fs::write(path, b"session\n") } else { std::fs::remove_file(path) };
        match result {
            Ok(()) => self.busy_marked = busy,
            Err(e) if !busy && e.kind() == std::io::ErrorKind::NotFound => self.busy_marked = false,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "the update agent's busy file could not be written");
                // Not retried on every scene: the next change tries again.
                self.busy_marked = busy;
            }
        }
    }

    /// The management endpoint's view of the kiosk: the status page's devices, the
    /// screen, the queues.
    pub(super) fn publish_health(&self, scene: &Scene) {
        use kiosk_ui::{Device, DeviceState, Screen};
        let devices = scene
            .status_rows
            .iter()
            .filter(|r| r.state != DeviceState::NotConfigured)
            .filter_map(|r| {
                let name = match r.device {
                    Device::Reader => "reader",
                    Device::Printer => "printer",
                    Device::Platform => "platform",
                    Device::LibrarySystem => "library_system",
                    Device::Network => "network",
                    Device::Update => "update",
                    Device::Keyboard => "keyboard",
                    Device::LinkStore => "link_store",
                    Device::RfidPad => "rfid_pad",
                    Device::Desensitizer => "desensitizer",
                    Device::Sound => "sound",
                    Device::Keypad => "keypad",
                    // Its own gauges (waiting, refused).
                    Device::OfflineLoans => return None,
                };
                Some((name, r.state.ok()))
            })
            .collect();
        let printer =
            |state| scene.status_rows.iter().any(|r| r.device == Device::Printer && r.state == state);
        let health = crate::metrics::Health {
            in_service: !scene.out_of_service_on && scene.screen != Screen::Starting,
            staff_call: scene.staff_called,
            devices,
            paper_out: printer(DeviceState::PaperOut),
            paper_low: printer(DeviceState::PaperLow),
            journal_backlog: self.journal_backlog,
            offline_waiting: self.offline_waiting,
            offline_refused: self.offline_refused.len(),
        };
        self.health.send_if_modified(|h| {
            let changed = *h != health;
            if changed {
                *h = health;
            }
            changed
        });
    }

    /// The staff menu's pages that read files, filled in while staff look at them (a
    /// small file on a tmpfs; the registration page's hardware identifiers once per
    /// visit). Leaving the menu forgets them.
    pub(super) fn admin_pages(&mut self, scene: &mut Scene) {
        if scene.screen == kiosk_ui::Screen::AdminMenu {
            if scene.admin_page == kiosk_ui::AdminPage::Usage {
                let address = csv_address(self.drivers.config.metrics.as_ref());
                scene.usage = self.drivers.usage.view(&crate::usage::last_days(14), &address);
            }
            scene.update = drivers::update_page(&self.drivers.update_status, &self.drivers.update_request);
            if scene.admin_page == kiosk_ui::AdminPage::Registration {
                let view = self.terminal_view.get_or_insert_with(|| registration::view(&self.drivers.config));
                scene.terminal_id.clone_from(&view.id);
                scene.terminal_fingerprint.clone_from(&view.fingerprint);
                scene.registration = self.registration_note.clone().unwrap_or_else(|| view.state.clone());
            }
        } else {
            self.terminal_view = None;
            if !self.registering {
                self.registration_note = None;
            }
        }
    }
}

/// Where IT downloads the CSV: the endpoint's address, or this kiosk's host name when
/// it listens on every address ("" when the endpoint is off).
fn csv_address(metrics: Option<&crate::config::Metrics>) -> String {
    let Some(m) = metrics else { return String::new() };
    if !m.listen.ip().is_unspecified() {
        return format!("https://{}/usage.csv", m.listen);
    }
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map_or_else(|_| "kiosk".to_owned(), |h| h.trim().to_owned())
    });
    format!("https://{host}:{}/usage.csv", m.listen.port())
}
