//! Release versions: dotted numbers (`2026.11.0`), compared number by number, so an
//! older bundle is refused (RAUC ≥ 1.12 does the same with `min-bundle-version`; the
//! agent checks too, because Debian's RAUC 1.8 cannot).

use std::cmp::Ordering;
use std::fmt;

/// A release version: numbers separated by dots, with an optional `-suffix` that is kept
/// for display and ignored in comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    numbers: Vec<u64>,
    text: String,
}

/// A version string that is not dotted numbers.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a release version (dotted numbers like 2026.11.0): {0:?}")]
pub struct BadVersion(pub String);

impl Version {
    /// Parses `2026.11.0` or `2026.11.0-rc1`.
    pub fn parse(text: &str) -> Result<Self, BadVersion> {
        let text = text.trim();
        let core = text.split(['-', '+']).next().unwrap_or_default();
        let numbers: Result<Vec<u64>, _> = core.split('.').map(str::parse::<u64>).collect();
        match numbers {
            Ok(numbers) if !numbers.is_empty() => Ok(Version { numbers, text: text.to_owned() }),
            _ => Err(BadVersion(text.to_owned())),
        }
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn cmp_numbers(&self, other: &Self) -> Ordering {
        let len = self.numbers.len().max(other.numbers.len());
        (0..len)
            .map(|i| {
                let a = self.numbers.get(i).copied().unwrap_or(0);
                let b = other.numbers.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// Whether `self` is strictly older than `other`.
    pub fn is_older_than(&self, other: &Self) -> bool {
        self.cmp_numbers(other) == Ordering::Less
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads `KEY=value` from an os-release style file (quotes stripped).
pub fn read_release_key(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_number_by_number() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2026.9.0").is_older_than(&v("2026.11.0")));
        assert!(!v("2026.11.0").is_older_than(&v("2026.9.0")));
        assert!(!v("2026.11.0").is_older_than(&v("2026.11")));
        assert!(v("1.2").is_older_than(&v("1.2.1")));
        assert!(Version::parse("abc").is_err());
        assert!(Version::parse("").is_err());
    }

    #[test]
    fn reads_os_release() {
        let text = "NAME=\"Kiosk\"\nVERSION_ID=\"2026.11.0\"\n";
        assert_eq!(read_release_key(text, "VERSION_ID").as_deref(), Some("2026.11.0"));
        assert_eq!(read_release_key(text, "MISSING"), None);
    }
}
