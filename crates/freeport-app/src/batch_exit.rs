//! Batch exit, centralised declaration (R2.5): who may ship in batches (read before deciding), the
//! month's consolidated declaration with its taxes (a late one suspends the facility), and
//! reinstatement on application.

use freeport_core::batch_exit::{BatchMonth, consolidate, overdue, refusal};
use freeport_core::identity::CreditCode;
use freeport_core::money::Cny;
use freeport_core::tax::TaxAmounts;
use freeport_store::{ConsolidationRow, IdempotencyRecord, NewConsolidation, StoreError};

use crate::{Actor, AppError, AppResult, Permission, Platform};

/// Why `enterprise`, of credit `class` today, may not ship in batches now, if it may not.
pub async fn refused_because(
    platform: &Platform,
    enterprise: &str,
    class: &str,
) -> AppResult<Option<String>> {
    let suspended = platform
        .store
        .batch_exit_suspension(enterprise)
        .await?
        .is_some();
    let credit = crate::second_line_credit::operator_credit(platform, enterprise, class).await?;
    Ok(refusal(
        credit.class,
        suspended,
        first_overdue(platform, enterprise).await?,
    ))
}

/// The first month `enterprise` shipped in whose consolidation is past its due day (the pack's),
/// if any; a stored month that does not read fails closed.
async fn first_overdue(
    platform: &Platform,
    enterprise: &str,
) -> AppResult<Option<(BatchMonth, time::Date)>> {
    let today = platform.today();
    let due_day = platform
        .pack
        .version_on(today)
        .ok_or_else(|| AppError::Internal("no pack version in force today".into()))?
        .second_line
        .centralised_due_day;
    let months = platform
        .store
        .unconsolidated_months(enterprise)
        .await?
        .iter()
        .map(|m| BatchMonth::parse("batch_month", m))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::Store(StoreError::Corrupt(format!("batch month: {}", e.reason))))?;
    Ok(overdue(&months, today, due_day))
}

/// A shipment's assessed taxes, from its stored decision; a decision that does not read fails
/// closed.
fn assessed_taxes(id: &str, decision_json: &str) -> AppResult<TaxAmounts> {
    let corrupt = |what: &str| {
        AppError::Store(StoreError::Corrupt(format!(
            "declaration {id}: its decision's {what}"
        )))
    };
    let decision: serde_json::Value =
        serde_json::from_str(decision_json).map_err(|_| corrupt("text"))?;
    let amount = |tax: &str| {
        decision["totals"]["assessed"][tax]
            .as_str()
            .and_then(|t| Cny::parse(tax, t).ok())
            .ok_or_else(|| corrupt(tax))
    };
    Ok(TaxAmounts {
        tariff: amount("tariff")?,
        consumption_tax: amount("consumption_tax")?,
        vat: amount("vat")?,
    })
}

/// The enterprise files the month's consolidated declaration: the shipments' assessed taxes added
/// up exactly, the minimum-tax rule applied once, due by the pack's day of the next month. Filed
/// late, it suspends the enterprise's batch exit in the same transaction.
pub async fn file_consolidation(
    platform: &Platform,
    actor: &Actor,
    enterprise: CreditCode,
    month: BatchMonth,
    answer: impl FnOnce(&ConsolidationRow) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<ConsolidationRow> {
    actor.require(Permission::Declare)?;
    actor.require_enterprise(enterprise.as_str())?;
    let today = platform.today();
    if platform
        .store
        .consolidations(enterprise.as_str())
        .await?
        .iter()
        .any(|c| c.month == month.to_string())
    {
        return Err(AppError::Conflict(format!(
            "{month} is consolidated already"
        )));
    }
    let shipments = platform
        .store
        .batch_shipments(enterprise.as_str(), &month.to_string())
        .await?;
    let taxes = shipments
        .iter()
        .map(|s| assessed_taxes(&s.id, &s.decision_json))
        .collect::<AppResult<Vec<_>>>()?;
    let version = platform
        .pack
        .version_on(today)
        .ok_or_else(|| AppError::Internal("no pack version in force today".into()))?;
    let c = consolidate(version, month, today, &taxes)?;
    let now_ms = platform.now_ms();
    let row = ConsolidationRow {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise: enterprise.as_str().to_owned(),
        month: month.to_string(),
        filed_on: c.filed_on.to_string(),
        due_on: c.due_on.to_string(),
        late: c.late,
        shipments: i64::try_from(c.shipments).unwrap_or(i64::MAX),
        tariff_fen: c.payable.tariff.fen(),
        consumption_tax_fen: c.payable.consumption_tax.fen(),
        vat_fen: c.payable.vat.fen(),
        payable_total_fen: c.payable_total.fen(),
        pack_version: version.id.clone(),
        explanation_json: serde_json::to_string(&c.explanation)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        actor: actor.user_id.clone(),
        at_ms: now_ms,
    };
    let record = answer(&row)?;
    let committed = NewConsolidation {
        shipment_ids: shipments.iter().map(|s| s.id.clone()).collect(),
        suspend_because: c.late.then(|| {
            format!(
                "the consolidated declaration of {month} was filed on {}, after its due day {} (R2.5)",
                c.filed_on, c.due_on
            )
        }),
        idempotency: record,
        row,
    };
    platform.store.commit_consolidation(&committed).await?;
    Ok(committed.row)
}

/// An officer reinstates a suspended enterprise's batch exit on its application, once every month
/// it shipped in is consolidated.
pub async fn reinstate(
    platform: &Platform,
    actor: &Actor,
    enterprise: CreditCode,
    reason: &str,
    idempotency: Option<IdempotencyRecord>,
) -> AppResult<()> {
    actor.require(Permission::Examine)?;
    if reason.trim().is_empty() {
        return Err(freeport_core::FieldError::new(
            "reason",
            freeport_core::FieldErrorKind::Missing,
            "say why",
        )
        .into());
    }
    if let Some((month, due)) = first_overdue(platform, enterprise.as_str()).await? {
        return Err(AppError::InvalidTransition(format!(
            "the batches of {month} are still not consolidated (due {due})"
        )));
    }
    platform
        .store
        .reinstate_batch_exit(
            enterprise.as_str(),
            reason.trim(),
            &actor.user_id,
            platform.now_ms(),
            idempotency.as_ref(),
        )
        .await?;
    Ok(())
}

/// An enterprise's batch exit as it stands.
#[derive(Debug, Clone)]
pub struct Standing {
    pub suspension: Option<freeport_store::SuspensionRow>,
    pub unconsolidated: Vec<String>,
    pub consolidations: Vec<ConsolidationRow>,
}

/// `enterprise`'s batch exit: suspension, months not yet consolidated, consolidated declarations.
/// Customs, and the enterprise's own users.
pub async fn standing(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
) -> AppResult<Standing> {
    actor.require(Permission::ReadAccountBook)?;
    actor.require_enterprise(enterprise.as_str())?;
    let code = enterprise.as_str();
    Ok(Standing {
        suspension: platform.store.batch_exit_suspension(code).await?,
        unconsolidated: platform.store.unconsolidated_months(code).await?,
        consolidations: platform.store.consolidations(code).await?,
    })
}
