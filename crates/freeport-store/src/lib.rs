//! Freeport's persistence: SQLite (the embedded default) and PostgreSQL (production) from one code
//! base, through sqlx's `Any` driver and SQL both dialects accept. The declaration's straight line
//! (its snapshot reads and its commit) is written once as statements (`steps`) and runs on the
//! SQLite file directly (`embedded`), without sqlx's thread hand-off per statement.
//!
//! One transaction per decision: the declaration with its decision, the account-book postings and
//! balances, waiver locks, the audit entry, the outbox event and the idempotency record commit
//! together or not at all. This is the only crate that contains SQL.

#![forbid(unsafe_code)]

mod audit;
pub mod domain;
mod embedded;
pub mod fresh;
mod keys;
mod risk_record;
mod states;
pub(crate) mod steps;

use steps::statement;

use std::sync::Arc;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use tokio::sync::Mutex;

pub use audit::AuditReport;
pub use keys::KeyName;
pub use states::StoredState;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The embedded SQLite file, driven directly (`embedded`).
    #[error("database: {0}")]
    Embedded(#[from] rusqlite::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The paired assertion behind the core's balance check: a concurrent outflow got there first.
    #[error(
        "account book of {enterprise} holds less {hs_code} ({unit}) than the posting takes out"
    )]
    InsufficientBalance {
        enterprise: String,
        hs_code: String,
        unit: String,
    },
    /// An inflow would take a balance past the largest quantity a book row holds
    /// (9 223 372 036 854 775.807 units).
    #[error(
        "account book of {enterprise} cannot hold more {hs_code} ({unit}): the balance would pass its ceiling"
    )]
    BalanceCeiling {
        enterprise: String,
        hs_code: String,
        unit: String,
    },
    /// Another request with the same idempotency key committed first; its stored result stands.
    #[error("idempotency key {0} is already used")]
    IdempotencyKeyTaken(String),
    /// A state change lost a race (the declaration changed since it was read) or a key was reused.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A stored row that no longer decodes into its domain type. Nothing is decided without it: a
    /// skipped waiver lock or credit record would loosen the decision.
    #[error("a stored record does not read: {0}")]
    Corrupt(String),
    /// This node's key is not the one the database was written with.
    #[error(
        "the configured {0} key is not the one this database was written with; start every node with the same keys (see the operating guide)"
    )]
    KeyMismatch(KeyName),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store. Cheap to clone: it shares one pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time, and a deferred transaction that upgrades to a write lock
    /// can fail at once with SQLITE_BUSY instead of waiting. Writers queue here instead; PostgreSQL
    /// needs no gate (its row locks and conditional updates serialise what must be serial).
    write_gate: Option<Arc<Mutex<()>>>,
    /// The SQLite file driven directly for the declaration's straight line (see `embedded`).
    embedded: Option<Arc<embedded::Embedded>>,
    audit_key: Arc<Vec<u8>>,
    /// Keys person codes; separate from the audit key (see `keys`).
    person_code_key: Arc<Vec<u8>>,
    /// Audit keys retired by `rotate_audit_key`, to verify the entries written under them.
    previous_audit_keys: Arc<Vec<Vec<u8>>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
/// The most connections a SQLite pool opens, whatever the configuration asks.
const SQLITE_CONNECTIONS: u32 = 3;

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://path/to/file.db` or `postgres://user@host/db`) with at most
    /// `max_connections` connections. The audit key keys the audit chain's HMAC.
    pub async fn connect(url: &str, max_connections: u32, audit_key: &[u8]) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(std::time::Duration::from_secs(10));
        if backend == Backend::Sqlite {
            // An embedded file cannot have gone away, so the ping before each use is only a round
            // trip to the connection's thread; and beyond a few connections, more only contend for
            // the cores and invalidate each other's page caches (the writer gate serialises writers
            // anyway). Measured in BENCHMARKS.md: +15 % declarations/s end to end.
            options = options
                .test_before_acquire(false)
                .max_connections(max_connections.clamp(1, SQLITE_CONNECTIONS));
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; the busy timeout absorbs checkpoints;
                    // foreign keys are off by default in SQLite.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
        } else {
            url.to_owned()
        };
        let pool = options.connect(&url).await?;
        let embedded = match backend {
            // After the pool: its first connection has created the file.
            Backend::Sqlite => embedded::Embedded::open(&url)?.map(Arc::new),
            Backend::Postgres => None,
        };
        Ok(Store {
            pool,
            backend,
            write_gate: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            embedded,
            audit_key: Arc::new(audit_key.to_vec()),
            // Until `with_person_code_key` sets the configured one: a key derived from the audit
            // key, for tests and tools that never compute person codes across nodes.
            person_code_key: Arc::new(
                keys::mac_hex(audit_key, b"freeport derived person-code key").into_bytes(),
            ),
            previous_audit_keys: Arc::new(Vec::new()),
        })
    }

    /// The same store knowing the audit keys retired before the current one.
    pub fn with_previous_audit_keys(mut self, keys: Vec<Vec<u8>>) -> Store {
        self.previous_audit_keys = Arc::new(keys);
        self
    }

    /// The same store with the person-code key set.
    pub fn with_person_code_key(mut self, key: &[u8]) -> Store {
        self.person_code_key = Arc::new(key.to_vec());
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn embedded(&self) -> Option<&embedded::Embedded> {
        self.embedded.as_deref()
    }

    /// Applies the backend's migrations (append-only files under `migrations/<backend>/`).
    ///
    /// Several nodes may start at once on a new database. PostgreSQL serialises them with an
    /// advisory lock; SQLite has none, so a node that lost the race (its migration failed because
    /// another node's committed first) reads the applied list again and carries on. Each migration
    /// is one transaction, so a failed attempt leaves nothing half applied.
    pub async fn migrate(&self) -> Result<()> {
        let mut attempt = 0;
        loop {
            let result = match self.backend {
                Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
                Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
            };
            match result {
                Ok(()) => return Ok(()),
                Err(_) if attempt < 10 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Begins a write: waits for the SQLite writer gate, begins the transaction, and saves the
    /// request's idempotency record first, so that a concurrent duplicate stops here with
    /// `IdempotencyKeyTaken` before it writes anything. Every transactional write starts here.
    pub(crate) async fn begin_write(
        &self,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
    ) -> Result<Write<'_>> {
        let gate = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        if let Some(record) = idempotency {
            steps::run_unaudited(&mut tx, vec![steps::idempotency_step(record, now_ms)]).await?;
        }
        Ok(Write { tx, _gate: gate })
    }

    /// Runs a write given as steps in one transaction, the idempotency record first: on the
    /// embedded SQLite file directly when the store has one, else through sqlx (`begin_write`).
    pub(crate) async fn write_steps(
        &self,
        idempotency: Option<&IdempotencyRecord>,
        now_ms: i64,
        steps: Vec<steps::Step>,
    ) -> Result<()> {
        match &self.embedded {
            Some(embedded) => {
                let _gate = self.write_guard().await;
                let mut all = Vec::with_capacity(steps.len() + 1);
                all.extend(idempotency.map(|r| steps::idempotency_step(r, now_ms)));
                all.extend(steps);
                embedded.write(|tx| steps::run_embedded(tx, &self.audit_key, all))
            }
            None => {
                let mut tx = self.begin_write(idempotency, now_ms).await?;
                steps::run(&mut tx, &self.audit_key, steps).await?;
                tx.commit().await
            }
        }
    }

    async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }

    /// Runs one statement outside the store's API: for administration tasks and tests that need
    /// to reach behind it (creating a database, tampering with the audit log to prove detection).
    pub async fn raw_execute(&self, sql: &str) -> Result<u64> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// An audit log row as stored.
struct StoredEntry {
    seq: i64,
    at_ms: i64,
    actor: String,
    action: String,
    subject: String,
    payload: String,
    prev_hash: String,
    hash: String,
}

/// The audit chain walked from its first entry: which key it is under, the last hash, how many
/// entries so far.
struct ChainWalk<'k> {
    known: Vec<&'k [u8]>,
    key: Option<&'k [u8]>,
    prev: String,
    count: i64,
}

impl ChainWalk<'_> {
    /// Checks the next entry against the chain so far; the problem, if it breaks the chain.
    fn follow(&mut self, row: &StoredEntry) -> std::result::Result<(), String> {
        self.count += 1;
        let seq = row.seq;
        // `count` is the sequence number this row must have.
        if seq != self.count {
            return Err(format!(
                "entry {} is missing (found {seq} next)",
                self.count
            ));
        }
        if row.prev_hash != self.prev {
            return Err(format!("entry {seq} does not follow entry {}", seq - 1));
        }
        let entry = audit::Entry {
            seq,
            at_ms: row.at_ms,
            actor: &row.actor,
            action: &row.action,
            subject: &row.subject,
            payload: &row.payload,
        };
        // The first entry tells which known key the chain began with.
        let candidates: Vec<&[u8]> = match self.key {
            Some(k) => vec![k],
            None => self.known.clone(),
        };
        let Some(k) = candidates
            .into_iter()
            .find(|k| audit::entry_hash(k, &self.prev, &entry) == row.hash)
        else {
            return Err(if self.key.is_some() {
                format!("entry {seq} was altered: its content does not match its hash")
            } else {
                format!(
                    "entry {seq} does not match its hash under any configured audit key: it was altered, or the chain began under a retired key that is not configured (audit_previous_keys)"
                )
            });
        };
        self.key = Some(k);
        if row.action == keys::KEY_ROTATED {
            let incoming = keys::rotation_target(&row.payload);
            let Some(next) = self
                .known
                .iter()
                .find(|k| Some(keys::audit_check_value(k)) == incoming)
            else {
                return Err(format!(
                    "entries after {seq} are keyed with an audit key that is not configured (set audit_previous_keys)"
                ));
            };
            self.key = Some(next);
        }
        self.prev = row.hash.clone();
        Ok(())
    }
}

/// A write transaction holding the SQLite writer gate; dropped without `commit`, it rolls back and
/// then releases the gate (fields drop in order).
pub(crate) struct Write<'s> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _gate: Option<tokio::sync::MutexGuard<'s, ()>>,
}

impl Write<'_> {
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for Write<'_> {
    type Target = sqlx::Transaction<'static, sqlx::Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Write<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

pub mod account_books;
pub use account_books::*;
pub mod batch_exit;
pub use batch_exit::{BatchShipment, ConsolidationRow, NewConsolidation, SuspensionRow};
pub mod crossings;
pub use crossings::{ClearanceRow, CrossingRow, NewCrossing, NewPassengerCheck};
pub mod ports;
pub mod second_line_lists;
pub use ports::{AdmissionStep, NewAdmission, PortDayRow, PortModeRow, QueuedRow};
pub use second_line_lists::{ListingRow, NewListing};
pub mod declarations;
pub use declarations::*;
pub mod records;
pub use records::*;
pub mod registry;
pub use registry::*;
pub mod users;
pub use users::*;
pub mod duty_free;
pub use duty_free::{
    ChangeWindow, HistoryQuery, NewSale, NewSaleItem, SaleItemRow, SaleRecord, SaleRow, Shop,
    TravellerHistory,
};
mod dishonesty;
pub use dishonesty::{DishonestyRow, NewDishonestyListing};
mod departures;
pub use departures::{NewDeparture, SaleForDetection, TakenAtOnce};
mod quota_ledger;
mod trace;
pub use quota_ledger::{DaySales, NewReturn, ReturnLine, Settling};
pub use trace::{ItemMove, ItemRow, ItemStep};
pub mod risk;
pub use risk::{
    AlertRow, AlertStep, AssessedDeclaration, CreditRecordRow, DeclarationChange, DeclaredTotals,
    FlowLine, LiveKeys, NewAlert, NewCreditRecord, NewInspection, RiskModelRow, RuleSetChange,
    RuleSetRow,
};
pub mod supervision;
pub use supervision::{DisposalRow, NewDisposal, NewSupervisedItem, SupervisedItemRow};
pub mod webhooks;
pub use webhooks::{AttemptOutcome, DeliveryRow, DueDelivery, Webhook};

/// Appends an audit entry inside `tx`, chaining it to the head.
pub(crate) async fn append_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &[u8],
    at_ms: i64,
    actor: &str,
    action: &str,
    subject: &str,
    payload: &str,
) -> Result<()> {
    let entry = steps::AuditEntry {
        at_ms,
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        payload: payload.to_owned(),
    };
    steps::run(tx, key, vec![steps::Step::Audit(entry)]).await
}

impl Store {
    /// Recomputes the whole chain: any edited, inserted or deleted entry shows as a break.
    ///
    /// The chain starts under one of the known keys (the current one or a previous one) and
    /// changes key only at an `audit.key_rotated` entry, itself keyed with the outgoing key, whose
    /// payload names the incoming key's check value.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let head = statement!("SELECT seq, hash FROM audit_head WHERE id = 1");
        let (head_seq, head_hash) = self
            .fetch_one(&head, |r| Ok((r.int("seq")?, r.text("hash")?)))
            .await?;
        let log = statement!(
            "SELECT seq, at_ms, actor, action, subject, payload, prev_hash, hash FROM audit_log ORDER BY seq"
        );
        let entries = self
            .fetch_all(&log, |r| {
                Ok(StoredEntry {
                    seq: r.int("seq")?,
                    at_ms: r.int("at_ms")?,
                    actor: r.text("actor")?,
                    action: r.text("action")?,
                    subject: r.text("subject")?,
                    payload: r.text("payload")?,
                    prev_hash: r.text("prev_hash")?,
                    hash: r.text("hash")?,
                })
            })
            .await?;
        let known: Vec<&[u8]> = std::iter::once(self.audit_key.as_slice())
            .chain(self.previous_audit_keys.iter().map(Vec::as_slice))
            .collect();
        let mut walk = ChainWalk {
            known,
            key: None,
            prev: "genesis".to_owned(),
            count: 0,
        };
        let broken = |problem: String, entries: i64| AuditReport {
            entries,
            intact: false,
            problem: Some(problem),
        };
        for entry in &entries {
            if let Err(problem) = walk.follow(entry) {
                return Ok(broken(problem, walk.count));
            }
        }
        if head_seq != walk.count || head_hash != walk.prev {
            return Ok(broken(
                format!(
                    "the head records {head_seq} entries but the log holds {}: entries were removed or added at the end",
                    walk.count
                ),
                walk.count,
            ));
        }
        Ok(AuditReport {
            entries: walk.count,
            intact: true,
            problem: None,
        })
    }
}

pub(crate) fn row_i64(row: &(impl steps::Columns + ?Sized), column: &str) -> Result<i64> {
    row.int(column)
}

pub(crate) fn row_string(row: &(impl steps::Columns + ?Sized), column: &str) -> Result<String> {
    row.text(column)
}

pub(crate) fn row_opt_i64(
    row: &(impl steps::Columns + ?Sized),
    column: &str,
) -> Result<Option<i64>> {
    row.opt_int(column)
}

pub(crate) fn row_opt_string(
    row: &(impl steps::Columns + ?Sized),
    column: &str,
) -> Result<Option<String>> {
    row.opt_text(column)
}

pub use audit::sha256_hex;
