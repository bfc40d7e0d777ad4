//! Duty-free shops, sales and the annual quota of each person.

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use sqlx::any::AnyRow;

use crate::records::outbox;
use crate::{
    IdempotencyRecord, Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shop {
    pub id: String,
    /// The operating enterprise's credit code: its duty-free operator users act for the shop.
    pub operator: String,
    pub name: String,
    pub location: String,
}

fn shop_from(r: &AnyRow) -> Result<Shop> {
    Ok(Shop {
        id: row_string(r, "id")?,
        operator: row_string(r, "operator")?,
        name: row_string(r, "name")?,
        location: row_string(r, "location")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSaleItem {
    pub category: String,
    pub description: String,
    pub unit_price_fen: i64,
    pub quantity_milli: i64,
    pub limit_quantity_milli: i64,
}

/// A decided sale. An accepted one spends quota and counts against the departure's limits; a
/// refused one is kept for the record only.
#[derive(Debug, Clone)]
pub struct NewSale {
    pub id: String,
    pub shop: String,
    pub person_code: String,
    pub departure_on: String,
    pub sold_on: String,
    pub accepted: bool,
    pub total_fen: i64,
    pub pack_version: String,
    pub decision_json: String,
    pub items: Vec<NewSaleItem>,
    /// The quota year and the annual quota: the paired assertion to the core's check.
    pub year: i64,
    pub annual_quota_fen: i64,
    /// Per-departure limits, in thousandths of the limit unit, re-checked inside the transaction.
    pub limits: Vec<(String, i64)>,
    /// Early warnings the sale raised (proxy buying).
    pub alerts: Vec<crate::risk::NewAlert>,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleRow {
    pub id: String,
    pub shop: String,
    pub departure_on: String,
    pub sold_on: String,
    pub accepted: bool,
    pub total_fen: i64,
    pub pack_version: String,
    pub decision_json: String,
    pub at_ms: i64,
}

/// What the platform knows of a person before a sale.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TravellerHistory {
    pub spent_this_year_fen: i64,
    /// Per category, what accepted sales of the departure took, in thousandths of the limit unit.
    pub bought_this_departure: Vec<(String, i64)>,
    /// The latest end of a duty-free ban on the person, if any was imposed.
    pub banned_until: Option<String>,
    /// Distinct departures the person bought for in accepted sales sold from the `recent_from`
    /// day on.
    pub recent_departures: Vec<String>,
}

impl Store {
    /// A person's code: HMAC-SHA-256 of the document's canonical key under the person-code key,
    /// so one person has one code in every shop and on every node, and the number is never stored.
    pub fn person_code(&self, canonical_document: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.person_code_key)
            .expect("HMAC takes keys of any length");
        mac.update(b"freeport person code\0");
        mac.update(canonical_document.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub async fn put_shop(
        &self,
        shop: &Shop,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        sqlx::query("INSERT INTO duty_free_shops (id, operator, name, location, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO UPDATE SET operator = excluded.operator, name = excluded.name, location = excluded.location, updated_at_ms = excluded.updated_at_ms")
            .bind(&shop.id)
            .bind(&shop.operator)
            .bind(&shop.name)
            .bind(&shop.location)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        let payload = serde_json::to_string(shop).unwrap_or_default();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            actor,
            "duty_free.shop",
            &shop.id,
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn shop(&self, id: &str) -> Result<Option<Shop>> {
        let row =
            sqlx::query("SELECT id, operator, name, location FROM duty_free_shops WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(shop_from).transpose()
    }

    /// Shops in id order, of one operator or of all.
    pub async fn shops(
        &self,
        operator: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Shop>> {
        let rows = match operator {
            Some(o) => sqlx::query("SELECT id, operator, name, location FROM duty_free_shops WHERE operator = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(o)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            None => sqlx::query("SELECT id, operator, name, location FROM duty_free_shops WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(shop_from).collect()
    }

    pub async fn traveller_history(
        &self,
        person_code: &str,
        year: i64,
        departure_on: &str,
        recent_from: &str,
    ) -> Result<TravellerHistory> {
        let spent = sqlx::query(
            "SELECT spent_fen FROM duty_free_quota WHERE person_code = $1 AND year = $2",
        )
        .bind(person_code)
        .bind(year)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| row_i64(&r, "spent_fen"))
        .transpose()?
        .unwrap_or(0);
        let rows = sqlx::query("SELECT i.category, CAST(SUM(i.limit_quantity_milli) AS BIGINT) AS taken FROM duty_free_sale_items i JOIN duty_free_sales s ON s.id = i.sale_id WHERE s.person_code = $1 AND s.departure_on = $2 AND s.accepted = 1 GROUP BY i.category ORDER BY i.category")
            .bind(person_code)
            .bind(departure_on)
            .fetch_all(&self.pool)
            .await?;
        let bought = rows
            .iter()
            .map(|r| Ok((row_string(r, "category")?, row_i64(r, "taken")?)))
            .collect::<Result<Vec<_>>>()?;
        let banned_until = sqlx::query(
            "SELECT MAX(banned_until) AS until FROM duty_free_bans WHERE person_code = $1",
        )
        .bind(person_code)
        .fetch_one(&self.pool)
        .await
        .map(|r| row_opt_string(&r, "until"))??;
        let recent = sqlx::query("SELECT DISTINCT departure_on FROM duty_free_sales WHERE person_code = $1 AND accepted = 1 AND sold_on >= $2 ORDER BY departure_on")
            .bind(person_code)
            .bind(recent_from)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| row_string(r, "departure_on"))
            .collect::<Result<Vec<_>>>()?;
        Ok(TravellerHistory {
            spent_this_year_fen: spent,
            bought_this_departure: bought,
            banned_until,
            recent_departures: recent,
        })
    }

    /// Records a sale; an accepted one reserves its quota and is re-checked against the
    /// departure's limits in the same transaction, so concurrent sales to one person cannot
    /// together pass either (a lost race is a `Conflict`: decide again).
    pub async fn record_sale(&self, s: &NewSale) -> Result<()> {
        let mut tx = self.begin_write(s.idempotency.as_ref(), s.now_ms).await?;
        sqlx::query("INSERT INTO duty_free_sales (id, shop, person_code, departure_on, sold_on, accepted, total_fen, pack_version, decision_json, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(&s.id)
            .bind(&s.shop)
            .bind(&s.person_code)
            .bind(&s.departure_on)
            .bind(&s.sold_on)
            .bind(i64::from(s.accepted))
            .bind(s.total_fen)
            .bind(&s.pack_version)
            .bind(&s.decision_json)
            .bind(&s.actor)
            .bind(s.now_ms)
            .execute(&mut **tx)
            .await?;
        for (line, item) in s.items.iter().enumerate() {
            sqlx::query("INSERT INTO duty_free_sale_items (sale_id, line, category, description, unit_price_fen, quantity_milli, limit_quantity_milli) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&s.id)
                .bind(i64::try_from(line).unwrap_or(i64::MAX))
                .bind(&item.category)
                .bind(&item.description)
                .bind(item.unit_price_fen)
                .bind(item.quantity_milli)
                .bind(item.limit_quantity_milli)
                .execute(&mut **tx)
                .await?;
        }
        if s.accepted {
            sqlx::query("INSERT INTO duty_free_quota (person_code, year, spent_fen) VALUES ($1, $2, 0) ON CONFLICT (person_code, year) DO NOTHING")
                .bind(&s.person_code)
                .bind(s.year)
                .execute(&mut **tx)
                .await?;
            let reserved = sqlx::query("UPDATE duty_free_quota SET spent_fen = spent_fen + $1 WHERE person_code = $2 AND year = $3 AND spent_fen + $1 <= $4")
                .bind(s.total_fen)
                .bind(&s.person_code)
                .bind(s.year)
                .bind(s.annual_quota_fen)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if reserved != 1 {
                return Err(StoreError::Conflict(
                    "another sale spent the quota first; decide the sale again".to_owned(),
                ));
            }
            for (category, limit) in &s.limits {
                let taken = sqlx::query("SELECT CAST(COALESCE(SUM(i.limit_quantity_milli), 0) AS BIGINT) AS taken FROM duty_free_sale_items i JOIN duty_free_sales s ON s.id = i.sale_id WHERE s.person_code = $1 AND s.departure_on = $2 AND s.accepted = 1 AND i.category = $3")
                    .bind(&s.person_code)
                    .bind(&s.departure_on)
                    .bind(category)
                    .fetch_one(&mut **tx)
                    .await?;
                if row_i64(&taken, "taken")? > *limit {
                    return Err(StoreError::Conflict(format!(
                        "another sale of this departure took {category} first; decide the sale again"
                    )));
                }
            }
        }
        let payload = serde_json::json!({
            "id": s.id,
            "shop": s.shop,
            "accepted": s.accepted,
            "total_fen": s.total_fen,
            "decision_sha256": crate::sha256_hex(s.decision_json.as_bytes()),
        })
        .to_string();
        append_audit(
            &mut tx,
            &self.audit_key,
            s.now_ms,
            &s.actor,
            "duty_free.sale",
            &s.id,
            &payload,
        )
        .await?;
        outbox(&mut tx, "duty_free.sale", &payload, s.now_ms).await?;
        crate::risk::insert_alerts(&mut tx, &s.alerts, s.now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A shop's sales in id (time) order.
    pub async fn sales(&self, shop: &str, after: &str, limit: i64) -> Result<Vec<SaleRow>> {
        let rows = sqlx::query("SELECT id, shop, departure_on, sold_on, accepted, total_fen, pack_version, decision_json, at_ms FROM duty_free_sales WHERE shop = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(shop)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SaleRow {
                    id: row_string(r, "id")?,
                    shop: row_string(r, "shop")?,
                    departure_on: row_string(r, "departure_on")?,
                    sold_on: row_string(r, "sold_on")?,
                    accepted: row_i64(r, "accepted")? == 1,
                    total_fen: row_i64(r, "total_fen")?,
                    pack_version: row_string(r, "pack_version")?,
                    decision_json: row_string(r, "decision_json")?,
                    at_ms: row_i64(r, "at_ms")?,
                })
            })
            .collect()
    }
}
