//! From the configuration to the flow's policies: the one place the two meet, so the
//! flow never depends on the config parser.

use std::time::Duration;

use super::{Config, MethodD, OfflinePolicy};
use kiosk_core::flow::{AdminPolicy, SessionPolicy};

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
            allow_library_card: self.card.allow_library_card && self.mode.counter().is_none(),
            allow_method_d_login: accept && self.mode.counter().is_none(),
            offer_method_d_print: print,
            // The config's idle timeout is when the session ends; the flow counts the
            // quiet time before the warning, then the warning.
            idle_timeout: t.idle_timeout().saturating_sub(t.warning()),
            warning: t.warning(),
            pin_idle_timeout: t.pin_idle_timeout(),
            take_card_alarm: t.take_card_alarm(),
            counter: self.mode.counter().map(|c| kiosk_core::flow::CounterPolicy {
                check_validity: c.check_revocation,
                methods: c
                    .methods
                    .iter()
                    .map(|m| match m {
                        super::HandOffMethod::Digits => kiosk_core::flow::HandOff::Digits,
                        super::HandOffMethod::Barcode => kiosk_core::flow::HandOff::Barcode,
                        super::HandOffMethod::Keyboard => kiosk_core::flow::HandOff::Keyboard,
                        super::HandOffMethod::Label => kiosk_core::flow::HandOff::Label,
                    })
                    .collect(),
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
        use kiosk_printer::{CheckDigit as C, Guard as G, Symbology as S};
        let guard = |g: super::Nw7Guard| match g {
            super::Nw7Guard::A => G::A,
            super::Nw7Guard::B => G::B,
            super::Nw7Guard::C => G::C,
            super::Nw7Guard::D => G::D,
        };
        let check = match self.printer.check_digit {
            super::CheckDigit::None => C::None,
            super::CheckDigit::Mod10W21 => C::Mod10W21,
            super::CheckDigit::Mod11 => C::Mod11,
            super::CheckDigit::Mod16 => C::Mod16,
            super::CheckDigit::Mod7 => C::Mod7,
        };
        kiosk_printer::JobSettings {
            library_name: self.library.name.clone(),
            kiosk_id: self.library.kiosk_id.to_string(),
            paper: match self.printer.paper_width {
                super::PaperWidth::Mm58 => kiosk_printer::PaperWidth::Mm58,
                super::PaperWidth::Mm80 => kiosk_printer::PaperWidth::Mm80,
            },
            symbology: match self.printer.barcode {
                super::Barcode::Nw7 { start, stop } => {
                    S::Nw7 { start: guard(start), stop: guard(stop), check }
                }
                super::Barcode::Code128 => S::Code128 { check },
            },
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

impl super::Platform {
    /// What to do when the validity check cannot be made (simulated: refuse).
    #[must_use]
    pub fn offline_policy(&self) -> OfflinePolicy {
        match self {
            super::Platform::Api { endpoint, .. }
            | super::Platform::Ocsp { endpoint, .. }
            | super::Platform::Crl { endpoint, .. } => endpoint.offline_policy,
            super::Platform::Simulated => OfflinePolicy::Refuse,
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
