//! Goods taken at once (R4.5(4), (5)): a buyer who takes duty-free goods away at the shop
//! (buy-and-take, guarantee-and-take) must leave the island within the pack's days; one with no
//! departure on record by the deadline is raised as an alert for disposal (a 3-year ban, R4.6).

use freeport_store::{NewAlert, StoreError};
use serde_json::json;

use crate::{AppResult, Platform};

/// The alert kind of a buyer who took goods at once and has not left the island in time.
pub const STAYED_KIND: &str = "taken_at_once_not_departed";

/// Sales one look reads at most.
const LOOK_LIMIT: i64 = 10_000;

/// Raises, once per sale, the alert of each buyer who took goods at once in the past year and has
/// no departure on record from the sale's day to its deadline, now past. How many it raised.
pub async fn overdue_takers(platform: &Platform) -> AppResult<usize> {
    let today = platform.today();
    let Some(version) = platform.pack.version_on(today) else {
        return Ok(0);
    };
    let within = i64::from(version.duty_free.departure_within_days);
    let last_sold = today - time::Duration::days(within + 1);
    let first_sold = today - time::Duration::days(366);
    let sales = platform
        .store
        .taken_at_once(&first_sold.to_string(), &last_sold.to_string(), LOOK_LIMIT)
        .await?;
    let mut alerts = Vec::new();
    for s in sales {
        let sold_on = freeport_core::calendar::parse_day("sold_on", &s.sold_on)
            .map_err(|_| StoreError::Corrupt(format!("a sale day {:?}", s.sold_on)))?;
        let v = platform.pack.version_on(sold_on).unwrap_or(version);
        let deadline = freeport_core::duty_free::departure_deadline(v, sold_on);
        if deadline >= today
            || platform
                .store
                .departed_between(&s.person_code, &s.sold_on, &deadline.to_string())
                .await?
        {
            continue;
        }
        alerts.push(NewAlert {
            id: uuid::Uuid::now_v7().to_string(),
            dedupe_key: format!("stayed:{}", s.sale_id),
            kind: STAYED_KIND.to_owned(),
            subject: format!(
                "goods taken at once on {sold_on}, no departure from the island by {deadline}"
            ),
            enterprise: None,
            declaration_id: None,
            person_code: Some(s.person_code),
            raised_on: today.to_string(),
            details_json: json!({ "sale": s.sale_id, "shop": s.shop, "sold_on": s.sold_on, "deadline": deadline.to_string(), "rule": "R4.5" })
                .to_string(),
        });
    }
    platform
        .store
        .raise_alerts(&alerts, platform.now_ms())
        .await?;
    Ok(alerts.len())
}
