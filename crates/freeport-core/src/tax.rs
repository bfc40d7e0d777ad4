//! Import-tax arithmetic (POLICY.md §8): tariff, consumption tax with its gross-up, import VAT.
//!
//! R8.4 fixes the order: compute each tax, round it half-up to the fen, then use the rounded amount
//! in the next tax's base. Each amount is rounded exactly once, by `Cny::round_fen`.

use rust_decimal::Decimal;

use crate::explain::{Detail, Step};
use crate::money::{Cny, Rate};
use crate::pack::{ConsumptionTaxItem, DutyColumn, PackVersion, SpecificRate};
use crate::unit::{PerQuantity, Quantity, count_in};

/// Everything the arithmetic needs for one line or one imported material.
#[derive(Debug, Clone, Copy)]
pub struct TaxBasis<'p, 'q> {
    pub customs_value: Cny,
    pub quantities: &'q [Quantity],
    pub duty_rate: Rate,
    pub duty_column: DutyColumn,
    pub specific_duty: Option<&'p SpecificRate>,
    pub consumption_tax: Option<&'p ConsumptionTaxItem>,
    pub vat_rate: Rate,
}

/// The three import taxes of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct TaxAmounts {
    pub tariff: Cny,
    pub consumption_tax: Cny,
    pub vat: Cny,
}

impl TaxAmounts {
    pub fn total(&self) -> Cny {
        self.tariff + self.consumption_tax + self.vat
    }

    pub fn add(&mut self, other: &TaxAmounts) {
        self.tariff = self.tariff + other.tariff;
        self.consumption_tax = self.consumption_tax + other.consumption_tax;
        self.vat = self.vat + other.vat;
    }

    pub fn minus(&self, other: &TaxAmounts) -> TaxAmounts {
        TaxAmounts {
            tariff: self.tariff - other.tariff,
            consumption_tax: self.consumption_tax - other.consumption_tax,
            vat: self.vat - other.vat,
        }
    }
}

/// A specific rate needs a quantity the line does not state in a convertible unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a quantity in {0} (or a unit convertible to it) is required for a specific rate")]
pub struct MissingQuantity(pub PerQuantity);

fn quantity_for(
    quantities: &[Quantity],
    rate: &SpecificRate,
    litres_per_tonne: Option<Decimal>,
) -> Result<Decimal, MissingQuantity> {
    count_in(quantities, rate.per, litres_per_tonne).ok_or(MissingQuantity(rate.per))
}

/// Which taxes the treatment leaves out of the payable amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exemptions {
    pub tariff: bool,
    pub consumption_tax: bool,
    pub vat: bool,
}

impl Exemptions {
    pub const NONE: Exemptions = Exemptions {
        tariff: false,
        consumption_tax: false,
        vat: false,
    };
    pub const ALL: Exemptions = Exemptions {
        tariff: true,
        consumption_tax: true,
        vat: true,
    };
    pub const TARIFF_ONLY: Exemptions = Exemptions {
        tariff: true,
        consumption_tax: false,
        vat: false,
    };
}

/// Computes the payable taxes of one basis under `exempt`, pushing an explained step per tax.
///
/// An exempt tariff is left out of the consumption-tax and VAT bases (they are built on the tariff
/// actually levied); an exempt consumption tax likewise drops out of the VAT base.
pub fn compute<'p>(
    pack: &'p PackVersion,
    basis: &TaxBasis<'p, '_>,
    exempt: Exemptions,
    steps: &mut Vec<Step<'p>>,
) -> Result<TaxAmounts, MissingQuantity> {
    let cv = basis.customs_value;
    let tariff = if exempt.tariff {
        Cny::ZERO
    } else {
        let specific = basis
            .specific_duty
            .map(|s| quantity_for(basis.quantities, s, None).map(|q| (q, s)))
            .transpose()?;
        let raw = cv.amount() * basis.duty_rate.fraction()
            + specific.map_or(Decimal::ZERO, |(q, s)| q * s.amount_cny);
        let amount = Cny::round_fen(raw);
        steps.push(Step {
            rule: pack.rule(&pack.tax.tariff_rule),
            detail: Detail::Tariff {
                customs_value: cv,
                rate: basis.duty_rate,
                column: basis.duty_column,
                specific,
                amount,
            },
        });
        amount
    };
    let consumption_tax = match basis.consumption_tax {
        Some(item) if !exempt.consumption_tax => {
            let (amount, quantity, base) = consumption_tax(item, cv, tariff, basis.quantities)?;
            steps.push(Step {
                rule: pack.rule(&pack.tax.consumption_tax_rule),
                detail: Detail::ConsumptionTax {
                    item,
                    customs_value: cv,
                    tariff_in_base: tariff,
                    quantity,
                    base,
                    amount,
                },
            });
            amount
        }
        _ => Cny::ZERO,
    };
    let vat = if exempt.vat {
        Cny::ZERO
    } else {
        let amount =
            Cny::round_fen((cv + tariff + consumption_tax).amount() * basis.vat_rate.fraction());
        steps.push(Step {
            rule: pack.rule(&pack.tax.vat_rule),
            detail: Detail::Vat {
                customs_value: cv,
                tariff_in_base: tariff,
                consumption_tax,
                rate: basis.vat_rate,
                amount,
            },
        });
        amount
    };
    Ok(TaxAmounts {
        tariff,
        consumption_tax,
        vat,
    })
}

/// The taxes payable under `exempt` and the normal taxes (nothing exempt), so that the saving is
/// their difference. Computes once where it can: with nothing exempt the two coincide, and with
/// everything exempt the explained computation is the normal one, shown as what was exempted.
pub fn payable_and_normal<'p>(
    pack: &'p PackVersion,
    basis: &TaxBasis<'p, '_>,
    exempt: Exemptions,
    steps: &mut Vec<Step<'p>>,
) -> Result<(TaxAmounts, TaxAmounts), MissingQuantity> {
    if exempt == Exemptions::NONE {
        let normal = compute(pack, basis, Exemptions::NONE, steps)?;
        return Ok((normal, normal));
    }
    if exempt == Exemptions::ALL {
        let normal = compute(pack, basis, Exemptions::NONE, steps)?;
        return Ok((TaxAmounts::default(), normal));
    }
    let normal = compute(pack, basis, Exemptions::NONE, &mut Vec::new())?;
    Ok((compute(pack, basis, exempt, steps)?, normal))
}

/// R8.2: ad valorem `(CV + T) / (1 − c) × c`; specific `Q × s`; compound
/// `(CV + T + Q × s) / (1 − c) × c + Q × s`. Returns the amount, the quantity used and the base.
pub fn consumption_tax(
    item: &ConsumptionTaxItem,
    cv: Cny,
    tariff: Cny,
    quantities: &[Quantity],
) -> Result<(Cny, Option<Decimal>, Option<Decimal>), MissingQuantity> {
    let specific = item
        .specific
        .as_ref()
        .map(|s| quantity_for(quantities, s, item.litres_per_tonne).map(|q| (q, q * s.amount_cny)))
        .transpose()?;
    let specific_amount = specific.map_or(Decimal::ZERO, |(_, a)| a);
    match item.ad_valorem_rate {
        Some(c) => {
            let base =
                (cv.amount() + tariff.amount() + specific_amount) / (Decimal::ONE - c.fraction());
            Ok((
                Cny::round_fen(base * c.fraction() + specific_amount),
                specific.map(|(q, _)| q),
                Some(base),
            ))
        }
        None => Ok((
            Cny::round_fen(specific_amount),
            specific.map(|(q, _)| q),
            None,
        )),
    }
}

/// R8.8: the inbound-articles tax (行邮税) on a value, at the class's rate, rounded to the fen.
pub fn articles_tax(value: Cny, rate: Rate) -> Cny {
    Cny::round_fen(value.amount() * rate.fraction())
}
