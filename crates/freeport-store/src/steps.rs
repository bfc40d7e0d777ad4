//! A write as data: the statements a transaction runs, with what each must change, built once and
//! run by either backend's executor (sqlx for PostgreSQL and the fallback, `embedded` for the SQLite
//! file the store owns). The SQL and its parameters exist once; only the running differs.
//!
//! Parameters are `$1`, `$2`, … in both dialects; SQLite reads `$N` as a named parameter, and the
//! embedded executor binds each by its name, so a statement may use one twice or out of order.

use sqlx::Row;

use crate::audit;
use crate::{Result, StoreError};

/// A value bound to a statement's parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
/// A null keeps its type: PostgreSQL refuses a text null for a BIGINT column.
pub(crate) enum Param {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(Some(v))
    }
}

impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Param {
        Param::Int(v)
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Param {
    fn from(v: &String) -> Param {
        Param::Text(Some(v.clone()))
    }
}

impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Param {
        Param::Text(v.map(str::to_owned))
    }
}

impl From<&Option<String>> for Param {
    fn from(v: &Option<String>) -> Param {
        v.as_deref().into()
    }
}

/// One statement and its parameters, in order: the first binds `$1`.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub(crate) sql: &'static str,
    pub(crate) params: Vec<Param>,
}

/// Builds a [`Statement`]: `statement!(SQL, a, b, …)`, each argument anything `Param` converts from.
macro_rules! statement {
    ($sql:expr $(, $param:expr)* $(,)?) => {
        $crate::steps::Statement {
            sql: $sql,
            params: vec![$($crate::steps::Param::from($param)),*],
        }
    };
}
pub(crate) use statement;

/// An audit entry to chain to the head inside the write.
#[derive(Debug, Clone)]
pub(crate) struct AuditEntry {
    pub(crate) at_ms: i64,
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) subject: String,
    pub(crate) payload: String,
}

/// One step of a write.
#[derive(Debug)]
pub(crate) enum Step {
    /// Runs the statement, whatever it changes.
    Run(Statement),
    /// Runs the statement; unless it changed exactly one row, the write fails with the error.
    RequireOne(Statement, StoreError),
    /// Runs the statement; when it changed exactly `rows` rows, runs `then` too.
    When {
        statement: Statement,
        rows: u64,
        then: Vec<Step>,
    },
    /// Chains an audit entry to the head.
    Audit(AuditEntry),
    /// Writes an outbox event and, when `webhook_of` names a declaration whose enterprise has a
    /// webhook, owes that enterprise its delivery: in the event's own transaction, so the
    /// delivery cannot be lost between commit and dispatch.
    Event {
        topic: String,
        payload: String,
        webhook_of: Option<String>,
        now_ms: i64,
    },
}

const AUDIT_NEXT: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
pub(crate) const OUTBOX_INSERT: &str =
    "INSERT INTO outbox (topic, payload, created_at_ms) VALUES ($1, $2, $3) RETURNING id";

/// The statements that follow the head's advance to `seq` (whose previous hash is `prev`).
pub(crate) fn audit_tail(key: &[u8], seq: i64, prev: &str, e: &AuditEntry) -> [Statement; 2] {
    let hash = audit::entry_hash(
        key,
        prev,
        &audit::Entry {
            seq,
            at_ms: e.at_ms,
            actor: &e.actor,
            action: &e.action,
            subject: &e.subject,
            payload: &e.payload,
        },
    );
    [
        statement!(
            "INSERT INTO audit_log (seq, at_ms, actor, action, subject, payload, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            seq,
            e.at_ms,
            &e.actor,
            &e.action,
            &e.subject,
            &e.payload,
            prev,
            &hash
        ),
        statement!("UPDATE audit_head SET hash = $1 WHERE id = 1", &hash),
    ]
}

/// The webhook delivery an event owes, if the declaration's enterprise has a webhook.
fn owed_webhook(
    declaration_id: &str,
    event_id: i64,
    topic: &str,
    payload: &str,
    now_ms: i64,
) -> Statement {
    statement!(
        "INSERT INTO webhook_deliveries (enterprise, event_id, topic, payload, next_attempt_at_ms, created_at_ms) SELECT w.enterprise, $2, $3, $4, $5, $5 FROM webhooks w WHERE w.enterprise = (SELECT enterprise FROM declarations WHERE id = $1)",
        declaration_id,
        event_id,
        topic,
        payload,
        now_ms
    )
}

/// The idempotency record saved first in a write, so that a concurrent duplicate stops there with
/// `IdempotencyKeyTaken` before it writes anything.
pub(crate) fn idempotency_step(record: &crate::IdempotencyRecord, now_ms: i64) -> Step {
    Step::RequireOne(
        statement!(
            "INSERT INTO idempotency (user_id, key, request_sha256, status, response, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, key) DO NOTHING",
            &record.user_id,
            &record.key,
            &record.request_sha256,
            i64::from(record.status),
            &record.response,
            now_ms
        ),
        StoreError::IdempotencyKeyTaken(record.key.clone()),
    )
}

/// Runs `steps` in a sqlx transaction.
pub(crate) async fn run(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_key: &[u8],
    steps: Vec<Step>,
) -> Result<()> {
    // Iterative over a stack rather than recursive: an async fn cannot call itself unboxed.
    let mut pending: Vec<Step> = steps.into_iter().rev().collect();
    while let Some(step) = pending.pop() {
        match step {
            Step::Run(s) => {
                execute(tx, &s).await?;
            }
            Step::RequireOne(s, error) => {
                if execute(tx, &s).await? != 1 {
                    return Err(error);
                }
            }
            Step::When {
                statement,
                rows,
                then,
            } => {
                if execute(tx, &statement).await? == rows {
                    pending.extend(then.into_iter().rev());
                }
            }
            Step::Audit(e) => {
                let head = query(&statement!(AUDIT_NEXT)).fetch_one(&mut **tx).await?;
                let seq: i64 = head.try_get("seq")?;
                let prev: String = head.try_get("hash")?;
                for s in audit_tail(audit_key, seq, &prev, &e) {
                    execute(tx, &s).await?;
                }
            }
            Step::Event {
                topic,
                payload,
                webhook_of,
                now_ms,
            } => {
                let row = query(&statement!(OUTBOX_INSERT, &topic, &payload, now_ms))
                    .fetch_one(&mut **tx)
                    .await?;
                let event_id: i64 = row.try_get("id")?;
                if let Some(declaration) = webhook_of {
                    let owed = owed_webhook(&declaration, event_id, &topic, &payload, now_ms);
                    execute(tx, &owed).await?;
                }
            }
        }
    }
    Ok(())
}

/// Runs steps that chain no audit entry (a write's building blocks: postings, alerts, events).
pub(crate) async fn run_unaudited(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    steps: Vec<Step>,
) -> Result<()> {
    // No key: an audit step among them would chain an entry no key can verify.
    debug_assert!(!steps.iter().any(|s| matches!(s, Step::Audit(_))));
    run(tx, &[], steps).await
}

pub(crate) fn query(s: &Statement) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(s.sql));
    for p in &s.params {
        q = match p {
            Param::Int(v) => q.bind(*v),
            Param::Text(v) => q.bind(v.as_deref()),
        };
    }
    q
}

async fn execute(tx: &mut sqlx::Transaction<'_, sqlx::Any>, s: &Statement) -> Result<u64> {
    Ok(query(s).execute(&mut **tx).await?.rows_affected())
}

/// The embedded executor's half: the same steps on a rusqlite transaction.
pub(crate) fn run_embedded(
    tx: &rusqlite::Transaction<'_>,
    audit_key: &[u8],
    steps: Vec<Step>,
) -> Result<()> {
    for step in steps {
        match step {
            Step::Run(s) => {
                execute_embedded(tx, &s)?;
            }
            Step::RequireOne(s, error) => {
                if execute_embedded(tx, &s)? != 1 {
                    return Err(error);
                }
            }
            Step::When {
                statement,
                rows,
                then,
            } => {
                if execute_embedded(tx, &statement)? == rows {
                    run_embedded(tx, audit_key, then)?;
                }
            }
            Step::Audit(e) => {
                let (seq, prev) = query_row_embedded(tx, &statement!(AUDIT_NEXT), |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })?;
                for s in audit_tail(audit_key, seq, &prev, &e) {
                    execute_embedded(tx, &s)?;
                }
            }
            Step::Event {
                topic,
                payload,
                webhook_of,
                now_ms,
            } => {
                let event_id = query_row_embedded(
                    tx,
                    &statement!(OUTBOX_INSERT, &topic, &payload, now_ms),
                    |r| r.get::<_, i64>(0),
                )?;
                if let Some(declaration) = webhook_of {
                    let owed = owed_webhook(&declaration, event_id, &topic, &payload, now_ms);
                    execute_embedded(tx, &owed)?;
                }
            }
        }
    }
    Ok(())
}

/// The names of the first parameters, so that binding them allocates nothing.
const PARAMETER_NAMES: [&str; 16] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16",
];

/// Prepares (from the connection's cache) and binds each parameter by its `$N` name.
pub(crate) fn prepare_embedded<'c>(
    conn: &'c rusqlite::Connection,
    s: &Statement,
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut prepared = conn.prepare_cached(s.sql)?;
    for (i, p) in s.params.iter().enumerate() {
        let numbered;
        let name = match PARAMETER_NAMES.get(i) {
            Some(name) => *name,
            None => {
                numbered = format!("${}", i + 1);
                numbered.as_str()
            }
        };
        // A parameter the SQL does not use is not an error: `$2` may appear only in a branch.
        let Some(index) = prepared.parameter_index(name)? else {
            continue;
        };
        match p {
            Param::Int(v) => prepared.raw_bind_parameter(index, v)?,
            Param::Text(v) => prepared.raw_bind_parameter(index, v)?,
        }
    }
    Ok(prepared)
}

fn execute_embedded(conn: &rusqlite::Connection, s: &Statement) -> Result<u64> {
    let mut prepared = prepare_embedded(conn, s)?;
    Ok(prepared.raw_execute()? as u64)
}

fn query_row_embedded<T>(
    conn: &rusqlite::Connection,
    s: &Statement,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<T> {
    let mut prepared = prepare_embedded(conn, s)?;
    let mut rows = prepared.raw_query();
    match rows.next()? {
        Some(row) => Ok(read(row)?),
        None => Err(StoreError::NotFound(format!("a row from {}", s.sql))),
    }
}

/// A row's columns by name, whichever executor read it: decoders are written once against this.
pub(crate) trait Columns {
    fn int(&self, column: &str) -> Result<i64>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>>;
    fn text(&self, column: &str) -> Result<String>;
    fn opt_text(&self, column: &str) -> Result<Option<String>>;
}

impl Columns for sqlx::any::AnyRow {
    fn int(&self, column: &str) -> Result<i64> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>> {
        Ok(self.try_get(column)?)
    }
    fn text(&self, column: &str) -> Result<String> {
        Ok(self.try_get(column)?)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>> {
        Ok(self.try_get(column)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn int(&self, column: &str) -> Result<i64> {
        Ok(self.get(column)?)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>> {
        Ok(self.get(column)?)
    }
    fn text(&self, column: &str) -> Result<String> {
        Ok(self.get(column)?)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>> {
        Ok(self.get(column)?)
    }
}

impl crate::Store {
    /// Every row `s` reads, decoded; one that does not decode fails the read (fail closed).
    pub(crate) async fn fetch_all<T>(
        &self,
        s: &Statement,
        decode: impl Fn(&dyn Columns) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self.embedded() {
            Some(embedded) => embedded.read(|conn| {
                let mut prepared = prepare_embedded(conn, s)?;
                let mut rows = prepared.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(decode(row)?);
                }
                Ok(out)
            }),
            None => query(s)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|row| decode(row))
                .collect(),
        }
    }

    /// The first row `s` reads, decoded, if there is one.
    pub(crate) async fn fetch_optional<T>(
        &self,
        s: &Statement,
        decode: impl Fn(&dyn Columns) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.embedded() {
            Some(embedded) => embedded.read(|conn| {
                let mut prepared = prepare_embedded(conn, s)?;
                let mut rows = prepared.raw_query();
                rows.next()?.map(|row| decode(row)).transpose()
            }),
            None => query(s)
                .fetch_optional(self.pool())
                .await?
                .map(|row| decode(&row))
                .transpose(),
        }
    }

    /// The one row `s` reads, decoded.
    pub(crate) async fn fetch_one<T>(
        &self,
        s: &Statement,
        decode: impl Fn(&dyn Columns) -> Result<T>,
    ) -> Result<T> {
        self.fetch_optional(s, decode)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("a row from {}", s.sql)))
    }
}
