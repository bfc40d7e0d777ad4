//! A traveller's departure from the island, as a carrier or the port records it (R4.3): duty-free
//! is sold only to a buyer with a departure on record, and the departure day the till gives must
//! be that departure's. Departures are records, never a date the operator types.

use serde::Serialize;
use time::Date;

/// How the traveller leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartureKind {
    Flight,
    Train,
    Ship,
}

impl DepartureKind {
    pub const ALL: [DepartureKind; 3] = [
        DepartureKind::Flight,
        DepartureKind::Train,
        DepartureKind::Ship,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DepartureKind::Flight => "flight",
            DepartureKind::Train => "train",
            DepartureKind::Ship => "ship",
        }
    }

    pub fn parse(text: &str) -> Option<DepartureKind> {
        DepartureKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A departure on record for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Departure {
    pub id: String,
    pub kind: DepartureKind,
    /// The flight, train or ship number.
    pub means: String,
    /// The port it leaves from (a port of the pack).
    pub port: String,
    /// When it leaves, in ms since the epoch, and the zone's day of it.
    pub departs_at_ms: i64,
    pub departure_on: Date,
    /// Leaving the country, not only the island (R4.3 distinguishes them).
    pub leaves_country: bool,
}
