//! Offshore duty-free: shops and sales.

use super::*;

/// Departures one buyer may buy for within `PROXY_WINDOW_DAYS` before an alert (R4.8).
pub(super) const PROXY_DEPARTURES: usize = 3;
pub(super) const PROXY_WINDOW_DAYS: i64 = 30;

pub(super) fn shop_id(text: &str) -> ApiResult<String> {
    if text.is_empty()
        || text.len() > 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(FieldError::new(
            "shop",
            FieldErrorKind::Malformed,
            "1 to 64 letters, digits, - or _",
        )
        .into());
    }
    Ok(text.to_owned())
}

pub(super) fn shop_view(s: freeport_store::Shop) -> ShopView {
    ShopView {
        id: s.id,
        operator: s.operator,
        name: s.name,
        location: s.location,
    }
}

/// The shop as the caller may see it: another operator's shop is reported absent.
pub(super) async fn visible_shop(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<freeport_store::Shop> {
    let id = shop_id(id).map_err(|_| ApiError::new(Code::NotFound, "no such resource"))?;
    match state.store.shop(&id).await? {
        Some(shop) if caller.may_access_shop(&shop.operator) => Ok(shop),
        _ => Err(ApiError::new(Code::NotFound, "no such resource")),
    }
}

/// Register a duty-free shop or update it (customs officers, administrators).
#[utoipa::path(
    put,
    path = "/api/v1/duty-free/shops/{shop}",
    tag = "duty-free",
    request_body = ShopRequest,
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ShopView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn put_shop(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("PUT /api/v1/duty-free/shops/{shop}");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::CustomsOfficer, Role::Administrator],
        &headers,
        &path,
        &body,
        async move |idem| {
            let id = shop_id(&shop)?;
            let b: ShopRequest = parse_body(payload)?;
            let operator = credit_code("operator", &b.operator)?.as_str().to_owned();
            if st.store.enterprise(&operator).await?.is_none() {
                return Err(FieldError::new(
                    "operator",
                    FieldErrorKind::Unknown,
                    "not in the enterprise registry",
                )
                .into());
            }
            for (field, text) in [("name", &b.name), ("location", &b.location)] {
                if text.trim().is_empty() || text.chars().count() > 300 {
                    return Err(FieldError::new(
                        field,
                        FieldErrorKind::OutOfRange,
                        "1 to 300 characters",
                    )
                    .into());
                }
            }
            let shop = freeport_store::Shop {
                id,
                operator,
                name: b.name.trim().to_owned(),
                location: b.location.trim().to_owned(),
            };
            let response = to_json(&shop_view(shop.clone()))?;
            let record = idem.record(StatusCode::OK, &response);
            st.store
                .put_shop(&shop, &c.user.id, st.now_ms(), Some(&record))
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

/// List duty-free shops: an operator sees its own.
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/shops",
    tag = "duty-free",
    params(Page),
    responses((status = 200, body = ShopPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_shops(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<ShopPage>> {
    caller.require(&[
        Role::DutyFreeOperator,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let operator = match caller.role {
        Role::DutyFreeOperator => caller.user.enterprise.clone(),
        _ => None,
    };
    let shops = state
        .store
        .shops(
            operator.as_deref(),
            page.after.as_deref().unwrap_or(""),
            limit(&page)?,
        )
        .await?;
    Ok(Json(ShopPage {
        next_after: shops.last().map(|s| s.id.clone()),
        items: shops.into_iter().map(shop_view).collect(),
    }))
}

pub(super) fn sale_view(row: freeport_store::SaleRow) -> SaleView {
    SaleView {
        decision: serde_json::from_str(&row.decision_json).unwrap_or(Value::Null),
        total: cny_text(row.total_fen),
        id: row.id,
        shop: row.shop,
        departure_on: row.departure_on,
        sold_on: row.sold_on,
        accepted: row.accepted,
        pack_version: row.pack_version,
    }
}

/// A `YYYY-MM-DD` day from the request, or an error naming `field`.
pub(super) fn parse_day(field: &str, text: &str) -> ApiResult<time::Date> {
    Ok(freeport_core::calendar::parse_day(field, text)?)
}

/// A quantity in thousandths, as account books and sales keep it: at most three decimals.
pub(super) fn milli(field: &str, value: Decimal) -> ApiResult<i64> {
    Ok(freeport_core::limits::to_milli(field, value)?)
}

/// Sell duty-free: decide the sale against the buyer's age, the departure's category limits and
/// the annual quota, and record it.
///
/// The buyer is identified by document across all shops (one code per person; the number is
/// never stored). An accepted sale spends quota in the same transaction; a refused one is kept
/// on record with its reasons and spends nothing.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/shops/{shop}/sales",
    tag = "duty-free",
    request_body = SaleRequest,
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, description = "decided and recorded, accepted or refused", body = SaleView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "another sale to the same person got there first, or idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn sell(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/duty-free/shops/{shop}/sales");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::DutyFreeOperator],
        &headers,
        &path,
        &body,
        async move |idem| {
            use freeport_core::duty_free::{BasketItem, SaleLine, TravellerRecord, decide_sale};
            let shop = visible_shop(st, c, &shop).await?;
            let b: SaleRequest = parse_body(payload)?;
            let document = freeport_core::identity::PersonDocument::parse(
                &b.document.kind,
                &b.document.number,
                b.document.issuing_country.as_deref(),
            )?;
            let birth_date = parse_day("birth_date", &b.birth_date)?;
            if let freeport_core::identity::PersonDocument::ResidentId(id) = &document
                && id.birth_date() != birth_date
            {
                return Err(FieldError::new(
                    "birth_date",
                    FieldErrorKind::Inconsistent,
                    "does not match the resident identity card",
                )
                .into());
            }
            let departure_on = parse_day("departure_on", &b.departure_on)?;
            let sold_on = parse_day("sold_on", &b.sold_on)?;
            if departure_on < sold_on {
                return Err(FieldError::new(
                    "departure_on",
                    FieldErrorKind::OutOfRange,
                    "the departure cannot precede the sale",
                )
                .into());
            }
            if b.items.is_empty() || b.items.len() > 100 {
                return Err(
                    FieldError::new("items", FieldErrorKind::OutOfRange, "1 to 100 items").into(),
                );
            }
            let mut lines = Vec::with_capacity(b.items.len());
            let mut items = Vec::with_capacity(b.items.len());
            for (i, item) in b.items.iter().enumerate() {
                let f = |name: &str| format!("items[{i}].{name}");
                let unit_price = freeport_api::quote::bounded_cny(
                    &f("unit_price"),
                    &item.unit_price,
                    freeport_core::limits::SALE_UNIT_PRICE,
                )?;
                let quantity = SALE_QUANTITY.parse(&f("quantity"), &item.quantity)?;
                let limit_quantity = match &item.limit_quantity {
                    Some(q) => SALE_QUANTITY.parse(&f("limit_quantity"), q)?,
                    None => quantity,
                };
                if item.description.chars().count() > 300 {
                    return Err(FieldError::new(
                        f("description"),
                        FieldErrorKind::OutOfRange,
                        "at most 300 characters",
                    )
                    .into());
                }
                items.push(freeport_store::NewSaleItem {
                    category: item.category.clone(),
                    description: item.description.clone(),
                    unit_price_fen: unit_price.fen(),
                    quantity_milli: milli(&f("quantity"), quantity)?,
                    limit_quantity_milli: milli(&f("limit_quantity"), limit_quantity)?,
                });
                lines.push(SaleLine {
                    category: item.category.clone(),
                    unit_price,
                    quantity,
                    limit_quantity,
                });
            }
            let person_code = st.store.person_code(&document.canonical_key());
            let year = i64::from(sold_on.year());
            let recent_from = sold_on - time::Duration::days(PROXY_WINDOW_DAYS);
            let history = st
                .store
                .traveller_history(
                    &person_code,
                    year,
                    &departure_on.to_string(),
                    &recent_from.to_string(),
                )
                .await?;
            let traveller = TravellerRecord {
                birth_date,
                spent_this_year: freeport_core::money::Cny::from_fen(history.spent_this_year_fen),
                bought_this_departure: history
                    .bought_this_departure
                    .iter()
                    .map(|(category, m)| BasketItem {
                        category: category.clone(),
                        quantity: Decimal::new(*m, 3),
                    })
                    .collect(),
                banned_until: history
                    .banned_until
                    .as_deref()
                    .and_then(|d| parse_day("banned_until", d).ok()),
            };
            let decision = decide_sale(&st.pack, sold_on, &lines, &traveller)?;
            // R4.8: buying for several departures within weeks is the return-flow pattern of
            // paid carriers; the analysts see it in the alert queue.
            let mut departures = history.recent_departures.clone();
            if !departures.contains(&departure_on.to_string()) {
                departures.push(departure_on.to_string());
            }
            let alerts = if decision.accepted && departures.len() >= PROXY_DEPARTURES {
                vec![freeport_store::NewAlert {
                    id: uuid::Uuid::now_v7().to_string(),
                    dedupe_key: format!("proxy:{person_code}:{}", &sold_on.to_string()[..7]),
                    kind: "proxy_buying".to_owned(),
                    subject: format!(
                        "one buyer, {} departures within {PROXY_WINDOW_DAYS} days",
                        departures.len()
                    ),
                    enterprise: None,
                    declaration_id: None,
                    person_code: Some(person_code.clone()),
                    raised_on: sold_on.to_string(),
                    details_json: json!({ "departures": departures, "shop": shop.id, "window_days": PROXY_WINDOW_DAYS }).to_string(),
                }]
            } else {
                Vec::new()
            };
            let decision_json = to_json(&decision)?;
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
            let sale_id = uuid::Uuid::now_v7().to_string();
            let response = to_json(&SaleView {
                id: sale_id.clone(),
                shop: shop.id.clone(),
                departure_on: departure_on.to_string(),
                sold_on: sold_on.to_string(),
                accepted: decision.accepted,
                total: decision.total.to_string(),
                pack_version: decision.pack.id.clone(),
                decision: decision_json.clone(),
            })?;
            let record = idem.record(StatusCode::CREATED, &response);
            st.store
                .record_sale(&freeport_store::NewSale {
                    id: sale_id,
                    shop: shop.id,
                    person_code,
                    departure_on: departure_on.to_string(),
                    sold_on: sold_on.to_string(),
                    accepted: decision.accepted,
                    total_fen: decision.total.fen(),
                    pack_version: decision.pack.id.clone(),
                    decision_json: decision_json.to_string(),
                    items,
                    year,
                    annual_quota_fen: decision.pack.duty_free.annual_quota.fen(),
                    limits,
                    alerts,
                    actor: c.user.id.clone(),
                    idempotency: Some(record),
                    now_ms: st.now_ms(),
                })
                .await?;
            Ok((StatusCode::CREATED, response))
        },
    )
    .await
}

/// List a shop's sales, accepted and refused, in time order.
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/shops/{shop}/sales",
    tag = "duty-free",
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), Page),
    responses((status = 200, body = SalePage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_sales(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<SalePage>> {
    caller.require(&[
        Role::DutyFreeOperator,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let shop = visible_shop(&state, &caller, &shop).await?;
    let rows = state
        .store
        .sales(&shop.id, page.after.as_deref().unwrap_or(""), limit(&page)?)
        .await?;
    Ok(Json(SalePage {
        next_after: rows.last().map(|r| r.id.clone()),
        items: rows.into_iter().map(sale_view).collect(),
    }))
}
