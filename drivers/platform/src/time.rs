//! RFC 3339 timestamps for the API, without a date-time crate (`der`'s calendar does the
//! arithmetic).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_cert::der::DateTime;

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn format_rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    match DateTime::from_unix_duration(Duration::from_secs(since.as_secs())) {
        Ok(d) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minutes(),
            d.seconds()
        ),
        Err(_) => "1970-01-01T00:00:00Z".to_owned(),
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset: i64 = match rest {
        "Z" | "z" => 0,
        // `get`, not indexing: the offset may hold any character (found by fuzzing: a
        // two-byte letter there panicked on a char boundary).
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.get(3..4) == Some(":") =>
        {
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            let v = h * 3600 + m * 60;
            if rest.starts_with('+') { v } else { -v }
        }
        _ => return None,
    };
    let dt = DateTime::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        u8::try_from(hour).ok()?,
        u8::try_from(min).ok()?,
        u8::try_from(sec).ok()?,
    )
    .ok()?;
    let secs = i64::try_from(dt.unix_duration().as_secs()).ok()? - offset;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_offsets() {
        let t = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let s = format_rfc3339(t);
        assert_eq!(s, "2026-09-21T14:13:20Z");
        assert_eq!(parse_rfc3339(&s), Some(t));
        assert_eq!(parse_rfc3339("2026-09-21T23:13:20.123+09:00"), Some(t));
        for bad in [
            "2026-09-21 14:13:20Z",
            "2026-13-21T14:13:20Z",
            "2026-09-21T14:13:20",
            "x",
            "2026-09-21T14:13:20.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    /// Found by fuzzing the platform's answers: a two-byte letter where the offset's
    /// colon goes panicked on a char boundary.
    #[test]
    fn an_offset_with_a_multibyte_letter_is_refused_not_a_panic() {
        for bad in [
            "2028-01-15T10:00:00-L\u{298}5Z",
            "2028-01-15T10:00:00+0\u{298}00",
            "2028-01-15T10:00:00+\u{298}\u{298}",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
