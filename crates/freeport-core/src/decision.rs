//! The decision: outcome, per-line treatment and taxes, account-book postings and effects, each
//! with the rule, pack version and legal source behind it.
//!
//! `Decision` serializes to the decision record, a compatibility boundary versioned by
//! `schema_version`: fields are only ever added.

use serde::Serialize;
use time::Date;

use crate::calendar::DayRange;
use crate::declaration::Flow;
use crate::explain::{Step, version_id};
use crate::hs::HsCode;
use crate::identity::CreditCode;
use crate::money::Cny;
use crate::pack::{PackVersion, RestrictiveCategory};
use crate::snapshot::BalanceKey;
use crate::tax::TaxAmounts;
use crate::unit::Quantity;
use crate::value_added::ChainResult;

pub const DECISION_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    /// Refused, with reason codes; nothing is released and nothing is posted.
    Rejected,
    /// Nothing on the declaration is under customs control on this line (R2.1, R2.11).
    NotRequired,
}

/// Why a declaration was refused or flagged. Stable snake_case codes, documented in
/// `docs/reference/reasons.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    ProhibitedImport,
    ProhibitedExport,
    LicenceRequired,
    /// Relaxed-licence goods may not circulate inside the island (R1.11).
    CirculationNotAllowed,
    /// Relaxed-licence goods may not be sold to the mainland (R1.11).
    MainlandSaleNotAllowed,
    /// A counterparty is required for a transfer.
    CounterpartyRequired,
    /// The account book does not hold the goods the line takes out of it (R3.3).
    AccountBookInsufficient,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason<'p> {
    pub code: ReasonCode,
    /// The line (0-based) the reason concerns, if one.
    pub line: Option<usize>,
    pub explanation: Step<'p>,
}

/// What happened to a line, in the regime's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// Exempt from tariff, import VAT and consumption tax (R1.3).
    ZeroTariff,
    /// Tariff exempt by the beneficiary's choice; VAT and consumption tax paid (R1.5 (ii)).
    TariffExemptVatPaid,
    /// Import taxes at the normal rates.
    Taxed,
    /// Second line or circulation: import taxes on the imported materials (R2.3, R3.2, R1.7).
    TaxedOnImportedMaterials,
    /// Processing value added reached the threshold: tariff exempt, VAT and CT due (R2.6).
    ValueAddedTariffExempt,
    /// Export, with export duty where the line carries one (R1.12).
    Exported,
    /// Moves between beneficiaries without import taxes (R3.1).
    FreeCirculation,
    /// Under bonded supervision (R1.8).
    Bonded,
    /// Domestic goods for duty-free stock: deemed exported (R2.11).
    DeemedExported,
    /// Not under customs control on this line (R2.1).
    NotControlled,
    /// A product made inside the zone from zero-tariff materials: the materials leave the account
    /// book and the product enters it, untaxed (R3.3).
    Processed,
    /// Refused: see the declaration's reasons.
    Refused,
}

/// Where a line's explanation steps sit in its decision's step list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepRange {
    start: u32,
    end: u32,
}

impl StepRange {
    pub const EMPTY: StepRange = StepRange { start: 0, end: 0 };

    pub(crate) fn new(start: usize, end: usize) -> StepRange {
        StepRange {
            start: start as u32,
            end: end as u32,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LineDecision {
    pub line: usize,
    pub hs_code: HsCode,
    pub treatment: Treatment,
    pub customs_value: Cny,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restrictive_category: Option<RestrictiveCategory>,
    /// Import taxes due on the line, before the consignment's minimum-tax waiver.
    pub taxes: TaxAmounts,
    pub export_duty: Cny,
    /// What the treatment saved against normal import taxes.
    pub exempted: TaxAmounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_added: Option<ChainResult>,
    /// The line's steps within `Decision::steps`; serialized in place as `explanation`.
    #[serde(skip)]
    pub explanation: StepRange,
}

impl LineDecision {
    /// A line with nothing due, saved or explained yet: each flow sets what applies to it.
    pub fn untaxed(
        line: usize,
        hs_code: HsCode,
        treatment: Treatment,
        customs_value: Cny,
    ) -> LineDecision {
        LineDecision {
            line,
            hs_code,
            treatment,
            customs_value,
            restrictive_category: None,
            taxes: TaxAmounts::default(),
            export_duty: Cny::ZERO,
            exempted: TaxAmounts::default(),
            value_added: None,
            explanation: StepRange::EMPTY,
        }
    }
}

/// Totals of a consignment. `assessed` is exactly the sum of the lines; `payable` is what is
/// collected after the minimum-tax rule, which `waived` records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub assessed: TaxAmounts,
    pub assessed_export_duty: Cny,
    pub waived: TaxAmounts,
    pub waived_export_duty: Cny,
    pub payable: TaxAmounts,
    pub payable_export_duty: Cny,
    pub payable_total: Cny,
    pub exempted: TaxAmounts,
}

/// A movement in an enterprise's account book of zero-tariff goods ("one enterprise, one account").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    FirstLineEntry,
    FirstLineExit,
    SecondLineExit,
    TransferOut,
    TransferIn,
    /// Leaves the zero-tariff circle with its import taxes paid.
    TaxedRelease,
    /// Zero-tariff materials used up in processing inside the zone (R3.3).
    ConsumedInProcessing,
    /// Goods made inside the zone from zero-tariff materials, entering the book (R3.3).
    ProcessingOutput,
}

impl Movement {
    /// Entries, transfers in and processing output add to the book; every other movement takes
    /// goods out of it.
    pub fn is_inflow(self) -> bool {
        matches!(
            self,
            Movement::FirstLineEntry | Movement::TransferIn | Movement::ProcessingOutput
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posting {
    pub enterprise: CreditCode,
    pub movement: Movement,
    pub line: usize,
    pub hs_code: HsCode,
    /// Positive into the book, negative out of it.
    pub quantity: Quantity,
    pub value: Cny,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restrictive_category: Option<RestrictiveCategory>,
}

impl Posting {
    /// The account-book balance the posting moves: its signed `quantity` adds to it.
    pub fn balance_key(&self) -> BalanceKey {
        BalanceKey {
            enterprise: self.enterprise,
            hs_code: self.hs_code,
            unit: self.quantity.unit,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect<'p> {
    /// R1.5: zero tariff for the same kind of goods is refused during `range`.
    WaiverLock {
        enterprise: CreditCode,
        kind_prefix: String,
        range: DayRange,
        explanation: Step<'p>,
    },
    /// R1.9: directly released goods must be entered in the account book by this day, and may not
    /// be used before.
    LedgerEntryDue {
        enterprise: CreditCode,
        by: Date,
        explanation: Step<'p>,
    },
    /// R3.4: the goods of `line` entered duty-exempt stay under supervision from `from` until
    /// `until`; disposing of them earlier pays back taxes (R8.10).
    Supervised {
        enterprise: CreditCode,
        line: usize,
        kind: &'p str,
        years: u32,
        from: Date,
        until: Date,
        explanation: Step<'p>,
    },
}

#[derive(Debug, Clone)]
pub struct Decision<'p> {
    pub schema_version: u32,
    pub declaration_id: String,
    pub flow: Flow,
    pub declared_on: Date,
    pub pack: &'p PackVersion,
    pub outcome: Outcome,
    pub reasons: Vec<Reason<'p>>,
    pub lines: Vec<LineDecision>,
    /// The lines' explanation steps, in line order; see `line_explanation`.
    pub steps: Vec<Step<'p>>,
    pub totals: Totals,
    pub postings: Vec<Posting>,
    pub effects: Vec<Effect<'p>>,
    /// Declaration-level explanation: regime in force, exchange-rate date, minimum-tax waivers.
    pub explanation: Vec<Step<'p>>,
}

impl<'p> Decision<'p> {
    /// A line's explanation: the rule, source and formula behind each of its amounts.
    pub fn line_explanation(&self, line: &LineDecision) -> &[Step<'p>] {
        self.steps
            .get(line.explanation.start as usize..line.explanation.end as usize)
            .unwrap_or(&[])
    }
}

#[derive(Serialize)]
struct LineView<'a, 'p> {
    #[serde(flatten)]
    line: &'a LineDecision,
    explanation: &'a [Step<'p>],
}

/// The decision record's wire shape: each line carries its own `explanation`.
#[derive(Serialize)]
struct DecisionView<'a, 'p> {
    schema_version: u32,
    declaration_id: &'a str,
    flow: Flow,
    declared_on: Date,
    #[serde(serialize_with = "version_id")]
    pack_version: &'a &'p PackVersion,
    outcome: Outcome,
    reasons: &'a [Reason<'p>],
    lines: Vec<LineView<'a, 'p>>,
    totals: &'a Totals,
    postings: &'a [Posting],
    effects: &'a [Effect<'p>],
    explanation: &'a [Step<'p>],
}

impl Serialize for Decision<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DecisionView {
            schema_version: self.schema_version,
            declaration_id: &self.declaration_id,
            flow: self.flow,
            declared_on: self.declared_on,
            pack_version: &self.pack,
            outcome: self.outcome,
            reasons: &self.reasons,
            lines: self
                .lines
                .iter()
                .map(|line| LineView {
                    line,
                    explanation: self.line_explanation(line),
                })
                .collect(),
            totals: &self.totals,
            postings: &self.postings,
            effects: &self.effects,
            explanation: &self.explanation,
        }
        .serialize(s)
    }
}
