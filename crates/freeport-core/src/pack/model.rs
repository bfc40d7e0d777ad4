//! The policy pack as typed data: what the parser produces and the decision functions read.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::prefix::PrefixMap;
use crate::calendar::HolidayCalendar;
use crate::country::Country;
use crate::fasthash::{FxHashMap, digits_key};

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

/// A rule as a section names it: an index into its version's rule table, resolved when the pack
/// is parsed, so that naming a rule in a decision costs no lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleId(pub(crate) u16);

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
        self.versions
            .iter()
            .find(|v| v.id == id_or_date || v.directory == id_or_date)
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
    /// Every rule of the version, sorted by id; `RuleId`s index into it.
    pub rules: Vec<Rule>,
    /// Parameters the pack flags as unverified, as `section.parameter`, beyond rules of confidence L/U.
    pub unverified_parameters: Vec<String>,
    pub schedule: TariffSchedule,
    pub consumption_tax: BTreeMap<String, ConsumptionTaxItem>,
    pub zero_tariff: ZeroTariffRules,
    pub controls: PrefixMap<GoodsControl>,
    pub restrictive: PrefixMap<RestrictiveEntry>,
    /// Controls, restrictive categories and the zero-tariff scope in one map, so that deciding a
    /// line scans the code's prefixes once (built from the three lists by the parser).
    pub goods_index: PrefixMap<GoodsHit>,
    pub tax: TaxRules,
    pub value_added: ValueAddedRules,
    pub second_line: SecondLineRules,
    pub island: IslandRules,
    pub direct_release: DirectReleaseRules,
    pub account_book: AccountBookRules,
    pub duty_free: DutyFreeRules,
    pub articles_tax: ArticlesTaxRules,
    pub credit: CreditRules,
    pub supervision: SupervisionRules,
    pub holidays: HolidayCalendar,
    /// The zone's ports and channels (empty before the version that lists them).
    pub ports: crate::port::Ports,
}

impl PackVersion {
    pub fn rule(&self, id: &RuleId) -> &Rule {
        // Ids are only made by the parser from this version's own table.
        &self.rules[usize::from(id.0)]
    }

    pub fn rule_named(&self, name: &str) -> Option<&Rule> {
        self.rules
            .binary_search_by(|r| r.id.as_str().cmp(name))
            .ok()
            .map(|i| &self.rules[i])
    }
}

#[derive(Debug, Clone, Default)]
pub struct TariffSchedule {
    /// Keyed by the packed digits of the line (`fasthash::digits_key`).
    lines: FxHashMap<u64, TariffLine>,
}

impl TariffSchedule {
    /// Mutable access to every line, for resolving references after parsing.
    pub(crate) fn lines_mut(&mut self) -> impl Iterator<Item = &mut TariffLine> {
        self.lines.values_mut()
    }

    /// Adds a line; `false` if the schedule already has it.
    pub fn insert(&mut self, line: TariffLine) -> bool {
        let Some(key) = digits_key(&line.line) else {
            return false;
        };
        if self.lines.contains_key(&key) {
            return false;
        }
        self.lines.insert(key, line);
        true
    }

    pub fn contains(&self, line: &str) -> bool {
        digits_key(line).is_some_and(|k| self.lines.contains_key(&k))
    }

    /// The most precise line for a code: the 10-digit commodity code if the schedule has it, else
    /// the 8-digit tariff line.
    pub fn line_for(&self, code: &HsCode) -> Option<&TariffLine> {
        let ten = if code.len() == 10 {
            code.prefix_key(10).and_then(|k| self.lines.get(&k))
        } else {
            None
        };
        ten.or_else(|| code.prefix_key(8).and_then(|k| self.lines.get(&k)))
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Every line, sorted by tariff line.
    pub fn sorted(&self) -> Vec<&TariffLine> {
        let mut all: Vec<&TariffLine> = self.lines.values().collect();
        all.sort_by(|a, b| a.line.cmp(&b.line));
        all
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
    /// The items named in `consumption_tax_items`, resolved from the version's table when the pack
    /// is parsed (same order), so deciding needs no lookup.
    #[serde(skip)]
    pub consumption_tax: Vec<ConsumptionTaxItem>,
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
    pub fn import_duty(
        &self,
        origin: Country,
        general_rate_origins: &[Country],
    ) -> (Rate, DutyColumn) {
        if general_rate_origins.contains(&origin)
            && let Some(g) = self.general_rate
        {
            return (g, DutyColumn::General);
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
    pub rule: RuleId,
    pub scope_rule: RuleId,
    pub scope: ZeroTariffScope,
    pub beneficiary_types: Vec<String>,
    pub waiver_rule: RuleId,
    pub waiver_lock_months: u32,
    /// "Same kind of goods" for the waiver lock, as a number of HS digits (4 = heading).
    pub waiver_same_kind_digits: usize,
    pub general_rate_origins: Vec<Country>,
}

/// One entry of the goods index.
#[derive(Debug, Clone, PartialEq)]
pub enum GoodsHit {
    Control(GoodsControl),
    Restrictive(RestrictiveEntry),
    /// On a positive list (pre-closure); the list's name.
    PositiveList(String),
    /// In the import-taxed catalogue (post-closure); the row's description.
    TaxableCatalogue(String),
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
    pub tariff_rule: RuleId,
    pub consumption_tax_rule: RuleId,
    pub vat_rule: RuleId,
    pub rounding_rule: RuleId,
    pub exchange_rate_rule: RuleId,
    pub minimum_tax_rule: RuleId,
    /// A tax amount at or below this, per consignment and per tax, is not collected (R8.6).
    pub minimum_tax: Cny,
    /// Open question 9: whether a tariff waived under the minimum rule stays in the VAT base.
    pub waived_tariff_in_vat_base: bool,
    pub export_duty_rule: RuleId,
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
    pub rule: RuleId,
    pub formula_rule: RuleId,
    pub threshold: Decimal,
    pub hainan_produced_rule: Option<RuleId>,
    pub chain_rule: Option<RuleId>,
    /// Pre-closure Yangpu pilot: encouraged-industry revenue must exceed this share.
    pub encouraged_revenue_share_min: Option<Decimal>,
    pub tax_base: ValueAddedTaxBase,
}

#[derive(Debug, Clone)]
pub struct SecondLineRules {
    pub controlled_rule: RuleId,
    pub exit_tax_rule: RuleId,
    pub entry_rule: RuleId,
    pub relaxed_licence_rule: RuleId,
    /// R2.3 (one source, L): domestic VAT paid in Hainan is not charged again as import VAT.
    pub domestic_vat_offsets_import_vat: bool,
    pub centralised_rule: RuleId,
    pub centralised_due_day: u8,
}

#[derive(Debug, Clone)]
pub struct IslandRules {
    pub free_circulation_rule: RuleId,
    pub leaving_circle_rule: RuleId,
    pub restrictive_rule: RuleId,
    /// Post-closure: beneficiaries pass zero-tariff goods among themselves untaxed. Pre-closure the
    /// goods were for the importer's own use only.
    pub free_transfer_between_beneficiaries: bool,
}

#[derive(Debug, Clone)]
pub struct DirectReleaseRules {
    pub rule: RuleId,
    pub ledger_entry_days: u16,
}

/// R3.3, "one enterprise, one account": zero-tariff goods leave an enterprise's account book only by a
/// declared movement, and never more than it holds.
/// R3.4 / R8.10: which duty-exempt goods stay under supervision after release, for how long, and
/// the rule that taxes their early disposal.
#[derive(Debug, Clone)]
pub struct SupervisionRules {
    pub rule: RuleId,
    pub back_tax_rule: RuleId,
    /// By HS prefix; the longest matching prefix decides.
    pub periods: PrefixMap<SupervisionPeriod>,
}

impl SupervisionRules {
    /// The period goods of `code` are supervised for, if any.
    pub fn period_for(&self, code: &HsCode) -> Option<&SupervisionPeriod> {
        self.periods.matches(code).last()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisionPeriod {
    /// `vessel`, `aircraft`, `vehicle`, `equipment`, …: named in decisions.
    pub kind: String,
    pub years: u32,
}

#[derive(Debug, Clone)]
pub struct AccountBookRules {
    pub rule: RuleId,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyFreeCategory {
    pub id: String,
    pub name: String,
    /// Per-departure limit in `limit_unit` (pieces, ml), if any.
    pub per_departure_limit: Option<Decimal>,
    pub limit_unit: Option<Unit>,
    /// Whether a source gives `per_departure_limit` (or says there is none).
    pub limit_status: LimitStatus,
    pub buy_and_take: bool,
    /// R4.5(5): whether a source gives the category's buy-and-take limit (1 to 5 pieces per
    /// departure); none does yet, so every listed category's is unverified.
    pub buy_and_take_limit_status: LimitStatus,
    pub articles_tax_class: u8,
    pub source: String,
}

/// Whether a limit in the pack was read in a source, or is not known (and so not enforced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitStatus {
    Verified,
    Unverified,
}

/// A group of goods on the residents' zero-tariff positive list (R4.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentGoods {
    pub id: String,
    pub name: String,
    /// Whether the group's extent was read in a source, or is a working grouping.
    pub status: LimitStatus,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct DutyFreeRules {
    pub rule: RuleId,
    pub quota_rule: RuleId,
    pub annual_quota: Cny,
    pub age_rule: RuleId,
    pub minimum_age: u8,
    pub limits_rule: RuleId,
    pub categories: BTreeMap<String, DutyFreeCategory>,
    pub pickup_rule: RuleId,
    /// Buy-and-take only below this unit price (exclusive).
    pub buy_and_take_below: Cny,
    /// Guarantee-and-take from this unit price (inclusive).
    pub guarantee_from: Cny,
    pub departure_within_days: u16,
    pub ban_years: u8,
    /// R4.6: who may not buy duty-free for `ban_years` after a customs decision.
    pub ban_rule: RuleId,
    /// R4.11: Hainan residents' zero-tariff consumer imports, a second quota of the ledger, from
    /// the version that brings them.
    pub resident_rule: Option<RuleId>,
    pub resident_annual_quota: Option<Cny>,
    /// R4.11: what residents may buy zero-tariff, by group.
    pub resident_goods: BTreeMap<String, ResidentGoods>,
    /// R4.5(6): a Hainan resident who left the island in the year may buy-and-take without a
    /// ticket, any number of times that year.
    pub resident_buy_and_take_rule: Option<RuleId>,
    /// R4.7: the serious-dishonesty list and how many years a listing lasts.
    pub dishonesty_rule: Option<RuleId>,
    pub dishonesty_years: Option<u8>,
}

#[derive(Debug, Clone)]
pub struct ArticlesTaxRules {
    pub rule: RuleId,
    /// Rates by class 1, 2, 3.
    pub rates: [Rate; 3],
    pub postal_exemption: Cny,
}

#[derive(Debug, Clone)]
pub struct CreditRules {
    pub rule: RuleId,
    /// Advanced certified enterprises: average inspection rate below this share of the regular
    /// average (a target over a reference set, not a hard invariant; TV-19).
    pub advanced_ratio_max: Decimal,
    /// Dishonest enterprises: inspection rate at least this.
    pub dishonest_rate_min: Decimal,
    /// How far back credit records count towards a downgrade (U: Order 251 reads "within one
    /// year" for most triggers).
    pub record_window_months: u32,
    /// Violations above this share of the prior year's declarations (1 ‰ in Order 251)...
    pub violation_share: Decimal,
    /// ...with penalties above this in total make an enterprise dishonest.
    pub violation_penalty_over: Cny,
    /// Taxes unpaid this many months after they fell due make an enterprise dishonest.
    pub unpaid_tax_months: u32,
    /// Inspection findings in the window at which a certified enterprise loses its certification
    /// (U: Order 282 sets standards, not a count; the pack fixes one).
    pub certified_findings_limit: u32,
    /// Months after its latest trigger from which a dishonest enterprise may apply for credit
    /// repair (U: Order 282 provides repair; the period is the pack's).
    pub repair_after_months: u32,
}
