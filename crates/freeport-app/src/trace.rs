//! One item, one code (R4.9): an officer looks a piece up by its traceability number and sees the
//! buyer's person code, the shop, the sale and the departure; the shop hands it over at the pick-up
//! point; an officer at the port's passenger channel sees it leave with the buyer, against the
//! buyer's departure on record.

use freeport_store::{IdempotencyRecord, ItemMove, ItemRow, ItemStep, SaleRecord, SaleRow};

use crate::{Actor, AppError, AppResult, Permission, Platform};

/// A piece with its sale and the buyer's departure on the sale's departure day.
#[derive(Debug, Clone)]
pub struct ItemTrace {
    pub item: ItemRow,
    pub sale: SaleRow,
    pub record: SaleRecord,
    pub departure: Option<freeport_core::departure::Departure>,
}

fn malformed(code: &str) -> bool {
    code.len() != 16 || !code.bytes().all(|b| b.is_ascii_digit())
}

/// The piece `code` as `actor` may see it: customs every one, an operator its own shops'.
pub async fn item(platform: &Platform, actor: &Actor, code: &str) -> AppResult<ItemTrace> {
    actor.require(Permission::ReadShops)?;
    let absent = || AppError::NotFound("no such item".into());
    if malformed(code) {
        return Err(absent());
    }
    let item = platform.store.item(code).await?.ok_or_else(absent)?;
    let (sale, record) = platform
        .store
        .sale(&item.sale_id)
        .await?
        .ok_or_else(absent)?;
    let shop = platform.store.shop(&sale.shop).await?.ok_or_else(absent)?;
    if !actor.may_see_shop(&shop.operator) {
        return Err(absent());
    }
    let departure = platform
        .store
        .departures_on(&record.person_code, &sale.departure_on)
        .await?
        .into_iter()
        .next();
    Ok(ItemTrace {
        item,
        sale,
        record,
        departure,
    })
}

/// The shop hands a sold piece over at the pick-up point: to its buyer, or to the `collector`
/// shown (kept by person code: one collector for many buyers is a ring's mark, R4.8).
pub async fn hand_over(
    platform: &Platform,
    actor: &Actor,
    (code, collector): (&str, Option<&freeport_core::identity::PersonDocument>),
    answer: impl FnOnce(&ItemTrace) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<ItemTrace> {
    actor.require(Permission::Sell)?;
    let mut t = item(platform, actor, code).await?;
    if !t.item.state.may_hand_over() {
        return Err(AppError::InvalidTransition(format!(
            "item {code} is {}: only a sold piece is handed over",
            t.item.state.as_str()
        )));
    }
    let now_ms = platform.now_ms();
    let collected_by = collector
        .map(|d| platform.store.person_code(&d.canonical_key()))
        .filter(|p| *p != t.record.person_code);
    t.item.state = ItemStep::HandOver.state();
    t.item.handed_over_at_ms = Some(now_ms);
    t.item.collected_by.clone_from(&collected_by);
    let m = ItemMove {
        trace_code: code.to_owned(),
        sale_id: t.item.sale_id.clone(),
        step: ItemStep::HandOver,
        collected_by,
        actor: actor.user_id.clone(),
        note: format!("handed over at shop {}", t.sale.shop),
        idempotency: answer(&t)?,
        now_ms,
    };
    platform.store.move_item(&m).await?;
    Ok(t)
}

/// An officer at `port`'s passenger channel sees a piece leave with its buyer: only against the
/// buyer's departure on record from that port on the sale's departure day.
pub async fn depart(
    platform: &Platform,
    actor: &Actor,
    code: &str,
    port: &str,
    answer: impl FnOnce(&ItemTrace) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<ItemTrace> {
    actor.require(Permission::Examine)?;
    let mut t = item(platform, actor, code).await?;
    if !t.item.state.may_depart() {
        return Err(AppError::InvalidTransition(format!(
            "item {code} is {}: only a sold or handed-over piece departs",
            t.item.state.as_str()
        )));
    }
    if t.departure.as_ref().is_none_or(|d| d.port != port) {
        return Err(AppError::InvalidTransition(format!(
            "the buyer has no departure on record from {port} on {}",
            t.sale.departure_on
        )));
    }
    let now_ms = platform.now_ms();
    t.item.state = ItemStep::Depart.state();
    t.item.departed_at_ms = Some(now_ms);
    let m = ItemMove {
        trace_code: code.to_owned(),
        sale_id: t.item.sale_id.clone(),
        step: ItemStep::Depart,
        collected_by: None,
        actor: actor.user_id.clone(),
        note: format!("departed from {port}"),
        idempotency: answer(&t)?,
        now_ms,
    };
    platform.store.move_item(&m).await?;
    Ok(t)
}
