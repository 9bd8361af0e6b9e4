//! Walks the parsed TOML one section and one key at a time, recording a problem for
//! every value that is wrong and, at the end of each section, for every key nobody took.

use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::problems::{Collector, closest};
use super::secret::Secret;
use super::values::{Bad, Content, DataFile, ExistingFile};

pub(super) type Span = Range<usize>;

/// The result of reading one key.
#[derive(Debug)]
pub(super) enum Field<T> {
    /// The key is not in the file.
    Absent,
    /// The key is there but its value is wrong; a problem was recorded.
    Invalid,
    /// The key is there and its value is good.
    Present(T, Span),
}

impl<T> Field<T> {
    /// The value, or `default` when absent; `None` when invalid.
    pub(super) fn or(self, default: T) -> Option<T> {
        match self {
            Field::Absent => Some(default),
            Field::Invalid => None,
            Field::Present(v, _) => Some(v),
        }
    }

    /// `Some(None)` when absent, `Some(Some(v))` when good, `None` when invalid.
    pub(super) fn optional(self) -> Option<Option<T>> {
        match self {
            Field::Absent => Some(None),
            Field::Invalid => None,
            Field::Present(v, _) => Some(Some(v)),
        }
    }

    pub(super) fn span(&self) -> Option<Span> {
        match self {
            Field::Present(_, span) => Some(span.clone()),
            _ => None,
        }
    }
}

/// A closed set of string values for a key (a mode, a symbology, ...).
pub(super) trait Choice: Sized + Copy + PartialEq + 'static {
    /// Every accepted spelling and its value.
    const CHOICES: &'static [(&'static str, Self)];

    /// The spelling of `self` in the file.
    fn name(self) -> &'static str {
        Self::CHOICES.iter().find(|(_, v)| *v == self).map_or("?", |(n, _)| n)
    }
}

/// One run over one file: the problems found so far and where relative paths start.
#[derive(Debug)]
pub(super) struct Walk<'s> {
    pub(super) problems: Collector<'s>,
    base_dir: PathBuf,
}

impl<'s> Walk<'s> {
    pub(super) fn new(src: &'s str, origin: &Path) -> Self {
        let base_dir = match origin.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Walk { problems: Collector::new(src), base_dir }
    }

    pub(super) fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    pub(super) fn report(&mut self, span: Span, key: impl Into<String>, bad: Bad) {
        self.problems.report(span, key, bad.what, bad.fix);
    }
}

/// The sections of the file and the keys each may hold. Used for "did you mean".
pub(super) type Schema = &'static [(&'static str, &'static [&'static str])];

/// Takes the sections out of the document; reports top-level keys that are not sections.
pub(super) fn split_sections<'i>(
    walk: &mut Walk<'_>,
    mut doc: DeTable<'i>,
    schema: Schema,
) -> Vec<Section<'i>> {
    let mut sections = Vec::new();
    for &(name, known) in schema {
        let section = match doc.remove_entry(name) {
            None => Section::absent(name, known),
            Some((_, value)) => {
                // A `[name]` header's table spans the header itself; a dotted or
                // inline table spans its key or its braces. Either is where to point.
                let value_span = value.span();
                let header = value_span.clone();
                match value.into_inner() {
                    DeValue::Table(table) => {
                        Section { name, header: Some(header), entries: table, known, schema, broken: false }
                    }
                    other => {
                        let what = if matches!(other, DeValue::Array(_)) {
                            format!("[[{name}]] is a list of tables; there is only one [{name}]")
                        } else {
                            format!("`{name}` must be a section, found {}", article(other.type_str()))
                        };
                        walk.problems.report(
                            value_span,
                            name,
                            what,
                            format!("write a [{name}] header and put its keys below it"),
                        );
                        Section::absent(name, known).invalid()
                    }
                }
            }
        };
        sections.push(section);
    }
    for (key, value) in doc.iter() {
        let key_name = key.get_ref().as_ref();
        let section_names = schema.iter().map(|(n, _)| *n);
        let owner = schema.iter().find(|(_, keys)| keys.contains(&key_name));
        let fix = if let Some(near) = closest(key_name, section_names) {
            format!("did you mean [{near}]?")
        } else if let (Some((section, _)), false) = (owner, value.get_ref().is_table()) {
            format!("keys go below their section header; move it under [{section}]")
        } else {
            let all: Vec<String> = schema.iter().map(|(n, _)| format!("[{n}]")).collect();
            format!("remove it; the sections are {}", all.join(", "))
        };
        let what = if value.get_ref().is_table() {
            format!("unknown section [{key_name}]")
        } else {
            format!("unknown top-level key `{key_name}`")
        };
        walk.problems.report(key.span(), key_name, what, fix);
    }
    sections
}

fn article(type_str: &str) -> String {
    match type_str {
        "integer" | "array" => format!("an {type_str}"),
        other => format!("a {other}"),
    }
}

/// One `[section]` being read.
#[derive(Debug)]
pub(super) struct Section<'i> {
    name: &'static str,
    /// The span of the `[name]` header; `None` when the section is not in the file.
    header: Option<Span>,
    entries: DeTable<'i>,
    known: &'static [&'static str],
    schema: Schema,
    broken: bool,
}

impl<'i> Section<'i> {
    fn absent(name: &'static str, known: &'static [&'static str]) -> Self {
        Section { name, header: None, entries: DeTable::new(), known, schema: &[], broken: false }
    }

    /// Placeholder for a section [`split_sections`] did not return (it always does).
    pub(super) fn default_for(name: &'static str) -> Self {
        Section::absent(name, &[])
    }

    /// A section whose value was not a table: present (no "missing section" problem on
    /// top of the one already recorded) but not to be read.
    fn invalid(mut self) -> Self {
        self.header = Some(0..0);
        self.broken = true;
        self
    }

    /// Whether the section was not a table (a problem was recorded); read nothing from it.
    pub(super) fn is_broken(&self) -> bool {
        self.broken
    }

    pub(super) fn name(&self) -> &'static str {
        self.name
    }

    pub(super) fn is_present(&self) -> bool {
        self.header.is_some()
    }

    /// Where to point for "missing key": the header, or the top of the file.
    pub(super) fn header_span(&self) -> Span {
        self.header.clone().unwrap_or(0..0)
    }

    pub(super) fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.name)
    }

    fn take(&mut self, key: &str) -> Option<(Span, DeValue<'i>)> {
        debug_assert!(self.known.contains(&key), "{}.{key} missing from the schema", self.name);
        self.entries.remove(key).map(|v| (v.span(), v.into_inner()))
    }

    fn wrong_type(
        &self,
        walk: &mut Walk<'_>,
        key: &str,
        span: Span,
        found: &DeValue<'_>,
        expected: &str,
        fix: &str,
    ) {
        walk.problems.report(
            span,
            self.path(key),
            format!("expected {expected}, found {}", article(found.type_str())),
            fix.to_owned(),
        );
    }

    /// A string value.
    pub(super) fn string(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<String> {
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::String(s))) => Field::Present(s.into_owned(), span),
            Some((span, other)) => {
                let fix = format!("put the value in double quotes: {key} = \"...\"");
                self.wrong_type(walk, key, span, &other, "a string", &fix);
                Field::Invalid
            }
        }
    }

    /// A secret string: same as [`Self::string`], but the value goes straight into a
    /// zeroizing [`Secret`] and no message mentions it.
    pub(super) fn secret(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<Secret> {
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::String(s))) => Field::Present(Secret::new(s.into_owned()), span),
            Some((span, other)) => {
                let fix = format!("put the value in double quotes: {key} = \"...\"");
                self.wrong_type(walk, key, span, &other, "a string", &fix);
                Field::Invalid
            }
        }
    }

    pub(super) fn boolean(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<bool> {
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::Boolean(b))) => Field::Present(b, span),
            Some((span, other)) => {
                let fix = format!("write {key} = true or {key} = false, without quotes");
                self.wrong_type(walk, key, span, &other, "true or false", &fix);
                Field::Invalid
            }
        }
    }

    /// An integer within `range`; `unit` is used in the messages ("seconds").
    pub(super) fn integer(
        &mut self,
        walk: &mut Walk<'_>,
        key: &str,
        range: RangeInclusive<i64>,
        unit: &str,
    ) -> Field<i64> {
        let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
        let range_text = format!("from {} to {}{unit}", range.start(), range.end());
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::Integer(i))) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if range.contains(&n) => Field::Present(n, span),
                Ok(n) => {
                    walk.problems.report(
                        span,
                        self.path(key),
                        format!("{n}{unit} is out of range"),
                        format!("use a value {range_text}"),
                    );
                    Field::Invalid
                }
                Err(_) => {
                    walk.problems.report(
                        span,
                        self.path(key),
                        "number is far too large",
                        format!("use a value {range_text}"),
                    );
                    Field::Invalid
                }
            },
            Some((span, other)) => {
                let fix = if matches!(other, DeValue::Float(_)) {
                    format!("use a whole number {range_text}")
                } else {
                    format!("write a whole number {range_text}, without quotes")
                };
                self.wrong_type(walk, key, span, &other, "a whole number", &fix);
                Field::Invalid
            }
        }
    }

    /// Whole seconds within `range`, as a [`Duration`].
    pub(super) fn seconds(
        &mut self,
        walk: &mut Walk<'_>,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Field<Duration> {
        let (lo, hi) = (clamp_i64(*range.start()), clamp_i64(*range.end()));
        match self.integer(walk, key, lo..=hi, "seconds") {
            Field::Present(n, span) => Field::Present(Duration::from_secs(n.unsigned_abs()), span),
            Field::Absent => Field::Absent,
            Field::Invalid => Field::Invalid,
        }
    }

    /// One of a closed set of strings.
    pub(super) fn choice<C: Choice>(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<C> {
        let all: Vec<String> = C::CHOICES.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        let all = all.join(", ");
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::String(s))) => match C::CHOICES.iter().find(|(n, _)| *n == s.as_ref()) {
                Some((_, v)) => Field::Present(*v, span),
                None => {
                    let near = closest(&s, C::CHOICES.iter().map(|(n, _)| *n))
                        .map(|n| format!(" (did you mean \"{n}\"?)"))
                        .unwrap_or_default();
                    walk.problems.report(
                        span,
                        self.path(key),
                        format!("\"{s}\" is not one of the accepted values"),
                        format!("use one of {all}{near}"),
                    );
                    Field::Invalid
                }
            },
            Some((span, other)) => {
                let fix = format!("use one of {all}, in double quotes");
                self.wrong_type(walk, key, span, &other, "a string", &fix);
                Field::Invalid
            }
        }
    }

    /// A list of choices, at least one, no repeats.
    pub(super) fn choices<C: Choice>(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<Vec<C>> {
        let all: Vec<String> = C::CHOICES.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        let all = all.join(", ");
        let example = format!("{key} = [{all}]");
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::Array(items))) => {
                let mut out = Vec::new();
                let mut ok = true;
                for item in items.iter() {
                    let item_span = item.span();
                    match item.get_ref() {
                        DeValue::String(s) => match C::CHOICES.iter().find(|(n, _)| *n == s.as_ref()) {
                            Some((_, v)) if out.contains(v) => {
                                walk.problems.report(
                                    item_span,
                                    self.path(key),
                                    format!("\"{s}\" is listed twice"),
                                    "list each value once".to_owned(),
                                );
                                ok = false;
                            }
                            Some((_, v)) => out.push(*v),
                            None => {
                                walk.problems.report(
                                    item_span,
                                    self.path(key),
                                    format!("\"{s}\" is not one of the accepted values"),
                                    format!("use only {all}"),
                                );
                                ok = false;
                            }
                        },
                        other => {
                            walk.problems.report(
                                item_span,
                                self.path(key),
                                format!("expected a string, found {}", article(other.type_str())),
                                format!("write the list as {example}"),
                            );
                            ok = false;
                        }
                    }
                }
                if ok && out.is_empty() {
                    walk.problems.report(
                        span.clone(),
                        self.path(key),
                        "the list is empty",
                        format!("name at least one, e.g. {example}"),
                    );
                    ok = false;
                }
                if ok { Field::Present(out, span) } else { Field::Invalid }
            }
            Some((span, other)) => {
                self.wrong_type(walk, key, span, &other, "a list", &format!("write the list as {example}"));
                Field::Invalid
            }
        }
    }

    /// A path to an existing file with the given content; `purpose` says what it is.
    pub(super) fn existing_file(
        &mut self,
        walk: &mut Walk<'_>,
        key: &str,
        content: Content,
        purpose: &str,
    ) -> Field<ExistingFile> {
        let base = walk.base_dir().to_path_buf();
        self.string(walk, key)
            .then(walk, self.path(key), |raw| ExistingFile::check(&base, &raw, content, purpose))
    }

    /// A path to a file the kiosk reads and writes, in an existing directory.
    pub(super) fn data_file(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<DataFile> {
        let base = walk.base_dir().to_path_buf();
        self.string(walk, key).then(walk, self.path(key), |raw| DataFile::check(&base, &raw))
    }

    /// Records "missing" for an absent required key. `hint` is an example line.
    pub(super) fn required<T>(
        &self,
        walk: &mut Walk<'_>,
        key: &str,
        field: Field<T>,
        hint: &str,
    ) -> Option<T> {
        self.required_because(walk, key, field, hint, "")
    }

    /// [`Self::required`] for a key that is needed only in some configurations: `because`
    /// says which (", needed when mode = \"api\"").
    pub(super) fn required_because<T>(
        &self,
        walk: &mut Walk<'_>,
        key: &str,
        field: Field<T>,
        hint: &str,
        because: &str,
    ) -> Option<T> {
        match field {
            Field::Present(v, _) => Some(v),
            Field::Invalid => None,
            Field::Absent => {
                let fix = if self.is_present() {
                    format!("add `{hint}` under [{}]", self.name)
                } else {
                    format!("add the [{}] section with `{hint}`", self.name)
                };
                walk.problems.report_missing(
                    self.header_span(),
                    self.path(key),
                    format!("missing{because}"),
                    fix,
                );
                None
            }
        }
    }

    /// Ends the section: every key still here is reported. A key this section knows but
    /// did not take is "not used when {why_unused(key)}"; when that is `None` (say the
    /// mode was itself invalid) it is not reported. Unknown keys always are.
    pub(super) fn finish(self, walk: &mut Walk<'_>, why_unused: impl Fn(&str) -> Option<String>) {
        for (key, value) in self.entries.iter() {
            let name = key.get_ref().as_ref();
            let path = self.path(name);
            if self.known.contains(&name) {
                if let Some(context) = why_unused(name) {
                    walk.problems.report(
                        key.span(),
                        path,
                        format!("is not used when {context}"),
                        "remove it, or change the setting that makes it unused".to_owned(),
                    );
                }
                continue;
            }
            let what = if value.get_ref().is_table() {
                format!("unknown table `{path}`")
            } else {
                format!("unknown key `{path}`")
            };
            let fix = if let Some(near) = closest(name, self.known.iter().copied()) {
                if walk.problems.retract_missing(&self.path(near)) {
                    format!("did you mean `{near}`? ({near} is required)")
                } else {
                    format!("did you mean `{near}`?")
                }
            } else if let Some((owner, _)) =
                self.schema.iter().find(|(s, keys)| *s != self.name && keys.contains(&name))
            {
                format!("`{name}` belongs in [{owner}]; move it there")
            } else {
                format!("remove it; [{}] takes {}", self.name, self.known.join(", "))
            };
            walk.problems.report(key.span(), path, what, fix);
        }
    }
}

fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl<T> Field<T> {
    /// Runs a check on a present value; a failed check records a problem at its span.
    pub(super) fn then<U>(
        self,
        walk: &mut Walk<'_>,
        key_path: String,
        f: impl FnOnce(T) -> Result<U, Bad>,
    ) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Invalid => Field::Invalid,
            Field::Present(v, span) => match f(v) {
                Ok(u) => Field::Present(u, span),
                Err(bad) => {
                    walk.report(span, key_path, bad);
                    Field::Invalid
                }
            },
        }
    }
}
