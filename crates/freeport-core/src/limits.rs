//! The documented range of every number a user can send (`docs/reference/limits.md`).
//!
//! A number outside its range is refused with `out_of_range` naming the field; it is never clamped,
//! saturated or rounded away. The ceilings sit far below what the arithmetic holds (whole fen and
//! thousandths in an `i64`, 28 digits in a `Decimal`), so no accepted input, product, sum or running
//! total of a year's declarations can overflow: a single hostile value cannot poison a statistic
//! that later requests read.

use rust_decimal::Decimal;

use crate::error::{FieldError, FieldErrorKind, FieldResult};
use crate::money::{Cny, parse_non_negative};

/// The range of one kind of number: at most `max`, with at most `decimals` decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// The largest accepted value.
    pub max: i64,
    /// The decimal places the value may carry; more is refused, never rounded.
    pub decimals: u32,
    /// Whether zero is accepted (a rate is positive; a quantity may be zero).
    pub zero: bool,
}

/// Any amount in CNY a request states (a material's customs value, a sale price, revenue found, a
/// penalty): whole fen, at most 100 billion yuan.
pub const AMOUNT_CNY: Bound = Bound {
    max: 100_000_000_000,
    decimals: 2,
    zero: true,
};

/// A declaration line's value in the declaration's currency: at most 100 billion units, at most
/// four decimals (the customs value is rounded to the fen by R8.4, not the declared value).
pub const LINE_VALUE: Bound = Bound {
    max: 100_000_000_000,
    decimals: 4,
    zero: true,
};

/// A line's customs value in CNY once converted (R8.5): at most 100 billion yuan. The largest
/// single consignments customs sees (aircraft, ships, a year's crude oil cargo) stay far below.
pub const LINE_CUSTOMS_VALUE_YUAN: i64 = 100_000_000_000;

/// A whole declaration's customs value in CNY: at most one trillion yuan.
pub const DECLARATION_CUSTOMS_VALUE_YUAN: i64 = 1_000_000_000_000;

/// A quantity in a declaration, an account-book adjustment or a disposal: at most one trillion
/// units, in thousandths (the account book's precision).
pub const QUANTITY: Bound = Bound {
    max: 1_000_000_000_000,
    decimals: 3,
    zero: true,
};

/// A duty-free item's unit price: at most 100 million yuan.
pub const SALE_UNIT_PRICE: Bound = Bound {
    max: 100_000_000,
    decimals: 2,
    zero: true,
};

/// A duty-free item's quantity (and the quantity it counts for against a limit): at most 10 000.
pub const SALE_QUANTITY: Bound = Bound {
    max: 10_000,
    decimals: 3,
    zero: true,
};

/// An exchange rate in yuan per unit of a currency: positive, at most 100 000, at most four
/// decimals (R8.5 publishes rates to four decimals).
pub const EXCHANGE_RATE: Bound = Bound {
    max: 100_000,
    decimals: 4,
    zero: false,
};

/// A share such as the encouraged-industry revenue share: between 0 and 1, at most four decimals.
pub const SHARE: Bound = Bound {
    max: 1,
    decimals: 4,
    zero: true,
};

impl Bound {
    /// Parses `text` as a decimal within this range, naming `field` when it is not.
    pub fn parse(self, field: &str, text: &str) -> FieldResult<Decimal> {
        let value = parse_non_negative(field, text)?;
        self.check(field, value)?;
        Ok(value)
    }

    /// Checks a parsed value against this range.
    pub fn check(self, field: &str, value: Decimal) -> FieldResult<()> {
        if value.normalize().scale() > self.decimals {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!(
                    "{value} has more than {} decimal places; it is refused rather than rounded",
                    self.decimals
                ),
            ));
        }
        if value > Decimal::from(self.max) || value.is_sign_negative() && !value.is_zero() {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!("{value} is not between 0 and {}", self.max),
            ));
        }
        if !self.zero && value.is_zero() {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!("must be positive, at most {}", self.max),
            ));
        }
        Ok(())
    }

    /// Parses an amount of yuan within this range.
    pub fn parse_cny(self, field: &str, text: &str) -> FieldResult<Cny> {
        let value = self.parse(field, text)?;
        Ok(Cny::round_fen(value))
    }

    /// Parses a quantity within this range into whole thousandths.
    pub fn parse_milli(self, field: &str, text: &str) -> FieldResult<i64> {
        let value = self.parse(field, text)?;
        to_milli(field, value)
    }
}

/// A checked quantity as whole thousandths; the caller has bounded it, so this only refuses
/// sub-thousandth digits.
pub fn to_milli(field: &str, value: Decimal) -> FieldResult<i64> {
    let m = value
        .checked_mul(Decimal::ONE_THOUSAND)
        .filter(|m| m.fract().is_zero())
        .ok_or_else(|| {
            FieldError::new(field, FieldErrorKind::OutOfRange, "at most three decimals")
        })?;
    i64::try_from(m).map_err(|_| FieldError::new(field, FieldErrorKind::OutOfRange, "too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_a_range_are_refused_never_clamped_or_rounded() {
        let kind = |r: FieldResult<Decimal>| r.map_err(|e| e.kind);
        assert_eq!(
            kind(QUANTITY.parse("q", "1000000000000")),
            Ok(Decimal::from(1_000_000_000_000i64))
        );
        assert_eq!(
            kind(QUANTITY.parse("q", "1000000000000.001")),
            Err(FieldErrorKind::OutOfRange)
        );
        // 40 decimals: refused, not rounded to 0.
        assert_eq!(
            kind(QUANTITY.parse("q", "0.0000000000000000000000000000000000000001")),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            kind(QUANTITY.parse("q", "1.2345")),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            kind(QUANTITY.parse("q", "1.2340")).map(|d| d.normalize().scale()),
            Ok(3)
        );
        assert_eq!(
            kind(SALE_QUANTITY.parse("q", "79228162514264337593543950335")),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            kind(EXCHANGE_RATE.parse("r", "0")),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            AMOUNT_CNY
                .parse_cny("a", "92233720368547758.07")
                .map_err(|e| e.kind),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            AMOUNT_CNY.parse_cny("a", "100000000000.00").map(Cny::fen),
            Ok(10_000_000_000_000)
        );
        assert_eq!(SALE_QUANTITY.parse_milli("q", "2.5"), Ok(2500));
    }

    #[test]
    fn the_largest_accepted_values_cannot_overflow_what_holds_them() {
        // A thousand declarations at their ceiling, in fen.
        let declarations_fen = i128::from(DECLARATION_CUSTOMS_VALUE_YUAN) * 100 * 1_000;
        assert!(declarations_fen < i128::from(i64::MAX));
        // A sale basket at its ceiling: 100 items of the largest price and quantity, in fen.
        let basket_fen =
            100 * i128::from(SALE_UNIT_PRICE.max) * 100 * i128::from(SALE_QUANTITY.max);
        assert!(basket_fen < i128::from(i64::MAX));
        // A line at the largest value and exchange rate, in fen.
        let line_fen = i128::from(LINE_VALUE.max) * i128::from(EXCHANGE_RATE.max) * 100;
        assert!(line_fen < i128::from(i64::MAX));
        // A quantity at its ceiling in thousandths.
        assert!(i128::from(QUANTITY.max) * 1000 < i128::from(i64::MAX));
    }
}
