//! Offshore duty-free: a sale decided against the buyer's age, the departure's category limits,
//! the annual quota and any ban, and recorded, accepted or refused, in one transaction that spends
//! the quota. The buyer is known by a person code (an HMAC of the document), never the number.
//! Customs registers the shops sales are made in.

use freeport_core::duty_free::{BasketItem, SaleOrder, TravellerRecord, decide_sale};
use freeport_core::identity::CreditCode;
use freeport_core::limits::to_milli;
use freeport_core::money::Cny;
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{IdempotencyRecord, NewAlert, NewSale, NewSaleItem, Shop, StoreError};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{Actor, AppError, AppResult, Platform};

/// A sale decided and recorded.
#[derive(Debug, Clone)]
pub struct Sold {
    pub sale: NewSale,
    pub decision: Value,
}

/// R4.8: buying for several departures within weeks is the return-flow pattern of paid carriers;
/// the analysts see it in the alert queue.
fn proxy_alert(
    proxy: &freeport_risk::selectivity::ProxyBuying,
    person_code: &str,
    order: &SaleOrder,
    recent_departures: &[String],
    shop: &str,
) -> Option<NewAlert> {
    let mut departures = recent_departures.to_vec();
    if !departures.contains(&order.departure_on.to_string()) {
        departures.push(order.departure_on.to_string());
    }
    (departures.len() >= usize::from(proxy.departures)).then(|| NewAlert {
        id: uuid::Uuid::now_v7().to_string(),
        dedupe_key: format!("proxy:{person_code}:{}", &order.sold_on.to_string()[..7]),
        kind: "proxy_buying".to_owned(),
        subject: format!(
            "one buyer, {} departures within {} days",
            departures.len(),
            proxy.window_days
        ),
        enterprise: None,
        declaration_id: None,
        person_code: Some(person_code.to_owned()),
        raised_on: order.sold_on.to_string(),
        details_json:
            json!({ "departures": departures, "shop": shop, "window_days": proxy.window_days })
                .to_string(),
    })
}

/// The sale's lines as store rows, quantities in thousandths.
fn sale_items(order: &SaleOrder) -> AppResult<Vec<NewSaleItem>> {
    order
        .lines
        .iter()
        .zip(&order.descriptions)
        .enumerate()
        .map(|(i, (line, description))| {
            let f = |name: &str| format!("items[{i}].{name}");
            Ok(NewSaleItem {
                category: line.category.clone(),
                description: description.clone(),
                unit_price_fen: line.unit_price.fen(),
                quantity_milli: to_milli(&f("quantity"), line.quantity)?,
                limit_quantity_milli: to_milli(&f("limit_quantity"), line.limit_quantity)?,
            })
        })
        .collect()
}

/// Decides and records a sale at `shop` (whose operator the caller acts for, checked at the edge).
pub async fn sell(
    platform: &Platform,
    actor: &Actor,
    shop: &Shop,
    order: SaleOrder,
    answer: impl FnOnce(&Sold) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Sold> {
    actor.require(crate::Permission::Sell)?;
    let proxy = &platform.risk.settings.proxy_buying;
    let person_code = platform.store.person_code(&order.document.canonical_key());
    let year = i64::from(order.sold_on.year());
    let recent_from = order.sold_on - time::Duration::days(i64::from(proxy.window_days));
    // 1. Read the traveller's history.
    let history = platform
        .store
        .traveller_history(
            &person_code,
            year,
            &order.departure_on.to_string(),
            &recent_from.to_string(),
        )
        .await?;
    let banned_until = history
        .banned_until
        .as_deref()
        .map(|d| {
            freeport_core::calendar::parse_day("banned_until", d)
                .map_err(|_| StoreError::Corrupt(format!("duty-free ban until {d:?}")))
        })
        .transpose()?;
    let traveller = TravellerRecord {
        birth_date: order.birth_date,
        spent_this_year: Cny::from_fen(history.spent_this_year_fen),
        bought_this_departure: history
            .bought_this_departure
            .iter()
            .map(|(category, m)| BasketItem {
                category: category.clone(),
                quantity: Decimal::new(*m, 3),
            })
            .collect(),
        banned_until,
    };
    // 2. Decide, purely.
    let decision = decide_sale(&platform.pack, order.sold_on, &order.lines, &traveller)?;
    let alerts = if decision.accepted {
        proxy_alert(
            proxy,
            &person_code,
            &order,
            &history.recent_departures,
            &shop.id,
        )
        .into_iter()
        .collect()
    } else {
        Vec::new()
    };
    let items = sale_items(&order)?;
    let limits = decision
        .pack
        .duty_free
        .categories
        .values()
        .filter_map(|c| {
            let limit = c.per_departure_limit? * Decimal::ONE_THOUSAND;
            Some((c.id.clone(), i64::try_from(limit.trunc()).ok()?))
        })
        .filter(|(id, _)| items.iter().any(|i| &i.category == id))
        .collect();
    let decision_json =
        serde_json::to_value(&decision).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut sold = Sold {
        sale: NewSale {
            id: uuid::Uuid::now_v7().to_string(),
            shop: shop.id.clone(),
            person_code,
            departure_on: order.departure_on.to_string(),
            sold_on: order.sold_on.to_string(),
            accepted: decision.accepted,
            total_fen: decision.total.fen(),
            pack_version: decision.pack.id.clone(),
            decision_json: decision_json.to_string(),
            items,
            year,
            annual_quota_fen: decision.pack.duty_free.annual_quota.fen(),
            limits,
            alerts,
            actor: actor.user_id.clone(),
            idempotency: None,
            now_ms: platform.now_ms(),
        },
        decision: decision_json,
    };
    // 3. Commit once, with the answer.
    sold.sale.idempotency = answer(&sold)?;
    platform.store.record_sale(&sold.sale).await?;
    Ok(sold)
}

/// A shop as customs asks to register it, not yet checked. The operator is a parsed credit code;
/// whether it is registered, and the names, are judged here.
#[derive(Debug, Clone)]
pub struct ShopRegistration {
    pub id: String,
    pub operator: CreditCode,
    pub name: String,
    pub location: String,
}

/// Registers a duty-free shop or updates it. Which operator runs a shop decides whose users may
/// sell there, so only customs may say so.
pub async fn register_shop(
    platform: &Platform,
    actor: &Actor,
    r: ShopRegistration,
    answer: impl FnOnce(&Shop) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Shop> {
    actor.require(crate::Permission::RegisterShop)?;
    if platform
        .store
        .enterprise(r.operator.as_str())
        .await?
        .is_none()
    {
        return Err(FieldError::new(
            "operator",
            FieldErrorKind::Unknown,
            "not in the enterprise registry",
        )
        .into());
    }
    for (field, text) in [("name", &r.name), ("location", &r.location)] {
        if text.trim().is_empty() || text.chars().count() > 300 {
            return Err(
                FieldError::new(field, FieldErrorKind::OutOfRange, "1 to 300 characters").into(),
            );
        }
    }
    let shop = Shop {
        id: r.id,
        operator: r.operator.as_str().to_owned(),
        name: r.name.trim().to_owned(),
        location: r.location.trim().to_owned(),
    };
    let idempotency = answer(&shop)?;
    platform
        .store
        .put_shop(
            &shop,
            &actor.user_id,
            platform.now_ms(),
            idempotency.as_ref(),
        )
        .await?;
    Ok(shop)
}

/// A page of duty-free shops after id `after`: an operator sees its own, customs every one.
pub async fn shops(
    platform: &Platform,
    actor: &Actor,
    after: &str,
    limit: i64,
) -> AppResult<Vec<Shop>> {
    actor.require(crate::Permission::ReadShops)?;
    let only = (!actor.sees_every_enterprise()).then(|| actor.enterprise.as_deref().unwrap_or(""));
    Ok(platform.store.shops(only, after, limit).await?)
}

/// The shop `id` as `actor` may see it: another operator's shop is reported absent.
pub async fn visible_shop(platform: &Platform, actor: &Actor, id: &str) -> AppResult<Shop> {
    actor.require(crate::Permission::ReadShops)?;
    match platform.store.shop(id).await? {
        Some(shop) if actor.may_see_shop(&shop.operator) => Ok(shop),
        _ => Err(AppError::NotFound("no such resource".into())),
    }
}

/// A page of the shop's sales, accepted and refused, in time order after id `after`.
pub async fn sales(
    platform: &Platform,
    actor: &Actor,
    shop: &str,
    after: &str,
    limit: i64,
) -> AppResult<Vec<freeport_store::SaleRow>> {
    let shop = visible_shop(platform, actor, shop).await?;
    Ok(platform.store.sales(&shop.id, after, limit).await?)
}
