//! Batch exit (R2.5): the month's shipments of an enterprise, its consolidated declarations, and
//! the suspension of the facility.

use serde::Serialize;

use crate::records::IdempotencyRecord;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, StoreError, row_i64, row_string};

/// A consolidated declaration to commit, with the suspension a late one brings.
#[derive(Debug, Clone)]
pub struct NewConsolidation {
    pub row: ConsolidationRow,
    /// The shipments it covers, as read: a shipment added meanwhile makes the commit a conflict.
    pub shipment_ids: Vec<String>,
    pub suspend_because: Option<String>,
    pub idempotency: Option<IdempotencyRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsolidationRow {
    pub id: String,
    pub enterprise: String,
    pub month: String,
    pub filed_on: String,
    pub due_on: String,
    pub late: bool,
    pub shipments: i64,
    pub tariff_fen: i64,
    pub consumption_tax_fen: i64,
    pub vat_fen: i64,
    pub payable_total_fen: i64,
    pub pack_version: String,
    pub explanation_json: String,
    pub actor: String,
    pub at_ms: i64,
}

/// A batch shipment of a month, with its decision (whose totals hold its assessed taxes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchShipment {
    pub id: String,
    pub decision_json: String,
}

/// A suspension of an enterprise's batch exit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspensionRow {
    pub reason: String,
    pub actor: String,
    pub since_ms: i64,
}

fn consolidation_steps(c: &NewConsolidation) -> Vec<Step> {
    let r = &c.row;
    let mut steps = vec![
        Step::RequireOne(
            statement!(
                "INSERT INTO consolidations (id, enterprise, month, filed_on, due_on, late, shipments, tariff_fen, consumption_tax_fen, vat_fen, payable_total_fen, pack_version, explanation_json, actor, at_ms) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 WHERE (SELECT COUNT(*) FROM declarations WHERE enterprise = $2 AND batch_month = $3 AND outcome = 'accepted' AND status <> 'cancelled') = $7 ON CONFLICT (enterprise, month) DO NOTHING",
                &r.id,
                &r.enterprise,
                &r.month,
                &r.filed_on,
                &r.due_on,
                i64::from(r.late),
                r.shipments,
                r.tariff_fen,
                r.consumption_tax_fen,
                r.vat_fen,
                r.payable_total_fen,
                &r.pack_version,
                &r.explanation_json,
                &r.actor,
                r.at_ms
            ),
            StoreError::Conflict(format!(
                "{} is consolidated already, or its batch exits changed while it was",
                r.month
            )),
        ),
        Step::Audit(AuditEntry {
            at_ms: r.at_ms,
            actor: r.actor.clone(),
            action: "batch_exit.consolidate".to_owned(),
            subject: r.enterprise.clone(),
            payload: serde_json::json!({
                "month": r.month, "filed_on": r.filed_on, "due_on": r.due_on, "late": r.late,
                "shipments": c.shipment_ids, "payable_total_fen": r.payable_total_fen,
            })
            .to_string(),
        }),
        Step::Event {
            topic: "batch_exit.consolidated".to_owned(),
            payload: serde_json::json!({ "enterprise": r.enterprise, "month": r.month, "late": r.late, "payable_total_fen": r.payable_total_fen }).to_string(),
            webhook_of: None,
            now_ms: r.at_ms,
        },
    ];
    if let Some(reason) = &c.suspend_because {
        steps.extend(suspension_steps(&r.enterprise, reason, &r.actor, r.at_ms));
    }
    steps
}

fn suspension_steps(enterprise: &str, reason: &str, actor: &str, now_ms: i64) -> Vec<Step> {
    vec![
        Step::Run(statement!(
            "INSERT INTO batch_exit_suspensions (enterprise, reason, actor, since_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (enterprise) DO NOTHING",
            enterprise,
            reason,
            actor,
            now_ms
        )),
        Step::Audit(AuditEntry {
            at_ms: now_ms,
            actor: actor.to_owned(),
            action: "batch_exit.suspend".to_owned(),
            subject: enterprise.to_owned(),
            payload: serde_json::json!({ "reason": reason }).to_string(),
        }),
    ]
}

impl Store {
    /// The accepted, uncancelled batch shipments of `enterprise` in `month`, oldest first.
    pub async fn batch_shipments(
        &self,
        enterprise: &str,
        month: &str,
    ) -> Result<Vec<BatchShipment>> {
        let rows = sqlx::query("SELECT id, decision_json FROM declarations WHERE enterprise = $1 AND batch_month = $2 AND outcome = 'accepted' AND status <> 'cancelled' ORDER BY created_at_ms, id")
            .bind(enterprise)
            .bind(month)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(BatchShipment {
                    id: row_string(r, "id")?,
                    decision_json: row_string(r, "decision_json")?,
                })
            })
            .collect()
    }

    /// The months in which `enterprise` shipped in batches and has not consolidated.
    pub async fn unconsolidated_months(&self, enterprise: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT batch_month FROM declarations d WHERE d.enterprise = $1 AND d.batch_month IS NOT NULL AND d.outcome = 'accepted' AND d.status <> 'cancelled' AND NOT EXISTS (SELECT 1 FROM consolidations c WHERE c.enterprise = d.enterprise AND c.month = d.batch_month) ORDER BY batch_month")
            .bind(enterprise)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| row_string(r, "batch_month")).collect()
    }

    /// The consolidated declarations of `enterprise`, by month.
    pub async fn consolidations(&self, enterprise: &str) -> Result<Vec<ConsolidationRow>> {
        let rows = sqlx::query("SELECT id, enterprise, month, filed_on, due_on, late, shipments, tariff_fen, consumption_tax_fen, vat_fen, payable_total_fen, pack_version, explanation_json, actor, at_ms FROM consolidations WHERE enterprise = $1 ORDER BY month")
            .bind(enterprise)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ConsolidationRow {
                    id: row_string(r, "id")?,
                    enterprise: row_string(r, "enterprise")?,
                    month: row_string(r, "month")?,
                    filed_on: row_string(r, "filed_on")?,
                    due_on: row_string(r, "due_on")?,
                    late: row_i64(r, "late")? == 1,
                    shipments: row_i64(r, "shipments")?,
                    tariff_fen: row_i64(r, "tariff_fen")?,
                    consumption_tax_fen: row_i64(r, "consumption_tax_fen")?,
                    vat_fen: row_i64(r, "vat_fen")?,
                    payable_total_fen: row_i64(r, "payable_total_fen")?,
                    pack_version: row_string(r, "pack_version")?,
                    explanation_json: row_string(r, "explanation_json")?,
                    actor: row_string(r, "actor")?,
                    at_ms: row_i64(r, "at_ms")?,
                })
            })
            .collect()
    }

    /// `enterprise`'s batch-exit suspension, if one stands.
    pub async fn batch_exit_suspension(&self, enterprise: &str) -> Result<Option<SuspensionRow>> {
        let row = sqlx::query(
            "SELECT reason, actor, since_ms FROM batch_exit_suspensions WHERE enterprise = $1",
        )
        .bind(enterprise)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|r| {
                Ok(SuspensionRow {
                    reason: row_string(r, "reason")?,
                    actor: row_string(r, "actor")?,
                    since_ms: row_i64(r, "since_ms")?,
                })
            })
            .transpose()
    }

    /// Commits a consolidated declaration (and the suspension a late one brings), audited.
    pub async fn commit_consolidation(&self, c: &NewConsolidation) -> Result<()> {
        self.write_steps(c.idempotency.as_ref(), c.row.at_ms, consolidation_steps(c))
            .await
    }

    /// Lifts a suspension on application, audited; `Conflict` when none stands.
    pub async fn reinstate_batch_exit(
        &self,
        enterprise: &str,
        reason: &str,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let steps = vec![
            Step::RequireOne(
                statement!(
                    "DELETE FROM batch_exit_suspensions WHERE enterprise = $1",
                    enterprise
                ),
                StoreError::Conflict(format!("batch exit of {enterprise} is not suspended")),
            ),
            Step::Audit(AuditEntry {
                at_ms: now_ms,
                actor: actor.to_owned(),
                action: "batch_exit.reinstate".to_owned(),
                subject: enterprise.to_owned(),
                payload: serde_json::json!({ "reason": reason }).to_string(),
            }),
        ];
        self.write_steps(idempotency, now_ms, steps).await
    }
}
