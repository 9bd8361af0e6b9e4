//! Every action name a `.slint` file can send is one the Rust side understands, and every
//! string the UI shows has a translation in both catalogues.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use kiosk_ui::{Key, Pad, UiAction};

fn slint_sources() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "slint") {
            all.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    all
}

/// The string literals after `name: "` and in `Kiosk.action("…")`.
fn action_names(src: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for marker in ["name: \"", "Kiosk.action(\""] {
        for part in src.split(marker).skip(1) {
            names.insert(part.split('"').next().unwrap().to_owned());
        }
    }
    names
}

#[test]
fn every_button_name_parses() {
    let names = action_names(&slint_sources());
    assert!(names.len() > 20, "{names:?}");
    for name in &names {
        // A name built from a prefix and a number ("renew-" + the row's number) or a
        // language's code ("language-" + "ko").
        let name = match name.as_str() {
            "language-" => format!("{name}ko"),
            n if n.ends_with('-') => format!("{name}1"),
            _ => name.clone(),
        };
        assert!(
            UiAction::parse(&name).is_some(),
            "the UI sends {name:?}, which UiAction::parse does not know"
        );
    }
    // Keypads build their names from a prefix.
    for d in 0..=9 {
        assert_eq!(UiAction::parse(&format!("digit-{d}")), Some(UiAction::Key(Pad::Card, Key::Digit(d))));
        assert_eq!(
            UiAction::parse(&format!("admin-digit-{d}")),
            Some(UiAction::Key(Pad::Staff, Key::Digit(d)))
        );
    }
    assert_eq!(UiAction::parse("admin-back"), Some(UiAction::Key(Pad::Staff, Key::Back)));
    assert_eq!(UiAction::parse("digit-10"), None);
    assert_eq!(UiAction::parse("renew-12"), Some(UiAction::Renew(12)));
    assert_eq!(UiAction::parse("renew-0"), None, "rows count from 1");
    assert_eq!(UiAction::parse("renew-x"), None);
    assert_eq!(UiAction::parse("launch-missiles"), None);
}

/// `@tr("…")` and `@tr("…" | "…" % n)` strings, as (singular, plural).
fn tr_strings(src: &str) -> BTreeSet<(String, Option<String>)> {
    let mut out = BTreeSet::new();
    for part in src.split("@tr(").skip(1) {
        let quoted = |s: &str| -> Option<(String, usize)> {
            let s2 = s.trim_start();
            let start = s.len() - s2.len();
            let body = s2.strip_prefix('"')?;
            let end = body.find('"')?;
            Some((body[..end].to_owned(), start + end + 2))
        };
        let (singular, used) = quoted(part).unwrap();
        let rest = part[used..].trim_start();
        let plural = rest.strip_prefix('|').and_then(quoted).map(|(p, _)| p);
        out.insert((singular, plural));
    }
    out
}

/// msgid → translated (non-empty msgstr or all msgstr[n]).
fn catalogue(lang: &str) -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("translations/{lang}/LC_MESSAGES/kiosk-ui.po"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut done = BTreeSet::new();
    for block in text.split("\n\n") {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().trim_matches('"').replace("\\\"", "\""))
        };
        let Some(id) = field("msgid ") else { continue };
        let translated = field("msgstr ").or_else(|| field("msgstr[0] ")).is_some_and(|s| !s.is_empty());
        if !id.is_empty() && translated {
            done.insert(id);
        }
    }
    done
}

/// The ids Rust code looks up (`tr(language, "…", …)`, `tr_n(language, "…", "…", n)`:
/// receipts and labels), in the kiosk's and this crate's sources.
fn rust_tr_strings() -> BTreeSet<(String, Option<String>)> {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("text/src"), &mut files);
    rust_files(&root.join("../kiosk/src"), &mut files);
    let mut out = BTreeSet::new();
    let mut unread = Vec::new();
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap();
        for call in ["tr(", "tr_n("] {
            for (at, _) in src.match_indices(call) {
                if src[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_')
                    || src[..at].ends_with("fn ")
                {
                    continue;
                }
                // `tr(language, "id"…` (on one line or wrapped): a name, a comma, then the
                // literal(s). Anything else is a call this test cannot read: it fails.
                let rest = &src[at + call.len()..];
                let Some((first, args)) = rest.split_once(',') else { continue };
                let first = first.trim();
                if first.is_empty() || !first.chars().all(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    unread.push(format!(
                        "{}: {call}{}",
                        file.display(),
                        rest.chars().take(40).collect::<String>()
                    ));
                    continue;
                }
                let literal = |s: &str| -> Option<(String, usize)> {
                    let t = s.trim_start();
                    let body = t.strip_prefix('"')?;
                    let end = body.find('"')?;
                    Some((body[..end].to_owned(), s.len() - t.len() + end + 2))
                };
                let Some((id, used)) = literal(args) else {
                    unread.push(format!(
                        "{}: {call}{}",
                        file.display(),
                        rest.chars().take(40).collect::<String>()
                    ));
                    continue;
                };
                let plural = if call == "tr_n(" {
                    args[used..].trim_start().strip_prefix(',').and_then(literal).map(|(p, _)| p)
                } else {
                    None
                };
                out.insert((id, plural));
            }
        }
    }
    assert!(
        unread.is_empty(),
        "calls whose catalogue id is not a literal this test can read:\n{}",
        unread.join("\n")
    );
    out
}

#[test]
fn the_printed_words_are_found_and_include_the_receipt_heading() {
    let strings = rust_tr_strings();
    assert!(strings.contains(&("Loan receipt".to_owned(), None)), "{strings:?}");
    assert!(strings.contains(&("{n} book borrowed".to_owned(), Some("{n} books borrowed".to_owned()))));
}

#[test]
fn every_ui_string_is_translated_in_every_language() {
    let mut strings = tr_strings(&slint_sources());
    strings.extend(rust_tr_strings());
    // The voice's own words (a due date's pieces are said, never shown).
    strings.extend(kiosk_ui::prompts::catalogue_ids().into_iter().map(|id| (id.to_owned(), None)));
    assert!(strings.len() > 100, "{}", strings.len());
    for lang in kiosk_ui::Language::ALL.map(kiosk_ui::Language::code) {
        let have = catalogue(lang);
        let missing: Vec<_> = strings.iter().filter(|(s, _)| !have.contains(s)).collect();
        assert!(missing.is_empty(), "{lang}: untranslated: {missing:?}");
        let used: BTreeSet<&String> = strings.iter().map(|(s, _)| s).collect();
        let stale: Vec<_> = have.iter().filter(|s| !used.contains(s)).collect();
        assert!(stale.is_empty(), "{lang}: translations for strings the UI no longer has: {stale:?}");
    }
}

/// Slint source up to the `;` that ends the expression it starts (a `;` inside a string
/// literal does not end it).
fn expression(src: &str) -> &str {
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in src.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            ';' if !in_str => return &src[..i],
            _ => {}
        }
    }
    src
}

/// The screens show words only through the catalogues: outside `@tr(…)`, no string
/// literal with a letter in it is shown (`text:`, `title:`, `body:`, accessible labels).
/// Languages name themselves in their own catalogues (`words::endonym`); the
/// window's title is the program's name (a desktop window manager's, never shown full
/// screen).
#[test]
fn no_shown_string_is_outside_the_catalogues() {
    // Shown properties, and what the `Books` global's functions return to them.
    const SHOWN: [&str; 6] =
        ["text:", "title:", "body:", "accessible-label:", "placeholder-text:", "return "];
    const ALLOWED: [&str; 1] = ["kiosk"];
    let mut found = Vec::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "slint") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        // A shown property's expression runs from its name to the `;` that ends it, on
        // its own line or inline (`BigButton { text: …; name: …; }`).
        let mut exprs = Vec::new();
        let mut line_start = 0;
        for (n, line) in src.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for prop in SHOWN {
                for (at, _) in code.match_indices(prop) {
                    let before = code[..at].chars().next_back();
                    let in_literal = code[..at].matches('"').count() % 2 == 1;
                    if !in_literal && before.is_none_or(|c| c.is_whitespace() || c == '{' || c == ';') {
                        exprs.push((n, expression(&src[line_start + at..])));
                    }
                }
            }
            line_start += line.len() + 1;
        }
        for (n, expr) in exprs {
            // Drop the `@tr(…)` calls (their literals are catalogue ids), then look at
            // what literals remain.
            let mut rest = String::new();
            let mut parts = expr.split("@tr(");
            rest.push_str(parts.next().unwrap_or_default());
            for part in parts {
                let mut depth = 1usize;
                let mut in_str = false;
                let mut end = part.len();
                for (i, c) in part.char_indices() {
                    match c {
                        '"' => in_str = !in_str,
                        '(' if !in_str => depth += 1,
                        ')' if !in_str => {
                            depth -= 1;
                            if depth == 0 {
                                end = i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest.push_str(&part[end..]);
            }
            for (i, literal) in rest.split('"').enumerate() {
                if i % 2 == 1 && literal.chars().any(char::is_alphabetic) && !ALLOWED.contains(&literal) {
                    found.push(format!("{}:{}: {literal:?}", path.file_name().unwrap().display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "words shown outside the catalogues:\n{}", found.join("\n"));
}

/// Rust source without its test module (at the end of a file, as clippy requires) and
/// without comment lines.
fn rust_code(path: &std::path::Path) -> Vec<(usize, String)> {
    let src = std::fs::read_to_string(path).unwrap();
    let all: Vec<&str> = src.lines().collect();
    let mut out = Vec::new();
    for (n, line) in all.iter().enumerate() {
        // `#[cfg(test)]`, perhaps more attributes, then `mod …`.
        let test_module = line.trim() == "#[cfg(test)]"
            && all[n + 1..]
                .iter()
                .find(|l| !l.trim_start().starts_with("#["))
                .is_some_and(|l| l.trim_start().starts_with("mod "));
        if test_module {
            break;
        }
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        out.push((n + 1, (*line).to_owned()));
    }
    out
}

/// The string literals on a line of Rust (plain `"…"` ones, escapes kept).
fn literals(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('"') {
        let body = &rest[start + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        out.push(&body[..end]);
        rest = &body[end + 1..];
    }
    out
}

/// Words a patron or librarian reads are not built in Rust: no Japanese in the code
/// (outside tests, comments, the demo's and the samples' data, and the config's examples
/// of a library's own names), and the view model (`kiosk-core`'s view and console, which
/// fill every screen) holds no words at all: it passes codes and the library system's
/// own data, which the catalogues word.
#[test]
fn no_shown_words_are_built_in_rust() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let japanese = |c: char| {
        ('\u{3040}'..='\u{30ff}').contains(&c)
            || ('\u{4e00}'..='\u{9fff}').contains(&c)
            || ('\u{ff01}'..='\u{ff5e}').contains(&c)
    };
    // Data, not words: the demo's books and patron, the sample scenes, and the config's
    // examples of a library's and a card's names.
    let data = ["kiosk/src/demo/", "ui/src/fixtures.rs", "kiosk/src/config/"];
    let mut dirs = vec![
        root.join("kiosk/src"),
        root.join("kiosk/core/src"),
        root.join("ui/src"),
        root.join("ui/text/src"),
        root.join("deploy/agent/src"),
    ];
    for entry in std::fs::read_dir(root.join("drivers")).unwrap() {
        dirs.push(entry.unwrap().path().join("src"));
    }
    let mut files = Vec::new();
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    for d in &dirs {
        walk(d, &mut files);
    }
    assert!(files.len() > 50, "{} files", files.len());
    let mut found = Vec::new();
    for file in &files {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        if data.iter().any(|d| name.starts_with(d)) {
            continue;
        }
        let view_model = name == "kiosk/core/src/view.rs" || name == "kiosk/core/src/console.rs";
        for (n, line) in rust_code(file) {
            // A Debug impl names the type for developers.
            if line.contains("write!(f,") {
                continue;
            }
            for lit in literals(&line) {
                if lit.chars().any(japanese)
                    || (view_model && lit.chars().filter(|c| c.is_alphabetic()).count() > 1)
                {
                    found.push(format!("{name}:{n}: {lit:?}"));
                }
            }
        }
    }
    assert!(found.is_empty(), "words built in Rust, not taken from the catalogues:\n{}", found.join("\n"));
}
