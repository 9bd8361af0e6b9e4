//! What a scan is: a library card, an item, a Method D label, a staff card.
//!
//! Rules are tried in order and the first that matches wins. A rule matches on a prefix,
//! an allowed length range (of the whole code, prefix included) and a character set.
//! [`Classifier::standard`] builds the usual set:
//!
//! 1. `MD1*…` → [`ScanKind::MethodDLabel`] (the printer's same-day token; it is verified
//!    later, by whoever holds the fleet key);
//! 2. the staff-card prefix, if configured → [`ScanKind::StaffCard`];
//! 3. 13–14 digits starting with the library-card prefix, bare or wrapped in Codabar
//!    (NW-7) start/stop characters such as `A…B` → [`ScanKind::LibraryCard`]; the code
//!    handed on is the number without the start/stop characters;
//! 4. anything else printable → [`ScanKind::Item`], exactly as scanned.

use std::ops::RangeInclusive;

/// The prefix of a Method D label token (`MD1*<key id>*<date>*…`, see `kiosk-printer`).
pub const METHOD_D_PREFIX: &str = "MD1*";

/// What a scanned code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScanKind {
    LibraryCard,
    Item,
    MethodDLabel,
    StaffCard,
    /// No rule matched.
    Unknown,
}

/// The characters a rule allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Charset {
    /// `0`–`9`.
    Digits,
    /// Codabar (NW-7): digits, `A`–`D` (either case) and `- $ : / . +`.
    Codabar,
    /// Any printable ASCII, space included.
    Printable,
}

impl Charset {
    /// Whether `c` belongs to the set.
    #[must_use]
    pub fn allows(self, c: char) -> bool {
        match self {
            Charset::Digits => c.is_ascii_digit(),
            Charset::Codabar => c.is_ascii_digit() || is_codabar_guard(c) || "-$:/.+".contains(c),
            Charset::Printable => (' '..='~').contains(&c),
        }
    }
}

fn is_codabar_guard(c: char) -> bool {
    matches!(c, 'A'..='D' | 'a'..='d')
}

/// `A123B` → `Some("123")`: the text inside Codabar start/stop characters.
fn codabar_inner(text: &str) -> Option<&str> {
    let mut chars = text.chars();
    let (first, last) = (chars.next()?, chars.next_back()?);
    (is_codabar_guard(first) && is_codabar_guard(last)).then_some(chars.as_str())
}

/// One classification rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// What a matching code is.
    pub kind: ScanKind,
    /// The code starts with this (exact, case-sensitive); empty matches everything.
    pub prefix: String,
    /// Allowed lengths of the code in characters, prefix included.
    pub lengths: RangeInclusive<usize>,
    /// Allowed characters, prefix included.
    pub charset: Charset,
    /// Also try the code without Codabar start/stop characters (`A…B`); when that form
    /// matches, it is the code handed on.
    pub strip_codabar_guards: bool,
}

impl Rule {
    /// A rule for `kind` that matches any printable code of any length.
    #[must_use]
    pub fn new(kind: ScanKind) -> Rule {
        Rule {
            kind,
            prefix: String::new(),
            lengths: 1..=usize::MAX,
            charset: Charset::Printable,
            strip_codabar_guards: false,
        }
    }

    /// With a prefix.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Rule {
        self.prefix = prefix.into();
        self
    }

    /// With allowed lengths.
    #[must_use]
    pub fn lengths(mut self, lengths: RangeInclusive<usize>) -> Rule {
        self.lengths = lengths;
        self
    }

    /// With a character set.
    #[must_use]
    pub fn charset(mut self, charset: Charset) -> Rule {
        self.charset = charset;
        self
    }

    /// Also matching codes wrapped in Codabar start/stop characters.
    #[must_use]
    pub fn strip_codabar_guards(mut self) -> Rule {
        self.strip_codabar_guards = true;
        self
    }

    fn matches_exactly(&self, code: &str) -> bool {
        code.starts_with(self.prefix.as_str())
            && self.lengths.contains(&code.chars().count())
            && code.chars().all(|c| self.charset.allows(c))
    }

    /// The code handed on if this rule matches `raw`.
    fn matches<'a>(&self, raw: &'a str) -> Option<&'a str> {
        let inner = if self.strip_codabar_guards { codabar_inner(raw) } else { None };
        match inner {
            Some(inner) if self.matches_exactly(inner) => Some(inner),
            _ => self.matches_exactly(raw).then_some(raw),
        }
    }

    fn check(&self, index: usize) -> Result<(), RuleError> {
        if self.lengths.is_empty() || *self.lengths.end() == 0 {
            return Err(RuleError::NoLength { index, lengths: self.lengths.clone() });
        }
        if let Some(c) = self.prefix.chars().find(|&c| !self.charset.allows(c)) {
            return Err(RuleError::PrefixOutsideCharset {
                index,
                prefix: self.prefix.clone(),
                ch: c,
                charset: self.charset,
            });
        }
        if self.prefix.chars().count() > *self.lengths.end() {
            return Err(RuleError::PrefixTooLong {
                index,
                prefix: self.prefix.clone(),
                max: *self.lengths.end(),
            });
        }
        Ok(())
    }
}

/// A rule that could never match: a configuration mistake.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error(
        "scan rule {index}: the length range {lengths:?} allows no length; check its minimum and maximum"
    )]
    NoLength { index: usize, lengths: RangeInclusive<usize> },
    #[error(
        "scan rule {index}: the prefix {prefix:?} contains {ch:?}, which the rule's character set \
         {charset:?} does not allow, so the rule could never match; check the prefix"
    )]
    PrefixOutsideCharset { index: usize, prefix: String, ch: char, charset: Charset },
    #[error("scan rule {index}: the prefix {prefix:?} is longer than the maximum length {max}")]
    PrefixTooLong { index: usize, prefix: String, max: usize },
}

/// A classified scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sorted {
    pub kind: ScanKind,
    /// The code as the matching rule hands it on (Codabar start/stop characters removed
    /// if the rule strips them; otherwise exactly as scanned).
    pub code: String,
}

/// Ordered rules; the first match wins.
#[derive(Clone, Debug)]
pub struct Classifier {
    rules: Vec<Rule>,
}

impl Classifier {
    /// Lengths of a library card number in the standard rules.
    pub const LIBRARY_CARD_LENGTHS: RangeInclusive<usize> = 13..=14;

    /// A classifier with these rules, in order.
    ///
    /// # Errors
    /// [`RuleError`] for a rule that could never match.
    pub fn new(rules: Vec<Rule>) -> Result<Classifier, RuleError> {
        for (index, rule) in rules.iter().enumerate() {
            rule.check(index)?;
        }
        Ok(Classifier { rules })
    }

    /// The standard rules (see the module documentation). `library_card_prefix` is
    /// digits (may be empty: any 13–14 digit number is a card); `staff_card_prefix`
    /// adds a staff-card rule before it.
    ///
    /// # Errors
    /// [`RuleError::PrefixOutsideCharset`] for a library-card prefix that is not digits,
    /// [`RuleError::PrefixTooLong`] for one of 15 digits or more.
    pub fn standard(
        library_card_prefix: &str,
        staff_card_prefix: Option<&str>,
    ) -> Result<Classifier, RuleError> {
        let mut rules = vec![Rule::new(ScanKind::MethodDLabel).prefix(METHOD_D_PREFIX)];
        if let Some(staff) = staff_card_prefix {
            rules.push(Rule::new(ScanKind::StaffCard).prefix(staff).strip_codabar_guards());
        }
        rules.push(
            Rule::new(ScanKind::LibraryCard)
                .prefix(library_card_prefix)
                .lengths(Classifier::LIBRARY_CARD_LENGTHS)
                .charset(Charset::Digits)
                .strip_codabar_guards(),
        );
        rules.push(Rule::new(ScanKind::Item));
        Classifier::new(rules)
    }

    /// The rules, in order.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Classifies one scan.
    #[must_use]
    pub fn classify(&self, raw: &str) -> Sorted {
        for rule in &self.rules {
            if let Some(code) = rule.matches(raw) {
                return Sorted { kind: rule.kind, code: code.to_owned() };
            }
        }
        Sorted { kind: ScanKind::Unknown, code: raw.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(c: &Classifier, raw: &str) -> ScanKind {
        c.classify(raw).kind
    }

    fn standard() -> Classifier {
        match Classifier::standard("20", None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    const TOKEN: &str = "MD1*K3F2A*20260514*KIOSK01*ABCDEFGHIJKLMNOPQRSTUVWXYZ*2012345678901";

    #[test]
    fn method_d_tokens_by_prefix() {
        let c = standard();
        assert_eq!(c.classify(TOKEN), Sorted { kind: ScanKind::MethodDLabel, code: TOKEN.to_owned() });
        assert_eq!(kind(&c, "MD1*"), ScanKind::MethodDLabel);
        assert_eq!(kind(&c, "MD1"), ScanKind::Item, "no separator");
        assert_eq!(kind(&c, "md1*x"), ScanKind::Item, "case-sensitive");
        assert_eq!(kind(&c, "MD2*x"), ScanKind::Item);
    }

    #[test]
    fn library_cards_are_13_or_14_digits_with_the_prefix() {
        let c = standard();
        assert_eq!(kind(&c, "2012345678901"), ScanKind::LibraryCard);
        assert_eq!(kind(&c, "20123456789012"), ScanKind::LibraryCard);
        assert_eq!(kind(&c, "201234567890"), ScanKind::Item, "12 digits");
        assert_eq!(kind(&c, "201234567890123"), ScanKind::Item, "15 digits");
        assert_eq!(kind(&c, "3012345678901"), ScanKind::Item, "other prefix");
        assert_eq!(kind(&c, "20123456789O1"), ScanKind::Item, "a letter O");
        assert_eq!(kind(&c, "2012345-78901"), ScanKind::Item, "Codabar symbol, not a digit");
    }

    #[test]
    fn codabar_wrapped_library_cards_lose_their_start_stop_characters() {
        let c = standard();
        for raw in ["A2012345678901B", "a2012345678901d", "C20123456789012D"] {
            let scan = c.classify(raw);
            assert_eq!(scan.kind, ScanKind::LibraryCard, "{raw}");
            assert_eq!(scan.code, raw[1..raw.len() - 1], "{raw}");
        }
        assert_eq!(kind(&c, "A3012345678901B"), ScanKind::Item, "wrapped, other prefix");
        assert_eq!(c.classify("A3012345678901B").code, "A3012345678901B", "items stay as scanned");
        assert_eq!(kind(&c, "A2012345678901"), ScanKind::Item, "only a start character");
        assert_eq!(kind(&c, "E2012345678901B"), ScanKind::Item, "E is not a Codabar guard");
    }

    #[test]
    fn everything_else_printable_is_an_item() {
        let c = standard();
        for raw in ["1", "9784003101018", "T-0001/23", "A123B", "hello world", "~"] {
            assert_eq!(c.classify(raw), Sorted { kind: ScanKind::Item, code: raw.to_owned() });
        }
    }

    #[test]
    fn staff_cards_only_when_configured_and_before_library_cards() {
        assert!(standard().rules().iter().all(|r| r.kind != ScanKind::StaffCard));
        let c = match Classifier::standard("20", Some("209")) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(kind(&c, "2090000000001"), ScanKind::StaffCard, "staff rule comes first");
        assert_eq!(kind(&c, "S209"), ScanKind::Item);
        assert_eq!(c.classify("A2091B"), Sorted { kind: ScanKind::StaffCard, code: "2091".to_owned() });
        assert_eq!(kind(&c, "2012345678901"), ScanKind::LibraryCard);
        assert_eq!(kind(&c, TOKEN), ScanKind::MethodDLabel, "tokens before staff cards");
    }

    #[test]
    fn empty_library_card_prefix_takes_any_13_or_14_digits() {
        let c = match Classifier::standard("", None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(kind(&c, "9999999999999"), ScanKind::LibraryCard);
        assert_eq!(kind(&c, "999999999999"), ScanKind::Item);
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = vec![
            Rule::new(ScanKind::Item).prefix("1").lengths(3..=3).charset(Charset::Digits),
            Rule::new(ScanKind::LibraryCard).prefix("1"),
        ];
        let c = match Classifier::new(rules) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(kind(&c, "123"), ScanKind::Item);
        assert_eq!(kind(&c, "1234"), ScanKind::LibraryCard);
        assert_eq!(kind(&c, "12a"), ScanKind::LibraryCard);
    }

    #[test]
    fn no_matching_rule_is_unknown_with_the_raw_code() {
        let c = match Classifier::new(vec![Rule::new(ScanKind::Item).charset(Charset::Digits)]) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.classify("12x"), Sorted { kind: ScanKind::Unknown, code: "12x".to_owned() });
        let empty = match Classifier::new(Vec::new()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(kind(&empty, "1"), ScanKind::Unknown);
    }

    #[test]
    fn charsets() {
        for c in "0123456789".chars() {
            assert!(Charset::Digits.allows(c) && Charset::Codabar.allows(c) && Charset::Printable.allows(c));
        }
        for c in "ABCDabcd-$:/.+".chars() {
            assert!(!Charset::Digits.allows(c) && Charset::Codabar.allows(c), "{c:?}");
        }
        for c in "EeZz*# ".chars() {
            assert!(!Charset::Codabar.allows(c) && Charset::Printable.allows(c), "{c:?}");
        }
        for c in ['\n', '\t', '\u{7f}', 'é'] {
            assert!(!Charset::Printable.allows(c), "{c:?}");
        }
    }

    #[test]
    fn codabar_charset_rule() {
        let c = match Classifier::new(vec![
            Rule::new(ScanKind::Item).charset(Charset::Codabar).lengths(4..=20),
        ]) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(kind(&c, "A12-34$5:6/7.8+9B"), ScanKind::Item);
        assert_eq!(kind(&c, "A12*4B"), ScanKind::Unknown);
        assert_eq!(kind(&c, "A1B"), ScanKind::Unknown, "too short");
    }

    #[test]
    fn rules_that_could_never_match_are_refused() {
        assert!(matches!(
            Classifier::standard("2X", None),
            Err(RuleError::PrefixOutsideCharset { ch: 'X', .. })
        ));
        assert!(matches!(
            Classifier::standard("123456789012345", None),
            Err(RuleError::PrefixTooLong { max: 14, .. })
        ));
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = Rule::new(ScanKind::Item).lengths(5..=3);
        assert!(matches!(Classifier::new(vec![backwards]), Err(RuleError::NoLength { index: 0, .. })));
        let zero = Rule::new(ScanKind::Item).lengths(0..=0);
        assert!(matches!(
            Classifier::new(vec![Rule::new(ScanKind::Item), zero]),
            Err(RuleError::NoLength { index: 1, .. })
        ));
        let msg = match Classifier::standard("2X", None) {
            Err(e) => e.to_string(),
            Ok(_) => String::new(),
        };
        assert!(msg.contains("check the prefix"), "{msg}");
    }
}
