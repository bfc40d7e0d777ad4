//! Webhooks and the deliveries owed under them.
//!
//! Deliveries are written with the events they carry (see `owe_webhook`); a dispatcher claims due
//! ones, posts them, and records each attempt. Claiming moves `next_attempt_at_ms` forward by a
//! lease with a conditional update, so two dispatchers (two nodes) never post the same attempt,
//! and a dispatcher that dies mid-attempt leaves the delivery due again when the lease runs out.

use serde::Serialize;
use sqlx::any::AnyRow;

use crate::{IdempotencyRecord, Result, Store, append_audit, row_i64, row_opt_string, row_string};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub enterprise: String,
    pub url: String,
    pub secret: String,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub enterprise: String,
    pub event_id: i64,
    pub topic: String,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
}

/// A due delivery with where to send it and how to sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered {
        status: i64,
    },
    /// Failed; tried again at `retry_at_ms`, or given up when `None`.
    Failed {
        status: Option<i64>,
        error: String,
        retry_at_ms: Option<i64>,
    },
}

const DELIVERY_COLUMNS: &str = "d.id, d.enterprise, d.event_id, d.topic, d.payload, d.state, d.attempts, d.next_attempt_at_ms, d.last_status, d.last_error, d.created_at_ms, d.delivered_at_ms";

fn delivery_from(r: &AnyRow) -> Result<DeliveryRow> {
    use sqlx::Row;
    Ok(DeliveryRow {
        id: row_i64(r, "id")?,
        enterprise: row_string(r, "enterprise")?,
        event_id: row_i64(r, "event_id")?,
        topic: row_string(r, "topic")?,
        payload: row_string(r, "payload")?,
        state: row_string(r, "state")?,
        attempts: row_i64(r, "attempts")?,
        next_attempt_at_ms: row_i64(r, "next_attempt_at_ms")?,
        last_status: r.try_get::<Option<i64>, _>("last_status")?,
        last_error: row_opt_string(r, "last_error")?,
        created_at_ms: row_i64(r, "created_at_ms")?,
        delivered_at_ms: r.try_get::<Option<i64>, _>("delivered_at_ms")?,
    })
}

impl Store {
    /// Sets (or replaces, rotating the secret) an enterprise's webhook.
    pub async fn put_webhook(
        &self,
        w: &Webhook,
        actor: &str,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, w.updated_at_ms).await?;
        sqlx::query("INSERT INTO webhooks (enterprise, url, secret, updated_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (enterprise) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at_ms = excluded.updated_at_ms")
            .bind(&w.enterprise)
            .bind(&w.url)
            .bind(&w.secret)
            .bind(w.updated_at_ms)
            .execute(&mut **tx)
            .await?;
        // The audit records where events go, never the secret.
        let payload = serde_json::json!({ "url": w.url }).to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            w.updated_at_ms,
            actor,
            "webhook.set",
            &w.enterprise,
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an enterprise's webhook; deliveries still pending fail, as there is nowhere to send
    /// them.
    pub async fn delete_webhook(
        &self,
        enterprise: &str,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<bool> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        let removed = sqlx::query("DELETE FROM webhooks WHERE enterprise = $1")
            .bind(enterprise)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE webhook_deliveries SET state = 'failed', last_error = 'the webhook was removed' WHERE enterprise = $1 AND state = 'pending'")
            .bind(enterprise)
            .execute(&mut **tx)
            .await?;
        if removed > 0 {
            append_audit(
                &mut tx,
                &self.audit_key,
                now_ms,
                actor,
                "webhook.removed",
                enterprise,
                "{}",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(removed > 0)
    }

    pub async fn webhook(&self, enterprise: &str) -> Result<Option<Webhook>> {
        let row = sqlx::query(
            "SELECT enterprise, url, secret, updated_at_ms FROM webhooks WHERE enterprise = $1",
        )
        .bind(enterprise)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Webhook {
                enterprise: row_string(&r, "enterprise")?,
                url: row_string(&r, "url")?,
                secret: row_string(&r, "secret")?,
                updated_at_ms: row_i64(&r, "updated_at_ms")?,
            })
        })
        .transpose()
    }

    /// An enterprise's deliveries, newest first after `before` (0: from the newest).
    pub async fn deliveries(
        &self,
        enterprise: &str,
        before: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>> {
        let before = if before <= 0 { i64::MAX } else { before };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.enterprise = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3"
        )))
        .bind(enterprise)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from).collect()
    }

    /// Claims up to `limit` deliveries due at `now_ms`, leasing each until `now_ms + lease_ms`.
    pub async fn claim_due_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<DueDelivery>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS}, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.enterprise = d.enterprise WHERE d.state = 'pending' AND d.next_attempt_at_ms <= $1 ORDER BY d.next_attempt_at_ms, d.id LIMIT $2"
        )))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for r in &rows {
            let delivery = delivery_from(r)?;
            let _gate = self.write_guard().await;
            // Conditional on the time the row was read with: whoever moves it first owns it.
            let won = sqlx::query("UPDATE webhook_deliveries SET next_attempt_at_ms = $1 WHERE id = $2 AND state = 'pending' AND next_attempt_at_ms = $3")
                .bind(now_ms + lease_ms)
                .bind(delivery.id)
                .bind(delivery.next_attempt_at_ms)
                .execute(&self.pool)
                .await?
                .rows_affected()
                == 1;
            if won {
                claimed.push(DueDelivery {
                    delivery,
                    url: row_string(r, "url")?,
                    secret: row_string(r, "secret")?,
                });
            }
        }
        Ok(claimed)
    }

    /// Records one attempt of a claimed delivery.
    pub async fn record_attempt(
        &self,
        delivery_id: i64,
        outcome: &AttemptOutcome,
        now_ms: i64,
    ) -> Result<()> {
        let _gate = self.write_guard().await;
        match outcome {
            AttemptOutcome::Delivered { status } => {
                sqlx::query("UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $1, last_error = NULL, delivered_at_ms = $2 WHERE id = $3")
                    .bind(*status)
                    .bind(now_ms)
                    .bind(delivery_id)
                    .execute(&self.pool)
                    .await?;
            }
            AttemptOutcome::Failed {
                status,
                error,
                retry_at_ms,
            } => {
                let (state, next) = match retry_at_ms {
                    Some(at) => ("pending", *at),
                    None => ("failed", now_ms),
                };
                sqlx::query("UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, last_status = $2, last_error = $3, next_attempt_at_ms = $4 WHERE id = $5")
                    .bind(state)
                    .bind(*status)
                    .bind(error)
                    .bind(next)
                    .bind(delivery_id)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }
}
