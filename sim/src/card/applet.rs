//! The card logic: the JPKI AP's file system, PIN counters and signing. Whatever OpenSC's
//! JPKI driver expects of a real card, this must do (the OpenSC peer test is the judge).

use std::collections::BTreeSet;

use kiosk_card::apdu::{Ins, ParsedCommand};
use kiosk_card::jpki::JPKI_AID;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};

use super::pki::TestPki;

/// ATR of a contactless My Number card as a PC/SC reader synthesises it (a PC/SC part 3
/// Type B ATR, as published for the card).
pub const MY_NUMBER_ATR: [u8; 13] =
    [0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x05, 0xE0, 0xB3, 0x81, 0xA1, 0x00, 0x7F];

const SW_OK: u16 = 0x9000;

/// Most data bytes the card returns in one response: the card's I/O buffer, sized so that
/// the data and the status word fit one vpcd frame (2-byte length). A READ BINARY that
/// asks for more (an extended Le of 65 536 on a file that big) gets this many, as a card
/// with a smaller buffer than the file answers.
pub const MAX_RESPONSE_DATA: usize = u16::MAX as usize - 2;

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
    /// Never answer the `nth` (1-based) command with this INS: the card stays in the field
    /// and silent until it is taken away (a hostile or broken card).
    Silent { ins: u8, nth: usize },
    /// Answer the `nth` (1-based) command with this INS with 65,535 bytes (the most a
    /// reader's transport carries) ending in `90 00`: a hostile card's flood.
    Flood { ins: u8, nth: usize },
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
    /// The card stays in the field and never answers.
    Silence,
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
        if faults.iter().any(|f| matches!(f, Fault::Silent { ins: i, nth: n } if *i == ins && *n == nth)) {
            self.log.push(Exchange { command: command.to_vec(), response: Vec::new() });
            return Answer::Silence;
        }
        if faults.iter().any(|f| matches!(f, Fault::Flood { ins: i, nth: n } if *i == ins && *n == nth)) {
            let mut flood = vec![0x30; usize::from(u16::MAX) - 2];
            flood.extend_from_slice(&[0x90, 0x00]);
            self.log.push(Exchange { command: command.to_vec(), response: flood.clone() });
            return Answer::Response(flood);
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
        match Ins::try_from(cmd.ins) {
            // Each instruction only with its own CLA: READ BINARY with CLA 80 is unknown.
            Ok(ins) if ins.cla() == cmd.cla => match ins {
                Ins::Select => self.select(&cmd),
                Ins::ReadBinary => self.read_binary(&cmd),
                Ins::Verify => self.verify(&cmd),
                Ins::ComputeSignature => self.sign(&cmd),
            },
            _ if matches!(cmd.cla, 0x00 | 0x80) => sw(0x6D00),
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
            // The signature CA certificate (0002) is free, like the auth CA's (OpenSC's
            // pkcs15-jpki marks only 0001 private).
            EF_SIGN_CERT => Some(Some(EF_SIGN_PIN)),
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
        let end = data.len().min(offset + le.min(MAX_RESPONSE_DATA));
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

#[cfg(test)]
mod tests {
    //! The card logic driven with raw APDU bytes, as a reader would.

    use super::*;

    /// `00 A4 04 0C Lc <aid>`: SELECT by DF name.
    fn select_aid(aid: &[u8]) -> Vec<u8> {
        let mut v = vec![0x00, 0xA4, 0x04, 0x0C, aid.len() as u8];
        v.extend_from_slice(aid);
        v
    }

    fn select_ef(fid: u16) -> Vec<u8> {
        let [hi, lo] = fid.to_be_bytes();
        vec![0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo]
    }

    const VERIFY_AUTH_1234: [u8; 9] = [0x00, 0x20, 0x00, 0x80, 0x04, b'1', b'2', b'3', b'4'];
    /// `80 2A 00 <p2>` with a 51-byte (DigestInfo-sized) payload and Le 256.
    fn sign(p2: u8) -> Vec<u8> {
        let mut v = vec![0x80, 0x2A, 0x00, p2, 51];
        v.extend_from_slice(&[0x11; 51]);
        v.push(0x00);
        v
    }

    fn card(config: CardConfig) -> VirtualCard {
        let mut card = VirtualCard::new(config, TestPki::shared().unwrap());
        card.power_on();
        card
    }

    fn send(card: &mut VirtualCard, apdu: &[u8]) -> Vec<u8> {
        match card.transmit(apdu) {
            Answer::Response(r) => r,
            Answer::Yank | Answer::Silence => panic!("the card left the field or fell silent on {apdu:02X?}"),
        }
    }

    /// The status word of the answer to `apdu`.
    fn sw_of(card: &mut VirtualCard, apdu: &[u8]) -> u16 {
        let r = send(card, apdu);
        assert!(r.len() >= 2, "no status word in {r:02X?}");
        u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
    }

    /// The data of a `90 00` answer to `apdu`.
    fn data_of(card: &mut VirtualCard, apdu: &[u8]) -> Vec<u8> {
        let mut r = send(card, apdu);
        assert_eq!(r.split_off(r.len() - 2), [0x90, 0x00], "{apdu:02X?}");
        r
    }

    #[test]
    fn unknown_aids_files_ins_and_cla_are_refused() {
        let mut c = card(CardConfig::default());
        // The My Number text-input AP, the 住基 AP and a made-up AID: not on this card.
        for aid in [
            &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08][..],
            &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00],
            &[0xA0, 0x00, 0x00, 0x00, 0x03],
        ] {
            assert_eq!(sw_of(&mut c, &select_aid(aid)), 0x6A82, "{aid:02X?}");
        }
        // No DF selected yet: no EF can be selected.
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_CERT)), 0x6A82);
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &select_ef(0x1234)), 0x6A82);
        // A failed SELECT leaves the JPKI AP selected.
        assert_eq!(sw_of(&mut c, &select_aid(&[0xA0, 0x00, 0x00, 0x00, 0x03])), 0x6A82);
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_CERT)), 0x9000);
        assert_eq!(sw_of(&mut c, &[0x00, 0xA4, 0x00, 0x00]), 0x6A86);
        // Unknown INS, with the ISO and the proprietary CLA.
        assert_eq!(sw_of(&mut c, &[0x00, 0xCA, 0x01, 0x01, 0x00]), 0x6D00);
        assert_eq!(sw_of(&mut c, &[0x00, 0x84, 0x00, 0x00, 0x08]), 0x6D00);
        assert_eq!(sw_of(&mut c, &[0x80, 0xB0, 0x00, 0x00, 0x00]), 0x6D00);
        assert_eq!(sw_of(&mut c, &[0xA0, 0xB0, 0x00, 0x00, 0x00]), 0x6E00);
        assert_eq!(sw_of(&mut c, &[0x0C, 0xB0, 0x00, 0x00, 0x00]), 0x69FC);
        assert_eq!(sw_of(&mut c, &[0x01, 0xB0, 0x00, 0x00, 0x00]), 0x6881);
        // A card without the JPKI AP refuses its AID too.
        let mut other = card(CardConfig { application: Application::Other, ..CardConfig::default() });
        assert_eq!(sw_of(&mut other, &select_aid(&JPKI_AID)), 0x6A82);
        assert_eq!(sw_of(&mut other, &select_ef(EF_AUTH_CERT)), 0x6A82);
    }

    #[test]
    fn protected_efs_are_refused_without_their_pin() {
        let pki = TestPki::shared().unwrap();
        let mut c = card(CardConfig::default());
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        let read = [0x00, 0xB0, 0x00, 0x00, 0x00];
        // The signature certificate needs the signature password; keys and PINs are
        // never readable.
        for fid in [EF_SIGN_CERT, EF_AUTH_KEY, EF_AUTH_PIN, EF_SIGN_KEY, EF_SIGN_PIN] {
            assert_eq!(sw_of(&mut c, &select_ef(fid)), 0x9000, "{fid:04X}");
            assert_eq!(sw_of(&mut c, &read), 0x6982, "{fid:04X}");
        }
        // The same refusal through a short-EF-identifier read.
        assert_eq!(sw_of(&mut c, &[0x00, 0xB0, 0x81, 0x00, 0x00]), 0x6982);
        // The free files read without any PIN.
        for (fid, content) in [
            (EF_AUTH_CERT, &pki.user_cert_der),
            (EF_AUTH_CA, &pki.ca_cert_der),
            (EF_SIGN_CA, &pki.ca_cert_der),
        ] {
            assert_eq!(sw_of(&mut c, &select_ef(fid)), 0x9000);
            assert_eq!(data_of(&mut c, &read), content[..256], "{fid:04X}");
        }
        // Signing needs the auth PIN.
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_KEY)), 0x9000);
        assert_eq!(sw_of(&mut c, &sign(0x80)), 0x6982);
        // The auth PIN opens the auth key for signing, but not the signature
        // certificate, and never a read of the key.
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_PIN)), 0x9000);
        assert_eq!(sw_of(&mut c, &VERIFY_AUTH_1234), 0x9000);
        assert_eq!(data_of(&mut c, &sign(0x97)).len(), 256);
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_KEY)), 0x9000);
        assert_eq!(sw_of(&mut c, &read), 0x6982);
        assert_eq!(sw_of(&mut c, &select_ef(EF_SIGN_CERT)), 0x9000);
        assert_eq!(sw_of(&mut c, &read), 0x6982);
        // The signature password opens the signature certificate.
        assert_eq!(sw_of(&mut c, &select_ef(EF_SIGN_PIN)), 0x9000);
        assert_eq!(
            sw_of(&mut c, &[0x00, 0x20, 0x00, 0x80, 0x06, b'A', b'B', b'C', b'1', b'2', b'3']),
            0x9000
        );
        assert_eq!(sw_of(&mut c, &select_ef(EF_SIGN_CERT)), 0x9000);
        assert_eq!(data_of(&mut c, &read), pki.user_cert_der[..256]);
    }

    #[test]
    fn read_binary_short_and_extended_le_and_past_the_end() {
        let cert = &TestPki::shared().unwrap().user_cert_der;
        let len = cert.len();
        assert!(len > 300 && len < 0x7FFF, "{len}");
        let mut c = card(CardConfig::default());
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00]), 0x6986, "no current EF");
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_CERT)), 0x9000);
        // Short Le: 00 means 256.
        assert_eq!(data_of(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00]), cert[..256]);
        assert_eq!(data_of(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x10]), cert[..16]);
        assert_eq!(data_of(&mut c, &[0x00, 0xB0, 0x01, 0x00, 0x04]), cert[256..260]);
        // Extended Le: 00 00 00 means 65 536 (the whole file here); 00 01 2C is 300.
        assert_eq!(data_of(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]), *cert);
        assert_eq!(data_of(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x2C]), cert[..300]);
        // Short-EF-identifier read: P1 = 80 | SFI, 8-bit offset in P2.
        assert_eq!(data_of(&mut c, &[0x00, 0xB0, 0x8A, 0x02, 0x04]), cert[2..6]);
        // The last byte, then past the end.
        let [hi, lo] = (len as u16 - 1).to_be_bytes();
        assert_eq!(data_of(&mut c, &[0x00, 0xB0, hi, lo, 0x00]), cert[len - 1..]);
        let [hi, lo] = (len as u16).to_be_bytes();
        assert_eq!(sw_of(&mut c, &[0x00, 0xB0, hi, lo, 0x00]), 0x6B00);
        assert_eq!(sw_of(&mut c, &[0x00, 0xB0, hi, lo, 0x00, 0x00, 0x00]), 0x6B00);
        assert_eq!(sw_of(&mut c, &[0x00, 0xB0, 0x7F, 0xFF, 0x01]), 0x6B00);
        // A 160-byte file asked for 65 536 bytes answers its 160.
        assert_eq!(sw_of(&mut c, &select_ef(EF_TOKEN)), 0x9000);
        let token = data_of(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(token.len(), 160);
        assert!(token.starts_with(b"JPKIAPICCTOKEN2 "));

        // A file larger than the card's I/O buffer: one response carries at most
        // MAX_RESPONSE_DATA bytes, so that it fits one vpcd frame with its status word.
        let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let mut c = card(CardConfig { auth_cert_file: Some(big.clone()), ..CardConfig::default() });
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_CERT)), 0x9000);
        let r = send(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]);
        assert!(r.len() <= usize::from(u16::MAX));
        assert_eq!(r[..r.len() - 2], big[..MAX_RESPONSE_DATA]);
        assert_eq!(r[r.len() - 2..], [0x90, 0x00]);
    }

    #[test]
    fn power_off_and_reset_clear_the_verified_state_but_not_the_counters() {
        let mut c = card(CardConfig::default());
        let verify_and_sign = |c: &mut VirtualCard| {
            assert_eq!(sw_of(c, &select_aid(&JPKI_AID)), 0x9000);
            assert_eq!(sw_of(c, &select_ef(EF_AUTH_PIN)), 0x9000);
            assert_eq!(sw_of(c, &VERIFY_AUTH_1234), 0x9000);
            assert!(c.is_auth_pin_verified());
            assert_eq!(sw_of(c, &select_ef(EF_AUTH_KEY)), 0x9000);
            assert_eq!(data_of(c, &sign(0x80)).len(), 256);
        };

        verify_and_sign(&mut c);
        c.reset();
        assert!(!c.is_auth_pin_verified());
        // The DF and EF selection went with it.
        assert_eq!(sw_of(&mut c, &sign(0x80)), 0x6982);
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_KEY)), 0x6A82);
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &sign(0x97)), 0x6982);

        verify_and_sign(&mut c);
        c.power_off();
        c.power_on();
        assert!(!c.is_auth_pin_verified());
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &sign(0x97)), 0x6982);

        // Powering on a card that is already on (vpcd may send it twice) keeps the state.
        verify_and_sign(&mut c);
        c.power_on();
        assert!(c.is_auth_pin_verified());

        // The retry counter is not volatile.
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_PIN)), 0x9000);
        assert_eq!(sw_of(&mut c, &[0x00, 0x20, 0x00, 0x80, 0x04, b'0', b'0', b'0', b'0']), 0x63C2);
        assert!(!c.is_auth_pin_verified(), "a wrong PIN clears the verified state");
        c.power_off();
        c.power_on();
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &[0x00, 0x20, 0x00, 0x98]), 0x63C2, "tries query by SFI");
        assert_eq!(c.auth_tries(), 2);

        // Re-selecting the AP keeps the verified PIN unless the switch says otherwise.
        verify_and_sign(&mut c);
        assert_eq!(c.auth_tries(), 3, "the right PIN resets the counter");
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert!(c.is_auth_pin_verified());
        let mut strict = card(CardConfig { select_clears_verified: true, ..CardConfig::default() });
        verify_and_sign(&mut strict);
        assert_eq!(sw_of(&mut strict, &select_aid(&JPKI_AID)), 0x9000);
        assert!(!strict.is_auth_pin_verified());
    }

    #[test]
    fn faults_are_injected_where_configured() {
        // 6F00 to the first command after every power-on, then normal answers.
        let mut c = card(CardConfig { faults: vec![Fault::FailFirstCommand], ..CardConfig::default() });
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x6F00);
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        c.power_off();
        c.power_on();
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x6F00);
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);

        let mut c = card(CardConfig { faults: vec![Fault::AlwaysFail], ..CardConfig::default() });
        for apdu in [select_aid(&JPKI_AID), select_ef(EF_AUTH_PIN), vec![0x00, 0x20, 0x00, 0x80]] {
            assert_eq!(sw_of(&mut c, &apdu), 0x6F00);
        }
        assert_eq!(c.auth_tries(), 3);

        // Garbling hits only the nth command with that INS.
        let faults = vec![
            Fault::Garble { ins: 0xB0, nth: 1, how: Garble::Truncate(3) },
            Fault::Garble { ins: 0xB0, nth: 2, how: Garble::DropStatusWord },
        ];
        let cert = &TestPki::shared().unwrap().user_cert_der;
        let mut c = card(CardConfig { faults, ..CardConfig::default() });
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_CERT)), 0x9000);
        let read = [0x00, 0xB0, 0x00, 0x00, 0x00];
        assert_eq!(send(&mut c, &read), cert[..3]);
        assert_eq!(send(&mut c, &read), cert[..256]);
        assert_eq!(data_of(&mut c, &read), cert[..256]);
        assert_eq!(c.log().len(), 5);
        assert_eq!(c.log()[2].response, cert[..3], "the log holds what was sent");

        // A yank answers nothing and powers the card off.
        let faults = vec![Fault::Yank { ins: 0x2A, nth: 1 }];
        let mut c = card(CardConfig { faults, ..CardConfig::default() });
        assert_eq!(sw_of(&mut c, &select_aid(&JPKI_AID)), 0x9000);
        assert_eq!(sw_of(&mut c, &select_ef(EF_AUTH_PIN)), 0x9000);
        assert_eq!(sw_of(&mut c, &VERIFY_AUTH_1234), 0x9000);
        assert_eq!(c.transmit(&sign(0x97)), Answer::Yank);
        assert!(!c.is_auth_pin_verified());
        assert!(c.log().last().unwrap().response.is_empty());
    }
}
