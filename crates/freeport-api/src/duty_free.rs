//! Wire types of offshore duty-free beyond the sale itself: the links a sale was made with,
//! travellers' departures, pieces by traceability number, proxy-buying rings.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::platform::BuyerDocument;

/// What a duty-free sale was made with besides the buyer's document: the links proxy-buying rings
/// are found on (R4.8). Each is normalised and kept only as a keyed hash.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyerLinksRequest {
    /// 5 to 20 digits, with spaces, dashes, brackets or a leading `+`.
    #[serde(default)]
    pub phone: Option<String>,
    /// The paying card or wallet account: 4 to 64 visible ASCII characters (spaces and dashes
    /// ignored).
    #[serde(default)]
    pub payment_account: Option<String>,
    /// For mail delivery: 1 to 300 characters.
    #[serde(default)]
    pub delivery_address: Option<String>,
    /// The ordering device's identifier (online channels): 1 to 128 characters.
    #[serde(default)]
    pub device: Option<String>,
}

/// A traveller's departure from the island, as a carrier or the port records it (R4.3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartureRequest {
    pub document: BuyerDocument,
    /// `flight`, `train` or `ship`.
    pub kind: String,
    /// The flight, train or ship number: 1 to 32 characters.
    pub means: String,
    /// The port it leaves from (`GET /api/v1/ports`).
    pub port: String,
    /// When it leaves: RFC 3339 with its offset (`2026-03-05T09:30:00+08:00`).
    pub departs_at: String,
    /// Leaving the country, not only the island.
    #[serde(default)]
    pub leaves_country: bool,
}

/// A departure on record; the traveller appears by nothing but the record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DepartureView {
    pub id: String,
    pub kind: String,
    pub means: String,
    pub port: String,
    pub departs_at_ms: i64,
    /// The zone's day it leaves on: the day duty-free sales for it name as `departure_on`.
    pub departure_on: String,
    pub leaves_country: bool,
}

/// Proxy-buying rings among a period's sales (docs/reference/proxy-buying.md).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RingsView {
    pub from: String,
    pub to: String,
    /// Buyers in the period's committed sales.
    pub buyers: usize,
    /// Each flagged buyer (by person code) with its ring and its evidence: `shared_link`,
    /// `collector`, `tour_baskets`, `never_departed`, `round_trips`.
    #[schema(value_type = Vec<Object>)]
    pub flagged: Vec<serde_json::Value>,
    /// Each ring's members and, link by link, what ties them.
    #[schema(value_type = Vec<Object>)]
    pub rings: Vec<serde_json::Value>,
}

/// A period to look for rings in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RingAlertsRequest {
    /// The first sale day, `YYYY-MM-DD`.
    pub from: String,
    /// The last sale day, `YYYY-MM-DD`, at most 366 days after `from`.
    pub to: String,
}

/// The rings raised as alerts (a ring raised before is not raised again).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RingAlertsView {
    pub rings: Vec<RingAlertView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RingAlertView {
    pub subject: String,
    pub members: usize,
}

/// A sold piece followed by its traceability number (R4.9).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemView {
    pub trace_code: String,
    /// `reserved`, `sold`, `handed_over`, `departed` or `returned`.
    pub state: String,
    /// The buyer, by person code (an HMAC of the document; never the number).
    pub person_code: String,
    pub shop: String,
    pub sale_id: String,
    pub line: i64,
    pub category: String,
    pub pickup: String,
    pub sold_on: String,
    pub departure_on: String,
    /// The buyer's departure on record on that day.
    pub departure: Option<DepartureView>,
    pub handed_over_at_ms: Option<i64>,
    pub departed_at_ms: Option<i64>,
    /// Who took it at the hand-over, by person code, when not its buyer.
    pub collected_by: Option<String>,
}

/// Where a piece leaves the island with its buyer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemDepartureRequest {
    /// The port whose passenger channel the buyer crosses (`GET /api/v1/ports`).
    pub port: String,
}

/// Who takes a piece at its hand-over, when not its buyer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOverRequest {
    /// The collector's identity document; absent when the buyer takes the piece. Kept as the
    /// collector's person code only.
    #[serde(default)]
    pub collector: Option<BuyerDocument>,
}

/// Whose allowance to read: the traveller's document and the departure day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowanceRequest {
    pub document: BuyerDocument,
    /// The departure the category limits count for, `YYYY-MM-DD`.
    pub departure_on: String,
}

/// A traveller asking for their own allowance, without an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TravellerAllowanceRequest {
    pub document: BuyerDocument,
    /// The traveller's date of birth, `YYYY-MM-DD`; for a resident identity card it must match the
    /// card.
    pub birth_date: String,
    /// The departure the category limits count for, `YYYY-MM-DD`.
    pub departure_on: String,
}

impl TravellerAllowanceRequest {
    /// The document and the departure day; every error names its field.
    pub fn parse(
        &self,
    ) -> Result<(freeport_core::identity::PersonDocument, time::Date), freeport_core::FieldError>
    {
        use freeport_core::calendar::parse_day;
        use freeport_core::identity::PersonDocument;
        let document = PersonDocument::parse(
            &self.document.kind,
            &self.document.number,
            self.document.issuing_country.as_deref(),
        )
        .map_err(|e| e.within("document"))?;
        let birth_date = parse_day("birth_date", &self.birth_date)?;
        if let PersonDocument::ResidentId(id) = &document
            && id.birth_date() != birth_date
        {
            return Err(freeport_core::FieldError::new(
                "birth_date",
                freeport_core::FieldErrorKind::Inconsistent,
                "does not match the resident identity card",
            ));
        }
        Ok((document, parse_day("departure_on", &self.departure_on)?))
    }
}

/// What a traveller may still buy duty-free.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AllowanceView {
    pub year: i32,
    pub annual_quota: String,
    pub spent: String,
    /// Held by reservations not yet committed or voided.
    pub reserved: String,
    pub remaining: String,
    pub departure_on: String,
    /// Whether a departure of the traveller is on record that day (R4.3): without one nothing is
    /// sold. Not given to a traveller's own look-up, which would tell anyone holding a document
    /// number the holder's travel days.
    pub departure_on_record: Option<bool>,
    /// The last day of a duty-free ban, if one stands.
    pub banned_until: Option<String>,
    /// The last day of a serious-dishonesty listing (R4.7), if one stands.
    pub dishonest_until: Option<String>,
    pub categories: Vec<CategoryAllowanceView>,
    /// A Hainan resident's zero-tariff consumer quota, when in force (R4.11, from 2026-02-05).
    pub resident_zero_tariff: Option<QuotaView>,
}

/// A yearly quota of the ledger, in yuan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QuotaView {
    pub annual_quota: String,
    pub spent: String,
    pub reserved: String,
    pub remaining: String,
}

/// A limited category's allowance for the departure, in its limit unit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryAllowanceView {
    pub category: String,
    pub limit: String,
    pub taken: String,
    pub remaining: String,
}

/// A shop's sales day by day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DailySalesView {
    pub shop: String,
    pub days: Vec<DaySalesView>,
}

/// One day of a shop's sales: counts by state, what was sold and what came back, in yuan.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct DaySalesView {
    pub day: String,
    pub committed: i64,
    /// The committed sales' total, before returns.
    pub committed_total: String,
    pub returned_total: String,
    /// Committed less returned.
    pub net_total: String,
    pub pending: i64,
    pub voided: i64,
    pub expired: i64,
    pub refused: i64,
}

/// A person put on the duty-free shopping serious-dishonesty list (R4.7).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DishonestyRequest {
    pub document: BuyerDocument,
    /// `conviction`, `serious_penalty`, `two_or_more_penalties` or `other`.
    pub ground: String,
    /// The day of the decision or judgment, `YYYY-MM-DD`, on or before today and on or after
    /// 2022-01-01 (when the list came into force).
    pub listed_on: String,
    /// 1 to 300 characters: the decision or judgment it rests on.
    pub reason: String,
}

/// A listing; the person appears only by person code.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DishonestyView {
    pub id: String,
    pub person_code: String,
    pub listed_on: String,
    /// The last day of the listing (the pack's years from `listed_on`).
    pub until: String,
    pub ground: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DishonestyPage {
    pub items: Vec<DishonestyView>,
    pub next_after: Option<String>,
}

/// The duty-free rules of the pack version in force on a day: what a till may sell.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoriesView {
    pub pack_version: String,
    pub annual_quota: String,
    pub minimum_age: u8,
    /// Buy-and-take for a unit price below this (R4.5(5)).
    pub buy_and_take_below: String,
    /// Guarantee-and-take from this unit price (R4.5(4)).
    pub guarantee_from: String,
    /// Goods taken at once oblige the buyer to leave within these days.
    pub departure_within_days: u16,
    pub categories: Vec<CategoryView>,
    /// Residents' zero-tariff consumer imports, when in force (R4.11).
    pub resident_zero_tariff: Option<ResidentListView>,
}

/// A duty-free category with its limits, each `verified` (read in a source, or a source says
/// there is none) or `unverified` (not known, so not enforced).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    pub per_departure_limit: Option<String>,
    /// `piece` or `ml`.
    pub limit_unit: Option<String>,
    pub limit_status: String,
    pub buy_and_take: bool,
    pub buy_and_take_limit_status: String,
    pub articles_tax_class: u8,
    pub source: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResidentListView {
    pub annual_quota: String,
    /// The positive list's groups.
    pub goods: Vec<ResidentGoodsView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResidentGoodsView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub source: String,
}
