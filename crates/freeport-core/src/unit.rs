//! Units of quantity and conversions within one dimension.
//!
//! Specific duties and specific consumption tax are "amount per unit" (CNY per litre, per stick, per
//! tonne). A declaration states quantities in the tariff line's legal units; the tax step converts
//! only within a dimension (ml to l, kg to t) and, where the law fixes a ratio, litres to tonnes.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::error::{FieldError, FieldErrorKind, FieldResult};
use crate::money::parse_non_negative;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Gram,
    Kilogram,
    Tonne,
    Millilitre,
    Litre,
    Metre,
    SquareMetre,
    CubicMetre,
    Piece,
    Pair,
    Set,
    Stick,
    Head,
    Carat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Mass,
    Volume,
    Length,
    Area,
    Count(Unit),
}

impl Unit {
    const ALL: [(Unit, &'static str); 14] = [
        (Unit::Gram, "g"),
        (Unit::Kilogram, "kg"),
        (Unit::Tonne, "t"),
        (Unit::Millilitre, "ml"),
        (Unit::Litre, "l"),
        (Unit::Metre, "m"),
        (Unit::SquareMetre, "m2"),
        (Unit::CubicMetre, "m3"),
        (Unit::Piece, "piece"),
        (Unit::Pair, "pair"),
        (Unit::Set, "set"),
        (Unit::Stick, "stick"),
        (Unit::Head, "head"),
        (Unit::Carat, "carat"),
    ];

    pub fn parse(field: &str, text: &str) -> FieldResult<Unit> {
        let t = text.trim().to_ascii_lowercase();
        Unit::ALL
            .iter()
            .find(|(_, code)| *code == t)
            .map(|(u, _)| *u)
            .ok_or_else(|| {
                let known: Vec<&str> = Unit::ALL.iter().map(|(_, c)| *c).collect();
                FieldError::new(
                    field,
                    FieldErrorKind::Unknown,
                    format!("unit {text:?} is not one of {}", known.join(", ")),
                )
            })
    }

    /// Every unit's code, as the wire writes it.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        Unit::ALL.iter().map(|(_, code)| *code)
    }

    pub fn code(self) -> &'static str {
        Unit::ALL
            .iter()
            .find(|(u, _)| *u == self)
            .map_or("?", |(_, c)| c)
    }

    /// The dimension and this unit's size in the dimension's base unit (kg, l, m, m2; counts are
    /// their own base).
    fn dimension(self) -> (Dimension, Decimal) {
        match self {
            Unit::Gram => (Dimension::Mass, Decimal::new(1, 3)),
            Unit::Kilogram => (Dimension::Mass, Decimal::ONE),
            Unit::Tonne => (Dimension::Mass, Decimal::ONE_THOUSAND),
            Unit::Millilitre => (Dimension::Volume, Decimal::new(1, 3)),
            Unit::Litre => (Dimension::Volume, Decimal::ONE),
            Unit::CubicMetre => (Dimension::Volume, Decimal::ONE_THOUSAND),
            Unit::Metre => (Dimension::Length, Decimal::ONE),
            Unit::SquareMetre => (Dimension::Area, Decimal::ONE),
            other => (Dimension::Count(other), Decimal::ONE),
        }
    }

    /// How many `to` make one `self`, when both share a dimension.
    pub fn factor_to(self, to: Unit) -> Option<Decimal> {
        let (d1, s1) = self.dimension();
        let (d2, s2) = to.dimension();
        (d1 == d2).then(|| s1 / s2)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// A non-negative quantity in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quantity {
    pub value: Decimal,
    pub unit: Unit,
}

impl Quantity {
    pub fn parse(field: &str, value: &str, unit: &str) -> FieldResult<Quantity> {
        Ok(Quantity {
            value: crate::limits::QUANTITY.parse(&format!("{field}.value"), value)?,
            unit: Unit::parse(&format!("{field}.unit"), unit)?,
        })
    }

    pub fn in_unit(self, to: Unit) -> Option<Decimal> {
        self.unit.factor_to(to).map(|f| self.value * f)
    }
}

/// The denominator of a specific rate: "0.5 CNY per 500 ml" has `per = 500 ml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PerQuantity {
    pub amount: Decimal,
    pub unit: Unit,
}

impl PerQuantity {
    /// Parses "l", "t", "stick" or "500 ml".
    pub fn parse(field: &str, text: &str) -> FieldResult<PerQuantity> {
        let t = text.trim();
        match t.split_once(' ') {
            Some((n, u)) => {
                let amount = parse_non_negative(field, n)?;
                if amount.is_zero() {
                    return Err(FieldError::new(
                        field,
                        FieldErrorKind::OutOfRange,
                        "the unit amount must be positive",
                    ));
                }
                Ok(PerQuantity {
                    amount,
                    unit: Unit::parse(field, u)?,
                })
            }
            None => Ok(PerQuantity {
                amount: Decimal::ONE,
                unit: Unit::parse(field, t)?,
            }),
        }
    }
}

impl fmt::Display for PerQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.amount == Decimal::ONE {
            write!(f, "{}", self.unit)
        } else {
            write!(f, "{} {}", self.amount, self.unit)
        }
    }
}

/// Finds how many `per` units a line's declared quantities hold. Same-dimension conversion first;
/// then litres to tonnes where the law fixes a ratio (Consumption Tax Implementing Rules Art. 10).
pub fn count_in(
    quantities: &[Quantity],
    per: PerQuantity,
    litres_per_tonne: Option<Decimal>,
) -> Option<Decimal> {
    let direct = quantities.iter().find_map(|q| q.in_unit(per.unit));
    let via_ratio = || {
        let ratio = litres_per_tonne?;
        if let Some(litres) = quantities.iter().find_map(|q| q.in_unit(Unit::Litre)) {
            let tonnes = litres / ratio;
            return Unit::Tonne.factor_to(per.unit).map(|f| tonnes * f);
        }
        let tonnes = quantities.iter().find_map(|q| q.in_unit(Unit::Tonne))?;
        Unit::Litre.factor_to(per.unit).map(|f| tonnes * ratio * f)
    };
    direct.or_else(via_ratio).map(|n| n / per.amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn converts_within_a_dimension_only() {
        assert_eq!(Unit::Millilitre.factor_to(Unit::Litre), Some(dec!(0.001)));
        assert_eq!(Unit::Tonne.factor_to(Unit::Kilogram), Some(dec!(1000)));
        assert_eq!(Unit::Kilogram.factor_to(Unit::Litre), None);
        assert_eq!(Unit::Piece.factor_to(Unit::Stick), None);
        assert_eq!(Unit::Stick.factor_to(Unit::Stick), Some(dec!(1)));
    }

    #[test]
    fn counts_per_quantity() {
        let q = [Quantity {
            value: dec!(1500),
            unit: Unit::Millilitre,
        }];
        let per = PerQuantity::parse("u", "500 ml").expect("valid");
        assert_eq!(count_in(&q, per, None), Some(dec!(3)));
        // 988 l of beer is one tonne under the implementing rules.
        let beer = [Quantity {
            value: dec!(1976),
            unit: Unit::Litre,
        }];
        let per_t = PerQuantity::parse("u", "t").expect("valid");
        assert_eq!(count_in(&beer, per_t, Some(dec!(988))), Some(dec!(2)));
        assert_eq!(count_in(&beer, per_t, None), None);
    }

    #[test]
    fn bad_units_name_the_field() {
        let e = Quantity::parse("lines[0].quantities[1]", "-3", "kg").expect_err("negative");
        assert_eq!(e.field, "lines[0].quantities[1].value");
        assert_eq!(e.kind, FieldErrorKind::OutOfRange);
        let e = Quantity::parse("q", "3", "bushel").expect_err("unknown unit");
        assert_eq!(e.field, "q.unit");
    }
}
