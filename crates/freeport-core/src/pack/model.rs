//! The policy pack as typed data: what the parser produces and the decision functions read.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::prefix::PrefixMap;
use crate::calendar::HolidayCalendar;
use crate::country::Country;
use crate::hs::{HsCode, Nomenclature};
use crate::money::{Cny, Rate};
use crate::unit::{PerQuantity, Unit};

/// How sure the rule book is of a rule (POLICY.md "How to read this").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Confidence {
    H,
    M,
    L,
    U,
}

impl Confidence {
    /// POLICY.md: rules marked L or U are flagged `unverified`, for an officer to confirm.
    pub fn is_unverified(self) -> bool {
        matches!(self, Confidence::L | Confidence::U)
    }
}

/// A rule of the rule book with the legal source it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: String,
    pub title: String,
    /// The legal source in words: instrument and article, with the register key.
    pub source: String,
    pub confidence: Confidence,
}

/// A zone's pack: every version, keyed by the day it takes effect.
#[derive(Debug, Clone)]
pub struct PolicyPack {
    pub zone: String,
    pub zone_name: String,
    pub nomenclature: Nomenclature,
    /// Sorted by `effective_from`, strictly increasing.
    pub versions: Vec<PackVersion>,
}

impl PolicyPack {
    /// The version in force on `day`: the latest one that took effect on or before it.
    pub fn version_on(&self, day: Date) -> Option<&PackVersion> {
        let i = self.versions.partition_point(|v| v.effective_from <= day);
        i.checked_sub(1).map(|i| &self.versions[i])
    }

    pub fn version(&self, id_or_date: &str) -> Option<&PackVersion> {
        self.versions.iter().find(|v| v.id == id_or_date || v.directory == id_or_date)
    }
}

/// One effective-dated version of a pack, complete after inheritance from its base.
#[derive(Debug, Clone)]
pub struct PackVersion {
    /// `zone/effective-date`, e.g. `hainan/2025-12-18`; named in every decision.
    pub id: String,
    pub directory: String,
    pub effective_from: Date,
    pub title: String,
    pub rules: BTreeMap<String, Rule>,
    /// Parameters the pack flags as unverified, as `section.parameter`, beyond rules of confidence L/U.
    pub unverified_parameters: Vec<String>,
    pub schedule: TariffSchedule,
    pub consumption_tax: BTreeMap<String, ConsumptionTaxItem>,
    pub zero_tariff: ZeroTariffRules,
    pub controls: PrefixMap<GoodsControl>,
    pub restrictive: PrefixMap<RestrictiveEntry>,
    pub tax: TaxRules,
    pub value_added: ValueAddedRules,
    pub second_line: SecondLineRules,
    pub island: IslandRules,
    pub direct_release: DirectReleaseRules,
    pub duty_free: DutyFreeRules,
    pub articles_tax: ArticlesTaxRules,
    pub credit: CreditRules,
    pub holidays: HolidayCalendar,
}

impl PackVersion {
    pub fn rule(&self, id: &str) -> &Rule {
        // The parser checks every rule a section names exists, so a miss is a programming error.
        self.rules.get(id).unwrap_or_else(|| panic!("rule {id} referenced by code but absent from pack {}", self.id))
    }
}

#[derive(Debug, Clone, Default)]
pub struct TariffSchedule {
    pub lines: HashMap<String, TariffLine>,
}

impl TariffSchedule {
    /// The most precise line for a code: the 10-digit commodity code if the schedule has it, else
    /// the 8-digit tariff line.
    pub fn line_for(&self, code: &HsCode) -> Option<&TariffLine> {
        let s = code.as_str();
        (s.len() == 10).then(|| self.lines.get(s)).flatten().or_else(|| code.tariff_line().and_then(|t| self.lines.get(t)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecificRate {
    pub amount_cny: Decimal,
    pub per: PerQuantity,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TariffLine {
    pub line: String,
    pub description: String,
    pub first_unit: Unit,
    pub second_unit: Option<Unit>,
    pub mfn_rate: Rate,
    pub provisional_rate: Option<Rate>,
    pub general_rate: Option<Rate>,
    pub specific_duty: Option<SpecificRate>,
    pub export_duty_rate: Option<Rate>,
    pub vat_rate: Rate,
    pub consumption_tax_items: Vec<String>,
    pub source: String,
    pub confidence: Confidence,
}

/// Which column of the schedule a duty came from, named in the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyColumn {
    Mfn,
    Provisional,
    General,
}

impl TariffLine {
    /// The import duty rate for goods of `origin`: the general rate for origins the pack lists as
    /// outside MFN treatment, else the provisional rate where one is set, else MFN (Tariff Law
    /// Arts 11-13).
    pub fn import_duty(&self, origin: Country, general_rate_origins: &[Country]) -> (Rate, DutyColumn) {
        if general_rate_origins.contains(&origin) {
            if let Some(g) = self.general_rate {
                return (g, DutyColumn::General);
            }
        }
        match self.provisional_rate {
            Some(p) => (p, DutyColumn::Provisional),
            None => (self.mfn_rate, DutyColumn::Mfn),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumptionTaxItem {
    pub id: String,
    pub item: String,
    pub sub_item: String,
    pub ad_valorem_rate: Option<Rate>,
    pub specific: Option<SpecificRate>,
    /// Statutory litres per tonne for goods taxed per tonne but declared in litres.
    pub litres_per_tonne: Option<Decimal>,
    pub legal_basis: String,
}

/// How the zone decides which goods enter at zero tariff.
#[derive(Debug, Clone)]
pub enum ZeroTariffScope {
    /// Pre-closure Hainan: only goods on a positive list (raw materials, vehicles and yachts,
    /// production equipment) qualify. The value is the list's name.
    PositiveLists(PrefixMap<String>),
    /// Post-closure: everything qualifies except the taxable catalogue. The value is the row's
    /// description.
    NegativeList(PrefixMap<String>),
}

#[derive(Debug, Clone)]
pub struct ZeroTariffRules {
    pub rule: String,
    pub scope_rule: String,
    pub scope: ZeroTariffScope,
    pub beneficiary_types: Vec<String>,
    pub waiver_rule: String,
    pub waiver_lock_months: u32,
    /// "Same kind of goods" for the waiver lock, as a number of HS digits (4 = heading).
    pub waiver_same_kind_digits: usize,
    pub general_rate_origins: Vec<Country>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Import,
    Export,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlMeasure {
    Prohibited,
    Restricted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoodsControl {
    pub prefix: String,
    pub directions: Vec<Direction>,
    pub measure: ControlMeasure,
    pub licence: String,
    pub relaxed_under_exception: bool,
    pub description: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestrictiveCategory {
    TariffRateQuota,
    TradeRemedy,
    SuspendedConcessions,
    Retaliatory,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestrictiveEntry {
    pub prefix: String,
    pub category: RestrictiveCategory,
    pub origin: Option<Country>,
    pub description: String,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct TaxRules {
    pub tariff_rule: String,
    pub consumption_tax_rule: String,
    pub vat_rule: String,
    pub rounding_rule: String,
    pub exchange_rate_rule: String,
    pub minimum_tax_rule: String,
    /// A tax amount at or below this, per consignment and per tax, is not collected (R8.6).
    pub minimum_tax: Cny,
    /// Open question 9: whether a tariff waived under the minimum rule stays in the VAT base.
    pub waived_tariff_in_vat_base: bool,
    pub export_duty_rule: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueAddedTaxBase {
    /// VAT and consumption tax on the imported materials (Shushuihanzi [2025] 81 reading).
    ImportedMaterials,
    /// VAT and consumption tax on the finished goods at their sale price.
    FinishedGoods,
}

#[derive(Debug, Clone)]
pub struct ValueAddedRules {
    pub rule: String,
    pub formula_rule: String,
    pub threshold: Decimal,
    pub hainan_produced_rule: Option<String>,
    pub chain_rule: Option<String>,
    /// Pre-closure Yangpu pilot: encouraged-industry revenue must exceed this share.
    pub encouraged_revenue_share_min: Option<Decimal>,
    pub tax_base: ValueAddedTaxBase,
}

#[derive(Debug, Clone)]
pub struct SecondLineRules {
    pub controlled_rule: String,
    pub exit_tax_rule: String,
    pub entry_rule: String,
    pub relaxed_licence_rule: String,
    /// R2.3 (one source, L): domestic VAT paid in Hainan is not charged again as import VAT.
    pub domestic_vat_offsets_import_vat: bool,
    pub centralised_rule: String,
    pub centralised_due_day: u8,
}

#[derive(Debug, Clone)]
pub struct IslandRules {
    pub free_circulation_rule: String,
    pub leaving_circle_rule: String,
    pub restrictive_rule: String,
    /// Post-closure: beneficiaries pass zero-tariff goods among themselves untaxed. Pre-closure the
    /// goods were for the importer's own use only.
    pub free_transfer_between_beneficiaries: bool,
}

#[derive(Debug, Clone)]
pub struct DirectReleaseRules {
    pub rule: String,
    pub ledger_entry_days: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyFreeCategory {
    pub id: String,
    pub name: String,
    /// Per-departure limit in `limit_unit` (pieces, ml), if any.
    pub per_departure_limit: Option<Decimal>,
    pub limit_unit: Option<Unit>,
    pub buy_and_take: bool,
    pub articles_tax_class: u8,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct DutyFreeRules {
    pub rule: String,
    pub quota_rule: String,
    pub annual_quota: Cny,
    pub age_rule: String,
    pub minimum_age: u8,
    pub limits_rule: String,
    pub categories: BTreeMap<String, DutyFreeCategory>,
    pub pickup_rule: String,
    /// Buy-and-take only below this unit price (exclusive).
    pub buy_and_take_below: Cny,
    /// Guarantee-and-take from this unit price (inclusive).
    pub guarantee_from: Cny,
    pub departure_within_days: u16,
    pub ban_years: u8,
    pub resident_rule: Option<String>,
    pub resident_annual_quota: Option<Cny>,
}

#[derive(Debug, Clone)]
pub struct ArticlesTaxRules {
    pub rule: String,
    /// Rates by class 1, 2, 3.
    pub rates: [Rate; 3],
    pub postal_exemption: Cny,
}

#[derive(Debug, Clone)]
pub struct CreditRules {
    pub rule: String,
    /// Advanced certified enterprises: average inspection rate below this share of the regular
    /// average (a target over a reference set, not a hard invariant; TV-19).
    pub advanced_ratio_max: Decimal,
    /// Dishonest enterprises: inspection rate at least this.
    pub dishonest_rate_min: Decimal,
}
