//! Wire types of the platform's HTTP API (`/api/v1`): request bodies and response views.
//!
//! Over 800 lines of plain data declarations, one section per resource; their parsing into the
//! core's types is in `requests`.
//!
//! Requests keep enumerations as strings, so that an unknown value becomes a `FieldError` naming the
//! field rather than a generic decoding failure; the allowed values are in each field's
//! description. Decimals and quantities travel as strings; money in views is in yuan as a string
//! (`"1234.50"`) or in whole fen where the field name says `_fen`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::duty_free::*;

use crate::quote::{DeclarationDto, SnapshotDto};

/// Whole numbers as JSON Schema counts them: `3` and `3.0` alike (a client's JSON library may write
/// either), anything with a fraction refused.
pub(crate) mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        match n.as_f64() {
            // Within ±2^53 a float holds every whole number exactly.
            Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0 => Ok(f as i64),
            _ => Err(D::Error::custom(format!(
                "{n} is not a whole number between -2^53 and 2^53"
            ))),
        }
    }

    pub(crate) fn revision<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        whole(d)
    }

    pub(super) fn days<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        match Option::<serde_json::Number>::deserialize(d)? {
            None => Ok(None),
            Some(n) => {
                let i = whole(n).map_err(D::Error::custom)?;
                u32::try_from(i)
                    .map(Some)
                    .map_err(|_| D::Error::custom(format!("{i} is not a number of days")))
            }
        }
    }
}

/// The body of every error: `code` is stable (see `docs/reference/errors.md`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// A stable snake_case code, for example `invalid_input` or `account_book_insufficient`.
    pub code: String,
    pub message: String,
    /// `domain`, `auth`, `invalid_request` or `internal`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `invalid_input`: `{field, kind, reason}`, the field named by its JSON path.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub ok: bool,
    /// The newest version in the loaded policy pack.
    pub pack_latest_version: String,
}

// ----- sessions and users ----------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    /// `enterprise_user`, `duty_free_operator`, `customs_officer`, `risk_analyst` or
    /// `administrator`.
    pub role: String,
    /// The enterprise (credit code) a tenant-bound role acts for.
    pub enterprise: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionCreated {
    /// Send as `Authorization: Bearer <token>`; the console keeps it in a cookie.
    pub token: String,
    pub expires_at_ms: i64,
    pub user: UserView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserEnvelope {
    pub user: UserView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// 1 to 100 characters.
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    /// `enterprise_user`, `duty_free_operator`, `customs_officer`, `risk_analyst` or
    /// `administrator`.
    pub role: String,
    /// Required for tenant-bound roles (enterprise users and duty-free operators), refused
    /// otherwise.
    #[serde(default)]
    pub enterprise: Option<String>,
}

// ----- enterprise registry ---------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseRequest {
    /// 1 to 300 characters.
    pub name: String,
    /// Eligible for zero-tariff goods (registered and operating substantively in the zone).
    #[serde(default)]
    pub beneficiary: bool,
    #[serde(default)]
    pub encouraged_industry_filed: bool,
    /// Share of revenue from encouraged industries, a decimal between 0 and 1.
    #[serde(default)]
    pub encouraged_revenue_share: Option<String>,
    /// `advanced_certified`, `certified`, `general`, `dishonest` or `seriously_dishonest`.
    #[serde(default = "general")]
    pub credit_class: String,
}

fn general() -> String {
    "general".to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnterpriseView {
    pub credit_code: String,
    pub name: String,
    pub beneficiary: bool,
    pub encouraged_industry_filed: bool,
    pub encouraged_revenue_share: Option<String>,
    pub credit_class: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnterpriseEnvelope {
    pub enterprise: EnterpriseView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnterprisePage {
    pub items: Vec<EnterpriseView>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRateRequest {
    /// Yuan per unit of the currency, positive, at most 4 decimals (R8.5).
    pub cny_per_unit: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExchangeRateView {
    pub currency: String,
    pub day: String,
    pub cny_per_unit: String,
}

// ----- declarations ----------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteBody {
    pub declaration: DeclarationDto,
    /// A what-if state to decide against; absent: the store's state.
    #[serde(default)]
    pub snapshot: Option<SnapshotDto>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionEnvelope {
    /// The decision with its explanation (rule, pack version, legal source, formula inputs); its
    /// shape is described in `docs/reference/quote.md`.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeclarationEventView {
    pub seq: i64,
    pub status: String,
    pub actor: String,
    pub note: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeclarationView {
    pub id: String,
    pub enterprise: String,
    /// The enterprise's own reference for the declaration.
    pub reference: String,
    pub flow: String,
    /// `decided`, `rejected`, `not_required`, `released`, `under_inspection`, `held`,
    /// `cancelled`, `closed`, and at a second-line port `awaiting_scan` (red lane) and `exited`
    /// (crossed at the channel).
    pub status: String,
    /// Increases with every change; state-changing requests name the revision they saw.
    pub revision: i64,
    pub declared_on: String,
    pub pack_version: String,
    pub outcome: String,
    pub payable_total_fen: i64,
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// The selectivity lane of an accepted declaration: `green` (release), `blue` (post-clearance
    /// audit), `yellow` (document check), `red` (physical inspection) or `hold`.
    pub lane: Option<String>,
    /// Why: the rule set and the rules that fired per line, the score, the credit class, the draw
    /// and whether the lane came from a rule, the random sample or the score.
    #[schema(value_type = Option<Object>)]
    pub risk: Option<serde_json::Value>,
    /// The port the goods cross at (`GET /api/v1/ports`), when the declaration names one.
    pub port: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The status history; present when one declaration is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<DeclarationEventView>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeclarationPage {
    pub items: Vec<DeclarationView>,
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeRequest {
    /// From `decided`: `released`, `under_inspection` or `held`; from `under_inspection` or
    /// `awaiting_scan`: `held`; from `held`: `released` or `closed`; from `released`: `closed`.
    pub to: String,
    #[serde(default)]
    pub note: String,
    /// The revision the officer saw; a stale revision is a `conflict`.
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionResultRequest {
    /// `compliant` (released) or `violation` (held).
    pub result: String,
    #[serde(default)]
    pub note: String,
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
    /// The day of the inspection, `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub inspected_on: Option<String>,
    /// What a violation was: one or more of `undervaluation`, `misclassification`, `origin`,
    /// `quantity`, `prohibited_goods`, `missing_licence`, `documents`, `other`. None for a
    /// compliant result.
    #[serde(default)]
    pub findings: Vec<String>,
    /// Taxes the inspection recovered, in CNY with at most two decimals (0 for a compliant
    /// result): the yield that rule performance counts.
    #[serde(default)]
    pub revenue_found: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
    pub declaration: DeclarationDto,
}

// ----- account books ---------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BalanceView {
    pub hs_code: String,
    pub unit: String,
    /// Up to three decimals.
    pub quantity: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostingView {
    pub id: i64,
    pub hs_code: String,
    pub unit: String,
    /// Positive into the book, negative out of it.
    pub quantity: String,
    /// Yuan.
    pub value: String,
    /// `entry`, `transfer_in`, `transfer_out`, `consumed_in_processing`, `processing_output`,
    /// `exit`, `re_export`, `stock_take`, `write_off`, `early_disposal`, …
    pub movement: String,
    pub declaration_id: Option<String>,
    pub line: Option<i64>,
    pub note: String,
    pub at_ms: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountBookView {
    pub enterprise: String,
    pub balances: Vec<BalanceView>,
    pub postings: Vec<PostingView>,
    /// Pass as `after` for the next page of postings.
    pub next_after: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentItem {
    pub hs_code: String,
    pub unit: String,
    /// Counted (stock-take) or removed (write-off) quantity, up to three decimals.
    pub quantity: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// `stock_take` (post counted minus booked) or `write_off` (remove the quantity).
    pub kind: String,
    /// 1 to 1000 items.
    pub items: Vec<AdjustmentItem>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentLine {
    pub hs_code: String,
    pub unit: String,
    pub booked: String,
    pub adjustment: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentReport {
    pub kind: String,
    pub items: Vec<AdjustmentLine>,
}

// ----- supervised goods ------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DisposalSummary {
    pub id: String,
    /// `transfer`, `early_release` or `diversion`.
    pub kind: String,
    pub on: String,
    pub days_diverted: Option<i64>,
    pub quantity: String,
    pub back_tax_value: String,
    pub taxes: TaxesView,
    pub pack_version: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SupervisedItemView {
    pub id: String,
    /// The declaration whose entry put the goods under supervision, and its line.
    pub declaration_id: String,
    pub line: i64,
    pub hs_code: String,
    pub origin: String,
    /// `vessel`, `aircraft`, `vehicle`, `equipment`, … as the pack names it.
    pub kind: String,
    pub years: i64,
    pub released_on: String,
    pub supervised_until: String,
    pub unit: String,
    /// What is still supervised, and its customs value in yuan.
    pub quantity: String,
    pub customs_value: String,
    /// `supervised`, `disposed` or `withdrawn` (its declaration was cancelled or amended).
    pub state: String,
    /// Name it when disposing: a disposal made on a stale read is a `conflict`.
    pub revision: i64,
    /// Present when one item is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposals: Option<Vec<DisposalSummary>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SupervisedItemPage {
    pub items: Vec<SupervisedItemView>,
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisposalRequest {
    /// `transfer` or `early_release` (the goods leave supervision and the account book), or
    /// `diversion` (used for another purpose for `days_diverted` days; they stay supervised).
    pub kind: String,
    /// The disposal day, YYYY-MM-DD: the rates in force that day apply.
    pub on: String,
    /// The part disposed of (up to three decimals); absent: all that is still supervised.
    #[serde(default)]
    pub quantity: Option<String>,
    /// Required for a diversion.
    #[serde(default)]
    #[serde(deserialize_with = "whole::days")]
    pub days_diverted: Option<u32>,
    /// The item's revision as read.
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaxesView {
    pub tariff: String,
    pub consumption_tax: String,
    pub vat: String,
    pub total: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DisposalView {
    pub id: String,
    pub kind: String,
    pub on: String,
    /// The pack version whose rates applied: the one in force on the disposal day.
    pub pack_version: String,
    /// The customs value of the part disposed of, and the value the back taxes are levied on.
    pub disposed_value: String,
    pub back_tax_value: String,
    pub taxes: TaxesView,
    /// Each step with its rule, legal source and formula.
    #[schema(value_type = Vec<Object>)]
    pub explanation: serde_json::Value,
    /// The item after the disposal.
    pub item: SupervisedItemView,
}

// ----- offshore duty-free -----------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopRequest {
    /// The operating enterprise's credit code; its duty-free operator users act for the shop.
    pub operator: String,
    pub name: String,
    pub location: String,
    /// Designated by customs to sell Hainan residents' zero-tariff consumer goods (R4.11);
    /// default false.
    #[serde(default)]
    pub resident_zero_tariff: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShopView {
    pub id: String,
    pub operator: String,
    pub name: String,
    pub location: String,
    /// Designated to sell residents' zero-tariff goods (R4.11).
    pub resident_zero_tariff: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShopPage {
    pub items: Vec<ShopView>,
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyerDocument {
    /// `resident_id`, `passport`, `hk_macao_permit`, `taiwan_permit` or
    /// `foreign_permanent_resident_id`.
    pub kind: String,
    pub number: String,
    /// Required for a passport.
    #[serde(default)]
    pub issuing_country: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleItemRequest {
    /// A duty-free category of the pack (`cosmetics`, `mobile_phones`, `alcohol`, …); for
    /// residents' zero-tariff goods a group of the positive list (`food`, `beverages`,
    /// `household_goods`, `personal_care`, `maternal_infant`). `GET /duty-free/categories` lists
    /// both.
    pub category: String,
    pub description: String,
    /// Retail price of one piece, in yuan.
    pub unit_price: String,
    /// Pieces.
    pub quantity: String,
    /// The quantity in the category's limit unit when it is not pieces (millilitres for
    /// alcohol); absent: the pieces.
    #[serde(default)]
    pub limit_quantity: Option<String>,
    /// How the buyer takes the goods (R4.5): `departure` (default), `mail`, `return_to_island`
    /// (island residents), `buy_and_take` (listed categories under 20 000), `guarantee_and_take`
    /// (50 000 and over, against a guarantee of the articles tax); `on_site` (the default and
    /// only mode) for residents' zero-tariff goods.
    #[serde(default)]
    pub pickup: Option<String>,
    /// The 16-digit traceability number of each piece (R4.9), one per piece when given; at most
    /// 100.
    #[serde(default)]
    pub trace_codes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleRequest {
    /// Which quota the sale spends: `offshore` (default; offshore duty-free, R4.2) or
    /// `resident_zero_tariff` (Hainan residents' zero-tariff consumer imports in a designated
    /// store, R4.11, from 2026-02-05).
    #[serde(default)]
    pub scheme: Option<String>,
    pub document: BuyerDocument,
    /// The buyer's date of birth; for a resident identity card it must match the card.
    pub birth_date: String,
    /// The day the buyer leaves the island (the departure the per-departure limits count for).
    /// Absent for residents' zero-tariff goods, and for a Hainan resident who left the island
    /// this year taking every item by `buy_and_take` (R4.5(6), from 2025-11-01).
    #[serde(default)]
    pub departure_on: Option<String>,
    pub sold_on: String,
    /// 1 to 100 items.
    pub items: Vec<SaleItemRequest>,
    /// What else the sale was made with (R4.8), each kept only as a keyed hash, never in clear.
    #[serde(default)]
    pub links: Option<BuyerLinksRequest>,
    /// For a reservation (`POST …/reservations`) only: how long the till holds the basket before
    /// it expires by itself, 60 to 3 600 seconds (default 900).
    #[serde(default)]
    pub hold_seconds: Option<i64>,
}

/// Longest and shortest hold of a till's reservation, and the default, in seconds.
pub const HOLD_SECONDS: (i64, i64, i64) = (60, 3_600, 900);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SaleView {
    pub id: String,
    /// `offshore` or `resident_zero_tariff`: the quota it spends.
    pub scheme: String,
    pub shop: String,
    /// None for a sale without a departure (residents' goods).
    pub departure_on: Option<String>,
    pub sold_on: String,
    /// Whether the sale went through duty-free; a refused sale is kept on record.
    pub accepted: bool,
    /// `pending` (reserved, to be committed or voided before `expires_at_ms`), `committed`,
    /// `voided`, `expired` or `refused`.
    pub state: String,
    /// A pending reservation's deadline (ms since the epoch).
    pub expires_at_ms: Option<i64>,
    pub total: String,
    /// What returns gave back of the total, in yuan.
    pub returned: String,
    /// The guarantee lodged for goods taken against one (R4.5(4), R8.9), in yuan.
    pub guarantee: String,
    /// When the guarantee went back to the buyer: every piece taken against it departed with the
    /// buyer through a port (or came back to the shop). None while held.
    pub guarantee_released_at_ms: Option<i64>,
    pub pack_version: String,
    /// Refusals with reason codes (`underage`, `no_departure`, `departure_limit_exceeded`,
    /// `quota_exceeded`, `banned`, `serious_dishonesty`, `not_resident`), the quota split,
    /// pick-up modes and explanation steps.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
}

/// A line of a sale, with what was returned of it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SaleLineView {
    pub line: i64,
    pub category: String,
    pub description: String,
    pub unit_price: String,
    pub quantity: String,
    pub limit_quantity: String,
    pub returned_quantity: String,
    /// How it is taken: `departure`, `mail`, `return_to_island`, `buy_and_take` or
    /// `guarantee_and_take`.
    pub pickup: String,
}

/// One sale with its lines.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SaleDetailView {
    pub sale: SaleView,
    pub lines: Vec<SaleLineView>,
}

/// Committed goods brought back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// 1 to 100 lines, each once.
    pub items: Vec<ReturnItemRequest>,
    /// Why, 1 to 300 characters.
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnItemRequest {
    /// The sale's line (from 0).
    pub line: i64,
    /// Pieces returned, more than 0 and at most those not yet returned.
    pub quantity: String,
}

/// What a return gave back.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReturnView {
    pub id: String,
    pub sale: String,
    /// What the buyer gets back and the annual quota regains, in yuan.
    pub refund: String,
    pub lines: Vec<ReturnedLineView>,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReturnedLineView {
    pub line: i64,
    pub quantity: String,
    pub refund: String,
    /// What went back to the departure's allowance of the line's category, in its limit unit.
    pub allowance: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SalePage {
    pub items: Vec<SaleView>,
    pub next_after: Option<String>,
}

// ----- webhooks --------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where status changes of the enterprise's declarations are pushed: an `http://` or
    /// `https://` URL of at most 2000 characters.
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    pub enterprise: String,
    pub url: String,
    /// The signing secret, returned only when the webhook is set: each delivery carries
    /// `Freeport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookRemoved {
    /// False when no webhook was set.
    pub removed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryView {
    pub id: i64,
    pub event_id: i64,
    pub topic: String,
    /// `pending`, `delivered` or `failed` (attempts exhausted).
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDeliveryView>,
    pub next_after: Option<i64>,
}

// ----- audit -----------------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditReportView {
    pub entries: i64,
    pub intact: bool,
    /// The first problem found, naming the sequence number where it shows.
    pub problem: Option<String>,
}

// ----- risk management ---------------------------------------------------------------------------

/// A credit record customs keeps on an enterprise (R6.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRecordRequest {
    /// `violation` (with `amount`, the penalty), `smuggling`, `tax_due` (with `amount` and
    /// `due_on`) or `tax_paid` (with the `reference` of the tax due).
    pub kind: String,
    /// The day the record counts from, `YYYY-MM-DD`.
    pub on: String,
    /// The penalty decision, tax assessment or case it comes from.
    pub reference: String,
    /// CNY with at most two decimals.
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// Customs grants credit repair to a dishonest enterprise that is eligible.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRepairRequest {
    /// Why customs grants it (the enterprise's application and what it corrected).
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditRecordView {
    pub id: String,
    pub on: String,
    pub reference: String,
    pub kind: String,
    pub amount: Option<String>,
    pub due_on: Option<String>,
    pub note: String,
    pub recorded_by: String,
    pub at_ms: i64,
}

/// An enterprise's credit: the class it stands in on the day, each component of the assessment
/// with its limit, the repair path when it has one, the rule and pack version, and the records.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditView {
    pub enterprise: String,
    #[schema(value_type = Object)]
    pub assessment: serde_json::Value,
    pub records: Vec<CreditRecordView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeRuleSetRequest {
    /// The rule file's text (see the rule language reference).
    pub source: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestRequest {
    /// The history to replay: declarations declared from `from` to `to`, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSetStateRequest {
    /// Why: kept with the analyst's name in the rule set's history.
    pub reason: String,
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetChangeView {
    pub from: String,
    pub to: String,
    pub analyst: String,
    pub reason: String,
    pub at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetView {
    /// SHA-256 of the text: the set's key.
    pub sha256: String,
    pub name: String,
    pub version: i64,
    /// `proposed`, `shadow`, `active` or `retired`.
    pub state: String,
    pub rules: usize,
    pub proposed_by: String,
    /// The latest back-test: the set against the active one on the same history.
    #[schema(value_type = Option<Object>)]
    pub backtest: Option<serde_json::Value>,
    pub revision: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub changes: Vec<RuleSetChangeView>,
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetList {
    pub items: Vec<RuleSetView>,
}

/// Per rule and month: hits, inspections, load, findings, hit rate and revenue recovered, with
/// the rules flagged for retirement.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulePerformanceView {
    pub from: String,
    pub to: String,
    pub declarations: usize,
    pub inspections: usize,
    pub min_inspections: u64,
    #[schema(value_type = Vec<Object>)]
    pub rules: serde_json::Value,
    /// The same for the rule set in shadow, from what it would have selected.
    #[schema(value_type = Vec<Object>)]
    pub shadow_rules: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: String,
    /// `rule` (a rule's alert action), `flow_spike`, `unexplained_outflow` or `proxy_buying`.
    pub kind: String,
    pub subject: String,
    pub enterprise: Option<String>,
    pub declaration_id: Option<String>,
    /// The duty-free buyer it concerns, by person code (never the document number).
    pub person_code: Option<String>,
    pub raised_on: String,
    /// `open`, `analysed`, `disposed` or `evaluated`.
    pub state: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub disposal: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub evaluation: Option<serde_json::Value>,
    pub revision: i64,
    pub raised_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAnalysisRequest {
    /// `confirmed` (a risk to dispose of) or `unfounded`.
    pub conclusion: String,
    pub notes: String,
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertDisposalRequest {
    /// `inspect` or `hold` (the alert's declaration), `penalise` (a violation credit record with
    /// `penalty`), `downgrade_credit` (a credit record that makes the enterprise dishonest until
    /// repaired or aged out), `ban_duty_free` (the alert's buyer may not buy duty-free for the
    /// pack's ban years, R4.6), or `no_action`.
    pub action: String,
    #[serde(default)]
    pub penalty: Option<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertEvaluationRequest {
    /// Whether the disposal found what the alert suspected.
    pub effective: bool,
    /// Revenue the disposal recovered, CNY.
    #[serde(default)]
    pub revenue_found: Option<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(deserialize_with = "whole::revision")]
    pub revision: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainModelRequest {
    /// The inspected declarations to learn from: declared from `from` to `to`, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
}

/// A model trained on the platform's inspection results.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskModelView {
    /// SHA-256 of the model's text: the same data and seed give the same key.
    pub sha256: String,
    /// `active` or `retired`.
    pub state: String,
    pub trained_by: String,
    pub from: String,
    pub to: String,
    /// Inspected declaration lines learned from, and the violations among them.
    pub cases: i64,
    pub violations: i64,
    /// Trained on the earlier four fifths and measured on the latest fifth: AUC, precision and
    /// recall in the top tenth.
    #[schema(value_type = Object)]
    pub holdout: serde_json::Value,
    pub features: Vec<String>,
    pub trained_at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskModelList {
    pub items: Vec<RiskModelView>,
}
