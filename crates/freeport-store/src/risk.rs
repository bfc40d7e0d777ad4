//! Risk management's records: credit records, inspection results, rule sets and their changes,
//! alerts through analysis, disposal and evaluation, and the daily flow statistics.
//!
//! Near 1000 lines: every table risk management writes, each with its row type and mapper; states
//! are read back as the domain's enums (`states`). The next split is by room: credit, rule sets,
//! alerts and flow statistics.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::records::outbox;
use freeport_core::lifecycle::DeclarationStatus;
use freeport_risk::governance::{AlertState, RuleSetState};
use freeport_risk::selectivity::RiskRecord;

use crate::states::row_state;
use crate::steps::{Step, statement};
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

/// An alert to raise; a second one with the same `dedupe_key` is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub id: String,
    pub dedupe_key: String,
    pub kind: String,
    pub subject: String,
    pub enterprise: Option<String>,
    pub declaration_id: Option<String>,
    /// The duty-free buyer it concerns, by person code.
    pub person_code: Option<String>,
    pub raised_on: String,
    pub details_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub enterprise: Option<String>,
    pub declaration_id: Option<String>,
    pub person_code: Option<String>,
    pub raised_on: String,
    pub details_json: String,
    pub state: AlertState,
    pub analysis_json: Option<String>,
    pub disposal_json: Option<String>,
    pub evaluation_json: Option<String>,
    pub revision: i64,
    pub raised_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One step of an alert's lifecycle: the state it leaves and enters, the record of the step, and
/// what a disposal changes elsewhere in the same transaction.
#[derive(Debug, Clone)]
pub struct AlertStep {
    pub alert_id: String,
    pub expected_revision: i64,
    pub from_state: AlertState,
    pub to_state: AlertState,
    pub record_json: String,
    pub credit_record: Option<NewCreditRecord>,
    /// A declaration the disposal moves: its id, the statuses it may leave, the status and lane
    /// it enters (held, or under inspection in the red lane).
    pub declaration_change: Option<DeclarationChange>,
    /// A duty-free ban of the alert's person: from and until (inclusive).
    pub duty_free_ban: Option<(String, String, String)>,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

#[derive(Debug, Clone)]
pub struct DeclarationChange {
    pub declaration_id: String,
    pub from: Vec<DeclarationStatus>,
    pub to: DeclarationStatus,
    pub lane: String,
}

/// One accepted declaration line, added to the day's flow statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLine {
    pub flow: String,
    pub hs_code: String,
    pub unit: String,
    pub day: String,
    pub quantity_milli: i64,
    pub value_fen: i64,
}

const ALERT_COLUMNS: &str = "id, kind, subject, enterprise, declaration_id, person_code, raised_on, details_json, state, analysis_json, disposal_json, evaluation_json, revision, raised_at_ms, updated_at_ms";
const RULE_SET_COLUMNS: &str = "sha256, name, version, source, state, proposed_by, backtest_json, revision, created_at_ms, updated_at_ms";

fn alert_from(r: &AnyRow) -> Result<AlertRow> {
    Ok(AlertRow {
        id: row_string(r, "id")?,
        kind: row_string(r, "kind")?,
        subject: row_string(r, "subject")?,
        enterprise: row_opt_string(r, "enterprise")?,
        declaration_id: row_opt_string(r, "declaration_id")?,
        person_code: row_opt_string(r, "person_code")?,
        raised_on: row_string(r, "raised_on")?,
        details_json: row_string(r, "details_json")?,
        state: row_state(r, "state")?,
        analysis_json: row_opt_string(r, "analysis_json")?,
        disposal_json: row_opt_string(r, "disposal_json")?,
        evaluation_json: row_opt_string(r, "evaluation_json")?,
        revision: row_i64(r, "revision")?,
        raised_at_ms: row_i64(r, "raised_at_ms")?,
        updated_at_ms: row_i64(r, "updated_at_ms")?,
    })
}

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

/// Raises alerts; one whose dedupe key is already taken is dropped, so a warning seen twice is one
/// alert.
pub(crate) async fn insert_alerts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    alerts: &[NewAlert],
    now_ms: i64,
) -> Result<()> {
    crate::steps::run_unaudited(tx, alert_steps(alerts, now_ms)).await
}

/// Each alert, announced only when it is new (its dedupe key was free).
pub(crate) fn alert_steps(alerts: &[NewAlert], now_ms: i64) -> Vec<Step> {
    alerts
        .iter()
        .map(|a| {
            let payload = serde_json::json!({ "id": a.id, "kind": a.kind, "subject": a.subject, "enterprise": a.enterprise, "declaration": a.declaration_id }).to_string();
            Step::When {
                statement: statement!(
                    "INSERT INTO alerts (id, dedupe_key, kind, subject, enterprise, declaration_id, raised_on, details_json, state, revision, raised_at_ms, updated_at_ms, person_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', 1, $9, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING",
                    &a.id,
                    &a.dedupe_key,
                    &a.kind,
                    &a.subject,
                    &a.enterprise,
                    &a.declaration_id,
                    &a.raised_on,
                    &a.details_json,
                    now_ms,
                    &a.person_code
                ),
                rows: 1,
                then: vec![Step::Event {
                    topic: "alert.raised".to_owned(),
                    payload,
                    webhook_of: None,
                    now_ms,
                }],
            }
        })
        .collect()
}

/// Adds accepted lines to the day's flow statistics.
pub(crate) fn flow_line_steps(lines: &[FlowLine]) -> Vec<Step> {
    lines
        .iter()
        .map(|l| {
            // Checked arithmetic in SQL: a day's totals grow only while they stay within a BIGINT
            // (SQLite would otherwise turn the row into a float, PostgreSQL fail every later
            // declaration of the code). A line that no longer fits is counted apart, not added.
            Step::When {
                statement: statement!(
                    "INSERT INTO flow_stats (flow, hs_code, unit, day, declarations, quantity_milli, value_fen) VALUES ($1, $2, $3, $4, 1, $5, $6) \
                     ON CONFLICT (flow, hs_code, unit, day) DO UPDATE SET declarations = flow_stats.declarations + 1, quantity_milli = flow_stats.quantity_milli + excluded.quantity_milli, value_fen = flow_stats.value_fen + excluded.value_fen \
                     WHERE flow_stats.quantity_milli <= 9223372036854775807 - excluded.quantity_milli AND flow_stats.value_fen <= 9223372036854775807 - excluded.value_fen AND flow_stats.declarations < 9223372036854775807",
                    &l.flow,
                    &l.hs_code,
                    &l.unit,
                    &l.day,
                    l.quantity_milli,
                    l.value_fen
                ),
                rows: 0,
                then: vec![Step::Run(statement!(
                    "UPDATE flow_stats SET lines_beyond_ceiling = lines_beyond_ceiling + 1 WHERE flow = $1 AND hs_code = $2 AND unit = $3 AND day = $4 AND lines_beyond_ceiling < 9223372036854775807",
                    &l.flow,
                    &l.hs_code,
                    &l.unit,
                    &l.day
                ))],
            }
        })
        .collect()
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

    // ----- alerts ------------------------------------------------------------------------------

    /// Raises alerts outside a declaration (flow thresholds, stock-take shortfalls).
    pub async fn raise_alerts(&self, alerts: &[NewAlert], now_ms: i64) -> Result<()> {
        let mut tx = self.begin_write(None, 0).await?;
        insert_alerts(&mut tx, alerts, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Alerts in `state` (all when `None`), oldest first, after `after`.
    pub async fn alerts(
        &self,
        state: Option<AlertState>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<AlertRow>> {
        let rows = match state {
            Some(s) => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3"))).bind(s.as_str()).bind(after).bind(limit).fetch_all(&self.pool).await?,
            None => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id > $1 ORDER BY id LIMIT $2"))).bind(after).bind(limit).fetch_all(&self.pool).await?,
        };
        rows.iter().map(alert_from).collect()
    }

    pub async fn alert(&self, id: &str) -> Result<Option<AlertRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(alert_from).transpose()
    }

    /// Applies one lifecycle step to an alert, with what its disposal changes elsewhere.
    pub async fn advance_alert(&self, s: &AlertStep) -> Result<AlertRow> {
        let column = match s.to_state {
            AlertState::Analysed => "analysis_json",
            AlertState::Disposed => "disposal_json",
            AlertState::Evaluated => "evaluation_json",
            AlertState::Open => {
                return Err(StoreError::Conflict("no alert step enters open".to_owned()));
            }
        };
        let mut tx = self.begin_write(s.idempotency.as_ref(), s.now_ms).await?;
        let updated = sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE alerts SET state = $1, {column} = $2, revision = revision + 1, updated_at_ms = $3 WHERE id = $4 AND revision = $5 AND state = $6")))
            .bind(s.to_state.as_str())
            .bind(&s.record_json)
            .bind(s.now_ms)
            .bind(&s.alert_id)
            .bind(s.expected_revision)
            .bind(s.from_state.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if updated != 1 {
            return Err(StoreError::Conflict(
                "the alert changed since it was read; read it again".to_owned(),
            ));
        }
        if let Some(r) = &s.credit_record {
            insert_credit_record(&mut tx, &self.audit_key, r, s.now_ms).await?;
        }
        if let Some(change) = &s.declaration_change {
            let declaration = &change.declaration_id;
            let current = sqlx::query("SELECT status FROM declarations WHERE id = $1")
                .bind(declaration)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("declaration {declaration}")))?;
            let status = row_state::<DeclarationStatus>(&current, "status")?;
            if !change.from.contains(&status) {
                return Err(StoreError::Conflict(format!(
                    "declaration {declaration} is {status} and cannot become {}",
                    change.to
                )));
            }
            sqlx::query("UPDATE declarations SET status = $1, lane = $2, revision = revision + 1, updated_at_ms = $3 WHERE id = $4")
                .bind(change.to.as_str())
                .bind(&change.lane)
                .bind(s.now_ms)
                .bind(declaration)
                .execute(&mut **tx)
                .await?;
            crate::records::append_declaration_event(
                &mut tx,
                declaration,
                change.to,
                &s.actor,
                &format!("{} on disposal of alert {}", change.to, s.alert_id),
                s.now_ms,
            )
            .await?;
        }
        if let Some((person_code, from, until)) = &s.duty_free_ban {
            sqlx::query("INSERT INTO duty_free_bans (person_code, banned_on, banned_until, alert_id, reason, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(person_code)
                .bind(from)
                .bind(until)
                .bind(&s.alert_id)
                .bind(&s.record_json)
                .bind(&s.actor)
                .bind(s.now_ms)
                .execute(&mut **tx)
                .await?;
        }
        let payload = serde_json::json!({ "alert": s.alert_id, "from": s.from_state, "to": s.to_state, "record_sha256": crate::sha256_hex(s.record_json.as_bytes()) }).to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            s.now_ms,
            &s.actor,
            "alert.step",
            &s.alert_id,
            &payload,
        )
        .await?;
        outbox(&mut tx, "alert.changed", &payload, s.now_ms).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"
        )))
        .bind(&s.alert_id)
        .fetch_one(&mut **tx)
        .await?;
        let out = alert_from(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    // ----- flow statistics ---------------------------------------------------------------------

    /// Declarations per day of `flow` for goods codes starting with `hs_prefix`, from `from` to
    /// `to` inclusive, as (day, declarations), days without any left out.
    pub async fn flow_by_day(
        &self,
        flow: &str,
        hs_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, i64)>> {
        let s = statement!(
            "SELECT day, CAST(SUM(declarations) AS BIGINT) AS n FROM flow_stats WHERE flow = $1 AND hs_code LIKE $2 AND day >= $3 AND day <= $4 GROUP BY day ORDER BY day",
            flow,
            format!("{hs_prefix}%").as_str(),
            from,
            to
        );
        self.fetch_all(&s, |r| Ok((row_string(r, "day")?, row_i64(r, "n")?)))
            .await
    }

    /// Declarations, quantity (thousandths) and value (fen) declared for a goods code and unit from
    /// `from` to `to`, over every flow: the base of its value reference.
    ///
    /// Summed here in 128 bits rather than by SQL's `SUM`, which overflows a BIGINT (an error on
    /// both backends) when a year of days holds large totals.
    pub async fn declared_totals(
        &self,
        hs_code: &str,
        unit: &str,
        from: &str,
        to: &str,
    ) -> Result<DeclaredTotals> {
        let s = statement!(
            "SELECT declarations, quantity_milli, value_fen FROM flow_stats WHERE hs_code = $1 AND unit = $2 AND day >= $3 AND day <= $4",
            hs_code,
            unit,
            from,
            to
        );
        let days = self
            .fetch_all(&s, |r| {
                Ok((
                    row_i64(r, "declarations")?,
                    row_i64(r, "quantity_milli")?,
                    row_i64(r, "value_fen")?,
                ))
            })
            .await?;
        let mut totals = DeclaredTotals::default();
        for (declarations, quantity_milli, value_fen) in days {
            totals.declarations += i128::from(declarations);
            totals.quantity_milli += i128::from(quantity_milli);
            totals.value_fen += i128::from(value_fen);
        }
        Ok(totals)
    }
}

/// What was declared of one goods code and unit over a period, in 128 bits: a year of daily
/// BIGINT totals cannot overflow it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeclaredTotals {
    pub declarations: i128,
    pub quantity_milli: i128,
    pub value_fen: i128,
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
