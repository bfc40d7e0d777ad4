//! Proxy-buying rings among the platform's own duty-free sales (R4.8): the detector of
//! `freeport_risk::proxy` run on the committed sales of a period, their link codes and the
//! departures on record; rings raised as alerts with their evidence, for the analysts' queue. A
//! ring confirmed and disposed of with a duty-free ban bans every member (`alerts`).

use std::collections::BTreeMap;

use freeport_core::buyer_links::LinkKind;
use freeport_risk::proxy::{Departure, Findings, Line, Sale, detect};
use freeport_store::{NewAlert, StoreError};
use rust_decimal::Decimal;
use serde_json::json;

use crate::{Actor, AppError, AppResult, Permission, Platform};

/// The alert kind of a ring.
pub const ALERT_KIND: &str = "proxy_ring";

/// Sales one look reads at most.
pub const DETECTION_LIMIT: i64 = 200_000;

fn day(text: &str) -> AppResult<time::Date> {
    freeport_core::calendar::parse_day("day", text)
        .map_err(|_| StoreError::Corrupt(format!("a stored day {text:?}")).into())
}

/// The rings and flagged buyers among the sales sold from `from` to `to`, judged as of today:
/// customs only.
pub async fn find(
    platform: &Platform,
    actor: &Actor,
    (from, to): (time::Date, time::Date),
) -> AppResult<Findings> {
    actor.require(Permission::ReadRisk)?;
    let stored = platform
        .store
        .sales_for_detection(&from.to_string(), &to.to_string(), DETECTION_LIMIT + 1)
        .await?;
    if stored.len() > usize::try_from(DETECTION_LIMIT).unwrap_or(usize::MAX) {
        return Err(AppError::Conflict(format!(
            "more than {DETECTION_LIMIT} sales in the period: look at a shorter one"
        )));
    }
    let mut sales = Vec::with_capacity(stored.len());
    for s in stored {
        let sold_on = day(&s.sold_on)?;
        let limits: BTreeMap<&str, Decimal> = platform
            .pack
            .version_on(sold_on)
            .map(|v| {
                v.duty_free
                    .categories
                    .iter()
                    .filter_map(|(id, c)| Some((id.as_str(), c.per_departure_limit?)))
                    .collect()
            })
            .unwrap_or_default();
        sales.push(Sale {
            lines: s
                .lines
                .iter()
                .map(|(category, milli)| Line {
                    limit: limits.get(category.as_str()).copied(),
                    category: category.clone(),
                    quantity: Decimal::new(*milli, 3),
                })
                .collect(),
            links: s
                .links
                .iter()
                .filter_map(|(kind, code)| Some((LinkKind::parse(kind)?, code.clone())))
                .collect(),
            id: s.id,
            person: s.person_code,
            sold_on,
            departure_on: day(&s.departure_on)?,
            collector: s.collector,
            departure_means: s.departure_means,
        });
    }
    let departures = platform
        .store
        .departures_from(&from.to_string())
        .await?
        .into_iter()
        .map(|(person, on, means)| {
            Ok(Departure {
                person,
                departed_on: day(&on)?,
                means,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(detect(
        &sales,
        &departures,
        platform.today(),
        &platform.risk.settings.proxy_buying.rings,
    ))
}

/// Raises one alert per ring found in the period, with its members, links and every member's
/// evidence; a ring already raised (the same members) is not raised again. The rings raised.
pub async fn raise_alerts(
    platform: &Platform,
    actor: &Actor,
    period: (time::Date, time::Date),
) -> AppResult<Vec<NewAlert>> {
    actor.require(Permission::AnalyseAlerts)?;
    let findings = find(platform, actor, period).await?;
    let today = platform.today().to_string();
    let alerts: Vec<NewAlert> = findings
        .rings
        .iter()
        .map(|ring| {
            let evidence: Vec<_> = findings
                .flagged
                .iter()
                .filter(|f| ring.members.contains(&f.person))
                .collect();
            let signals: std::collections::BTreeSet<&str> =
                ring.links.iter().map(|(_, _, why)| why.as_str()).collect();
            NewAlert {
                id: uuid::Uuid::now_v7().to_string(),
                dedupe_key: format!(
                    "ring:{}",
                    freeport_store::sha256_hex(ring.members.join(",").as_bytes())
                ),
                kind: ALERT_KIND.to_owned(),
                subject: format!(
                    "{} buyers linked by {}",
                    ring.members.len(),
                    signals.into_iter().collect::<Vec<_>>().join(", ")
                ),
                enterprise: None,
                declaration_id: None,
                person_code: ring.members.first().cloned(),
                raised_on: today.clone(),
                details_json:
                    json!({ "members": ring.members, "links": ring.links, "evidence": evidence })
                        .to_string(),
            }
        })
        .collect();
    platform
        .store
        .raise_alerts(&alerts, platform.now_ms())
        .await?;
    Ok(alerts)
}
