//! Account books (R3.3): an officer's stock-take or write-off, posted in one transaction. A count
//! below the book means zero-tariff goods left without a declaration: an early warning for the
//! analysts, raised with the adjustment.

use freeport_core::account_book::{Adjustment, AdjustmentKind};
use freeport_core::identity::CreditCode;
use freeport_store::{IdempotencyRecord, NewAlert, NewPosting};
use rust_decimal::Decimal;
use serde_json::json;

use crate::{Actor, AppResult, Platform};

/// One book entry as adjusted: booked before, and the posting made (thousandths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustedEntry {
    pub hs_code: String,
    pub unit: String,
    pub booked_milli: i64,
    pub delta_milli: i64,
}

#[derive(Debug, Clone)]
pub struct Adjusted {
    pub kind: AdjustmentKind,
    pub entries: Vec<AdjustedEntry>,
}

/// A quantity in thousandths as people read it.
pub fn quantity_text(milli: i64) -> String {
    Decimal::new(milli, 3).normalize().to_string()
}

/// Posts an adjustment to `enterprise`'s book. `request_digest` tells one request from another,
/// so that a stock-take retried raises its alerts once and two stock-takes raise two.
pub async fn adjust(
    platform: &Platform,
    actor: &Actor,
    enterprise: CreditCode,
    adjustment: Adjustment,
    request_digest: &str,
    answer: impl FnOnce(&Adjusted) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Adjusted> {
    actor.require(crate::Permission::AdjustAccountBook)?;
    let book = platform.store.book(enterprise).await?;
    let mut postings = Vec::new();
    let mut entries = Vec::with_capacity(adjustment.entries.len());
    for e in &adjustment.entries {
        let booked = book
            .iter()
            .find(|(k, _)| k.hs_code == e.hs_code && k.unit == e.unit)
            .map_or(Ok(0), |(_, q)| {
                freeport_core::limits::to_milli("balance", *q).map_err(crate::AppError::from)
            })?;
        let delta = adjustment.kind.delta(e.quantity_milli, booked);
        entries.push(AdjustedEntry {
            hs_code: e.hs_code.as_str().to_owned(),
            unit: e.unit.code().to_owned(),
            booked_milli: booked,
            delta_milli: delta,
        });
        if delta != 0 {
            postings.push(NewPosting {
                enterprise: enterprise.as_str().to_owned(),
                hs_code: e.hs_code.as_str().to_owned(),
                unit: e.unit.code().to_owned(),
                quantity_milli: delta,
                value_fen: 0,
                movement: adjustment.kind.as_str().to_owned(),
                line: None,
                note: e.note.clone(),
            });
        }
    }
    let day = platform.today().to_string();
    let alerts: Vec<NewAlert> = postings
        .iter()
        .filter(|p| adjustment.kind == AdjustmentKind::StockTake && p.quantity_milli < 0)
        .map(|p| {
            let mut digest = request_digest.as_bytes().to_vec();
            digest.extend_from_slice(p.note.as_bytes());
            let short = &freeport_store::sha256_hex(&digest)[..16];
            NewAlert {
                id: uuid::Uuid::now_v7().to_string(),
                dedupe_key: format!("outflow:{}:{}:{}:{short}", p.enterprise, p.hs_code, p.unit),
                kind: "unexplained_outflow".to_owned(),
                subject: format!(
                    "{} {} short of the book for {}",
                    quantity_text(-p.quantity_milli),
                    p.unit,
                    p.hs_code
                ),
                enterprise: Some(p.enterprise.clone()),
                declaration_id: None,
                person_code: None,
                raised_on: day.clone(),
                details_json: json!({ "hs_code": p.hs_code, "unit": p.unit, "shortfall": quantity_text(-p.quantity_milli), "note": p.note }).to_string(),
            }
        })
        .collect();
    let adjusted = Adjusted {
        kind: adjustment.kind,
        entries,
    };
    let record = answer(&adjusted)?;
    platform
        .store
        .adjust(
            &postings,
            &alerts,
            &actor.user_id,
            &format!("account_book.{}", adjustment.kind.as_str()),
            record.as_ref(),
            platform.now_ms(),
        )
        .await?;
    Ok(adjusted)
}

/// An account book as its reader sees it: every balance and one page of postings.
#[derive(Debug, Clone)]
pub struct AccountBook {
    pub balances: Vec<freeport_store::Balance>,
    pub postings: Vec<freeport_store::PostingRow>,
}

/// `enterprise`'s balances and the postings after posting id `after` (at most `limit`): customs,
/// and the enterprise's own users.
pub async fn account_book(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
    after: i64,
    limit: i64,
) -> AppResult<AccountBook> {
    actor.require(crate::Permission::ReadAccountBook)?;
    actor.require_enterprise(enterprise.as_str())?;
    Ok(AccountBook {
        balances: platform.store.balances(enterprise.as_str()).await?,
        postings: platform
            .store
            .postings(enterprise.as_str(), after, limit)
            .await?,
    })
}

/// Every posting of `enterprise`'s book, oldest first, for an export: read a page at a time, at
/// most `max_pages` pages of `page` postings (beyond that the reader pages through the book).
pub async fn every_posting(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
    page: i64,
    max_pages: usize,
) -> AppResult<Vec<freeport_store::PostingRow>> {
    actor.require(crate::Permission::ReadAccountBook)?;
    actor.require_enterprise(enterprise.as_str())?;
    let mut out = Vec::new();
    let mut after = 0;
    for _ in 0..max_pages {
        let rows = platform
            .store
            .postings(enterprise.as_str(), after, page)
            .await?;
        let full = rows.len() as i64 == page;
        after = rows.last().map_or(after, |p| p.id);
        out.extend(rows);
        if !full {
            break;
        }
    }
    Ok(out)
}
