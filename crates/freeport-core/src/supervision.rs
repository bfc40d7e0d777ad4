//! Supervision periods of duty-exempt goods (R3.4) and the value on which early disposal pays back
//! the taxes (R8.10).
//!
//! Pre-closure zero-tariff vessels and aircraft are supervised for 8 years, vehicles for 6, other
//! duty-exempt goods for 3, counted from release. Transferring or releasing them early pays import
//! taxes on a value depreciated by the time already supervised; diverting them to another use pays
//! on the share of the period they were diverted. Whether a part month counts as a month is open in
//! the rule book (U): `months_elapsed` counts whole months only, and the pack can fix it later.

use rust_decimal::Decimal;
use time::Date;

use crate::calendar::add_months;
use crate::money::Cny;

/// Whole calendar months from `from` to `to` (a month counts once its day of month is reached).
pub fn months_elapsed(from: Date, to: Date) -> u32 {
    if to <= from {
        return 0;
    }
    let mut months = (to.year() - from.year()) * 12 + i32::from(u8::from(to.month()))
        - i32::from(u8::from(from.month()));
    if add_months(from, u32::try_from(months.max(0)).unwrap_or(0)) > to {
        months -= 1;
    }
    u32::try_from(months.max(0)).unwrap_or(0)
}

/// The day supervision ends: `years` after release.
pub fn supervision_ends(released_on: Date, years: u32) -> Date {
    add_months(released_on, years * 12)
}

/// R8.10, transfer or early release: `CV × (1 − months elapsed / (years × 12))`, rounded to the fen;
/// zero once the period is over.
pub fn back_tax_value_on_transfer(
    customs_value: Cny,
    released_on: Date,
    disposed_on: Date,
    years: u32,
) -> Cny {
    let total = Decimal::from(years * 12);
    let elapsed = Decimal::from(months_elapsed(released_on, disposed_on)).min(total);
    if total.is_zero() {
        return Cny::ZERO;
    }
    Cny::round_fen(customs_value.amount() * (Decimal::ONE - elapsed / total))
}

/// R8.10, diversion to another use: `CV × days diverted / (years × 365)`, rounded to the fen.
pub fn back_tax_value_on_diversion(customs_value: Cny, days_diverted: u32, years: u32) -> Cny {
    let total = Decimal::from(years * 365);
    if total.is_zero() {
        return Cny::ZERO;
    }
    Cny::round_fen(customs_value.amount() * Decimal::from(days_diverted).min(total) / total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_count_whole_months_only() {
        assert_eq!(
            months_elapsed(date!(2024 - 01 - 15), date!(2024 - 10 - 14)),
            8
        );
        assert_eq!(
            months_elapsed(date!(2024 - 01 - 15), date!(2024 - 10 - 15)),
            9
        );
        assert_eq!(
            months_elapsed(date!(2024 - 01 - 31), date!(2024 - 02 - 29)),
            1
        );
        assert_eq!(
            months_elapsed(date!(2024 - 05 - 01), date!(2024 - 04 - 01)),
            0
        );
    }

    #[test]
    fn the_published_exam_example_300_times_one_minus_9_over_24() {
        // [S109]: goods worth 300 under a 2-year period, transferred after 9 months: 187.50.
        let value = back_tax_value_on_transfer(
            Cny::from_fen(30_000),
            date!(2024 - 01 - 15),
            date!(2024 - 10 - 15),
            2,
        );
        assert_eq!(value, Cny::from_fen(18_750));
        assert_eq!(
            supervision_ends(date!(2024 - 01 - 15), 2),
            date!(2026 - 01 - 15)
        );
        // After the period, nothing is due; diversion for 73 days of a 1-year period is a fifth.
        assert_eq!(
            back_tax_value_on_transfer(
                Cny::from_fen(30_000),
                date!(2020 - 01 - 15),
                date!(2026 - 01 - 15),
                2
            ),
            Cny::ZERO
        );
        assert_eq!(
            back_tax_value_on_diversion(Cny::from_fen(100_000), 73, 1),
            Cny::from_fen(20_000)
        );
    }
}
