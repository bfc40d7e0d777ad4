//! Supervision periods of duty-exempt goods (R3.4) and the value on which early disposal pays back
//! the taxes (R8.10).
//!
//! Pre-closure zero-tariff vessels and aircraft are supervised for 8 years, vehicles for 6, other
//! duty-exempt goods for 3, counted from release. Transferring or releasing them early pays import
//! taxes on a value depreciated by the time already supervised; diverting them to another use pays
//! on the share of the period they were diverted. Whether a part month counts as a month is open in
//! the rule book (U): `months_elapsed` counts whole months only, and the pack can fix it later.

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use crate::calendar::add_months;
use crate::country::Country;
use crate::error::{FieldError, FieldErrorKind};
use crate::explain::{Detail, Step};
use crate::hs::HsCode;
use crate::money::Cny;
use crate::pack::{PackVersion, PolicyPack};
use crate::tax::{Exemptions, TaxAmounts, compute};
use crate::unit::Quantity;

/// What remains under supervision of one goods line entered duty-exempt.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisedItem {
    pub hs_code: HsCode,
    pub origin: Country,
    pub consumption_tax_item: Option<String>,
    pub years: u32,
    pub released_on: Date,
    /// The quantity still supervised and its customs value.
    pub quantity: Quantity,
    pub customs_value: Cny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisposalKind {
    /// Sold or given to another party before the period ends.
    Transfer,
    /// Released from supervision at the holder's request before the period ends.
    EarlyRelease,
    /// Used for another purpose than the exemption's for `days` days; the goods stay supervised.
    Diversion { days: u32 },
}

/// The longest diversion a disposal states: ten years, longer than any supervision period (R3.4).
pub const MAX_DAYS_DIVERTED: u32 = 3653;

impl DisposalKind {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisposalKind::Transfer => "transfer",
            DisposalKind::EarlyRelease => "early_release",
            DisposalKind::Diversion { .. } => "diversion",
        }
    }

    /// Reads a kind and its days diverted, which only a diversion states.
    pub fn parse(kind: &str, days_diverted: Option<u32>) -> Result<DisposalKind, FieldError> {
        let days_error = |kind, reason: String| Err(FieldError::new("days_diverted", kind, reason));
        match (kind, days_diverted) {
            ("transfer", None) => Ok(DisposalKind::Transfer),
            ("early_release", None) => Ok(DisposalKind::EarlyRelease),
            ("diversion", Some(days)) if (1..=MAX_DAYS_DIVERTED).contains(&days) => {
                Ok(DisposalKind::Diversion { days })
            }
            ("diversion", Some(days)) => days_error(
                FieldErrorKind::OutOfRange,
                format!("{days} is not between 1 and {MAX_DAYS_DIVERTED}"),
            ),
            ("diversion", None) => days_error(
                FieldErrorKind::Missing,
                "a diversion states its days".to_owned(),
            ),
            ("transfer" | "early_release", Some(_)) => days_error(
                FieldErrorKind::Inconsistent,
                "only a diversion counts days".to_owned(),
            ),
            _ => Err(FieldError::new(
                "kind",
                FieldErrorKind::Unknown,
                "transfer, early_release or diversion",
            )),
        }
    }

    /// Whether the goods leave supervision (and the account book).
    pub fn ends_supervision(self) -> bool {
        !matches!(self, DisposalKind::Diversion { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Disposal {
    pub kind: DisposalKind,
    pub on: Date,
    /// The part of the supervised quantity disposed of (all of it for a diversion, which is
    /// about use, not quantity).
    pub quantity: Decimal,
}

/// A disposal as the holder asks for it: the quantity is absent when it is all that remains
/// (and always for a diversion, which concerns use, not quantity).
#[derive(Debug, Clone, PartialEq)]
pub struct DisposalOrder {
    pub kind: DisposalKind,
    pub on: Date,
    pub quantity: Option<Decimal>,
}

/// Where a supervised item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisedState {
    Supervised,
    /// Nothing is left under supervision.
    Disposed,
    /// Its declaration was cancelled or amended.
    Withdrawn,
}

impl SupervisedState {
    pub fn as_str(self) -> &'static str {
        match self {
            SupervisedState::Supervised => "supervised",
            SupervisedState::Disposed => "disposed",
            SupervisedState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<SupervisedState> {
        [
            SupervisedState::Supervised,
            SupervisedState::Disposed,
            SupervisedState::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// The back taxes of one disposal, explained.
#[derive(Debug, Clone)]
pub struct DisposalAssessment<'p> {
    /// The pack version whose rates apply: the one in force on the disposal day.
    pub pack: &'p PackVersion,
    pub kind: DisposalKind,
    pub on: Date,
    pub supervision_ends: Date,
    /// The customs value of the quantity disposed of.
    pub disposed_value: Cny,
    pub back_tax_value: Cny,
    pub taxes: TaxAmounts,
    pub steps: Vec<Step<'p>>,
}

/// R8.10: the import taxes owed for disposing of supervised goods before their period ends, at the
/// rates in force on the disposal day. After the period, nothing is owed.
pub fn assess_disposal<'p>(
    pack: &'p PolicyPack,
    item: &SupervisedItem,
    disposal: &Disposal,
) -> Result<DisposalAssessment<'p>, FieldError> {
    let v = version_for_disposal(pack, item, disposal)?;
    let disposed_value = disposed_customs_value(item, disposal);
    let ends = supervision_ends(item.released_on, item.years);
    let mut steps = Vec::new();
    if disposal.on >= ends {
        steps.push(Step {
            rule: v.rule(&v.supervision.rule),
            detail: Detail::Finding(
                "the supervision period is over: the goods are free of customs control, nothing is owed",
            ),
        });
        return Ok(DisposalAssessment {
            pack: v,
            kind: disposal.kind,
            on: disposal.on,
            supervision_ends: ends,
            disposed_value,
            back_tax_value: Cny::ZERO,
            taxes: TaxAmounts::default(),
            steps,
        });
    }
    let (back_tax_value, detail) = back_tax_value(item, disposal, disposed_value)?;
    steps.push(Step {
        rule: v.rule(&v.supervision.back_tax_rule),
        detail,
    });
    let taxes = back_taxes(v, item, disposal, back_tax_value, &mut steps)?;
    Ok(DisposalAssessment {
        pack: v,
        kind: disposal.kind,
        on: disposal.on,
        supervision_ends: ends,
        disposed_value,
        back_tax_value,
        taxes,
        steps,
    })
}

/// The pack version in force on the disposal day, once the disposal is checked against what is
/// still supervised.
fn version_for_disposal<'p>(
    pack: &'p PolicyPack,
    item: &SupervisedItem,
    disposal: &Disposal,
) -> Result<&'p PackVersion, FieldError> {
    let v = pack.version_on(disposal.on).ok_or_else(|| {
        FieldError::new(
            "on",
            FieldErrorKind::OutOfRange,
            format!("no pack version is in force on {}", disposal.on),
        )
    })?;
    if disposal.on < item.released_on {
        return Err(FieldError::new(
            "on",
            FieldErrorKind::OutOfRange,
            format!(
                "{} is before the goods were released on {}",
                disposal.on, item.released_on
            ),
        ));
    }
    let remaining = item.quantity.value;
    if disposal.quantity <= Decimal::ZERO || disposal.quantity > remaining {
        return Err(FieldError::new(
            "quantity",
            FieldErrorKind::OutOfRange,
            format!("between 0 and the {remaining} still supervised"),
        ));
    }
    Ok(v)
}

/// The customs value of the part disposed of.
fn disposed_customs_value(item: &SupervisedItem, disposal: &Disposal) -> Cny {
    let remaining = item.quantity.value;
    // The disposed part carries its share of the customs value; all of it carries all of it, so
    // the shares of successive partial disposals add up to the whole.
    if disposal.quantity == remaining {
        item.customs_value
    } else {
        Cny::round_fen(item.customs_value.amount() * disposal.quantity / remaining)
    }
}

/// The value back taxes are paid on, and its explanation: depreciated by the months supervised for
/// a transfer or early release, the diverted share of the period for a diversion.
fn back_tax_value<'p>(
    item: &SupervisedItem,
    disposal: &Disposal,
    disposed_value: Cny,
) -> Result<(Cny, Detail<'p>), FieldError> {
    match disposal.kind {
        DisposalKind::Transfer | DisposalKind::EarlyRelease => {
            let value = back_tax_value_on_transfer(
                disposed_value,
                item.released_on,
                disposal.on,
                item.years,
            );
            let detail = Detail::BackTaxValue {
                customs_value: disposed_value,
                elapsed: months_elapsed(item.released_on, disposal.on),
                period: item.years * 12,
                unit: "months",
                unexpired: true,
                value,
            };
            Ok((value, detail))
        }
        DisposalKind::Diversion { days } => {
            if days == 0 {
                return Err(FieldError::new(
                    "days_diverted",
                    FieldErrorKind::OutOfRange,
                    "at least one day",
                ));
            }
            let value = back_tax_value_on_diversion(disposed_value, days, item.years);
            let detail = Detail::BackTaxValue {
                customs_value: disposed_value,
                elapsed: days.min(item.years * 365),
                period: item.years * 365,
                unit: "days",
                unexpired: false,
                value,
            };
            Ok((value, detail))
        }
    }
}

/// The import taxes on the back-tax value at the disposal day's rates, without exemptions.
fn back_taxes<'p>(
    v: &'p PackVersion,
    item: &SupervisedItem,
    disposal: &Disposal,
    back_tax_value: Cny,
    steps: &mut Vec<Step<'p>>,
) -> Result<TaxAmounts, FieldError> {
    let quantities = [Quantity {
        value: disposal.quantity,
        unit: item.quantity.unit,
    }];
    let basis = crate::decide::tax_basis(
        v,
        &item.hs_code,
        item.origin,
        back_tax_value,
        &quantities,
        item.consumption_tax_item.as_deref(),
        &|f| f.to_owned(),
    )?;
    compute(v, &basis, Exemptions::NONE, steps)
        .map_err(|e| FieldError::new("quantity", FieldErrorKind::Missing, e.to_string()))
}

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
