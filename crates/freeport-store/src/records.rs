//! Rows and the queries over them.
//!
//! Near 1000 lines on purpose: the users, registry, declaration and account-book rows share one
//! transaction path (`commit_declaration`, transitions, postings) and its private helpers. Their
//! states and risk record are already the domain's types (`states`, `risk_record`); the next split
//! is by room (registry, declarations, account books), with those helpers moved to `steps`.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use freeport_core::lifecycle::DeclarationStatus;

use freeport_risk::selectivity::RiskRecord;

use crate::risk_record::text_of;
use crate::states::row_state;
use crate::steps::{Columns, Step, statement};
use crate::{Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string};

/// Quantities in account books are kept in thousandths of the unit (three decimals), as integers.
pub const MILLI: i64 = 1000;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: String,
    pub enterprise: Option<String>,
}

fn user_from(row: &(impl Columns + ?Sized)) -> Result<User> {
    Ok(User {
        id: row_string(row, "id")?,
        username: row_string(row, "username")?,
        role: row_string(row, "role")?,
        enterprise: row_opt_string(row, "enterprise")?,
    })
}

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
    pub revision: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const DECLARATION_COLUMNS: &str = "id, enterprise, reference, flow, status, declared_on, pack_version, outcome, payable_total_fen, request_json, decision_json, lane, risk_json, revision, created_at_ms, updated_at_ms";

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub topic: String,
    pub payload: String,
    pub created_at_ms: i64,
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
fn in_lock_order(postings: &[NewPosting]) -> Vec<&NewPosting> {
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

/// Everything a decided declaration writes, after its idempotency record.
fn declaration_steps(d: &NewDeclaration) -> Result<Vec<Step>> {
    let risk = d.risk.as_ref().map(text_of).transpose()?;
    let mut steps = vec![
        Step::Run(statement!(
            "INSERT INTO declarations (id, enterprise, reference, flow, status, declared_on, pack_version, outcome, payable_total_fen, request_json, decision_json, lane, risk_json, revision, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, $14, 1, $12, $12)",
            &d.id,
            &d.enterprise,
            &d.reference,
            &d.flow,
            d.status.as_str(),
            &d.declared_on,
            &d.pack_version,
            &d.outcome,
            d.payable_total_fen,
            &d.request_json,
            &d.decision_json,
            d.now_ms,
            &d.lane,
            risk.as_deref()
        )),
        Step::Run(statement!(
            "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) VALUES ($1, 1, $2, $3, 'submitted', $4)",
            &d.id,
            d.status.as_str(),
            &d.actor,
            d.now_ms
        )),
    ];
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
    Ok(steps)
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

    // ----- users and tokens --------------------------------------------------------------------

    pub async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        let inserted = sqlx::query("INSERT INTO users (id, username, password_hash, role, enterprise, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING")
            .bind(&user.id)
            .bind(&user.username)
            .bind(password_hash)
            .bind(&user.role)
            .bind(user.enterprise.as_deref())
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "user {} exists",
                user.username
            )));
        }
        let payload = serde_json::to_string(user).unwrap_or_default();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            actor,
            "user.create",
            &user.id,
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?;
        row_i64(&row, "n")
    }

    /// The user and its password hash, by name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT id, username, role, enterprise, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_from(&r)?, row_string(&r, "password_hash")?)))
            .transpose()
    }

    pub async fn put_token(
        &self,
        token_sha256: &str,
        user_id: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        let _gate = self.write_guard().await;
        sqlx::query("INSERT INTO api_tokens (token_sha256, user_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)")
            .bind(token_sha256)
            .bind(user_id)
            .bind(now_ms)
            .bind(expires_at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user a live, unrevoked token belongs to.
    pub async fn user_by_token(&self, token_sha256: &str, now_ms: i64) -> Result<Option<User>> {
        let s = statement!(
            "SELECT u.id, u.username, u.role, u.enterprise FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1 AND t.revoked = 0 AND t.expires_at_ms > $2",
            token_sha256,
            now_ms
        );
        self.fetch_optional(&s, |r| user_from(r)).await
    }

    pub async fn revoke_token(&self, token_sha256: &str) -> Result<()> {
        let _gate = self.write_guard().await;
        sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

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

    /// The postings a declaration made, to reverse them on cancellation or amendment.
    pub async fn declaration_postings(&self, declaration_id: &str) -> Result<Vec<PostingRow>> {
        let rows = sqlx::query("SELECT id, enterprise, hs_code, unit, quantity_milli, value_fen, movement, declaration_id, line, note, at_ms FROM postings WHERE declaration_id = $1 ORDER BY id")
            .bind(declaration_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(posting_from).collect()
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
