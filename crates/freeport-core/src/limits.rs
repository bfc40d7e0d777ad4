//! The documented range of every number a user can send (`docs/reference/limits.md`).
//!
//! A number outside its range is refused with `out_of_range` naming the field; it is never clamped,
//! saturated or rounded away. The ceilings sit far below what the arithmetic holds (whole fen and
//! thousandths in an `i64`, 28 digits in a `Decimal`), so no accepted input, product, sum or running
//! total of a year's declarations can overflow: a single hostile value cannot poison a statistic
//! that later requests read.

use rust_decimal::Decimal;

use crate::error::{FieldError, FieldErrorKind, FieldResult};
use crate::money::Cny;

/// The range of one kind of number: a plain decimal of at most `integer_digits` digits before the
/// point (so below 10^integer_digits) and at most `decimals` after it, written without sign,
/// exponent, white space or leading zeros, as the OpenAPI document's pattern for it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub integer_digits: u32,
    /// The decimal places the value may carry; more is refused, never rounded.
    pub decimals: u32,
    /// Whether zero is accepted (a rate is positive; a quantity may be zero).
    pub zero: bool,
    /// At most 1 (a share).
    pub at_most_one: bool,
}

const fn bound(integer_digits: u32, decimals: u32) -> Bound {
    Bound {
        integer_digits,
        decimals,
        zero: true,
        at_most_one: false,
    }
}

/// Any amount in CNY a request states (a material's customs value, a sale price, revenue found, a
/// penalty): below 100 billion yuan, to the fen.
pub const AMOUNT_CNY: Bound = bound(11, 2);

/// A declaration line's value in the declaration's currency: below 100 billion units, at most
/// four decimals (the customs value is rounded to the fen by R8.4, not the declared value).
pub const LINE_VALUE: Bound = bound(11, 4);

/// A line's customs value in CNY once converted (R8.5): at most 100 billion yuan. The largest
/// single consignments customs sees (aircraft, ships, a year's crude oil cargo) stay far below.
pub const LINE_CUSTOMS_VALUE_YUAN: i64 = 100_000_000_000;

/// A whole declaration's customs value in CNY: at most one trillion yuan.
pub const DECLARATION_CUSTOMS_VALUE_YUAN: i64 = 1_000_000_000_000;

/// A quantity in a declaration, an account-book adjustment or a disposal: below one trillion
/// units, in thousandths (the account book's precision).
pub const QUANTITY: Bound = bound(12, 3);

/// A duty-free item's unit price: below 100 million yuan.
pub const SALE_UNIT_PRICE: Bound = bound(8, 2);

/// A duty-free item's quantity (and the quantity it counts for against a limit): below 10 000.
pub const SALE_QUANTITY: Bound = bound(4, 3);

/// An exchange rate in yuan per unit of a currency: positive, below 100 000, at most four
/// decimals (R8.5 publishes rates to four decimals).
pub const EXCHANGE_RATE: Bound = Bound {
    integer_digits: 5,
    decimals: 4,
    zero: false,
    at_most_one: false,
};

/// A share such as the encouraged-industry revenue share: between 0 and 1, at most four decimals.
pub const SHARE: Bound = Bound {
    integer_digits: 1,
    decimals: 4,
    zero: true,
    at_most_one: true,
};

impl Bound {
    /// Parses `text` as a decimal within this range, naming `field` when it is not.
    pub fn parse(self, field: &str, text: &str) -> FieldResult<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let plain = !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
        if !plain || (int.len() > 1 && int.starts_with('0')) {
            return Err(FieldError::new(
                field,
                FieldErrorKind::Malformed,
                format!(
                    "{text:?} is not a plain decimal such as \"1234.50\" (digits, one point, no sign, exponent, spaces or leading zeros)"
                ),
            ));
        }
        if negative {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!("{text} must not be negative"),
            ));
        }
        let decimals = frac.map_or(0, str::len);
        if decimals > self.decimals as usize {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!(
                    "{text} has more than {} decimal places; it is refused rather than rounded",
                    self.decimals
                ),
            ));
        }
        if int.len() > self.integer_digits as usize {
            return Err(self.too_large(field, text));
        }
        let value = text.parse::<Decimal>().map_err(|e| {
            FieldError::new(field, FieldErrorKind::Malformed, format!("{text:?}: {e}"))
        })?;
        self.check(field, value)?;
        Ok(value)
    }

    fn too_large(self, field: &str, text: &str) -> FieldError {
        let ceiling = if self.at_most_one {
            "1".to_owned()
        } else {
            format!("less than 10^{}", self.integer_digits)
        };
        FieldError::new(
            field,
            FieldErrorKind::OutOfRange,
            format!(
                "{text} is out of range: at most {} decimals and {ceiling}",
                self.decimals
            ),
        )
    }

    /// Checks a value (parsed, or computed) against this range.
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
        if value.is_sign_negative() && !value.is_zero() {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                format!("{value} must not be negative"),
            ));
        }
        let ceiling = if self.at_most_one {
            Decimal::ONE
        } else {
            Decimal::from(10i64.pow(self.integer_digits)) - Decimal::new(1, self.decimals)
        };
        if value > ceiling {
            return Err(self.too_large(field, &value.to_string()));
        }
        if !self.zero && value.is_zero() {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                "must be positive",
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

    /// The regular expression (ECMA 262, as JSON Schema reads it) of exactly the texts `parse`
    /// accepts.
    pub fn pattern(self) -> String {
        let d = self.decimals;
        let fraction = if d == 0 {
            String::new()
        } else {
            format!("(\\.[0-9]{{1,{d}}})?")
        };
        if self.at_most_one {
            let zeros = if d == 0 {
                String::new()
            } else {
                format!("(\\.0{{1,{d}}})?")
            };
            return format!("^(0{fraction}|1{zeros})$");
        }
        let n = self.integer_digits;
        let whole = format!("[1-9][0-9]{{0,{}}}", n.saturating_sub(1));
        if self.zero {
            return format!("^(0|{whole}){fraction}$");
        }
        // Positive: a whole part from 1, or 0 followed by a fraction that is not all zeros.
        let small: Vec<String> = (0..d)
            .map(|i| {
                let rest = d - 1 - i;
                let tail = if rest == 0 {
                    String::new()
                } else {
                    format!("[0-9]{{0,{rest}}}")
                };
                format!("{}[1-9]{tail}", "0".repeat(i as usize))
            })
            .collect();
        format!("^({whole}{fraction}|0\\.({}))$", small.join("|"))
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
            kind(QUANTITY.parse("q", "999999999999.999")),
            Ok("999999999999.999".parse().expect("decimal"))
        );
        assert_eq!(
            kind(QUANTITY.parse("q", "1000000000000")),
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
            kind(QUANTITY.parse("q", "-1")),
            Err(FieldErrorKind::OutOfRange)
        );
        for malformed in [" 1", "1 ", "01", "1.", ".5", "1e5", "+1", "1,000", ""] {
            assert_eq!(
                kind(QUANTITY.parse("q", malformed)),
                Err(FieldErrorKind::Malformed),
                "{malformed:?}"
            );
        }
        assert_eq!(
            kind(SALE_QUANTITY.parse("q", "79228162514264337593543950335")),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            kind(EXCHANGE_RATE.parse("r", "0.0000")),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            kind(SHARE.parse("s", "1.0001")),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            AMOUNT_CNY
                .parse_cny("a", "92233720368547758.07")
                .map_err(|e| e.kind),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(
            AMOUNT_CNY.parse_cny("a", "99999999999.99").map(Cny::fen),
            Ok(9_999_999_999_999)
        );
        assert_eq!(SALE_QUANTITY.parse_milli("q", "2.5"), Ok(2500));
    }

    /// The pattern the OpenAPI document publishes accepts exactly what `parse` accepts, on a
    /// spread of texts at and around every edge.
    #[test]
    fn each_pattern_says_exactly_what_parse_accepts() {
        let texts = [
            "0",
            "0.0",
            "0.00",
            "0.000",
            "0.0000",
            "0.00000",
            "0.0001",
            "0.001",
            "0.5",
            "1",
            "1.0",
            "1.0000",
            "1.00001",
            "9",
            "10",
            "01",
            "00",
            "1.",
            ".1",
            "-1",
            "-0",
            " 1",
            "1e3",
            "9999",
            "9999.999",
            "10000",
            "99999.9999",
            "100000",
            "99999999",
            "100000000",
            "99999999999.99",
            "100000000000",
            "99999999999.9999",
            "999999999999.999",
            "1000000000000",
            "12.345",
            "12.3456",
            "7.1234",
            "1.5",
        ];
        for b in [
            AMOUNT_CNY,
            LINE_VALUE,
            QUANTITY,
            SALE_UNIT_PRICE,
            SALE_QUANTITY,
            EXCHANGE_RATE,
            SHARE,
        ] {
            let pattern = b.pattern();
            for t in texts {
                assert_eq!(
                    matches(&pattern, t),
                    b.parse("x", t).is_ok(),
                    "{b:?} {pattern} on {t:?}"
                );
            }
        }
    }

    /// A small matcher for the patterns `Bound::pattern` writes: anchored alternatives of
    /// literals, `[0-9]`, `[1-9]`, `\\.` and `{m,n}` / `?` quantifiers over groups.
    fn matches(pattern: &str, text: &str) -> bool {
        let inner = pattern
            .strip_prefix('^')
            .and_then(|p| p.strip_suffix('$'))
            .expect("anchored");
        ends(inner.as_bytes(), text.as_bytes(), 0).contains(&text.len())
    }

    /// The top-level alternatives of `p`, split at the `|` outside any group.
    fn alternatives(p: &[u8]) -> Vec<&[u8]> {
        let (mut depth, mut start, mut out) = (0, 0, Vec::new());
        for (i, c) in p.iter().enumerate() {
            match c {
                b'(' => depth += 1,
                b')' => depth -= 1,
                b'|' if depth == 0 => {
                    out.push(&p[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(&p[start..]);
        out
    }

    /// Every position in `t` the pattern `p` can end at, starting from `from`.
    fn ends(p: &[u8], t: &[u8], from: usize) -> Vec<usize> {
        if p.is_empty() {
            return vec![from];
        }
        // One atom, then its quantifier.
        let (atom, rest) = split_atom(p);
        let ((min, max), rest) = quantifier(rest);
        let mut frontier = vec![from];
        let mut reached = Vec::new();
        for count in 0..=max {
            if count >= min {
                reached.extend(frontier.iter().copied());
            }
            if count == max {
                break;
            }
            let next: Vec<usize> = frontier
                .iter()
                .flat_map(|at| atom_ends(atom, t, *at))
                .collect();
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        reached
            .into_iter()
            .flat_map(|at| ends(rest, t, at))
            .collect()
    }

    /// The first atom of `p` (a group, a class, an escape or a literal) and what follows it.
    fn split_atom(p: &[u8]) -> (&[u8], &[u8]) {
        match p[0] {
            b'(' => {
                let mut depth = 0;
                let close = p
                    .iter()
                    .position(|c| {
                        match c {
                            b'(' => depth += 1,
                            b')' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .expect("balanced");
                (&p[..=close], &p[close + 1..])
            }
            b'[' => (&p[..5], &p[5..]),
            b'\\' => (&p[..2], &p[2..]),
            _ => (&p[..1], &p[1..]),
        }
    }

    /// The repetitions (`?`, `{m,n}` or `{n}`, else exactly once) an atom is followed by, and what
    /// follows them.
    fn quantifier(rest: &[u8]) -> ((usize, usize), &[u8]) {
        if rest.first() == Some(&b'?') {
            ((0, 1), &rest[1..])
        } else if rest.first() == Some(&b'{') {
            let close = rest.iter().position(|c| *c == b'}').expect("}");
            let inner = std::str::from_utf8(&rest[1..close]).expect("utf-8");
            let (a, b) = inner.split_once(',').unwrap_or((inner, inner));
            (
                (a.parse().expect("m"), b.parse().expect("n")),
                &rest[close + 1..],
            )
        } else {
            ((1, 1), rest)
        }
    }

    /// Where one occurrence of `atom` at `at` can end.
    fn atom_ends(atom: &[u8], t: &[u8], at: usize) -> Vec<usize> {
        match atom[0] {
            b'(' => alternatives(&atom[1..atom.len() - 1])
                .into_iter()
                .flat_map(|alt| ends(alt, t, at))
                .collect(),
            b'[' => {
                let (lo, hi) = (atom[1], atom[3]);
                t.get(at)
                    .filter(|c| (lo..=hi).contains(c))
                    .map(|_| at + 1)
                    .into_iter()
                    .collect()
            }
            b'\\' => t
                .get(at)
                .filter(|c| **c == atom[1])
                .map(|_| at + 1)
                .into_iter()
                .collect(),
            c => t
                .get(at)
                .filter(|x| **x == c)
                .map(|_| at + 1)
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn the_largest_accepted_values_cannot_overflow_what_holds_them() {
        // A thousand declarations at their ceiling, in fen.
        let declarations_fen = i128::from(DECLARATION_CUSTOMS_VALUE_YUAN) * 100 * 1_000;
        assert!(declarations_fen < i128::from(i64::MAX));
        // A sale basket at its ceiling: 100 items of the largest price and quantity, in fen.
        let basket_fen = 100
            * 10i128.pow(SALE_UNIT_PRICE.integer_digits)
            * 100
            * 10i128.pow(SALE_QUANTITY.integer_digits);
        assert!(basket_fen < i128::from(i64::MAX));
        // A line at the largest value and exchange rate, in fen.
        let line_fen =
            10i128.pow(LINE_VALUE.integer_digits) * 10i128.pow(EXCHANGE_RATE.integer_digits) * 100;
        assert!(line_fen < i128::from(i64::MAX));
        // A quantity at its ceiling in thousandths.
        assert!(10i128.pow(QUANTITY.integer_digits) * 1000 < i128::from(i64::MAX));
    }
}
