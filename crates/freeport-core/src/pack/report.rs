//! `freeport policy validate`: what a pack holds and what in it still needs an officer's check.

use serde::Serialize;

use super::model::*;

#[derive(Debug, Clone, Serialize)]
pub struct VersionReport {
    pub version: String,
    pub effective_from: String,
    pub title: String,
    pub rules: usize,
    pub tariff_lines: usize,
    pub consumption_tax_items: usize,
    pub zero_tariff_scope: String,
    pub zero_tariff_scope_entries: usize,
    pub controls: usize,
    pub restrictive_entries: usize,
    pub duty_free_categories: usize,
    pub holidays: usize,
    /// Rules of confidence L or U, and parameters the pack flags: each needs confirmation before it
    /// is treated as exact law.
    pub unverified: Vec<String>,
    pub tariff_lines_unverified: usize,
    pub warnings: Vec<String>,
}

pub fn report(pack: &PolicyPack) -> Vec<VersionReport> {
    pack.versions
        .iter()
        .map(|v| version_report(pack, v))
        .collect()
}

fn version_report(pack: &PolicyPack, v: &PackVersion) -> VersionReport {
    let mut unverified: Vec<String> = v
        .rules
        .iter()
        .filter(|r| r.confidence.is_unverified())
        .map(|r| format!("rule {} ({:?}): {}", r.id, r.confidence, r.title))
        .collect();
    unverified.sort();
    unverified.extend(
        v.unverified_parameters
            .iter()
            .map(|p| format!("parameter {p}")),
    );
    unverified.extend(duty_free_unverified(v));
    let mut warnings = Vec::new();
    let year = v.effective_from.year();
    if !v.holidays.covers_year(year) {
        warnings.push(format!("holidays.csv has no day in {year}, the year this version takes effect: exchange-rate dates may be wrong"));
    }
    let next = pack
        .versions
        .iter()
        .find(|n| n.effective_from > v.effective_from);
    if let Some(next) = next
        && next.effective_from.year() > year + 1
    {
        warnings.push(format!(
            "no newer version until {}; check that the tariff schedule's yearly changes are loaded",
            next.effective_from
        ));
    }
    let (scope, entries) = match &v.zero_tariff.scope {
        ZeroTariffScope::PositiveLists(l) => ("positive_lists", l.len()),
        ZeroTariffScope::NegativeList(l) => ("negative_list", l.len()),
    };
    VersionReport {
        version: v.id.clone(),
        effective_from: v.effective_from.to_string(),
        title: v.title.clone(),
        rules: v.rules.len(),
        tariff_lines: v.schedule.len(),
        consumption_tax_items: v.consumption_tax.len(),
        zero_tariff_scope: scope.to_owned(),
        zero_tariff_scope_entries: entries,
        controls: v.controls.len(),
        restrictive_entries: v.restrictive.len(),
        duty_free_categories: v.duty_free.categories.len(),
        holidays: v.holidays.len(),
        unverified,
        tariff_lines_unverified: v
            .schedule
            .sorted()
            .iter()
            .filter(|l| l.confidence.is_unverified())
            .count(),
        warnings,
    }
}

/// The duty-free limits and list groups the version's sources do not give, one line a kind.
fn duty_free_unverified(v: &PackVersion) -> Vec<String> {
    use super::model::LimitStatus::Unverified;
    let d = &v.duty_free;
    let names = |ids: Vec<&str>| ids.join(", ");
    let per_departure: Vec<&str> = d
        .categories
        .values()
        .filter(|c| c.limit_status == Unverified)
        .map(|c| c.id.as_str())
        .collect();
    let buy_and_take: Vec<&str> = d
        .categories
        .values()
        .filter(|c| c.buy_and_take && c.buy_and_take_limit_status == Unverified)
        .map(|c| c.id.as_str())
        .collect();
    let goods: Vec<&str> = d
        .resident_goods
        .values()
        .filter(|g| g.status == Unverified)
        .map(|g| g.id.as_str())
        .collect();
    [
        ("duty-free per-departure limits", per_departure),
        ("duty-free buy-and-take limits", buy_and_take),
        ("residents' zero-tariff list groups", goods),
    ]
    .into_iter()
    .filter(|(_, ids)| !ids.is_empty())
    .map(|(what, ids)| format!("{what}: {}", names(ids)))
    .collect()
}
