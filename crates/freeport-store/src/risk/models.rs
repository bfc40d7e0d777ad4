//! Models trained on the platform's inspection results: the active one and its history.

use serde::Serialize;
use sqlx::any::AnyRow;

use crate::records::outbox;

use crate::{IdempotencyRecord, Result, Store, append_audit, row_i64, row_string};

/// A model trained on the platform's inspection results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskModelRow {
    pub sha256: String,
    pub state: String,
    pub trained_by: String,
    pub from_day: String,
    pub to_day: String,
    pub cases: i64,
    pub violations: i64,
    pub metrics_json: String,
    #[serde(skip)]
    pub model_text: String,
    pub trained_at_ms: i64,
}

const MODEL_COLUMNS: &str = "sha256, state, trained_by, from_day, to_day, cases, violations, metrics_json, model_text, trained_at_ms";

fn model_from(r: &AnyRow) -> Result<RiskModelRow> {
    Ok(RiskModelRow {
        sha256: row_string(r, "sha256")?,
        state: row_string(r, "state")?,
        trained_by: row_string(r, "trained_by")?,
        from_day: row_string(r, "from_day")?,
        to_day: row_string(r, "to_day")?,
        cases: row_i64(r, "cases")?,
        violations: row_i64(r, "violations")?,
        metrics_json: row_string(r, "metrics_json")?,
        model_text: row_string(r, "model_text")?,
        trained_at_ms: row_i64(r, "trained_at_ms")?,
    })
}

impl Store {
    /// Keeps a trained model as the active one; the model it replaces is retired in the same
    /// transaction. Training the same model again (same data, same seed) only reactivates it.
    pub async fn activate_trained_model(
        &self,
        m: &RiskModelRow,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        sqlx::query("UPDATE risk_models SET state = 'retired' WHERE state = 'active'")
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO risk_models (sha256, state, trained_by, from_day, to_day, cases, violations, metrics_json, model_text, trained_at_ms) VALUES ($1, 'active', $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (sha256) DO UPDATE SET state = 'active', trained_by = excluded.trained_by, trained_at_ms = excluded.trained_at_ms")
            .bind(&m.sha256)
            .bind(&m.trained_by)
            .bind(&m.from_day)
            .bind(&m.to_day)
            .bind(m.cases)
            .bind(m.violations)
            .bind(&m.metrics_json)
            .bind(&m.model_text)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        let payload = serde_json::json!({ "sha256": m.sha256, "from": m.from_day, "to": m.to_day, "cases": m.cases, "violations": m.violations }).to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            &m.trained_by,
            "risk_model.activate",
            &m.sha256,
            &payload,
        )
        .await?;
        outbox(&mut tx, "risk_model.activated", &payload, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn active_model(&self) -> Result<Option<RiskModelRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MODEL_COLUMNS} FROM risk_models WHERE state = 'active'"
        )))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(model_from).transpose()
    }

    /// Every model, newest first.
    pub async fn risk_models(&self) -> Result<Vec<RiskModelRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MODEL_COLUMNS} FROM risk_models ORDER BY trained_at_ms DESC, sha256"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(model_from).collect()
    }
}
