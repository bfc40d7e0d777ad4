//! Offshore duty-free shopping (POLICY.md §4): eligibility, the annual quota, per-departure limits
//! and pick-up modes. Pure checks over a basket and the person's record; the shell keeps the record
//! and reserves quota atomically.

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use crate::calendar::{age_on, deadline_after};
use crate::error::{FieldError, FieldErrorKind};
use crate::explain::{Detail, Step};
use crate::money::Cny;
use crate::pack::model::LimitStatus;
use crate::pack::{PackVersion, PolicyPack};

/// R4.3: old enough to shop on `day` under the version in force.
pub fn age_eligible(version: &PackVersion, birth: Date, day: Date) -> bool {
    age_on(birth, day) >= i32::from(version.duty_free.minimum_age)
}

/// R4.2: how a basket at retail price splits against what is left of the annual quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuotaSplit {
    pub within_quota: Cny,
    pub over_quota: Cny,
    pub remaining_after: Cny,
}

/// Splits `basket` against the quota given what was `spent` this calendar year. The quota resets on
/// 1 January: callers pass only the current year's spending.
pub fn split_quota(annual_quota: Cny, spent: Cny, basket: Cny) -> QuotaSplit {
    let remaining = (annual_quota - spent).max(Cny::ZERO);
    let within_quota = basket.min(remaining);
    QuotaSplit {
        within_quota,
        over_quota: basket - within_quota,
        remaining_after: remaining - within_quota,
    }
}

/// One basket line for a departure: a category and a quantity in the category's limit unit
/// (pieces, or millilitres for alcohol; a set of cosmetics counts as the items inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketItem {
    pub category: String,
    pub quantity: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitBreach {
    pub category: String,
    pub limit: Decimal,
    pub requested: Decimal,
}

/// R4.4: every category whose per-departure limit the items exceed, in total over the departure.
pub fn check_departure_limits(
    version: &PackVersion,
    items: &[BasketItem],
) -> Result<Vec<LimitBreach>, String> {
    let mut totals: std::collections::BTreeMap<&str, Decimal> = std::collections::BTreeMap::new();
    for item in items {
        if !version.duty_free.categories.contains_key(&item.category) {
            return Err(format!(
                "{} is not a duty-free category in pack {}",
                item.category, version.id
            ));
        }
        *totals.entry(item.category.as_str()).or_default() += item.quantity;
    }
    Ok(totals
        .into_iter()
        .filter_map(|(category, requested)| {
            let limit = version
                .duty_free
                .categories
                .get(category)?
                .per_departure_limit?;
            (requested > limit).then(|| LimitBreach {
                category: category.to_owned(),
                limit,
                requested,
            })
        })
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PickupMode {
    /// At the departure point, the default.
    Departure,
    /// Sent by post to the buyer (R4.5(2)).
    Mail,
    /// Picked up on return to the island, for island residents (R4.5(3)).
    ReturnToIsland,
    /// Unit price below the buy-and-take ceiling, listed category: take at once.
    BuyAndTake,
    /// Unit price at or above the guarantee floor: take against a guarantee of the articles tax.
    GuaranteeAndTake,
    /// Taken in the store: residents' zero-tariff goods (R4.11).
    OnSite,
}

impl PickupMode {
    pub const ALL: [PickupMode; 6] = [
        PickupMode::Departure,
        PickupMode::Mail,
        PickupMode::ReturnToIsland,
        PickupMode::BuyAndTake,
        PickupMode::GuaranteeAndTake,
        PickupMode::OnSite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PickupMode::Departure => "departure",
            PickupMode::Mail => "mail",
            PickupMode::ReturnToIsland => "return_to_island",
            PickupMode::BuyAndTake => "buy_and_take",
            PickupMode::GuaranteeAndTake => "guarantee_and_take",
            PickupMode::OnSite => "on_site",
        }
    }

    pub fn parse(text: &str) -> Option<PickupMode> {
        PickupMode::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// Goods taken at once oblige the buyer to leave within the pack's days (R4.5(4), (5)).
    pub fn takes_at_once(self) -> bool {
        matches!(self, PickupMode::BuyAndTake | PickupMode::GuaranteeAndTake)
    }
}

/// R4.5: every mode open to an item for this buyer: the price's modes, mail delivery, and for an
/// island resident return-to-island pick-up.
pub fn open_modes(
    version: &PackVersion,
    category: &str,
    unit_price: Cny,
    resident: bool,
) -> Vec<PickupMode> {
    let mut modes = pickup_modes(version, category, unit_price);
    modes.insert(1, PickupMode::Mail);
    if resident {
        modes.insert(2, PickupMode::ReturnToIsland);
    }
    modes
}

/// R4.5: pick-up modes open to an item of `unit_price` in `category`. Departure pick-up is always
/// open; the residents' unlimited buy-and-take still needs the category to be on the list.
pub fn pickup_modes(version: &PackVersion, category: &str, unit_price: Cny) -> Vec<PickupMode> {
    let d = &version.duty_free;
    let mut modes = vec![PickupMode::Departure];
    let listed = d.categories.get(category).is_some_and(|c| c.buy_and_take);
    if listed && unit_price < d.buy_and_take_below {
        modes.push(PickupMode::BuyAndTake);
    }
    if unit_price >= d.guarantee_from {
        modes.push(PickupMode::GuaranteeAndTake);
    }
    modes
}

/// R4.5: the last day a buyer who took goods at once must have left the island (30 days, the
/// purchase day not counted); still on the island after it without good reason means a ban.
pub fn departure_deadline(version: &PackVersion, purchased_on: Date) -> Date {
    deadline_after(purchased_on, version.duty_free.departure_within_days)
}

/// R8.9: the guarantee for guarantee-and-take equals the inbound-articles tax on the item.
pub fn guarantee_amount(version: &PackVersion, category: &str, unit_price: Cny) -> Option<Cny> {
    let class = version
        .duty_free
        .categories
        .get(category)?
        .articles_tax_class;
    let rate = version.articles_tax.rates[usize::from(class - 1)];
    Some(crate::tax::articles_tax(unit_price, rate))
}

/// R8.8: a postal parcel's articles tax is not collected at or below the exemption amount.
pub fn postal_articles_tax_due(version: &PackVersion, value: Cny, class: u8) -> Cny {
    let rate = version.articles_tax.rates[usize::from(class.clamp(1, 3) - 1)];
    let tax = crate::tax::articles_tax(value, rate);
    if tax <= version.articles_tax.postal_exemption {
        Cny::ZERO
    } else {
        tax
    }
}

/// R6.1 / TV-19: how observed inspection rates sit against the configured credit targets. The
/// advanced-certified ratio is a target over a reference set, so a miss is reported, not enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CreditRateCheck {
    pub advanced_to_regular_ratio: Decimal,
    pub advanced_target_met: bool,
    pub dishonest_floor_met: bool,
}

pub fn check_credit_rates(
    version: &PackVersion,
    advanced: Decimal,
    regular: Decimal,
    dishonest: Decimal,
) -> Option<CreditRateCheck> {
    if regular.is_zero() {
        return None;
    }
    let ratio = advanced / regular;
    Some(CreditRateCheck {
        advanced_to_regular_ratio: ratio,
        advanced_target_met: ratio < version.credit.advanced_ratio_max,
        dishonest_floor_met: dishonest >= version.credit.dishonest_rate_min,
    })
}

/// One line of a duty-free sale.
/// A sale as an operator asks for it, parsed: the buyer's document and birth date, the departure
/// the limits count for, the day of the sale, and the lines with their descriptions.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleOrder {
    /// Which quota the sale spends.
    pub scheme: crate::quota_ledger::Scheme,
    pub document: crate::identity::PersonDocument,
    pub birth_date: Date,
    /// The departure the limits count for; none for residents' zero-tariff goods and for a
    /// resident's buy-and-take in a year they left the island (R4.5(6)).
    pub departure_on: Option<Date>,
    pub sold_on: Date,
    pub lines: Vec<SaleLine>,
    /// What each line is, as the receipt says (at most 300 characters each).
    pub descriptions: Vec<String>,
    /// The phone, payment account, delivery address or device the sale was made with, normalised
    /// (R4.8); kept only as link codes.
    pub links: Vec<(crate::buyer_links::LinkKind, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleLine {
    pub category: String,
    pub unit_price: Cny,
    /// Pieces sold.
    pub quantity: Decimal,
    /// The quantity in the category's limit unit (pieces, or millilitres for alcohol).
    pub limit_quantity: Decimal,
    /// How the buyer takes the goods (R4.5).
    pub pickup: PickupMode,
    /// The 16-digit traceability number of each piece (R4.9), when the till scanned them.
    pub trace_codes: Vec<String>,
}

/// What the platform knows of the buyer: identified once per person across all shops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TravellerRecord {
    pub birth_date: Date,
    /// Spending of the sale's scheme in the calendar year of the sale, before it.
    pub spent_this_year: Cny,
    /// What earlier sales of the same departure took, per category, in limit units.
    pub bought_this_departure: Vec<BasketItem>,
    /// The last day of a duty-free ban by a customs decision (R4.6), if one was ever imposed.
    pub banned_until: Option<Date>,
    /// The buyer's departure on record on the sale's departure day, if any (R4.3).
    pub departure: Option<crate::departure::Departure>,
    /// An island resident (a Hainan resident identity card), who may pick up on return (R4.5(3)).
    pub resident: bool,
    /// A departure from the island on record in the sale's calendar year, on or before its day
    /// (R4.5(6)).
    pub departed_this_year: bool,
    /// The last day of a listing on the serious-dishonesty list in force on the sale's day (R4.7).
    pub dishonest_until: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleRefusal {
    /// R4.3: younger than the minimum age.
    Underage,
    /// R4.4: a category's per-departure limit would be exceeded.
    DepartureLimitExceeded,
    /// R4.2: the sale exceeds what is left of the annual quota.
    QuotaExceeded,
    /// R4.6: the buyer is banned from duty-free shopping by a customs decision.
    Banned,
    /// R4.3: no departure from the island is on record for the buyer on the departure day given.
    NoDeparture,
    /// R4.7: the buyer is on the serious-dishonesty list.
    SeriousDishonesty,
    /// R4.11: residents' zero-tariff goods are for Hainan residents.
    NotResident,
}

#[derive(Debug, Clone, Serialize)]
pub struct SaleReason<'p> {
    pub code: SaleRefusal,
    pub explanation: Step<'p>,
}

/// A sale decided: accepted as a whole, or refused with every reason.
#[derive(Debug, Clone, Serialize)]
pub struct SaleDecision<'p> {
    #[serde(rename = "pack_version", serialize_with = "version_id")]
    pub pack: &'p PackVersion,
    pub scheme: crate::quota_ledger::Scheme,
    pub accepted: bool,
    pub refusals: Vec<SaleReason<'p>>,
    pub total: Cny,
    pub quota: QuotaSplit,
    /// Per line: the pick-up modes open to it (R4.5).
    pub pickup: Vec<Vec<PickupMode>>,
    /// The guarantee lodged for the lines taken against one (R4.5(4), R8.9): the inbound-articles
    /// tax on them.
    pub guarantee: Cny,
    /// Goods taken at once oblige a departing buyer to leave the island by this day (R4.5); none
    /// for a sale without a departure.
    pub leave_island_by: Option<Date>,
    pub steps: Vec<Step<'p>>,
}

fn version_id<S: serde::Serializer>(v: &&PackVersion, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.id)
}

/// Decides an order under the version in force on its day, by the scheme it spends: offshore
/// duty-free, or a resident's zero-tariff goods in a `designated_store` (R4.11).
pub fn decide_order<'p>(
    pack: &'p PolicyPack,
    order: &SaleOrder,
    traveller: &TravellerRecord,
    designated_store: bool,
) -> Result<SaleDecision<'p>, FieldError> {
    match order.scheme {
        crate::quota_ledger::Scheme::Offshore => decide_offshore(
            pack,
            order.sold_on,
            order.departure_on.is_some(),
            &order.lines,
            traveller,
        ),
        crate::quota_ledger::Scheme::ResidentZeroTariff => crate::resident_zero_tariff::decide(
            pack,
            order.sold_on,
            &order.lines,
            traveller,
            designated_store,
        ),
    }
}

/// Decides an offshore sale for a named departure under the version in force on `sold_on`: the
/// buyer's age, the per-departure limits over this and earlier sales of the departure, and the
/// annual quota. A sale beyond the quota or a limit is refused as a whole, so the shop can
/// re-ring what may be sold duty-free.
pub fn decide_sale<'p>(
    pack: &'p PolicyPack,
    sold_on: Date,
    lines: &[SaleLine],
    traveller: &TravellerRecord,
) -> Result<SaleDecision<'p>, FieldError> {
    decide_offshore(pack, sold_on, true, lines, traveller)
}

/// The version in force on a sale's day.
pub(crate) fn version_for_sale(
    pack: &PolicyPack,
    sold_on: Date,
) -> Result<&PackVersion, FieldError> {
    pack.version_on(sold_on).ok_or_else(|| {
        FieldError::new(
            "sold_on",
            FieldErrorKind::OutOfRange,
            format!("no pack version is in force on {sold_on}"),
        )
    })
}

/// An offshore sale, for a named departure (`with_departure`) or, for a resident who left the
/// island this year, without one (R4.5(6)).
fn decide_offshore<'p>(
    pack: &'p PolicyPack,
    sold_on: Date,
    with_departure: bool,
    lines: &[SaleLine],
    traveller: &TravellerRecord,
) -> Result<SaleDecision<'p>, FieldError> {
    let v = version_for_sale(pack, sold_on)?;
    let d = &v.duty_free;
    let rung = ring_up(v, lines, traveller)?;
    let mut steps = Vec::new();
    let mut refusals = buyer_refusals(v, traveller, sold_on);
    if with_departure {
        refusals.extend(departure_refusal(v, traveller));
    } else {
        match resident_buy_and_take(v, lines, traveller) {
            Ok(step) => steps.push(step),
            Err(refusal) => refusals.push(refusal),
        }
    }
    refusals.extend(departure_limit_refusals(v, &rung.departure_basket)?);
    steps.extend(unverified_limit_steps(v, lines));
    let quota = split_quota(d.annual_quota, traveller.spent_this_year, rung.total);
    let quota_step = Step {
        rule: v.rule(&d.quota_rule),
        detail: Detail::DutyFreeQuota {
            annual: d.annual_quota,
            spent: traveller.spent_this_year,
            basket: rung.total,
            remaining_after: quota.remaining_after,
        },
    };
    if quota.over_quota > Cny::ZERO {
        refusals.push(SaleReason {
            code: SaleRefusal::QuotaExceeded,
            explanation: quota_step,
        });
    } else {
        steps.push(quota_step);
    }
    steps.push(Step {
        rule: v.rule(&d.rule),
        detail: Detail::Finding(if refusals.is_empty() {
            "sold duty-free: tariff, import VAT and consumption tax exempt"
        } else {
            "not sold duty-free"
        }),
    });
    Ok(SaleDecision {
        pack: v,
        scheme: crate::quota_ledger::Scheme::Offshore,
        accepted: refusals.is_empty(),
        refusals,
        total: rung.total,
        quota,
        pickup: rung.pickup,
        guarantee: rung.guarantee,
        leave_island_by: with_departure.then(|| departure_deadline(v, sold_on)),
        steps,
    })
}

/// A sale's lines, checked and added up.
struct RungUpSale {
    /// The retail total, each line rounded to the fen.
    total: Cny,
    /// The earlier purchases of the departure followed by this sale's lines, in limit units.
    departure_basket: Vec<BasketItem>,
    pickup: Vec<Vec<PickupMode>>,
    guarantee: Cny,
}

fn ring_up(
    v: &PackVersion,
    lines: &[SaleLine],
    traveller: &TravellerRecord,
) -> Result<RungUpSale, FieldError> {
    if lines.is_empty() {
        return Err(FieldError::new(
            "items",
            FieldErrorKind::Missing,
            "at least one item",
        ));
    }
    let (mut total, mut guarantee) = (Cny::ZERO, Cny::ZERO);
    let mut departure_basket = traveller.bought_this_departure.clone();
    let mut pickup = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if !v.duty_free.categories.contains_key(&line.category) {
            return Err(FieldError::new(
                format!("items[{i}].category"),
                FieldErrorKind::Unknown,
                format!("not a duty-free category in pack {}", v.id),
            ));
        }
        if line.quantity <= Decimal::ZERO || line.limit_quantity <= Decimal::ZERO {
            return Err(FieldError::new(
                format!("items[{i}].quantity"),
                FieldErrorKind::OutOfRange,
                "a positive quantity",
            ));
        }
        total = total + Cny::round_fen(line.unit_price.amount() * line.quantity);
        departure_basket.push(BasketItem {
            category: line.category.clone(),
            quantity: line.limit_quantity,
        });
        let open = open_modes(v, &line.category, line.unit_price, traveller.resident);
        if !open.contains(&line.pickup) {
            let names: Vec<&str> = open.iter().map(|m| m.as_str()).collect();
            return Err(FieldError::new(
                format!("items[{i}].pickup"),
                FieldErrorKind::Inconsistent,
                format!(
                    "not open to this item for this buyer: one of {}",
                    names.join(", ")
                ),
            ));
        }
        if line.pickup == PickupMode::GuaranteeAndTake && line.trace_codes.is_empty() {
            // R4.9 labels every piece; the guarantee goes back when the numbered pieces leave.
            return Err(FieldError::new(
                format!("items[{i}].trace_codes"),
                FieldErrorKind::Missing,
                "a guarantee-and-take item carries its pieces' traceability numbers: the guarantee goes back when they leave the island",
            ));
        }
        if line.pickup == PickupMode::GuaranteeAndTake {
            let each = guarantee_amount(v, &line.category, line.unit_price).unwrap_or(Cny::ZERO);
            guarantee = guarantee + Cny::round_fen(each.amount() * line.quantity);
        }
        if !line.trace_codes.is_empty() && Decimal::from(line.trace_codes.len()) != line.quantity {
            return Err(FieldError::new(
                format!("items[{i}].trace_codes"),
                FieldErrorKind::Inconsistent,
                "one traceability number per piece sold",
            ));
        }
        pickup.push(open);
    }
    Ok(RungUpSale {
        total,
        departure_basket,
        pickup,
        guarantee,
    })
}

/// R4.3: a departure from the island on record on the day the sale names.
fn departure_refusal<'p>(
    v: &'p PackVersion,
    traveller: &TravellerRecord,
) -> Option<SaleReason<'p>> {
    traveller.departure.is_none().then(|| SaleReason {
        code: SaleRefusal::NoDeparture,
        explanation: Step {
            rule: v.rule(&v.duty_free.age_rule),
            detail: Detail::Finding(
                "no departure from the island is on record for the buyer on the departure day given",
            ),
        },
    })
}

/// R4.5(6): without a departure, only a Hainan resident who left the island this year, taking
/// every line by buy-and-take, under a version that allows it.
fn resident_buy_and_take<'p>(
    v: &'p PackVersion,
    lines: &[SaleLine],
    traveller: &TravellerRecord,
) -> Result<Step<'p>, SaleReason<'p>> {
    let d = &v.duty_free;
    let refuse = |rule, finding| SaleReason {
        code: SaleRefusal::NoDeparture,
        explanation: Step {
            rule: v.rule(rule),
            detail: Detail::Finding(finding),
        },
    };
    let Some(rule) = &d.resident_buy_and_take_rule else {
        return Err(refuse(
            &d.age_rule,
            "a sale without a departure is not open under this pack version: name the departure",
        ));
    };
    if !traveller.resident {
        return Err(refuse(
            rule,
            "only a Hainan resident buys without a departure, and only by buy-and-take",
        ));
    }
    if !traveller.departed_this_year {
        return Err(refuse(
            rule,
            "no departure from the island is on record for the resident this year",
        ));
    }
    if lines.iter().any(|l| l.pickup != PickupMode::BuyAndTake) {
        return Err(refuse(
            rule,
            "without a departure a resident takes every item by buy-and-take",
        ));
    }
    Ok(Step {
        rule: v.rule(rule),
        detail: Detail::Finding(
            "a Hainan resident who left the island this year buys-and-takes without a departure; read as goods for use on the island, so no departure within 30 days is owed and the limits count on this sale",
        ),
    })
}

/// R4.4, R4.5(5): limits the sources do not give are not enforced, and the decision says so.
fn unverified_limit_steps<'p>(v: &'p PackVersion, lines: &[SaleLine]) -> Vec<Step<'p>> {
    let d = &v.duty_free;
    let mut seen = std::collections::BTreeSet::new();
    let mut steps = Vec::new();
    for line in lines {
        let Some(c) = d.categories.get(&line.category) else {
            continue;
        };
        if !seen.insert(c.id.as_str()) {
            continue;
        }
        if c.limit_status == LimitStatus::Unverified {
            steps.push(Step {
                rule: v.rule(&d.limits_rule),
                detail: Detail::Unverified {
                    category: &c.id,
                    limit: "per-departure limit",
                },
            });
        }
        if line.pickup == PickupMode::BuyAndTake
            && c.buy_and_take_limit_status == LimitStatus::Unverified
        {
            steps.push(Step {
                rule: v.rule(&d.pickup_rule),
                detail: Detail::Unverified {
                    category: &c.id,
                    limit: "buy-and-take limit",
                },
            });
        }
    }
    steps
}

/// R4.3, R4.6 and R4.7: refusals that concern the buyer rather than the basket.
fn buyer_refusals<'p>(
    v: &'p PackVersion,
    traveller: &TravellerRecord,
    sold_on: Date,
) -> Vec<SaleReason<'p>> {
    let d = &v.duty_free;
    let mut refusals = Vec::new();
    if !age_eligible(v, traveller.birth_date, sold_on) {
        refusals.push(SaleReason {
            code: SaleRefusal::Underage,
            explanation: Step {
                rule: v.rule(&d.age_rule),
                detail: Detail::Finding(
                    "the buyer is below the minimum age for duty-free shopping",
                ),
            },
        });
    }
    if traveller.banned_until.is_some_and(|until| sold_on <= until) {
        refusals.push(SaleReason {
            code: SaleRefusal::Banned,
            explanation: Step {
                rule: v.rule(&d.ban_rule),
                detail: Detail::Finding(
                    "the buyer is banned from duty-free shopping by a customs decision",
                ),
            },
        });
    }
    refusals.extend(dishonesty_refusal(v, traveller, sold_on));
    refusals
}

/// R4.7: a person on the serious-dishonesty list may not shop duty-free while listed, under a
/// version that has the list.
pub(crate) fn dishonesty_refusal<'p>(
    v: &'p PackVersion,
    traveller: &TravellerRecord,
    sold_on: Date,
) -> Option<SaleReason<'p>> {
    let rule = v.duty_free.dishonesty_rule.as_ref()?;
    traveller
        .dishonest_until
        .is_some_and(|until| sold_on <= until)
        .then(|| SaleReason {
            code: SaleRefusal::SeriousDishonesty,
            explanation: Step {
                rule: v.rule(rule),
                detail: Detail::Finding(
                    "the buyer is on the duty-free shopping serious-dishonesty list",
                ),
            },
        })
}

/// R4.4: one refusal per category whose limit the departure's purchases would exceed.
fn departure_limit_refusals<'p>(
    v: &'p PackVersion,
    departure_basket: &[BasketItem],
) -> Result<Vec<SaleReason<'p>>, FieldError> {
    let d = &v.duty_free;
    let breaches = check_departure_limits(v, departure_basket)
        .map_err(|reason| FieldError::new("items", FieldErrorKind::Unknown, reason))?;
    Ok(breaches
        .iter()
        .map(|b| {
            // The explanation borrows the category name from the pack, not from the breach.
            let category = d
                .categories
                .get_key_value(&b.category)
                .map_or("", |(k, _)| k.as_str());
            SaleReason {
                code: SaleRefusal::DepartureLimitExceeded,
                explanation: Step {
                    rule: v.rule(&d.limits_rule),
                    detail: Detail::DepartureLimit {
                        category,
                        limit: b.limit,
                        requested: b.requested,
                    },
                },
            }
        })
        .collect())
}
