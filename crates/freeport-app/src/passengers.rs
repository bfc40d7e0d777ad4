//! Passengers at the second-line channels (R5): a traveller's carried duty-free goods checked
//! against the person's purchase records, the excess taxed at the inbound-articles rates (R5.2,
//! R8.8), and the inspection decided by the person's second-line class (R6.2).

use std::collections::BTreeMap;

use freeport_core::identity::PersonDocument;
use freeport_core::money::Cny;
use freeport_core::passenger::{Carried, CheckedLine, check};
use freeport_core::port::ChannelKind;
use freeport_core::second_line_credit::{SecondLineClass, inspect_passenger};
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{IdempotencyRecord, NewPassengerCheck};
use rust_decimal::Decimal;
use serde_json::Value;
use time::Date;

use crate::{Actor, AppError, AppResult, Permission, Platform};

/// What a passenger declares at a channel.
#[derive(Debug, Clone)]
pub struct PassengerDeclaration {
    pub port: String,
    pub channel: String,
    pub document: PersonDocument,
    pub departure_on: Date,
    pub carried: Vec<Carried>,
}

/// A passenger checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub record: NewPassengerCheck,
    pub class: SecondLineClass,
    pub lines: Vec<CheckedLine>,
    pub tax: Cny,
    pub explanation: Value,
}

/// An officer at a passenger channel checks a traveller.
pub async fn check_passenger(
    platform: &Platform,
    actor: &Actor,
    p: PassengerDeclaration,
    answer: impl FnOnce(&Checked) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Checked> {
    actor.require(Permission::Examine)?;
    let (port, channel) = crate::second_line::known_channel(platform, &p.port, &p.channel)?;
    let version = platform
        .pack
        .version_on(platform.today())
        .ok_or_else(|| AppError::NotFound("no such port".into()))?;
    if channel.kind != ChannelKind::Passenger {
        return Err(FieldError::new(
            "channel",
            FieldErrorKind::Inconsistent,
            "passengers are checked at a passenger channel",
        )
        .into());
    }
    let person_code = platform.store.person_code(&p.document.canonical_key());
    let purchased: BTreeMap<String, Decimal> = platform
        .store
        .departure_purchases(&person_code, &p.departure_on.to_string())
        .await?
        .into_iter()
        .map(|(category, milli)| (category, Decimal::new(milli, 3)))
        .collect();
    let class = crate::second_line_credit::individual(platform, &person_code).await?;
    let checked = check(version, &p.carried, &purchased)?;
    let inspect = inspect_passenger(class, checked.excess);
    let explanation = serde_json::to_value(&checked.explanation)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let check_json = serde_json::json!({
        "lines": checked.lines,
        "tax": checked.tax,
        "class": class,
        "explanation": explanation,
    })
    .to_string();
    let mut done = Checked {
        record: NewPassengerCheck {
            id: uuid::Uuid::now_v7().to_string(),
            port: port.code.clone(),
            channel: channel.id.clone(),
            person_code,
            departure_on: p.departure_on.to_string(),
            tax_fen: checked.tax.fen(),
            inspect,
            check_json,
            pack_version: version.id.clone(),
            actor: actor.user_id.clone(),
            idempotency: None,
            now_ms: platform.now_ms(),
        },
        class,
        lines: checked.lines,
        tax: checked.tax,
        explanation,
    };
    done.record.idempotency = answer(&done)?;
    platform.store.record_passenger_check(&done.record).await?;
    Ok(done)
}
