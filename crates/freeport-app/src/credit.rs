//! Enterprise credit (R6.1): records kept by officers, and repair granted to a dishonest
//! enterprise whose repair path is open. Each answer is the credit with the new record, assessed.

use freeport_core::credit::{CreditAssessment, CreditRecord, CreditRecordKind, decide_repair};
use freeport_store::{CreditRecordRow, Enterprise, IdempotencyRecord};
use time::Date;

use crate::{Actor, AppError, AppResult, Platform};

/// A credit record kept: the enterprise's assessment with it, and every record.
#[derive(Debug, Clone)]
pub struct Credited {
    pub enterprise: String,
    pub assessment: CreditAssessment,
    pub records: Vec<CreditRecordRow>,
}

/// A registered enterprise, or `NotFound`.
pub async fn registered(platform: &Platform, code: &str) -> AppResult<Enterprise> {
    platform
        .store
        .enterprise(code)
        .await?
        .ok_or_else(|| AppError::NotFound("no such resource".into()))
}

/// Keeps `record` on `e`; the answer is the credit with it, assessed on `on`.
async fn keep(
    platform: &Platform,
    actor: &Actor,
    e: &Enterprise,
    record: CreditRecord,
    note: &str,
    on: Date,
    answer: impl FnOnce(&Credited) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Credited> {
    let new =
        freeport_store::domain::new_credit_record(&e.credit_code, &record, note, &actor.user_id);
    let mut rows = platform.store.credit_records(&e.credit_code).await?;
    let mut records = rows
        .iter()
        .map(freeport_store::domain::credit_record)
        .collect::<Result<Vec<_>, _>>()?;
    records.push(record);
    let now = platform.now_ms();
    rows.push(CreditRecordRow {
        id: new.id.clone(),
        on_day: new.on_day.clone(),
        reference: new.reference.clone(),
        kind: new.kind.clone(),
        amount_fen: new.amount_fen,
        due_on: new.due_on.clone(),
        note: new.note.clone(),
        actor: new.actor.clone(),
        at_ms: now,
    });
    let credited = Credited {
        enterprise: e.credit_code.clone(),
        assessment: platform.assess_credit_with(e, &records, on).await?,
        records: rows,
    };
    let idempotency = answer(&credited)?;
    platform
        .store
        .record_credit(&new, idempotency.as_ref(), now)
        .await?;
    Ok(credited)
}

/// An officer keeps a credit record on an enterprise; its class follows at once.
pub async fn record(
    platform: &Platform,
    actor: &Actor,
    enterprise: &str,
    record: CreditRecord,
    note: &str,
    answer: impl FnOnce(&Credited) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Credited> {
    actor.require(crate::Permission::KeepCreditRecords)?;
    let e = registered(platform, enterprise).await?;
    let on = record.on;
    keep(platform, actor, &e, record, note, on, answer).await
}

/// Customs grants repair today to a dishonest enterprise whose repair path is open; otherwise
/// the refusal says why (unpaid taxes, too early, not dishonest).
pub async fn repair(
    platform: &Platform,
    actor: &Actor,
    enterprise: &str,
    reason: &str,
    answer: impl FnOnce(&Credited) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Credited> {
    actor.require(crate::Permission::KeepCreditRecords)?;
    let e = registered(platform, enterprise).await?;
    let on = platform.today();
    let before = platform.credit_assessment(&e, on).await?;
    decide_repair(&before).map_err(|refusal| AppError::InvalidTransition(refusal.to_string()))?;
    let record = CreditRecord {
        on,
        reference: format!("repair-{on}"),
        kind: CreditRecordKind::Repair,
    };
    keep(platform, actor, &e, record, reason, on, answer).await
}

/// `enterprise`'s credit assessed on `on` (today by the platform's clock when absent), with every
/// record behind it: customs, and the enterprise's own users.
pub async fn credit_file(
    platform: &Platform,
    actor: &Actor,
    enterprise: &str,
    on: Option<Date>,
) -> AppResult<Credited> {
    actor.require(crate::Permission::ReadCredit)?;
    let on = on.unwrap_or_else(|| platform.today());
    actor.require_enterprise(enterprise)?;
    let e = registered(platform, enterprise).await?;
    Ok(Credited {
        assessment: platform.credit_assessment(&e, on).await?,
        records: platform.store.credit_records(&e.credit_code).await?,
        enterprise: e.credit_code,
    })
}
