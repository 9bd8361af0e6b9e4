//! The screens' message catalogues (`translations/*/LC_MESSAGES/kiosk-ui.po`) for words
//! the kiosk shows or prints outside the screens: receipts and labels. One catalogue, so
//! a wording changed for the screen changes on paper too; `tests/actions.rs` checks that
//! every id used here is translated in every language, like the screens' ids.
//!
//! Only the `.po` features the catalogues use: `msgid`, `msgstr`, `msgid_plural` with
//! `msgstr[n]` (English and Portuguese: two forms; Japanese, Chinese, Korean and
//! Vietnamese: one), one-line strings.

use std::collections::HashMap;
use std::sync::OnceLock;

use kiosk_core::scene::{DueDate, Language};

struct Entry {
    forms: Vec<String>,
}

type Catalogue = HashMap<String, Entry>;

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    s.replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\")
}

fn parse(po: &str) -> Catalogue {
    let mut out = Catalogue::new();
    for block in po.split("\n\n") {
        let mut id = None;
        let mut forms: Vec<(usize, String)> = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("msgid ") {
                id = Some(unquote(v));
            } else if let Some(v) = line.strip_prefix("msgstr[") {
                if let Some((n, v)) = v.split_once("] ")
                    && let Ok(n) = n.parse()
                {
                    forms.push((n, unquote(v)));
                }
            } else if let Some(v) = line.strip_prefix("msgstr ") {
                forms.push((0, unquote(v)));
            }
        }
        forms.sort_by_key(|(n, _)| *n);
        let forms: Vec<String> = forms.into_iter().map(|(_, f)| f).collect();
        if let Some(id) = id.filter(|i| !i.is_empty())
            && forms.iter().all(|f| !f.is_empty())
            && !forms.is_empty()
        {
            out.insert(id, Entry { forms });
        }
    }
    out
}

/// A catalogue as receipts and labels print it: easy Japanese with its readings in
/// parentheses (without the screens' word joiners, which a printer lacks).
fn shown(language: Language, po: &str) -> Catalogue {
    let mut c = parse(po);
    if language == Language::EasyJapanese {
        for entry in c.values_mut() {
            for form in &mut entry.forms {
                *form = crate::furigana::parenthesised(form).replace('\u{2060}', "");
            }
        }
    }
    c
}

/// The catalogue's text as written, by language (`translations/<code>/LC_MESSAGES`).
#[must_use]
pub fn source(language: Language) -> &'static str {
    match language {
        Language::Japanese => include_str!("../../translations/ja/LC_MESSAGES/kiosk-ui.po"),
        Language::EasyJapanese => include_str!("../../translations/ja-easy/LC_MESSAGES/kiosk-ui.po"),
        Language::English => include_str!("../../translations/en/LC_MESSAGES/kiosk-ui.po"),
        Language::Chinese => include_str!("../../translations/zh-Hans/LC_MESSAGES/kiosk-ui.po"),
        Language::Korean => include_str!("../../translations/ko/LC_MESSAGES/kiosk-ui.po"),
        Language::Vietnamese => include_str!("../../translations/vi/LC_MESSAGES/kiosk-ui.po"),
        Language::Portuguese => include_str!("../../translations/pt-BR/LC_MESSAGES/kiosk-ui.po"),
    }
}

fn catalogue(language: Language) -> &'static Catalogue {
    static CATALOGUES: [OnceLock<Catalogue>; Language::ALL.len()] =
        [const { OnceLock::new() }; Language::ALL.len()];
    let i = Language::ALL.iter().position(|l| *l == language).unwrap_or(0);
    CATALOGUES[i].get_or_init(|| shown(language, source(language)))
}

/// The catalogues as written (easy Japanese with its ruby marks), for speech.
fn written(language: Language) -> &'static Catalogue {
    static CATALOGUES: [OnceLock<Catalogue>; Language::ALL.len()] =
        [const { OnceLock::new() }; Language::ALL.len()];
    let i = Language::ALL.iter().position(|l| *l == language).unwrap_or(0);
    CATALOGUES[i].get_or_init(|| parse(source(language)))
}

/// The catalogue's words for `msgid` as the voice says them: `args` put in, the plural's
/// form for `n` when `plural` is `(msgid_plural, n)`, and easy Japanese's readings in
/// place of its kanji.
#[must_use]
pub fn spoken(language: Language, msgid: &str, args: &[&str], plural: Option<(&str, u64)>) -> String {
    let forms = written(language).get(msgid).map(|e| e.forms.as_slice()).unwrap_or_default();
    let (index, n, fallback) = match plural {
        Some((many, n)) => (plural_form(language, n), Some(n), if n == 1 { msgid } else { many }),
        None => (0, None, msgid),
    };
    let text = forms.get(index).or_else(|| forms.first()).map_or(fallback, String::as_str);
    let text = fill(text, args, n);
    if language == Language::EasyJapanese { crate::furigana::spoken(&text) } else { text }
}

/// Which of a plural's forms `n` takes, by the catalogue's `Plural-Forms`.
fn plural_form(language: Language, n: u64) -> usize {
    match language {
        Language::English => usize::from(n != 1),
        // Brazilian Portuguese: 0 and 1 are singular.
        Language::Portuguese => usize::from(n > 1),
        Language::Japanese
        | Language::EasyJapanese
        | Language::Chinese
        | Language::Korean
        | Language::Vietnamese => 0,
    }
}

/// Puts `args` into a catalogue string: `{0}`, `{1}`… by position, `{}` in turn, `{n}`
/// for the count of a plural.
#[must_use]
pub fn fill(template: &str, args: &[&str], n: Option<u64>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let key = &after[..close];
        let value = match key {
            "" => {
                next += 1;
                args.get(next - 1).map(|s| (*s).to_owned())
            }
            "n" => n.map(|n| n.to_string()),
            k => k.parse::<usize>().ok().and_then(|i| args.get(i)).map(|s| (*s).to_owned()),
        };
        match value {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The catalogue's words for `msgid` in `language`, with `args` put in. An id missing
/// from the catalogue (the tests make that impossible) is used as it is.
#[must_use]
pub fn tr(language: Language, msgid: &str, args: &[&str]) -> String {
    let text = catalogue(language).get(msgid).and_then(|e| e.forms.first()).map_or(msgid, String::as_str);
    fill(text, args, None)
}

/// The language's name for itself, from its own catalogue: the language list shows each
/// language so, whatever the screen speaks now, and a patron finds their own.
#[must_use]
pub fn endonym(language: Language) -> String {
    tr(language, "This language's own name", &[])
}

/// A plural: the form for `n` (English: one or other; Portuguese: 0 and 1 or more;
/// Japanese, Chinese, Korean and Vietnamese have one form).
#[must_use]
pub fn tr_n(language: Language, singular: &str, plural: &str, n: u64) -> String {
    let forms = catalogue(language).get(singular).map(|e| e.forms.as_slice()).unwrap_or_default();
    let index = plural_form(language, n);
    let fallback = if n == 1 { singular } else { plural };
    let text = forms.get(index).or_else(|| forms.first()).map_or(fallback, String::as_str);
    fill(text, &[], Some(n))
}

/// A due date as the screens word it (12月7日（月）, Mon 7 Dec); the text as it is when it
/// is not a date.
#[must_use]
pub fn due_date(language: Language, text: &str) -> String {
    let Some(d) = DueDate::parse(text) else { return text.to_owned() };
    let weekday = match d.weekday {
        0 => tr(language, "Mon", &[]),
        1 => tr(language, "Tue", &[]),
        2 => tr(language, "Wed", &[]),
        3 => tr(language, "Thu", &[]),
        4 => tr(language, "Fri", &[]),
        5 => tr(language, "Sat", &[]),
        _ => tr(language, "Sun", &[]),
    };
    let month = match d.month {
        1 => tr(language, "Jan", &[]),
        2 => tr(language, "Feb", &[]),
        3 => tr(language, "Mar", &[]),
        4 => tr(language, "Apr", &[]),
        5 => tr(language, "May", &[]),
        6 => tr(language, "Jun", &[]),
        7 => tr(language, "Jul", &[]),
        8 => tr(language, "Aug", &[]),
        9 => tr(language, "Sep", &[]),
        10 => tr(language, "Oct", &[]),
        11 => tr(language, "Nov", &[]),
        _ => tr(language, "Dec", &[]),
    };
    tr(language, "{0} {1} {2}", &[&weekday, &d.day.to_string(), &month])
}
