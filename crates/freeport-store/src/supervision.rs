//! Supervised items and their disposals.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use freeport_core::supervision::SupervisedState;

use crate::account_books::{NewPosting, apply_posting};
use crate::records::outbox;
use crate::states::row_state;
use crate::{
    IdempotencyRecord, Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string,
};

/// A supervised item to record with the declaration that entered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSupervisedItem {
    pub id: String,
    pub enterprise: String,
    pub line: i64,
    pub hs_code: String,
    pub origin: String,
    pub consumption_tax_item: Option<String>,
    pub kind: String,
    pub years: i64,
    pub released_on: String,
    pub supervised_until: String,
    pub unit: String,
    pub quantity_milli: i64,
    pub customs_value_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisedItemRow {
    pub id: String,
    pub enterprise: String,
    pub declaration_id: String,
    pub line: i64,
    pub hs_code: String,
    pub origin: String,
    pub consumption_tax_item: Option<String>,
    pub kind: String,
    pub years: i64,
    pub released_on: String,
    pub supervised_until: String,
    pub unit: String,
    pub quantity_milli: i64,
    pub customs_value_fen: i64,
    pub state: SupervisedState,
    pub revision: i64,
    pub updated_at_ms: i64,
}

const ITEM_COLUMNS: &str = "id, enterprise, declaration_id, line, hs_code, origin, consumption_tax_item, kind, years, released_on, supervised_until, unit, quantity_milli, customs_value_fen, state, revision, updated_at_ms";

fn item_from(r: &AnyRow) -> Result<SupervisedItemRow> {
    Ok(SupervisedItemRow {
        id: row_string(r, "id")?,
        enterprise: row_string(r, "enterprise")?,
        declaration_id: row_string(r, "declaration_id")?,
        line: row_i64(r, "line")?,
        hs_code: row_string(r, "hs_code")?,
        origin: row_string(r, "origin")?,
        consumption_tax_item: row_opt_string(r, "consumption_tax_item")?,
        kind: row_string(r, "kind")?,
        years: row_i64(r, "years")?,
        released_on: row_string(r, "released_on")?,
        supervised_until: row_string(r, "supervised_until")?,
        unit: row_string(r, "unit")?,
        quantity_milli: row_i64(r, "quantity_milli")?,
        customs_value_fen: row_i64(r, "customs_value_fen")?,
        state: row_state(r, "state")?,
        revision: row_i64(r, "revision")?,
        updated_at_ms: row_i64(r, "updated_at_ms")?,
    })
}

/// A disposal with its back taxes, and what it leaves of the item.
#[derive(Debug, Clone)]
pub struct NewDisposal {
    pub id: String,
    pub item_id: String,
    /// The item's revision the assessment was made on: a concurrent disposal makes this one a
    /// `Conflict` instead of disposing of the same goods twice.
    pub expected_revision: i64,
    pub enterprise: String,
    pub kind: String,
    pub on_day: String,
    pub days_diverted: Option<i64>,
    pub quantity_milli: i64,
    pub disposed_value_fen: i64,
    pub back_tax_value_fen: i64,
    pub tariff_fen: i64,
    pub consumption_tax_fen: i64,
    pub vat_fen: i64,
    pub pack_version: String,
    pub assessment_json: String,
    /// The goods leaving the account book, for a transfer or an early release.
    pub posting: Option<NewPosting>,
    pub remaining_quantity_milli: i64,
    pub remaining_value_fen: i64,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

pub(crate) async fn insert_items(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    declaration_id: &str,
    items: &[NewSupervisedItem],
    now_ms: i64,
) -> Result<()> {
    crate::steps::run_unaudited(tx, item_steps(declaration_id, items, now_ms)).await
}

/// The goods a declaration puts under supervision.
pub(crate) fn item_steps(
    declaration_id: &str,
    items: &[NewSupervisedItem],
    now_ms: i64,
) -> Vec<crate::steps::Step> {
    items
        .iter()
        .map(|i| {
            crate::steps::Step::Run(crate::steps::statement!(
                "INSERT INTO supervised_items (id, enterprise, declaration_id, line, hs_code, origin, consumption_tax_item, kind, years, released_on, supervised_until, unit, quantity_milli, customs_value_fen, state, revision, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'supervised', 1, $15, $15)",
                &i.id,
                &i.enterprise,
                declaration_id,
                i.line,
                &i.hs_code,
                &i.origin,
                &i.consumption_tax_item,
                &i.kind,
                i.years,
                &i.released_on,
                &i.supervised_until,
                &i.unit,
                i.quantity_milli,
                i.customs_value_fen,
                now_ms
            ))
        })
        .collect()
}

/// Withdraws the items a declaration entered (it is cancelled or amended) and records the
/// replacement set; refused once any of them has been disposed of, as those taxes stand.
pub(crate) async fn replace_items(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    declaration_id: &str,
    items: &[NewSupervisedItem],
    now_ms: i64,
) -> Result<()> {
    let disposed = sqlx::query("SELECT COUNT(*) AS n FROM disposals d JOIN supervised_items i ON i.id = d.item_id WHERE i.declaration_id = $1")
        .bind(declaration_id)
        .fetch_one(&mut **tx)
        .await?;
    if row_i64(&disposed, "n")? > 0 {
        return Err(StoreError::Conflict(
            "goods of this declaration have been disposed of under supervision; that stands"
                .to_owned(),
        ));
    }
    sqlx::query("UPDATE supervised_items SET state = 'withdrawn', revision = revision + 1, updated_at_ms = $2 WHERE declaration_id = $1 AND state = 'supervised'")
        .bind(declaration_id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    insert_items(tx, declaration_id, items, now_ms).await
}

impl Store {
    pub async fn supervised_items(
        &self,
        enterprise: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<SupervisedItemRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM supervised_items WHERE enterprise = $1 AND id > $2 ORDER BY id LIMIT $3"
        )))
        .bind(enterprise)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from).collect()
    }

    pub async fn supervised_item(&self, id: &str) -> Result<Option<SupervisedItemRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM supervised_items WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(item_from).transpose()
    }

    /// Commits a disposal: the disposal with its taxes, what remains of the item, the goods
    /// leaving the book (if they do), the audit entry, the event and the idempotency record.
    pub async fn dispose(&self, d: &NewDisposal) -> Result<()> {
        let mut tx = self.begin_write(d.idempotency.as_ref(), d.now_ms).await?;
        let state = if d.remaining_quantity_milli == 0 {
            SupervisedState::Disposed
        } else {
            SupervisedState::Supervised
        };
        let updated = sqlx::query("UPDATE supervised_items SET quantity_milli = $1, customs_value_fen = $2, state = $3, revision = revision + 1, updated_at_ms = $4 WHERE id = $5 AND revision = $6 AND state = 'supervised'")
            .bind(d.remaining_quantity_milli)
            .bind(d.remaining_value_fen)
            .bind(state.as_str())
            .bind(d.now_ms)
            .bind(&d.item_id)
            .bind(d.expected_revision)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if updated != 1 {
            return Err(StoreError::Conflict(
                "the item changed since it was read (another disposal?); read it again".to_owned(),
            ));
        }
        sqlx::query("INSERT INTO disposals (id, item_id, enterprise, kind, on_day, days_diverted, quantity_milli, disposed_value_fen, back_tax_value_fen, tariff_fen, consumption_tax_fen, vat_fen, pack_version, assessment_json, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)")
            .bind(&d.id)
            .bind(&d.item_id)
            .bind(&d.enterprise)
            .bind(&d.kind)
            .bind(&d.on_day)
            .bind(d.days_diverted)
            .bind(d.quantity_milli)
            .bind(d.disposed_value_fen)
            .bind(d.back_tax_value_fen)
            .bind(d.tariff_fen)
            .bind(d.consumption_tax_fen)
            .bind(d.vat_fen)
            .bind(&d.pack_version)
            .bind(&d.assessment_json)
            .bind(&d.actor)
            .bind(d.now_ms)
            .execute(&mut **tx)
            .await?;
        if let Some(p) = &d.posting {
            apply_posting(&mut tx, p, None, d.now_ms).await?;
        }
        let taxes = d.tariff_fen + d.consumption_tax_fen + d.vat_fen;
        let payload = serde_json::json!({
            "id": d.id,
            "item": d.item_id,
            "enterprise": d.enterprise,
            "kind": d.kind,
            "on": d.on_day,
            "taxes_fen": taxes,
            "assessment_sha256": crate::sha256_hex(d.assessment_json.as_bytes()),
        })
        .to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            d.now_ms,
            &d.actor,
            "supervision.disposal",
            &d.item_id,
            &payload,
        )
        .await?;
        outbox(&mut tx, "supervision.disposal", &payload, d.now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The disposals of an item, oldest first.
    pub async fn disposals(&self, item_id: &str) -> Result<Vec<DisposalRow>> {
        let rows = sqlx::query("SELECT id, kind, on_day, days_diverted, quantity_milli, back_tax_value_fen, tariff_fen, consumption_tax_fen, vat_fen, pack_version, at_ms FROM disposals WHERE item_id = $1 ORDER BY at_ms, id")
            .bind(item_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DisposalRow {
                    id: row_string(r, "id")?,
                    kind: row_string(r, "kind")?,
                    on_day: row_string(r, "on_day")?,
                    days_diverted: r.try_get::<Option<i64>, _>("days_diverted")?,
                    quantity_milli: row_i64(r, "quantity_milli")?,
                    back_tax_value_fen: row_i64(r, "back_tax_value_fen")?,
                    tariff_fen: row_i64(r, "tariff_fen")?,
                    consumption_tax_fen: row_i64(r, "consumption_tax_fen")?,
                    vat_fen: row_i64(r, "vat_fen")?,
                    pack_version: row_string(r, "pack_version")?,
                    at_ms: row_i64(r, "at_ms")?,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisposalRow {
    pub id: String,
    pub kind: String,
    pub on_day: String,
    pub days_diverted: Option<i64>,
    pub quantity_milli: i64,
    pub back_tax_value_fen: i64,
    pub tariff_fen: i64,
    pub consumption_tax_fen: i64,
    pub vat_fen: i64,
    pub pack_version: String,
    pub at_ms: i64,
}
