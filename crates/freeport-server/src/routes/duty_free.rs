//! Offshore duty-free: shops and sales.

use freeport_core::quota_ledger::SaleState;

use super::*;

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
        resident_zero_tariff: s.resident_zero_tariff,
    }
}

/// A shop id from a path: one that cannot name a shop names no resource.
pub(super) fn path_shop(text: &str) -> ApiResult<String> {
    shop_id(text).map_err(|_| ApiError::new(Code::NotFound, "no such resource"))
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
    let st = &state;
    let actor = caller.actor();
    let path = format!("PUT /api/v1/duty-free/shops/{shop}");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::RegisterShop,
        &headers,
        &path,
        &body,
        async move |idem| {
            let id = shop_id(&shop)?;
            let b: ShopRequest = parse_body(payload)?;
            let registration = freeport_app::duty_free::ShopRegistration {
                id,
                operator: credit_code("operator", &b.operator)?,
                name: b.name,
                location: b.location,
                resident_zero_tariff: b.resident_zero_tariff.unwrap_or(false),
            };
            let shop = freeport_app::duty_free::register_shop(st, &actor, registration, |s| {
                kept(&idem, StatusCode::OK, to_json(&shop_view(s.clone())))
            })
            .await?;
            Ok((StatusCode::OK, to_json(&shop_view(shop))?))
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
    let shops = freeport_app::duty_free::shops(
        &state,
        &caller.actor(),
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
        scheme: row.scheme.as_str().to_owned(),
        shop: row.shop,
        departure_on: Some(row.departure_on).filter(|d| !d.is_empty()),
        sold_on: row.sold_on,
        accepted: row.state != SaleState::Refused,
        state: row.state.as_str().to_owned(),
        expires_at_ms: row.expires_at_ms,
        returned: cny_text(row.returned_fen),
        guarantee: cny_text(row.guarantee_fen),
        guarantee_released_at_ms: row.guarantee_released_at_ms,
        pack_version: row.pack_version,
    }
}

/// A `YYYY-MM-DD` day from the request, or an error naming `field`.
pub(super) fn parse_day(field: &str, text: &str) -> ApiResult<time::Date> {
    Ok(freeport_core::calendar::parse_day(field, text)?)
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
        freeport_app::Permission::Sell,
        &headers,
        &path,
        &body,
        async move |idem| {
            let shop =
                freeport_app::duty_free::visible_shop(st, &c.actor(), &path_shop(&shop)?).await?;
            let request = parse_body::<SaleRequest>(payload)?;
            if request.hold_seconds.is_some() {
                return Err(FieldError::new(
                    "hold_seconds",
                    FieldErrorKind::Inconsistent,
                    "a sale made at once is not held: reserve it (POST …/reservations) to hold it",
                )
                .into());
            }
            let taking = (
                request.into_domain()?,
                freeport_app::duty_free::Taking::Sell,
            );
            let sold = freeport_app::duty_free::sell(st, &c.actor(), &shop, taking, |sold| {
                kept(&idem, StatusCode::CREATED, to_json(&sold_view(sold)))
            })
            .await?;
            Ok((StatusCode::CREATED, to_json(&sold_view(&sold))?))
        },
    )
    .await
}

/// The answer to a recorded sale.
pub(super) fn sold_view(sold: &freeport_app::duty_free::Sold) -> SaleView {
    let s = &sold.sale;
    SaleView {
        id: s.id.clone(),
        scheme: s.scheme.as_str().to_owned(),
        shop: s.shop.clone(),
        departure_on: Some(s.departure_on.clone()).filter(|d| !d.is_empty()),
        sold_on: s.sold_on.clone(),
        accepted: s.state != SaleState::Refused,
        state: s.state.as_str().to_owned(),
        expires_at_ms: s.expires_at_ms,
        total: Cny::from_fen(s.total_fen).to_string(),
        returned: cny_text(0),
        guarantee: cny_text(s.guarantee_fen),
        guarantee_released_at_ms: None,
        pack_version: s.pack_version.clone(),
        decision: sold.decision.clone(),
    }
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
    let rows = freeport_app::duty_free::sales(
        &state,
        &caller.actor(),
        &path_shop(&shop)?,
        page.after.as_deref().unwrap_or(""),
        limit(&page)?,
    )
    .await?;
    Ok(Json(SalePage {
        next_after: rows.last().map(|r| r.id.clone()),
        items: rows.into_iter().map(sale_view).collect(),
    }))
}
