//! Hainan's second-line credit lists (R6.2): who is on the white list or the key-concern list.

use serde::Serialize;

use crate::records::IdempotencyRecord;
use crate::steps::{AuditEntry, Step, statement};
use crate::{Result, Store, row_i64, row_string};

/// A party's listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListingRow {
    pub party: String,
    /// `operator` or `individual`.
    pub kind: String,
    /// `white_list` or `key_concern`.
    pub list: String,
    pub reason: String,
    pub actor: String,
    pub since_ms: i64,
}

/// A change of listing: `list` `None` takes the party off every list.
#[derive(Debug, Clone, Copy)]
pub struct NewListing<'a> {
    pub party: &'a str,
    /// `operator` or `individual`.
    pub kind: &'a str,
    pub list: Option<&'a str>,
    pub reason: &'a str,
    pub actor: &'a str,
    pub now_ms: i64,
}

impl Store {
    /// The list `party` is on, if any.
    pub async fn second_line_listing(&self, party: &str) -> Result<Option<ListingRow>> {
        let row = sqlx::query("SELECT party, kind, list, reason, actor, since_ms FROM second_line_lists WHERE party = $1")
            .bind(party)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|r| {
                Ok(ListingRow {
                    party: row_string(r, "party")?,
                    kind: row_string(r, "kind")?,
                    list: row_string(r, "list")?,
                    reason: row_string(r, "reason")?,
                    actor: row_string(r, "actor")?,
                    since_ms: row_i64(r, "since_ms")?,
                })
            })
            .transpose()
    }

    /// Puts `party` on a list (`Some`) or takes it off every list (`None`), audited.
    pub async fn set_second_line_listing(
        &self,
        l: NewListing<'_>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let NewListing {
            party,
            kind,
            list,
            reason,
            actor,
            now_ms,
        } = l;
        let mut steps = Vec::new();
        match list {
            Some(list) => steps.push(Step::Run(statement!(
                "INSERT INTO second_line_lists (party, kind, list, reason, actor, since_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (party) DO UPDATE SET kind = excluded.kind, list = excluded.list, reason = excluded.reason, actor = excluded.actor, since_ms = excluded.since_ms",
                party,
                kind,
                list,
                reason,
                actor,
                now_ms
            ))),
            None => steps.push(Step::Run(statement!(
                "DELETE FROM second_line_lists WHERE party = $1",
                party
            ))),
        }
        steps.push(Step::Audit(AuditEntry {
            at_ms: now_ms,
            actor: actor.to_owned(),
            action: "second_line.list".to_owned(),
            subject: party.to_owned(),
            payload: serde_json::json!({ "kind": kind, "list": list, "reason": reason })
                .to_string(),
        }));
        self.write_steps(idempotency, now_ms, steps).await
    }
}
