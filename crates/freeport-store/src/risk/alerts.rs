//! Alerts through analysis, disposal and evaluation, with what a disposal changes elsewhere
//! (a declaration moved, a credit record, a duty-free ban) in the same transaction.

use serde::Serialize;
use sqlx::any::AnyRow;

use crate::records::outbox;
use freeport_core::lifecycle::DeclarationStatus;
use freeport_risk::governance::AlertState;

use super::credit::{NewCreditRecord, insert_credit_record};
use crate::states::row_state;
use crate::steps::{Step, statement};
use crate::{
    IdempotencyRecord, Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string,
};

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
    /// Duty-free bans of the alert's person, or of every member of its ring: (person code, from,
    /// until inclusive).
    pub duty_free_bans: Vec<(String, String, String)>,
    /// R4.7: the last day of a serious-dishonesty listing that a second penalty brings, when the
    /// version has the list: each banned person with two or more bans is listed from the ban's day.
    pub dishonesty_until: Option<String>,
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

const ALERT_COLUMNS: &str = "id, kind, subject, enterprise, declaration_id, person_code, raised_on, details_json, state, analysis_json, disposal_json, evaluation_json, revision, raised_at_ms, updated_at_ms";

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

impl Store {
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
            crate::declarations::append_declaration_event(
                &mut tx,
                declaration,
                change.to,
                &s.actor,
                &format!("{} on disposal of alert {}", change.to, s.alert_id),
                s.now_ms,
            )
            .await?;
        }
        write_bans(&mut tx, s).await?;
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
}

/// The duty-free bans a disposal imposes and, for a person with two or more, the serious-
/// dishonesty listing they bring (R4.6, R4.7(b)), in the disposal's transaction.
async fn write_bans(tx: &mut sqlx::Transaction<'_, sqlx::Any>, s: &AlertStep) -> Result<()> {
    for (person_code, from, until) in &s.duty_free_bans {
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
        if let Some(listed_until) = &s.dishonesty_until {
            sqlx::query("INSERT INTO duty_free_dishonesty (id, person_code, listed_on, until, ground, reason, actor, at_ms) SELECT $1, $2, $3, $4, 'two_or_more_penalties', $5, $6, $7 WHERE (SELECT COUNT(*) FROM duty_free_bans WHERE person_code = $2) >= 2")
                    .bind(format!("{}:{person_code}", s.alert_id))
                    .bind(person_code)
                    .bind(from)
                    .bind(listed_until)
                    .bind(format!("a second duty-free penalty (alert {})", s.alert_id))
                    .bind(&s.actor)
                    .bind(s.now_ms)
                    .execute(&mut **tx)
                    .await?;
        }
    }
    Ok(())
}
