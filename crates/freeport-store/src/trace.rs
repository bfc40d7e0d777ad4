//! One item, one code (R4.9): a sold piece followed by its traceability number from the sale to
//! its hand-over at the pick-up point, the buyer's departure, or its return.

use freeport_core::trace::ItemState;
use serde::Serialize;

use crate::records::IdempotencyRecord;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, StoreError, row_i64, row_opt_i64, row_string};

/// A piece as the store follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRow {
    pub trace_code: String,
    pub sale_id: String,
    pub line: i64,
    pub state: ItemState,
    pub handed_over_at_ms: Option<i64>,
    pub departed_at_ms: Option<i64>,
    /// Who took it at the hand-over, by person code, when not its buyer.
    pub collected_by: Option<String>,
}

/// Where a piece moves on to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStep {
    /// Handed over to the buyer at the pick-up point (from sold).
    HandOver,
    /// Gone with the buyer through the port's passenger channel (from sold or handed over).
    Depart,
}

impl ItemStep {
    /// The state the piece enters.
    pub fn state(self) -> ItemState {
        match self {
            ItemStep::HandOver => ItemState::HandedOver,
            ItemStep::Depart => ItemState::Departed,
        }
    }
}

/// A piece moving on.
#[derive(Debug, Clone)]
pub struct ItemMove {
    pub trace_code: String,
    /// The sale it belongs to: a departure may release the sale's guarantee.
    pub sale_id: String,
    pub step: ItemStep,
    /// At a hand-over: who took the piece, by person code, when not its buyer.
    pub collected_by: Option<String>,
    pub actor: String,
    pub note: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

impl Store {
    /// Which of `codes` a sale holds already, in one read.
    pub async fn trace_codes_taken(&self, codes: &[String]) -> Result<Vec<String>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=codes.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT trace_code FROM duty_free_items WHERE trace_code IN ({}) ORDER BY trace_code",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for code in codes {
            q = q.bind(code);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| row_string(r, "trace_code"))
            .collect()
    }

    pub async fn item(&self, trace_code: &str) -> Result<Option<ItemRow>> {
        let row = sqlx::query("SELECT trace_code, sale_id, line, state, handed_over_at_ms, departed_at_ms, collected_by FROM duty_free_items WHERE trace_code = $1")
            .bind(trace_code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(ItemRow {
                trace_code: row_string(&r, "trace_code")?,
                sale_id: row_string(&r, "sale_id")?,
                line: row_i64(&r, "line")?,
                state: {
                    let state = row_string(&r, "state")?;
                    ItemState::parse(&state).ok_or_else(|| {
                        StoreError::Corrupt(format!("duty-free item state {state:?}"))
                    })?
                },
                handed_over_at_ms: row_opt_i64(&r, "handed_over_at_ms")?,
                departed_at_ms: row_opt_i64(&r, "departed_at_ms")?,
                collected_by: crate::row_opt_string(&r, "collected_by")?,
            })
        })
        .transpose()
    }

    /// Moves a piece on, if it is in a state it may leave (else a `Conflict`), audited.
    pub async fn move_item(&self, m: &ItemMove) -> Result<()> {
        let moved = match m.step {
            ItemStep::HandOver => statement!(
                "UPDATE duty_free_items SET state = 'handed_over', handed_over_at_ms = $1, updated_at_ms = $1, collected_by = $3 WHERE trace_code = $2 AND state = 'sold'",
                m.now_ms,
                &m.trace_code,
                &m.collected_by
            ),
            ItemStep::Depart => statement!(
                "UPDATE duty_free_items SET state = 'departed', departed_at_ms = $1, updated_at_ms = $1 WHERE trace_code = $2 AND state IN ('sold', 'handed_over')",
                m.now_ms,
                &m.trace_code
            ),
        };
        let mut steps = vec![
            Step::RequireOne(
                moved,
                StoreError::Conflict(format!(
                    "item {} changed meanwhile: read it again",
                    m.trace_code
                )),
            ),
            Step::Audit(AuditEntry {
                at_ms: m.now_ms,
                actor: m.actor.clone(),
                action: format!("duty_free.item.{}", m.step.state().as_str()),
                subject: m.trace_code.clone(),
                payload: serde_json::json!({ "to": m.step.state(), "note": m.note, "collected_by": m.collected_by }).to_string(),
            }),
        ];
        if m.step == ItemStep::Depart {
            steps.push(guarantee_release(&m.sale_id, &m.actor, m.now_ms));
        }
        self.write_steps(m.idempotency.as_ref(), m.now_ms, steps)
            .await
    }
}

/// R4.5(4): a sale's guarantee is released when every piece taken against it has left with the
/// buyer through a port (verified by an officer against the departure on record) or come back to
/// the shop: as many such pieces as its guarantee lines sold, so a sale whose pieces were never
/// numbered is never released by itself. Audited and announced under the sale when it happens.
pub(crate) fn guarantee_release(sale_id: &str, actor: &str, now_ms: i64) -> Step {
    let payload = serde_json::json!({ "sale": sale_id }).to_string();
    Step::When {
        statement: statement!(
            "UPDATE duty_free_sales SET guarantee_released_at_ms = $1, updated_at_ms = $1 WHERE id = $2 AND state = 'committed' AND guarantee_fen > 0 AND guarantee_released_at_ms IS NULL AND (SELECT COUNT(*) FROM duty_free_items i JOIN duty_free_sale_items l ON l.sale_id = i.sale_id AND l.line = i.line WHERE i.sale_id = $2 AND l.pickup = 'guarantee_and_take' AND i.state IN ('departed', 'returned')) = (SELECT COALESCE(SUM(l.quantity_milli), 0) / 1000 FROM duty_free_sale_items l WHERE l.sale_id = $2 AND l.pickup = 'guarantee_and_take')",
            now_ms,
            sale_id
        ),
        rows: 1,
        then: vec![
            Step::Audit(AuditEntry {
                at_ms: now_ms,
                actor: actor.to_owned(),
                action: "duty_free.guarantee_released".to_owned(),
                subject: sale_id.to_owned(),
                payload: payload.clone(),
            }),
            Step::Event {
                topic: "duty_free.guarantee_released".to_owned(),
                payload,
                webhook_of: None,
                now_ms,
            },
        ],
    }
}
