//! Hainan residents' zero-tariff consumer imports (R4.11): a resident buys goods of the positive
//! list in a designated store free of import tariff, import VAT and consumption tax and of
//! domestic VAT and consumption tax, within a yearly quota of its own (10 000 CNY) kept in the
//! same ledger as the offshore one. No departure, no minimum age (a family of three has three
//! quotas, TV-13); bans and the serious-dishonesty list apply.

use rust_decimal::Decimal;
use time::Date;

use crate::duty_free::{
    PickupMode, SaleDecision, SaleLine, SaleReason, SaleRefusal, TravellerRecord,
    dishonesty_refusal, split_quota, version_for_sale,
};
use crate::error::{FieldError, FieldErrorKind};
use crate::explain::{Detail, Step};
use crate::money::Cny;
use crate::pack::model::LimitStatus;
use crate::pack::{PackVersion, PolicyPack};
use crate::quota_ledger::Scheme;

/// Decides a resident's zero-tariff sale in a store that is `designated` for it, under the
/// version in force on `sold_on`. Bad input (the scheme not in force, a store not designated,
/// goods off the list) is an error naming its field; the buyer's standing is a refusal.
pub fn decide<'p>(
    pack: &'p PolicyPack,
    sold_on: Date,
    lines: &[SaleLine],
    traveller: &TravellerRecord,
    designated: bool,
) -> Result<SaleDecision<'p>, FieldError> {
    let v = version_for_sale(pack, sold_on)?;
    let d = &v.duty_free;
    let (Some(rule), Some(annual)) = (&d.resident_rule, d.resident_annual_quota) else {
        return Err(FieldError::new(
            "scheme",
            FieldErrorKind::Inconsistent,
            format!(
                "residents' zero-tariff consumer imports are not in force on {sold_on} (pack {})",
                v.id
            ),
        ));
    };
    if !designated {
        return Err(FieldError::new(
            "scheme",
            FieldErrorKind::Inconsistent,
            "this store is not designated for residents' zero-tariff goods",
        ));
    }
    let total = ring_up(v, lines)?;
    let mut refusals = Vec::new();
    if !traveller.resident {
        refusals.push(SaleReason {
            code: SaleRefusal::NotResident,
            explanation: Step {
                rule: v.rule(rule),
                detail: Detail::Finding(
                    "residents' zero-tariff goods are for Hainan residents: the document is not a Hainan resident's",
                ),
            },
        });
    }
    if traveller.banned_until.is_some_and(|until| sold_on <= until) {
        refusals.push(SaleReason {
            code: SaleRefusal::Banned,
            explanation: Step {
                rule: v.rule(rule),
                detail: Detail::Finding(
                    "the buyer is banned from zero-tariff and duty-free shopping by a customs decision",
                ),
            },
        });
    }
    refusals.extend(dishonesty_refusal(v, traveller, sold_on));
    let quota = split_quota(annual, traveller.spent_this_year, total);
    let quota_step = Step {
        rule: v.rule(rule),
        detail: Detail::DutyFreeQuota {
            annual,
            spent: traveller.spent_this_year,
            basket: total,
            remaining_after: quota.remaining_after,
        },
    };
    let mut steps = unverified_goods(v, lines);
    if quota.over_quota > Cny::ZERO {
        refusals.push(SaleReason {
            code: SaleRefusal::QuotaExceeded,
            explanation: quota_step,
        });
    } else {
        steps.push(quota_step);
    }
    steps.push(Step {
        rule: v.rule(rule),
        detail: Detail::Finding(if refusals.is_empty() {
            "sold zero-tariff: import tariff, import VAT and consumption tax, domestic VAT and consumption tax exempt"
        } else {
            "not sold zero-tariff"
        }),
    });
    Ok(SaleDecision {
        pack: v,
        scheme: Scheme::ResidentZeroTariff,
        accepted: refusals.is_empty(),
        refusals,
        total,
        quota,
        pickup: lines.iter().map(|_| vec![PickupMode::OnSite]).collect(),
        guarantee: Cny::ZERO,
        leave_island_by: None,
        steps,
    })
}

/// The lines' retail total, each line rounded to the fen; every line's goods on the list and
/// taken in the store.
fn ring_up(v: &PackVersion, lines: &[SaleLine]) -> Result<Cny, FieldError> {
    if lines.is_empty() {
        return Err(FieldError::new(
            "items",
            FieldErrorKind::Missing,
            "at least one item",
        ));
    }
    let mut total = Cny::ZERO;
    for (i, line) in lines.iter().enumerate() {
        if !v.duty_free.resident_goods.contains_key(&line.category) {
            let groups: Vec<&str> = v
                .duty_free
                .resident_goods
                .keys()
                .map(String::as_str)
                .collect();
            return Err(FieldError::new(
                format!("items[{i}].category"),
                FieldErrorKind::Unknown,
                format!(
                    "not on the residents' zero-tariff positive list of pack {}: one of {}",
                    v.id,
                    groups.join(", ")
                ),
            ));
        }
        if line.quantity <= Decimal::ZERO {
            return Err(FieldError::new(
                format!("items[{i}].quantity"),
                FieldErrorKind::OutOfRange,
                "a positive quantity",
            ));
        }
        if line.pickup != PickupMode::OnSite {
            return Err(FieldError::new(
                format!("items[{i}].pickup"),
                FieldErrorKind::Inconsistent,
                "residents' zero-tariff goods are taken in the store: on_site",
            ));
        }
        if !line.trace_codes.is_empty() && Decimal::from(line.trace_codes.len()) != line.quantity {
            return Err(FieldError::new(
                format!("items[{i}].trace_codes"),
                FieldErrorKind::Inconsistent,
                "one traceability number per piece sold",
            ));
        }
        total = total + Cny::round_fen(line.unit_price.amount() * line.quantity);
    }
    Ok(total)
}

/// Groups of the list whose extent the pack's sources do not give: sold, and said so.
fn unverified_goods<'p>(v: &'p PackVersion, lines: &[SaleLine]) -> Vec<Step<'p>> {
    let Some(rule) = &v.duty_free.resident_rule else {
        return Vec::new();
    };
    let mut seen = std::collections::BTreeSet::new();
    lines
        .iter()
        .filter_map(|l| v.duty_free.resident_goods.get(&l.category))
        .filter(|g| g.status == LimitStatus::Unverified && seen.insert(g.id.as_str()))
        .map(|g| Step {
            rule: v.rule(rule),
            detail: Detail::Unverified {
                category: &g.id,
                limit: "extent of this positive-list group (the 202-line list)",
            },
        })
        .collect()
}
