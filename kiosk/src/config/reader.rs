//! Walks the parsed TOML one section and one key at a time, recording a problem for
//! every value that is wrong and, at the end of each section, for every key nobody took.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::keys::{self, Choice, Key, Type, Unit};
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
    /// The key is not in the file; this is its default (from [`keys`]).
    Default(T),
    /// The key is there and its value is good.
    Present(T, Span),
}

impl<T> Field<T> {
    /// The value, from the file or the default; `None` when invalid (or, a bug, when
    /// absent from a key that has no default).
    pub(super) fn value(self) -> Option<T> {
        match self {
            Field::Absent | Field::Invalid => None,
            Field::Default(v) | Field::Present(v, _) => Some(v),
        }
    }

    /// `Some(None)` when absent, `Some(Some(v))` when good, `None` when invalid.
    pub(super) fn optional(self) -> Option<Option<T>> {
        match self {
            Field::Absent => Some(None),
            Field::Invalid => None,
            Field::Default(v) | Field::Present(v, _) => Some(Some(v)),
        }
    }

    /// A value read from the file (`span` is where) or from the default (`None`).
    fn found(value: T, span: Option<Span>) -> Field<T> {
        match span {
            Some(span) => Field::Present(value, span),
            None => Field::Default(value),
        }
    }

    pub(super) fn span(&self) -> Option<Span> {
        match self {
            Field::Present(_, span) => Some(span.clone()),
            _ => None,
        }
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

/// Takes the sections of [`keys::SECTIONS`] out of the document; reports top-level keys
/// that are not sections.
pub(super) fn split_sections<'i>(walk: &mut Walk<'_>, mut doc: DeTable<'i>) -> Vec<Section<'i>> {
    let mut sections = Vec::new();
    for &(name, known) in keys::SECTIONS {
        let section = match doc.remove_entry(name) {
            None => Section::absent(name),
            Some((_, value)) => {
                // A `[name]` header's table spans the header itself; a dotted or
                // inline table spans its key or its braces. Either is where to point.
                let value_span = value.span();
                let header = value_span.clone();
                match value.into_inner() {
                    DeValue::Table(table) => {
                        Section { name, header: Some(header), entries: table, known, broken: false }
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
                        Section::absent(name).invalid()
                    }
                }
            }
        };
        sections.push(section);
    }
    for (key, value) in doc.iter() {
        let key_name = key.get_ref().as_ref();
        let section_names = keys::SECTIONS.iter().map(|(n, _)| *n);
        let owner = keys::SECTIONS.iter().find(|(_, keys)| keys.iter().any(|k| k.name == key_name));
        let fix = if let Some(near) = closest(key_name, section_names) {
            format!("did you mean [{near}]?")
        } else if let (Some((section, _)), false) = (owner, value.get_ref().is_table()) {
            format!("keys go below their section header; move it under [{section}]")
        } else {
            let all: Vec<String> = keys::SECTIONS.iter().map(|(n, _)| format!("[{n}]")).collect();
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
    known: &'static [Key],
    broken: bool,
}

impl<'i> Section<'i> {
    /// A section not in the file: every key is absent (and read as its default).
    pub(super) fn absent(name: &'static str) -> Self {
        Section { name, header: None, entries: DeTable::new(), known: keys::of(name), broken: false }
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

    /// The key's row in the table.
    fn spec(&self, key: &str) -> Option<&'static Key> {
        let spec = self.known.iter().find(|k| k.name == key);
        debug_assert!(spec.is_some(), "{}.{key} is not in the key table", self.name);
        spec
    }

    fn ty(&self, key: &str) -> Option<Type> {
        self.spec(key).map(|k| k.ty)
    }

    /// The key's value and where it is; when the file does not have it, its default
    /// from the table, with no place.
    fn take(&mut self, key: &str) -> Option<(Option<Span>, DeValue<'i>)> {
        if let Some(v) = self.entries.remove(key) {
            return Some((Some(v.span()), v.into_inner()));
        }
        let default = DeValue::parse(self.spec(key)?.default?).ok()?;
        Some((None, default.into_inner()))
    }

    /// Where a problem with a value is: the value, or (a default) the section.
    fn at(&self, span: Option<Span>) -> Span {
        span.unwrap_or_else(|| self.header_span())
    }

    fn wrong_type(
        &self,
        walk: &mut Walk<'_>,
        key: &str,
        span: Option<Span>,
        found: &DeValue<'_>,
        expected: &str,
        fix: &str,
    ) {
        walk.problems.report(
            self.at(span),
            self.path(key),
            format!("expected {expected}, found {}", article(found.type_str())),
            fix.to_owned(),
        );
    }

    /// A string value.
    pub(super) fn string(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<String> {
        debug_assert!(matches!(self.ty(key), Some(Type::Text | Type::Path)), "{key}");
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::String(s))) => Field::found(s.into_owned(), span),
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
        debug_assert!(matches!(self.ty(key), Some(Type::Secret)), "{key}");
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::String(s))) => Field::found(Secret::new(s.into_owned()), span),
            Some((span, other)) => {
                let fix = format!("put the value in double quotes: {key} = \"...\"");
                self.wrong_type(walk, key, span, &other, "a string", &fix);
                Field::Invalid
            }
        }
    }

    pub(super) fn boolean(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<bool> {
        debug_assert!(matches!(self.ty(key), Some(Type::Bool)), "{key}");
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::Boolean(b))) => Field::found(b, span),
            Some((span, other)) => {
                let fix = format!("write {key} = true or {key} = false, without quotes");
                self.wrong_type(walk, key, span, &other, "true or false", &fix);
                Field::Invalid
            }
        }
    }

    /// A whole number in the key's range (or among its numbers).
    pub(super) fn integer(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<i64> {
        self.integer_noted(walk, key, "")
    }

    /// [`Self::integer`]; `note` ends the fix for a number that is not among the key's
    /// numbers (" (the manual says which)").
    pub(super) fn integer_noted(&mut self, walk: &mut Walk<'_>, key: &str, note: &str) -> Field<i64> {
        let ty = self.ty(key);
        let (numbers, unit) = ty.map(|t| (t.numbers(), t.unit())).unwrap_or_default();
        // A range reads "use a value from 1 to 300", a list "use 58 or 80".
        let (not, use_it, whole) = match ty {
            Some(Type::Number(_, _, not)) => (Some(not), format!("use {numbers}{note}"), numbers),
            _ => (None, format!("use a value {numbers}"), format!("a whole number {numbers}")),
        };
        let unit = unit.suffix();
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::Integer(i))) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if ty.is_some_and(|t| t.accepts(n)) => Field::found(n, span),
                Ok(n) => {
                    let what = match not {
                        Some(not) => format!("{n}{unit} is not {not}"),
                        None => format!("{n}{unit} is out of range"),
                    };
                    walk.problems.report(self.at(span), self.path(key), what, use_it);
                    Field::Invalid
                }
                Err(_) => {
                    walk.problems.report(self.at(span), self.path(key), "number is far too large", use_it);
                    Field::Invalid
                }
            },
            Some((span, other)) => {
                let fix = if matches!(other, DeValue::Float(_)) {
                    format!("use {whole}")
                } else {
                    format!("write {whole}, without quotes")
                };
                self.wrong_type(walk, key, span, &other, "a whole number", &fix);
                Field::Invalid
            }
        }
    }

    /// A whole number of the key's unit (seconds or milliseconds), as a [`Duration`].
    pub(super) fn duration(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<Duration> {
        let millis = matches!(self.ty(key), Some(Type::Int(_, _, Unit::Millis)));
        debug_assert!(millis || matches!(self.ty(key), Some(Type::Int(_, _, Unit::Seconds))), "{key}");
        match self.integer(walk, key) {
            Field::Present(n, span) => Field::Present(to_duration(n, millis), span),
            Field::Default(n) => Field::Default(to_duration(n, millis)),
            Field::Absent => Field::Absent,
            Field::Invalid => Field::Invalid,
        }
    }

    /// One of a closed set of strings.
    pub(super) fn choice<C: Choice>(&mut self, walk: &mut Walk<'_>, key: &str) -> Field<C> {
        debug_assert!(
            matches!(self.ty(key), Some(Type::OneOf(n)) if n() == keys::names::<C>()),
            "{key}: not this type's choices in the table"
        );
        let all: Vec<String> = C::CHOICES.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        let all = all.join(", ");
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::String(s))) => match C::CHOICES.iter().find(|(n, _)| *n == s.as_ref()) {
                Some((_, v)) => Field::found(*v, span),
                None => {
                    let near = closest(&s, C::CHOICES.iter().map(|(n, _)| *n))
                        .map(|n| format!(" (did you mean \"{n}\"?)"))
                        .unwrap_or_default();
                    walk.problems.report(
                        self.at(span),
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
        debug_assert!(
            matches!(self.ty(key), Some(Type::ListOf(n)) if n() == keys::names::<C>()),
            "{key}: not this type's choices in the table"
        );
        let all: Vec<String> = C::CHOICES.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        let all = all.join(", ");
        let example = format!("{key} = [{all}]");
        match self.take(key) {
            None => Field::Absent,
            Some((span, DeValue::Array(items))) => {
                let mut out = Vec::new();
                let mut ok = true;
                for item in items.iter() {
                    let item_span = if span.is_some() { item.span() } else { self.header_span() };
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
                        self.at(span.clone()),
                        self.path(key),
                        "the list is empty",
                        format!("name at least one, e.g. {example}"),
                    );
                    ok = false;
                }
                if ok { Field::found(out, span) } else { Field::Invalid }
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
    /// says which (", needed when mode = \"api\""). The fix says what the key is.
    pub(super) fn required_because<T>(
        &self,
        walk: &mut Walk<'_>,
        key: &str,
        field: Field<T>,
        hint: &str,
        because: &str,
    ) -> Option<T> {
        match field {
            Field::Present(v, _) | Field::Default(v) => Some(v),
            Field::Invalid => None,
            Field::Absent => {
                let meaning = self.spec(key).map(|k| format!(": {}", k.meaning)).unwrap_or_default();
                let fix = if self.is_present() {
                    format!("add `{hint}` under [{}]{meaning}", self.name)
                } else {
                    format!("add the [{}] section with `{hint}`{meaning}", self.name)
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
        let known = || self.known.iter().map(|k| k.name);
        for (key, value) in self.entries.iter() {
            let name = key.get_ref().as_ref();
            let path = self.path(name);
            if known().any(|k| k == name) {
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
            let replaced = keys::REPLACED.iter().find(|(s, old, _)| *s == self.name && *old == name);
            let fix = if let Some((_, _, instead)) = replaced {
                (*instead).to_owned()
            } else if let Some(near) = closest(name, known()) {
                if walk.problems.retract_missing(&self.path(near)) {
                    format!("did you mean `{near}`? ({near} is required)")
                } else {
                    format!("did you mean `{near}`?")
                }
            } else if let Some((owner, _)) =
                keys::SECTIONS.iter().find(|(s, keys)| *s != self.name && keys.iter().any(|k| k.name == name))
            {
                format!("`{name}` belongs in [{owner}]; move it there")
            } else {
                format!("remove it; [{}] takes {}", self.name, known().collect::<Vec<_>>().join(", "))
            };
            walk.problems.report(key.span(), path, what, fix);
        }
    }
}

fn to_duration(n: i64, millis: bool) -> Duration {
    if millis { Duration::from_millis(n.unsigned_abs()) } else { Duration::from_secs(n.unsigned_abs()) }
}

impl<T> Field<T> {
    /// Runs a check on a value (from the file or the default); a failed check records a
    /// problem at its span.
    pub(super) fn then<U>(
        self,
        walk: &mut Walk<'_>,
        key_path: String,
        f: impl FnOnce(T) -> Result<U, Bad>,
    ) -> Field<U> {
        let (v, span) = match self {
            Field::Absent => return Field::Absent,
            Field::Invalid => return Field::Invalid,
            Field::Default(v) => (v, None),
            Field::Present(v, span) => (v, Some(span)),
        };
        match f(v) {
            Ok(u) => Field::found(u, span),
            Err(bad) => {
                walk.report(span.unwrap_or(0..0), key_path, bad);
                Field::Invalid
            }
        }
    }
}
