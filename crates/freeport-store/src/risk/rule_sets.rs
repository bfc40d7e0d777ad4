//! Rule sets through their lifecycle (proposed, shadow, active, retired) with every change, and
//! the live keys every node polls.

use serde::Serialize;
use sqlx::any::AnyRow;

use crate::records::outbox;
use freeport_risk::governance::RuleSetState;

use crate::states::row_state;
use crate::{
    IdempotencyRecord, Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string,
};

/// The store keys of the active rule set, the shadow rule set and the active model; `None` where
/// there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveKeys {
    pub active: Option<String>,
    pub shadow: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSetRow {
    pub sha256: String,
    pub name: String,
    pub version: i64,
    pub source: String,
    pub state: RuleSetState,
    pub proposed_by: String,
    pub backtest_json: Option<String>,
    pub revision: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSetChange {
    pub from_state: RuleSetState,
    pub to_state: RuleSetState,
    pub analyst: String,
    pub reason: String,
    pub at_ms: i64,
}

const RULE_SET_COLUMNS: &str = "sha256, name, version, source, state, proposed_by, backtest_json, revision, created_at_ms, updated_at_ms";

fn rule_set_from(r: &AnyRow) -> Result<RuleSetRow> {
    Ok(RuleSetRow {
        sha256: row_string(r, "sha256")?,
        name: row_string(r, "name")?,
        version: row_i64(r, "version")?,
        source: row_string(r, "source")?,
        state: row_state(r, "state")?,
        proposed_by: row_string(r, "proposed_by")?,
        backtest_json: row_opt_string(r, "backtest_json")?,
        revision: row_i64(r, "revision")?,
        created_at_ms: row_i64(r, "created_at_ms")?,
        updated_at_ms: row_i64(r, "updated_at_ms")?,
    })
}

async fn insert_rule_set_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sha256: &str,
    from: RuleSetState,
    to: RuleSetState,
    analyst: &str,
    reason: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO rule_set_changes (id, sha256, from_state, to_state, analyst, reason, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(sha256)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(analyst)
        .bind(reason)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    // ----- rule sets ---------------------------------------------------------------------------

    /// Records a proposed rule set; proposing the same text again is a `Conflict`.
    #[allow(clippy::too_many_arguments)]
    pub async fn propose_rule_set(
        &self,
        sha256: &str,
        name: &str,
        version: i64,
        source: &str,
        analyst: &str,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        let exists = sqlx::query("SELECT state FROM rule_sets WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(row) = exists {
            return Err(StoreError::Conflict(format!(
                "this rule set was proposed before and is {}",
                row_string(&row, "state")?
            )));
        }
        sqlx::query("INSERT INTO rule_sets (sha256, name, version, source, state, proposed_by, revision, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, 'proposed', $5, 1, $6, $6)")
            .bind(sha256)
            .bind(name)
            .bind(version)
            .bind(source)
            .bind(analyst)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        let payload =
            serde_json::json!({ "sha256": sha256, "name": name, "version": version }).to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            analyst,
            "rule_set.propose",
            sha256,
            &payload,
        )
        .await?;
        outbox(&mut tx, "rule_set.proposed", &payload, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn rule_set(&self, sha256: &str) -> Result<Option<RuleSetRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RULE_SET_COLUMNS} FROM rule_sets WHERE sha256 = $1"
        )))
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rule_set_from).transpose()
    }

    /// Every rule set, newest first.
    pub async fn rule_sets(&self) -> Result<Vec<RuleSetRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RULE_SET_COLUMNS} FROM rule_sets ORDER BY created_at_ms DESC, sha256"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rule_set_from).collect()
    }

    /// The rule set in `state` (there is at most one active and one in shadow).
    pub async fn rule_set_in(&self, state: RuleSetState) -> Result<Option<RuleSetRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RULE_SET_COLUMNS} FROM rule_sets WHERE state = $1"
        )))
        .bind(state.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rule_set_from).transpose()
    }

    /// The keys of what selects lanes now: the active and shadow rule sets and the active model.
    /// One small read, so that every node can poll it and reload when another node changed it.
    pub async fn live_keys(&self) -> Result<LiveKeys> {
        let rows = sqlx::query(
            "SELECT 'rules' AS kind, state, sha256 FROM rule_sets WHERE state IN ('active', 'shadow') \
             UNION ALL SELECT 'model' AS kind, state, sha256 FROM risk_models WHERE state = 'active'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut keys = LiveKeys::default();
        for r in &rows {
            let sha = Some(row_string(r, "sha256")?);
            match (
                row_string(r, "kind")?.as_str(),
                row_string(r, "state")?.as_str(),
            ) {
                ("rules", "active") => keys.active = sha,
                ("rules", _) => keys.shadow = sha,
                _ => keys.model = sha,
            }
        }
        Ok(keys)
    }

    pub async fn rule_set_changes(&self, sha256: &str) -> Result<Vec<RuleSetChange>> {
        let rows = sqlx::query("SELECT from_state, to_state, analyst, reason, at_ms FROM rule_set_changes WHERE sha256 = $1 ORDER BY at_ms, id")
            .bind(sha256)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RuleSetChange {
                    from_state: row_state(r, "from_state")?,
                    to_state: row_state(r, "to_state")?,
                    analyst: row_string(r, "analyst")?,
                    reason: row_string(r, "reason")?,
                    at_ms: row_i64(r, "at_ms")?,
                })
            })
            .collect()
    }

    /// Keeps a back-test's result on the rule set it tested.
    pub async fn save_backtest(
        &self,
        sha256: &str,
        expected_revision: i64,
        backtest_json: &str,
        analyst: &str,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        let updated = sqlx::query("UPDATE rule_sets SET backtest_json = $1, revision = revision + 1, updated_at_ms = $2 WHERE sha256 = $3 AND revision = $4")
            .bind(backtest_json)
            .bind(now_ms)
            .bind(sha256)
            .bind(expected_revision)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if updated != 1 {
            return Err(StoreError::Conflict(
                "the rule set changed since it was read".to_owned(),
            ));
        }
        let payload = serde_json::json!({ "sha256": sha256, "backtest_sha256": crate::sha256_hex(backtest_json.as_bytes()) }).to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            analyst,
            "rule_set.backtest",
            sha256,
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a rule set to `to_state` with the analyst's reason. Entering `active` or `shadow`
    /// retires the set that held that state, in the same transaction, so there is never more than
    /// one of each.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_rule_set_state(
        &self,
        sha256: &str,
        expected_revision: i64,
        from: &[RuleSetState],
        to_state: RuleSetState,
        analyst: &str,
        reason: &str,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        let current = sqlx::query("SELECT state, revision FROM rule_sets WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("rule set {sha256}")))?;
        let (state, revision) = (
            row_state::<RuleSetState>(&current, "state")?,
            row_i64(&current, "revision")?,
        );
        if revision != expected_revision || !from.contains(&state) {
            return Err(StoreError::Conflict(format!(
                "the rule set is {} at revision {revision}",
                state.as_str()
            )));
        }
        let mut displaced = Vec::new();
        if to_state.is_held_by_one() {
            let rows =
                sqlx::query("SELECT sha256 FROM rule_sets WHERE state = $1 AND sha256 <> $2")
                    .bind(to_state.as_str())
                    .bind(sha256)
                    .fetch_all(&mut **tx)
                    .await?;
            for r in &rows {
                displaced.push(row_string(r, "sha256")?);
            }
        }
        for other in &displaced {
            sqlx::query("UPDATE rule_sets SET state = $1, revision = revision + 1, updated_at_ms = $2 WHERE sha256 = $3")
                .bind(RuleSetState::Retired.as_str())
                .bind(now_ms)
                .bind(other)
                .execute(&mut **tx)
                .await?;
            insert_rule_set_change(
                &mut tx,
                other,
                to_state,
                RuleSetState::Retired,
                analyst,
                &format!("replaced by {sha256}: {reason}"),
                now_ms,
            )
            .await?;
        }
        sqlx::query("UPDATE rule_sets SET state = $1, revision = revision + 1, updated_at_ms = $2 WHERE sha256 = $3")
            .bind(to_state.as_str())
            .bind(now_ms)
            .bind(sha256)
            .execute(&mut **tx)
            .await?;
        insert_rule_set_change(&mut tx, sha256, state, to_state, analyst, reason, now_ms).await?;
        let payload = serde_json::json!({ "sha256": sha256, "from": state, "to": to_state, "reason": reason, "retired": displaced }).to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            analyst,
            "rule_set.state",
            sha256,
            &payload,
        )
        .await?;
        outbox(&mut tx, "rule_set.changed", &payload, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }
}
