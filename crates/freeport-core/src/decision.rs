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
    /// Refused: see the declaration's reasons.
    Refused,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineDecision<'p> {
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
    pub explanation: Vec<Step<'p>>,
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

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect<'p> {
    /// R1.5: zero tariff for the same kind of goods is refused during `range`.
    WaiverLock { enterprise: CreditCode, kind_prefix: String, range: DayRange, explanation: Step<'p> },
    /// R1.9: directly released goods must be entered in the account book by this day, and may not
    /// be used before.
    LedgerEntryDue { enterprise: CreditCode, by: Date, explanation: Step<'p> },
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision<'p> {
    pub schema_version: u32,
    pub declaration_id: String,
    pub flow: Flow,
    pub declared_on: Date,
    #[serde(rename = "pack_version", serialize_with = "version_id")]
    pub pack: &'p PackVersion,
    pub outcome: Outcome,
    pub reasons: Vec<Reason<'p>>,
    pub lines: Vec<LineDecision<'p>>,
    pub totals: Totals,
    pub postings: Vec<Posting>,
    pub effects: Vec<Effect<'p>>,
    /// Declaration-level explanation: regime in force, exchange-rate date, minimum-tax waivers.
    pub explanation: Vec<Step<'p>>,
}
