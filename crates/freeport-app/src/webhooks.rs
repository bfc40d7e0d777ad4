//! Webhook subscriptions: where an enterprise's declaration events are pushed, and the secret
//! their deliveries are signed with. Each change is kept with its audit entry and the answer to
//! replay.

use freeport_core::identity::CreditCode;
use freeport_store::{IdempotencyRecord, Webhook};

use crate::sessions::new_token;
use crate::{Actor, AppError, AppResult, Platform};

/// An enterprise whose webhook the actor may set: registered, and the actor's own or one it sees.
/// Only [`subscriber`] makes one, so [`set`] cannot be reached without the check.
#[derive(Debug, Clone)]
pub struct Subscriber {
    enterprise: String,
}

fn absent() -> AppError {
    AppError::NotFound("no such resource".into())
}

/// The enterprise as a subscriber, checked before the request's body is read: a foreign or
/// unregistered enterprise is absent whatever was sent, so the answer tells nothing of it.
pub async fn subscriber(
    platform: &Platform,
    actor: &Actor,
    enterprise: CreditCode,
) -> AppResult<Subscriber> {
    if !actor.may_see(enterprise.as_str()) {
        return Err(absent());
    }
    if platform
        .store
        .enterprise(enterprise.as_str())
        .await?
        .is_none()
    {
        return Err(absent());
    }
    Ok(Subscriber {
        enterprise: enterprise.as_str().to_owned(),
    })
}

/// Sets the subscriber's webhook to `url` with a new signing secret; setting it again rotates the
/// secret.
pub async fn set(
    platform: &Platform,
    actor: &Actor,
    subscriber: Subscriber,
    url: String,
    answer: impl FnOnce(&Webhook) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Webhook> {
    actor.require(crate::Permission::SetWebhook)?;
    let webhook = Webhook {
        enterprise: subscriber.enterprise,
        url,
        secret: new_token()?,
        updated_at_ms: platform.now_ms(),
    };
    let idempotency = answer(&webhook)?;
    platform
        .store
        .put_webhook(&webhook, &actor.user_id, idempotency.as_ref())
        .await?;
    Ok(webhook)
}

/// Removes `enterprise`'s webhook, if it has one; deliveries still pending are marked failed. The
/// answer is whether there was one.
pub async fn remove(
    platform: &Platform,
    actor: &Actor,
    enterprise: CreditCode,
    answer: impl FnOnce(bool) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<bool> {
    actor.require(crate::Permission::SetWebhook)?;
    if !actor.may_see(enterprise.as_str()) {
        return Err(absent());
    }
    // Whether anything was removed is known only inside the transaction; the stored answer says
    // what this request did.
    let existed = platform.store.webhook(enterprise.as_str()).await?.is_some();
    let idempotency = answer(existed)?;
    platform
        .store
        .delete_webhook(
            enterprise.as_str(),
            &actor.user_id,
            platform.now_ms(),
            idempotency.as_ref(),
        )
        .await?;
    Ok(existed)
}

/// `enterprise`'s webhook (its secret is never read back).
pub async fn webhook(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
) -> AppResult<Webhook> {
    actor.require(crate::Permission::ReadWebhook)?;
    actor.require_enterprise(enterprise.as_str())?;
    platform
        .store
        .webhook(enterprise.as_str())
        .await?
        .ok_or_else(|| AppError::NotFound("no webhook is set".into()))
}

/// A page of `enterprise`'s webhook deliveries, newest first, before delivery id `after`.
pub async fn deliveries(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
    after: i64,
    limit: i64,
) -> AppResult<Vec<freeport_store::DeliveryRow>> {
    actor.require(crate::Permission::ReadWebhook)?;
    actor.require_enterprise(enterprise.as_str())?;
    Ok(platform
        .store
        .deliveries(enterprise.as_str(), after, limit)
        .await?)
}
