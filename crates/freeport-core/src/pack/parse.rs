//! From pack text to a typed, cross-checked `PolicyPack`.
//!
//! Over 1 000 lines, one file on purpose: the cross-checks (every rule named has a source, every
//! list prefix extends a subheading, inheritance between versions) need every section at once; the
//! per-format readers already live beside it (`csvtable`, `schedule`, `prefix`).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use time::Date;

use super::csvtable::{CsvTable, Row};
use super::model::*;
use super::prefix::PrefixMap;
use super::{PackError, PackSources};
use crate::calendar::HolidayCalendar;
use crate::country::Country;
use crate::hs::Nomenclature;
use crate::money::{Cny, Rate, parse_decimal};
use crate::unit::PerQuantity;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneToml {
    zone: String,
    name: String,
    nomenclature: String,
    nomenclature_edition: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    citation: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    title: String,
    sources: Vec<String>,
    #[serde(default)]
    article: Option<String>,
    confidence: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFiles {
    tariff_schedule: String,
    consumption_tax: String,
    holidays: String,
    controls: String,
    duty_free_categories: String,
    #[serde(default)]
    zero_tariff_lists: Option<String>,
    #[serde(default)]
    taxable_catalogue: Option<String>,
    #[serde(default)]
    restrictive_categories: Option<String>,
    /// The zone's ports and channels (`ports.toml`), from the version that lists them.
    #[serde(default)]
    ports: Option<String>,
    /// Hainan residents' zero-tariff positive list (R4.11), from the version that brings it.
    #[serde(default)]
    resident_zero_tariff_list: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZeroTariff {
    rule: String,
    scope_rule: String,
    scope: String,
    beneficiary_types: Vec<String>,
    waiver_rule: String,
    waiver_lock_months: u32,
    waiver_same_kind_digits: usize,
    #[serde(default)]
    general_rate_origins: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTax {
    tariff_rule: String,
    consumption_tax_rule: String,
    vat_rule: String,
    rounding_rule: String,
    exchange_rate_rule: String,
    minimum_tax_rule: String,
    minimum_tax_cny: String,
    waived_tariff_in_vat_base: bool,
    export_duty_rule: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValueAdded {
    rule: String,
    formula_rule: String,
    threshold_percent: String,
    #[serde(default)]
    hainan_produced_rule: Option<String>,
    #[serde(default)]
    chain_rule: Option<String>,
    #[serde(default)]
    encouraged_revenue_share_min_percent: Option<String>,
    tax_base: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecondLine {
    controlled_rule: String,
    exit_tax_rule: String,
    entry_rule: String,
    relaxed_licence_rule: String,
    domestic_vat_offsets_import_vat: bool,
    centralised_rule: String,
    centralised_due_day: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIsland {
    free_circulation_rule: String,
    leaving_circle_rule: String,
    restrictive_rule: String,
    free_transfer_between_beneficiaries: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectRelease {
    rule: String,
    ledger_entry_days: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccountBook {
    rule: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupervision {
    rule: String,
    back_tax_rule: String,
    periods: Vec<RawSupervisionPeriod>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupervisionPeriod {
    kind: String,
    prefixes: Vec<String>,
    years: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArticlesTax {
    rule: String,
    class_rates_percent: [String; 3],
    postal_exemption_cny: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredit {
    rule: String,
    advanced_ratio_max_percent: String,
    dishonest_rate_min_percent: String,
    record_window_months: u32,
    violation_share_permille: String,
    violation_penalty_over_cny: String,
    unpaid_tax_months: u32,
    certified_findings_limit: u32,
    repair_after_months: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    effective_from: String,
    title: String,
    #[serde(default)]
    unverified: Vec<String>,
    sources: BTreeMap<String, RawSource>,
    rules: BTreeMap<String, RawRule>,
    files: RawFiles,
    zero_tariff: RawZeroTariff,
    tax: RawTax,
    value_added: RawValueAdded,
    second_line: RawSecondLine,
    island: RawIsland,
    direct_release: RawDirectRelease,
    account_book: RawAccountBook,
    duty_free: super::duty_free::RawDutyFree,
    articles_tax: RawArticlesTax,
    credit: RawCredit,
    supervision: RawSupervision,
}

const MANIFEST: &str = "manifest.toml";

/// Parses and cross-checks a whole pack.
pub fn parse_pack(sources: &PackSources) -> Result<PolicyPack, PackError> {
    let zone: ZoneToml =
        toml::from_str(&sources.zone_toml).map_err(|e| PackError::new("zone.toml", e.message()))?;
    let nomenclature =
        Nomenclature::from_csv(&zone.nomenclature_edition, &sources.nomenclature_csv)
            .map_err(|e| PackError::at(&zone.nomenclature, e.line, e.reason))?;
    let mut versions = Vec::new();
    for directory in sources.versions.keys() {
        let mut merged = merged_manifest(sources, directory, 0)?;
        merged.remove("base");
        let file = format!("{directory}/{MANIFEST}");
        let raw: RawManifest = merged
            .try_into()
            .map_err(|e: toml::de::Error| PackError::new(&file, e.message()))?;
        versions.push(build_version(
            &zone,
            &nomenclature,
            sources,
            directory,
            raw,
        )?);
    }
    if versions.is_empty() {
        return Err(PackError::new(
            "zone.toml",
            "the pack has no version folders",
        ));
    }
    versions.sort_by_key(|v| v.effective_from);
    Ok(PolicyPack {
        zone: zone.zone,
        zone_name: zone.name,
        nomenclature,
        versions,
    })
}

/// The manifest of `directory` with its base chain merged beneath it.
fn merged_manifest(
    sources: &PackSources,
    directory: &str,
    depth: usize,
) -> Result<toml::Table, PackError> {
    let file = format!("{directory}/{MANIFEST}");
    if depth > 16 {
        return Err(PackError::new(
            &file,
            "base chain is longer than 16 versions or has a cycle",
        ));
    }
    let files = sources
        .versions
        .get(directory)
        .ok_or_else(|| PackError::new(&file, "no such version folder"))?;
    let text = files
        .get(MANIFEST)
        .ok_or_else(|| PackError::new(&file, "missing"))?;
    let own: toml::Table =
        toml::from_str(text).map_err(|e| PackError::new(&file, e.to_string()))?;
    let Some(base) = own.get("base") else {
        return Ok(own);
    };
    let base = base
        .as_str()
        .ok_or_else(|| PackError::new(&file, "base must be a version folder name"))?;
    if base >= directory {
        return Err(PackError::new(
            &file,
            format!("base {base} must be an earlier version"),
        ));
    }
    let mut merged = merged_manifest(sources, base, depth + 1)?;
    merged.remove("base");
    for (key, value) in own {
        match (merged.get_mut(&key), value) {
            (Some(toml::Value::Table(below)), toml::Value::Table(above)) => below.extend(above),
            (_, value) => {
                merged.insert(key, value);
            }
        }
    }
    Ok(merged)
}

/// A data file of `directory`, or of the nearest base that ships it.
fn data_file<'a>(
    sources: &'a PackSources,
    directory: &str,
    name: &str,
) -> Result<(String, &'a str), PackError> {
    let mut current = directory.to_owned();
    for _ in 0..=16 {
        let files = sources
            .versions
            .get(&current)
            .ok_or_else(|| PackError::new(&current, "no such version folder"))?;
        if let Some(text) = files.get(name) {
            return Ok((format!("{current}/{name}"), text));
        }
        let manifest: toml::Table = toml::from_str(files.get(MANIFEST).map_or("", String::as_str))
            .map_err(|e| PackError::new(&format!("{current}/{MANIFEST}"), e.to_string()))?;
        match manifest.get("base").and_then(toml::Value::as_str) {
            Some(base) => current = base.to_owned(),
            None => break,
        }
    }
    Err(PackError::new(
        &format!("{directory}/{name}"),
        "not found in this version or its bases",
    ))
}

fn build_version(
    zone: &ZoneToml,
    nomenclature: &Nomenclature,
    sources: &PackSources,
    directory: &str,
    raw: RawManifest,
) -> Result<PackVersion, PackError> {
    let file = format!("{directory}/{MANIFEST}");
    let effective_from = parse_date(&file, &raw.effective_from)?;
    if raw.effective_from != directory {
        return Err(PackError::new(
            &file,
            format!(
                "effective_from {} differs from the folder name",
                raw.effective_from
            ),
        ));
    }
    let rules = build_rules(&file, &raw.sources, &raw.rules)?;
    let need = RuleLookup {
        file: &file,
        rules: &rules,
    };
    // The order of these steps is the order in which a faulty pack's errors are found; keep it so
    // that the first error reported does not change.
    let data = read_data_files(sources, directory, nomenclature, &raw.files)?;
    let scope = zero_tariff_scope(
        &file,
        sources,
        directory,
        nomenclature,
        &raw.files,
        &raw.zero_tariff,
    )?;
    let zero_tariff = zero_tariff_rules(&need, &raw.zero_tariff, scope)?;
    let tax = tax_rules(&need, &raw.tax)?;
    let value_added = value_added_rules(&need, &raw.value_added)?;
    let second_line = second_line_rules(&need, &raw.second_line)?;
    let island = island_rules(&need, &raw.island)?;
    let direct_release = DirectReleaseRules {
        rule: need.rule(&raw.direct_release.rule)?,
        ledger_entry_days: raw.direct_release.ledger_entry_days,
    };
    let account_book = AccountBookRules {
        rule: need.rule(&raw.account_book.rule)?,
    };
    let supervision = supervision_rules(&need, &raw.supervision)?;
    let duty_free = super::duty_free::duty_free_rules(
        &need,
        &raw.duty_free,
        data.categories,
        data.resident_goods,
    )?;
    let articles_tax = articles_tax_rules(&need, &raw.articles_tax)?;
    let credit = credit_rules(&need, &raw.credit)?;
    let goods_index = goods_index(&data.controls, &data.restrictive, &zero_tariff.scope);
    let ports = match &raw.files.ports {
        Some(name) => {
            let (f, text) = data_file(sources, directory, name)?;
            let parsed = super::ports::parse_ports(&f, text)?;
            crate::port::Ports {
                rule: Some(need.rule(&parsed.rule)?),
                release_rule: Some(need.rule(&parsed.release_rule)?),
                release_targets: Some(parsed.release_targets),
                ports: parsed.ports,
                modes: parsed.modes,
            }
        }
        None => crate::port::Ports::default(),
    };
    Ok(PackVersion {
        id: format!("{}/{}", zone.zone, directory),
        directory: directory.to_owned(),
        effective_from,
        title: raw.title,
        rules,
        unverified_parameters: raw.unverified,
        schedule: data.schedule,
        consumption_tax: data.consumption_tax,
        zero_tariff,
        controls: data.controls,
        restrictive: data.restrictive,
        goods_index,
        tax,
        value_added,
        second_line,
        island,
        direct_release,
        account_book,
        supervision,
        duty_free,
        articles_tax,
        credit,
        holidays: data.holidays,
        ports,
    })
}

/// Resolves the rule ids a manifest section names against the version's sorted rule table.
pub(super) struct RuleLookup<'a> {
    pub(super) file: &'a str,
    rules: &'a [Rule],
}

impl RuleLookup<'_> {
    pub(super) fn rule(&self, id: &str) -> Result<RuleId, PackError> {
        match self.rules.binary_search_by(|r| r.id.as_str().cmp(id)) {
            Ok(i) => {
                Ok(RuleId(u16::try_from(i).map_err(|_| {
                    PackError::new(self.file, "more than 65 535 rules")
                })?))
            }
            Err(_) => Err(PackError::new(
                self.file,
                format!("rule {id} is referenced but not defined in [rules]"),
            )),
        }
    }

    pub(super) fn optional_rule(&self, id: &Option<String>) -> Result<Option<RuleId>, PackError> {
        id.as_deref().map(|id| self.rule(id)).transpose()
    }
}

/// The data files every version ships (itself or through its base), parsed.
struct DataFiles {
    consumption_tax: BTreeMap<String, ConsumptionTaxItem>,
    schedule: TariffSchedule,
    holidays: HolidayCalendar,
    controls: PrefixMap<GoodsControl>,
    restrictive: PrefixMap<RestrictiveEntry>,
    categories: BTreeMap<String, DutyFreeCategory>,
    resident_goods: BTreeMap<String, ResidentGoods>,
}

fn read_data_files(
    sources: &PackSources,
    directory: &str,
    nomenclature: &Nomenclature,
    files: &RawFiles,
) -> Result<DataFiles, PackError> {
    let (f, text) = data_file(sources, directory, &files.consumption_tax)?;
    let consumption_tax = parse_consumption_tax(&f, text)?;
    let (f, text) = data_file(sources, directory, &files.tariff_schedule)?;
    let mut schedule = super::schedule::parse_schedule(&f, text, nomenclature)?;
    attach_consumption_tax(&mut schedule, &consumption_tax, &f, &files.consumption_tax)?;
    let (f, text) = data_file(sources, directory, &files.holidays)?;
    let holidays = parse_holidays(&f, text)?;
    let (f, text) = data_file(sources, directory, &files.controls)?;
    let controls = parse_controls(&f, text, nomenclature)?;
    let restrictive = match &files.restrictive_categories {
        Some(name) => {
            let (f, text) = data_file(sources, directory, name)?;
            parse_restrictive(&f, text, nomenclature)?
        }
        None => PrefixMap::default(),
    };
    let (f, text) = data_file(sources, directory, &files.duty_free_categories)?;
    let categories = super::duty_free::parse_categories(&f, text)?;
    let resident_goods = match &files.resident_zero_tariff_list {
        Some(name) => {
            let (f, text) = data_file(sources, directory, name)?;
            super::duty_free::parse_resident_goods(&f, text)?
        }
        None => BTreeMap::new(),
    };
    Ok(DataFiles {
        consumption_tax,
        schedule,
        holidays,
        controls,
        restrictive,
        categories,
        resident_goods,
    })
}

/// Copies each consumption-tax item a tariff line names onto the line, so deciding a line needs
/// no second lookup.
fn attach_consumption_tax(
    schedule: &mut TariffSchedule,
    consumption_tax: &BTreeMap<String, ConsumptionTaxItem>,
    schedule_file: &str,
    consumption_tax_file: &str,
) -> Result<(), PackError> {
    for line in schedule.lines_mut() {
        for item in &line.consumption_tax_items {
            let resolved = consumption_tax.get(item).ok_or_else(|| {
                PackError::new(schedule_file, format!("tariff line {} names consumption-tax item {item}, which {} does not define", line.line, consumption_tax_file))
            })?;
            line.consumption_tax.push(resolved.clone());
        }
    }
    Ok(())
}

fn zero_tariff_scope(
    file: &str,
    sources: &PackSources,
    directory: &str,
    nomenclature: &Nomenclature,
    files: &RawFiles,
    z: &RawZeroTariff,
) -> Result<ZeroTariffScope, PackError> {
    match z.scope.as_str() {
        "positive_lists" => {
            let name = files.zero_tariff_lists.as_deref().ok_or_else(|| {
                PackError::new(file, "scope positive_lists needs files.zero_tariff_lists")
            })?;
            let (f, text) = data_file(sources, directory, name)?;
            Ok(ZeroTariffScope::PositiveLists(parse_prefix_list(
                &f,
                text,
                nomenclature,
                "list",
            )?))
        }
        "negative_list" => {
            let name = files.taxable_catalogue.as_deref().ok_or_else(|| {
                PackError::new(file, "scope negative_list needs files.taxable_catalogue")
            })?;
            let (f, text) = data_file(sources, directory, name)?;
            Ok(ZeroTariffScope::NegativeList(parse_prefix_list(
                &f,
                text,
                nomenclature,
                "description",
            )?))
        }
        other => Err(PackError::new(
            file,
            format!("zero_tariff.scope {other:?} is not positive_lists or negative_list"),
        )),
    }
}

fn zero_tariff_rules(
    need: &RuleLookup<'_>,
    z: &RawZeroTariff,
    scope: ZeroTariffScope,
) -> Result<ZeroTariffRules, PackError> {
    let file = need.file;
    let general_rate_origins = z
        .general_rate_origins
        .iter()
        .map(|c| {
            Country::parse(c).map_err(|e| {
                PackError::new(
                    file,
                    format!("zero_tariff.general_rate_origins: {}", e.reason),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let zero_tariff = ZeroTariffRules {
        rule: need.rule(&z.rule)?,
        scope_rule: need.rule(&z.scope_rule)?,
        scope,
        beneficiary_types: z.beneficiary_types.clone(),
        waiver_rule: need.rule(&z.waiver_rule)?,
        waiver_lock_months: z.waiver_lock_months,
        waiver_same_kind_digits: z.waiver_same_kind_digits,
        general_rate_origins,
    };
    if !matches!(zero_tariff.waiver_same_kind_digits, 2 | 4 | 6 | 8) {
        return Err(PackError::new(
            file,
            "zero_tariff.waiver_same_kind_digits must be 2, 4, 6 or 8",
        ));
    }
    Ok(zero_tariff)
}

fn tax_rules(need: &RuleLookup<'_>, t: &RawTax) -> Result<TaxRules, PackError> {
    Ok(TaxRules {
        tariff_rule: need.rule(&t.tariff_rule)?,
        consumption_tax_rule: need.rule(&t.consumption_tax_rule)?,
        vat_rule: need.rule(&t.vat_rule)?,
        rounding_rule: need.rule(&t.rounding_rule)?,
        exchange_rate_rule: need.rule(&t.exchange_rate_rule)?,
        minimum_tax_rule: need.rule(&t.minimum_tax_rule)?,
        minimum_tax: cny(need.file, "tax.minimum_tax_cny", &t.minimum_tax_cny)?,
        waived_tariff_in_vat_base: t.waived_tariff_in_vat_base,
        export_duty_rule: need.rule(&t.export_duty_rule)?,
    })
}

fn value_added_rules(
    need: &RuleLookup<'_>,
    v: &RawValueAdded,
) -> Result<ValueAddedRules, PackError> {
    let file = need.file;
    Ok(ValueAddedRules {
        rule: need.rule(&v.rule)?,
        formula_rule: need.rule(&v.formula_rule)?,
        threshold: percent(file, "value_added.threshold_percent", &v.threshold_percent)?,
        hainan_produced_rule: need.optional_rule(&v.hainan_produced_rule)?,
        chain_rule: need.optional_rule(&v.chain_rule)?,
        encouraged_revenue_share_min: v
            .encouraged_revenue_share_min_percent
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| percent(file, "value_added.encouraged_revenue_share_min_percent", p))
            .transpose()?,
        tax_base: match v.tax_base.as_str() {
            "imported_materials" => ValueAddedTaxBase::ImportedMaterials,
            "finished_goods" => ValueAddedTaxBase::FinishedGoods,
            other => {
                return Err(PackError::new(
                    file,
                    format!(
                        "value_added.tax_base {other:?} is not imported_materials or finished_goods"
                    ),
                ));
            }
        },
    })
}

fn second_line_rules(
    need: &RuleLookup<'_>,
    s: &RawSecondLine,
) -> Result<SecondLineRules, PackError> {
    Ok(SecondLineRules {
        controlled_rule: need.rule(&s.controlled_rule)?,
        exit_tax_rule: need.rule(&s.exit_tax_rule)?,
        entry_rule: need.rule(&s.entry_rule)?,
        relaxed_licence_rule: need.rule(&s.relaxed_licence_rule)?,
        domestic_vat_offsets_import_vat: s.domestic_vat_offsets_import_vat,
        centralised_rule: need.rule(&s.centralised_rule)?,
        centralised_due_day: s.centralised_due_day,
    })
}

fn island_rules(need: &RuleLookup<'_>, i: &RawIsland) -> Result<IslandRules, PackError> {
    Ok(IslandRules {
        free_circulation_rule: need.rule(&i.free_circulation_rule)?,
        leaving_circle_rule: need.rule(&i.leaving_circle_rule)?,
        restrictive_rule: need.rule(&i.restrictive_rule)?,
        free_transfer_between_beneficiaries: i.free_transfer_between_beneficiaries,
    })
}

fn supervision_rules(
    need: &RuleLookup<'_>,
    s: &RawSupervision,
) -> Result<SupervisionRules, PackError> {
    let periods = supervision_periods(need.file, &s.periods)?;
    Ok(SupervisionRules {
        rule: need.rule(&s.rule)?,
        back_tax_rule: need.rule(&s.back_tax_rule)?,
        periods,
    })
}

/// Supervision periods keyed by HS prefix, so the longest matching prefix sets a good's period.
fn supervision_periods(
    file: &str,
    raw: &[RawSupervisionPeriod],
) -> Result<PrefixMap<SupervisionPeriod>, PackError> {
    let mut periods = PrefixMap::default();
    for p in raw {
        if p.years == 0 || p.years > 30 || p.kind.trim().is_empty() {
            return Err(PackError::new(
                file,
                format!(
                    "supervision period {:?}: a kind and 1 to 30 years are required",
                    p.kind
                ),
            ));
        }
        for prefix in &p.prefixes {
            if prefix.len() < 2 || prefix.len() > 10 || !prefix.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(PackError::new(
                    file,
                    format!(
                        "supervision period {}: {prefix:?} is not an HS prefix",
                        p.kind
                    ),
                ));
            }
            periods.insert(
                prefix,
                SupervisionPeriod {
                    kind: p.kind.clone(),
                    years: p.years,
                },
            );
        }
    }
    Ok(periods)
}

fn articles_tax_rules(
    need: &RuleLookup<'_>,
    a: &RawArticlesTax,
) -> Result<ArticlesTaxRules, PackError> {
    let file = need.file;
    Ok(ArticlesTaxRules {
        rule: need.rule(&a.rule)?,
        rates: [
            rate(
                file,
                "articles_tax.class_rates_percent[0]",
                &a.class_rates_percent[0],
            )?,
            rate(
                file,
                "articles_tax.class_rates_percent[1]",
                &a.class_rates_percent[1],
            )?,
            rate(
                file,
                "articles_tax.class_rates_percent[2]",
                &a.class_rates_percent[2],
            )?,
        ],
        postal_exemption: cny(
            file,
            "articles_tax.postal_exemption_cny",
            &a.postal_exemption_cny,
        )?,
    })
}

fn credit_rules(need: &RuleLookup<'_>, c: &RawCredit) -> Result<CreditRules, PackError> {
    let file = need.file;
    Ok(CreditRules {
        rule: need.rule(&c.rule)?,
        advanced_ratio_max: percent(
            file,
            "credit.advanced_ratio_max_percent",
            &c.advanced_ratio_max_percent,
        )?,
        dishonest_rate_min: percent(
            file,
            "credit.dishonest_rate_min_percent",
            &c.dishonest_rate_min_percent,
        )?,
        record_window_months: months(file, "credit.record_window_months", c.record_window_months)?,
        violation_share: parse_decimal(
            "credit.violation_share_permille",
            &c.violation_share_permille,
        )
        .map(|p| p / Decimal::ONE_THOUSAND)
        .map_err(|e| PackError::new(file, e.to_string()))?,
        violation_penalty_over: cny(
            file,
            "credit.violation_penalty_over_cny",
            &c.violation_penalty_over_cny,
        )?,
        unpaid_tax_months: months(file, "credit.unpaid_tax_months", c.unpaid_tax_months)?,
        certified_findings_limit: c.certified_findings_limit,
        repair_after_months: months(file, "credit.repair_after_months", c.repair_after_months)?,
    })
}

/// Controls, restrictive categories and the zero-tariff scope in one prefix map, so that deciding a
/// line scans the code's prefixes once; hits under one prefix keep this insertion order.
fn goods_index(
    controls: &PrefixMap<GoodsControl>,
    restrictive: &PrefixMap<RestrictiveEntry>,
    scope: &ZeroTariffScope,
) -> PrefixMap<GoodsHit> {
    let mut goods_index = PrefixMap::default();
    for (prefix, c) in controls.iter() {
        goods_index.insert(prefix, GoodsHit::Control(c.clone()));
    }
    for (prefix, r) in restrictive.iter() {
        goods_index.insert(prefix, GoodsHit::Restrictive(r.clone()));
    }
    match scope {
        ZeroTariffScope::PositiveLists(lists) => {
            for (prefix, list) in lists.iter() {
                goods_index.insert(prefix, GoodsHit::PositiveList(list.clone()));
            }
        }
        ZeroTariffScope::NegativeList(catalogue) => {
            for (prefix, description) in catalogue.iter() {
                goods_index.insert(prefix, GoodsHit::TaxableCatalogue(description.clone()));
            }
        }
    }
    goods_index
}

/// The rule table, sorted by id (the `BTreeMap` iterates in order).
fn build_rules(
    file: &str,
    sources: &BTreeMap<String, RawSource>,
    rules: &BTreeMap<String, RawRule>,
) -> Result<Vec<Rule>, PackError> {
    let mut out = Vec::with_capacity(rules.len());
    for (id, r) in rules {
        if r.sources.is_empty() {
            return Err(PackError::new(
                file,
                format!("rule {id} names no legal source"),
            ));
        }
        let mut cited = Vec::new();
        for key in &r.sources {
            let s = sources.get(key).ok_or_else(|| {
                PackError::new(
                    file,
                    format!("rule {id} cites source {key}, which [sources] does not define"),
                )
            })?;
            cited.push(match &s.url {
                Some(url) => format!("[{key}] {} <{url}>", s.citation),
                None => format!("[{key}] {}", s.citation),
            });
        }
        let mut source = cited.join("; ");
        if let Some(article) = &r.article {
            source = format!("{article} — {source}");
        }
        let confidence = parse_confidence(r.confidence.as_str()).ok_or_else(|| {
            PackError::new(
                file,
                format!(
                    "rule {id}: confidence {:?} is not H, M, L or U",
                    r.confidence
                ),
            )
        })?;
        out.push(Rule {
            id: id.clone(),
            title: r.title.clone(),
            source,
            confidence,
        });
    }
    Ok(out)
}

pub(crate) fn parse_confidence(text: &str) -> Option<Confidence> {
    match text {
        "H" => Some(Confidence::H),
        "M" => Some(Confidence::M),
        "L" => Some(Confidence::L),
        "U" => Some(Confidence::U),
        _ => None,
    }
}

fn parse_date(file: &str, text: &str) -> Result<Date, PackError> {
    crate::calendar::parse_day("", text).map_err(|e| PackError::new(file, e.reason))
}

fn months(file: &str, field: &str, months: u32) -> Result<u32, PackError> {
    if (1..=120).contains(&months) {
        Ok(months)
    } else {
        Err(PackError::new(
            file,
            format!("{field}: {months} is not 1 to 120 months"),
        ))
    }
}

pub(super) fn cny(file: &str, field: &str, text: &str) -> Result<Cny, PackError> {
    Cny::parse(field, text).map_err(|e| PackError::new(file, e.to_string()))
}

fn rate(file: &str, field: &str, text: &str) -> Result<Rate, PackError> {
    Rate::from_percent(field, text).map_err(|e| PackError::new(file, e.to_string()))
}

fn percent(file: &str, field: &str, text: &str) -> Result<Decimal, PackError> {
    parse_decimal(field, text)
        .map(|p| p / Decimal::ONE_HUNDRED)
        .map_err(|e| PackError::new(file, e.to_string()))
}

pub(crate) fn row_rate(row: &Row<'_>, column: &str) -> Result<Option<Rate>, PackError> {
    row.opt(column)
        .map(|t| Rate::from_percent(column, t).map_err(|e| row.error(e.to_string())))
        .transpose()
}

pub(crate) fn row_specific(
    row: &Row<'_>,
    amount_column: &str,
    unit_column: &str,
) -> Result<Option<SpecificRate>, PackError> {
    match (row.opt(amount_column), row.opt(unit_column)) {
        (None, None) => Ok(None),
        (Some(a), Some(u)) => Ok(Some(SpecificRate {
            amount_cny: parse_decimal(amount_column, a).map_err(|e| row.error(e.to_string()))?,
            per: PerQuantity::parse(unit_column, u).map_err(|e| row.error(e.to_string()))?,
        })),
        _ => Err(row.error(format!("{amount_column} and {unit_column} go together"))),
    }
}

fn check_prefix(row: &Row<'_>, nomenclature: &Nomenclature, prefix: &str) -> Result<(), PackError> {
    if !prefix.bytes().all(|b| b.is_ascii_digit()) || !nomenclature.knows_prefix(prefix) {
        return Err(row.error(format!(
            "hs_prefix {prefix:?} is not a chapter, heading, subheading or national line of {}",
            nomenclature.edition()
        )));
    }
    Ok(())
}

fn parse_consumption_tax(
    file: &str,
    text: &str,
) -> Result<BTreeMap<String, ConsumptionTaxItem>, PackError> {
    let table = CsvTable::parse(
        file,
        text,
        &[
            "id",
            "item",
            "sub_item",
            "ad_valorem_rate",
            "specific_rate_cny",
            "specific_unit",
            "legal_basis",
        ],
    )?;
    let mut items = BTreeMap::new();
    for row in table.rows() {
        let id = row.require("id")?.to_owned();
        let ad_valorem_rate = row_rate(&row, "ad_valorem_rate")?;
        if ad_valorem_rate.is_some_and(|c| c.fraction() >= Decimal::ONE) {
            return Err(row.error("an ad valorem consumption-tax rate must be below 100 % (the gross-up divides by 1 − c)"));
        }
        let specific = row_specific(&row, "specific_rate_cny", "specific_unit")?;
        if ad_valorem_rate.is_none() && specific.is_none() {
            return Err(row.error("an item needs an ad valorem rate, a specific rate, or both"));
        }
        let litres_per_tonne = row
            .opt("litres_per_tonne")
            .map(|t| parse_decimal("litres_per_tonne", t).map_err(|e| row.error(e.to_string())))
            .transpose()?;
        let item = ConsumptionTaxItem {
            id: id.clone(),
            item: row.get("item").to_owned(),
            sub_item: row.get("sub_item").to_owned(),
            ad_valorem_rate,
            specific,
            litres_per_tonne,
            legal_basis: row.require("legal_basis")?.to_owned(),
        };
        if items.insert(id.clone(), item).is_some() {
            return Err(row.error(format!("duplicate id {id}")));
        }
    }
    Ok(items)
}

fn parse_holidays(file: &str, text: &str) -> Result<HolidayCalendar, PackError> {
    let table = CsvTable::parse(file, text, &["date", "name", "source"])?;
    let mut days = Vec::new();
    for row in table.rows() {
        days.push(parse_date(file, row.require("date")?).map_err(|e| row.error(e.reason))?);
    }
    Ok(HolidayCalendar::new(days))
}

fn parse_controls(
    file: &str,
    text: &str,
    nomenclature: &Nomenclature,
) -> Result<PrefixMap<GoodsControl>, PackError> {
    let table = CsvTable::parse(
        file,
        text,
        &[
            "hs_prefix",
            "direction",
            "measure",
            "licence",
            "relaxed_under_exception",
            "description",
            "source",
        ],
    )?;
    let mut map = PrefixMap::default();
    for row in table.rows() {
        let prefix = row.require("hs_prefix")?;
        check_prefix(&row, nomenclature, prefix)?;
        let directions = match row.require("direction")? {
            "import" => vec![Direction::Import],
            "export" => vec![Direction::Export],
            "both" => vec![Direction::Import, Direction::Export],
            other => {
                return Err(row.error(format!("direction {other:?} is not import, export or both")));
            }
        };
        let measure = match row.require("measure")? {
            "prohibited" => ControlMeasure::Prohibited,
            "restricted" => ControlMeasure::Restricted,
            other => {
                return Err(row.error(format!("measure {other:?} is not prohibited or restricted")));
            }
        };
        let licence = row.get("licence").to_owned();
        if measure == ControlMeasure::Restricted && licence.is_empty() {
            return Err(row.error("a restricted row names the licence it needs"));
        }
        let relaxed_under_exception = match row.get("relaxed_under_exception") {
            "yes" => true,
            "" | "no" => false,
            other => {
                return Err(row.error(format!(
                    "relaxed_under_exception {other:?} is not yes or empty"
                )));
            }
        };
        map.insert(
            prefix,
            GoodsControl {
                prefix: prefix.to_owned(),
                directions,
                measure,
                licence,
                relaxed_under_exception,
                description: row.get("description").to_owned(),
                source: row.require("source")?.to_owned(),
            },
        );
    }
    Ok(map)
}

fn parse_restrictive(
    file: &str,
    text: &str,
    nomenclature: &Nomenclature,
) -> Result<PrefixMap<RestrictiveEntry>, PackError> {
    let table = CsvTable::parse(
        file,
        text,
        &["hs_prefix", "category", "origin", "description", "source"],
    )?;
    let mut map = PrefixMap::default();
    for row in table.rows() {
        let prefix = row.require("hs_prefix")?;
        check_prefix(&row, nomenclature, prefix)?;
        let category = match row.require("category")? {
            "tariff_rate_quota" => RestrictiveCategory::TariffRateQuota,
            "trade_remedy" => RestrictiveCategory::TradeRemedy,
            "suspended_concessions" => RestrictiveCategory::SuspendedConcessions,
            "retaliatory" => RestrictiveCategory::Retaliatory,
            other => {
                return Err(row.error(format!(
                    "category {other:?} is not one of the four restrictive categories"
                )));
            }
        };
        let origin = row
            .opt("origin")
            .map(|c| Country::parse(c).map_err(|e| row.error(e.to_string())))
            .transpose()?;
        map.insert(
            prefix,
            RestrictiveEntry {
                prefix: prefix.to_owned(),
                category,
                origin,
                description: row.get("description").to_owned(),
                source: row.require("source")?.to_owned(),
            },
        );
    }
    Ok(map)
}

/// A list of HS prefixes whose value is taken from `value_column` (list name or description).
fn parse_prefix_list(
    file: &str,
    text: &str,
    nomenclature: &Nomenclature,
    value_column: &str,
) -> Result<PrefixMap<String>, PackError> {
    let table = CsvTable::parse(file, text, &["hs_prefix", value_column, "source"])?;
    let mut map = PrefixMap::default();
    for row in table.rows() {
        let prefix = row.require("hs_prefix")?;
        check_prefix(&row, nomenclature, prefix)?;
        row.require("source")?;
        map.insert(prefix, row.get(value_column).to_owned());
    }
    Ok(map)
}
