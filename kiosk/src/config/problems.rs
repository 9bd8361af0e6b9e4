//! What `check-config` prints: every problem in the file, each with its place and its fix.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid configuration. Lists every problem.
    #[error("{0}")]
    Invalid(Problems),
}

/// Every problem found in one configuration file, in file order.
///
/// `Display` prints one problem per line:
/// `<file>:<line>:<column>: <dotted.key>: <what is wrong>; <the fix>`.
/// No message ever contains the value of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    file: PathBuf,
    list: Vec<Problem>,
}

impl Problems {
    /// The file the problems are in, as given to [`super::load`] or [`super::parse`].
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The problems, in file order (problems of the whole file, such as a missing
    /// section, come first).
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.list.iter()
    }

    /// How many problems there are (at least one in a [`ConfigError::Invalid`]).
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none (never true in a [`ConfigError::Invalid`]).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl<'a> IntoIterator for &'a Problems {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.list.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{problem}", self.file.display())?;
        }
        Ok(())
    }
}

impl Problems {
    /// A single problem with no place in the file (line 1, column 1).
    pub(super) fn whole_file(file: &Path, key: &str, what: &str, fix: &str) -> Problems {
        Problems {
            file: file.to_path_buf(),
            list: vec![Problem {
                line: 1,
                column: 1,
                key: key.to_owned(),
                what: what.to_owned(),
                fix: fix.to_owned(),
            }],
        }
    }
}

/// One thing wrong in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    line: usize,
    column: usize,
    key: String,
    what: String,
    fix: String,
}

impl Problem {
    /// 1-based line of the offending value (or of the section header, for a missing key).
    #[must_use]
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column, in characters.
    #[must_use]
    pub fn column(&self) -> usize {
        self.column
    }

    /// The dotted key, such as `ils.port`, or a section name such as `library`
    /// (`syntax` for a TOML syntax error).
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is wrong.
    #[must_use]
    pub fn what(&self) -> &str {
        &self.what
    }

    /// How to fix it.
    #[must_use]
    pub fn fix(&self) -> &str {
        &self.fix
    }
}

impl fmt::Display for Problem {
    /// `<line>:<column>: <key>: <what>; <fix>` (the file name is added by [`Problems`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}; {}", self.line, self.column, self.key, self.what, self.fix)
    }
}

/// Collects problems while the file is checked; turns byte offsets into line and column.
#[derive(Debug)]
pub(super) struct Collector<'s> {
    src: &'s str,
    found: Vec<(usize, Problem)>,
    /// Indexes into `found` of "missing key" problems, by dotted key.
    missing: Vec<(String, usize)>,
}

impl<'s> Collector<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Collector { src, found: Vec::new(), missing: Vec::new() }
    }

    /// Records a problem at the start of `span`.
    pub(super) fn report(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        what: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let at = span.start.min(self.src.len());
        let (line, column) = line_column(self.src, at);
        self.found.push((at, Problem { line, column, key: key.into(), what: what.into(), fix: fix.into() }));
    }

    /// Records that a required key is missing; see [`Self::retract_missing`].
    pub(super) fn report_missing(&mut self, span: Range<usize>, key: String, what: String, fix: String) {
        self.missing.push((key.clone(), self.found.len()));
        self.report(span, key, what, fix);
    }

    /// Withdraws the "missing" problem of `key`, when an unknown key turned out to be
    /// its misspelling (that problem says it all). Whether there was one.
    pub(super) fn retract_missing(&mut self, key: &str) -> bool {
        let Some(pos) = self.missing.iter().position(|(k, _)| k == key) else {
            return false;
        };
        let (_, index) = self.missing.swap_remove(pos);
        if index < self.found.len() {
            self.found.remove(index);
        }
        for (_, later) in &mut self.missing {
            if *later > index {
                *later -= 1;
            }
        }
        true
    }

    pub(super) fn is_clean(&self) -> bool {
        self.found.is_empty()
    }

    /// The problems in file order; `None` when there are none.
    pub(super) fn finish(mut self, file: &Path) -> Option<Problems> {
        if self.found.is_empty() {
            return None;
        }
        // Stable: problems at the same place keep the order they were found in.
        self.found.sort_by_key(|(at, _)| *at);
        Some(Problems { file: file.to_path_buf(), list: self.found.into_iter().map(|(_, p)| p).collect() })
    }
}

/// 1-based line and character column of byte offset `at`.
fn line_column(src: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The candidate closest to `word` by edit distance (with transpositions), if it is
/// close enough to be a plausible typo.
pub(super) fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_lowercase(), c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// transpositions of neighbours each cost 1 (`hots` → `host` is 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_a_transposition_as_one() {
        assert_eq!(edit_distance("hots", "host"), 1);
        assert_eq!(edit_distance("prot", "port"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_suggests_only_plausible_typos() {
        let keys = ["host", "port", "tls", "mode"];
        assert_eq!(closest("hots", keys), Some("host"));
        assert_eq!(closest("PORT", keys), Some("port"));
        assert_eq!(closest("colour", keys), None);
    }

    #[test]
    fn line_column_counts_characters_not_bytes() {
        let src = "a = 1\nname = \"図書館\" x\n";
        let at = src.find('x').unwrap_or_default();
        assert_eq!(line_column(src, at), (2, 14));
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, src.len()), (3, 1));
    }
}
