//! Declarations: the commit of a decided declaration (as steps), its status changes under
//! optimistic concurrency, and its event history.

use serde::Serialize;
use sqlx::any::AnyRow;

use freeport_core::lifecycle::DeclarationStatus;

use freeport_risk::selectivity::RiskRecord;

use crate::account_books::{NewPosting, apply_posting, in_lock_order, posting_steps};
use crate::records::IdempotencyRecord;
use crate::risk_record::text_of;
use crate::states::row_state;
use crate::steps::{Step, statement};
use crate::{Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string};

#[derive(Debug, Clone)]
pub struct NewWaiverLock {
    pub enterprise: String,
    pub kind_prefix: String,
    pub first_day: String,
    pub last_day: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverLockRow {
    pub kind_prefix: String,
    pub first_day: String,
    pub last_day: String,
}

/// Everything one decision commits.
#[derive(Debug, Clone)]
pub struct NewDeclaration {
    pub id: String,
    pub enterprise: String,
    pub reference: String,
    pub flow: String,
    pub status: DeclarationStatus,
    pub declared_on: String,
    pub pack_version: String,
    pub outcome: String,
    pub payable_total_fen: i64,
    pub request_json: String,
    pub decision_json: String,
    /// The selectivity lane and the assessment behind it, for an accepted declaration.
    pub lane: Option<String>,
    pub risk: Option<RiskRecord>,
    /// The port the goods cross at (R2.2), if the declaration names one.
    pub port: Option<String>,
    /// At a second-line port, the step the lane takes at once after the decision (R2.4): released
    /// automatically, awaiting a scan, or held. It is the declaration's second event.
    pub at_port: Option<PortStep>,
    /// For a red lane at a second-line port: what the port's inspection capacity did with it.
    pub admission: Option<crate::ports::NewAdmission>,
    /// The emergency mode in force at the port when the declaration was decided.
    pub port_mode: Option<String>,
    /// Where that mode was in force: the port's code or its channel's id.
    pub mode_at: Option<String>,
    /// For a batch exit (R2.5): the month whose consolidated declaration covers it, `YYYY-MM`.
    pub batch_month: Option<String>,
    pub postings: Vec<NewPosting>,
    pub waiver_locks: Vec<NewWaiverLock>,
    /// Goods the decision put under supervision (R3.4).
    pub supervised: Vec<crate::supervision::NewSupervisedItem>,
    /// The accepted lines, for the flow statistics.
    pub flow_lines: Vec<crate::risk::FlowLine>,
    /// Early warnings the submission raised.
    pub alerts: Vec<crate::risk::NewAlert>,
    pub actor: String,
    pub event_topic: String,
    pub event_payload: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

impl NewDeclaration {
    /// The status the declaration is committed in: the decision's, or the port step's after it.
    pub fn committed_status(&self) -> DeclarationStatus {
        self.at_port.as_ref().map_or(self.status, |p| p.status)
    }
}

/// What a lane does at a second-line port the moment the declaration is decided.
#[derive(Debug, Clone)]
pub struct PortStep {
    pub status: DeclarationStatus,
    pub actor: String,
    pub note: String,
    pub event_payload: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclarationRow {
    pub id: String,
    pub enterprise: String,
    pub reference: String,
    pub flow: String,
    pub status: DeclarationStatus,
    pub declared_on: String,
    pub pack_version: String,
    pub outcome: String,
    pub payable_total_fen: i64,
    pub request_json: String,
    pub decision_json: String,
    pub lane: Option<String>,
    pub risk: Option<RiskRecord>,
    pub port: Option<String>,
    pub port_mode: Option<String>,
    pub revision: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const DECLARATION_COLUMNS: &str = "id, enterprise, reference, flow, status, declared_on, pack_version, outcome, payable_total_fen, request_json, decision_json, lane, risk_json, port, port_mode, revision, created_at_ms, updated_at_ms";

fn declaration_from(row: &AnyRow) -> Result<DeclarationRow> {
    Ok(DeclarationRow {
        id: row_string(row, "id")?,
        enterprise: row_string(row, "enterprise")?,
        reference: row_string(row, "reference")?,
        flow: row_string(row, "flow")?,
        status: row_state(row, "status")?,
        declared_on: row_string(row, "declared_on")?,
        pack_version: row_string(row, "pack_version")?,
        outcome: row_string(row, "outcome")?,
        payable_total_fen: row_i64(row, "payable_total_fen")?,
        request_json: row_string(row, "request_json")?,
        decision_json: row_string(row, "decision_json")?,
        lane: row_opt_string(row, "lane")?,
        risk: crate::risk_record::read(row, "risk_json")?,
        port: row_opt_string(row, "port")?,
        port_mode: row_opt_string(row, "port_mode")?,
        revision: row_i64(row, "revision")?,
        created_at_ms: row_i64(row, "created_at_ms")?,
        updated_at_ms: row_i64(row, "updated_at_ms")?,
    })
}

/// A status change: applied only if the declaration is still at `expected_revision` and in one of
/// `from` (optimistic concurrency: a lost race is a `Conflict`, never a silent overwrite).
#[derive(Debug, Clone)]
pub struct Transition {
    pub declaration_id: String,
    pub from: Vec<DeclarationStatus>,
    pub to: DeclarationStatus,
    pub expected_revision: i64,
    pub actor: String,
    pub note: String,
    /// A replacement request and decision, for an amendment.
    pub replace: Option<(String, String, String, i64)>,
    /// A replacement lane and assessment, for an amendment.
    pub lane: Option<(Option<String>, Option<RiskRecord>)>,
    /// Postings that go with the change: reversals of a cancelled declaration's postings, or an
    /// amendment's reversals and new postings.
    pub postings: Vec<NewPosting>,
    /// For a cancellation or an amendment: the declaration's supervised items are withdrawn and
    /// these take their place.
    pub supervised: Option<Vec<crate::supervision::NewSupervisedItem>>,
    /// An inspection's result, recorded as the declaration leaves inspection.
    pub inspection: Option<crate::risk::NewInspection>,
    pub event_topic: String,
    pub event_payload: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclarationEvent {
    pub seq: i64,
    pub status: DeclarationStatus,
    pub actor: String,
    pub note: String,
    pub at_ms: i64,
}

/// Appends the next event of a declaration's history.
pub(crate) async fn append_declaration_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    declaration_id: &str,
    status: DeclarationStatus,
    actor: &str,
    note: &str,
    now_ms: i64,
) -> Result<()> {
    let seq_row = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM declaration_events WHERE declaration_id = $1").bind(declaration_id).fetch_one(&mut **tx).await?;
    sqlx::query("INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(declaration_id)
        .bind(row_i64(&seq_row, "next")?)
        .bind(status.as_str())
        .bind(actor)
        .bind(note)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The declaration's new status (and, for an amendment, its new request and decision), applied
/// only at the revision that was checked.
fn status_change(t: &Transition, revision: i64) -> crate::steps::Statement {
    match &t.replace {
        Some((request_json, decision_json, outcome, payable)) => statement!(
            "UPDATE declarations SET status = $1, revision = revision + 1, updated_at_ms = $2, request_json = $3, decision_json = $4, outcome = $5, payable_total_fen = $6 WHERE id = $7 AND revision = $8",
            t.to.as_str(),
            t.now_ms,
            request_json,
            decision_json,
            outcome,
            *payable,
            &t.declaration_id,
            revision
        ),
        None => statement!(
            "UPDATE declarations SET status = $1, revision = revision + 1, updated_at_ms = $2 WHERE id = $3 AND revision = $4",
            t.to.as_str(),
            t.now_ms,
            &t.declaration_id,
            revision
        ),
    }
}

/// For a declaration decided in an emergency mode: the mode must still be in force as it
/// commits, so that the return to normal lists it (the return takes the same row).
fn still_in_mode(d: &NewDeclaration) -> Option<Step> {
    let (port, mode) = (d.mode_at.as_ref()?, d.port_mode.as_ref()?);
    Some(Step::RequireOne(
        statement!(
            "UPDATE port_modes SET since_ms = since_ms WHERE port = $1 AND mode = $2",
            port,
            mode
        ),
        StoreError::Conflict(format!("the emergency mode at {port} changed meanwhile")),
    ))
}

/// The audit entry and event of the lane's step at a second-line port, after the decision's own.
fn port_step_announced(d: &NewDeclaration) -> Vec<Step> {
    let Some(p) = &d.at_port else {
        return Vec::new();
    };
    vec![
        Step::Audit(crate::steps::AuditEntry {
            at_ms: d.now_ms,
            actor: p.actor.clone(),
            action: "declaration.transition".to_owned(),
            subject: d.id.clone(),
            payload: serde_json::json!({ "from": d.status, "to": p.status, "note": p.note })
                .to_string(),
        }),
        Step::Event {
            topic: "declaration.status".to_owned(),
            payload: p.event_payload.clone(),
            webhook_of: Some(d.id.clone()),
            now_ms: d.now_ms,
        },
    ]
}

/// Everything a decided declaration writes, after its idempotency record.
fn declaration_steps(d: &NewDeclaration) -> Result<Vec<Step>> {
    let risk = d.risk.as_ref().map(text_of).transpose()?;
    let status = d.committed_status();
    let mut steps = vec![
        Step::Run(statement!(
            "INSERT INTO declarations (id, enterprise, reference, flow, status, declared_on, pack_version, outcome, payable_total_fen, request_json, decision_json, lane, risk_json, revision, created_at_ms, updated_at_ms, port, port_mode, batch_month, mode_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, $14, 1, $12, $12, $15, $16, $17, $18)",
            &d.id,
            &d.enterprise,
            &d.reference,
            &d.flow,
            status.as_str(),
            &d.declared_on,
            &d.pack_version,
            &d.outcome,
            d.payable_total_fen,
            &d.request_json,
            &d.decision_json,
            d.now_ms,
            &d.lane,
            risk.as_deref(),
            &d.port,
            &d.port_mode,
            &d.batch_month,
            &d.mode_at
        )),
        Step::Run(statement!(
            "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) VALUES ($1, 1, $2, $3, 'submitted', $4)",
            &d.id,
            d.status.as_str(),
            &d.actor,
            d.now_ms
        )),
    ];
    steps.extend(still_in_mode(d));
    if let Some(p) = &d.at_port {
        steps.push(Step::Run(statement!(
            "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) VALUES ($1, 2, $2, $3, $4, $5)",
            &d.id,
            p.status.as_str(),
            &p.actor,
            &p.note,
            d.now_ms
        )));
    }
    if let Some(a) = &d.admission {
        let actor = d
            .at_port
            .as_ref()
            .map_or("system:release", |p| p.actor.as_str());
        steps.extend(crate::ports::admission_steps(&d.id, a, actor, d.now_ms));
    }
    for p in in_lock_order(&d.postings) {
        steps.extend(posting_steps(p, Some(&d.id), d.now_ms));
    }
    steps.extend(crate::supervision::item_steps(
        &d.id,
        &d.supervised,
        d.now_ms,
    ));
    steps.extend(crate::risk::flow_line_steps(&d.flow_lines));
    steps.extend(crate::risk::alert_steps(&d.alerts, d.now_ms));
    for w in &d.waiver_locks {
        steps.push(Step::Run(statement!(
            "INSERT INTO waiver_locks (enterprise, kind_prefix, first_day, last_day, declaration_id) VALUES ($1, $2, $3, $4, $5)",
            &w.enterprise,
            &w.kind_prefix,
            &w.first_day,
            &w.last_day,
            &d.id
        )));
    }
    let payload = format!(
        "{{\"flow\":\"{}\",\"outcome\":\"{}\",\"status\":\"{}\",\"decision_sha256\":\"{}\"}}",
        d.flow,
        d.outcome,
        d.status.as_str(),
        crate::sha256_hex(d.decision_json.as_bytes())
    );
    steps.push(Step::Audit(crate::steps::AuditEntry {
        at_ms: d.now_ms,
        actor: d.actor.clone(),
        action: "declaration.submit".to_owned(),
        subject: d.id.clone(),
        payload,
    }));
    steps.push(Step::Event {
        topic: d.event_topic.clone(),
        payload: d.event_payload.clone(),
        webhook_of: Some(d.id.clone()),
        now_ms: d.now_ms,
    });
    steps.extend(port_step_announced(d));
    Ok(steps)
}

impl Store {
    // ----- declarations ------------------------------------------------------------------------

    /// Commits a decided declaration: the row, its first event, postings and balances, waiver
    /// locks, the audit entry, the outbox event and the idempotency record, in one transaction.
    pub async fn commit_declaration(&self, d: &NewDeclaration) -> Result<()> {
        self.write_steps(d.idempotency.as_ref(), d.now_ms, declaration_steps(d)?)
            .await
    }

    pub async fn declaration(&self, id: &str) -> Result<Option<DeclarationRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DECLARATION_COLUMNS} FROM declarations WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(declaration_from).transpose()
    }

    /// A page of declarations in id order (ids are UUIDv7, so this is submission order), for one
    /// enterprise or all.
    pub async fn list_declarations(
        &self,
        enterprise: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<DeclarationRow>> {
        let rows = match enterprise {
            Some(e) => {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {DECLARATION_COLUMNS} FROM declarations WHERE enterprise = $1 AND id > $2 ORDER BY id LIMIT $3")))
                    .bind(e)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {DECLARATION_COLUMNS} FROM declarations WHERE id > $1 ORDER BY id LIMIT $2"))).bind(after).bind(limit).fetch_all(&self.pool).await?,
        };
        rows.iter().map(declaration_from).collect()
    }

    pub async fn declaration_events(&self, id: &str) -> Result<Vec<DeclarationEvent>> {
        let rows = sqlx::query("SELECT seq, status, actor, note, at_ms FROM declaration_events WHERE declaration_id = $1 ORDER BY seq").bind(id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(DeclarationEvent {
                    seq: row_i64(r, "seq")?,
                    status: row_state(r, "status")?,
                    actor: row_string(r, "actor")?,
                    note: row_string(r, "note")?,
                    at_ms: row_i64(r, "at_ms")?,
                })
            })
            .collect()
    }

    /// Applies a status change atomically with its event, audit entry, outbox event and
    /// idempotency record.
    pub async fn transition(&self, t: &Transition) -> Result<DeclarationRow> {
        let mut tx = self.begin_write(t.idempotency.as_ref(), t.now_ms).await?;
        let current = sqlx::query("SELECT status, revision FROM declarations WHERE id = $1")
            .bind(&t.declaration_id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(current) = current else {
            return Err(StoreError::NotFound(format!(
                "declaration {}",
                t.declaration_id
            )));
        };
        let (status, revision) = (
            row_state::<DeclarationStatus>(&current, "status")?,
            row_i64(&current, "revision")?,
        );
        if revision != t.expected_revision || !t.from.contains(&status) {
            return Err(StoreError::Conflict(format!(
                "declaration {} is {status} at revision {revision}",
                t.declaration_id
            )));
        }
        let updated = crate::steps::query(&status_change(t, revision))
            .execute(&mut **tx)
            .await?;
        if updated.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!(
                "declaration {} changed concurrently",
                t.declaration_id
            )));
        }
        if status == DeclarationStatus::AwaitingScan {
            sqlx::query("DELETE FROM port_queue WHERE declaration_id = $1")
                .bind(&t.declaration_id)
                .execute(&mut **tx)
                .await?;
        }
        if let Some((lane, risk)) = &t.lane {
            sqlx::query("UPDATE declarations SET lane = $1, risk_json = $2 WHERE id = $3")
                .bind(lane)
                .bind(risk.as_ref().map(text_of).transpose()?)
                .bind(&t.declaration_id)
                .execute(&mut **tx)
                .await?;
        }
        for p in in_lock_order(&t.postings) {
            apply_posting(&mut tx, p, Some(&t.declaration_id), t.now_ms).await?;
        }
        if let Some(items) = &t.supervised {
            crate::supervision::replace_items(&mut tx, &t.declaration_id, items, t.now_ms).await?;
        }
        if let Some(i) = &t.inspection {
            crate::risk::insert_inspection(
                &mut tx,
                &self.audit_key,
                &t.declaration_id,
                i,
                &t.actor,
                t.now_ms,
            )
            .await?;
        }
        append_declaration_event(
            &mut tx,
            &t.declaration_id,
            t.to,
            &t.actor,
            &t.note,
            t.now_ms,
        )
        .await?;
        let payload = serde_json::json!({ "from": status, "to": t.to, "note": t.note, "replaced": t.replace.is_some() }).to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            t.now_ms,
            &t.actor,
            "declaration.transition",
            &t.declaration_id,
            &payload,
        )
        .await?;
        let event = Step::Event {
            topic: t.event_topic.clone(),
            payload: t.event_payload.clone(),
            webhook_of: Some(t.declaration_id.clone()),
            now_ms: t.now_ms,
        };
        crate::steps::run_unaudited(&mut tx, vec![event]).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DECLARATION_COLUMNS} FROM declarations WHERE id = $1"
        )))
        .bind(&t.declaration_id)
        .fetch_one(&mut **tx)
        .await?;
        let out = declaration_from(&row)?;
        tx.commit().await?;
        Ok(out)
    }
}

/// The declarations decided at `port` in `mode` since `since_ms`, oldest first.
pub(crate) async fn in_port_mode(
    store: &Store,
    place: &str,
    mode: &str,
    since_ms: i64,
) -> Result<Vec<DeclarationRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DECLARATION_COLUMNS} FROM declarations WHERE mode_at = $1 AND port_mode = $2 AND created_at_ms >= $3 ORDER BY created_at_ms, id"
    )))
    .bind(place)
    .bind(mode)
    .bind(since_ms)
    .fetch_all(&store.pool)
    .await?;
    rows.iter().map(declaration_from).collect()
}
