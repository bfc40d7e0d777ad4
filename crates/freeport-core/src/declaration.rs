//! A declaration as the core sees it: already parsed into domain types at the edge.

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use crate::country::Country;
use crate::currency::Currency;
use crate::hs::HsCode;
use crate::identity::CreditCode;
use crate::money::Cny;
use crate::unit::Quantity;

/// Where goods cross, in the two-line model's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Abroad → island.
    FirstLineImport,
    /// Island → abroad.
    FirstLineExport,
    /// Island → mainland.
    SecondLineExit,
    /// Mainland → island.
    SecondLineEntry,
    /// Between two parties inside the island.
    IslandTransfer,
    /// Inside the island, no crossing: an enterprise records that it consumed zero-tariff materials
    /// to make goods (R3.3, the account book's "processing/consumption" movement). Each line is a
    /// product made; its `imported_materials` are the materials consumed.
    Processing,
}

/// R1.5: what a beneficiary chooses to pay at a first-line import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentOption {
    /// Claim zero tariff where eligible (the default).
    ZeroTariff,
    /// Pay import VAT and consumption tax only; the tariff stays exempt.
    PayVatAndConsumptionTax,
    /// Pay every import tax: waives zero tariff for the same kind of goods for 12 months.
    PayAllTaxes,
}

/// The customs status of goods on a line, which decides what the second line and island transfers
/// control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoodsStatus {
    /// Entered at zero tariff, or processed from such goods; kept in the account book.
    ZeroTariff,
    /// Under bonded supervision.
    Bonded,
    /// Import taxes paid.
    DutyPaid,
    /// Mainland or Hainan-produced goods without imported content.
    Domestic,
    /// Used machinery admitted without an import licence under the exception measures (R1.11).
    RelaxedLicence,
}

/// R2.11: why goods enter from the mainland.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPurpose {
    DomesticCirculation,
    /// Declared as exports into a special customs supervision area (Yangpu Bonded Port Area, …).
    SpecialSupervisionArea,
    /// Domestic goods bought by a licensed duty-free operator for offshore duty-free sale.
    DutyFreeStock,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "credit_code")]
pub enum Counterparty {
    Enterprise(CreditCode),
    Individual,
}

/// Imported content of goods: what second-line and circulation taxes are computed on (R2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    pub hs_code: HsCode,
    pub origin: Country,
    /// The customs value assessed when it entered, in CNY.
    pub customs_value: Cny,
    pub quantities: Vec<Quantity>,
    pub consumption_tax_item: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomesticPurchase {
    pub value: Cny,
    /// On the directory of recognised Hainan-produced goods (R2.8).
    pub hainan_produced: bool,
}

/// One upstream enterprise of a cumulative value-added chain (R2.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStage {
    pub enterprise: CreditCode,
    pub imported: Vec<Cny>,
    pub domestic: Vec<DomesticPurchase>,
    /// What it sold the intermediate goods for, to the next stage.
    pub sale_price: Cny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueAddedClaim {
    /// The domestic-sale price of the goods to the mainland.
    pub sale_price: Cny,
    pub domestic: Vec<DomesticPurchase>,
    /// Upstream filed enterprises whose value added accumulates with the declarant's (in order).
    pub upstream: Vec<ChainStage>,
    /// The duty-free domestic-sales confirmation number issued through the Single Window, if any.
    pub confirmation_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub hs_code: HsCode,
    pub description: String,
    pub origin: Country,
    pub quantities: Vec<Quantity>,
    /// Value in the declaration currency: CIF for imports, the transaction value otherwise.
    pub value: Decimal,
    pub goods_status: GoodsStatus,
    pub licence: Option<String>,
    /// Which consumption-tax item applies when the tariff line allows several.
    pub consumption_tax_item: Option<String>,
    pub imported_materials: Vec<Material>,
    pub value_added: Option<ValueAddedClaim>,
    /// Goods attribute "49": relaxed trade management under the exception measures (R1.10).
    pub exception_measure: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    pub id: String,
    pub flow: Flow,
    pub declared_on: Date,
    pub declarant: CreditCode,
    pub counterparty: Option<Counterparty>,
    pub currency: Currency,
    pub payment_option: PaymentOption,
    pub entry_purpose: EntryPurpose,
    pub direct_release: bool,
    /// Domestic VAT was paid on the goods inside Hainan (R2.3, one source).
    pub domestic_vat_paid: bool,
    /// Where and how the goods cross: at a second-line port, the lane then decides how release
    /// goes (R2.4). Absent for goods that stay inside the island, and for a declaration lodged
    /// without it (released by an officer, as before the ports were in the pack).
    pub transport: Option<crate::port::Transport>,
    /// A batch exit (R2.5): released against the account book now, its taxes declared and paid on
    /// the month's consolidated declaration.
    pub batch_exit: bool,
    pub lines: Vec<Line>,
}
