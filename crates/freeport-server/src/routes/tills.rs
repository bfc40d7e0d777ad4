//! A duty-free till's two phases (R4.2, R4.4): a basket reserved, then committed or voided before
//! it expires; committed goods returned; one sale read with its lines.

use freeport_api::platform::{
    HOLD_SECONDS, ReturnRequest, ReturnView, ReturnedLineView, SaleDetailView, SaleLineView,
};
use freeport_core::quota_ledger::Settlement;

use super::duty_free::{path_shop, sale_view, sold_view};
use super::rings::SaleDays;
use super::*;

const KEY: &str =
    "1 to 200 visible ASCII characters; a retry with the same key and body replays the result";

/// Reserve a basket at a till: decided as a sale is, and if accepted its total held against the
/// buyer's annual quota and its quantities against the departure's category limits, all or
/// nothing, until it is committed or voided or `hold_seconds` pass (then it expires by itself).
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/shops/{shop}/reservations",
    tag = "duty-free",
    request_body = SaleRequest,
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), ("Idempotency-Key" = String, Header, description = KEY)),
    responses((status = 201, description = "decided: reserved (`pending`) or refused with every shortfall", body = SaleView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "another sale to the same person got there first, or idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn reserve(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/duty-free/shops/{shop}/reservations");
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
            let (min, max, default) = HOLD_SECONDS;
            let hold = request.hold_seconds.unwrap_or(default);
            if !(min..=max).contains(&hold) {
                return Err(FieldError::new(
                    "hold_seconds",
                    FieldErrorKind::OutOfRange,
                    format!("{min} to {max} seconds"),
                )
                .into());
            }
            let taking = freeport_app::duty_free::Taking::Reserve {
                hold_ms: hold * 1000,
            };
            let order = (request.into_domain()?, taking);
            let sold = freeport_app::duty_free::sell(st, &c.actor(), &shop, order, |sold| {
                kept(&idem, StatusCode::CREATED, to_json(&sold_view(sold)))
            })
            .await?;
            Ok((StatusCode::CREATED, to_json(&sold_view(&sold))?))
        },
    )
    .await
}

async fn settle(
    state: AppState,
    caller: Caller,
    (shop, id): (String, String),
    headers: HeaderMap,
    how: Settlement,
) -> Response {
    let verb = match how {
        Settlement::Commit => "commit",
        _ => "void",
    };
    let path = format!("POST /api/v1/duty-free/shops/{shop}/sales/{id}/{verb}");
    let (st, c) = (&state, &caller);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Sell,
        &headers,
        &path,
        &Bytes::new(),
        async move |idem| {
            let row = freeport_app::duty_free::settle(
                st,
                &c.actor(),
                (&path_shop(&shop)?, &id),
                how,
                |row| kept(&idem, StatusCode::OK, to_json(&sale_view(row.clone()))),
            )
            .await?;
            Ok((StatusCode::OK, to_json(&sale_view(row))?))
        },
    )
    .await
}

/// Commit a pending reservation: the sale is made and the reserved quota spent. One past its
/// deadline has expired (`409`, nothing spent).
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/shops/{shop}/sales/{id}/commit",
    tag = "duty-free",
    params(("shop" = String, Path), ("id" = String, Path), ("Idempotency-Key" = String, Header, description = KEY)),
    responses((status = 200, body = SaleView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "not pending (settled already, expired or refused), or idempotency key reused", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn commit_sale(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    settle(state, caller, ids, headers, Settlement::Commit).await
}

/// Void a pending reservation: its quota and category allowances go back.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/shops/{shop}/sales/{id}/void",
    tag = "duty-free",
    params(("shop" = String, Path), ("id" = String, Path), ("Idempotency-Key" = String, Header, description = KEY)),
    responses((status = 200, body = SaleView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "not pending (settled already, expired or refused), or idempotency key reused", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn void_sale(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    settle(state, caller, ids, headers, Settlement::Void).await
}

fn return_view(r: &freeport_store::NewReturn) -> ReturnView {
    ReturnView {
        id: r.id.clone(),
        sale: r.sale_id.clone(),
        refund: cny_text(r.refund_fen()),
        lines: r
            .lines
            .iter()
            .map(|l| ReturnedLineView {
                line: l.line,
                quantity: milli_text(l.quantity_milli),
                refund: cny_text(l.refund_fen),
                allowance: milli_text(l.limit_milli),
            })
            .collect(),
        reason: r.reason.clone(),
    }
}

fn milli_text(milli: i64) -> String {
    rust_decimal::Decimal::new(milli, 3).normalize().to_string()
}

/// Return committed goods: each line's pieces give back their price (the line's rest with its last
/// pieces) to the buyer's annual quota, and their limit quantity to the departure's allowance.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/shops/{shop}/sales/{id}/returns",
    tag = "duty-free",
    request_body = ReturnRequest,
    params(("shop" = String, Path), ("id" = String, Path), ("Idempotency-Key" = String, Header, description = KEY)),
    responses((status = 201, body = ReturnView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "not committed, returned meanwhile, or idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn return_goods(
    State(state): State<AppState>,
    caller: Caller,
    Path((shop, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("POST /api/v1/duty-free/shops/{shop}/sales/{id}/returns");
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Sell,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: ReturnRequest = parse_body(payload)?;
            if b.items.len() > 100 {
                return Err(
                    FieldError::new("items", FieldErrorKind::OutOfRange, "1 to 100 lines").into(),
                );
            }
            let mut lines = Vec::with_capacity(b.items.len());
            for (i, item) in b.items.iter().enumerate() {
                let q = freeport_core::limits::SALE_QUANTITY
                    .parse(&format!("items[{i}].quantity"), &item.quantity)?;
                lines.push((item.line, q));
            }
            let r = freeport_app::duty_free::Return {
                lines,
                reason: b.reason,
            };
            let back = freeport_app::duty_free::return_goods(
                st,
                &c.actor(),
                (&path_shop(&shop)?, &id),
                r,
                |back| kept(&idem, StatusCode::CREATED, to_json(&return_view(back))),
            )
            .await?;
            Ok((StatusCode::CREATED, to_json(&return_view(&back))?))
        },
    )
    .await
}

/// One sale of a shop with its lines and what was returned of each.
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/shops/{shop}/sales/{id}",
    tag = "duty-free",
    params(("shop" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SaleDetailView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_sale(
    State(state): State<AppState>,
    caller: Caller,
    Path((shop, id)): Path<(String, String)>,
) -> ApiResult<Json<SaleDetailView>> {
    let (row, record) =
        freeport_app::duty_free::sale(&state, &caller.actor(), &path_shop(&shop)?, &id).await?;
    Ok(Json(SaleDetailView {
        sale: sale_view(row),
        lines: record
            .items
            .into_iter()
            .map(|i| SaleLineView {
                line: i.line,
                category: i.category,
                description: i.description,
                unit_price: cny_text(i.unit_price_fen),
                quantity: milli_text(i.quantity_milli),
                limit_quantity: milli_text(i.limit_quantity_milli),
                returned_quantity: milli_text(i.returned_milli),
                pickup: i.pickup,
            })
            .collect(),
    }))
}

/// A shop's sales day by day: committed (with their total, what returns gave back and the net),
/// pending, voided, expired and refused.
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/shops/{shop}/sales/daily",
    tag = "duty-free",
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), SaleDays),
    responses((status = 200, body = freeport_api::platform::DailySalesView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn daily_sales(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    Query(q): Query<SaleDays>,
) -> ApiResult<Json<freeport_api::platform::DailySalesView>> {
    use freeport_api::platform::{DailySalesView, DaySalesView};
    use freeport_core::quota_ledger::SaleState;
    let period = super::ports::within_a_year(&q.from, &q.to)?;
    let shop = path_shop(&shop)?;
    let rows = freeport_app::duty_free::daily_sales(&state, &caller.actor(), &shop, period).await?;
    let mut days: Vec<(String, DaySalesView, i64, i64)> = Vec::new();
    for r in rows {
        if days.last().is_none_or(|(d, ..)| *d != r.day) {
            days.push((
                r.day.clone(),
                DaySalesView {
                    day: r.day.clone(),
                    ..DaySalesView::default()
                },
                0,
                0,
            ));
        }
        let Some((_, v, total, returned)) = days.last_mut() else {
            continue;
        };
        match r.state {
            SaleState::Committed => {
                v.committed = r.count;
                (*total, *returned) = (r.total_fen, r.returned_fen);
            }
            SaleState::Pending => v.pending = r.count,
            SaleState::Voided => v.voided = r.count,
            SaleState::Expired => v.expired = r.count,
            SaleState::Refused => v.refused = r.count,
        }
    }
    Ok(Json(DailySalesView {
        shop,
        days: days
            .into_iter()
            .map(|(_, v, total, returned)| DaySalesView {
                committed_total: cny_text(total),
                returned_total: cny_text(returned),
                net_total: cny_text(total - returned),
                ..v
            })
            .collect(),
    }))
}
