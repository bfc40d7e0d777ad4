//! Explanations: for every amount and every treatment, the rule, its legal source, and the formula
//! with its inputs.
//!
//! Steps hold numbers and references into the pack, not text: deciding stays cheap, and the words
//! are written only when a decision is serialized for a person or the audit record.

use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use time::Date;

use crate::currency::Currency;
use crate::hs::HsCode;
use crate::money::{Cny, Rate};
use crate::pack::{ConsumptionTaxItem, DutyColumn, Rule, SpecificRate};
use crate::unit::Unit;

/// One explained finding.
#[derive(Debug, Clone)]
pub struct Step<'p> {
    pub rule: &'p Rule,
    pub detail: Detail<'p>,
}

#[derive(Debug, Clone)]
pub enum Detail<'p> {
    /// A treatment or finding stated in words fixed by the code (no numbers).
    Finding(&'static str),
    /// A finding that names a list entry of the pack.
    ListEntry {
        finding: &'static str,
        entry: &'p str,
    },
    CustomsValue {
        value: Decimal,
        currency: Currency,
        exchange_rate: Decimal,
        rate_date: Option<Date>,
        customs_value: Cny,
    },
    Tariff {
        customs_value: Cny,
        rate: Rate,
        column: DutyColumn,
        specific: Option<(Decimal, &'p SpecificRate)>,
        amount: Cny,
    },
    ExportDuty {
        customs_value: Cny,
        rate: Rate,
        amount: Cny,
    },
    ConsumptionTax {
        item: &'p ConsumptionTaxItem,
        customs_value: Cny,
        tariff_in_base: Cny,
        quantity: Option<Decimal>,
        base: Option<Decimal>,
        amount: Cny,
    },
    Vat {
        customs_value: Cny,
        tariff_in_base: Cny,
        consumption_tax: Cny,
        rate: Rate,
        amount: Cny,
    },
    ExchangeRate {
        currency: Currency,
        rate_date: Date,
        cny_per_unit: Decimal,
    },
    MinimumTax {
        tax: &'static str,
        amount: Cny,
        threshold: Cny,
    },
    ValueAdded {
        rate: Decimal,
        threshold: Decimal,
        qualifies: bool,
    },
    /// R4.2: a basket against what remains of the person's annual quota.
    DutyFreeQuota {
        annual: Cny,
        spent: Cny,
        basket: Cny,
        remaining_after: Cny,
    },
    /// A limit the pack's sources do not give: shown, not enforced.
    Unverified {
        category: &'p str,
        limit: &'static str,
    },
    /// R4.4: a category's per-departure limit against what the departure would take.
    DepartureLimit {
        category: &'p str,
        limit: Decimal,
        requested: Decimal,
    },
    /// R5.2, R8.8: duty-free goods carried beyond what the person's purchases cover, taxed at the
    /// inbound-articles rate of their class.
    ArticlesTax {
        category: &'p str,
        excess: Decimal,
        unit_price: Cny,
        value: Cny,
        class: u8,
        rate: Rate,
        amount: Cny,
    },
    /// R8.10: the value on which supervised goods disposed of early pay back taxes.
    BackTaxValue {
        customs_value: Cny,
        /// Months supervised (transfer, early release) or days diverted.
        elapsed: u32,
        /// The whole period in the same unit.
        period: u32,
        unit: &'static str,
        /// Whether the formula takes the unexpired share (`1 − elapsed / period`) or the
        /// elapsed one (`elapsed / period`, for diversion).
        unexpired: bool,
        value: Cny,
    },
    /// R3.3: an outflow against the account-book balance of goods `hs_code` in `unit`.
    AccountBook {
        hs_code: HsCode,
        unit: Unit,
        /// The balance on record before the declaration.
        balance: Decimal,
        /// Taken out of the same balance by earlier lines (or materials) of the declaration.
        earlier: Decimal,
        /// Taken out by this posting.
        taken: Decimal,
    },
}

impl Serialize for Step<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("rule", &self.rule.id)?;
        m.serialize_entry("title", &self.rule.title)?;
        m.serialize_entry("source", &self.rule.source)?;
        m.serialize_entry("confidence", &self.rule.confidence)?;
        m.serialize_entry("finding", &self.detail.text())?;
        m.end()
    }
}

fn pct(d: Decimal) -> String {
    format!("{}%", (d * Decimal::ONE_HUNDRED).round_dp(4).normalize())
}

impl Detail<'_> {
    /// The finding in words, with the formula and every input.
    pub fn text(&self) -> String {
        match self {
            Detail::Finding(f) => (*f).to_owned(),
            Detail::DutyFreeQuota {
                annual,
                spent,
                basket,
                remaining_after,
            } => quota_text(*annual, *spent, *basket, *remaining_after),
            Detail::Unverified { category, limit } => format!(
                "{category}: the {limit} is not given by the pack's sources (unverified), so it is not enforced"
            ),
            Detail::DepartureLimit {
                category,
                limit,
                requested,
            } => {
                let over = *requested - *limit;
                if over > Decimal::ZERO {
                    format!(
                        "{category}: {requested} this departure against a limit of {limit}: {over} over the limit"
                    )
                } else {
                    format!("{category}: {requested} this departure against a limit of {limit}")
                }
            }
            Detail::BackTaxValue {
                customs_value,
                elapsed,
                period,
                unit,
                unexpired,
                value,
            } => back_tax_value_text(*customs_value, *elapsed, *period, unit, *unexpired, *value),
            Detail::ListEntry { finding, entry } => format!("{finding}: {entry}"),
            Detail::ArticlesTax {
                category,
                excess,
                unit_price,
                value,
                class,
                rate,
                amount,
            } => format!(
                "{category}: {} carried beyond the purchases on record x {unit_price} = {value} CNY; inbound-articles tax class {class} at {} = {amount} CNY",
                excess.normalize(),
                pct(rate.fraction())
            ),
            Detail::CustomsValue { .. }
            | Detail::Tariff { .. }
            | Detail::ExportDuty { .. }
            | Detail::ConsumptionTax { .. }
            | Detail::Vat { .. }
            | Detail::ExchangeRate { .. }
            | Detail::MinimumTax { .. } => self.tax_formula_text(),
            Detail::ValueAdded {
                rate,
                threshold,
                qualifies,
            } => format!(
                "processing value-added rate {} {} the {} threshold",
                pct(*rate),
                if *qualifies { "reaches" } else { "is below" },
                pct(*threshold)
            ),
            Detail::AccountBook {
                hs_code,
                unit,
                balance,
                earlier,
                taken,
            } => account_book_text(hs_code, unit, *balance, *earlier, *taken),
        }
    }

    /// The customs value, the import taxes and their inputs, and the export duty.
    fn tax_formula_text(&self) -> String {
        match self {
            Detail::CustomsValue {
                value,
                currency,
                exchange_rate,
                rate_date,
                customs_value,
            } => customs_value_text(
                *value,
                *currency,
                *exchange_rate,
                *rate_date,
                *customs_value,
            ),
            Detail::Tariff {
                customs_value,
                rate,
                column,
                specific,
                amount,
            } => tariff_text(*customs_value, *rate, *column, *specific, *amount),
            Detail::ExportDuty {
                customs_value,
                rate,
                amount,
            } => format!("export duty = value × rate = {customs_value} × {rate} = {amount}"),
            Detail::ConsumptionTax {
                item,
                customs_value,
                tariff_in_base,
                quantity,
                base,
                amount,
            } => consumption_tax_text(
                item,
                *customs_value,
                *tariff_in_base,
                *quantity,
                *base,
                *amount,
            ),
            Detail::Vat {
                customs_value,
                tariff_in_base,
                consumption_tax,
                rate,
                amount,
            } => format!(
                "VAT = (CV + T + CT) × v = ({customs_value} + {tariff_in_base} + {consumption_tax}) × {rate} = {amount}"
            ),
            Detail::ExchangeRate {
                currency,
                rate_date,
                cny_per_unit,
            } => format!(
                "{currency} converted at {cny_per_unit} CNY, the benchmark rate of {rate_date} (third Wednesday of the previous month, or the fourth when the third is a holiday)"
            ),
            Detail::MinimumTax {
                tax,
                amount,
                threshold,
            } => format!(
                "{tax} of {amount} for the consignment is at or below {threshold}: not collected"
            ),
            _ => unreachable!("text() sends only the tax formulas here"),
        }
    }
}

fn quota_text(annual: Cny, spent: Cny, basket: Cny, remaining_after: Cny) -> String {
    let left = (annual - spent).max(Cny::ZERO);
    let short = basket - left;
    if short > Cny::ZERO {
        format!(
            "annual quota {annual} CNY − spent or reserved this year {spent} = {left} CNY left; this sale {basket} CNY: {short} CNY short"
        )
    } else {
        format!(
            "annual quota {annual} CNY − spent or reserved this year {spent} = {left} CNY left; this sale {basket} CNY; left after it {remaining_after} CNY"
        )
    }
}

fn customs_value_text(
    value: Decimal,
    currency: Currency,
    exchange_rate: Decimal,
    rate_date: Option<Date>,
    customs_value: Cny,
) -> String {
    match rate_date {
        Some(day) => format!(
            "CV = {value} {currency} × {exchange_rate} (rate of {day}) = {customs_value} CNY, rounded half-up to the fen"
        ),
        None => format!("CV = {customs_value} CNY"),
    }
}

fn back_tax_value_text(
    customs_value: Cny,
    elapsed: u32,
    period: u32,
    unit: &str,
    unexpired: bool,
    value: Cny,
) -> String {
    if unexpired {
        format!(
            "back-tax value = CV {customs_value} × (1 − {elapsed} / {period} {unit} supervised) = {value} CNY, rounded half-up to the fen"
        )
    } else {
        format!(
            "back-tax value = CV {customs_value} × {elapsed} / {period} {unit} diverted = {value} CNY, rounded half-up to the fen"
        )
    }
}

fn tariff_text(
    customs_value: Cny,
    rate: Rate,
    column: DutyColumn,
    specific: Option<(Decimal, &SpecificRate)>,
    amount: Cny,
) -> String {
    let column = match column {
        DutyColumn::Mfn => "MFN",
        DutyColumn::Provisional => "provisional",
        DutyColumn::General => "general",
    };
    match specific {
        Some((q, s)) => format!(
            "T = CV × t + Q × s = {customs_value} × {rate} ({column}) + {q} × {} CNY/{} = {amount}",
            s.amount_cny, s.per
        ),
        None => format!("T = CV × t = {customs_value} × {rate} ({column}) = {amount}"),
    }
}

/// The consumption-tax formula that applies: compound (ad valorem and specific), ad valorem only,
/// or specific only.
fn consumption_tax_text(
    item: &ConsumptionTaxItem,
    customs_value: Cny,
    tariff_in_base: Cny,
    quantity: Option<Decimal>,
    base: Option<Decimal>,
    amount: Cny,
) -> String {
    let name = format!(
        "consumption-tax item {} ({} / {})",
        item.id, item.item, item.sub_item
    );
    match (item.ad_valorem_rate, &item.specific, quantity, base) {
        (Some(c), Some(sp), Some(q), Some(b)) => format!(
            "{name}: base = (CV + T + Q × s) / (1 − c) = ({customs_value} + {tariff_in_base} + {q} × {}) / (1 − {c}) = {}; CT = base × c + Q × s = {amount}",
            sp.amount_cny,
            b.round_dp(6).normalize()
        ),
        (Some(c), _, _, Some(b)) => format!(
            "{name}: base = (CV + T) / (1 − c) = ({customs_value} + {tariff_in_base}) / (1 − {c}) = {}; CT = base × c = {amount}",
            b.round_dp(6).normalize()
        ),
        (None, Some(sp), Some(q), _) => format!(
            "{name}: CT = Q × s = {q} × {} CNY/{} = {amount}",
            sp.amount_cny, sp.per
        ),
        _ => format!("{name}: CT = {amount}"),
    }
}

fn account_book_text(
    hs_code: &HsCode,
    unit: &Unit,
    balance: Decimal,
    earlier: Decimal,
    taken: Decimal,
) -> String {
    let left = balance - earlier - taken;
    let earlier = if earlier.is_zero() {
        String::new()
    } else {
        format!(
            " − {} {unit} taken out earlier in the declaration",
            earlier.normalize()
        )
    };
    format!(
        "account book of {hs_code}: {} {unit} on record{earlier} − {} {unit} taken out here = {} {unit}{}",
        balance.normalize(),
        taken.normalize(),
        left.normalize(),
        if left.is_sign_negative() && !left.is_zero() {
            ": more than the book holds"
        } else {
            ""
        }
    )
}

impl Serialize for Detail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// Serializes a borrowed pack version as its id.
pub(crate) fn version_id<S: Serializer>(
    v: &&crate::pack::PackVersion,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.id)
}
