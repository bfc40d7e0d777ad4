//! Offshore duty-free: a sale decided against the buyer's age, the departure's category limits,
//! the annual quota and any ban, and recorded, accepted or refused, in one transaction that spends
//! the quota. The buyer is known by a person code (an HMAC of the document), never the number.
//! Customs registers the shops sales are made in.

use freeport_core::duty_free::{BasketItem, SaleOrder, TravellerRecord, decide_order};
use freeport_core::identity::CreditCode;
use freeport_core::limits::to_milli;
use freeport_core::money::Cny;
use freeport_core::quota_ledger::{SaleState, Scheme, Settlement};
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{
    HistoryQuery, IdempotencyRecord, NewAlert, NewSale, NewSaleItem, Shop, StoreError,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{Actor, AppError, AppResult, Platform};

/// The province code a Hainan resident identity card begins with (GB/T 2260: 46).
const HAINAN: &str = "46";

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
    // Residents' purchases without a departure are not departure purchases.
    let departure_on = order.departure_on?.to_string();
    let mut departures = recent_departures.to_vec();
    if !departures.contains(&departure_on) {
        departures.push(departure_on);
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
                pickup: line.pickup.as_str().to_owned(),
                trace_codes: line.trace_codes.clone(),
            })
        })
        .collect()
}

/// How a till takes a basket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taking {
    /// Sold at once: the quota spent as the sale is recorded.
    Sell,
    /// Reserved for this many milliseconds, to be committed or voided (two-phase till).
    Reserve { hold_ms: i64 },
}

/// Decides and records a sale at `shop` (whose operator the caller acts for, checked at the edge):
/// sold at once or reserved, as `taking` says.
///
/// The buyer's quota and allowances are read before deciding; a concurrent sale to the same buyer
/// may take them first, and the commit then refuses. The sale is then decided again on a fresh
/// read: each lost race means another sale to the buyer went through, so the quota bounds how
/// often that happens.
pub async fn sell(
    platform: &Platform,
    actor: &Actor,
    shop: &Shop,
    (order, taking): (SaleOrder, Taking),
    mut answer: impl FnMut(&Sold) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Sold> {
    actor.require(crate::Permission::Sell)?;
    const ATTEMPTS: usize = 64;
    for attempt in 1..=ATTEMPTS {
        let mut sold = decided_sale(platform, actor, shop, &order, taking).await?;
        // 3. Commit once, with the answer.
        sold.sale.idempotency = answer(&sold)?;
        match platform.store.record_sale(&sold.sale).await {
            Ok(()) => return Ok(sold),
            Err(StoreError::Conflict(_)) if attempt < ATTEMPTS => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "other sales to the same buyer kept taking the quota first; try again".into(),
    ))
}

/// Steps 1 and 2 of a sale: read the buyer's standing, then decide purely.
async fn decided_sale(
    platform: &Platform,
    actor: &Actor,
    shop: &Shop,
    order: &SaleOrder,
    taking: Taking,
) -> AppResult<Sold> {
    let proxy = &platform.risk.settings.proxy_buying;
    let person_code = platform.store.person_code(&order.document.canonical_key());
    // An unconfirmed reservation of the buyer's that is past its deadline gives its quota back
    // before this one is decided.
    expire_overdue(platform, Some(&person_code)).await?;
    let year = i64::from(order.sold_on.year());
    // 1. Read the traveller's history.
    let (traveller, recent_departures) = traveller(platform, &person_code, order).await?;
    unsold_numbers(platform, order).await?;
    // 2. Decide, purely.
    let decision = decide_order(&platform.pack, order, &traveller, shop.resident_zero_tariff)?;
    let annual_quota = match order.scheme {
        Scheme::Offshore => decision.pack.duty_free.annual_quota,
        Scheme::ResidentZeroTariff => decision
            .pack
            .duty_free
            .resident_annual_quota
            .unwrap_or(Cny::ZERO),
    };
    let alerts = if decision.accepted {
        proxy_alert(proxy, &person_code, order, &recent_departures, &shop.id)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    let items = sale_items(order)?;
    let limits = limits_held(&decision, &items);
    let decision_json =
        serde_json::to_value(&decision).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Sold {
        sale: NewSale {
            id: uuid::Uuid::now_v7().to_string(),
            scheme: order.scheme,
            shop: shop.id.clone(),
            person_code,
            departure_on: order
                .departure_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            sold_on: order.sold_on.to_string(),
            state: match (decision.accepted, taking) {
                (false, _) => SaleState::Refused,
                (true, Taking::Sell) => SaleState::Committed,
                (true, Taking::Reserve { .. }) => SaleState::Pending,
            },
            expires_at_ms: match (decision.accepted, taking) {
                (true, Taking::Reserve { hold_ms }) => Some(platform.now_ms() + hold_ms),
                _ => None,
            },
            total_fen: decision.total.fen(),
            guarantee_fen: decision.guarantee.fen(),
            pack_version: decision.pack.id.clone(),
            decision_json: decision_json.to_string(),
            items,
            year,
            annual_quota_fen: annual_quota.fen(),
            limits,
            alerts,
            links: link_codes(platform, order),
            actor: actor.user_id.clone(),
            idempotency: None,
            now_ms: platform.now_ms(),
        },
        decision: decision_json,
    })
}

/// What the platform knows of the buyer before the sale: the year's quota held, the departure's
/// allowances, any ban, the departure on record on the sale's departure day; and the departures
/// bought for lately (for the proxy-buying alert).
async fn traveller(
    platform: &Platform,
    person_code: &str,
    order: &SaleOrder,
) -> AppResult<(TravellerRecord, Vec<String>)> {
    let window = platform.risk.settings.proxy_buying.window_days;
    let recent_from = order.sold_on - time::Duration::days(i64::from(window));
    let departure_on = order.departure_on.map(|d| d.to_string());
    let sold_on = order.sold_on.to_string();
    let history = platform
        .store
        .traveller_history(HistoryQuery {
            person_code,
            scheme: order.scheme,
            year: i64::from(order.sold_on.year()),
            departure_on: departure_on.as_deref(),
            recent_from: &recent_from.to_string(),
            sold_on: &sold_on,
        })
        .await?;
    let departure = match &departure_on {
        Some(day) => platform
            .store
            .departures_on(person_code, day)
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    let year_from = format!("{:04}-01-01", order.sold_on.year());
    let departed_this_year = departure_on.is_none()
        && platform
            .store
            .departed_between(person_code, &year_from, &sold_on)
            .await?;
    let resident = hainan_resident(&order.document);
    let record = TravellerRecord {
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
        banned_until: stored_day("banned_until", history.banned_until.as_deref())?,
        departure,
        resident,
        departed_this_year,
        dishonest_until: stored_day("dishonest_until", history.dishonest_until.as_deref())?,
    };
    Ok((record, history.recent_departures))
}

/// An island resident: a resident identity card issued in Hainan (R4.5(3), R4.5(6), R4.11).
fn hainan_resident(document: &freeport_core::identity::PersonDocument) -> bool {
    matches!(document, freeport_core::identity::PersonDocument::ResidentId(id) if id.as_str().starts_with(HAINAN))
}

/// A day the store keeps as text.
fn stored_day(what: &str, day: Option<&str>) -> AppResult<Option<time::Date>> {
    day.map(|d| {
        freeport_core::calendar::parse_day(what, d)
            .map_err(|_| StoreError::Corrupt(format!("duty-free {what} {d:?}")).into())
    })
    .transpose()
}

/// A piece's number is sold once (R4.9): one sold already is refused naming its item.
async fn unsold_numbers(platform: &Platform, order: &SaleOrder) -> AppResult<()> {
    let codes: Vec<String> = order
        .lines
        .iter()
        .flat_map(|l| l.trace_codes.iter().cloned())
        .collect();
    let taken = platform.store.trace_codes_taken(&codes).await?;
    let sold = order.lines.iter().enumerate().find_map(|(i, line)| {
        line.trace_codes
            .iter()
            .find(|c| taken.contains(c))
            .map(|c| (i, c))
    });
    match sold {
        Some((i, code)) => Err(FieldError::new(
            format!("items[{i}].trace_codes"),
            FieldErrorKind::Inconsistent,
            format!("traceability number {code} is sold already"),
        )
        .into()),
        None => Ok(()),
    }
}

/// The per-departure limits of the sale's categories, in thousandths, for the store to hold.
fn limits_held(
    decision: &freeport_core::duty_free::SaleDecision<'_>,
    items: &[NewSaleItem],
) -> Vec<(String, i64)> {
    decision
        .pack
        .duty_free
        .categories
        .values()
        .filter_map(|c| {
            let limit = c.per_departure_limit? * Decimal::ONE_THOUSAND;
            Some((c.id.clone(), i64::try_from(limit.trunc()).ok()?))
        })
        .filter(|(id, _)| items.iter().any(|i| &i.category == id))
        .collect()
}

/// The sale's links as (kind, link code): never in clear.
fn link_codes(platform: &Platform, order: &SaleOrder) -> Vec<(String, String)> {
    order
        .links
        .iter()
        .map(|(kind, text)| {
            (
                kind.as_str().to_owned(),
                platform.store.link_code(kind.as_str(), text),
            )
        })
        .collect()
}

/// A shop as customs asks to register it, not yet checked. The operator is a parsed credit code;
/// whether it is registered, and the names, are judged here.
#[derive(Debug, Clone)]
pub struct ShopRegistration {
    pub id: String,
    pub operator: CreditCode,
    pub name: String,
    pub location: String,
    /// Designated to sell residents' zero-tariff goods (R4.11).
    pub resident_zero_tariff: bool,
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
        resident_zero_tariff: r.resident_zero_tariff,
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

/// The shop's sales that changed in `window` (recorded, settled, returned, guarantee released),
/// oldest change first: a live feed's next batch.
pub async fn sales_changed(
    platform: &Platform,
    actor: &Actor,
    shop: &str,
    window: &freeport_store::ChangeWindow,
    limit: i64,
) -> AppResult<Vec<freeport_store::SaleRow>> {
    let shop = visible_shop(platform, actor, shop).await?;
    Ok(platform
        .store
        .sales_changed(&shop.id, window, limit)
        .await?)
}

/// A sale of `shop` as `actor` may see it: another shop's is reported absent.
async fn sale_of_shop(
    platform: &Platform,
    actor: &Actor,
    shop: &str,
    id: &str,
) -> AppResult<(freeport_store::SaleRow, freeport_store::SaleRecord)> {
    let shop = visible_shop(platform, actor, shop).await?;
    match platform.store.sale(id).await? {
        Some((row, record)) if row.shop == shop.id => Ok((row, record)),
        _ => Err(AppError::NotFound("no such resource".into())),
    }
}

/// One sale of a shop with its lines and what was returned of them.
pub async fn sale(
    platform: &Platform,
    actor: &Actor,
    shop: &str,
    id: &str,
) -> AppResult<(freeport_store::SaleRow, freeport_store::SaleRecord)> {
    actor.require(crate::Permission::ReadShops)?;
    sale_of_shop(platform, actor, shop, id).await
}

fn settling(
    row: &freeport_store::SaleRow,
    record: &freeport_store::SaleRecord,
    to: SaleState,
    actor: &str,
    now_ms: i64,
) -> freeport_store::Settling {
    freeport_store::Settling {
        sale_id: row.id.clone(),
        scheme: row.scheme,
        to,
        person_code: record.person_code.clone(),
        quota_year: record.quota_year,
        departure_on: row.departure_on.clone(),
        total_fen: row.total_fen,
        items: record
            .items
            .iter()
            .map(|i| (i.category.clone(), i.limit_quantity_milli))
            .collect(),
        actor: actor.to_owned(),
        idempotency: None,
        now_ms,
    }
}

/// The till commits or voids a pending reservation. A reservation past its deadline has expired:
/// it is settled as expired and the commit refused.
pub async fn settle(
    platform: &Platform,
    actor: &Actor,
    (shop, id): (&str, &str),
    how: Settlement,
    answer: impl FnOnce(&freeport_store::SaleRow) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<freeport_store::SaleRow> {
    actor.require(crate::Permission::Sell)?;
    let (mut row, record) = sale_of_shop(platform, actor, shop, id).await?;
    let now_ms = platform.now_ms();
    if row.state == SaleState::Pending && row.expires_at_ms.is_some_and(|at| at <= now_ms) {
        expire(platform, &row, &record).await?;
        return Err(AppError::InvalidTransition(format!(
            "the reservation expired at {} ms: nothing was spent; reserve again",
            row.expires_at_ms.unwrap_or_default()
        )));
    }
    let to = how.of(row.state).ok_or_else(|| {
        AppError::InvalidTransition(format!(
            "the sale is {}: only a pending reservation is committed or voided",
            row.state.as_str()
        ))
    })?;
    row.state = to;
    let mut s = settling(&row, &record, to, &actor.user_id, now_ms);
    s.idempotency = answer(&row)?;
    platform.store.settle_sale(&s).await?;
    Ok(row)
}

async fn expire(
    platform: &Platform,
    row: &freeport_store::SaleRow,
    record: &freeport_store::SaleRecord,
) -> AppResult<()> {
    let s = settling(
        row,
        record,
        SaleState::Expired,
        "system:expiry",
        platform.now_ms(),
    );
    match platform.store.settle_sale(&s).await {
        // Committed, voided or expired by another node meanwhile: settled all the same.
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Reservations past their deadline expire and give their quota and allowances back: one
/// person's (before a sale of theirs is decided), or everyone's (the expirer). How many expired.
pub async fn expire_overdue(platform: &Platform, person_code: Option<&str>) -> AppResult<usize> {
    const BATCH: i64 = 500;
    let ids = platform
        .store
        .overdue_reservations(person_code, platform.now_ms(), BATCH)
        .await?;
    for id in &ids {
        if let Some((row, record)) = platform.store.sale(id).await? {
            expire(platform, &row, &record).await?;
        }
    }
    Ok(ids.len())
}

/// Expires overdue reservations every `every`, so an abandoned till gives its quota back even when
/// the buyer never comes back; about once an hour, raises the alerts of buyers who took goods at
/// once and did not leave in time (`pickup::overdue_takers`).
pub fn spawn_expirer(
    platform: Platform,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let hourly = (3600 / every.as_secs().max(1)).max(1);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            if let Err(e) = expire_overdue(&platform, None).await {
                tracing::warn!(error = %e, "expiring duty-free reservations");
            }
            if n.is_multiple_of(hourly)
                && let Err(e) = crate::pickup::overdue_takers(&platform).await
            {
                tracing::warn!(error = %e, "looking for buyers who took goods and stayed");
            }
            n += 1;
        }
    })
}

/// Goods of a committed sale brought back: pieces per line.
#[derive(Debug, Clone)]
pub struct Return {
    pub lines: Vec<(i64, Decimal)>,
    pub reason: String,
}

/// A committed sale's goods returned: each line's pieces give back their price (the line's rest
/// when the last pieces come back, so a line never refunds more than it cost) and their share of
/// the category allowance, and the quota regains the refund.
pub async fn return_goods(
    platform: &Platform,
    actor: &Actor,
    (shop, id): (&str, &str),
    r: Return,
    answer: impl FnOnce(&freeport_store::NewReturn) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<freeport_store::NewReturn> {
    actor.require(crate::Permission::Sell)?;
    let (row, record) = sale_of_shop(platform, actor, shop, id).await?;
    if row.state != SaleState::Committed {
        return Err(AppError::InvalidTransition(format!(
            "the sale is {}: only committed goods are returned",
            row.state.as_str()
        )));
    }
    if r.reason.trim().is_empty() || r.reason.chars().count() > 300 {
        return Err(
            FieldError::new("reason", FieldErrorKind::OutOfRange, "1 to 300 characters").into(),
        );
    }
    if r.lines.is_empty() {
        return Err(FieldError::new("items", FieldErrorKind::Missing, "at least one line").into());
    }
    let mut lines = Vec::with_capacity(r.lines.len());
    for (i, (line, quantity)) in r.lines.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let item = record
            .items
            .iter()
            .find(|it| it.line == *line)
            .ok_or_else(|| {
                FieldError::new(
                    field("line"),
                    FieldErrorKind::Unknown,
                    "not a line of the sale",
                )
            })?;
        if lines
            .iter()
            .any(|l: &freeport_store::ReturnLine| l.line == *line)
        {
            return Err(FieldError::new(
                field("line"),
                FieldErrorKind::Inconsistent,
                "each line once",
            )
            .into());
        }
        let q = to_milli(&field("quantity"), *quantity)?;
        let left = item.quantity_milli - item.returned_milli;
        if q <= 0 || q > left {
            return Err(FieldError::new(
                field("quantity"),
                FieldErrorKind::OutOfRange,
                format!(
                    "more than 0 and at most the {} pieces not yet returned",
                    Decimal::new(left, 3).normalize()
                ),
            )
            .into());
        }
        lines.push(returned_line(item, q));
    }
    let mut back = freeport_store::NewReturn {
        id: uuid::Uuid::now_v7().to_string(),
        sale_id: row.id.clone(),
        scheme: row.scheme,
        person_code: record.person_code.clone(),
        quota_year: record.quota_year,
        departure_on: row.departure_on.clone(),
        lines,
        reason: r.reason.trim().to_owned(),
        actor: actor.user_id.clone(),
        idempotency: None,
        now_ms: platform.now_ms(),
    };
    back.idempotency = answer(&back)?;
    platform.store.return_goods(&back).await?;
    Ok(back)
}

/// What `q` thousandths of pieces of a line give back: their price at the unit price, rounded to the
/// fen (R4.2 counts at retail price), and their share of the limit quantity; the last pieces give
/// back the rest of both, so a line's refunds add up to what it cost.
fn returned_line(item: &freeport_store::SaleItemRow, q: i64) -> freeport_store::ReturnLine {
    let line_total = Cny::round_fen(
        Cny::from_fen(item.unit_price_fen).amount() * Decimal::new(item.quantity_milli, 3),
    )
    .fen();
    let returned_before = Cny::round_fen(
        Cny::from_fen(item.unit_price_fen).amount() * Decimal::new(item.returned_milli, 3),
    )
    .fen();
    let limit_before = share(
        item.limit_quantity_milli,
        item.returned_milli,
        item.quantity_milli,
    );
    let last = item.returned_milli + q == item.quantity_milli;
    let (refund_fen, limit_milli) = if last {
        (
            line_total - returned_before,
            item.limit_quantity_milli - limit_before,
        )
    } else {
        let through = item.returned_milli + q;
        (
            Cny::round_fen(Cny::from_fen(item.unit_price_fen).amount() * Decimal::new(through, 3))
                .fen()
                - returned_before,
            share(item.limit_quantity_milli, through, item.quantity_milli) - limit_before,
        )
    };
    freeport_store::ReturnLine {
        line: item.line,
        category: item.category.clone(),
        quantity_milli: q,
        limit_milli,
        refund_fen,
    }
}

/// `whole` x `part` / `of`, rounded down (i128, so no product overflows).
fn share(whole: i64, part: i64, of: i64) -> i64 {
    if of == 0 {
        return 0;
    }
    i64::try_from(i128::from(whole) * i128::from(part) / i128::from(of)).unwrap_or(whole)
}

/// What a traveller may still buy duty-free: the year's quota and, for a departure, each limited
/// category's allowance; with whether the departure is on record and any ban.
#[derive(Debug, Clone)]
pub struct Allowance {
    pub year: i32,
    pub annual_quota: Cny,
    pub spent: Cny,
    pub reserved: Cny,
    pub departure_on: time::Date,
    /// None when not told (a traveller's own look-up).
    pub departure_on_record: Option<bool>,
    pub banned_until: Option<String>,
    /// The last day of a serious-dishonesty listing (R4.7), if any.
    pub dishonest_until: Option<String>,
    /// (category, limit, held by committed and pending sales), in the category's limit unit.
    pub categories: Vec<(String, Decimal, Decimal)>,
    /// A Hainan resident's zero-tariff quota when in force (R4.11): (annual, spent, reserved).
    pub resident_quota: Option<(Cny, Cny, Cny)>,
}

/// A traveller's remaining quota and category allowances for a departure, by document (kept only
/// as the person code): for the till before it rings up, and for customs.
pub async fn allowance(
    platform: &Platform,
    actor: &Actor,
    document: &freeport_core::identity::PersonDocument,
    departure_on: time::Date,
) -> AppResult<Allowance> {
    actor.require(crate::Permission::ReadShops)?;
    allowance_of(platform, document, departure_on).await
}

/// A traveller's own allowance, asked without an account (rate-limited at the edge): the quotas
/// and allowances, never a ban, a listing or whether a departure is on record, which would tell
/// whoever holds a document number the holder's standing or travel days.
pub async fn own_allowance(
    platform: &Platform,
    document: &freeport_core::identity::PersonDocument,
    departure_on: time::Date,
) -> AppResult<Allowance> {
    let mut a = allowance_of(platform, document, departure_on).await?;
    a.departure_on_record = None;
    a.banned_until = None;
    a.dishonest_until = None;
    Ok(a)
}

async fn allowance_of(
    platform: &Platform,
    document: &freeport_core::identity::PersonDocument,
    departure_on: time::Date,
) -> AppResult<Allowance> {
    let person = platform.store.person_code(&document.canonical_key());
    expire_overdue(platform, Some(&person)).await?;
    let today = platform.today();
    let version = platform.pack.version_on(today).ok_or_else(|| {
        FieldError::new(
            "departure_on",
            FieldErrorKind::OutOfRange,
            format!("no pack version is in force on {today}"),
        )
    })?;
    let (spent, reserved) = platform
        .store
        .quota_year(Scheme::Offshore, &person, i64::from(today.year()))
        .await?;
    let resident = hainan_resident(document);
    let resident_quota = match version.duty_free.resident_annual_quota {
        Some(annual) if resident => {
            let (spent, reserved) = platform
                .store
                .quota_year(Scheme::ResidentZeroTariff, &person, i64::from(today.year()))
                .await?;
            Some((annual, Cny::from_fen(spent), Cny::from_fen(reserved)))
        }
        _ => None,
    };
    let day = departure_on.to_string();
    let held: std::collections::BTreeMap<String, i64> = platform
        .store
        .allowances(&person, &day)
        .await?
        .into_iter()
        .collect();
    Ok(Allowance {
        year: today.year(),
        annual_quota: version.duty_free.annual_quota,
        spent: Cny::from_fen(spent),
        reserved: Cny::from_fen(reserved),
        departure_on,
        departure_on_record: Some(
            !platform
                .store
                .departures_on(&person, &day)
                .await?
                .is_empty(),
        ),
        banned_until: platform.store.banned_until(&person).await?,
        dishonest_until: platform
            .store
            .dishonest_until(&person, &today.to_string())
            .await?,
        resident_quota,
        categories: version
            .duty_free
            .categories
            .values()
            .filter_map(|c| {
                let limit = c.per_departure_limit?;
                let taken = held
                    .get(&c.id)
                    .map_or(Decimal::ZERO, |m| Decimal::new(*m, 3));
                Some((c.id.clone(), limit, taken))
            })
            .collect(),
    })
}

/// A shop's sales of a period by day and state, as its operator or customs sees them.
pub async fn daily_sales(
    platform: &Platform,
    actor: &Actor,
    shop: &str,
    (from, to): (time::Date, time::Date),
) -> AppResult<Vec<freeport_store::DaySales>> {
    let shop = visible_shop(platform, actor, shop).await?;
    Ok(platform
        .store
        .sales_by_day(&shop.id, &from.to_string(), &to.to_string())
        .await?)
}
