//! `freeport quote` input: a declaration and the state snapshot to judge it against.
//! Schema: `docs/reference/quote.md`.

use freeport_core::calendar::DayRange;
use freeport_core::country::Country;
use freeport_core::currency::Currency;
use freeport_core::declaration::*;
use freeport_core::error::{FieldError, FieldErrorKind, FieldResult};
use freeport_core::hs::{HsCode, Nomenclature};
use freeport_core::identity::CreditCode;
use freeport_core::money::Cny;
use freeport_core::snapshot::{EnterpriseStanding, ExchangeRates, Snapshot, WaiverLock};
use freeport_core::unit::Quantity;
use serde::Deserialize;
use time::Date;

/// Bounds on one request (STYLE rule 12): a declaration form has at most 50 goods items in China;
/// the bounds leave room while refusing absurd input.
pub const MAX_LINES: usize = 1000;
pub const MAX_ITEMS: usize = 1000;
pub const MAX_TEXT: usize = 1000;

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub declaration: DeclarationDto,
    #[serde(default)]
    pub snapshot: SnapshotDto,
}

#[derive(Debug, utoipa::ToSchema, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum FlowDto {
    FirstLineImport,
    FirstLineExport,
    SecondLineExit,
    SecondLineEntry,
    IslandTransfer,
    Processing,
}

#[derive(Debug, utoipa::ToSchema, Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "snake_case")]
pub enum PaymentOptionDto {
    #[default]
    ZeroTariff,
    PayVatAndConsumptionTax,
    PayAllTaxes,
}

#[derive(Debug, utoipa::ToSchema, Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "snake_case")]
pub enum EntryPurposeDto {
    #[default]
    DomesticCirculation,
    SpecialSupervisionArea,
    DutyFreeStock,
}

#[derive(Debug, utoipa::ToSchema, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum GoodsStatusDto {
    ZeroTariff,
    Bonded,
    DutyPaid,
    Domestic,
    RelaxedLicence,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum CounterpartyDto {
    Enterprise { credit_code: String },
    Individual,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationDto {
    pub id: String,
    pub flow: FlowDto,
    pub declared_on: String,
    pub declarant: String,
    #[serde(default)]
    pub counterparty: Option<CounterpartyDto>,
    pub currency: String,
    #[serde(default)]
    pub payment_option: PaymentOptionDto,
    #[serde(default)]
    pub entry_purpose: EntryPurposeDto,
    #[serde(default)]
    pub direct_release: bool,
    #[serde(default)]
    pub domestic_vat_paid: bool,
    /// Where and how the goods cross (WCO DM names in `docs/reference/declaration-fields.md`). At a
    /// second-line port the lane then decides release: green at once, yellow after a documentary
    /// check, red after a scan.
    #[serde(default)]
    pub transport: Option<TransportDto>,
    /// A batch exit (R2.5), for advanced certified and white-list enterprises: released now, taxes
    /// on the month's consolidated declaration.
    #[serde(default)]
    pub batch_exit: bool,
    pub lines: Vec<LineDto>,
}

/// Where and how goods cross a line.
#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportDto {
    /// The port's code in the policy pack (`GET /api/v1/ports`): WCO DM customs office of exit or
    /// entry.
    pub port: String,
    /// Mode of transport at the border: `sea`, `rail`, `road`, `air`, `mail`, `multimodal`,
    /// `fixed_installation`, `inland_waterway` or `unknown` (UN/ECE Recommendation 19 codes 1-8, and 0).
    pub mode: String,
    /// Identity of the means of transport crossing: a truck's plate, a vessel, a flight; 1 to 64
    /// characters.
    pub means: String,
    /// The transport document's number (bill of lading, waybill); up to 64 characters.
    #[serde(default)]
    pub document: Option<String>,
    /// The port's cargo channel the truck is booked through (`GET /api/v1/ports`), if any: its
    /// capacity bounds the red lane and its emergency mode applies.
    #[serde(default)]
    pub channel: Option<String>,
}

impl TransportDto {
    pub fn into_domain(self, at: &str) -> FieldResult<freeport_core::port::Transport> {
        use freeport_core::port::TransportMode;
        let mode = TransportMode::parse(&self.mode).ok_or_else(|| {
            let names: Vec<&str> = TransportMode::ALL.iter().map(|m| m.as_str()).collect();
            FieldError::new(
                format!("{at}.mode"),
                FieldErrorKind::Unknown,
                format!("one of {}", names.join(", ")),
            )
        })?;
        let short = |field: &str, text: &str, min: usize| -> FieldResult<String> {
            let text = text.trim();
            let n = text.chars().count();
            if n < min || n > 64 || text.chars().any(char::is_control) {
                return Err(FieldError::new(
                    format!("{at}.{field}"),
                    FieldErrorKind::OutOfRange,
                    format!("{min} to 64 characters, no control characters"),
                ));
            }
            Ok(text.to_owned())
        };
        Ok(freeport_core::port::Transport {
            port: short("port", &self.port, 1)?,
            mode,
            means: short("means", &self.means, 1)?,
            document: self
                .document
                .as_deref()
                .map(|d| short("document", d, 1))
                .transpose()?,
            channel: self
                .channel
                .as_deref()
                .map(|c| short("channel", c, 1))
                .transpose()?,
        })
    }
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantityDto {
    pub value: String,
    pub unit: String,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialDto {
    pub hs_code: String,
    pub origin: String,
    pub customs_value: String,
    #[serde(default)]
    pub quantities: Vec<QuantityDto>,
    #[serde(default)]
    pub consumption_tax_item: Option<String>,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomesticPurchaseDto {
    pub value: String,
    #[serde(default)]
    pub hainan_produced: bool,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainStageDto {
    pub enterprise: String,
    pub imported: Vec<String>,
    #[serde(default)]
    pub domestic: Vec<DomesticPurchaseDto>,
    pub sale_price: String,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueAddedDto {
    pub sale_price: String,
    #[serde(default)]
    pub domestic: Vec<DomesticPurchaseDto>,
    #[serde(default)]
    pub upstream: Vec<ChainStageDto>,
    #[serde(default)]
    pub confirmation_number: Option<String>,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineDto {
    pub hs_code: String,
    #[serde(default)]
    pub description: String,
    pub origin: String,
    pub quantities: Vec<QuantityDto>,
    pub value: String,
    pub goods_status: GoodsStatusDto,
    #[serde(default)]
    pub licence: Option<String>,
    #[serde(default)]
    pub consumption_tax_item: Option<String>,
    #[serde(default)]
    pub imported_materials: Vec<MaterialDto>,
    #[serde(default)]
    pub value_added: Option<ValueAddedDto>,
    #[serde(default)]
    pub exception_measure: bool,
}

#[derive(Debug, utoipa::ToSchema, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SnapshotDto {
    #[serde(default)]
    pub enterprises: Vec<EnterpriseDto>,
    #[serde(default)]
    pub exchange_rates: Vec<ExchangeRateDto>,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverLockDto {
    pub kind_prefix: String,
    pub first: String,
    pub last: String,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseDto {
    pub credit_code: String,
    #[serde(default)]
    pub beneficiary: bool,
    #[serde(default)]
    pub encouraged_industry_filed: bool,
    #[serde(default)]
    pub encouraged_revenue_share: Option<String>,
    #[serde(default)]
    pub waiver_locks: Vec<WaiverLockDto>,
}

#[derive(Debug, utoipa::ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRateDto {
    pub currency: String,
    pub date: String,
    pub cny_per_unit: String,
}

/// Reads a quote request from JSON text: a syntax or shape error names the JSON path it occurred at.
pub fn parse_quote_request(json: &str) -> FieldResult<QuoteRequest> {
    crate::decode_json(json)
}

/// Decodes any request type from JSON, naming the JSON path of the first problem.
pub(crate) fn decode_json_with_paths<T: serde::de::DeserializeOwned>(json: &str) -> FieldResult<T> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let kind = if inner.is_syntax() || inner.is_eof() {
            FieldErrorKind::Malformed
        } else if inner.to_string().starts_with("missing field") {
            FieldErrorKind::Missing
        } else {
            FieldErrorKind::Malformed
        };
        let field = if path == "." { String::new() } else { path };
        FieldError::new(field, kind, inner.to_string())
    })
}

fn date(field: &str, text: &str) -> FieldResult<Date> {
    freeport_core::calendar::parse_day(field, text)
}

fn bounded<T>(field: &str, items: &[T], max: usize) -> FieldResult<()> {
    if items.len() > max {
        return Err(FieldError::new(
            field,
            FieldErrorKind::OutOfRange,
            format!("{} items exceed the limit of {max}", items.len()),
        ));
    }
    Ok(())
}

fn text(field: &str, s: &str) -> FieldResult<String> {
    if s.chars().count() > MAX_TEXT {
        return Err(FieldError::new(
            field,
            FieldErrorKind::OutOfRange,
            format!("longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(s.to_owned())
}

fn country(field: &str, s: &str) -> FieldResult<Country> {
    Country::parse(s).map_err(|e| FieldError {
        field: field.to_owned(),
        ..e
    })
}

fn credit_code(field: &str, s: &str) -> FieldResult<CreditCode> {
    CreditCode::parse(s).map_err(|e| FieldError {
        field: field.to_owned(),
        ..e
    })
}

fn parse_quantities(field: &str, q: &[QuantityDto]) -> FieldResult<Vec<Quantity>> {
    bounded(field, q, 8)?;
    q.iter()
        .enumerate()
        .map(|(i, q)| Quantity::parse(&format!("{field}[{i}]"), &q.value, &q.unit))
        .collect()
}

pub(crate) fn domestic(
    field: &str,
    d: &[DomesticPurchaseDto],
) -> FieldResult<Vec<DomesticPurchase>> {
    bounded(field, d, MAX_ITEMS)?;
    d.iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(DomesticPurchase {
                value: non_negative_cny(&format!("{field}[{i}].value"), &p.value)?,
                hainan_produced: p.hainan_produced,
            })
        })
        .collect()
}

/// A non-negative amount of yuan, with at most two decimals.
/// At most `limits::AMOUNT_CNY` (100 billion yuan); more is `out_of_range`, never clamped.
pub fn non_negative_cny(field: &str, s: &str) -> FieldResult<Cny> {
    bounded_cny(field, s, freeport_core::limits::AMOUNT_CNY)
}

/// A non-negative amount of yuan within `bound`, exact to the fen: more decimals, or more than the
/// ceiling, is `out_of_range`; anything but a plain decimal is `malformed`.
pub fn bounded_cny(field: &str, s: &str, bound: freeport_core::limits::Bound) -> FieldResult<Cny> {
    bound.parse_cny(field, s)
}

impl QuoteRequest {
    /// Converts the request into the core's declaration and snapshot, checking every field.
    pub fn into_domain(self, nomenclature: &Nomenclature) -> FieldResult<(Declaration, Snapshot)> {
        Ok((
            self.declaration.into_domain(nomenclature)?,
            self.snapshot.into_domain()?,
        ))
    }
}

impl DeclarationDto {
    pub fn into_domain(self, nomenclature: &Nomenclature) -> FieldResult<Declaration> {
        let d = "declaration";
        if self.id.trim().is_empty() {
            return Err(FieldError::new(
                format!("{d}.id"),
                FieldErrorKind::Missing,
                "a declaration id is required",
            ));
        }
        if self.lines.is_empty() {
            return Err(FieldError::new(
                format!("{d}.lines"),
                FieldErrorKind::Missing,
                "a declaration has at least one line",
            ));
        }
        bounded(&format!("{d}.lines"), &self.lines, MAX_LINES)?;
        let currency = Currency::parse(&self.currency).map_err(|e| FieldError {
            field: format!("{d}.currency"),
            ..e
        })?;
        let counterparty = match self.counterparty {
            None => None,
            Some(CounterpartyDto::Individual) => Some(Counterparty::Individual),
            Some(CounterpartyDto::Enterprise { credit_code: c }) => Some(Counterparty::Enterprise(
                credit_code(&format!("{d}.counterparty.credit_code"), &c)?,
            )),
        };
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.into_iter().enumerate() {
            lines.push(l.into_domain(&format!("{d}.lines[{i}]"), nomenclature)?);
        }
        Ok(Declaration {
            id: text(&format!("{d}.id"), &self.id)?,
            flow: match self.flow {
                FlowDto::FirstLineImport => Flow::FirstLineImport,
                FlowDto::FirstLineExport => Flow::FirstLineExport,
                FlowDto::SecondLineExit => Flow::SecondLineExit,
                FlowDto::SecondLineEntry => Flow::SecondLineEntry,
                FlowDto::IslandTransfer => Flow::IslandTransfer,
                FlowDto::Processing => Flow::Processing,
            },
            declared_on: date(&format!("{d}.declared_on"), &self.declared_on)?,
            declarant: credit_code(&format!("{d}.declarant"), &self.declarant)?,
            counterparty,
            currency,
            payment_option: match self.payment_option {
                PaymentOptionDto::ZeroTariff => PaymentOption::ZeroTariff,
                PaymentOptionDto::PayVatAndConsumptionTax => PaymentOption::PayVatAndConsumptionTax,
                PaymentOptionDto::PayAllTaxes => PaymentOption::PayAllTaxes,
            },
            entry_purpose: match self.entry_purpose {
                EntryPurposeDto::DomesticCirculation => EntryPurpose::DomesticCirculation,
                EntryPurposeDto::SpecialSupervisionArea => EntryPurpose::SpecialSupervisionArea,
                EntryPurposeDto::DutyFreeStock => EntryPurpose::DutyFreeStock,
            },
            direct_release: self.direct_release,
            domestic_vat_paid: self.domestic_vat_paid,
            transport: self
                .transport
                .map(|t| t.into_domain(&format!("{d}.transport")))
                .transpose()?,
            batch_exit: self.batch_exit,
            lines,
        })
    }
}

impl LineDto {
    fn into_domain(self, f: &str, nomenclature: &Nomenclature) -> FieldResult<Line> {
        let hs_code = HsCode::parse(&format!("{f}.hs_code"), &self.hs_code, nomenclature)?;
        let quantities = parse_quantities(&format!("{f}.quantities"), &self.quantities)?;
        if quantities.is_empty() {
            return Err(FieldError::new(
                format!("{f}.quantities"),
                FieldErrorKind::Missing,
                "at least one quantity is required",
            ));
        }
        bounded(
            &format!("{f}.imported_materials"),
            &self.imported_materials,
            MAX_ITEMS,
        )?;
        let mut imported_materials = Vec::with_capacity(self.imported_materials.len());
        for (m, mat) in self.imported_materials.into_iter().enumerate() {
            let mf = format!("{f}.imported_materials[{m}]");
            imported_materials.push(Material {
                hs_code: HsCode::parse(&format!("{mf}.hs_code"), &mat.hs_code, nomenclature)?,
                origin: country(&format!("{mf}.origin"), &mat.origin)?,
                customs_value: non_negative_cny(
                    &format!("{mf}.customs_value"),
                    &mat.customs_value,
                )?,
                quantities: parse_quantities(&format!("{mf}.quantities"), &mat.quantities)?,
                consumption_tax_item: mat.consumption_tax_item,
            });
        }
        let value_added = match self.value_added {
            None => None,
            Some(va) => {
                let vf = format!("{f}.value_added");
                bounded(&format!("{vf}.upstream"), &va.upstream, 100)?;
                let mut upstream = Vec::with_capacity(va.upstream.len());
                for (s, stage) in va.upstream.into_iter().enumerate() {
                    let sf = format!("{vf}.upstream[{s}]");
                    bounded(&format!("{sf}.imported"), &stage.imported, MAX_ITEMS)?;
                    upstream.push(ChainStage {
                        enterprise: credit_code(&format!("{sf}.enterprise"), &stage.enterprise)?,
                        imported: stage
                            .imported
                            .iter()
                            .enumerate()
                            .map(|(k, v)| non_negative_cny(&format!("{sf}.imported[{k}]"), v))
                            .collect::<FieldResult<_>>()?,
                        domestic: domestic(&format!("{sf}.domestic"), &stage.domestic)?,
                        sale_price: non_negative_cny(
                            &format!("{sf}.sale_price"),
                            &stage.sale_price,
                        )?,
                    });
                }
                Some(ValueAddedClaim {
                    sale_price: non_negative_cny(&format!("{vf}.sale_price"), &va.sale_price)?,
                    domestic: domestic(&format!("{vf}.domestic"), &va.domestic)?,
                    upstream,
                    confirmation_number: va.confirmation_number,
                })
            }
        };
        Ok(Line {
            hs_code,
            description: text(&format!("{f}.description"), &self.description)?,
            origin: country(&format!("{f}.origin"), &self.origin)?,
            quantities,
            value: freeport_core::limits::LINE_VALUE.parse(&format!("{f}.value"), &self.value)?,
            goods_status: match self.goods_status {
                GoodsStatusDto::ZeroTariff => GoodsStatus::ZeroTariff,
                GoodsStatusDto::Bonded => GoodsStatus::Bonded,
                GoodsStatusDto::DutyPaid => GoodsStatus::DutyPaid,
                GoodsStatusDto::Domestic => GoodsStatus::Domestic,
                GoodsStatusDto::RelaxedLicence => GoodsStatus::RelaxedLicence,
            },
            licence: self.licence.filter(|l| !l.trim().is_empty()),
            consumption_tax_item: self.consumption_tax_item,
            imported_materials,
            value_added,
            exception_measure: self.exception_measure,
        })
    }
}

impl SnapshotDto {
    pub fn into_domain(self) -> FieldResult<Snapshot> {
        let mut snapshot = Snapshot::default();
        bounded("snapshot.enterprises", &self.enterprises, 100_000)?;
        for (i, e) in self.enterprises.into_iter().enumerate() {
            let f = format!("snapshot.enterprises[{i}]");
            let code = credit_code(&format!("{f}.credit_code"), &e.credit_code)?;
            let share = e
                .encouraged_revenue_share
                .as_deref()
                .map(|s| {
                    freeport_core::limits::SHARE.parse(&format!("{f}.encouraged_revenue_share"), s)
                })
                .transpose()?;
            let mut waiver_locks = Vec::new();
            for (k, w) in e.waiver_locks.iter().enumerate() {
                let wf = format!("{f}.waiver_locks[{k}]");
                if w.kind_prefix.is_empty() || !w.kind_prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(FieldError::new(
                        format!("{wf}.kind_prefix"),
                        FieldErrorKind::Malformed,
                        "an HS prefix of digits is required",
                    ));
                }
                let range = DayRange {
                    first: date(&format!("{wf}.first"), &w.first)?,
                    last: date(&format!("{wf}.last"), &w.last)?,
                };
                waiver_locks.push(WaiverLock {
                    kind_prefix: w.kind_prefix.clone(),
                    range,
                });
            }
            let standing = EnterpriseStanding {
                beneficiary: e.beneficiary,
                encouraged_industry_filed: e.encouraged_industry_filed,
                encouraged_revenue_share: share,
                waiver_locks,
            };
            if snapshot.enterprises.insert(code, standing).is_some() {
                return Err(FieldError::new(
                    format!("{f}.credit_code"),
                    FieldErrorKind::Inconsistent,
                    "enterprise listed twice",
                ));
            }
        }
        let mut rates = ExchangeRates::default();
        for (i, r) in self.exchange_rates.iter().enumerate() {
            let f = format!("snapshot.exchange_rates[{i}]");
            let currency = Currency::parse(&r.currency).map_err(|e| FieldError {
                field: format!("{f}.currency"),
                ..e
            })?;
            let rate = freeport_core::limits::EXCHANGE_RATE
                .parse(&format!("{f}.cny_per_unit"), &r.cny_per_unit)?;
            rates.insert(date(&format!("{f}.date"), &r.date)?, currency, rate);
        }
        snapshot.exchange_rates = rates;
        Ok(snapshot)
    }
}
