//! Travellers' departures from the island, recorded by carriers and the port (R4.3): the records
//! duty-free sales are checked against. Kept by person code; the document number is never stored.

use freeport_core::departure::{Departure, DepartureKind};
use freeport_core::identity::PersonDocument;
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{IdempotencyRecord, NewDeparture};

use crate::{Actor, AppResult, Permission, Platform};

/// A departure as a carrier or the port reports it, parsed.
#[derive(Debug, Clone)]
pub struct DepartureReport {
    pub document: PersonDocument,
    pub kind: DepartureKind,
    pub means: String,
    pub port: String,
    pub departs_at_ms: i64,
    pub leaves_country: bool,
}

/// Records a departure: the port must be one of the pack in force on its day.
pub async fn record(
    platform: &Platform,
    actor: &Actor,
    r: DepartureReport,
    answer: impl FnOnce(&Departure) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Departure> {
    actor.require(Permission::RecordDeparture)?;
    let departure_on = crate::clock::zone_day(r.departs_at_ms);
    let known = platform
        .pack
        .version_on(departure_on)
        .is_some_and(|v| v.ports.port(&r.port).is_some());
    if !known {
        return Err(FieldError::new(
            "port",
            FieldErrorKind::Unknown,
            "not a port of the pack in force on the departure day (GET /api/v1/ports)",
        )
        .into());
    }
    let departure = Departure {
        id: uuid::Uuid::now_v7().to_string(),
        kind: r.kind,
        means: r.means,
        port: r.port,
        departs_at_ms: r.departs_at_ms,
        departure_on,
        leaves_country: r.leaves_country,
    };
    let mut new = NewDeparture {
        person_code: platform.store.person_code(&r.document.canonical_key()),
        departure,
        actor: actor.user_id.clone(),
        idempotency: None,
        now_ms: platform.now_ms(),
    };
    new.idempotency = answer(&new.departure)?;
    platform.store.record_departure(&new).await?;
    Ok(new.departure)
}
