//! Duty-free shops, sales and the annual quota of each person.

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use sqlx::any::AnyRow;

use freeport_core::quota_ledger::{SaleState, Scheme};

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
    /// Designated by customs to sell residents' zero-tariff goods (R4.11).
    pub resident_zero_tariff: bool,
}

const SHOP_COLUMNS: &str = "id, operator, name, location, resident_zero_tariff";

fn shop_from(r: &AnyRow) -> Result<Shop> {
    Ok(Shop {
        id: row_string(r, "id")?,
        operator: row_string(r, "operator")?,
        name: row_string(r, "name")?,
        location: row_string(r, "location")?,
        resident_zero_tariff: row_i64(r, "resident_zero_tariff")? != 0,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSaleItem {
    pub category: String,
    pub description: String,
    pub unit_price_fen: i64,
    pub quantity_milli: i64,
    pub limit_quantity_milli: i64,
    /// How it is taken (R4.5).
    pub pickup: String,
    /// Its pieces' traceability numbers (R4.9), if scanned.
    pub trace_codes: Vec<String>,
}

/// A decided sale. An accepted one is reserved (pending, to be committed or voided before it
/// expires) or sold at once (committed), holding quota and the departure's allowances; a refused
/// one is kept for the record only.
#[derive(Debug, Clone)]
pub struct NewSale {
    pub id: String,
    /// Which quota it spends.
    pub scheme: Scheme,
    pub shop: String,
    pub person_code: String,
    /// Empty for a sale without a departure (R4.5(6), R4.11).
    pub departure_on: String,
    pub sold_on: String,
    /// `Pending`, `Committed` or `Refused`.
    pub state: SaleState,
    /// A pending reservation's deadline.
    pub expires_at_ms: Option<i64>,
    pub total_fen: i64,
    /// The guarantee lodged for goods taken against one (R4.5(4)).
    pub guarantee_fen: i64,
    pub pack_version: String,
    pub decision_json: String,
    pub items: Vec<NewSaleItem>,
    /// The quota year and the annual quota: the paired assertion to the core's check.
    pub year: i64,
    pub annual_quota_fen: i64,
    /// Per-departure limits, in thousandths of the limit unit, held by conditional updates.
    pub limits: Vec<(String, i64)>,
    /// Early warnings the sale raised (proxy buying).
    pub alerts: Vec<crate::risk::NewAlert>,
    /// (kind, link code) of what the sale was made with besides the document.
    pub links: Vec<(String, String)>,
    pub actor: String,
    pub idempotency: Option<IdempotencyRecord>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleRow {
    pub id: String,
    pub scheme: Scheme,
    pub shop: String,
    /// Empty for a sale without a departure.
    pub departure_on: String,
    pub sold_on: String,
    pub state: SaleState,
    pub total_fen: i64,
    /// What returns gave back of the total.
    pub returned_fen: i64,
    pub expires_at_ms: Option<i64>,
    pub pack_version: String,
    pub decision_json: String,
    pub at_ms: i64,
    /// The guarantee lodged for goods taken against one (R4.5(4)), and when it went back.
    pub guarantee_fen: i64,
    pub guarantee_released_at_ms: Option<i64>,
    /// When it last changed: recorded, settled, returned, its guarantee released.
    pub updated_at_ms: i64,
}

const SALE_COLUMNS: &str = "id, scheme, shop, departure_on, sold_on, state, total_fen, returned_fen, expires_at_ms, pack_version, decision_json, at_ms, guarantee_fen, guarantee_released_at_ms, updated_at_ms";

pub(crate) fn sale_from(r: &AnyRow) -> Result<SaleRow> {
    let state = row_string(r, "state")?;
    let scheme = row_string(r, "scheme")?;
    Ok(SaleRow {
        id: row_string(r, "id")?,
        scheme: Scheme::parse(&scheme)
            .ok_or_else(|| StoreError::Corrupt(format!("duty-free sale scheme {scheme:?}")))?,
        shop: row_string(r, "shop")?,
        departure_on: row_string(r, "departure_on")?,
        sold_on: row_string(r, "sold_on")?,
        state: SaleState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("duty-free sale state {state:?}")))?,
        total_fen: row_i64(r, "total_fen")?,
        returned_fen: row_i64(r, "returned_fen")?,
        expires_at_ms: crate::row_opt_i64(r, "expires_at_ms")?,
        pack_version: row_string(r, "pack_version")?,
        decision_json: row_string(r, "decision_json")?,
        at_ms: row_i64(r, "at_ms")?,
        guarantee_fen: row_i64(r, "guarantee_fen")?,
        guarantee_released_at_ms: crate::row_opt_i64(r, "guarantee_released_at_ms")?,
        updated_at_ms: row_i64(r, "updated_at_ms")?,
    })
}

/// Which changes of a shop's sales to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeWindow {
    /// Changed from the first ms to the second, both inclusive.
    Between(i64, i64),
    /// Changed after this (ms, sale id) in change order.
    After(i64, String),
}

/// What the platform knows of a person before a sale.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TravellerHistory {
    /// Spent and reserved in the year, of the scheme asked for.
    pub spent_this_year_fen: i64,
    /// Per category, what the departure's committed and pending sales hold, in thousandths of the
    /// limit unit.
    pub bought_this_departure: Vec<(String, i64)>,
    /// The latest end of a duty-free ban on the person, if any was imposed.
    pub banned_until: Option<String>,
    /// Distinct departures the person bought for in committed or pending sales sold from the
    /// `recent_from` day on.
    pub recent_departures: Vec<String>,
    /// The latest end of a serious-dishonesty listing made on or before the sale's day (R4.7).
    pub dishonest_until: Option<String>,
}

/// Whose history, for which sale.
#[derive(Debug, Clone, Copy)]
pub struct HistoryQuery<'a> {
    pub person_code: &'a str,
    pub scheme: Scheme,
    pub year: i64,
    /// The departure whose allowances count; none for a sale without one.
    pub departure_on: Option<&'a str>,
    pub recent_from: &'a str,
    pub sold_on: &'a str,
}

impl Store {
    /// A person's code: HMAC-SHA-256 of the document's canonical key under the person-code key,
    /// so one person has one code in every shop and on every node, and the number is never stored.
    /// A link's code: HMAC-SHA-256 of its kind and normalised form under the person-code key,
    /// so buyers who share a phone or an account share the code on every node, and the phone or
    /// the account is never stored.
    pub fn link_code(&self, kind: &str, normalised: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.person_code_key)
            .expect("HMAC takes keys of any length");
        mac.update(b"freeport link code\0");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

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
        sqlx::query("INSERT INTO duty_free_shops (id, operator, name, location, created_at_ms, updated_at_ms, resident_zero_tariff) VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (id) DO UPDATE SET operator = excluded.operator, name = excluded.name, location = excluded.location, updated_at_ms = excluded.updated_at_ms, resident_zero_tariff = excluded.resident_zero_tariff")
            .bind(&shop.id)
            .bind(&shop.operator)
            .bind(&shop.name)
            .bind(&shop.location)
            .bind(now_ms)
            .bind(i64::from(shop.resident_zero_tariff))
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
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SHOP_COLUMNS} FROM duty_free_shops WHERE id = $1"
        )))
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
            Some(o) => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SHOP_COLUMNS} FROM duty_free_shops WHERE operator = $1 AND id > $2 ORDER BY id LIMIT $3")))
                .bind(o)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            None => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SHOP_COLUMNS} FROM duty_free_shops WHERE id > $1 ORDER BY id LIMIT $2")))
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(shop_from).collect()
    }

    /// The latest end of a duty-free ban on the person, if any was imposed.
    pub async fn banned_until(&self, person_code: &str) -> Result<Option<String>> {
        sqlx::query("SELECT MAX(banned_until) AS until FROM duty_free_bans WHERE person_code = $1")
            .bind(person_code)
            .fetch_one(&self.pool)
            .await
            .map(|r| row_opt_string(&r, "until"))?
    }

    pub async fn traveller_history(&self, q: HistoryQuery<'_>) -> Result<TravellerHistory> {
        let person_code = q.person_code;
        // The quota year, any ban and any listing in one read: a till asks before every sale.
        let standing = sqlx::query(
            "SELECT (SELECT spent_fen + reserved_fen FROM duty_free_quota WHERE person_code = $1 AND year = $2 AND scheme = $3) AS held, (SELECT MAX(banned_until) FROM duty_free_bans WHERE person_code = $1) AS banned_until, (SELECT MAX(until) FROM duty_free_dishonesty WHERE person_code = $1 AND listed_on <= $4) AS dishonest_until",
        )
        .bind(person_code)
        .bind(q.year)
        .bind(q.scheme.as_str())
        .bind(q.sold_on)
        .fetch_one(&self.pool)
        .await?;
        let spent = crate::row_opt_i64(&standing, "held")?.unwrap_or(0);
        let rows = sqlx::query("SELECT category, taken_milli AS taken FROM duty_free_allowances WHERE person_code = $1 AND departure_on = $2 AND taken_milli > 0 ORDER BY category")
            .bind(person_code)
            // A sale without a departure counts no earlier purchases: no row has an empty day.
            .bind(q.departure_on.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        let bought = rows
            .iter()
            .map(|r| Ok((row_string(r, "category")?, row_i64(r, "taken")?)))
            .collect::<Result<Vec<_>>>()?;
        let recent = sqlx::query("SELECT DISTINCT departure_on FROM duty_free_sales WHERE person_code = $1 AND state IN ('pending', 'committed') AND sold_on >= $2 AND departure_on <> '' ORDER BY departure_on")
            .bind(person_code)
            .bind(q.recent_from)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| row_string(r, "departure_on"))
            .collect::<Result<Vec<_>>>()?;
        Ok(TravellerHistory {
            spent_this_year_fen: spent,
            bought_this_departure: bought,
            banned_until: row_opt_string(&standing, "banned_until")?,
            recent_departures: recent,
            dishonest_until: row_opt_string(&standing, "dishonest_until")?,
        })
    }

    /// Records a sale: a pending or committed one holds its quota and the departure's allowances
    /// by conditional updates in the same transaction, so concurrent sales to one person, on any
    /// node, cannot together pass either (a lost race is a `Conflict`: decide again).
    pub async fn record_sale(&self, s: &NewSale) -> Result<()> {
        self.write_steps(
            s.idempotency.as_ref(),
            s.now_ms,
            crate::quota_ledger::sale_steps(s),
        )
        .await
    }

    /// A shop's sales in id (time) order.
    pub async fn sales(&self, shop: &str, after: &str, limit: i64) -> Result<Vec<SaleRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SALE_COLUMNS} FROM duty_free_sales WHERE shop = $1 AND id > $2 ORDER BY id LIMIT $3")))
            .bind(shop)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sale_from).collect()
    }

    /// A shop's sales that changed in `window`, in the order they changed.
    pub async fn sales_changed(
        &self,
        shop: &str,
        window: &ChangeWindow,
        limit: i64,
    ) -> Result<Vec<SaleRow>> {
        let rows = match window {
            ChangeWindow::Between(from, to) => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SALE_COLUMNS} FROM duty_free_sales WHERE shop = $1 AND updated_at_ms >= $2 AND updated_at_ms <= $3 ORDER BY updated_at_ms, id LIMIT $4")))
                .bind(shop)
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            ChangeWindow::After(ms, id) => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SALE_COLUMNS} FROM duty_free_sales WHERE shop = $1 AND (updated_at_ms > $2 OR (updated_at_ms = $2 AND id > $3)) ORDER BY updated_at_ms, id LIMIT $4")))
                .bind(shop)
                .bind(ms)
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(sale_from).collect()
    }

    /// One sale, with its lines.
    pub async fn sale(&self, id: &str) -> Result<Option<(SaleRow, SaleRecord)>> {
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SALE_COLUMNS}, person_code, quota_year FROM duty_free_sales WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let items = sqlx::query("SELECT line, category, description, unit_price_fen, quantity_milli, limit_quantity_milli, returned_milli, pickup FROM duty_free_sale_items WHERE sale_id = $1 ORDER BY line")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let record = SaleRecord {
            person_code: row_string(&row, "person_code")?,
            quota_year: row_i64(&row, "quota_year")?,
            items: items
                .iter()
                .map(|r| {
                    Ok(SaleItemRow {
                        line: row_i64(r, "line")?,
                        category: row_string(r, "category")?,
                        description: row_string(r, "description")?,
                        unit_price_fen: row_i64(r, "unit_price_fen")?,
                        quantity_milli: row_i64(r, "quantity_milli")?,
                        limit_quantity_milli: row_i64(r, "limit_quantity_milli")?,
                        returned_milli: row_i64(r, "returned_milli")?,
                        pickup: row_string(r, "pickup")?,
                    })
                })
                .collect::<Result<_>>()?,
        };
        Ok(Some((sale_from(&row)?, record)))
    }
}

/// What a sale holds in the ledger beyond its row: whose quota, which year, and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRecord {
    pub person_code: String,
    pub quota_year: i64,
    pub items: Vec<SaleItemRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleItemRow {
    pub line: i64,
    pub category: String,
    pub description: String,
    pub unit_price_fen: i64,
    pub quantity_milli: i64,
    pub limit_quantity_milli: i64,
    pub returned_milli: i64,
    /// How it is taken (R4.5).
    pub pickup: String,
}
