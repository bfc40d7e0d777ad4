//! Passengers at the second-line channels (R5): the offshore duty-free goods a traveller carries
//! are checked against the person's purchase records for the departure. What the records cover
//! (never beyond the category's per-departure limit, R4.4) passes; what they do not is taxed at the
//! inbound-articles rate of its class (R5.2, R8.8), each line rounded half up to the fen (R8.4).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{FieldError, FieldErrorKind};
use crate::explain::{Detail, Step};
use crate::money::{Cny, Rate};
use crate::pack::PackVersion;
use crate::unit::Unit;

/// An article the passenger carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// A duty-free category of the pack.
    pub category: String,
    pub unit_price: Cny,
    pub quantity: Decimal,
}

/// A carried line as checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedLine {
    pub category: String,
    pub carried: Decimal,
    /// What the purchase records cover of it.
    pub covered: Decimal,
    pub excess: Decimal,
    pub taxed_value: Cny,
    pub class: u8,
    pub rate: Rate,
    pub tax: Cny,
}

/// The check of what a passenger carries.
#[derive(Debug, Clone, Serialize)]
pub struct PassengerCheck<'p> {
    pub lines: Vec<CheckedLine>,
    pub tax: Cny,
    /// Something was carried beyond the records: a finding, and a risk alert for the inspection.
    pub excess: bool,
    pub explanation: Vec<Step<'p>>,
}

/// Checks `carried` against `purchased` (per category, what the person's accepted purchases for the
/// departure hold, in pieces or the category's unit).
pub fn check<'p>(
    v: &'p PackVersion,
    carried: &[Carried],
    purchased: &BTreeMap<String, Decimal>,
) -> Result<PassengerCheck<'p>, FieldError> {
    // What the records still cover, per category: the purchases, capped by a per-departure limit
    // counted in pieces.
    let mut cover: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut lines = Vec::with_capacity(carried.len());
    let mut explanation = Vec::new();
    let mut tax = Cny::ZERO;
    for (i, c) in carried.iter().enumerate() {
        let (key, category) = v
            .duty_free
            .categories
            .get_key_value(&c.category)
            .ok_or_else(|| {
                FieldError::new(
                    format!("carried[{i}].category"),
                    FieldErrorKind::Unknown,
                    "not a duty-free category of the pack",
                )
            })?;
        let left = cover.entry(key.as_str()).or_insert_with(|| {
            let bought = purchased.get(key).copied().unwrap_or(Decimal::ZERO);
            match (category.per_departure_limit, category.limit_unit) {
                (Some(limit), Some(Unit::Piece)) => bought.min(limit),
                _ => bought,
            }
        });
        let covered = c.quantity.min(*left);
        *left -= covered;
        let excess = c.quantity - covered;
        let class = category.articles_tax_class.clamp(1, 3);
        let rate = v.articles_tax.rates[usize::from(class - 1)];
        let taxed_value = Cny::round_fen(excess * c.unit_price.amount());
        let line_tax = crate::tax::articles_tax(taxed_value, rate);
        if excess > Decimal::ZERO {
            explanation.push(Step {
                rule: v.rule(&v.articles_tax.rule),
                detail: Detail::ArticlesTax {
                    category: key,
                    excess,
                    unit_price: c.unit_price,
                    value: taxed_value,
                    class,
                    rate,
                    amount: line_tax,
                },
            });
        }
        tax = tax + line_tax;
        lines.push(CheckedLine {
            category: key.clone(),
            carried: c.quantity,
            covered,
            excess,
            taxed_value,
            class,
            rate,
            tax: line_tax,
        });
    }
    Ok(PassengerCheck {
        excess: lines.iter().any(|l| l.excess > Decimal::ZERO),
        lines,
        tax,
        explanation,
    })
}
