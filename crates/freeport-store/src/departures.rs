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

/// A committed sale as the proxy-buying detector reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleForDetection {
    pub id: String,
    pub person_code: String,
    pub sold_on: String,
    pub departure_on: String,
    /// (category, limit quantity kept after returns, in thousandths).
    pub lines: Vec<(String, i64)>,
    /// (kind, link code).
    pub links: Vec<(String, String)>,
    /// The means of the buyer's departure on record that day, if any.
    pub departure_means: Option<String>,
    /// Who took the goods at the hand-over, when not the buyer.
    pub collector: Option<String>,
}

impl Store {
    /// Committed sales for a departure sold from `from` to `to` (days, inclusive), oldest first,
    /// with their lines, links and the buyer's departure means; at most `limit`. Residents' sales
    /// without a departure are not departure purchases and are left out.
    pub async fn sales_for_detection(
        &self,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<SaleForDetection>> {
        let rows = sqlx::query("SELECT s.id, s.person_code, s.sold_on, s.departure_on, (SELECT MIN(d.means) FROM departures d WHERE d.person_code = s.person_code AND d.departure_on = s.departure_on) AS means, (SELECT MIN(i.collected_by) FROM duty_free_items i WHERE i.sale_id = s.id AND i.collected_by <> s.person_code) AS collector FROM duty_free_sales s WHERE s.state = 'committed' AND s.departure_on <> '' AND s.sold_on >= $1 AND s.sold_on <= $2 ORDER BY s.sold_on, s.id LIMIT $3")
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        // The period's lines and links in two reads, not two a sale.
        let period = "SELECT id FROM duty_free_sales WHERE state = 'committed' AND departure_on <> '' AND sold_on >= $1 AND sold_on <= $2";
        let mut lines: std::collections::BTreeMap<String, Vec<(String, i64)>> = Default::default();
        for l in sqlx::query(sqlx::AssertSqlSafe(format!("SELECT sale_id, category, limit_quantity_milli, returned_milli, quantity_milli FROM duty_free_sale_items WHERE sale_id IN ({period}) ORDER BY sale_id, line")))
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
        {
            let (limit, returned, quantity) = (
                row_i64(&l, "limit_quantity_milli")?,
                row_i64(&l, "returned_milli")?,
                row_i64(&l, "quantity_milli")?,
            );
            let given_back = if quantity == 0 {
                0
            } else {
                i64::try_from(i128::from(limit) * i128::from(returned) / i128::from(quantity))
                    .unwrap_or(limit)
            };
            lines
                .entry(row_string(&l, "sale_id")?)
                .or_default()
                .push((row_string(&l, "category")?, limit - given_back));
        }
        let mut links: std::collections::BTreeMap<String, Vec<(String, String)>> =
            Default::default();
        for l in sqlx::query(sqlx::AssertSqlSafe(format!("SELECT sale_id, kind, link_code FROM duty_free_sale_links WHERE sale_id IN ({period}) ORDER BY sale_id, kind")))
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
        {
            links
                .entry(row_string(&l, "sale_id")?)
                .or_default()
                .push((row_string(&l, "kind")?, row_string(&l, "link_code")?));
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = row_string(r, "id")?;
            out.push(SaleForDetection {
                person_code: row_string(r, "person_code")?,
                sold_on: row_string(r, "sold_on")?,
                departure_on: row_string(r, "departure_on")?,
                departure_means: crate::row_opt_string(r, "means")?,
                collector: crate::row_opt_string(r, "collector")?,
                lines: lines.remove(&id).unwrap_or_default(),
                links: links.remove(&id).unwrap_or_default(),
                id,
            });
        }
        Ok(out)
    }

    /// Departures on record from `from` on: (person code, day, means).
    pub async fn departures_from(&self, from: &str) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query("SELECT person_code, departure_on, means FROM departures WHERE departure_on >= $1 ORDER BY departure_on, id")
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    row_string(r, "person_code")?,
                    row_string(r, "departure_on")?,
                    row_string(r, "means")?,
                ))
            })
            .collect()
    }
}

/// A committed sale with goods taken at once (buy-and-take, guarantee-and-take): its buyer must
/// leave the island within the pack's days (R4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenAtOnce {
    pub sale_id: String,
    pub shop: String,
    pub person_code: String,
    pub sold_on: String,
}

impl Store {
    /// Committed sales sold from `from` to `to` (days, inclusive) with a line taken at once, oldest
    /// first, at most `limit`.
    pub async fn taken_at_once(
        &self,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<TakenAtOnce>> {
        let rows = sqlx::query("SELECT s.id, s.shop, s.person_code, s.sold_on FROM duty_free_sales s WHERE s.state = 'committed' AND s.departure_on <> '' AND s.sold_on >= $1 AND s.sold_on <= $2 AND EXISTS (SELECT 1 FROM duty_free_sale_items i WHERE i.sale_id = s.id AND i.pickup IN ('buy_and_take', 'guarantee_and_take')) ORDER BY s.sold_on, s.id LIMIT $3")
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TakenAtOnce {
                    sale_id: row_string(r, "id")?,
                    shop: row_string(r, "shop")?,
                    person_code: row_string(r, "person_code")?,
                    sold_on: row_string(r, "sold_on")?,
                })
            })
            .collect()
    }

    /// Whether `person_code` has a departure on record from `from` to `to` (days, inclusive).
    pub async fn departed_between(&self, person_code: &str, from: &str, to: &str) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM departures WHERE person_code = $1 AND departure_on >= $2 AND departure_on <= $3 LIMIT 1")
            .bind(person_code)
            .bind(from)
            .bind(to)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}
