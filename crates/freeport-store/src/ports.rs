//! A port's inspection load per day: red-lane declarations admitted within its capacity, the queue
//! of those still waiting for their scan, the overflow turned to documentary check, and the
//! capacity an administrator set.

use serde::Serialize;

use freeport_core::lifecycle::DeclarationStatus;

use crate::records::IdempotencyRecord;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, StoreError, row_i64, row_string};

/// A port's day as the store holds it, with its channels'.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PortDayRow {
    pub admitted: i64,
    pub overflow: i64,
    /// Admitted declarations still waiting for their scan, oldest first.
    pub waiting: Vec<QueuedRow>,
    /// The capacities an administrator set, by port code or channel id (else the pack's).
    pub capacity_set: std::collections::BTreeMap<String, i64>,
    /// The emergency modes in force, by port code or channel id.
    pub modes: std::collections::BTreeMap<String, PortModeRow>,
    /// Each channel's day that has one: admitted and overflow, by channel id.
    pub channels: std::collections::BTreeMap<String, (i64, i64)>,
}

/// A red-lane declaration admitted at a port and waiting for its scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedRow {
    pub declaration_id: String,
    /// Its risk score in thousandths.
    pub score_milli: i64,
    /// The channel it was booked through, if any.
    pub channel: Option<String>,
}

/// An emergency mode in force at a port or at one of its channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortModeRow {
    /// The port's code or the channel's id.
    pub port: String,
    pub mode: String,
    pub reroute_to: Option<String>,
    pub reason: String,
    pub actor: String,
    pub since_ms: i64,
}

fn mode_from(r: &sqlx::any::AnyRow) -> Result<PortModeRow> {
    Ok(PortModeRow {
        port: row_string(r, "port")?,
        mode: row_string(r, "mode")?,
        reroute_to: crate::row_opt_string(r, "reroute_to")?,
        reason: row_string(r, "reason")?,
        actor: row_string(r, "actor")?,
        since_ms: row_i64(r, "since_ms")?,
    })
}

/// What capacity did with a red-lane declaration at its port, committed with the declaration.
#[derive(Debug, Clone)]
pub struct NewAdmission {
    pub port: String,
    pub day: String,
    pub capacity: i64,
    /// The channel it is booked through, with that channel's capacity.
    pub channel: Option<(String, i64)>,
    pub score_milli: i64,
    pub step: AdmissionStep,
}

#[derive(Debug, Clone)]
pub enum AdmissionStep {
    Admit,
    /// Admitted in the place of `declaration_id`, which goes to documentary check.
    Displace {
        declaration_id: String,
        /// The channel the displaced one was booked through, if any.
        channel: Option<String>,
        note: String,
        event_payload: String,
    },
    Overflow,
}

/// A day's row of a port or a channel, made if it is the first admission there today.
fn day_row(place: &str, day: &str) -> Step {
    Step::Run(statement!(
        "INSERT INTO port_days (port, day, admitted, overflow) VALUES ($1, $2, 0, 0) ON CONFLICT (port, day) DO NOTHING",
        place,
        day
    ))
}

/// One more admitted at a port or a channel, within its capacity (a concurrent admission that took
/// the last place is a conflict, and the declaration is decided again).
fn one_more_admitted(place: &str, day: &str, capacity: i64) -> Step {
    Step::RequireOne(
        statement!(
            "UPDATE port_days SET admitted = admitted + 1 WHERE port = $1 AND day = $2 AND admitted < $3",
            place,
            day,
            capacity
        ),
        StoreError::Conflict(format!(
            "the inspection capacity of {place} changed meanwhile"
        )),
    )
}

fn one_more_overflow(place: &str, day: &str) -> Step {
    Step::Run(statement!(
        "UPDATE port_days SET overflow = overflow + 1 WHERE port = $1 AND day = $2",
        place,
        day
    ))
}

/// The steps of an admission, after the declaration's own row.
pub(crate) fn admission_steps(
    declaration_id: &str,
    a: &NewAdmission,
    actor: &str,
    now_ms: i64,
) -> Vec<Step> {
    let channel = a.channel.as_ref().map(|(id, _)| id.clone());
    let mut steps = vec![day_row(&a.port, &a.day)];
    if let Some((id, _)) = &a.channel {
        steps.push(day_row(id, &a.day));
    }
    let queue = Step::Run(statement!(
        "INSERT INTO port_queue (declaration_id, port, day, score_milli, admitted_at_ms, channel) VALUES ($1, $2, $3, $4, $5, $6)",
        declaration_id,
        &a.port,
        &a.day,
        a.score_milli,
        now_ms,
        &channel
    ));
    match &a.step {
        AdmissionStep::Admit => {
            steps.push(one_more_admitted(&a.port, &a.day, a.capacity));
            if let Some((id, capacity)) = &a.channel {
                steps.push(one_more_admitted(id, &a.day, *capacity));
            }
            steps.push(queue);
        }
        AdmissionStep::Displace {
            declaration_id: displaced,
            channel: displaced_at,
            note,
            event_payload,
        } => {
            steps.extend(displaced_steps(a, displaced, note, actor, now_ms));
            // The port's count stands (one in, one out); a channel's moves with the place.
            if *displaced_at != channel {
                if let Some(at) = displaced_at {
                    steps.push(Step::Run(statement!(
                        "UPDATE port_days SET admitted = admitted - 1 WHERE port = $1 AND day = $2",
                        at,
                        &a.day
                    )));
                }
                if let Some((id, capacity)) = &a.channel {
                    steps.push(one_more_admitted(id, &a.day, *capacity));
                }
            }
            steps.push(one_more_overflow(&a.port, &a.day));
            if let Some(at) = displaced_at {
                steps.push(one_more_overflow(at, &a.day));
            }
            steps.push(queue);
            steps.push(Step::Event {
                topic: "declaration.status".to_owned(),
                payload: event_payload.clone(),
                webhook_of: Some(displaced.clone()),
                now_ms,
            });
        }
        AdmissionStep::Overflow => {
            steps.push(one_more_overflow(&a.port, &a.day));
            if let Some((id, _)) = &a.channel {
                steps.push(one_more_overflow(id, &a.day));
            }
        }
    }
    steps
}

/// A displaced declaration goes to documentary check: first the declaration, then its place in the
/// queue (the order a scan takes them in, so the two never wait on each other), audited.
fn displaced_steps(
    a: &NewAdmission,
    displaced: &str,
    note: &str,
    actor: &str,
    now_ms: i64,
) -> Vec<Step> {
    let decided = DeclarationStatus::Decided.as_str();
    let taken = || {
        StoreError::Conflict(format!(
            "the inspection capacity of {} changed meanwhile",
            a.port
        ))
    };
    vec![
        Step::RequireOne(
            statement!(
                "UPDATE declarations SET status = $1, lane = 'yellow', revision = revision + 1, updated_at_ms = $2 WHERE id = $3 AND status = 'awaiting_scan'",
                decided,
                now_ms,
                displaced
            ),
            taken(),
        ),
        Step::RequireOne(
            statement!(
                "DELETE FROM port_queue WHERE declaration_id = $1 AND port = $2 AND day = $3",
                displaced,
                &a.port,
                &a.day
            ),
            taken(),
        ),
        Step::Run(statement!(
            "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM declaration_events WHERE declaration_id = $1",
            displaced,
            decided,
            actor,
            note,
            now_ms
        )),
        Step::Audit(AuditEntry {
            at_ms: now_ms,
            actor: actor.to_owned(),
            action: "declaration.transition".to_owned(),
            subject: displaced.to_owned(),
            payload: serde_json::json!({ "from": "awaiting_scan", "to": decided, "note": note })
                .to_string(),
        }),
    ]
}

impl Store {
    /// `port`'s load on `day` with its `channels`': admitted and overflow counts, the queue
    /// waiting for its scan, the capacities an administrator set and the modes in force.
    pub async fn port_day(&self, port: &str, channels: &[&str], day: &str) -> Result<PortDayRow> {
        let ours = |place: &str| place == port || channels.contains(&place);
        let days = sqlx::query("SELECT port, admitted, overflow FROM port_days WHERE day = $1")
            .bind(day)
            .fetch_all(&self.pool)
            .await?;
        let waiting = sqlx::query("SELECT declaration_id, score_milli, channel FROM port_queue WHERE port = $1 AND day = $2 ORDER BY admitted_at_ms, declaration_id")
            .bind(port)
            .bind(day)
            .fetch_all(&self.pool)
            .await?;
        // Both tables hold a row a place at most: read whole.
        let set = sqlx::query("SELECT port, daily_inspection_capacity FROM port_settings")
            .fetch_all(&self.pool)
            .await?;
        let mut out = PortDayRow {
            waiting: waiting
                .iter()
                .map(|r| {
                    Ok(QueuedRow {
                        declaration_id: row_string(r, "declaration_id")?,
                        score_milli: row_i64(r, "score_milli")?,
                        channel: crate::row_opt_string(r, "channel")?,
                    })
                })
                .collect::<Result<_>>()?,
            ..PortDayRow::default()
        };
        for r in &days {
            let place = row_string(r, "port")?;
            let counts = (row_i64(r, "admitted")?, row_i64(r, "overflow")?);
            if place == port {
                (out.admitted, out.overflow) = counts;
            } else if ours(&place) {
                out.channels.insert(place, counts);
            }
        }
        for r in &set {
            let place = row_string(r, "port")?;
            if ours(&place) {
                out.capacity_set
                    .insert(place, row_i64(r, "daily_inspection_capacity")?);
            }
        }
        for m in self.port_modes().await? {
            if ours(&m.port) {
                out.modes.insert(m.port.clone(), m);
            }
        }
        Ok(out)
    }

    /// The emergency mode in force at `port`, if any.
    pub async fn port_mode(&self, port: &str) -> Result<Option<PortModeRow>> {
        let row = sqlx::query("SELECT port, mode, reroute_to, reason, actor, since_ms FROM port_modes WHERE port = $1")
            .bind(port)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(mode_from).transpose()
    }

    /// Every emergency mode in force, by port.
    pub async fn port_modes(&self) -> Result<Vec<PortModeRow>> {
        let rows = sqlx::query(
            "SELECT port, mode, reroute_to, reason, actor, since_ms FROM port_modes ORDER BY port",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mode_from).collect()
    }

    /// Puts a port in an emergency mode (replacing one in force), audited.
    pub async fn set_port_mode(
        &self,
        m: &PortModeRow,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let steps = vec![
            Step::Run(statement!(
                "INSERT INTO port_modes (port, mode, reroute_to, reason, actor, since_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (port) DO UPDATE SET mode = excluded.mode, reroute_to = excluded.reroute_to, reason = excluded.reason, actor = excluded.actor, since_ms = excluded.since_ms",
                &m.port,
                &m.mode,
                &m.reroute_to,
                &m.reason,
                &m.actor,
                m.since_ms
            )),
            Step::Audit(AuditEntry {
                at_ms: m.since_ms,
                actor: m.actor.clone(),
                action: "port.mode".to_owned(),
                subject: m.port.clone(),
                payload: serde_json::json!({ "mode": m.mode, "reroute_to": m.reroute_to, "reason": m.reason }).to_string(),
            }),
        ];
        self.write_steps(idempotency, m.since_ms, steps).await
    }

    /// The declarations decided at `port` while `mode` was in force there: what returning to
    /// normal leaves to regularise.
    pub async fn decided_in_mode(&self, mode: &PortModeRow) -> Result<Vec<crate::DeclarationRow>> {
        crate::declarations::in_port_mode(self, &mode.port, &mode.mode, mode.since_ms).await
    }

    /// Returns a port to normal operation: the mode read as `ended` goes (a concurrent change is a
    /// conflict), audited with the declarations left to regularise.
    pub async fn end_port_mode(
        &self,
        ended: &PortModeRow,
        to_regularise: &[String],
        actor: &str,
        reason: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let steps = vec![
            Step::RequireOne(
                statement!("DELETE FROM port_modes WHERE port = $1 AND mode = $2 AND since_ms = $3", &ended.port, &ended.mode, ended.since_ms),
                StoreError::Conflict(format!("the mode of {} changed meanwhile", ended.port)),
            ),
            Step::Audit(AuditEntry {
                at_ms: now_ms,
                actor: actor.to_owned(),
                action: "port.mode".to_owned(),
                subject: ended.port.clone(),
                payload: serde_json::json!({ "mode": "normal", "ended": ended.mode, "since_ms": ended.since_ms, "reason": reason, "to_regularise": to_regularise }).to_string(),
            }),
        ];
        self.write_steps(idempotency, now_ms, steps).await
    }

    /// The audit entries about `subject`, oldest first: (action, actor, payload, at_ms).
    pub async fn audit_trail(&self, subject: &str) -> Result<Vec<(String, String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT action, actor, payload, at_ms FROM audit_log WHERE subject = $1 ORDER BY seq",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    row_string(r, "action")?,
                    row_string(r, "actor")?,
                    row_string(r, "payload")?,
                    row_i64(r, "at_ms")?,
                ))
            })
            .collect()
    }

    /// Sets the daily inspection capacity of a port or a channel (`port` is its code or id),
    /// audited.
    pub async fn set_port_capacity(
        &self,
        port: &str,
        capacity: i64,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let steps = vec![
            Step::Run(statement!(
                "INSERT INTO port_settings (port, daily_inspection_capacity, actor, updated_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (port) DO UPDATE SET daily_inspection_capacity = $2, actor = $3, updated_at_ms = $4",
                port,
                capacity,
                actor,
                now_ms
            )),
            Step::Audit(AuditEntry {
                at_ms: now_ms,
                actor: actor.to_owned(),
                action: "port.capacity".to_owned(),
                subject: port.to_owned(),
                payload: serde_json::json!({ "daily_inspection_capacity": capacity }).to_string(),
            }),
        ];
        self.write_steps(idempotency, now_ms, steps).await
    }
}
