//! One item, one code (R4.9): a sold piece looked up by its traceability number, handed over at
//! the pick-up point, seen leaving with its buyer at the port's passenger channel.

use freeport_api::platform::{DepartureView, HandOverRequest, ItemDepartureRequest, ItemView};

use super::*;

fn item_view(t: &freeport_app::trace::ItemTrace) -> ItemView {
    let line = t.record.items.iter().find(|i| i.line == t.item.line);
    ItemView {
        trace_code: t.item.trace_code.clone(),
        state: t.item.state.as_str().to_owned(),
        person_code: t.record.person_code.clone(),
        shop: t.sale.shop.clone(),
        sale_id: t.sale.id.clone(),
        line: t.item.line,
        category: line.map(|l| l.category.clone()).unwrap_or_default(),
        pickup: line.map(|l| l.pickup.clone()).unwrap_or_default(),
        sold_on: t.sale.sold_on.clone(),
        departure_on: t.sale.departure_on.clone(),
        departure: t.departure.as_ref().map(|d| DepartureView {
            id: d.id.clone(),
            kind: d.kind.as_str().to_owned(),
            means: d.means.clone(),
            port: d.port.clone(),
            departs_at_ms: d.departs_at_ms,
            departure_on: d.departure_on.to_string(),
            leaves_country: d.leaves_country,
        }),
        handed_over_at_ms: t.item.handed_over_at_ms,
        departed_at_ms: t.item.departed_at_ms,
        collected_by: t.item.collected_by.clone(),
    }
}

const KEY: &str =
    "1 to 200 visible ASCII characters; a retry with the same key and body replays the result";

/// A sold piece by its 16-digit traceability number: the buyer's person code, the shop, the sale,
/// the departure, and where the piece is (customs; an operator its own shops' pieces).
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/items/{code}",
    tag = "duty-free",
    params(("code" = String, Path, description = "the 16-digit traceability number")),
    responses((status = 200, body = ItemView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such item, or another operator's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<ItemView>> {
    let t = freeport_app::trace::item(&state, &caller.actor(), &code).await?;
    Ok(Json(item_view(&t)))
}

/// Hand a sold piece over at the pick-up point (the shop's operator): to its buyer, or to the
/// collector shown, kept by person code.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/items/{code}/hand-over",
    tag = "duty-free",
    request_body(content = HandOverRequest, description = "optional: absent or `{}` when the buyer takes the piece"),
    params(("code" = String, Path, description = "the 16-digit traceability number"), ("Idempotency-Key" = String, Header, description = KEY)),
    responses((status = 200, body = ItemView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such item, or another operator's", body = ErrorEnvelope), (status = 409, description = "not sold (reserved, handed over, departed or returned), or idempotency key reused", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn hand_over_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("POST /api/v1/duty-free/items/{code}/hand-over");
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Sell,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: HandOverRequest = if payload.is_empty() {
                HandOverRequest::default()
            } else {
                parse_body(payload)?
            };
            let collector = b
                .collector
                .map(|d| {
                    freeport_core::identity::PersonDocument::parse(
                        &d.kind,
                        &d.number,
                        d.issuing_country.as_deref(),
                    )
                    .map_err(|e| e.within("collector"))
                })
                .transpose()?;
            let t =
                freeport_app::trace::hand_over(st, &c.actor(), (&code, collector.as_ref()), |t| {
                    kept(&idem, StatusCode::OK, to_json(&item_view(t)))
                })
                .await?;
            Ok((StatusCode::OK, to_json(&item_view(&t))?))
        },
    )
    .await
}

/// A piece leaves the island with its buyer through `port`'s passenger channel (officers): only
/// against the buyer's departure on record from that port on the sale's departure day.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/items/{code}/departure",
    tag = "duty-free",
    request_body = ItemDepartureRequest,
    params(("code" = String, Path, description = "the 16-digit traceability number"), ("Idempotency-Key" = String, Header, description = KEY)),
    responses((status = 200, body = ItemView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such item", body = ErrorEnvelope), (status = 409, description = "not sold or handed over, no departure of the buyer on record from the port that day, or idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn item_departure(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("POST /api/v1/duty-free/items/{code}/departure");
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Examine,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: ItemDepartureRequest = parse_body(payload)?;
            let t = freeport_app::trace::depart(st, &c.actor(), &code, &b.port, |t| {
                kept(&idem, StatusCode::OK, to_json(&item_view(t)))
            })
            .await?;
            Ok((StatusCode::OK, to_json(&item_view(&t))?))
        },
    )
    .await
}

/// What a traveller may still buy duty-free: the year's quota spent, held and left, and for a
/// departure each limited category's allowance, with whether the departure is on record and any
/// ban (operators before they ring up; customs). The document is kept as nothing at all.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/allowance",
    tag = "duty-free",
    request_body = freeport_api::platform::AllowanceRequest,
    responses((status = 200, body = freeport_api::platform::AllowanceView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn allowance(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<freeport_api::platform::AllowanceView>> {
    use freeport_api::platform::AllowanceRequest;
    let b: AllowanceRequest = parse_body(&body)?;
    let document = freeport_core::identity::PersonDocument::parse(
        &b.document.kind,
        &b.document.number,
        b.document.issuing_country.as_deref(),
    )
    .map_err(|e| e.within("document"))?;
    let day = super::duty_free::parse_day("departure_on", &b.departure_on)?;
    let a = freeport_app::duty_free::allowance(&state, &caller.actor(), &document, day).await?;
    Ok(Json(allowance_view(a)))
}

/// The answer to an allowance read.
fn allowance_view(a: freeport_app::duty_free::Allowance) -> freeport_api::platform::AllowanceView {
    use freeport_api::platform::{AllowanceView, CategoryAllowanceView};
    let remaining = (a.annual_quota - a.spent - a.reserved).max(Cny::ZERO);
    AllowanceView {
        year: a.year,
        annual_quota: a.annual_quota.to_string(),
        spent: a.spent.to_string(),
        reserved: a.reserved.to_string(),
        remaining: remaining.to_string(),
        departure_on: a.departure_on.to_string(),
        departure_on_record: a.departure_on_record,
        banned_until: a.banned_until,
        dishonest_until: a.dishonest_until,
        resident_zero_tariff: a.resident_quota.map(|(annual, spent, reserved)| {
            freeport_api::platform::QuotaView {
                annual_quota: annual.to_string(),
                spent: spent.to_string(),
                reserved: reserved.to_string(),
                remaining: (annual - spent - reserved).max(Cny::ZERO).to_string(),
            }
        }),
        categories: a
            .categories
            .into_iter()
            .map(|(category, limit, taken)| CategoryAllowanceView {
                remaining: (limit - taken)
                    .max(rust_decimal::Decimal::ZERO)
                    .normalize()
                    .to_string(),
                limit: limit.normalize().to_string(),
                taken: taken.normalize().to_string(),
                category,
            })
            .collect(),
    }
}

/// A traveller's own remaining quota and category allowances for a departure, without an account
/// (R4.2, R4.4, R4.11): the document and birth date (checked against a resident identity card),
/// kept as nothing at all. Bans and listings are not shown. At most
/// `TRAVELLER_LOOKUPS_PER_MINUTE` (20) a minute from one address (`429` with `Retry-After`).
#[utoipa::path(
    post,
    path = "/api/v1/travellers/allowance",
    tag = "duty-free",
    request_body = freeport_api::platform::TravellerAllowanceRequest,
    responses((status = 200, body = freeport_api::platform::AllowanceView), (status = 422, description = "invalid input", body = ErrorEnvelope), (status = 429, description = "too many look-ups from this address", body = ErrorEnvelope)),
)]
pub(super) async fn traveller_allowance(
    State(state): State<AppState>,
    PeerAddress(peer): PeerAddress,
    body: Bytes,
) -> ApiResult<Json<freeport_api::platform::AllowanceView>> {
    state
        .lookup_limit
        .take(peer, state.now_ms())
        .map_err(super::sessions::too_many_attempts)?;
    let b: freeport_api::platform::TravellerAllowanceRequest = parse_body(&body)?;
    let (document, day) = b.parse()?;
    let a = freeport_app::duty_free::own_allowance(&state, &document, day).await?;
    Ok(Json(allowance_view(a)))
}
