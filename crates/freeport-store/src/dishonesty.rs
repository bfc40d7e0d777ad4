//! The duty-free shopping serious-dishonesty list (R4.7), by person code: who is listed, from
//! when, until when and on what ground. Listing is a write of its own (a conviction or a serious
//! penalty an officer records) or follows a second ban in the same transaction as the ban.

use serde::Serialize;

use crate::records::IdempotencyRecord;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, row_i64, row_opt_string, row_string};

/// A listing as an officer records it.
#[derive(Debug, Clone)]
pub struct NewDishonestyListing {
    pub id: String,
    pub person_code: String,
    pub listed_on: String,
    /// Inclusive.
    pub until: String,
    /// `conviction`, `serious_penalty`, `two_or_more_penalties` or `other`.
    pub ground: String,
    pub reason: String,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DishonestyRow {
    pub id: String,
    pub person_code: String,
    pub listed_on: String,
    pub until: String,
    pub ground: String,
    pub reason: String,
    pub at_ms: i64,
}

fn listing_from(r: &sqlx::any::AnyRow) -> Result<DishonestyRow> {
    Ok(DishonestyRow {
        id: row_string(r, "id")?,
        person_code: row_string(r, "person_code")?,
        listed_on: row_string(r, "listed_on")?,
        until: row_string(r, "until")?,
        ground: row_string(r, "ground")?,
        reason: row_string(r, "reason")?,
        at_ms: row_i64(r, "at_ms")?,
    })
}

impl Store {
    pub async fn list_dishonest(&self, l: &NewDishonestyListing) -> Result<()> {
        let payload = serde_json::json!({
            "id": l.id,
            "person_code": l.person_code,
            "listed_on": l.listed_on,
            "until": l.until,
            "ground": l.ground,
        })
        .to_string();
        let steps = vec![
            Step::Run(statement!(
                "INSERT INTO duty_free_dishonesty (id, person_code, listed_on, until, ground, reason, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &l.id,
                &l.person_code,
                &l.listed_on,
                &l.until,
                &l.ground,
                &l.reason,
                &l.actor,
                l.now_ms
            )),
            Step::Audit(AuditEntry {
                at_ms: l.now_ms,
                actor: l.actor.clone(),
                action: "duty_free.dishonesty_listed".to_owned(),
                subject: l.person_code.clone(),
                payload: payload.clone(),
            }),
            Step::Event {
                topic: "duty_free.dishonesty_listed".to_owned(),
                payload,
                webhook_of: None,
                now_ms: l.now_ms,
            },
        ];
        self.write_steps(l.idempotency.as_ref(), l.now_ms, steps)
            .await
    }

    /// The latest end of a listing of the person made on or before `on`.
    pub async fn dishonest_until(&self, person_code: &str, on: &str) -> Result<Option<String>> {
        sqlx::query(
            "SELECT MAX(until) AS until FROM duty_free_dishonesty WHERE person_code = $1 AND listed_on <= $2",
        )
        .bind(person_code)
        .bind(on)
        .fetch_one(&self.pool)
        .await
        .map(|r| row_opt_string(&r, "until"))?
    }

    /// Listings in force on `on` (or every listing), in id order after `after`.
    pub async fn dishonesty_listings(
        &self,
        on: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<DishonestyRow>> {
        let rows = match on {
            Some(day) => sqlx::query("SELECT id, person_code, listed_on, until, ground, reason, at_ms FROM duty_free_dishonesty WHERE listed_on <= $1 AND until >= $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(day)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            None => sqlx::query("SELECT id, person_code, listed_on, until, ground, reason, at_ms FROM duty_free_dishonesty WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(listing_from).collect()
    }
}
