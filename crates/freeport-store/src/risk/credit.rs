//! Credit records (R6.1), inspection results, and the assessed history that back-tests, rule
//! performance and training read.

use serde::Serialize;
use sqlx::Row;

use crate::records::outbox;
use freeport_risk::selectivity::RiskRecord;

use crate::steps::statement;
use crate::{
    IdempotencyRecord, Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string,
};

/// A credit record to keep (R6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCreditRecord {
    pub id: String,
    pub enterprise: String,
    pub on_day: String,
    pub reference: String,
    /// `violation`, `smuggling`, `tax_due`, `tax_paid`, `inspection_finding` or `repair`.
    pub kind: String,
    pub amount_fen: Option<i64>,
    pub due_on: Option<String>,
    pub note: String,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditRecordRow {
    pub id: String,
    pub on_day: String,
    pub reference: String,
    pub kind: String,
    pub amount_fen: Option<i64>,
    pub due_on: Option<String>,
    pub note: String,
    pub actor: String,
    pub at_ms: i64,
}

/// The result of an inspection, recorded with the declaration's move out of inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInspection {
    pub enterprise: String,
    pub inspected_on: String,
    pub result: String,
    pub revenue_found_fen: i64,
    pub findings_json: String,
    /// The finding's credit record, for a violation.
    pub credit_record: Option<NewCreditRecord>,
}

/// A declaration with a risk record, and its inspection result if it was inspected.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessedDeclaration {
    pub id: String,
    pub enterprise: String,
    pub flow: String,
    pub declared_on: String,
    pub lane: Option<String>,
    pub risk: RiskRecord,
    pub request_json: String,
    pub result: Option<String>,
    pub revenue_found_fen: Option<i64>,
}

pub(crate) async fn insert_credit_record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_key: &[u8],
    r: &NewCreditRecord,
    now_ms: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO credit_records (id, enterprise, on_day, reference, kind, amount_fen, due_on, note, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(&r.id)
        .bind(&r.enterprise)
        .bind(&r.on_day)
        .bind(&r.reference)
        .bind(&r.kind)
        .bind(r.amount_fen)
        .bind(&r.due_on)
        .bind(&r.note)
        .bind(&r.actor)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    let payload = serde_json::json!({
        "id": r.id, "enterprise": r.enterprise, "on": r.on_day, "reference": r.reference,
        "kind": r.kind, "amount_fen": r.amount_fen, "due_on": r.due_on,
    })
    .to_string();
    append_audit(
        tx,
        audit_key,
        now_ms,
        &r.actor,
        "credit.record",
        &r.enterprise,
        &payload,
    )
    .await?;
    outbox(tx, "credit.recorded", &payload, now_ms).await?;
    Ok(())
}

pub(crate) async fn insert_inspection(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_key: &[u8],
    declaration_id: &str,
    i: &NewInspection,
    officer: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO inspection_results (declaration_id, enterprise, inspected_on, result, revenue_found_fen, findings, officer, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(declaration_id)
        .bind(&i.enterprise)
        .bind(&i.inspected_on)
        .bind(&i.result)
        .bind(i.revenue_found_fen)
        .bind(&i.findings_json)
        .bind(officer)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    if let Some(r) = &i.credit_record {
        insert_credit_record(tx, audit_key, r, now_ms).await?;
    }
    Ok(())
}

impl Store {
    // ----- credit ------------------------------------------------------------------------------

    /// Keeps a credit record with its audit entry and event.
    pub async fn record_credit(
        &self,
        r: &NewCreditRecord,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        insert_credit_record(&mut tx, &self.audit_key, r, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An enterprise's credit records, oldest first.
    pub async fn credit_records(&self, enterprise: &str) -> Result<Vec<CreditRecordRow>> {
        let s = statement!(
            "SELECT id, on_day, reference, kind, amount_fen, due_on, note, actor, at_ms FROM credit_records WHERE enterprise = $1 ORDER BY on_day, at_ms, id",
            enterprise
        );
        self.fetch_all(&s, |r| {
            Ok(CreditRecordRow {
                id: row_string(r, "id")?,
                on_day: row_string(r, "on_day")?,
                reference: row_string(r, "reference")?,
                kind: row_string(r, "kind")?,
                amount_fen: r.opt_int("amount_fen")?,
                due_on: row_opt_string(r, "due_on")?,
                note: row_string(r, "note")?,
                actor: row_string(r, "actor")?,
                at_ms: row_i64(r, "at_ms")?,
            })
        })
        .await
    }

    /// Declarations an enterprise filed with a declaration day in `year` (the base of the
    /// violation share).
    pub async fn declarations_in_year(&self, enterprise: &str, year: i32) -> Result<i64> {
        let s = statement!(
            "SELECT COUNT(*) AS n FROM declarations WHERE enterprise = $1 AND declared_on >= $2 AND declared_on <= $3",
            enterprise,
            format!("{year:04}-01-01").as_str(),
            format!("{year:04}-12-31").as_str()
        );
        self.fetch_one(&s, |r| row_i64(r, "n")).await
    }

    // ----- inspections and history -------------------------------------------------------------

    /// Declarations with a risk record declared between `from` and `to` (inclusive), with their
    /// inspection results, oldest first, at most `limit`.
    pub async fn assessed_declarations(
        &self,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<AssessedDeclaration>> {
        let rows = sqlx::query("SELECT d.id, d.enterprise, d.flow, d.declared_on, d.lane, d.risk_json, d.request_json, i.result, i.revenue_found_fen FROM declarations d LEFT JOIN inspection_results i ON i.declaration_id = d.id WHERE d.risk_json IS NOT NULL AND d.declared_on >= $1 AND d.declared_on <= $2 ORDER BY d.declared_on, d.id LIMIT $3")
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AssessedDeclaration {
                    id: row_string(r, "id")?,
                    enterprise: row_string(r, "enterprise")?,
                    flow: row_string(r, "flow")?,
                    declared_on: row_string(r, "declared_on")?,
                    lane: row_opt_string(r, "lane")?,
                    risk: crate::risk_record::read(r, "risk_json")?.ok_or_else(|| {
                        StoreError::Corrupt("a risk record the query required is missing".into())
                    })?,
                    request_json: row_string(r, "request_json")?,
                    result: row_opt_string(r, "result")?,
                    revenue_found_fen: r.try_get::<Option<i64>, _>("revenue_found_fen")?,
                })
            })
            .collect()
    }
}
