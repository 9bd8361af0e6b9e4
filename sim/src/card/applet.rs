//! The card logic: the JPKI AP's file system, PIN counters and signing, per the state model
//! of specs `jpki-card.md` §4.6. Whatever OpenSC's JPKI driver expects of a real card,
//! this must do (the OpenSC peer test is the judge).

use std::collections::BTreeSet;

use kiosk_card::apdu::ParsedCommand;
use kiosk_card::jpki::JPKI_AID;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};

use super::pki::TestPki;

/// ATR of a contactless My Number card as a PC/SC reader synthesises it (specs §1.6).
pub const MY_NUMBER_ATR: [u8; 13] =
    [0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x05, 0xE0, 0xB3, 0x81, 0xA1, 0x00, 0x7F];

const SW_OK: u16 = 0x9000;

const EF_SIGN_CERT: u16 = 0x0001;
const EF_SIGN_CA: u16 = 0x0002;
const EF_TOKEN: u16 = 0x0006;
const EF_CERT_FLAGS: u16 = 0x0008;
const EF_AUTH_CERT: u16 = 0x000A;
const EF_AUTH_CA: u16 = 0x000B;
const EF_AUTH_KEY: u16 = 0x0017;
const EF_AUTH_PIN: u16 = 0x0018;
const EF_SIGN_KEY: u16 = 0x001A;
const EF_SIGN_PIN: u16 = 0x001B;

/// Which application the card carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Application {
    /// The JPKI AP (a My Number card).
    Jpki,
    /// Some other card: every SELECT by name answers `6A 82`.
    Other,
}

/// A response the card garbles on purpose (bad-input tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garble {
    /// Answer with the data only, no status word.
    DropStatusWord,
    /// Cut the whole response to this many bytes.
    Truncate(usize),
}

/// A fault the card injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer `6F 00` to the first command after power-on (myna-card's observation).
    FailFirstCommand,
    /// Answer `6F 00` to everything.
    AlwaysFail,
    /// Garble the response to the `nth` (1-based) command with this INS.
    Garble { ins: u8, nth: usize, how: Garble },
    /// Leave the field in the middle of the `nth` (1-based) command with this INS: no
    /// answer, the connection drops.
    Yank { ins: u8, nth: usize },
}

/// How the virtual card is made.
#[derive(Clone, Debug)]
pub struct CardConfig {
    pub application: Application,
    /// The user-authentication PIN, 4 ASCII digits.
    pub auth_pin: [u8; 4],
    /// Tries left on the user-authentication PIN (0 = blocked, at most 3).
    pub auth_tries: u8,
    /// The signature password (6–16 upper-case alphanumerics).
    pub sign_password: Vec<u8>,
    /// Tries left on the signature password (at most 5).
    pub sign_tries: u8,
    /// Token label, space-padded to 32 bytes.
    pub token_label: String,
    /// Replace the auth certificate file's content (bad-input tests).
    pub auth_cert_file: Option<Vec<u8>>,
    /// Whether SELECT of the JPKI AP clears the verified PINs (unknown on real cards).
    pub select_clears_verified: bool,
    pub faults: Vec<Fault>,
}

impl Default for CardConfig {
    fn default() -> Self {
        CardConfig {
            application: Application::Jpki,
            auth_pin: *b"1234",
            auth_tries: 3,
            sign_password: b"ABC123".to_vec(),
            sign_tries: 5,
            token_label: "JPKIAPICCTOKEN2".to_owned(),
            auth_cert_file: None,
            select_clears_verified: false,
            faults: Vec::new(),
        }
    }
}

/// What the card does with one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Response(Vec<u8>),
    /// The card leaves the field: no response.
    Yank,
}

/// One exchange in the card's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub command: Vec<u8>,
    /// Empty when the card was yanked.
    pub response: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Df {
    None,
    Jpki,
}

/// The virtual JPKI card.
#[derive(Debug)]
pub struct VirtualCard {
    config: CardConfig,
    key: RsaPrivateKey,
    files: Vec<(u16, Vec<u8>)>,
    df: Df,
    ef: Option<u16>,
    verified: BTreeSet<u16>,
    auth_tries: u8,
    sign_tries: u8,
    powered: bool,
    commands_since_power_on: usize,
    ins_counts: [usize; 256],
    log: Vec<Exchange>,
}

impl VirtualCard {
    /// A card with `pki`'s user certificate and key.
    pub fn new(config: CardConfig, pki: &TestPki) -> Self {
        let mut token = config.token_label.clone().into_bytes();
        token.resize(32, b' ');
        token.resize(160, 0);
        let auth_cert = config.auth_cert_file.clone().unwrap_or_else(|| pki.user_cert_der.clone());
        let files = vec![
            (EF_SIGN_CERT, pki.user_cert_der.clone()),
            (EF_SIGN_CA, pki.ca_cert_der.clone()),
            (EF_TOKEN, token),
            (EF_CERT_FLAGS, vec![0x8F, 0x8F, 0x00]),
            (EF_AUTH_CERT, auth_cert),
            (EF_AUTH_CA, pki.ca_cert_der.clone()),
            (EF_AUTH_KEY, Vec::new()),
            (EF_AUTH_PIN, Vec::new()),
            (EF_SIGN_KEY, Vec::new()),
            (EF_SIGN_PIN, Vec::new()),
        ];
        VirtualCard {
            auth_tries: config.auth_tries.min(3),
            sign_tries: config.sign_tries.min(5),
            config,
            key: pki.user_key.clone(),
            files,
            df: Df::None,
            ef: None,
            verified: BTreeSet::new(),
            powered: false,
            commands_since_power_on: 0,
            ins_counts: [0; 256],
            log: Vec::new(),
        }
    }

    pub fn atr(&self) -> &'static [u8] {
        &MY_NUMBER_ATR
    }

    /// Power off (or remove from the field): everything volatile is cleared.
    pub fn power_off(&mut self) {
        self.powered = false;
        self.clear_volatile();
    }

    pub fn power_on(&mut self) {
        if !self.powered {
            self.clear_volatile();
        }
        self.powered = true;
    }

    /// Reset: like power off and on.
    pub fn reset(&mut self) {
        self.clear_volatile();
        self.powered = true;
    }

    fn clear_volatile(&mut self) {
        self.df = Df::None;
        self.ef = None;
        self.verified.clear();
        self.commands_since_power_on = 0;
    }

    pub fn auth_tries(&self) -> u8 {
        self.auth_tries
    }

    pub fn is_auth_pin_verified(&self) -> bool {
        self.verified.contains(&EF_AUTH_PIN)
    }

    /// Every exchange since the card was made (or the log cleared).
    pub fn log(&self) -> &[Exchange] {
        &self.log
    }

    pub fn clear_log(&mut self) {
        self.log.clear();
    }

    /// Processes one command APDU.
    pub fn transmit(&mut self, command: &[u8]) -> Answer {
        self.powered = true;
        self.commands_since_power_on += 1;
        let ins = command.get(1).copied().unwrap_or(0);
        self.ins_counts[usize::from(ins)] += 1;
        let nth = self.ins_counts[usize::from(ins)];
        let faults = self.config.faults.clone();
        if faults.iter().any(|f| matches!(f, Fault::Yank { ins: i, nth: n } if *i == ins && *n == nth)) {
            self.log.push(Exchange { command: command.to_vec(), response: Vec::new() });
            self.power_off();
            return Answer::Yank;
        }
        let mut response = if faults.contains(&Fault::AlwaysFail)
            || (faults.contains(&Fault::FailFirstCommand) && self.commands_since_power_on == 1)
        {
            sw(0x6F00)
        } else {
            self.process(command)
        };
        for f in &faults {
            if let Fault::Garble { ins: i, nth: n, how } = f
                && *i == ins
                && *n == nth
            {
                match how {
                    Garble::DropStatusWord => {
                        response.truncate(response.len().saturating_sub(2));
                    }
                    Garble::Truncate(len) => response.truncate(*len),
                }
            }
        }
        self.log.push(Exchange { command: command.to_vec(), response: response.clone() });
        Answer::Response(response)
    }

    fn process(&mut self, bytes: &[u8]) -> Vec<u8> {
        let Ok(cmd) = ParsedCommand::parse(bytes) else { return sw(0x6700) };
        match cmd.cla & 0x0C {
            0x08 => return sw(0x6882),
            0x0C => return sw(0x69FC),
            _ => {}
        }
        if cmd.cla & 0x03 != 0 {
            return sw(0x6881);
        }
        match (cmd.cla, cmd.ins) {
            (0x00, 0xA4) => self.select(&cmd),
            (0x00, 0xB0) => self.read_binary(&cmd),
            (0x00, 0x20) => self.verify(&cmd),
            (0x80, 0x2A) => self.sign(&cmd),
            (0x00 | 0x80, _) => sw(0x6D00),
            _ => sw(0x6E00),
        }
    }

    fn file(&self, fid: u16) -> Option<&Vec<u8>> {
        self.files.iter().find(|(f, _)| *f == fid).map(|(_, d)| d)
    }

    fn select(&mut self, cmd: &ParsedCommand<'_>) -> Vec<u8> {
        match cmd.p1 {
            0x04 => {
                if self.config.application == Application::Jpki && cmd.data == JPKI_AID {
                    self.df = Df::Jpki;
                    self.ef = None;
                    if self.config.select_clears_verified {
                        self.verified.clear();
                    }
                    sw(SW_OK)
                } else {
                    sw(0x6A82)
                }
            }
            0x02 => {
                let (Df::Jpki, [hi, lo]) = (self.df, cmd.data) else { return sw(0x6A82) };
                let fid = u16::from_be_bytes([*hi, *lo]);
                if self.file(fid).is_some() {
                    self.ef = Some(fid);
                    sw(SW_OK)
                } else {
                    sw(0x6A82)
                }
            }
            _ => sw(0x6A86),
        }
    }

    /// Which PIN protects reading `fid` (None: free; Some(None): never readable).
    fn read_guard(fid: u16) -> Option<Option<u16>> {
        match fid {
            EF_SIGN_CERT | EF_SIGN_CA => Some(Some(EF_SIGN_PIN)),
            EF_AUTH_KEY | EF_AUTH_PIN | EF_SIGN_KEY | EF_SIGN_PIN => Some(None),
            _ => None,
        }
    }

    fn read_binary(&mut self, cmd: &ParsedCommand<'_>) -> Vec<u8> {
        let offset = if cmd.p1 & 0x80 != 0 {
            if self.df != Df::Jpki {
                return sw(0x6A82);
            }
            let fid = u16::from(cmd.p1 & 0x1F);
            if self.file(fid).is_none() {
                return sw(0x6A82);
            }
            self.ef = Some(fid);
            usize::from(cmd.p2)
        } else {
            usize::from(cmd.p1 & 0x7F) << 8 | usize::from(cmd.p2)
        };
        let Some(fid) = self.ef else { return sw(0x6986) };
        match Self::read_guard(fid) {
            Some(None) => return sw(0x6982),
            Some(Some(pin)) if !self.verified.contains(&pin) => return sw(0x6982),
            _ => {}
        }
        let Some(data) = self.file(fid) else { return sw(0x6986) };
        if offset >= data.len() {
            return sw(0x6B00);
        }
        let le = if cmd.le == 0 { 256 } else { cmd.le };
        let end = data.len().min(offset + le);
        let mut out = data[offset..end].to_vec();
        out.extend_from_slice(&SW_OK.to_be_bytes());
        out
    }

    fn verify(&mut self, cmd: &ParsedCommand<'_>) -> Vec<u8> {
        if cmd.p1 != 0 {
            return sw(0x6A86);
        }
        let target = match cmd.p2 {
            0x80 => self.ef,
            p2 if p2 & 0x80 != 0 && self.df == Df::Jpki => Some(u16::from(p2 & 0x1F)),
            _ => return sw(0x6A86),
        };
        if self.df != Df::Jpki {
            return sw(0x6986);
        }
        let (tries, secret, max) = match target {
            Some(EF_AUTH_PIN) => (&mut self.auth_tries, self.config.auth_pin.to_vec(), 3),
            Some(EF_SIGN_PIN) => (&mut self.sign_tries, self.config.sign_password.clone(), 5),
            Some(_) => return sw(0x6981),
            None => return sw(0x6986),
        };
        let fid = target.unwrap_or_default();
        if cmd.data.is_empty() {
            return sw(0x63C0 | u16::from(*tries));
        }
        if *tries == 0 {
            return sw(0x6984);
        }
        if cmd.data == secret.as_slice() {
            *tries = max;
            self.verified.insert(fid);
            sw(SW_OK)
        } else {
            *tries -= 1;
            let left = *tries;
            self.verified.remove(&fid);
            sw(0x63C0 | u16::from(left))
        }
    }

    fn sign(&mut self, cmd: &ParsedCommand<'_>) -> Vec<u8> {
        if cmd.p1 != 0 {
            return sw(0x6A86);
        }
        if self.df != Df::Jpki {
            return sw(0x6982);
        }
        let key = match cmd.p2 {
            0x80 => self.ef,
            0x97 => Some(EF_AUTH_KEY),
            0x9A => Some(EF_SIGN_KEY),
            _ => return sw(0x6A86),
        };
        let pin = match key {
            Some(EF_AUTH_KEY) => EF_AUTH_PIN,
            Some(EF_SIGN_KEY) => EF_SIGN_PIN,
            _ => return sw(0x6982),
        };
        if !self.verified.contains(&pin) {
            return sw(0x6982);
        }
        if cmd.data.is_empty() || cmd.data.len() > 245 {
            return sw(0x6700);
        }
        match self.key.sign(Pkcs1v15Sign::new_unprefixed(), cmd.data) {
            Ok(mut sig) => {
                sig.extend_from_slice(&SW_OK.to_be_bytes());
                sig
            }
            Err(_) => sw(0x6F00),
        }
    }
}

fn sw(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}
