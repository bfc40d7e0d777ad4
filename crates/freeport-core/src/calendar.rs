//! Date rules: which day's exchange rate applies, deadlines, locks, ages and day counts.
//!
//! Time is a parameter everywhere: these functions take dates and never read a clock. Day-count
//! conventions follow Chinese legal usage, where the start day is not counted ("次日起算").

use std::collections::BTreeSet;

use time::format_description::BorrowedFormatItem;
use time::{Date, Duration, Month, Weekday};

use crate::error::{FieldError, FieldErrorKind, FieldResult};

/// The one way a day is written, on the wire, in packs, in rules and in the store: `YYYY-MM-DD`.
pub const DAY: &[BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Parses a `YYYY-MM-DD` day, naming `field` when the text is not one.
pub fn parse_day(field: &str, text: &str) -> FieldResult<Date> {
    Date::parse(text, DAY).map_err(|e| {
        FieldError::new(
            field,
            FieldErrorKind::Malformed,
            format!("{text:?} is not a date YYYY-MM-DD: {e}"),
        )
    })
}

/// Statutory public holidays (days off), used where a rule moves a date off a holiday.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    days: BTreeSet<Date>,
}

impl HolidayCalendar {
    pub fn new(days: impl IntoIterator<Item = Date>) -> Self {
        Self {
            days: days.into_iter().collect(),
        }
    }

    pub fn is_holiday(&self, day: Date) -> bool {
        self.days.contains(&day)
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The years the calendar covers, so a caller can tell when a date falls outside it.
    pub fn covers_year(&self, year: i32) -> bool {
        self.days.iter().any(|d| d.year() == year)
    }
}

/// The `n`-th (1-based) Wednesday of a month.
fn nth_wednesday(year: i32, month: Month, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (7 + Weekday::Wednesday.number_days_from_monday()
        - first.weekday().number_days_from_monday())
        % 7;
    first.checked_add(Duration::days(i64::from(offset) + 7 * (i64::from(n) - 1)))
}

/// R8.5: the exchange rate used for a declaration is the PBOC benchmark rate of the third Wednesday
/// of the previous month, or of the fourth Wednesday when the third is a statutory holiday.
pub fn customs_rate_date(declared_on: Date, holidays: &HolidayCalendar) -> Date {
    let (year, month) = match declared_on.month() {
        Month::January => (declared_on.year() - 1, Month::December),
        m => (declared_on.year(), m.previous()),
    };
    let third = nth_wednesday(year, month, 3).expect("every month has a third Wednesday");
    if holidays.is_holiday(third) {
        nth_wednesday(year, month, 4).expect("every month has a fourth Wednesday")
    } else {
        third
    }
}

/// A deadline of `days` days after `start`, the start day not counted (R1.9 ledger entry, R4.5
/// departure after buy-and-take). Released 2026-01-01 with 14 days gives 2026-01-15.
pub fn deadline_after(start: Date, days: u16) -> Date {
    start.saturating_add(Duration::days(i64::from(days)))
}

/// The last day of a period of whole `years` that starts on `from` (a ban or a listing "for 3
/// years from the decision": from 2026-03-01 to 2029-02-28 inclusive).
pub fn last_day_of_years(from: Date, years: u8) -> Date {
    add_months(from, u32::from(years) * 12)
        .previous_day()
        .unwrap_or(from)
}

/// Adds calendar months, keeping the day of month or clamping it to the month's last day.
pub fn add_months(date: Date, months: u32) -> Date {
    let total = date.year() * 12 + i32::from(u8::from(date.month()) - 1) + months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).expect("month index 1..=12");
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).expect("a clamped day is valid")
}

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DayRange {
    pub first: Date,
    pub last: Date,
}

impl DayRange {
    pub fn contains(&self, day: Date) -> bool {
        self.first <= day && day <= self.last
    }
}

/// R1.5: paying all import taxes waives zero tariff for the same kind of goods for `months` months
/// counted from the day after full payment. Paid 2026-03-10, 12 months: 2026-03-11 to 2027-03-10.
pub fn waiver_lock(paid_on: Date, months: u32) -> DayRange {
    let first = paid_on.next_day().expect("dates before year 9999");
    let last = add_months(first, months)
        .previous_day()
        .expect("dates after year -9999");
    DayRange { first, last }
}

/// Age in completed years on a day.
pub fn age_on(birth: Date, on: Date) -> i32 {
    let had_birthday = (on.month() as u8, on.day()) >= (birth.month() as u8, birth.day());
    on.year() - birth.year() - i32::from(!had_birthday)
}

/// Why batches cannot be consolidated into one declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsolidationError {
    #[error("no batches to consolidate")]
    Empty,
    #[error("batches from {0} and {1} span two calendar years; a consolidated declaration may not")]
    SpansTwoYears(i32, i32),
}

/// R2.5: batch exits are consolidated into a declaration due on the given day of the month after
/// the exits (the 25th in Hainan); one declaration may not span two calendar years. When batches
/// come from several months the earliest month's deadline binds, so no batch is declared late.
pub fn consolidated_declaration_due(
    exits: &[Date],
    due_day: u8,
) -> Result<Date, ConsolidationError> {
    let first = exits.iter().min().ok_or(ConsolidationError::Empty)?;
    let last = exits.iter().max().ok_or(ConsolidationError::Empty)?;
    if first.year() != last.year() {
        return Err(ConsolidationError::SpansTwoYears(first.year(), last.year()));
    }
    let month_start = first.replace_day(1).expect("day 1 exists");
    let next = add_months(month_start, 1);
    Ok(next
        .replace_day(due_day.min(time::util::days_in_month(next.month(), next.year())))
        .expect("clamped day exists"))
}

/// R3.4: the day on which cumulative days in a calendar year first exceed `limit`, counting each
/// stay's days inclusively in date order; `None` while within the limit.
pub fn day_limit_exceeded_on(stays: &[DayRange], year: i32, limit: u32) -> Option<Date> {
    let mut sorted: Vec<DayRange> = stays.to_vec();
    sorted.sort_by_key(|s| s.first);
    let mut counted: u32 = 0;
    for stay in sorted {
        let mut day = stay.first;
        while day <= stay.last {
            if day.year() == year {
                counted += 1;
                if counted > limit {
                    return Some(day);
                }
            }
            day = match day.next_day() {
                Some(d) => d,
                None => break,
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn tv17_october_2025_uses_the_rate_of_17_september() {
        assert_eq!(
            customs_rate_date(date!(2025 - 10 - 09), &HolidayCalendar::default()),
            date!(2025 - 09 - 17)
        );
    }

    #[test]
    fn a_holiday_third_wednesday_moves_to_the_fourth() {
        // Spring Festival 2026: 18 February is a holiday, so March declarations use 25 February.
        let holidays = HolidayCalendar::new([date!(2026 - 02 - 18)]);
        assert_eq!(
            customs_rate_date(date!(2026 - 03 - 02), &holidays),
            date!(2026 - 02 - 25)
        );
        assert_eq!(
            customs_rate_date(date!(2026 - 01 - 15), &holidays),
            date!(2025 - 12 - 17)
        );
    }

    #[test]
    fn tv14_waiver_lock_runs_from_the_day_after_payment() {
        let lock = waiver_lock(date!(2026 - 03 - 10), 12);
        assert_eq!(
            lock,
            DayRange {
                first: date!(2026 - 03 - 11),
                last: date!(2027 - 03 - 10)
            }
        );
        assert!(!lock.contains(date!(2027 - 03 - 11)));
    }

    #[test]
    fn tv15_ledger_entry_due_fourteen_days_after_release() {
        assert_eq!(
            deadline_after(date!(2026 - 01 - 01), 14),
            date!(2026 - 01 - 15)
        );
    }

    #[test]
    fn tv16_march_batches_are_due_on_25_april_and_cannot_join_january() {
        let march = [
            date!(2026 - 03 - 03),
            date!(2026 - 03 - 12),
            date!(2026 - 03 - 27),
        ];
        assert_eq!(
            consolidated_declaration_due(&march, 25),
            Ok(date!(2026 - 04 - 25))
        );
        assert_eq!(
            consolidated_declaration_due(&[date!(2026 - 12 - 20), date!(2027 - 01 - 05)], 25),
            Err(ConsolidationError::SpansTwoYears(2026, 2027))
        );
        assert_eq!(
            consolidated_declaration_due(&[date!(2026 - 12 - 20)], 25),
            Ok(date!(2027 - 01 - 25))
        );
    }

    #[test]
    fn tv20_coach_exceeds_120_days_on_day_121() {
        let stays = [
            DayRange {
                first: date!(2026 - 01 - 01),
                last: date!(2026 - 04 - 10),
            }, // 100 days
            DayRange {
                first: date!(2026 - 10 - 01),
                last: date!(2026 - 10 - 25),
            }, // 25 days
        ];
        assert_eq!(
            day_limit_exceeded_on(&stays, 2026, 120),
            Some(date!(2026 - 10 - 21))
        );
        assert_eq!(day_limit_exceeded_on(&stays[..1], 2026, 120), None);
    }

    #[test]
    fn ages_and_months() {
        assert_eq!(age_on(date!(2008 - 03 - 01), date!(2025 - 11 - 01)), 17);
        assert_eq!(age_on(date!(2008 - 03 - 01), date!(2026 - 03 - 01)), 18);
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 15), 14), date!(2028 - 01 - 15));
    }
}
