//! The enterprise registry and the customs exchange rates.

use super::*;

/// Register an enterprise or update its registry entry.
#[utoipa::path(
    put,
    path = "/api/v1/enterprises/{code}",
    tag = "registry",
    request_body = EnterpriseRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = EnterpriseEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn put_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let actor = caller.actor();
    let path = format!("PUT /api/v1/enterprises/{code}");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Register,
        &headers,
        &path,
        &body,
        async move |idem| {
            let code = path_code(&code)?;
            let registration = parse_body::<EnterpriseRequest>(payload)?.into_domain(code)?;
            let e = freeport_app::registry::register(st, &actor, registration, |e| {
                kept(
                    &idem,
                    StatusCode::OK,
                    to_json(&EnterpriseEnvelope {
                        enterprise: enterprise_view(e.clone()),
                    }),
                )
            })
            .await?;
            Ok((
                StatusCode::OK,
                to_json(&EnterpriseEnvelope {
                    enterprise: enterprise_view(e),
                })?,
            ))
        },
    )
    .await
}

/// Read one registry entry.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}",
    tag = "registry",
    params(("code" = String, Path, description = "unified social credit code")),
    responses((status = 200, body = EnterpriseEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<EnterpriseEnvelope>> {
    let e = freeport_app::registry::enterprise(&state, &caller.actor(), &path_code(&code)?).await?;
    Ok(Json(EnterpriseEnvelope {
        enterprise: enterprise_view(e),
    }))
}

/// List the registry, in credit-code order.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises",
    tag = "registry",
    params(Page),
    responses((status = 200, body = EnterprisePage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_enterprises(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<EnterprisePage>> {
    let items = freeport_app::registry::enterprises(
        &state,
        &caller.actor(),
        page.after.as_deref().unwrap_or(""),
        limit(&page)?,
    )
    .await?;
    let next_after = items.last().map(|e| e.credit_code.clone());
    Ok(Json(EnterprisePage {
        items: items.into_iter().map(enterprise_view).collect(),
        next_after,
    }))
}

/// Record the benchmark exchange rate of a day (R8.5).
#[utoipa::path(
    put,
    path = "/api/v1/exchange-rates/{currency}/{day}",
    tag = "registry",
    request_body = ExchangeRateRequest,
    params(("currency" = String, Path, description = "ISO 4217 code"), ("day" = String, Path, description = "YYYY-MM-DD"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ExchangeRateView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn put_exchange_rate(
    State(state): State<AppState>,
    caller: Caller,
    Path((currency, day)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let actor = caller.actor();
    let path = format!("PUT /api/v1/exchange-rates/{currency}/{day}");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Register,
        &headers,
        &path,
        &body,
        async move |idem| {
            let c = Currency::parse(&currency).map_err(|e| FieldError {
                field: "currency".to_owned(),
                ..e
            })?;
            let d = parse_day("day", &day)?;
            let b: ExchangeRateRequest = parse_body(payload)?;
            let rate =
                freeport_core::limits::EXCHANGE_RATE.parse("cny_per_unit", &b.cny_per_unit)?;
            let response = to_json(&ExchangeRateView {
                currency: c.as_str().to_owned(),
                day: d.to_string(),
                cny_per_unit: rate.to_string(),
            })?;
            let record = idem.record(StatusCode::OK, &response);
            freeport_app::registry::set_exchange_rate(st, &actor, c, d, rate, Some(record)).await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}
