//! Offshore duty-free shopping (POLICY.md §4): eligibility, the annual quota, per-departure limits
//! and pick-up modes. Pure checks over a basket and the person's record; the shell keeps the record
//! and reserves quota atomically.

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use crate::calendar::{age_on, deadline_after};
use crate::money::Cny;
use crate::pack::PackVersion;

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
    /// Unit price below the buy-and-take ceiling, listed category: take at once.
    BuyAndTake,
    /// Unit price at or above the guarantee floor: take against a guarantee of the articles tax.
    GuaranteeAndTake,
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
