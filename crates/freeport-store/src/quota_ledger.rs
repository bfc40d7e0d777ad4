//! The duty-free quota ledger's writes (R4.2, R4.4): a sale reserved or sold, a reservation
//! settled (committed, voided, expired), committed goods returned. Each change to a person's quota
//! year or a departure's allowance is a conditional update, the paired assertion to
//! `freeport_core::quota_ledger`: spent + reserved never passes the quota, taken never passes a
//! limit, and nothing goes below zero, whatever runs at the same time on any node.

use freeport_core::quota_ledger::{SaleState, Scheme};
use freeport_core::trace::ItemState;

use crate::duty_free::NewSale;
use crate::records::IdempotencyRecord;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, StoreError};

fn quota_row(scheme: Scheme, person_code: &str, year: i64) -> Step {
    Step::Run(statement!(
        "INSERT INTO duty_free_quota (scheme, person_code, year, spent_fen, reserved_fen) VALUES ($1, $2, $3, 0, 0) ON CONFLICT (scheme, person_code, year) DO NOTHING",
        scheme.as_str(),
        person_code,
        year
    ))
}

fn allowance_row(person_code: &str, departure_on: &str, category: &str) -> Step {
    Step::Run(statement!(
        "INSERT INTO duty_free_allowances (person_code, departure_on, category, taken_milli) VALUES ($1, $2, $3, 0) ON CONFLICT (person_code, departure_on, category) DO NOTHING",
        person_code,
        departure_on,
        category
    ))
}

/// Each category's limit quantity in a set of lines, in thousandths.
fn by_category<'a>(items: impl Iterator<Item = (&'a str, i64)>) -> Vec<(&'a str, i64)> {
    let mut out: std::collections::BTreeMap<&str, i64> = Default::default();
    for (category, milli) in items {
        *out.entry(category).or_insert(0) += milli;
    }
    out.into_iter().collect()
}

/// Gives back `milli` of `category` to the departure's allowance.
fn release_allowance(person_code: &str, departure_on: &str, category: &str, milli: i64) -> Step {
    Step::RequireOne(
        statement!(
            "UPDATE duty_free_allowances SET taken_milli = taken_milli - $4 WHERE person_code = $1 AND departure_on = $2 AND category = $3 AND taken_milli >= $4",
            person_code,
            departure_on,
            category,
            milli
        ),
        StoreError::Corrupt(format!(
            "the allowance of {category} for the departure of {departure_on} holds less than a sale gives back"
        )),
    )
}

/// Everything a sale writes: the sale and its lines, and for a pending or committed one the quota
/// and allowances it holds, each within its bound.
pub(crate) fn sale_steps(s: &NewSale) -> Vec<Step> {
    let settled = (s.state != SaleState::Pending).then_some(s.now_ms);
    let mut steps = vec![Step::Run(statement!(
        "INSERT INTO duty_free_sales (id, shop, person_code, departure_on, sold_on, accepted, total_fen, pack_version, decision_json, actor, at_ms, state, quota_year, expires_at_ms, settled_at_ms, guarantee_fen, scheme, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $11)",
        &s.id,
        &s.shop,
        &s.person_code,
        &s.departure_on,
        &s.sold_on,
        i64::from(s.state != SaleState::Refused),
        s.total_fen,
        &s.pack_version,
        &s.decision_json,
        &s.actor,
        s.now_ms,
        s.state.as_str(),
        s.year,
        s.expires_at_ms,
        settled,
        s.guarantee_fen,
        s.scheme.as_str()
    ))];
    for (line, item) in s.items.iter().enumerate() {
        steps.push(Step::Run(statement!(
            "INSERT INTO duty_free_sale_items (sale_id, line, category, description, unit_price_fen, quantity_milli, limit_quantity_milli, pickup) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &s.id,
            i64::try_from(line).unwrap_or(i64::MAX),
            &item.category,
            &item.description,
            item.unit_price_fen,
            item.quantity_milli,
            item.limit_quantity_milli,
            &item.pickup
        )));
        if s.state.holds_quota() {
            let state = if s.state == SaleState::Pending {
                ItemState::Reserved
            } else {
                ItemState::Sold
            }
            .as_str();
            for code in &item.trace_codes {
                steps.push(Step::RequireOne(
                    statement!(
                        "INSERT INTO duty_free_items (trace_code, sale_id, line, state, updated_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trace_code) DO NOTHING",
                        code,
                        &s.id,
                        i64::try_from(line).unwrap_or(i64::MAX),
                        state,
                        s.now_ms
                    ),
                    StoreError::Conflict(format!(
                        "traceability number {code} was sold meanwhile"
                    )),
                ));
            }
        }
    }
    for (kind, code) in &s.links {
        steps.push(Step::Run(statement!(
            "INSERT INTO duty_free_sale_links (sale_id, kind, link_code) VALUES ($1, $2, $3)",
            &s.id,
            kind,
            code
        )));
    }
    if s.state.holds_quota() {
        steps.extend(holding_steps(s));
    }
    let payload = serde_json::json!({
        "id": s.id,
        "shop": s.shop,
        "state": s.state,
        "total_fen": s.total_fen,
        "expires_at_ms": s.expires_at_ms,
        "decision_sha256": crate::sha256_hex(s.decision_json.as_bytes()),
    })
    .to_string();
    steps.push(Step::Audit(AuditEntry {
        at_ms: s.now_ms,
        actor: s.actor.clone(),
        action: "duty_free.sale".to_owned(),
        subject: s.id.clone(),
        payload: payload.clone(),
    }));
    steps.push(Step::Event {
        topic: "duty_free.sale".to_owned(),
        payload,
        webhook_of: None,
        now_ms: s.now_ms,
    });
    steps.extend(crate::risk::alert_steps(&s.alerts, s.now_ms));
    steps
}

/// The quota and allowances a pending or committed sale holds, each a conditional update.
fn holding_steps(s: &NewSale) -> Vec<Step> {
    let held = if s.state == SaleState::Pending {
        "UPDATE duty_free_quota SET reserved_fen = reserved_fen + $1 WHERE person_code = $2 AND year = $3 AND spent_fen + reserved_fen + $1 <= $4 AND scheme = $5"
    } else {
        "UPDATE duty_free_quota SET spent_fen = spent_fen + $1 WHERE person_code = $2 AND year = $3 AND spent_fen + reserved_fen + $1 <= $4 AND scheme = $5"
    };
    let mut steps = vec![
        quota_row(s.scheme, &s.person_code, s.year),
        Step::RequireOne(
            statement!(
                held,
                s.total_fen,
                &s.person_code,
                s.year,
                s.annual_quota_fen,
                s.scheme.as_str()
            ),
            StoreError::Conflict(
                "another sale spent the quota first; decide the sale again".to_owned(),
            ),
        ),
    ];
    // A sale without a departure (residents' goods, R4.5(6), R4.11) holds no departure's
    // allowance: its limits were checked on the sale alone.
    let taken = if s.departure_on.is_empty() {
        Vec::new()
    } else {
        by_category(
            s.items
                .iter()
                .map(|i| (i.category.as_str(), i.limit_quantity_milli)),
        )
    };
    for (category, milli) in taken {
        steps.push(allowance_row(&s.person_code, &s.departure_on, category));
        let limit = s
            .limits
            .iter()
            .find(|(c, _)| c == category)
            .map_or(i64::MAX, |(_, l)| *l);
        steps.push(Step::RequireOne(
            statement!(
                "UPDATE duty_free_allowances SET taken_milli = taken_milli + $4 WHERE person_code = $1 AND departure_on = $2 AND category = $3 AND taken_milli <= $5 - $4",
                &s.person_code,
                &s.departure_on,
                category,
                milli,
                limit
            ),
            StoreError::Conflict(format!(
                "another sale of this departure took {category} first; decide the sale again"
            )),
        ));
    }
    steps
}

/// A pending reservation settled: committed, voided by the till, or expired.
#[derive(Debug, Clone)]
pub struct Settling {
    pub sale_id: String,
    pub scheme: Scheme,
    /// `Committed`, `Voided` or `Expired`.
    pub to: SaleState,
    pub person_code: String,
    pub quota_year: i64,
    pub departure_on: String,
    pub total_fen: i64,
    /// The sale's lines: category and limit quantity in thousandths.
    pub items: Vec<(String, i64)>,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

/// Committed goods given back, line by line.
#[derive(Debug, Clone)]
pub struct NewReturn {
    pub id: String,
    pub sale_id: String,
    pub scheme: Scheme,
    pub person_code: String,
    pub quota_year: i64,
    pub departure_on: String,
    pub lines: Vec<ReturnLine>,
    pub reason: String,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    pub line: i64,
    pub category: String,
    /// Pieces returned, in thousandths.
    pub quantity_milli: i64,
    /// Their share of the limit quantity, in thousandths: what goes back to the allowance.
    pub limit_milli: i64,
    /// What the buyer gets back and the quota regains.
    pub refund_fen: i64,
}

impl NewReturn {
    pub fn refund_fen(&self) -> i64 {
        self.lines.iter().map(|l| l.refund_fen).sum()
    }
}

fn announced(subject: &str, action: &str, actor: &str, payload: String, now_ms: i64) -> [Step; 2] {
    [
        Step::Audit(AuditEntry {
            at_ms: now_ms,
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            payload: payload.clone(),
        }),
        Step::Event {
            topic: action.to_owned(),
            payload,
            webhook_of: None,
            now_ms,
        },
    ]
}

fn settle_steps(s: &Settling) -> Vec<Step> {
    let mut steps = vec![Step::RequireOne(
        statement!(
            "UPDATE duty_free_sales SET state = $1, settled_at_ms = $2, updated_at_ms = $2 WHERE id = $3 AND state = 'pending'",
            s.to.as_str(),
            s.now_ms,
            &s.sale_id
        ),
        StoreError::Conflict(format!(
            "the reservation {} was settled meanwhile",
            s.sale_id
        )),
    )];
    let quota = if s.to == SaleState::Committed {
        "UPDATE duty_free_quota SET reserved_fen = reserved_fen - $1, spent_fen = spent_fen + $1 WHERE person_code = $2 AND year = $3 AND reserved_fen >= $1 AND scheme = $4"
    } else {
        "UPDATE duty_free_quota SET reserved_fen = reserved_fen - $1 WHERE person_code = $2 AND year = $3 AND reserved_fen >= $1 AND scheme = $4"
    };
    steps.push(Step::RequireOne(
        statement!(
            quota,
            s.total_fen,
            &s.person_code,
            s.quota_year,
            s.scheme.as_str()
        ),
        StoreError::Corrupt(format!(
            "the quota year of the reservation {} holds less than it reserved",
            s.sale_id
        )),
    ));
    steps.push(Step::Run(if s.to == SaleState::Committed {
        statement!(
            "UPDATE duty_free_items SET state = 'sold', updated_at_ms = $1 WHERE sale_id = $2",
            s.now_ms,
            &s.sale_id
        )
    } else {
        // A reservation that did not go through frees its pieces' numbers for another sale.
        statement!("DELETE FROM duty_free_items WHERE sale_id = $1", &s.sale_id)
    }));
    if s.to != SaleState::Committed && !s.departure_on.is_empty() {
        for (category, milli) in by_category(s.items.iter().map(|(c, m)| (c.as_str(), *m))) {
            steps.push(release_allowance(
                &s.person_code,
                &s.departure_on,
                category,
                milli,
            ));
        }
    }
    let payload =
        serde_json::json!({ "id": s.sale_id, "state": s.to, "total_fen": s.total_fen }).to_string();
    steps.extend(announced(
        &s.sale_id,
        "duty_free.settled",
        &s.actor,
        payload,
        s.now_ms,
    ));
    steps
}

fn return_steps(r: &NewReturn) -> Vec<Step> {
    let refund = r.refund_fen();
    let mut steps = vec![Step::RequireOne(
        statement!(
            "UPDATE duty_free_sales SET returned_fen = returned_fen + $1, updated_at_ms = $3 WHERE id = $2 AND state = 'committed' AND returned_fen + $1 <= total_fen",
            refund,
            &r.sale_id,
            r.now_ms
        ),
        StoreError::Conflict(format!(
            "the sale {} is not committed, or was returned meanwhile",
            r.sale_id
        )),
    )];
    for l in &r.lines {
        steps.push(Step::RequireOne(
            statement!(
                "UPDATE duty_free_sale_items SET returned_milli = returned_milli + $1 WHERE sale_id = $2 AND line = $3 AND returned_milli + $1 <= quantity_milli",
                l.quantity_milli,
                &r.sale_id,
                l.line
            ),
            StoreError::Conflict(format!(
                "line {} of the sale {} was returned meanwhile",
                l.line, r.sale_id
            )),
        ));
        // The pieces returned, among those not gone with the buyer, in number order.
        steps.push(Step::Run(statement!(
            "UPDATE duty_free_items SET state = 'returned', updated_at_ms = $1 WHERE trace_code IN (SELECT trace_code FROM duty_free_items WHERE sale_id = $2 AND line = $3 AND state IN ('sold', 'handed_over') ORDER BY trace_code LIMIT $4)",
            r.now_ms,
            &r.sale_id,
            l.line,
            l.quantity_milli / 1000
        )));
        steps.push(Step::Run(statement!(
            "INSERT INTO duty_free_returns (id, sale_id, line, quantity_milli, refund_fen, reason, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &r.id,
            &r.sale_id,
            l.line,
            l.quantity_milli,
            l.refund_fen,
            &r.reason,
            &r.actor,
            r.now_ms
        )));
    }
    steps.push(Step::RequireOne(
        statement!(
            "UPDATE duty_free_quota SET spent_fen = spent_fen - $1 WHERE person_code = $2 AND year = $3 AND spent_fen >= $1 AND scheme = $4",
            refund,
            &r.person_code,
            r.quota_year,
            r.scheme.as_str()
        ),
        StoreError::Corrupt(format!(
            "the quota year of the sale {} holds less than its return gives back",
            r.sale_id
        )),
    ));
    let departure = (!r.departure_on.is_empty()).then_some(());
    for (category, milli) in departure
        .into_iter()
        .flat_map(|()| by_category(r.lines.iter().map(|l| (l.category.as_str(), l.limit_milli))))
    {
        steps.push(release_allowance(
            &r.person_code,
            &r.departure_on,
            category,
            milli,
        ));
    }
    steps.push(crate::trace::guarantee_release(
        &r.sale_id, &r.actor, r.now_ms,
    ));
    let payload = serde_json::json!({
        "id": r.id,
        "sale": r.sale_id,
        "refund_fen": refund,
        "lines": r.lines.iter().map(|l| serde_json::json!({ "line": l.line, "quantity_milli": l.quantity_milli, "refund_fen": l.refund_fen })).collect::<Vec<_>>(),
        "reason": r.reason,
    })
    .to_string();
    steps.extend(announced(
        &r.sale_id,
        "duty_free.returned",
        &r.actor,
        payload,
        r.now_ms,
    ));
    steps
}

impl Store {
    /// Settles a pending reservation; one settled already is a `Conflict`.
    pub async fn settle_sale(&self, s: &Settling) -> Result<()> {
        self.write_steps(s.idempotency.as_ref(), s.now_ms, settle_steps(s))
            .await
    }

    /// Records a return of committed goods, giving back their price and allowance.
    pub async fn return_goods(&self, r: &NewReturn) -> Result<()> {
        self.write_steps(r.idempotency.as_ref(), r.now_ms, return_steps(r))
            .await
    }

    /// Pending reservations past their deadline at `now_ms`, oldest first: of one person, or of
    /// everyone.
    pub async fn overdue_reservations(
        &self,
        person_code: Option<&str>,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<String>> {
        let rows = match person_code {
            Some(p) => sqlx::query("SELECT id FROM duty_free_sales WHERE person_code = $1 AND state = 'pending' AND expires_at_ms <= $2 ORDER BY expires_at_ms, id LIMIT $3")
                .bind(p)
                .bind(now_ms)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            None => sqlx::query("SELECT id FROM duty_free_sales WHERE state = 'pending' AND expires_at_ms <= $1 ORDER BY expires_at_ms, id LIMIT $2")
                .bind(now_ms)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(|r| crate::row_string(r, "id")).collect()
    }

    /// A person's year of a scheme as the ledger holds it: (spent, reserved) in fen.
    pub async fn quota_year(
        &self,
        scheme: Scheme,
        person_code: &str,
        year: i64,
    ) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT spent_fen, reserved_fen FROM duty_free_quota WHERE person_code = $1 AND year = $2 AND scheme = $3",
        )
        .bind(person_code)
        .bind(year)
        .bind(scheme.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map_or(Ok((0, 0)), |r| {
            Ok((
                crate::row_i64(&r, "spent_fen")?,
                crate::row_i64(&r, "reserved_fen")?,
            ))
        })
    }

    /// What a person's purchases for a departure hold of each category, in thousandths.
    pub async fn allowances(
        &self,
        person_code: &str,
        departure_on: &str,
    ) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT category, taken_milli FROM duty_free_allowances WHERE person_code = $1 AND departure_on = $2 ORDER BY category")
            .bind(person_code)
            .bind(departure_on)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    crate::row_string(r, "category")?,
                    crate::row_i64(r, "taken_milli")?,
                ))
            })
            .collect()
    }
}

/// A shop's sales of one day in one state: how many, their total and what returns gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySales {
    pub day: String,
    pub state: SaleState,
    pub count: i64,
    pub total_fen: i64,
    pub returned_fen: i64,
}

impl Store {
    /// `shop`'s sales from `from` to `to` (sale days, inclusive), by day and state.
    pub async fn sales_by_day(&self, shop: &str, from: &str, to: &str) -> Result<Vec<DaySales>> {
        let rows = sqlx::query("SELECT sold_on, state, COUNT(*) AS n, CAST(COALESCE(SUM(total_fen), 0) AS BIGINT) AS total, CAST(COALESCE(SUM(returned_fen), 0) AS BIGINT) AS returned FROM duty_free_sales WHERE shop = $1 AND sold_on >= $2 AND sold_on <= $3 GROUP BY sold_on, state ORDER BY sold_on, state")
            .bind(shop)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let state = crate::row_string(r, "state")?;
                Ok(DaySales {
                    day: crate::row_string(r, "sold_on")?,
                    state: SaleState::parse(&state).ok_or_else(|| {
                        StoreError::Corrupt(format!("duty-free sale state {state:?}"))
                    })?,
                    count: crate::row_i64(r, "n")?,
                    total_fen: crate::row_i64(r, "total")?,
                    returned_fen: crate::row_i64(r, "returned")?,
                })
            })
            .collect()
    }
}
