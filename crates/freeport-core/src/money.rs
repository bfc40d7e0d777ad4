//! Money and rates, exact to the fen.
//!
//! Amounts are `rust_decimal::Decimal`, never floats. Every rounding step is a named function tied to
//! the provision that prescribes it, so a reader can check the arithmetic against POLICY.md R8.4.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::error::{FieldError, FieldErrorKind, FieldResult};

/// An amount in yuan (CNY) that is exact to the fen, held as whole fen.
///
/// Whole fen in an `i64` is the storage form (STYLE rule 4) and makes sums exact integer additions;
/// `Decimal` is used only where a rate multiplies an amount. The only ways in are `round_fen`
/// (which applies the R8.4 rule), `from_fen`, and `parse`, which refuses more than two decimals
/// rather than rounding silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cny(i64);

/// 10^n for n ≤ 28, the largest scale a `Decimal` has.
const POW10: [i128; 29] = {
    let mut t = [1i128; 29];
    let mut i = 1;
    while i < 29 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

impl Cny {
    pub const ZERO: Cny = Cny(0);

    /// R8.4: customs values and each tax amount are rounded half-up to the fen
    /// ("完税价格采用四舍五入法计算至分"). At the midpoint the amount rounds away from zero, which is
    /// half-up for the non-negative amounts customs deals in.
    ///
    /// Works on the decimal's integer mantissa: one division by a power of ten. Amounts beyond
    /// ±92 quadrillion yuan cannot arise from validated input and saturate.
    pub fn round_fen(amount: Decimal) -> Cny {
        let mantissa = amount.mantissa();
        let scale = amount.scale() as usize;
        let fen = if scale <= 2 {
            mantissa * POW10[2 - scale]
        } else {
            let p = POW10[scale - 2];
            let (q, r) = (mantissa / p, mantissa % p);
            if r.abs() * 2 >= p {
                q + mantissa.signum()
            } else {
                q
            }
        };
        Cny(i64::try_from(fen).unwrap_or(if fen < 0 { i64::MIN } else { i64::MAX }))
    }

    pub const fn from_fen(fen: i64) -> Cny {
        Cny(fen)
    }

    /// Parses a decimal string of yuan with at most two decimals. `field` names the input field.
    pub fn parse(field: &str, text: &str) -> FieldResult<Cny> {
        let value = parse_decimal(field, text)?;
        if value.scale() > 2 && value.normalize().scale() > 2 {
            return Err(FieldError::new(
                field,
                FieldErrorKind::Malformed,
                format!(
                    "{text:?} has more than two decimal places; amounts in CNY are exact to the fen"
                ),
            ));
        }
        let fen = value * Decimal::ONE_HUNDRED;
        i64::try_from(fen.trunc()).map(Cny).map_err(|_| {
            FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!("{text} is beyond the largest amount handled"),
            )
        })
    }

    /// The amount as a decimal of yuan with scale 2, for multiplying by a rate.
    pub fn amount(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Whole fen, the storage form.
    pub const fn fen(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn max(self, other: Cny) -> Cny {
        Cny(self.0.max(other.0))
    }

    pub fn min(self, other: Cny) -> Cny {
        Cny(self.0.min(other.0))
    }
}

impl Add for Cny {
    type Output = Cny;
    fn add(self, rhs: Cny) -> Cny {
        Cny(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Cny {
    type Output = Cny;
    fn sub(self, rhs: Cny) -> Cny {
        Cny(self.0.saturating_sub(rhs.0))
    }
}

impl Sum for Cny {
    fn sum<I: Iterator<Item = Cny>>(iter: I) -> Cny {
        iter.fold(Cny::ZERO, Add::add)
    }
}

impl fmt::Display for Cny {
    /// Always with two decimals (`0.00`, `12.30`): amounts on the wire and in records show fen.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.amount())
    }
}

impl Serialize for Cny {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A proportion such as a tax rate: `0.13` is 13 %. Never negative; at most 1000 % (general tariff
/// rates exceed 100 %: cigarettes bear 180 %). The consumption-tax parser further demands c < 100 %,
/// since the gross-up divides by (1 − c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(Decimal);

impl Rate {
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// A rate from a percentage as written in schedules: `12` is 12 %.
    pub fn from_percent(field: &str, text: &str) -> FieldResult<Rate> {
        let pct = parse_decimal(field, text.trim().trim_end_matches('%'))?;
        if pct.is_sign_negative() || pct > Decimal::ONE_THOUSAND {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!("rate {text}% must be between 0 and 1000"),
            ));
        }
        Ok(Rate(pct / Decimal::ONE_HUNDRED))
    }

    pub fn fraction(self) -> Decimal {
        self.0
    }

    pub fn percent(self) -> Decimal {
        (self.0 * Decimal::ONE_HUNDRED).normalize()
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.percent())
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses a plain decimal (no exponent, no thousands separators), naming `field` on failure.
pub fn parse_decimal(field: &str, text: &str) -> FieldResult<Decimal> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(
            field,
            FieldErrorKind::Missing,
            "a decimal number is required",
        ));
    }
    let well_formed = t
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'))
        && t.bytes().filter(|b| *b == b'.').count() <= 1;
    if !well_formed {
        return Err(FieldError::new(
            field,
            FieldErrorKind::Malformed,
            format!("{t:?} is not a plain decimal number such as \"1234.50\""),
        ));
    }
    // A `Decimal` holds 28 significant digits and rounds what is beyond them; more digits than that
    // would be changed silently, so they are refused.
    let (int, frac) = t
        .trim_start_matches('-')
        .split_once('.')
        .unwrap_or((t.trim_start_matches('-'), ""));
    let significant = int.trim_start_matches('0').len() + frac.trim_end_matches('0').len();
    if significant > 28 {
        return Err(FieldError::new(
            field,
            FieldErrorKind::OutOfRange,
            format!("{t:?} has more than 28 significant digits"),
        ));
    }
    t.parse::<Decimal>().map_err(|e| {
        FieldError::new(
            field,
            FieldErrorKind::Malformed,
            format!("{t:?} is not a decimal number: {e}"),
        )
    })
}

/// Parses a decimal that must not be negative (quantities, values).
pub fn parse_non_negative(field: &str, text: &str) -> FieldResult<Decimal> {
    let d = parse_decimal(field, text)?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(FieldError::new(
            field,
            FieldErrorKind::OutOfRange,
            format!("{t} must not be negative", t = text.trim()),
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_up_to_the_fen() {
        assert_eq!(Cny::round_fen(dec!(1222222.2222)).to_string(), "1222222.22");
        assert_eq!(Cny::round_fen(dec!(1588888.8886)).to_string(), "1588888.89");
        assert_eq!(Cny::round_fen(dec!(0.005)).to_string(), "0.01");
        assert_eq!(Cny::round_fen(dec!(0.0049999)).to_string(), "0.00");
        assert_eq!(Cny::round_fen(dec!(12.3)).to_string(), "12.30");
        assert_eq!(Cny::round_fen(dec!(7)).to_string(), "7.00");
    }

    #[test]
    fn parse_refuses_sub_fen_amounts_and_garbage() {
        assert_eq!(Cny::parse("v", "12.5").map(|c| c.fen()), Ok(1250));
        assert_eq!(Cny::parse("v", "12.500").map(|c| c.fen()), Ok(1250));
        assert_eq!(
            Cny::parse("v", "12.505").map_err(|e| e.kind),
            Err(FieldErrorKind::Malformed)
        );
        assert_eq!(
            Cny::parse("v", "1e5").map_err(|e| e.kind),
            Err(FieldErrorKind::Malformed)
        );
        assert_eq!(
            Cny::parse("v", "").map_err(|e| e.kind),
            Err(FieldErrorKind::Missing)
        );
        assert_eq!(
            Cny::parse("v", "1,000").map_err(|e| e.field),
            Err("v".to_owned())
        );
    }

    #[test]
    fn rates_come_from_percentages() {
        let r = Rate::from_percent("vat", "13").map(Rate::fraction);
        assert_eq!(r, Ok(dec!(0.13)));
        assert_eq!(
            Rate::from_percent("t", "6.5%").map(|r| r.to_string()),
            Ok("6.5%".to_owned())
        );
        assert!(Rate::from_percent("t", "180").is_ok());
        assert!(Rate::from_percent("t", "1000.01").is_err());
        assert!(Rate::from_percent("t", "-1").is_err());
    }

    #[test]
    fn rounding_works_on_the_mantissa_at_any_scale() {
        assert_eq!(
            Cny::round_fen(dec!(-0.005)).fen(),
            -1,
            "away from zero at the midpoint"
        );
        assert_eq!(Cny::round_fen(dec!(-0.0049)).fen(), 0);
        assert_eq!(
            Cny::round_fen(dec!(12.3449999999999999999999999)).fen(),
            1234
        );
        assert_eq!(Cny::round_fen(dec!(12.345)).fen(), 1235);
        assert_eq!(Cny::round_fen(dec!(5)).fen(), 500);
        assert_eq!(Cny::round_fen(dec!(0.1)).fen(), 10);
        assert_eq!(
            Cny::parse("v", "100000000000000000000").map_err(|e| e.kind),
            Err(FieldErrorKind::OutOfRange)
        );
    }

    #[test]
    fn zero_and_whole_amounts_show_fen() {
        assert_eq!(Cny::ZERO.to_string(), "0.00");
        assert_eq!(Cny::default().to_string(), "0.00");
        assert_eq!(
            serde_json::to_string(&(Cny::ZERO + Cny::from_fen(500))).ok(),
            Some("\"5.00\"".to_owned())
        );
    }

    #[test]
    fn fen_round_trip() {
        assert_eq!(Cny::from_fen(123456).to_string(), "1234.56");
        assert_eq!(Cny::from_fen(-5).fen(), -5);
    }
}
