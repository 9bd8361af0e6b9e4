//! `cargo xtask licences`: every package in `Cargo.lock` that a build for the targets we
//! ship can use (`SHIPPED_TARGETS` in main.rs; build and dev dependencies included) carries
//! a licence the kiosk can be distributed with under GPL-3.0-or-later, and every workspace
//! member is GPL-3.0-or-later itself. (Crates only other platforms pull in are not read:
//! today that is webpki-root-certs, CDLA-Permissive-2.0, for rustls-platform-verifier off
//! Linux.)
//!
//! It reads `cargo metadata --locked` (the manifests cargo already has; no network when
//! the crates are downloaded, nothing fetched from an advisory or licence database) and
//! evaluates each package's SPDX `license` expression: `OR` passes when any alternative is
//! allowed, `AND` only when every part is, `WITH` only with an allowed exception. A package
//! with no `license` field (a `license-file` only), with an expression that does not parse,
//! or with none of its alternatives allowed, fails with its name, version and expression.

use std::fmt;

use serde_json::Value;

/// What every workspace member is licensed under (the workspace's `license`, LICENSE).
pub const OURS: &str = "GPL-3.0-or-later";

/// SPDX licence identifiers a dependency may carry, each with why it is compatible with
/// distributing the whole kiosk under GPL-3.0-or-later (the FSF's list of GPL-compatible
/// licences is the reference). Compatible is not all: most of these also ask that their
/// copyright notice travel with the binary, which this check does not look at.
pub const ALLOWED: &[(&str, &str)] = &[
    ("MIT", "permissive (Expat): keep the notice; GPL-compatible"),
    ("Apache-2.0", "permissive with a patent grant; compatible with GPL version 3 (not 2), which we are"),
    ("BSD-2-Clause", "permissive, no advertising clause: keep the notice; GPL-compatible"),
    ("BSD-3-Clause", "permissive, no advertising clause (the third forbids endorsement only)"),
    ("ISC", "permissive, MIT-like: keep the notice; GPL-compatible"),
    ("Zlib", "permissive: keep the notice, mark altered sources; GPL-compatible"),
    ("Unicode-3.0", "permissive, MIT-like (Unicode data and ICU4X); GPL-compatible"),
    ("Unicode-DFS-2016", "the earlier Unicode data licence, MIT-like; GPL-compatible"),
    (
        "MPL-2.0",
        "file-level copyleft whose section 3.3 lets the code be combined into a GPL work; the \
         MPL files stay MPL, their source offered with the binary as the GPL asks of ours",
    ),
    ("CC0-1.0", "public-domain dedication with a permissive fallback; the FSF lists it as compatible"),
    ("BSL-1.0", "Boost: permissive, no notice needed in binaries; GPL-compatible"),
    ("0BSD", "permissive without conditions"),
    ("Unlicense", "public-domain dedication; the FSF lists it as GPL-compatible"),
    ("LGPL-2.1-only", "LGPL 2.1 section 3 lets the code be used under the GPL (2 or later, so 3)"),
    ("LGPL-2.1-or-later", "as LGPL-2.1-only, and any later LGPL"),
    ("LGPL-3.0-only", "LGPL 3 is GPL 3 with extra permissions: usable under GPL 3"),
    ("LGPL-3.0-or-later", "as LGPL-3.0-only"),
    ("GPL-2.0-or-later", "may be used under GPL 3"),
    ("GPL-3.0-or-later", "our own licence"),
    (
        "GPL-3.0-only",
        "GPL 3 itself; with care: the binary that links it (Slint: the kiosk, kiosk-ui) can then \
         be distributed under GPL 3 only, not 'or later' (README, Licence)",
    ),
];

/// SPDX exceptions (`WITH`) that only add permissions to the licence they follow.
pub const ALLOWED_EXCEPTIONS: &[(&str, &str)] =
    &[("LLVM-exception", "Apache-2.0 with a permission to embed without the notice; nothing taken away")];

/// A parsed SPDX licence expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// An identifier (`+` already turned into `-or-later`), with its `WITH` exception.
    Licence {
        id: String,
        exception: Option<String>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Licence { id, exception: None } => write!(f, "{id}"),
            Expr::Licence { id, exception: Some(e) } => write!(f, "{id} WITH {e}"),
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
        }
    }
}

impl Expr {
    /// Whether the kiosk may use a package under this expression.
    pub fn allowed(&self) -> bool {
        match self {
            Expr::Licence { id, exception } => {
                ALLOWED.iter().any(|(a, _)| a == id)
                    && exception.as_ref().is_none_or(|e| ALLOWED_EXCEPTIONS.iter().any(|(a, _)| a == e))
            }
            Expr::And(a, b) => a.allowed() && b.allowed(),
            Expr::Or(a, b) => a.allowed() || b.allowed(),
        }
    }
}

/// Parses an SPDX expression: `WITH` binds tighter than `AND`, `AND` tighter than `OR`,
/// parentheses group. Also read as crates.io did before SPDX expressions: `/` as `OR`
/// (`MIT/Apache-2.0`), and the deprecated bare GPL-family ids (`GPL-3.0` = `GPL-3.0-only`,
/// `LGPL-2.1+` = `LGPL-2.1-or-later`).
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text);
    let mut parser = Parser { tokens: &tokens, at: 0 };
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(t) => Err(format!("unexpected `{t}`")),
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() || matches!(c, '(' | ')' | '/') {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

struct Parser<'a> {
    tokens: &'a [String],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<&str> {
        let t = self.tokens.get(self.at).map(String::as_str);
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("OR" | "/")) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.with()?;
        while self.peek() == Some("AND") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.with()?));
        }
        Ok(left)
    }

    fn with(&mut self) -> Result<Expr, String> {
        let expr = self.atom()?;
        if self.peek() != Some("WITH") {
            return Ok(expr);
        }
        self.at += 1;
        let Expr::Licence { id, exception: None } = expr else {
            return Err("WITH must follow a single licence".into());
        };
        match self.next() {
            Some(e) if is_id(e) => Ok(Expr::Licence { id, exception: Some(e.to_owned()) }),
            Some(t) => Err(format!("`{t}` is not an exception")),
            None => Err("nothing after WITH".into()),
        }
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some("(") => {
                let expr = self.or()?;
                match self.next() {
                    Some(")") => Ok(expr),
                    _ => Err("unclosed `(`".into()),
                }
            }
            Some(id) if is_id(id.trim_end_matches('+')) => {
                Ok(Expr::Licence { id: normalise(id), exception: None })
            }
            Some(t) => Err(format!("expected a licence, found `{t}`")),
            None => Err("expected a licence, found the end".into()),
        }
    }
}

fn is_id(word: &str) -> bool {
    !word.is_empty()
        && !matches!(word, "AND" | "OR" | "WITH")
        && word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
}

/// `X+` → `X-or-later`; a GPL-family id without `-only`/`-or-later` (deprecated) → `-only`.
fn normalise(id: &str) -> String {
    let (base, later) = match id.strip_suffix('+') {
        Some(base) => (base, true),
        None => (id, false),
    };
    let gpl_family = ["GPL-", "LGPL-", "AGPL-"].iter().any(|p| base.starts_with(p));
    if !gpl_family || base.ends_with("-only") || base.ends_with("-or-later") {
        return if later { format!("{base}-or-later") } else { base.to_owned() };
    }
    format!("{base}-{}", if later { "or-later" } else { "only" })
}

/// Why one package fails, or `None` when its licence is allowed.
pub fn problem(package: &Value, member: bool) -> Option<String> {
    let field = |k: &str| package.get(k).and_then(Value::as_str);
    let name = field("name").unwrap_or("?");
    let version = field("version").unwrap_or("?");
    let Some(licence) = field("license") else {
        let file = field("license_file").map(|f| format!(" (only a licence file: {f})")).unwrap_or_default();
        return Some(format!("{name} {version}: no SPDX licence expression{file}"));
    };
    if member {
        return (licence.trim() != OURS)
            .then(|| format!("{name} {version}: `{licence}`, but workspace members are {OURS}"));
    }
    match parse(licence) {
        Err(e) => Some(format!("{name} {version}: `{licence}` does not parse: {e}")),
        Ok(expr) if !expr.allowed() => {
            Some(format!("{name} {version}: `{licence}` has no alternative compatible with {OURS}"))
        }
        Ok(_) => None,
    }
}

/// Checks every package in `cargo metadata` JSON; the problems, one line each.
pub fn check_metadata(metadata: &Value) -> Result<usize, Vec<String>> {
    let members: Vec<&str> = metadata
        .get("workspace_members")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let packages = metadata.get("packages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if packages.is_empty() {
        return Err(vec!["cargo metadata listed no package".into()]);
    }
    let problems: Vec<String> = packages
        .iter()
        .filter_map(|p| {
            let id = p.get("id").and_then(Value::as_str).unwrap_or_default();
            problem(p, members.contains(&id))
        })
        .collect();
    if problems.is_empty() { Ok(packages.len()) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> bool {
        parse(text).unwrap().allowed()
    }

    #[test]
    fn or_passes_when_any_alternative_is_allowed() {
        assert!(ok("GPL-3.0-only OR LicenseRef-Slint-Royalty-free-2.0 OR LicenseRef-Slint-Software-3.0"));
        assert!(ok("MIT OR Apache-2.0"));
        assert!(ok("MIT/Apache-2.0"));
        assert!(ok("MIT / Apache-2.0"));
        assert!(!ok("LicenseRef-Slint-Royalty-free-2.0 OR GPL-2.0-only"));
        assert!(!ok("CDLA-Permissive-2.0"));
    }

    #[test]
    fn and_needs_every_part_and_binds_tighter_than_or() {
        assert!(ok("(MIT OR Apache-2.0) AND Unicode-3.0"));
        assert!(ok("Apache-2.0 AND ISC"));
        assert!(!ok("MIT AND SSPL-1.0"));
        assert!(!ok("(MIT OR Apache-2.0) AND LicenseRef-Proprietary"));
        // `SSPL-1.0 AND MIT OR Apache-2.0` is `(SSPL-1.0 AND MIT) OR Apache-2.0`.
        assert!(ok("SSPL-1.0 AND MIT OR Apache-2.0"));
        assert!(!ok("SSPL-1.0 AND (MIT OR Apache-2.0)"));
    }

    #[test]
    fn with_needs_an_allowed_exception() {
        assert!(ok("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT"));
        assert!(ok("Apache-2.0 WITH LLVM-exception"));
        assert!(!ok("Apache-2.0 WITH Some-unknown-exception"));
        assert!(!ok("GPL-2.0-only WITH Classpath-exception-2.0"));
    }

    #[test]
    fn deprecated_gpl_ids_are_read_as_spdx_says() {
        assert_eq!(parse("LGPL-2.1+").unwrap(), parse("LGPL-2.1-or-later").unwrap());
        assert_eq!(parse("GPL-3.0").unwrap(), parse("GPL-3.0-only").unwrap());
        assert!(!ok("GPL-2.0"));
        assert!(ok("GPL-2.0+"));
    }

    #[test]
    fn malformed_expressions_are_errors() {
        for bad in [
            "",
            "MIT OR",
            "(MIT OR Apache-2.0",
            "MIT Apache-2.0",
            "OR MIT",
            "MIT WITH",
            "(MIT OR ISC) WITH LLVM-exception",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn packages_without_a_licence_or_members_not_ours_fail_by_name_and_version() {
        let p =
            serde_json::json!({"name": "x", "version": "1.0.0", "license": null, "license_file": "LICENSE"});
        assert_eq!(
            problem(&p, false).unwrap(),
            "x 1.0.0: no SPDX licence expression (only a licence file: LICENSE)"
        );
        let member = serde_json::json!({"name": "kiosk-x", "version": "0.1.0", "license": "MIT"});
        assert!(problem(&member, true).unwrap().starts_with("kiosk-x 0.1.0: `MIT`"));
        assert!(problem(&member, false).is_none());
        let gpl = serde_json::json!({"name": "kiosk", "version": "0.1.0", "license": "GPL-3.0-or-later"});
        assert!(problem(&gpl, true).is_none());
    }
}
