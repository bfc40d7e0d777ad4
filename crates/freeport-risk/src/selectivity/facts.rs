//! A line's facts as the rules and the model see them, and the value reference they compare with.

use freeport_core::decision::Decision;
use freeport_core::declaration::{Declaration, Flow};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::platform_model::Case;
use crate::rules::Facts;

use super::settings::ValueReference;

/// One line's facts as the rules saw them, owned, so the risk record can keep them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineFacts {
    pub hs: String,
    pub origin: String,
    pub enterprise: String,
    pub credit_class: String,
    pub line: String,
    pub flow: String,
    pub declared_on: Date,
    pub value: Decimal,
    pub quantity: Decimal,
    pub unit: String,
    pub reference_unit_value: Option<Decimal>,
    /// The port the goods cross at; absent in records kept before declarations named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
}

impl LineFacts {
    /// The line as the learned model sees it.
    pub fn case(&self) -> Case {
        let f = |d: Decimal| f64::try_from(d).unwrap_or(f64::NAN);
        Case {
            hs: self.hs.clone(),
            origin: self.origin.clone(),
            enterprise: self.enterprise.clone(),
            credit_class: self.credit_class.clone(),
            flow: self.flow.clone(),
            value: f(self.value),
            quantity: f(self.quantity),
            reference_unit_value: self.reference_unit_value.map(f),
        }
    }

    pub fn facts(&self) -> Facts<'_> {
        Facts {
            hs: &self.hs,
            origin: &self.origin,
            departure: None,
            enterprise: &self.enterprise,
            declarant: None,
            seller: None,
            credit_class: &self.credit_class,
            line: &self.line,
            flow: &self.flow,
            port: self.port.as_deref(),
            declared_on: self.declared_on,
            value: self.value,
            quantity: self.quantity,
            reference_unit_value: self.reference_unit_value,
            tax_rate: None,
        }
    }
}

/// The wire name of a core enum (`second_line_exit`, `kg`): what the rules and the record speak.
pub fn wire_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `first`, `second` or `island`: the line a flow belongs to.
pub fn line_of(flow: Flow) -> &'static str {
    match flow {
        Flow::FirstLineImport | Flow::FirstLineExport => "first",
        Flow::SecondLineExit | Flow::SecondLineEntry => "second",
        Flow::IslandTransfer | Flow::Processing => "island",
    }
}

/// What a value reference is looked up by: a line's code and the unit of its first quantity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReferenceKey {
    pub hs_code: String,
    pub unit: String,
}

/// The keys of a declaration's lines, one per line, in line order.
pub fn reference_keys(d: &Declaration) -> Vec<ReferenceKey> {
    d.lines
        .iter()
        .map(|line| ReferenceKey {
            hs_code: line.hs_code.as_str().to_owned(),
            unit: line
                .quantities
                .first()
                .map(|q| wire_name(q.unit))
                .unwrap_or_default(),
        })
        .collect()
}

/// The days a value reference is taken over: the window before the declaration day, the day itself
/// excluded (a declaration never serves as its own reference).
pub fn reference_window(declared_on: Date, settings: &ValueReference) -> (Date, Date) {
    let to = declared_on.previous_day().unwrap_or(declared_on);
    let from = declared_on - time::Duration::days(i64::from(settings.window_days));
    (from, to)
}

/// What was declared of one code and unit over a window: lines, value in fen, quantity in
/// thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeclaredHistory {
    pub lines: i128,
    pub value_fen: i128,
    pub quantity_milli: i128,
}

/// The mean unit value of what was declared, once enough lines were; `None` below that.
pub fn reference_unit_value(h: DeclaredHistory, settings: &ValueReference) -> Option<Decimal> {
    if h.lines < i128::from(settings.min_lines) || h.quantity_milli <= 0 {
        return None;
    }
    let value = Decimal::try_from_i128_with_scale(h.value_fen, 2).ok()?;
    let quantity = Decimal::try_from_i128_with_scale(h.quantity_milli, 3).ok()?;
    Some(value.checked_div(quantity)?.round_dp(4))
}

/// The facts of each line of a decided declaration: its customs value from the decision, its
/// quantity in the first unit, and the value reference read for its key (`references[i]` for
/// line `i`).
pub fn line_facts(
    d: &Declaration,
    decision: &Decision<'_>,
    credit_class: &str,
    references: &[Option<Decimal>],
) -> Vec<LineFacts> {
    d.lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let quantity = line.quantities.first();
            LineFacts {
                hs: line.hs_code.as_str().to_owned(),
                origin: line.origin.as_str().to_owned(),
                enterprise: d.declarant.as_str().to_owned(),
                credit_class: credit_class.to_owned(),
                line: line_of(d.flow).to_owned(),
                flow: wire_name(d.flow),
                declared_on: d.declared_on,
                value: decision
                    .lines
                    .get(i)
                    .map_or(Decimal::ZERO, |l| l.customs_value.amount()),
                quantity: quantity.map_or(Decimal::ZERO, |q| q.value),
                unit: quantity.map(|q| wire_name(q.unit)).unwrap_or_default(),
                reference_unit_value: references.get(i).copied().flatten(),
                port: d.transport.as_ref().map(|t| t.port.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_needs_enough_lines_and_is_the_mean_unit_value() {
        let s = ValueReference {
            window_days: 365,
            min_lines: 5,
        };
        let h = DeclaredHistory {
            lines: 5,
            value_fen: 1_000_000,
            quantity_milli: 3_000,
        };
        assert_eq!(
            reference_unit_value(h, &s),
            Some(Decimal::new(33_333_333, 4))
        );
        let few = DeclaredHistory { lines: 4, ..h };
        assert_eq!(reference_unit_value(few, &s), None);
        let none = DeclaredHistory {
            quantity_milli: 0,
            ..h
        };
        assert_eq!(reference_unit_value(none, &s), None);
    }

    #[test]
    fn the_window_excludes_the_declaration_day() {
        let s = ValueReference {
            window_days: 365,
            min_lines: 5,
        };
        let day = time::macros::date!(2026 - 03 - 01);
        let (from, to) = reference_window(day, &s);
        assert_eq!(to, time::macros::date!(2026 - 02 - 28));
        assert_eq!(from, time::macros::date!(2025 - 03 - 01));
    }
}
