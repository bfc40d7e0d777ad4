//! Reads in the core's own types, for the snapshot a decision is made on.
//!
//! Each fails closed: a stored row that no longer decodes is `StoreError::Corrupt`, naming the
//! record, never a row skipped. A waiver lock or a smuggling record quietly dropped would loosen
//! the decision made without it.

use freeport_core::calendar::{DayRange, parse_day};
use freeport_core::credit::{CreditClass, CreditRecord, CreditRecordKind};
use freeport_core::hs::HsCode;
use freeport_core::identity::CreditCode;
use freeport_core::money::Cny;
use freeport_core::snapshot::{BalanceKey, EnterpriseStanding, WaiverLock};
use freeport_core::unit::Unit;
use rust_decimal::Decimal;
use time::Date;

use crate::registry::Enterprise;
use crate::risk::CreditRecordRow;
use crate::{Result, Store, StoreError};

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

fn day(text: &str, what: impl Fn() -> String) -> Result<Date> {
    parse_day("", text).map_err(|_| corrupt(format!("{}: day {text:?}", what())))
}

/// A stored credit record in the core's terms.
pub fn credit_record(r: &CreditRecordRow) -> Result<CreditRecord> {
    let what = || format!("credit record {}", r.id);
    let amount = Cny::from_fen(r.amount_fen.unwrap_or(0));
    let kind = match r.kind.as_str() {
        "violation" => CreditRecordKind::Violation { penalty: amount },
        "smuggling" => CreditRecordKind::Smuggling,
        "tax_due" => CreditRecordKind::TaxDue {
            due_on: day(
                r.due_on
                    .as_deref()
                    .ok_or_else(|| corrupt(format!("{}: no due day", what())))?,
                what,
            )?,
            amount,
        },
        "tax_paid" => CreditRecordKind::TaxPaid,
        "inspection_finding" => CreditRecordKind::InspectionFinding {
            revenue_found: amount,
        },
        "downgrade" => CreditRecordKind::Downgrade,
        "repair" => CreditRecordKind::Repair,
        other => return Err(corrupt(format!("{}: kind {other:?}", what()))),
    };
    Ok(CreditRecord {
        on: day(&r.on_day, what)?,
        reference: r.reference.clone(),
        kind,
    })
}

/// A credit record to keep, from the core's record.
pub fn new_credit_record(
    enterprise: &str,
    record: &CreditRecord,
    note: &str,
    actor: &str,
) -> crate::risk::NewCreditRecord {
    let (kind, amount, due_on) = match &record.kind {
        CreditRecordKind::Violation { penalty } => ("violation", Some(*penalty), None),
        CreditRecordKind::Smuggling => ("smuggling", None, None),
        CreditRecordKind::TaxDue { due_on, amount } => ("tax_due", Some(*amount), Some(*due_on)),
        CreditRecordKind::TaxPaid => ("tax_paid", None, None),
        CreditRecordKind::InspectionFinding { revenue_found } => {
            ("inspection_finding", Some(*revenue_found), None)
        }
        CreditRecordKind::Downgrade => ("downgrade", None, None),
        CreditRecordKind::Repair => ("repair", None, None),
    };
    crate::risk::NewCreditRecord {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise: enterprise.to_owned(),
        on_day: record.on.to_string(),
        reference: record.reference.clone(),
        kind: kind.to_owned(),
        amount_fen: amount.map(Cny::fen),
        due_on: due_on.map(|d| d.to_string()),
        note: note.to_owned(),
        actor: actor.to_owned(),
    }
}

/// An enterprise's registered credit class.
pub fn registered_class(e: &Enterprise) -> Result<CreditClass> {
    CreditClass::parse(&e.credit_class).ok_or_else(|| {
        corrupt(format!(
            "enterprise {}: credit class {:?}",
            e.credit_code, e.credit_class
        ))
    })
}

impl Store {
    /// An enterprise's credit records, oldest first.
    pub async fn credit_history(&self, enterprise: &str) -> Result<Vec<CreditRecord>> {
        self.credit_records(enterprise)
            .await?
            .iter()
            .map(credit_record)
            .collect()
    }

    /// What a decision needs to know of a registered enterprise: its regime and waiver locks.
    pub async fn standing(&self, e: &Enterprise) -> Result<EnterpriseStanding> {
        let mut waiver_locks = Vec::new();
        for w in self.waiver_locks(&e.credit_code).await? {
            let what = || format!("waiver lock of {} ({})", e.credit_code, w.kind_prefix);
            waiver_locks.push(WaiverLock {
                kind_prefix: w.kind_prefix.clone(),
                range: DayRange {
                    first: day(&w.first_day, what)?,
                    last: day(&w.last_day, what)?,
                },
            });
        }
        let encouraged_revenue_share = e
            .encouraged_revenue_share
            .as_deref()
            .map(|s| {
                s.parse::<Decimal>().map_err(|_| {
                    corrupt(format!(
                        "enterprise {}: encouraged revenue share {s:?}",
                        e.credit_code
                    ))
                })
            })
            .transpose()?;
        Ok(EnterpriseStanding {
            beneficiary: e.beneficiary,
            encouraged_industry_filed: e.encouraged_industry_filed,
            encouraged_revenue_share,
            waiver_locks,
        })
    }

    /// An enterprise's account-book balances, keyed as the core keys them.
    pub async fn book(&self, enterprise: CreditCode) -> Result<Vec<(BalanceKey, Decimal)>> {
        self.balances(enterprise.as_str())
            .await?
            .into_iter()
            .map(|b| {
                let what = || {
                    corrupt(format!(
                        "balance of {} in {} ({})",
                        enterprise.as_str(),
                        b.hs_code,
                        b.unit
                    ))
                };
                let key = BalanceKey {
                    enterprise,
                    hs_code: HsCode::parse_shape("hs_code", &b.hs_code).map_err(|_| what())?,
                    unit: Unit::parse("unit", &b.unit).map_err(|_| what())?,
                };
                Ok((key, Decimal::new(b.quantity_milli, 3)))
            })
            .collect()
    }

    /// The customs exchange rate of a currency on a day, CNY per unit.
    pub async fn exchange_rate_on(&self, currency: &str, on: Date) -> Result<Option<Decimal>> {
        let day = on.to_string();
        self.exchange_rate(currency, &day)
            .await?
            .map(|text| {
                text.parse::<Decimal>()
                    .map_err(|_| corrupt(format!("exchange rate of {currency} on {day}: {text:?}")))
            })
            .transpose()
    }
}
