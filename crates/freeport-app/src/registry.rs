//! The registry: enterprises as customs registers them, and the customs exchange rates decisions
//! convert at. Each write is kept with its audit entry and the answer to replay.

use freeport_core::currency::Currency;
use freeport_core::registry::Registration;
use freeport_store::{Enterprise, IdempotencyRecord};
use rust_decimal::Decimal;
use time::Date;

use crate::{Actor, AppResult, Platform};

/// Registers an enterprise, or updates its registration.
pub async fn register(
    platform: &Platform,
    actor: &Actor,
    r: Registration,
    answer: impl FnOnce(&Enterprise) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Enterprise> {
    actor.require(crate::Permission::Register)?;
    let e = Enterprise {
        credit_code: r.code.as_str().to_owned(),
        name: r.name,
        beneficiary: r.beneficiary,
        encouraged_industry_filed: r.encouraged_industry_filed,
        encouraged_revenue_share: r.encouraged_revenue_share.map(|d| d.to_string()),
        credit_class: r.credit_class.as_str().to_owned(),
    };
    let idempotency = answer(&e)?;
    platform
        .store
        .put_enterprise(&e, &actor.user_id, platform.now_ms(), idempotency.as_ref())
        .await?;
    Ok(e)
}

/// Keeps the customs exchange rate of `currency` on `day` (CNY per unit).
pub async fn set_exchange_rate(
    platform: &Platform,
    actor: &Actor,
    currency: Currency,
    day: Date,
    cny_per_unit: Decimal,
    idempotency: Option<IdempotencyRecord>,
) -> AppResult<()> {
    actor.require(crate::Permission::Register)?;
    platform
        .store
        .put_exchange_rate(
            currency.as_str(),
            &day.to_string(),
            &cny_per_unit.to_string(),
            &actor.user_id,
            platform.now_ms(),
            idempotency.as_ref(),
        )
        .await?;
    Ok(())
}

/// One registry entry: customs, and the enterprise's own users.
pub async fn enterprise(
    platform: &Platform,
    actor: &Actor,
    code: &freeport_core::identity::CreditCode,
) -> AppResult<Enterprise> {
    actor.require_enterprise(code.as_str())?;
    platform
        .store
        .enterprise(code.as_str())
        .await?
        .ok_or_else(|| crate::AppError::NotFound("no such resource".into()))
}

/// A page of the registry in credit-code order, after `after`: customs only.
pub async fn enterprises(
    platform: &Platform,
    actor: &Actor,
    after: &str,
    limit: i64,
) -> AppResult<Vec<Enterprise>> {
    actor.require(crate::Permission::ReadRegistry)?;
    Ok(platform.store.list_enterprises(after, limit).await?)
}

/// The audit chain verified end to end: administrators only.
pub async fn verify_audit(
    platform: &Platform,
    actor: &Actor,
) -> AppResult<freeport_store::AuditReport> {
    actor.require(crate::Permission::VerifyAudit)?;
    Ok(platform.store.verify_audit().await?)
}
