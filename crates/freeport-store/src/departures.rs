//! Travellers' departures as carriers and the port record them (R4.3), by person code.

use freeport_core::departure::{Departure, DepartureKind};

use crate::records::IdempotencyRecord;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, StoreError, row_i64, row_string};

/// A departure to record for a person.
#[derive(Debug, Clone)]
pub struct NewDeparture {
    pub person_code: String,
    pub departure: Departure,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

fn departure_from(r: &sqlx::any::AnyRow) -> Result<Departure> {
    let kind = row_string(r, "kind")?;
    let day = row_string(r, "departure_on")?;
    Ok(Departure {
        id: row_string(r, "id")?,
        kind: DepartureKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("departure kind {kind:?}")))?,
        means: row_string(r, "means")?,
        port: row_string(r, "port")?,
        departs_at_ms: row_i64(r, "departs_at_ms")?,
        departure_on: freeport_core::calendar::parse_day("departure_on", &day)
            .map_err(|_| StoreError::Corrupt(format!("departure day {day:?}")))?,
        leaves_country: row_i64(r, "leaves_country")? == 1,
    })
}

impl Store {
    /// Records a departure, audited and announced (the person code only, never the document).
    pub async fn record_departure(&self, d: &NewDeparture) -> Result<()> {
        let x = &d.departure;
        let day = x.departure_on.to_string();
        let payload = serde_json::json!({
            "id": x.id, "kind": x.kind, "means": x.means, "port": x.port,
            "departs_at_ms": x.departs_at_ms, "leaves_country": x.leaves_country,
        })
        .to_string();
        let steps = vec![
            Step::Run(statement!(
                "INSERT INTO departures (id, person_code, kind, means, port, departs_at_ms, departure_on, leaves_country, recorded_by, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &x.id,
                &d.person_code,
                x.kind.as_str(),
                &x.means,
                &x.port,
                x.departs_at_ms,
                &day,
                i64::from(x.leaves_country),
                &d.actor,
                d.now_ms
            )),
            Step::Audit(AuditEntry {
                at_ms: d.now_ms,
                actor: d.actor.clone(),
                action: "departure.recorded".to_owned(),
                subject: x.id.clone(),
                payload: payload.clone(),
            }),
            Step::Event {
                topic: "departure.recorded".to_owned(),
                payload,
                webhook_of: None,
                now_ms: d.now_ms,
            },
        ];
        self.write_steps(d.idempotency.as_ref(), d.now_ms, steps)
            .await
    }

    /// A person's departures on `day`, earliest first.
    pub async fn departures_on(&self, person_code: &str, day: &str) -> Result<Vec<Departure>> {
        let rows = sqlx::query("SELECT id, kind, means, port, departs_at_ms, departure_on, leaves_country FROM departures WHERE person_code = $1 AND departure_on = $2 ORDER BY departs_at_ms, id")
            .bind(person_code)
            .bind(day)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(departure_from).collect()
    }
}
