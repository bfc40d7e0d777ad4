//! The processing value-added rate (GACC Announcement 158/2025 Art. 4; POLICY.md R2.7–R2.9).
//!
//! `rate = (P_sale − ΣP_imported − ΣP_domestic) / (ΣP_imported + ΣP_domestic)`, qualifying at or
//! above the threshold (30 % in Hainan, inclusive). The comparison is exact: the rate is never
//! rounded before it is compared, so 29.999999 % does not qualify.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::declaration::{ChainStage, DomesticPurchase};
use crate::money::Cny;

/// How a zone's version counts inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountingRules {
    pub threshold: Decimal,
    /// R2.8: certified Hainan-produced purchases leave ΣP_domestic (and so count as value added).
    pub deduct_hainan_produced: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageResult {
    pub sale_price: Cny,
    pub imported: Cny,
    pub domestic: Cny,
    pub hainan_produced_deducted: Cny,
    /// Exact rate as a fraction; `None` when there are no counted inputs (nothing to divide by).
    pub rate: Option<Decimal>,
    pub qualifies: bool,
}

impl StageResult {
    /// The rate in percent rounded to three decimals, for display only.
    pub fn rate_percent_display(&self) -> Option<Decimal> {
        self.rate.map(|r| (r * Decimal::ONE_HUNDRED).round_dp(3))
    }
}

/// The rate of one enterprise on its own inputs.
pub fn stage_rate(
    sale_price: Cny,
    imported: &[Cny],
    domestic: &[DomesticPurchase],
    rules: CountingRules,
) -> StageResult {
    let imported: Cny = imported.iter().copied().sum();
    let (counted, deducted): (Cny, Cny) =
        domestic.iter().fold((Cny::ZERO, Cny::ZERO), |(c, d), p| {
            if p.hainan_produced && rules.deduct_hainan_produced {
                (c, d + p.value)
            } else {
                (c + p.value, d)
            }
        });
    let denominator = imported + counted;
    let numerator = sale_price - denominator;
    // Compare numerator ≥ threshold × denominator rather than dividing: exact at the boundary.
    let qualifies = !denominator.amount().is_zero()
        && numerator.amount() >= rules.threshold * denominator.amount();
    let rate = (!denominator.amount().is_zero()).then(|| numerator.amount() / denominator.amount());
    StageResult {
        sale_price,
        imported,
        domestic: counted,
        hainan_produced_deducted: deducted,
        rate,
        qualifies,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainResult {
    /// Each upstream stage alone, then the declarant alone (treating its purchase from the last
    /// stage as a domestic purchase).
    pub stages: Vec<StageResult>,
    /// The whole chain: final sale against every stage's own imported and domestic inputs.
    pub chain: StageResult,
}

/// R2.9: value added accumulated along a chain of filed enterprises in the zone. Intermediate sales
/// between members are internal to the chain and are not inputs of the chain view.
pub fn chain_rate(
    upstream: &[ChainStage],
    sale_price: Cny,
    imported: &[Cny],
    domestic: &[DomesticPurchase],
    rules: CountingRules,
) -> ChainResult {
    let mut stages = Vec::with_capacity(upstream.len() + 1);
    let mut previous_sale: Option<Cny> = None;
    let mut all_imported: Vec<Cny> = Vec::new();
    let mut all_domestic: Vec<DomesticPurchase> = Vec::new();
    for stage in upstream {
        let mut own_domestic = stage.domestic.clone();
        if let Some(p) = previous_sale {
            own_domestic.push(DomesticPurchase {
                value: p,
                hainan_produced: false,
            });
        }
        stages.push(stage_rate(
            stage.sale_price,
            &stage.imported,
            &own_domestic,
            rules,
        ));
        all_imported.extend_from_slice(&stage.imported);
        all_domestic.extend_from_slice(&stage.domestic);
        previous_sale = Some(stage.sale_price);
    }
    let mut own_domestic = domestic.to_vec();
    if let Some(p) = previous_sale {
        own_domestic.push(DomesticPurchase {
            value: p,
            hainan_produced: false,
        });
    }
    stages.push(stage_rate(sale_price, imported, &own_domestic, rules));
    all_imported.extend_from_slice(imported);
    all_domestic.extend_from_slice(domestic);
    let chain = stage_rate(sale_price, &all_imported, &all_domestic, rules);
    ChainResult { stages, chain }
}

/// The calculator's answer (`freeport value-added`): the rate that decides, whether it qualifies,
/// and the tariff the exemption saves on the imported materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub pack_version: String,
    pub rule: String,
    pub source: String,
    /// True when the chain view decided (upstream stages given and the pack accumulates).
    pub accumulated: bool,
    pub rate: Option<Decimal>,
    pub rate_percent_display: Option<Decimal>,
    pub threshold: Decimal,
    pub qualifies: bool,
    /// R8.1 on each imported material's customs value, each rounded to the fen, summed.
    pub tariff_saved: Cny,
    pub detail: ChainResult,
}

/// An imported material as the calculator prices it.
#[derive(Debug, Clone, Copy)]
pub struct PricedMaterial {
    pub hs_code: crate::hs::HsCode,
    pub origin: crate::country::Country,
    pub customs_value: Cny,
}

/// Runs the value-added rule of `version` over the inputs. `Err` names the material index whose
/// tariff line the pack does not carry.
pub fn assess(
    version: &crate::pack::PackVersion,
    sale_price: Cny,
    imported: &[PricedMaterial],
    domestic: &[DomesticPurchase],
    upstream: &[ChainStage],
) -> Result<Assessment, usize> {
    let va = &version.value_added;
    let rules = CountingRules {
        threshold: va.threshold,
        deduct_hainan_produced: va.hainan_produced_rule.is_some(),
    };
    let values: Vec<Cny> = imported.iter().map(|m| m.customs_value).collect();
    let detail = chain_rate(upstream, sale_price, &values, domestic, rules);
    let accumulated = va.chain_rule.is_some() && !upstream.is_empty();
    let decisive = if accumulated {
        detail.chain.clone()
    } else {
        detail
            .stages
            .last()
            .cloned()
            .unwrap_or_else(|| detail.chain.clone())
    };
    let mut tariff_saved = Cny::ZERO;
    for (i, m) in imported.iter().enumerate() {
        let line = version.schedule.line_for(&m.hs_code).ok_or(i)?;
        let (rate, _) = line.import_duty(m.origin, &version.zero_tariff.general_rate_origins);
        tariff_saved = tariff_saved + Cny::round_fen(m.customs_value.amount() * rate.fraction());
    }
    let rule_id = if accumulated {
        va.chain_rule.as_ref().unwrap_or(&va.formula_rule)
    } else {
        &va.formula_rule
    };
    let rule = version.rule(rule_id);
    Ok(Assessment {
        pack_version: version.id.clone(),
        rule: rule.id.clone(),
        source: rule.source.clone(),
        accumulated,
        rate: decisive.rate,
        rate_percent_display: decisive.rate_percent_display(),
        threshold: va.threshold,
        qualifies: decisive.qualifies,
        tariff_saved: if decisive.qualifies {
            tariff_saved
        } else {
            Cny::ZERO
        },
        detail,
    })
}
