//! The registry: enterprises with their standing (beneficiary, encouraged industry, credit class)
//! and the waiver locks their declarations hold.

use serde::Serialize;

use crate::declarations::WaiverLockRow;
use crate::records::{IdempotencyRecord, outbox};
use crate::steps::{Columns, statement};
use crate::{Result, Store, append_audit, row_i64, row_opt_string, row_string};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enterprise {
    pub credit_code: String,
    pub name: String,
    pub beneficiary: bool,
    pub encouraged_industry_filed: bool,
    pub encouraged_revenue_share: Option<String>,
    pub credit_class: String,
}

fn enterprise_from(row: &(impl Columns + ?Sized)) -> Result<Enterprise> {
    Ok(Enterprise {
        credit_code: row_string(row, "credit_code")?,
        name: row_string(row, "name")?,
        beneficiary: row_i64(row, "beneficiary")? == 1,
        encouraged_industry_filed: row_i64(row, "encouraged_industry_filed")? == 1,
        encouraged_revenue_share: row_opt_string(row, "encouraged_revenue_share")?,
        credit_class: row_string(row, "credit_class")?,
    })
}

impl Store {
    // ----- enterprises -------------------------------------------------------------------------

    /// Creates or updates an enterprise's registry entry, with an audit entry.
    /// Registers or updates an enterprise; `idempotency`, when given, commits with the change.
    pub async fn put_enterprise(
        &self,
        e: &Enterprise,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        sqlx::query(
            "INSERT INTO enterprises (credit_code, name, beneficiary, encouraged_industry_filed, encouraged_revenue_share, credit_class, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, beneficiary = excluded.beneficiary, encouraged_industry_filed = excluded.encouraged_industry_filed, \
             encouraged_revenue_share = excluded.encouraged_revenue_share, credit_class = excluded.credit_class, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(&e.credit_code)
        .bind(&e.name)
        .bind(i64::from(e.beneficiary))
        .bind(i64::from(e.encouraged_industry_filed))
        .bind(e.encouraged_revenue_share.as_deref())
        .bind(&e.credit_class)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        let payload = serde_json::to_string(e).unwrap_or_default();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            actor,
            "enterprise.put",
            &e.credit_code,
            &payload,
        )
        .await?;
        outbox(&mut tx, "enterprise.changed", &payload, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn enterprise(&self, credit_code: &str) -> Result<Option<Enterprise>> {
        let s = statement!(
            "SELECT credit_code, name, beneficiary, encouraged_industry_filed, encouraged_revenue_share, credit_class FROM enterprises WHERE credit_code = $1",
            credit_code
        );
        self.fetch_optional(&s, |r| enterprise_from(r)).await
    }

    /// Enterprises in credit-code order after `after`, at most `limit`.
    pub async fn list_enterprises(&self, after: &str, limit: i64) -> Result<Vec<Enterprise>> {
        let rows = sqlx::query("SELECT credit_code, name, beneficiary, encouraged_industry_filed, encouraged_revenue_share, credit_class FROM enterprises WHERE credit_code > $1 ORDER BY credit_code LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(enterprise_from).collect()
    }

    pub async fn waiver_locks(&self, enterprise: &str) -> Result<Vec<WaiverLockRow>> {
        let s = statement!(
            "SELECT kind_prefix, first_day, last_day FROM waiver_locks WHERE enterprise = $1",
            enterprise
        );
        self.fetch_all(&s, |r| {
            Ok(WaiverLockRow {
                kind_prefix: row_string(r, "kind_prefix")?,
                first_day: row_string(r, "first_day")?,
                last_day: row_string(r, "last_day")?,
            })
        })
        .await
    }
}
