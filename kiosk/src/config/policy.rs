//! From the configuration to the flow's policies: the one place the two meet, so the
//! flow never depends on the config parser.

use std::time::Duration;

use super::{Config, MethodD};
use kiosk_core::flow::{AdminPolicy, LibraryCardLogin, OfflinePolicy, SessionPolicy};

impl Config {
    /// The patron session's policy.
    #[must_use]
    pub fn session_policy(&self) -> SessionPolicy {
        let (print, accept) = match &self.label.method_d {
            MethodD::Off => (false, false),
            MethodD::On { print, accept, .. } => (*print, *accept),
        };
        let t = &self.session;
        SessionPolicy {
            require_pin: self.card.require_pin,
            // At the counter, staff use the library system for library cards and labels.
            library_card_login: if self.mode.counter().is_none() {
                self.card.library_card_login
            } else {
                LibraryCardLogin::Off
            },
            allow_method_d_login: accept && self.mode.counter().is_none(),
            offer_method_d_print: print,
            account: self.library.account_screen && self.mode.counter().is_none(),
            offline: (self.offline.enabled && self.mode.counter().is_none())
                .then_some(OfflinePolicy { library_card_patrons: self.offline.library_card_patrons }),
            returns: self.library.returns && self.mode.counter().is_none(),
            rfid_pad: self.rfid.is_some() && self.mode.counter().is_none(),
            count_check: self.rfid.as_ref().is_some_and(|r| r.count_check),
            // The config's idle timeout is when the session ends; the flow counts the
            // quiet time before the warning, then the warning.
            idle_timeout: t.idle_timeout().saturating_sub(t.warning()),
            warning: t.warning(),
            pin_idle_timeout: t.pin_idle_timeout(),
            take_card_alarm: t.take_card_alarm(),
            counter: self.mode.counter().map(|c| kiosk_core::flow::CounterPolicy {
                check_validity: c.check_revocation,
                methods: c.methods.clone(),
                show_for: c.show_for,
            }),
            ..SessionPolicy::default()
        }
    }

    /// True when no real device or peer is configured: the kiosk then runs as the demo.
    #[must_use]
    pub fn all_simulated(&self) -> bool {
        matches!(self.card.reader, super::CardReader::Simulated)
            && matches!(self.platform, super::Platform::Simulated)
            && matches!(self.ils, super::Ils::Simulated)
            && matches!(
                self.printer.transport,
                super::PrinterTransport::Simulated
                    | super::PrinterTransport::File { .. }
                    | super::PrinterTransport::None
            )
            && !matches!(self.io, super::Io::Gpio(_))
    }

    /// What printed jobs need from the configuration.
    #[must_use]
    pub fn job_settings(&self) -> kiosk_printer::JobSettings {
        kiosk_printer::JobSettings {
            library_name: self.library.name.clone(),
            kiosk_id: self.library.kiosk_id.to_string(),
            paper: self.printer.paper_width,
            symbology: self.printer.symbology,
            label_paper: if self.printer.label_length_mm.is_some() {
                kiosk_printer::LabelPaper::Marked
            } else {
                kiosk_printer::LabelPaper::Continuous
            },
            receipt_shows_patron: self.printer.receipt_shows_patron,
        }
    }

    /// What the console is set up with.
    #[must_use]
    pub fn console_settings(&self) -> kiosk_core::console::ConsoleSettings {
        kiosk_core::console::ConsoleSettings {
            session: self.session_policy(),
            admin: self.admin_policy(),
            library_name: self.library.name.clone(),
            card_name: self.library.card_name.clone().unwrap_or_default(),
            languages: self.library.languages.all().to_vec(),
            furigana: self.library.furigana,
        }
    }

    /// The admin session's policy.
    #[must_use]
    pub fn admin_policy(&self) -> AdminPolicy {
        AdminPolicy {
            lockout_attempts: self.admin.lockout_attempts.get(),
            lockout: self.admin.lockout,
            idle_timeout: Duration::from_secs(120),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_policy_matches_the_flow_defaults() {
        let policy = Config::demo().session_policy();
        assert!(policy.require_pin);
        assert_eq!(policy.idle_timeout + policy.warning, Duration::from_secs(60));
        assert_eq!(Config::demo().admin_policy().lockout_attempts, 5);
    }
}
