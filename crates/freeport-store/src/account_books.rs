//! Account books: postings and the balances they move, kept in thousandths of the unit. A
//! posting and its balance change are one step pair, written in one lock order so that two
//! concurrent declarations touching the same rows never deadlock.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::records::{IdempotencyRecord, outbox};
use crate::steps::{Step, statement};
use crate::{Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string};

/// Quantities in account books are kept in thousandths of the unit (three decimals), as integers.
pub const MILLI: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostingRow {
    pub id: i64,
    pub enterprise: String,
    pub hs_code: String,
    pub unit: String,
    pub quantity_milli: i64,
    pub value_fen: i64,
    pub movement: String,
    pub declaration_id: Option<String>,
    pub line: Option<i64>,
    pub note: String,
    pub at_ms: i64,
}

fn posting_from(r: &AnyRow) -> Result<PostingRow> {
    Ok(PostingRow {
        id: row_i64(r, "id")?,
        enterprise: row_string(r, "enterprise")?,
        hs_code: row_string(r, "hs_code")?,
        unit: row_string(r, "unit")?,
        quantity_milli: row_i64(r, "quantity_milli")?,
        value_fen: row_i64(r, "value_fen")?,
        movement: row_string(r, "movement")?,
        declaration_id: row_opt_string(r, "declaration_id")?,
        line: r.try_get::<Option<i64>, _>("line")?,
        note: row_string(r, "note")?,
        at_ms: row_i64(r, "at_ms")?,
    })
}

/// A posting to write: the store computes nothing, it applies what the decision says.
#[derive(Debug, Clone)]
pub struct NewPosting {
    pub enterprise: String,
    pub hs_code: String,
    pub unit: String,
    pub quantity_milli: i64,
    pub value_fen: i64,
    pub movement: String,
    pub line: Option<i64>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub hs_code: String,
    pub unit: String,
    pub quantity_milli: i64,
}

pub(crate) async fn apply_posting(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    p: &NewPosting,
    declaration_id: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    crate::steps::run_unaudited(tx, posting_steps(p, declaration_id, now_ms)).await
}

/// A posting and its balance change.
pub(crate) fn posting_steps(
    p: &NewPosting,
    declaration_id: Option<&str>,
    now_ms: i64,
) -> Vec<Step> {
    let posting = statement!(
        "INSERT INTO postings (enterprise, hs_code, unit, quantity_milli, value_fen, movement, declaration_id, line, note, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &p.enterprise,
        &p.hs_code,
        &p.unit,
        p.quantity_milli,
        p.value_fen,
        &p.movement,
        declaration_id,
        p.line,
        &p.note,
        now_ms
    );
    let balance = if p.quantity_milli >= 0 {
        // Checked: a balance never passes what a BIGINT holds (PostgreSQL would fail, SQLite turn it
        // into a float); the inflow is refused instead.
        Step::RequireOne(
            statement!(
                "INSERT INTO balances (enterprise, hs_code, unit, quantity_milli) VALUES ($1, $2, $3, $4) ON CONFLICT (enterprise, hs_code, unit) DO UPDATE SET quantity_milli = balances.quantity_milli + excluded.quantity_milli WHERE balances.quantity_milli <= 9223372036854775807 - excluded.quantity_milli",
                &p.enterprise,
                &p.hs_code,
                &p.unit,
                p.quantity_milli
            ),
            StoreError::BalanceCeiling {
                enterprise: p.enterprise.clone(),
                hs_code: p.hs_code.clone(),
                unit: p.unit.clone(),
            },
        )
    } else {
        // Conditional: takes out only what the book holds (the paired assertion to the core's check).
        Step::RequireOne(
            statement!(
                "UPDATE balances SET quantity_milli = quantity_milli + $1 WHERE enterprise = $2 AND hs_code = $3 AND unit = $4 AND quantity_milli + $1 >= 0",
                p.quantity_milli,
                &p.enterprise,
                &p.hs_code,
                &p.unit
            ),
            StoreError::InsufficientBalance {
                enterprise: p.enterprise.clone(),
                hs_code: p.hs_code.clone(),
                unit: p.unit.clone(),
            },
        )
    };
    vec![Step::Run(posting), balance]
}

/// Postings in one canonical order of their balance rows (and, within a row, inflows first).
/// Every transaction then locks balance rows in the same order, so two concurrent declarations
/// touching the same rows can wait for each other but never deadlock.
pub(crate) fn in_lock_order(postings: &[NewPosting]) -> Vec<&NewPosting> {
    let mut ordered: Vec<&NewPosting> = postings.iter().collect();
    ordered.sort_by(|a, b| {
        (
            &a.enterprise,
            &a.hs_code,
            &a.unit,
            std::cmp::Reverse(a.quantity_milli),
        )
            .cmp(&(
                &b.enterprise,
                &b.hs_code,
                &b.unit,
                std::cmp::Reverse(b.quantity_milli),
            ))
    });
    ordered
}

impl Store {
    // ----- account books -----------------------------------------------------------------------

    pub async fn balances(&self, enterprise: &str) -> Result<Vec<Balance>> {
        let s = statement!(
            "SELECT hs_code, unit, quantity_milli FROM balances WHERE enterprise = $1 ORDER BY hs_code, unit",
            enterprise
        );
        self.fetch_all(&s, |r| {
            Ok(Balance {
                hs_code: row_string(r, "hs_code")?,
                unit: row_string(r, "unit")?,
                quantity_milli: row_i64(r, "quantity_milli")?,
            })
        })
        .await
    }

    /// A page of an enterprise's postings in order after posting `after_id`.
    pub async fn postings(
        &self,
        enterprise: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<PostingRow>> {
        let rows = sqlx::query("SELECT id, enterprise, hs_code, unit, quantity_milli, value_fen, movement, declaration_id, line, note, at_ms FROM postings WHERE enterprise = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(enterprise)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(posting_from).collect()
    }

    /// Officer adjustments (write-off, stock-take): postings outside a declaration, audited.
    pub async fn adjust(
        &self,
        postings: &[NewPosting],
        alerts: &[crate::risk::NewAlert],
        actor: &str,
        action: &str,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        for p in in_lock_order(postings) {
            apply_posting(&mut tx, p, None, now_ms).await?;
        }
        let payload = serde_json::json!(postings.iter().map(|p| serde_json::json!({"hs_code": p.hs_code, "unit": p.unit, "quantity_milli": p.quantity_milli, "movement": p.movement, "note": p.note})).collect::<Vec<_>>()).to_string();
        let subject = postings
            .first()
            .map(|p| p.enterprise.clone())
            .unwrap_or_default();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            actor,
            action,
            &subject,
            &payload,
        )
        .await?;
        outbox(&mut tx, "account_book.adjusted", &payload, now_ms).await?;
        crate::risk::insert_alerts(&mut tx, alerts, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The postings a declaration made, to reverse them on cancellation or amendment.
    pub async fn declaration_postings(&self, declaration_id: &str) -> Result<Vec<PostingRow>> {
        let rows = sqlx::query("SELECT id, enterprise, hs_code, unit, quantity_milli, value_fen, movement, declaration_id, line, note, at_ms FROM postings WHERE declaration_id = $1 ORDER BY id")
            .bind(declaration_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(posting_from).collect()
    }
}
