//! What every write shares: idempotency records and the outbox, and the exchange rates the
//! snapshot reads.

use serde::Serialize;

use crate::steps::{Step, statement};
use crate::{Result, Store, append_audit, row_i64, row_string};

/// A stored outcome of a state-changing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResult {
    pub request_sha256: String,
    pub status: u16,
    pub response: String,
}

#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub user_id: String,
    pub key: String,
    pub request_sha256: String,
    pub status: u16,
    pub response: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub topic: String,
    pub payload: String,
    pub created_at_ms: i64,
}

/// Writes an outbox event; returns its id.
pub(crate) async fn outbox(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    topic: &str,
    payload: &str,
    now_ms: i64,
) -> Result<i64> {
    let row = crate::steps::query(&statement!(
        crate::steps::OUTBOX_INSERT,
        topic,
        payload,
        now_ms
    ))
    .fetch_one(&mut **tx)
    .await?;
    row_i64(&row, "id")
}

impl Store {
    // ----- idempotency -------------------------------------------------------------------------

    pub async fn idempotent_result(
        &self,
        user_id: &str,
        key: &str,
    ) -> Result<Option<IdempotentResult>> {
        let s = statement!(
            "SELECT request_sha256, status, response FROM idempotency WHERE user_id = $1 AND key = $2",
            user_id,
            key
        );
        self.fetch_optional(&s, |r| {
            Ok(IdempotentResult {
                request_sha256: row_string(r, "request_sha256")?,
                status: u16::try_from(row_i64(r, "status")?).unwrap_or(500),
                response: row_string(r, "response")?,
            })
        })
        .await
    }

    /// Stores a result that changed nothing (a refused request), so a retry gets the same answer.
    pub async fn put_idempotent_result(
        &self,
        record: &IdempotencyRecord,
        now_ms: i64,
    ) -> Result<()> {
        let tx = self.begin_write(Some(record), now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- exchange rates ----------------------------------------------------------------------

    pub async fn put_exchange_rate(
        &self,
        currency: &str,
        day: &str,
        cny_per_unit: &str,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        sqlx::query("INSERT INTO exchange_rates (currency, day, cny_per_unit, set_by, at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (currency, day) DO UPDATE SET cny_per_unit = excluded.cny_per_unit, set_by = excluded.set_by, at_ms = excluded.at_ms")
            .bind(currency)
            .bind(day)
            .bind(cny_per_unit)
            .bind(actor)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        let payload =
            serde_json::json!({ "currency": currency, "day": day, "cny_per_unit": cny_per_unit })
                .to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            actor,
            "exchange_rate.put",
            &format!("{currency}/{day}"),
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn exchange_rate(&self, currency: &str, day: &str) -> Result<Option<String>> {
        let s = statement!(
            "SELECT cny_per_unit FROM exchange_rates WHERE currency = $1 AND day = $2",
            currency,
            day
        );
        self.fetch_optional(&s, |r| row_string(r, "cny_per_unit"))
            .await
    }

    // ----- outbox ------------------------------------------------------------------------------

    pub async fn unpublished_events(&self, after_id: i64, limit: i64) -> Result<Vec<OutboxRow>> {
        let s = statement!(
            "SELECT id, topic, payload, created_at_ms FROM outbox WHERE published_at_ms IS NULL AND id > $1 ORDER BY id LIMIT $2",
            after_id,
            limit
        );
        self.fetch_all(&s, |r| {
            Ok(OutboxRow {
                id: row_i64(r, "id")?,
                topic: row_string(r, "topic")?,
                payload: row_string(r, "payload")?,
                created_at_ms: row_i64(r, "created_at_ms")?,
            })
        })
        .await
    }

    pub async fn mark_published(&self, id: i64, now_ms: i64) -> Result<()> {
        let mark = statement!(
            "UPDATE outbox SET published_at_ms = $1 WHERE id = $2",
            now_ms,
            id
        );
        self.write_steps(None, now_ms, vec![Step::Run(mark)]).await
    }
}
