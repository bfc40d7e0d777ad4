//! The platform's clock, injected: the system's in production; one that tests and the drill set.
//!
//! Every time the application records (a commit's `at_ms`, a session's expiry, "today" for records
//! that default to it, the retrainer's window) comes from `Platform::clock`, so a test or a drill
//! can put the platform on any day. The outbox relay and the webhook dispatcher keep the wall
//! clock: they schedule real network retries.

use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = time::OffsetDateTime::now_utc();
        i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// A clock that stands still until it is set or moved on.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now_ms: i64) -> ManualClock {
        ManualClock(AtomicI64::new(now_ms))
    }

    /// A clock at midday (zone time) of `day`.
    pub fn at_day(day: time::Date) -> ManualClock {
        let midday = day.with_hms(12, 0, 0).expect("a valid time").assume_utc()
            - time::Duration::hours(ZONE_OFFSET_HOURS);
        ManualClock::new(
            i64::try_from(midday.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
        )
    }

    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The zone's civil time is UTC+8 (China Standard Time).
const ZONE_OFFSET_HOURS: i64 = 8;

/// The zone's day at `now_ms`.
pub fn zone_day(now_ms: i64) -> time::Date {
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (utc + time::Duration::hours(ZONE_OFFSET_HOURS)).date()
}

/// The first millisecond of the zone's `day`.
pub fn zone_day_start_ms(day: time::Date) -> i64 {
    let midnight = day.midnight().assume_utc() - time::Duration::hours(ZONE_OFFSET_HOURS);
    i64::try_from(midnight.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_day_starts_at_its_midnight_in_the_zone() {
        let day = time::macros::date!(2026 - 03 - 16);
        let start = zone_day_start_ms(day);
        assert_eq!(zone_day(start), day);
        assert_eq!(zone_day(start - 1), time::macros::date!(2026 - 03 - 15));
        // 2026-03-16T00:00+08:00 is 2026-03-15T16:00Z.
        assert_eq!(start, 1_773_590_400_000);
    }

    #[test]
    fn a_manual_clock_gives_the_zone_day_it_was_set_to() {
        let day = time::macros::date!(2026 - 03 - 16);
        let clock = ManualClock::at_day(day);
        assert_eq!(zone_day(clock.now_ms()), day);
        // 16:00 UTC is already the next day in the zone.
        clock.advance(12 * 3600 * 1000);
        assert_eq!(
            zone_day(clock.now_ms()),
            time::macros::date!(2026 - 03 - 17)
        );
    }
}
