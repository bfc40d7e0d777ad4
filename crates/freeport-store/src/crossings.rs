//! Crossings at a port's channel (gate-out): goods leaving on a released declaration close it;
//! goods crossing without one are recorded all the same, with an alert.

use serde::Serialize;
use sqlx::Row;

use freeport_core::lifecycle::DeclarationStatus;

use crate::records::IdempotencyRecord;
use crate::risk::NewAlert;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, StoreError};

/// A crossing to record. `declaration` is the released declaration it closes, with the revision
/// read; `alert` is raised instead when the goods crossed without one.
#[derive(Debug, Clone)]
pub struct NewCrossing {
    pub id: String,
    pub port: String,
    pub channel: String,
    pub declaration_id: Option<String>,
    /// The released declaration's revision, when the crossing is cleared.
    pub cleared_revision: Option<i64>,
    pub means: String,
    pub actor: String,
    pub alert: Option<NewAlert>,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossingRow {
    pub id: String,
    pub port: String,
    pub channel: String,
    pub declaration_id: Option<String>,
    pub means: String,
    pub cleared: bool,
    pub actor: String,
    pub at_ms: i64,
}

fn crossing_steps(c: &NewCrossing) -> Vec<Step> {
    let cleared = c.cleared_revision.is_some();
    let mut steps = vec![Step::Run(statement!(
        "INSERT INTO crossings (id, port, channel, declaration_id, means, cleared, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &c.id,
        &c.port,
        &c.channel,
        &c.declaration_id,
        &c.means,
        i64::from(cleared),
        &c.actor,
        c.now_ms
    ))];
    if let (Some(id), Some(revision)) = (&c.declaration_id, c.cleared_revision) {
        let exited = DeclarationStatus::Exited.as_str();
        steps.push(Step::RequireOne(
            statement!(
                "UPDATE declarations SET status = $1, revision = revision + 1, updated_at_ms = $2 WHERE id = $3 AND revision = $4 AND status = 'released'",
                exited,
                c.now_ms,
                id,
                revision
            ),
            StoreError::Conflict(format!("declaration {id} changed before its crossing")),
        ));
        steps.push(Step::Run(statement!(
            "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM declaration_events WHERE declaration_id = $1",
            id,
            exited,
            &c.actor,
            &format!("crossed at {} by {}", c.channel, c.means),
            c.now_ms
        )));
        steps.push(Step::Event {
            topic: "declaration.status".to_owned(),
            payload: serde_json::json!({ "id": id, "status": exited, "port": c.port, "channel": c.channel })
                .to_string(),
            webhook_of: Some(id.clone()),
            now_ms: c.now_ms,
        });
    }
    if let Some(a) = &c.alert {
        steps.extend(crate::risk::alert_steps(std::slice::from_ref(a), c.now_ms));
    }
    steps.push(Step::Audit(AuditEntry {
        at_ms: c.now_ms,
        actor: c.actor.clone(),
        action: "port.crossing".to_owned(),
        subject: c.id.clone(),
        payload: serde_json::json!({
            "port": c.port,
            "channel": c.channel,
            "declaration": c.declaration_id,
            "means": c.means,
            "cleared": cleared,
        })
        .to_string(),
    }));
    steps
}

impl Store {
    /// Records a crossing with what it closes or raises, its audit entry and its events, in one
    /// transaction.
    pub async fn record_crossing(&self, c: &NewCrossing) -> Result<()> {
        self.write_steps(c.idempotency.as_ref(), c.now_ms, crossing_steps(c))
            .await
    }

    /// The crossings recorded at `port`, oldest first, from `from_ms` (inclusive) to `to_ms`
    /// (exclusive).
    pub async fn crossings(
        &self,
        port: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<CrossingRow>> {
        let rows = sqlx::query("SELECT id, port, channel, declaration_id, means, cleared, actor, at_ms FROM crossings WHERE port = $1 AND at_ms >= $2 AND at_ms < $3 ORDER BY at_ms, id")
            .bind(port)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CrossingRow {
                    id: crate::row_string(r, "id")?,
                    port: crate::row_string(r, "port")?,
                    channel: crate::row_string(r, "channel")?,
                    declaration_id: crate::row_opt_string(r, "declaration_id")?,
                    means: crate::row_string(r, "means")?,
                    cleared: crate::row_i64(r, "cleared")? == 1,
                    actor: crate::row_string(r, "actor")?,
                    at_ms: crate::row_i64(r, "at_ms")?,
                })
            })
            .collect()
    }
}

/// A declaration crossing at a port, with the times of its stages, for the time-release figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearanceRow {
    pub port: String,
    pub channel: Option<String>,
    pub lane: Option<String>,
    pub flow: String,
    pub credit_class: Option<String>,
    pub lodged_ms: i64,
    pub released_ms: Option<i64>,
    pub exited_ms: Option<i64>,
    pub inspected: bool,
}

impl Store {
    /// The declarations lodged at a port from `from_ms` (inclusive) to `to_ms` (exclusive), at
    /// most `limit`, each with the first time it was released, the time it exited and the channel
    /// it crossed at, and whether it went through a manual inspection.
    pub async fn clearances(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClearanceRow>> {
        let rows = sqlx::query(
            "SELECT d.port, d.lane, d.flow, d.risk_json, d.created_at_ms, \
             (SELECT MIN(e.at_ms) FROM declaration_events e WHERE e.declaration_id = d.id AND e.status = 'released') AS released_ms, \
             (SELECT MIN(e.at_ms) FROM declaration_events e WHERE e.declaration_id = d.id AND e.status = 'exited') AS exited_ms, \
             (SELECT COUNT(*) FROM declaration_events e WHERE e.declaration_id = d.id AND e.status = 'under_inspection') AS inspections, \
             (SELECT MIN(c.channel) FROM crossings c WHERE c.declaration_id = d.id AND c.cleared = 1) AS channel \
             FROM declarations d WHERE d.port IS NOT NULL AND d.created_at_ms >= $1 AND d.created_at_ms < $2 \
             ORDER BY d.created_at_ms, d.id LIMIT $3",
        )
        .bind(from_ms)
        .bind(to_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let risk = crate::risk_record::read(r, "risk_json")?;
                Ok(ClearanceRow {
                    port: crate::row_string(r, "port")?,
                    channel: crate::row_opt_string(r, "channel")?,
                    lane: crate::row_opt_string(r, "lane")?,
                    flow: crate::row_string(r, "flow")?,
                    credit_class: risk.map(|r| r.credit_class),
                    lodged_ms: crate::row_i64(r, "created_at_ms")?,
                    released_ms: r.try_get::<Option<i64>, _>("released_ms")?,
                    exited_ms: r.try_get::<Option<i64>, _>("exited_ms")?,
                    inspected: crate::row_i64(r, "inspections")? > 0,
                })
            })
            .collect()
    }
}

/// A passenger checked at a channel, to record.
#[derive(Debug, Clone)]
pub struct NewPassengerCheck {
    pub id: String,
    pub port: String,
    pub channel: String,
    pub person_code: String,
    pub departure_on: String,
    pub tax_fen: i64,
    pub inspect: bool,
    pub check_json: String,
    pub pack_version: String,
    pub actor: String,
    pub idempotency: Option<crate::records::IdempotencyRecord>,
    pub now_ms: i64,
}

impl Store {
    /// Per duty-free category, what `person_code`'s accepted purchases for the departure on
    /// `departure_on` hold, in thousandths.
    pub async fn departure_purchases(
        &self,
        person_code: &str,
        departure_on: &str,
    ) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT i.category, CAST(SUM(i.quantity_milli) AS BIGINT) AS bought FROM duty_free_sale_items i JOIN duty_free_sales s ON s.id = i.sale_id WHERE s.person_code = $1 AND s.departure_on = $2 AND s.accepted = 1 GROUP BY i.category ORDER BY i.category")
            .bind(person_code)
            .bind(departure_on)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    crate::row_string(r, "category")?,
                    crate::row_i64(r, "bought")?,
                ))
            })
            .collect()
    }

    /// Records a passenger's check with its audit entry and event.
    pub async fn record_passenger_check(&self, c: &NewPassengerCheck) -> Result<()> {
        let steps = vec![
            Step::Run(statement!(
                "INSERT INTO passenger_checks (id, port, channel, person_code, departure_on, tax_fen, inspect, check_json, pack_version, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &c.id,
                &c.port,
                &c.channel,
                &c.person_code,
                &c.departure_on,
                c.tax_fen,
                i64::from(c.inspect),
                &c.check_json,
                &c.pack_version,
                &c.actor,
                c.now_ms
            )),
            Step::Audit(AuditEntry {
                at_ms: c.now_ms,
                actor: c.actor.clone(),
                action: "port.passenger".to_owned(),
                subject: c.id.clone(),
                payload: serde_json::json!({ "port": c.port, "channel": c.channel, "person": c.person_code, "tax_fen": c.tax_fen, "inspect": c.inspect }).to_string(),
            }),
            Step::Event {
                topic: "port.passenger_checked".to_owned(),
                payload: serde_json::json!({ "id": c.id, "port": c.port, "channel": c.channel, "tax_fen": c.tax_fen, "inspect": c.inspect }).to_string(),
                webhook_of: None,
                now_ms: c.now_ms,
            },
        ];
        self.write_steps(c.idempotency.as_ref(), c.now_ms, steps)
            .await
    }
}
