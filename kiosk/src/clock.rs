//! The library's wall clock: today's date for Method D labels and the time printed on
//! receipts, in the library's time zone from the tz database. (The flow never reads it:
//! it runs on the orchestrator's monotonic clock.)
//!
//! The database is built into the binary (jiff's bundled copy), so a board image without
//! `/usr/share/zoneinfo` still knows Japan's zone; the system's copy is used when present.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use kiosk_printer::token::LabelDate;

/// The zone of the libraries this kiosk is made for.
pub const LIBRARY_ZONE: &str = "Asia/Tokyo";

/// Wall-clock time in one time zone.
#[derive(Clone, Debug)]
pub struct Clock {
    zone: TimeZone,
}

/// A zone name the tz database does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {name:?}: use a tz database name such as \"Asia/Tokyo\" ({source})")]
pub struct UnknownZone {
    name: String,
    source: jiff::Error,
}

impl Clock {
    /// The clock of the zone `name` ("Asia/Tokyo").
    ///
    /// # Errors
    /// [`UnknownZone`] when the tz database has no such zone.
    pub fn new(name: &str) -> Result<Clock, UnknownZone> {
        TimeZone::get(name)
            .map(|zone| Clock { zone })
            .map_err(|source| UnknownZone { name: name.to_owned(), source })
    }

    /// The library's clock ([`LIBRARY_ZONE`]).
    #[must_use]
    pub fn library() -> Clock {
        // The bundled database always has Asia/Tokyo; the fixed offset is what Japan has
        // used since 1951, should a trimmed system database lack it.
        Clock::new(LIBRARY_ZONE).unwrap_or_else(|_| Clock { zone: TimeZone::fixed(jiff::tz::offset(9)) })
    }

    /// Its time zone.
    #[must_use]
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The date and `YYYY-MM-DD HH:MM` at `at`.
    #[must_use]
    pub fn at(&self, at: Timestamp) -> (LabelDate, String) {
        let local = at.to_zoned(self.zone.clone());
        let (y, m, d) = (local.year(), local.month(), local.day());
        let date = u16::try_from(y)
            .ok()
            .and_then(|y| LabelDate::new(y, u8::try_from(m).ok()?, u8::try_from(d).ok()?))
            .unwrap_or_else(|| LabelDate::new(2026, 1, 1).unwrap_or_else(|| unreachable!("a valid date")));
        (date, local.strftime("%Y-%m-%d %H:%M").to_string())
    }

    /// Today's date and the time now.
    #[must_use]
    pub fn now(&self) -> (LabelDate, String) {
        self.at(Timestamp::now())
    }

    /// Seconds since local midnight now.
    #[must_use]
    pub fn seconds_of_day(&self) -> u32 {
        let local = Timestamp::now().to_zoned(self.zone.clone());
        let secs =
            i32::from(local.hour()) * 3600 + i32::from(local.minute()) * 60 + i32::from(local.second());
        u32::try_from(secs).unwrap_or(0)
    }

    /// Seconds east of UTC now (SIP2 dates are local times without a zone).
    #[must_use]
    pub fn utc_offset_secs(&self) -> i32 {
        self.zone.to_offset(Timestamp::now()).seconds()
    }
}

/// Today's date and the time now in the library's zone.
#[must_use]
pub fn local_now() -> (LabelDate, String) {
    Clock::library().now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japan_is_nine_hours_ahead_and_dates_turn_at_local_midnight() {
        let c = Clock::library();
        let (date, text) = c.at(Timestamp::UNIX_EPOCH);
        assert_eq!(date, LabelDate::new(1970, 1, 1).unwrap());
        assert_eq!(text, "1970-01-01 09:00");
        // 2026-11-22 15:00 UTC is already the 23rd in Japan.
        let (date, text) = c.at(Timestamp::from_second(1_795_359_600).unwrap());
        assert_eq!((date, text.as_str()), (LabelDate::new(2026, 11, 23).unwrap(), "2026-11-23 00:00"));
        assert_eq!(c.utc_offset_secs(), 9 * 3600);
    }

    #[test]
    fn a_zone_with_summer_time_follows_it_and_unknown_zones_are_named() {
        let berlin = Clock::new("Europe/Berlin").unwrap();
        let (_, winter) = berlin.at(Timestamp::from_second(1_795_359_600).unwrap());
        assert_eq!(winter, "2026-11-22 16:00");
        let (_, summer) = berlin.at(Timestamp::from_second(1_782_918_000).unwrap());
        assert_eq!(summer, "2026-07-01 17:00");
        let e = Clock::new("Asia/Tokio").unwrap_err().to_string();
        assert!(e.contains("Asia/Tokio") && e.contains("Asia/Tokyo"), "{e}");
    }
}
