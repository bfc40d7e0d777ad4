//! Platform requests parsed into the core's types (`into_domain`), as declarations are in
//! `quote`: every bound and every condition between fields checked here, every error naming its
//! field by its JSON path, so that the application layer receives only values it can act on.

use freeport_core::account_book::{Adjustment, AdjustmentEntry, AdjustmentKind};
use freeport_core::credit::CreditClass;
use freeport_core::credit::{CreditRecord, CreditRecordKind};
use freeport_core::duty_free::{SaleLine, SaleOrder};
use freeport_core::identity::CreditCode;
use freeport_core::registry::Registration;
use freeport_core::supervision::{DisposalKind, DisposalOrder};
use freeport_core::{FieldError, FieldErrorKind};
use rust_decimal::Decimal;

use crate::platform::{
    AdjustmentRequest, CreditRecordRequest, DisposalRequest, EnterpriseRequest, SaleRequest,
};

impl AdjustmentRequest {
    /// The adjustment in the core's terms; every error names its field.
    pub fn into_domain(
        &self,
        nomenclature: &freeport_core::hs::Nomenclature,
    ) -> Result<Adjustment, FieldError> {
        let kind = AdjustmentKind::parse(&self.kind).ok_or_else(|| {
            FieldError::new("kind", FieldErrorKind::Unknown, "stock_take or write_off")
        })?;
        if self.items.is_empty() || self.items.len() > 1000 {
            return Err(FieldError::new(
                "items",
                FieldErrorKind::OutOfRange,
                "1 to 1000 items",
            ));
        }
        let mut entries = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            let field = format!("items[{i}].quantity");
            let quantity = freeport_core::limits::QUANTITY.parse(&field, &item.quantity)?;
            entries.push(AdjustmentEntry {
                hs_code: freeport_core::hs::HsCode::parse(
                    &format!("items[{i}].hs_code"),
                    &item.hs_code,
                    nomenclature,
                )?,
                unit: freeport_core::unit::Unit::parse(&format!("items[{i}].unit"), &item.unit)?,
                quantity_milli: freeport_core::limits::to_milli(&field, quantity)?,
                note: item.note.clone(),
            });
        }
        Ok(Adjustment { kind, entries })
    }
}

impl DisposalRequest {
    /// The disposal in the core's terms; every error names its field.
    pub fn into_domain(&self) -> Result<DisposalOrder, FieldError> {
        let on = freeport_core::calendar::parse_day("on", &self.on)?;
        let kind = DisposalKind::parse(&self.kind, self.days_diverted)?;
        let quantity = match (&self.quantity, kind) {
            (None, _) => None,
            (Some(_), DisposalKind::Diversion { .. }) => {
                return Err(FieldError::new(
                    "quantity",
                    FieldErrorKind::Inconsistent,
                    "a diversion concerns the goods' use, not a quantity",
                ));
            }
            (Some(q), _) => {
                let q = freeport_core::limits::QUANTITY.parse("quantity", q)?;
                freeport_core::limits::to_milli("quantity", q)?;
                Some(q)
            }
        };
        Ok(DisposalOrder { kind, on, quantity })
    }
}

impl SaleRequest {
    /// The sale in the core's terms; every error names its field.
    pub fn into_domain(&self) -> Result<SaleOrder, FieldError> {
        use freeport_core::calendar::parse_day;
        use freeport_core::identity::PersonDocument;
        let document = PersonDocument::parse(
            &self.document.kind,
            &self.document.number,
            self.document.issuing_country.as_deref(),
        )?;
        let birth_date = parse_day("birth_date", &self.birth_date)?;
        if let PersonDocument::ResidentId(id) = &document
            && id.birth_date() != birth_date
        {
            return Err(FieldError::new(
                "birth_date",
                FieldErrorKind::Inconsistent,
                "does not match the resident identity card",
            ));
        }
        use freeport_core::quota_ledger::Scheme;
        let scheme = match self.scheme.as_deref() {
            None => Scheme::Offshore,
            Some(text) => Scheme::parse(text).ok_or_else(|| {
                FieldError::new(
                    "scheme",
                    FieldErrorKind::Unknown,
                    "offshore or resident_zero_tariff",
                )
            })?,
        };
        let departure_on = self
            .departure_on
            .as_deref()
            .map(|d| parse_day("departure_on", d))
            .transpose()?;
        let sold_on = parse_day("sold_on", &self.sold_on)?;
        if scheme == Scheme::ResidentZeroTariff && departure_on.is_some() {
            return Err(FieldError::new(
                "departure_on",
                FieldErrorKind::Inconsistent,
                "residents' zero-tariff goods are not bought for a departure",
            ));
        }
        if departure_on.is_some_and(|d| d < sold_on) {
            return Err(FieldError::new(
                "departure_on",
                FieldErrorKind::OutOfRange,
                "the departure cannot precede the sale",
            ));
        }
        if self.items.is_empty() || self.items.len() > 100 {
            return Err(FieldError::new(
                "items",
                FieldErrorKind::OutOfRange,
                "1 to 100 items",
            ));
        }
        let mut lines = Vec::with_capacity(self.items.len());
        let mut descriptions = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            lines.push(sale_line(i, item, scheme, &lines)?);
            descriptions.push(item.description.clone());
        }
        Ok(SaleOrder {
            scheme,
            document,
            birth_date,
            departure_on,
            sold_on,
            lines,
            descriptions,
            links: self
                .links
                .as_ref()
                .map(links)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// Item `i` of a sale in the core's terms, its traceability numbers not among the `earlier`
/// lines'; every error names its field.
fn sale_line(
    i: usize,
    item: &crate::platform::SaleItemRequest,
    scheme: freeport_core::quota_ledger::Scheme,
    earlier: &[SaleLine],
) -> Result<SaleLine, FieldError> {
    use freeport_core::duty_free::PickupMode;
    use freeport_core::limits::{SALE_QUANTITY, SALE_UNIT_PRICE};
    let f = |name: &str| format!("items[{i}].{name}");
    let unit_price = SALE_UNIT_PRICE.parse_cny(&f("unit_price"), &item.unit_price)?;
    let quantity = SALE_QUANTITY.parse(&f("quantity"), &item.quantity)?;
    let limit_quantity = match &item.limit_quantity {
        Some(q) => SALE_QUANTITY.parse(&f("limit_quantity"), q)?,
        None => quantity,
    };
    if item.description.chars().count() > 300 {
        return Err(FieldError::new(
            f("description"),
            FieldErrorKind::OutOfRange,
            "at most 300 characters",
        ));
    }
    // Checked here so that the store's thousandths can always hold them.
    freeport_core::limits::to_milli(&f("quantity"), quantity)?;
    freeport_core::limits::to_milli(&f("limit_quantity"), limit_quantity)?;
    let pickup = match item.pickup.as_deref() {
        None if scheme == freeport_core::quota_ledger::Scheme::ResidentZeroTariff => {
            PickupMode::OnSite
        }
        None => PickupMode::Departure,
        Some(text) => PickupMode::parse(text).ok_or_else(|| {
            FieldError::new(
                f("pickup"),
                FieldErrorKind::Unknown,
                "departure, mail, return_to_island, buy_and_take, guarantee_and_take or on_site",
            )
        })?,
    };
    let trace_codes = item.trace_codes.clone().unwrap_or_default();
    if trace_codes.len() > 100
        || trace_codes
            .iter()
            .any(|c| c.len() != 16 || !c.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(FieldError::new(
            f("trace_codes"),
            FieldErrorKind::Malformed,
            "at most 100 traceability numbers of 16 digits each",
        ));
    }
    if trace_codes.iter().enumerate().any(|(k, c)| {
        trace_codes[..k].contains(c) || earlier.iter().any(|l: &SaleLine| l.trace_codes.contains(c))
    }) {
        return Err(FieldError::new(
            f("trace_codes"),
            FieldErrorKind::Inconsistent,
            "each traceability number once",
        ));
    }
    Ok(SaleLine {
        category: item.category.clone(),
        unit_price,
        quantity,
        limit_quantity,
        pickup,
        trace_codes,
    })
}

/// A sale's links, normalised; each error names its field.
fn links(
    l: &crate::platform::BuyerLinksRequest,
) -> Result<Vec<(freeport_core::buyer_links::LinkKind, String)>, FieldError> {
    use freeport_core::buyer_links::LinkKind;
    [
        (LinkKind::Phone, &l.phone),
        (LinkKind::PaymentAccount, &l.payment_account),
        (LinkKind::DeliveryAddress, &l.delivery_address),
        (LinkKind::Device, &l.device),
    ]
    .into_iter()
    .filter_map(|(kind, text)| {
        let text = text.as_deref()?;
        Some(
            kind.normalise(&format!("links.{}", kind.as_str()), text)
                .map(|n| (kind, n)),
        )
    })
    .collect()
}

impl CreditRecordRequest {
    /// The record in the core's terms; every error names its field.
    pub fn into_domain(&self) -> Result<CreditRecord, FieldError> {
        use freeport_core::calendar::parse_day;
        let on = parse_day("on", &self.on)?;
        if self.reference.trim().is_empty() || self.reference.chars().count() > 200 {
            return Err(FieldError::new(
                "reference",
                FieldErrorKind::Missing,
                "1 to 200 characters",
            ));
        }
        let amount = match self.amount.as_deref() {
            Some(text) => Some(crate::quote::non_negative_cny("amount", text)?),
            None => None,
        };
        let due_on = match self.due_on.as_deref() {
            Some(text) => Some(parse_day("due_on", text)?),
            None => None,
        };
        let inconsistent = |field: &str, reason: &str| {
            FieldError::new(field, FieldErrorKind::Inconsistent, reason)
        };
        let kind = match (self.kind.as_str(), amount, due_on) {
            ("violation", Some(penalty), None) => CreditRecordKind::Violation { penalty },
            ("violation", _, _) => {
                return Err(inconsistent(
                    "amount",
                    "a violation states its penalty, and no due day",
                ));
            }
            ("tax_due", Some(amount), Some(due_on)) => CreditRecordKind::TaxDue { due_on, amount },
            ("tax_due", _, _) => {
                return Err(inconsistent(
                    "due_on",
                    "a tax due states its amount and due day",
                ));
            }
            ("smuggling", None, None) => CreditRecordKind::Smuggling,
            ("tax_paid", None, None) => CreditRecordKind::TaxPaid,
            ("smuggling" | "tax_paid", _, _) => {
                return Err(inconsistent(
                    "amount",
                    "this record takes no amount or due day",
                ));
            }
            _ => {
                return Err(FieldError::new(
                    "kind",
                    FieldErrorKind::Unknown,
                    "violation, smuggling, tax_due or tax_paid",
                ));
            }
        };
        Ok(CreditRecord {
            on,
            reference: self.reference.clone(),
            kind,
        })
    }
}

impl EnterpriseRequest {
    /// The registration of the enterprise `code` names; every error names its field.
    pub fn into_domain(&self, code: CreditCode) -> Result<Registration, FieldError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 300 {
            return Err(FieldError::new(
                "name",
                FieldErrorKind::OutOfRange,
                "1 to 300 characters",
            ));
        }
        let credit_class = CreditClass::parse(&self.credit_class).ok_or_else(|| {
            let names: Vec<&str> = CreditClass::ALL.iter().map(|c| c.as_str()).collect();
            FieldError::new(
                "credit_class",
                FieldErrorKind::Unknown,
                format!("one of {}", names.join(", ")),
            )
        })?;
        let encouraged_revenue_share = match &self.encouraged_revenue_share {
            Some(share) => {
                let d = freeport_core::limits::SHARE.parse("encouraged_revenue_share", share)?;
                if d > Decimal::ONE {
                    return Err(FieldError::new(
                        "encouraged_revenue_share",
                        FieldErrorKind::OutOfRange,
                        "a share between 0 and 1",
                    ));
                }
                Some(d)
            }
            None => None,
        };
        Ok(Registration {
            code,
            name: self.name.trim().to_owned(),
            beneficiary: self.beneficiary,
            encouraged_industry_filed: self.encouraged_industry_filed,
            encouraged_revenue_share,
            credit_class,
        })
    }
}

impl crate::platform::DepartureRequest {
    /// The report in the application's terms; every error names its field.
    pub fn parse(
        &self,
    ) -> Result<
        (
            freeport_core::identity::PersonDocument,
            freeport_core::departure::DepartureKind,
            String,
            i64,
        ),
        FieldError,
    > {
        use freeport_core::departure::DepartureKind;
        let document = freeport_core::identity::PersonDocument::parse(
            &self.document.kind,
            &self.document.number,
            self.document.issuing_country.as_deref(),
        )?;
        let kind = DepartureKind::parse(&self.kind).ok_or_else(|| {
            FieldError::new("kind", FieldErrorKind::Unknown, "flight, train or ship")
        })?;
        let means = self.means.trim();
        if means.is_empty() || means.chars().count() > 32 || means.chars().any(char::is_control) {
            return Err(FieldError::new(
                "means",
                FieldErrorKind::OutOfRange,
                "1 to 32 characters, no control characters",
            ));
        }
        let at = time::OffsetDateTime::parse(
            &self.departs_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| {
            FieldError::new(
                "departs_at",
                FieldErrorKind::Malformed,
                "RFC 3339 with its offset, e.g. 2026-03-05T09:30:00+08:00",
            )
        })?;
        let ms = at.unix_timestamp_nanos() / 1_000_000;
        let ms = i64::try_from(ms)
            .ok()
            .filter(|ms| (0..=253_402_300_799_000).contains(ms))
            .ok_or_else(|| {
                FieldError::new(
                    "departs_at",
                    FieldErrorKind::OutOfRange,
                    "from 1970-01-01 to 9999-12-31",
                )
            })?;
        Ok((document, kind, means.to_owned(), ms))
    }
}
