//! The SIP2 messages a self-check needs, as typed structs.
//!
//! Decoding is lenient where real servers are sloppy (a missing required field becomes
//! empty, unknown fields are kept in `extra`), strict where the bytes are meaningless
//! (a fixed part that is too short, a flag that is not one of its letters). Encoding is
//! strict: fixed fields must have their exact widths.

use crate::codec::{Charset, DecodeOptions, Field, RawMessage, SipDate, Trailer, decode_frame, encode_frame};
use crate::error::{DecodeError, EncodeError};

/// The 14 patron status flags of 24/64 (`Y` = set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PatronStatusFlags(pub [bool; 14]);

impl PatronStatusFlags {
    pub const CHARGE_PRIVILEGES_DENIED: usize = 0;
    pub const RENEWAL_PRIVILEGES_DENIED: usize = 1;
    pub const RECALL_PRIVILEGES_DENIED: usize = 2;
    pub const HOLD_PRIVILEGES_DENIED: usize = 3;
    pub const CARD_REPORTED_LOST: usize = 4;
    pub const TOO_MANY_ITEMS_CHARGED: usize = 5;
    pub const TOO_MANY_OVERDUE: usize = 6;
    pub const EXCESSIVE_FINES: usize = 10;
    pub const EXCESSIVE_FEES: usize = 11;

    /// Names of the flags, in order, for logs and staff screens.
    pub const NAMES: [&'static str; 14] = [
        "charge privileges denied",
        "renewal privileges denied",
        "recall privileges denied",
        "hold privileges denied",
        "card reported lost",
        "too many items charged",
        "too many items overdue",
        "too many renewals",
        "too many claims of items returned",
        "too many items lost",
        "excessive outstanding fines",
        "excessive outstanding fees",
        "recall overdue",
        "too many items billed",
    ];

    /// Whether any flag other than renewal/recall/hold denied is set: the patron may not
    /// borrow (the reading NYPL's client uses).
    pub fn denies_borrowing(&self) -> bool {
        self.0.iter().enumerate().any(|(i, set)| *set && !(1..=3).contains(&i))
    }

    /// Names of the set flags.
    pub fn reasons(&self) -> Vec<&'static str> {
        self.0.iter().zip(Self::NAMES).filter(|(set, _)| **set).map(|(_, n)| n).collect()
    }

    fn encode(&self) -> String {
        self.0.iter().map(|s| if *s { 'Y' } else { ' ' }).collect()
    }

    fn decode(text: &str) -> Self {
        let mut flags = [false; 14];
        for (flag, c) in flags.iter_mut().zip(text.chars()) {
            *flag = c == 'Y' || c == 'y';
        }
        PatronStatusFlags(flags)
    }
}

/// Circulation status of an item (18).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CirculationStatus {
    Other,
    OnOrder,
    Available,
    Charged,
    ChargedNotToBeRecalled,
    InProcess,
    Recalled,
    WaitingOnHoldShelf,
    WaitingToBeReshelved,
    InTransit,
    ClaimedReturned,
    Lost,
    Missing,
    /// A code outside the spec, kept.
    Unknown(u8),
}

impl CirculationStatus {
    pub fn code(self) -> u8 {
        match self {
            Self::Other => 1,
            Self::OnOrder => 2,
            Self::Available => 3,
            Self::Charged => 4,
            Self::ChargedNotToBeRecalled => 5,
            Self::InProcess => 6,
            Self::Recalled => 7,
            Self::WaitingOnHoldShelf => 8,
            Self::WaitingToBeReshelved => 9,
            Self::InTransit => 10,
            Self::ClaimedReturned => 11,
            Self::Lost => 12,
            Self::Missing => 13,
            Self::Unknown(c) => c,
        }
    }

    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Other,
            2 => Self::OnOrder,
            3 => Self::Available,
            4 => Self::Charged,
            5 => Self::ChargedNotToBeRecalled,
            6 => Self::InProcess,
            7 => Self::Recalled,
            8 => Self::WaitingOnHoldShelf,
            9 => Self::WaitingToBeReshelved,
            10 => Self::InTransit,
            11 => Self::ClaimedReturned,
            12 => Self::Lost,
            13 => Self::Missing,
            c => Self::Unknown(c),
        }
    }

    /// Whether the item is on loan to someone.
    pub fn is_charged(self) -> bool {
        matches!(self, Self::Charged | Self::ChargedNotToBeRecalled | Self::Recalled)
    }
}

/// Which item list a 63 asks for (one position of the 10-character summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Summary {
    None,
    HoldItems,
    OverdueItems,
    ChargedItems,
    FineItems,
    RecallItems,
    UnavailableHolds,
}

impl Summary {
    fn encode(self) -> String {
        let pos = match self {
            Summary::None => return " ".repeat(10),
            Summary::HoldItems => 0,
            Summary::OverdueItems => 1,
            Summary::ChargedItems => 2,
            Summary::FineItems => 3,
            Summary::RecallItems => 4,
            Summary::UnavailableHolds => 5,
        };
        (0..10).map(|i| if i == pos { 'Y' } else { ' ' }).collect()
    }

    fn decode(text: &str) -> Self {
        match text.chars().position(|c| c == 'Y' || c == 'y') {
            Some(0) => Summary::HoldItems,
            Some(1) => Summary::OverdueItems,
            Some(2) => Summary::ChargedItems,
            Some(3) => Summary::FineItems,
            Some(4) => Summary::RecallItems,
            Some(5) => Summary::UnavailableHolds,
            _ => Summary::None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers: fixed part reader/writer, field bag.

struct Fixed<'a> {
    message: &'static str,
    chars: std::str::Chars<'a>,
}

impl<'a> Fixed<'a> {
    fn new(message: &'static str, text: &'a str) -> Self {
        Fixed { message, chars: text.chars() }
    }

    fn take(&mut self, n: usize) -> String {
        self.chars.by_ref().take(n).collect()
    }

    fn bad(&self, field: &'static str, value: String) -> DecodeError {
        DecodeError::BadFixedField { message: self.message.to_owned(), field, value }
    }

    /// `Y`/`N` (also accepts `1`/`0`; some servers mix them).
    fn yn(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let v = self.take(1);
        match v.as_str() {
            "Y" | "y" | "1" => Ok(true),
            "N" | "n" | "0" | " " => Ok(false),
            _ => Err(self.bad(field, v)),
        }
    }

    /// `Y`/`N`/`U` (unknown).
    fn ynu(&mut self, field: &'static str) -> Result<Option<bool>, DecodeError> {
        let v = self.take(1);
        match v.as_str() {
            "Y" | "y" | "1" => Ok(Some(true)),
            "N" | "n" | "0" => Ok(Some(false)),
            "U" | "u" | " " => Ok(None),
            _ => Err(self.bad(field, v)),
        }
    }

    /// `1`/`0` (also `Y`/`N`).
    fn ok(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        self.yn(field)
    }

    fn date(&mut self) -> SipDate {
        SipDate::parse(&self.take(18)).unwrap_or_else(SipDate::blank)
    }

    /// A number of `width` digits; blanks mean "not given".
    fn number(&mut self, field: &'static str, width: usize) -> Result<Option<u16>, DecodeError> {
        let v = self.take(width);
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse().map(Some).map_err(|_| self.bad(field, v))
    }
}

#[derive(Default)]
struct FixedOut(String);

impl FixedOut {
    fn text(&mut self, field: &'static str, width: usize, value: &str) -> Result<(), EncodeError> {
        if value.chars().count() != width {
            return Err(EncodeError::FixedWidth { field, width, value: value.to_owned() });
        }
        self.0.push_str(value);
        Ok(())
    }

    fn yn(&mut self, v: bool) {
        self.0.push(if v { 'Y' } else { 'N' });
    }

    fn ynu(&mut self, v: Option<bool>) {
        self.0.push(match v {
            Some(true) => 'Y',
            Some(false) => 'N',
            None => 'U',
        });
    }

    fn ok(&mut self, v: bool) {
        self.0.push(if v { '1' } else { '0' });
    }

    fn date(&mut self, d: &SipDate) {
        self.0.push_str(d.as_str());
    }

    fn number(&mut self, v: Option<u16>, width: usize) {
        match v {
            Some(n) => self.0.push_str(&format!("{n:0width$}")),
            None => self.0.push_str(&" ".repeat(width)),
        }
    }
}

struct Bag(Vec<Field>);

impl Bag {
    fn take(&mut self, id: &[u8; 2]) -> Option<String> {
        let pos = self.0.iter().position(|f| &f.id == id)?;
        Some(self.0.remove(pos).value)
    }

    fn req(&mut self, id: &[u8; 2]) -> String {
        self.take(id).unwrap_or_default()
    }

    fn all(&mut self, id: &[u8; 2]) -> Vec<String> {
        let mut out = Vec::new();
        self.0.retain(|f| {
            if &f.id == id {
                out.push(f.value.clone());
                false
            } else {
                true
            }
        });
        out
    }

    fn flag(&mut self, id: &[u8; 2]) -> Option<bool> {
        self.take(id).and_then(|v| match v.trim() {
            "Y" | "y" => Some(true),
            "N" | "n" => Some(false),
            _ => None,
        })
    }

    fn rest(self) -> Vec<Field> {
        self.0
    }
}

#[derive(Default)]
struct Out(Vec<Field>);

impl Out {
    fn req(&mut self, id: &[u8; 2], v: &str) {
        self.0.push(Field::new(id, v));
    }

    fn opt(&mut self, id: &[u8; 2], v: &Option<String>) {
        if let Some(v) = v {
            self.0.push(Field::new(id, v.clone()));
        }
    }

    fn all(&mut self, id: &[u8; 2], vs: &[String]) {
        for v in vs {
            self.0.push(Field::new(id, v.clone()));
        }
    }

    fn flag(&mut self, id: &[u8; 2], v: Option<bool>) {
        if let Some(v) = v {
            self.0.push(Field::new(id, if v { "Y" } else { "N" }));
        }
    }

    fn extra(mut self, extra: &[Field]) -> Vec<Field> {
        self.0.extend_from_slice(extra);
        self.0
    }
}

fn raw(id: &[u8; 2], fixed: FixedOut, fields: Vec<Field>) -> RawMessage {
    RawMessage { id: *id, fixed: fixed.0, fields, seq: None }
}

// ---------------------------------------------------------------------------------------
// Messages.

/// 93 Login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    pub uid_algorithm: char,
    pub pwd_algorithm: char,
    pub user: String,
    pub password: String,
    pub location: Option<String>,
    pub extra: Vec<Field>,
}

/// 94 Login response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginResponse {
    pub ok: bool,
    pub extra: Vec<Field>,
}

/// 99 SC status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScStatus {
    /// `0` ok, `1` out of paper, `2` shutting down.
    pub status: char,
    pub max_print_width: u16,
    pub protocol_version: String,
    pub extra: Vec<Field>,
}

/// 98 ACS status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcsStatus {
    pub online: bool,
    pub checkin_ok: bool,
    pub checkout_ok: bool,
    pub renewal_policy: bool,
    pub status_update_ok: bool,
    pub offline_ok: bool,
    /// Tenths of a second; `000` = ACS not online, `999` = unknown.
    pub timeout_period: Option<u16>,
    /// `999` = unknown.
    pub retries_allowed: Option<u16>,
    pub date_time_sync: SipDate,
    pub protocol_version: String,
    pub institution: String,
    pub supported_messages: String,
    pub library_name: Option<String>,
    pub terminal_location: Option<String>,
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
    pub extra: Vec<Field>,
}

impl AcsStatus {
    /// The server's request timeout, unless it said "unknown" (999) or "offline" (000).
    pub fn timeout(&self) -> Option<std::time::Duration> {
        match self.timeout_period {
            Some(t) if t != 0 && t != 999 => Some(std::time::Duration::from_millis(u64::from(t) * 100)),
            _ => None,
        }
    }

    /// The server's retries, unless it said "unknown" (999).
    pub fn retries(&self) -> Option<u16> {
        self.retries_allowed.filter(|r| *r != 999)
    }
}

/// 23 Patron status request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatronStatusRequest {
    pub language: String,
    pub date: SipDate,
    pub institution: String,
    pub patron: String,
    pub terminal_password: String,
    pub patron_password: String,
    pub extra: Vec<Field>,
}

/// 24 Patron status response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatronStatusResponse {
    pub status: PatronStatusFlags,
    pub language: String,
    pub date: SipDate,
    pub institution: String,
    pub patron: String,
    pub name: String,
    /// BL valid patron.
    pub valid_patron: Option<bool>,
    /// CQ valid patron password.
    pub valid_password: Option<bool>,
    pub currency: Option<String>,
    pub fee_amount: Option<String>,
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
    pub extra: Vec<Field>,
}

/// 63 Patron information request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatronInformationRequest {
    pub language: String,
    pub date: SipDate,
    pub summary: Summary,
    pub institution: String,
    pub patron: String,
    pub terminal_password: Option<String>,
    pub patron_password: Option<String>,
    pub start_item: Option<String>,
    pub end_item: Option<String>,
    pub extra: Vec<Field>,
}

/// 64 Patron information response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatronInformationResponse {
    pub status: PatronStatusFlags,
    pub language: String,
    pub date: SipDate,
    pub hold_items_count: Option<u16>,
    pub overdue_items_count: Option<u16>,
    pub charged_items_count: Option<u16>,
    pub fine_items_count: Option<u16>,
    pub recall_items_count: Option<u16>,
    pub unavailable_holds_count: Option<u16>,
    pub institution: String,
    pub patron: String,
    pub name: String,
    pub valid_patron: Option<bool>,
    pub valid_password: Option<bool>,
    /// AS
    pub hold_items: Vec<String>,
    /// AT
    pub overdue_items: Vec<String>,
    /// AU
    pub charged_items: Vec<String>,
    /// AV
    pub fine_items: Vec<String>,
    /// BU
    pub recall_items: Vec<String>,
    /// CD
    pub unavailable_hold_items: Vec<String>,
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
    pub extra: Vec<Field>,
}

/// 11 Checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutRequest {
    pub sc_renewal_policy: bool,
    /// Only in offline replay: the ACS must not block a transaction already done.
    pub no_block: bool,
    pub date: SipDate,
    /// Blank unless `no_block`.
    pub nb_due_date: SipDate,
    pub institution: String,
    pub patron: String,
    pub item: String,
    pub terminal_password: String,
    pub item_properties: Option<String>,
    pub patron_password: Option<String>,
    pub fee_acknowledged: Option<bool>,
    pub cancel: Option<bool>,
    pub extra: Vec<Field>,
}

/// 12 Checkout response and 30 Renew response (same layout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CirculationResponse {
    pub ok: bool,
    pub renewal_ok: bool,
    pub magnetic_media: Option<bool>,
    pub desensitize: Option<bool>,
    pub date: SipDate,
    pub institution: String,
    pub patron: String,
    pub item: String,
    pub title: String,
    /// Free-form: ACSs format it as they like.
    pub due_date: String,
    pub fee_type: Option<String>,
    pub security_inhibit: Option<bool>,
    pub currency: Option<String>,
    pub fee_amount: Option<String>,
    pub media_type: Option<String>,
    pub item_properties: Option<String>,
    pub transaction_id: Option<String>,
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
    pub extra: Vec<Field>,
}

/// 09 Checkin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckinRequest {
    pub no_block: bool,
    pub date: SipDate,
    pub return_date: SipDate,
    pub current_location: String,
    pub institution: String,
    pub item: String,
    pub terminal_password: String,
    pub item_properties: Option<String>,
    pub cancel: Option<bool>,
    pub extra: Vec<Field>,
}

/// 10 Checkin response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckinResponse {
    pub ok: bool,
    pub resensitize: bool,
    pub magnetic_media: Option<bool>,
    pub alert: bool,
    pub date: SipDate,
    pub institution: String,
    pub item: String,
    pub permanent_location: String,
    pub title: Option<String>,
    pub sort_bin: Option<String>,
    pub patron: Option<String>,
    pub media_type: Option<String>,
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
    pub extra: Vec<Field>,
}

/// 29 Renew.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewRequest {
    pub third_party_allowed: bool,
    pub no_block: bool,
    pub date: SipDate,
    pub nb_due_date: SipDate,
    pub institution: String,
    pub patron: String,
    pub patron_password: Option<String>,
    pub item: Option<String>,
    pub title: Option<String>,
    pub terminal_password: Option<String>,
    pub fee_acknowledged: Option<bool>,
    pub extra: Vec<Field>,
}

/// 17 Item information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemInformationRequest {
    pub date: SipDate,
    pub institution: String,
    pub item: String,
    pub terminal_password: Option<String>,
    pub extra: Vec<Field>,
}

/// 18 Item information response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemInformationResponse {
    pub circulation_status: CirculationStatus,
    pub security_marker: String,
    pub fee_type: String,
    pub date: SipDate,
    pub item: String,
    pub title: String,
    pub hold_queue_length: Option<String>,
    pub due_date: Option<String>,
    pub recall_date: Option<String>,
    pub hold_pickup_date: Option<String>,
    pub owner: Option<String>,
    pub media_type: Option<String>,
    pub permanent_location: Option<String>,
    pub current_location: Option<String>,
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
    pub extra: Vec<Field>,
}

/// 35 End patron session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndSessionRequest {
    pub date: SipDate,
    pub institution: String,
    pub patron: String,
    pub terminal_password: Option<String>,
    pub patron_password: Option<String>,
    pub extra: Vec<Field>,
}

/// 36 End session response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndSessionResponse {
    pub end_session: bool,
    pub date: SipDate,
    pub institution: String,
    pub patron: String,
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
    pub extra: Vec<Field>,
}

/// Every message this crate speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Login(Login),
    LoginResponse(LoginResponse),
    ScStatus(ScStatus),
    AcsStatus(AcsStatus),
    PatronStatus(PatronStatusRequest),
    PatronStatusResponse(PatronStatusResponse),
    PatronInformation(PatronInformationRequest),
    PatronInformationResponse(PatronInformationResponse),
    Checkout(CheckoutRequest),
    CheckoutResponse(CirculationResponse),
    Checkin(CheckinRequest),
    CheckinResponse(CheckinResponse),
    Renew(RenewRequest),
    RenewResponse(CirculationResponse),
    ItemInformation(ItemInformationRequest),
    ItemInformationResponse(ItemInformationResponse),
    EndSession(EndSessionRequest),
    EndSessionResponse(EndSessionResponse),
    /// 97: the SC asks the ACS to resend its last reply.
    RequestAcsResend,
    /// 96: the ACS asks the SC to resend its last request.
    RequestScResend,
}

/// A decoded frame: the message, its sequence number and what its trailer said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    pub seq: Option<u8>,
    pub trailer: Trailer,
}

impl Message {
    /// The 2-character command id.
    pub fn id(&self) -> &'static str {
        match self {
            Message::Login(_) => "93",
            Message::LoginResponse(_) => "94",
            Message::ScStatus(_) => "99",
            Message::AcsStatus(_) => "98",
            Message::PatronStatus(_) => "23",
            Message::PatronStatusResponse(_) => "24",
            Message::PatronInformation(_) => "63",
            Message::PatronInformationResponse(_) => "64",
            Message::Checkout(_) => "11",
            Message::CheckoutResponse(_) => "12",
            Message::Checkin(_) => "09",
            Message::CheckinResponse(_) => "10",
            Message::Renew(_) => "29",
            Message::RenewResponse(_) => "30",
            Message::ItemInformation(_) => "17",
            Message::ItemInformationResponse(_) => "18",
            Message::EndSession(_) => "35",
            Message::EndSessionResponse(_) => "36",
            Message::RequestAcsResend => "97",
            Message::RequestScResend => "96",
        }
    }

    /// A name for logs and errors.
    pub fn name(&self) -> &'static str {
        name_of(self.id().as_bytes())
    }

    /// Encodes with `AY<seq>` (when given) and `AZ` when `error_detection`. 96/97 never
    /// carry a sequence number.
    pub fn encode(
        &self,
        seq: Option<u8>,
        charset: Charset,
        error_detection: bool,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut raw = self.to_raw()?;
        raw.seq =
            if matches!(self, Message::RequestAcsResend | Message::RequestScResend) { None } else { seq };
        encode_frame(&raw, charset, error_detection)
    }

    /// Decodes one frame (without its CR).
    pub fn decode(frame: &[u8], opts: DecodeOptions) -> Result<Decoded, DecodeError> {
        let (raw, trailer) = decode_frame(frame, opts)?;
        let seq = raw.seq;
        Ok(Decoded { message: Message::from_raw(raw)?, seq, trailer })
    }

    pub fn to_raw(&self) -> Result<RawMessage, EncodeError> {
        let mut f = FixedOut::default();
        let mut o = Out::default();
        Ok(match self {
            Message::Login(m) => {
                f.0.push(m.uid_algorithm);
                f.0.push(m.pwd_algorithm);
                o.req(b"CN", &m.user);
                o.req(b"CO", &m.password);
                o.opt(b"CP", &m.location);
                raw(b"93", f, o.extra(&m.extra))
            }
            Message::LoginResponse(m) => {
                f.ok(m.ok);
                raw(b"94", f, o.extra(&m.extra))
            }
            Message::ScStatus(m) => {
                f.0.push(m.status);
                f.number(Some(m.max_print_width), 3);
                f.text("protocol version", 4, &m.protocol_version)?;
                raw(b"99", f, o.extra(&m.extra))
            }
            Message::AcsStatus(m) => {
                for b in [
                    m.online,
                    m.checkin_ok,
                    m.checkout_ok,
                    m.renewal_policy,
                    m.status_update_ok,
                    m.offline_ok,
                ] {
                    f.yn(b);
                }
                f.number(m.timeout_period, 3);
                f.number(m.retries_allowed, 3);
                f.date(&m.date_time_sync);
                f.text("protocol version", 4, &m.protocol_version)?;
                o.req(b"AO", &m.institution);
                o.req(b"BX", &m.supported_messages);
                o.opt(b"AM", &m.library_name);
                o.opt(b"AN", &m.terminal_location);
                o.all(b"AF", &m.screen_messages);
                o.all(b"AG", &m.print_lines);
                raw(b"98", f, o.extra(&m.extra))
            }
            Message::PatronStatus(m) => {
                f.text("language", 3, &m.language)?;
                f.date(&m.date);
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.req(b"AC", &m.terminal_password);
                o.req(b"AD", &m.patron_password);
                raw(b"23", f, o.extra(&m.extra))
            }
            Message::PatronStatusResponse(m) => {
                f.0.push_str(&m.status.encode());
                f.text("language", 3, &m.language)?;
                f.date(&m.date);
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.req(b"AE", &m.name);
                o.flag(b"BL", m.valid_patron);
                o.flag(b"CQ", m.valid_password);
                o.opt(b"BH", &m.currency);
                o.opt(b"BV", &m.fee_amount);
                o.all(b"AF", &m.screen_messages);
                o.all(b"AG", &m.print_lines);
                raw(b"24", f, o.extra(&m.extra))
            }
            Message::PatronInformation(m) => {
                f.text("language", 3, &m.language)?;
                f.date(&m.date);
                f.0.push_str(&m.summary.encode());
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.opt(b"AC", &m.terminal_password);
                o.opt(b"AD", &m.patron_password);
                o.opt(b"BP", &m.start_item);
                o.opt(b"BQ", &m.end_item);
                raw(b"63", f, o.extra(&m.extra))
            }
            Message::PatronInformationResponse(m) => {
                f.0.push_str(&m.status.encode());
                f.text("language", 3, &m.language)?;
                f.date(&m.date);
                for n in [
                    m.hold_items_count,
                    m.overdue_items_count,
                    m.charged_items_count,
                    m.fine_items_count,
                    m.recall_items_count,
                    m.unavailable_holds_count,
                ] {
                    f.number(n, 4);
                }
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.req(b"AE", &m.name);
                o.flag(b"BL", m.valid_patron);
                o.flag(b"CQ", m.valid_password);
                o.all(b"AS", &m.hold_items);
                o.all(b"AT", &m.overdue_items);
                o.all(b"AU", &m.charged_items);
                o.all(b"AV", &m.fine_items);
                o.all(b"BU", &m.recall_items);
                o.all(b"CD", &m.unavailable_hold_items);
                o.all(b"AF", &m.screen_messages);
                o.all(b"AG", &m.print_lines);
                raw(b"64", f, o.extra(&m.extra))
            }
            Message::Checkout(m) => {
                f.yn(m.sc_renewal_policy);
                f.yn(m.no_block);
                f.date(&m.date);
                f.date(&m.nb_due_date);
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.req(b"AB", &m.item);
                o.req(b"AC", &m.terminal_password);
                o.opt(b"CH", &m.item_properties);
                o.opt(b"AD", &m.patron_password);
                o.flag(b"BO", m.fee_acknowledged);
                o.flag(b"BI", m.cancel);
                raw(b"11", f, o.extra(&m.extra))
            }
            Message::CheckoutResponse(m) => circulation_to_raw(b"12", m, f, o),
            Message::RenewResponse(m) => circulation_to_raw(b"30", m, f, o),
            Message::Checkin(m) => {
                f.yn(m.no_block);
                f.date(&m.date);
                f.date(&m.return_date);
                o.req(b"AP", &m.current_location);
                o.req(b"AO", &m.institution);
                o.req(b"AB", &m.item);
                o.req(b"AC", &m.terminal_password);
                o.opt(b"CH", &m.item_properties);
                o.flag(b"BI", m.cancel);
                raw(b"09", f, o.extra(&m.extra))
            }
            Message::CheckinResponse(m) => {
                f.ok(m.ok);
                f.yn(m.resensitize);
                f.ynu(m.magnetic_media);
                f.yn(m.alert);
                f.date(&m.date);
                o.req(b"AO", &m.institution);
                o.req(b"AB", &m.item);
                o.req(b"AQ", &m.permanent_location);
                o.opt(b"AJ", &m.title);
                o.opt(b"CL", &m.sort_bin);
                o.opt(b"AA", &m.patron);
                o.opt(b"CK", &m.media_type);
                o.all(b"AF", &m.screen_messages);
                o.all(b"AG", &m.print_lines);
                raw(b"10", f, o.extra(&m.extra))
            }
            Message::Renew(m) => {
                f.yn(m.third_party_allowed);
                f.yn(m.no_block);
                f.date(&m.date);
                f.date(&m.nb_due_date);
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.opt(b"AD", &m.patron_password);
                o.opt(b"AB", &m.item);
                o.opt(b"AJ", &m.title);
                o.opt(b"AC", &m.terminal_password);
                o.flag(b"BO", m.fee_acknowledged);
                raw(b"29", f, o.extra(&m.extra))
            }
            Message::ItemInformation(m) => {
                f.date(&m.date);
                o.req(b"AO", &m.institution);
                o.req(b"AB", &m.item);
                o.opt(b"AC", &m.terminal_password);
                raw(b"17", f, o.extra(&m.extra))
            }
            Message::ItemInformationResponse(m) => {
                f.number(Some(u16::from(m.circulation_status.code())), 2);
                f.text("security marker", 2, &m.security_marker)?;
                f.text("fee type", 2, &m.fee_type)?;
                f.date(&m.date);
                o.req(b"AB", &m.item);
                o.req(b"AJ", &m.title);
                o.opt(b"CF", &m.hold_queue_length);
                o.opt(b"AH", &m.due_date);
                o.opt(b"CJ", &m.recall_date);
                o.opt(b"CM", &m.hold_pickup_date);
                o.opt(b"BG", &m.owner);
                o.opt(b"CK", &m.media_type);
                o.opt(b"AQ", &m.permanent_location);
                o.opt(b"AP", &m.current_location);
                o.all(b"AF", &m.screen_messages);
                o.all(b"AG", &m.print_lines);
                raw(b"18", f, o.extra(&m.extra))
            }
            Message::EndSession(m) => {
                f.date(&m.date);
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.opt(b"AC", &m.terminal_password);
                o.opt(b"AD", &m.patron_password);
                raw(b"35", f, o.extra(&m.extra))
            }
            Message::EndSessionResponse(m) => {
                f.yn(m.end_session);
                f.date(&m.date);
                o.req(b"AO", &m.institution);
                o.req(b"AA", &m.patron);
                o.all(b"AF", &m.screen_messages);
                o.all(b"AG", &m.print_lines);
                raw(b"36", f, o.extra(&m.extra))
            }
            Message::RequestAcsResend => raw(b"97", f, Vec::new()),
            Message::RequestScResend => raw(b"96", f, Vec::new()),
        })
    }

    pub fn from_raw(raw: RawMessage) -> Result<Message, DecodeError> {
        let name = name_of(&raw.id);
        let mut x = Fixed::new(name, &raw.fixed);
        let mut b = Bag(raw.fields);
        Ok(match &raw.id {
            b"93" => {
                let uid_algorithm = x.take(1).chars().next().unwrap_or('0');
                let pwd_algorithm = x.take(1).chars().next().unwrap_or('0');
                Message::Login(Login {
                    uid_algorithm,
                    pwd_algorithm,
                    user: b.req(b"CN"),
                    password: b.req(b"CO"),
                    location: b.take(b"CP"),
                    extra: b.rest(),
                })
            }
            b"94" => Message::LoginResponse(LoginResponse { ok: x.ok("ok")?, extra: b.rest() }),
            b"99" => Message::ScStatus(ScStatus {
                status: x.take(1).chars().next().unwrap_or('0'),
                max_print_width: x.number("max print width", 3)?.unwrap_or(0),
                protocol_version: x.take(4),
                extra: b.rest(),
            }),
            b"98" => Message::AcsStatus(AcsStatus {
                online: x.yn("on-line status")?,
                checkin_ok: x.yn("checkin ok")?,
                checkout_ok: x.yn("checkout ok")?,
                renewal_policy: x.yn("ACS renewal policy")?,
                status_update_ok: x.yn("status update ok")?,
                offline_ok: x.yn("off-line ok")?,
                timeout_period: x.number("timeout period", 3)?,
                retries_allowed: x.number("retries allowed", 3)?,
                date_time_sync: x.date(),
                protocol_version: x.take(4),
                institution: b.req(b"AO"),
                supported_messages: b.req(b"BX"),
                library_name: b.take(b"AM"),
                terminal_location: b.take(b"AN"),
                screen_messages: b.all(b"AF"),
                print_lines: b.all(b"AG"),
                extra: b.rest(),
            }),
            b"23" => Message::PatronStatus(PatronStatusRequest {
                language: x.take(3),
                date: x.date(),
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                terminal_password: b.req(b"AC"),
                patron_password: b.req(b"AD"),
                extra: b.rest(),
            }),
            b"24" => Message::PatronStatusResponse(PatronStatusResponse {
                status: PatronStatusFlags::decode(&x.take(14)),
                language: x.take(3),
                date: x.date(),
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                name: b.req(b"AE"),
                valid_patron: b.flag(b"BL"),
                valid_password: b.flag(b"CQ"),
                currency: b.take(b"BH"),
                fee_amount: b.take(b"BV"),
                screen_messages: b.all(b"AF"),
                print_lines: b.all(b"AG"),
                extra: b.rest(),
            }),
            b"63" => Message::PatronInformation(PatronInformationRequest {
                language: x.take(3),
                date: x.date(),
                summary: Summary::decode(&x.take(10)),
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                terminal_password: b.take(b"AC"),
                patron_password: b.take(b"AD"),
                start_item: b.take(b"BP"),
                end_item: b.take(b"BQ"),
                extra: b.rest(),
            }),
            b"64" => Message::PatronInformationResponse(PatronInformationResponse {
                status: PatronStatusFlags::decode(&x.take(14)),
                language: x.take(3),
                date: x.date(),
                hold_items_count: x.number("hold items count", 4)?,
                overdue_items_count: x.number("overdue items count", 4)?,
                charged_items_count: x.number("charged items count", 4)?,
                fine_items_count: x.number("fine items count", 4)?,
                recall_items_count: x.number("recall items count", 4)?,
                unavailable_holds_count: x.number("unavailable holds count", 4)?,
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                name: b.req(b"AE"),
                valid_patron: b.flag(b"BL"),
                valid_password: b.flag(b"CQ"),
                hold_items: b.all(b"AS"),
                overdue_items: b.all(b"AT"),
                charged_items: b.all(b"AU"),
                fine_items: b.all(b"AV"),
                recall_items: b.all(b"BU"),
                unavailable_hold_items: b.all(b"CD"),
                screen_messages: b.all(b"AF"),
                print_lines: b.all(b"AG"),
                extra: b.rest(),
            }),
            b"11" => Message::Checkout(CheckoutRequest {
                sc_renewal_policy: x.yn("SC renewal policy")?,
                no_block: x.yn("no block")?,
                date: x.date(),
                nb_due_date: x.date(),
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                item: b.req(b"AB"),
                terminal_password: b.req(b"AC"),
                item_properties: b.take(b"CH"),
                patron_password: b.take(b"AD"),
                fee_acknowledged: b.flag(b"BO"),
                cancel: b.flag(b"BI"),
                extra: b.rest(),
            }),
            b"12" => Message::CheckoutResponse(circulation_from_raw(&mut x, b)?),
            b"30" => Message::RenewResponse(circulation_from_raw(&mut x, b)?),
            b"09" => Message::Checkin(CheckinRequest {
                no_block: x.yn("no block")?,
                date: x.date(),
                return_date: x.date(),
                current_location: b.req(b"AP"),
                institution: b.req(b"AO"),
                item: b.req(b"AB"),
                terminal_password: b.req(b"AC"),
                item_properties: b.take(b"CH"),
                cancel: b.flag(b"BI"),
                extra: b.rest(),
            }),
            b"10" => Message::CheckinResponse(CheckinResponse {
                ok: x.ok("ok")?,
                resensitize: x.yn("resensitize")?,
                magnetic_media: x.ynu("magnetic media")?,
                alert: x.yn("alert")?,
                date: x.date(),
                institution: b.req(b"AO"),
                item: b.req(b"AB"),
                permanent_location: b.req(b"AQ"),
                title: b.take(b"AJ"),
                sort_bin: b.take(b"CL"),
                patron: b.take(b"AA"),
                media_type: b.take(b"CK"),
                screen_messages: b.all(b"AF"),
                print_lines: b.all(b"AG"),
                extra: b.rest(),
            }),
            b"29" => Message::Renew(RenewRequest {
                third_party_allowed: x.yn("third party allowed")?,
                no_block: x.yn("no block")?,
                date: x.date(),
                nb_due_date: x.date(),
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                patron_password: b.take(b"AD"),
                item: b.take(b"AB"),
                title: b.take(b"AJ"),
                terminal_password: b.take(b"AC"),
                fee_acknowledged: b.flag(b"BO"),
                extra: b.rest(),
            }),
            b"17" => Message::ItemInformation(ItemInformationRequest {
                date: x.date(),
                institution: b.req(b"AO"),
                item: b.req(b"AB"),
                terminal_password: b.take(b"AC"),
                extra: b.rest(),
            }),
            b"18" => Message::ItemInformationResponse(ItemInformationResponse {
                circulation_status: CirculationStatus::from_code(
                    x.number("circulation status", 2)?.and_then(|n| u8::try_from(n).ok()).unwrap_or(1),
                ),
                security_marker: x.take(2),
                fee_type: x.take(2),
                date: x.date(),
                item: b.req(b"AB"),
                title: b.req(b"AJ"),
                hold_queue_length: b.take(b"CF"),
                due_date: b.take(b"AH"),
                recall_date: b.take(b"CJ"),
                hold_pickup_date: b.take(b"CM"),
                owner: b.take(b"BG"),
                media_type: b.take(b"CK"),
                permanent_location: b.take(b"AQ"),
                current_location: b.take(b"AP"),
                screen_messages: b.all(b"AF"),
                print_lines: b.all(b"AG"),
                extra: b.rest(),
            }),
            b"35" => Message::EndSession(EndSessionRequest {
                date: x.date(),
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                terminal_password: b.take(b"AC"),
                patron_password: b.take(b"AD"),
                extra: b.rest(),
            }),
            b"36" => Message::EndSessionResponse(EndSessionResponse {
                end_session: x.yn("end session")?,
                date: x.date(),
                institution: b.req(b"AO"),
                patron: b.req(b"AA"),
                screen_messages: b.all(b"AF"),
                print_lines: b.all(b"AG"),
                extra: b.rest(),
            }),
            b"97" => Message::RequestAcsResend,
            b"96" => Message::RequestScResend,
            other => return Err(DecodeError::UnknownMessage(String::from_utf8_lossy(other).into_owned())),
        })
    }
}

fn circulation_to_raw(id: &[u8; 2], m: &CirculationResponse, mut f: FixedOut, mut o: Out) -> RawMessage {
    f.ok(m.ok);
    f.yn(m.renewal_ok);
    f.ynu(m.magnetic_media);
    f.ynu(m.desensitize);
    f.date(&m.date);
    o.req(b"AO", &m.institution);
    o.req(b"AA", &m.patron);
    o.req(b"AB", &m.item);
    o.req(b"AJ", &m.title);
    o.req(b"AH", &m.due_date);
    o.opt(b"BT", &m.fee_type);
    o.flag(b"CI", m.security_inhibit);
    o.opt(b"BH", &m.currency);
    o.opt(b"BV", &m.fee_amount);
    o.opt(b"CK", &m.media_type);
    o.opt(b"CH", &m.item_properties);
    o.opt(b"BK", &m.transaction_id);
    o.all(b"AF", &m.screen_messages);
    o.all(b"AG", &m.print_lines);
    raw(id, f, o.extra(&m.extra))
}

fn circulation_from_raw(x: &mut Fixed<'_>, mut b: Bag) -> Result<CirculationResponse, DecodeError> {
    Ok(CirculationResponse {
        ok: x.ok("ok")?,
        renewal_ok: x.yn("renewal ok")?,
        magnetic_media: x.ynu("magnetic media")?,
        desensitize: x.ynu("desensitize")?,
        date: x.date(),
        institution: b.req(b"AO"),
        patron: b.req(b"AA"),
        item: b.req(b"AB"),
        title: b.req(b"AJ"),
        due_date: b.req(b"AH"),
        fee_type: b.take(b"BT"),
        security_inhibit: b.flag(b"CI"),
        currency: b.take(b"BH"),
        fee_amount: b.take(b"BV"),
        media_type: b.take(b"CK"),
        item_properties: b.take(b"CH"),
        transaction_id: b.take(b"BK"),
        screen_messages: b.all(b"AF"),
        print_lines: b.all(b"AG"),
        extra: b.rest(),
    })
}

/// Human name of a command id.
pub fn name_of(id: &[u8]) -> &'static str {
    match id {
        b"93" => "login (93)",
        b"94" => "login response (94)",
        b"99" => "SC status (99)",
        b"98" => "ACS status (98)",
        b"23" => "patron status (23)",
        b"24" => "patron status response (24)",
        b"63" => "patron information (63)",
        b"64" => "patron information response (64)",
        b"11" => "checkout (11)",
        b"12" => "checkout response (12)",
        b"09" => "checkin (09)",
        b"10" => "checkin response (10)",
        b"29" => "renew (29)",
        b"30" => "renew response (30)",
        b"17" => "item information (17)",
        b"18" => "item information response (18)",
        b"35" => "end patron session (35)",
        b"36" => "end session response (36)",
        b"97" => "request ACS resend (97)",
        b"96" => "request SC resend (96)",
        _ => "unknown message",
    }
}
