//! Proxy-buying rings among the platform's duty-free sales (R4.8).

use freeport_api::platform::{RingAlertView, RingAlertsRequest, RingAlertsView, RingsView};

use super::ports::within_a_year;
use super::*;

/// A period of sale days, at most a year long.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct SaleDays {
    /// The first sale day, `YYYY-MM-DD`.
    pub(super) from: String,
    /// The last sale day, `YYYY-MM-DD`, at most 366 days after `from`.
    pub(super) to: String,
}

/// The proxy buyers and rings among a period's committed sales, judged as of today, each flagged
/// buyer (by person code) with its evidence (customs).
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/rings",
    tag = "duty-free",
    params(SaleDays),
    responses((status = 200, body = RingsView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "too many sales in the period", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_rings(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SaleDays>,
) -> ApiResult<Json<RingsView>> {
    let period = within_a_year(&q.from, &q.to)?;
    let f = freeport_app::proxy_rings::find(&state, &caller.actor(), period).await?;
    Ok(Json(RingsView {
        from: period.0.to_string(),
        to: period.1.to_string(),
        buyers: f.buyers,
        flagged: f
            .flagged
            .iter()
            .filter_map(|x| serde_json::to_value(x).ok())
            .collect(),
        rings: f
            .rings
            .iter()
            .filter_map(|x| serde_json::to_value(x).ok())
            .collect(),
    }))
}

/// Raise each ring of a period as an alert for the analysts' queue, with its members, links and
/// every member's evidence (analysts). A confirmed ring disposed of with `ban_duty_free` bans every
/// member.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/rings/alerts",
    tag = "duty-free",
    request_body = RingAlertsRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = RingAlertsView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "too many sales in the period, or idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn raise_ring_alerts(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::AnalyseAlerts,
        &headers,
        "POST /api/v1/duty-free/rings/alerts",
        &body,
        async move |_idem| {
            let b: RingAlertsRequest = parse_body(payload)?;
            let period = within_a_year(&b.from, &b.to)?;
            let raised = freeport_app::proxy_rings::raise_alerts(st, &c.actor(), period).await?;
            let view = RingAlertsView {
                rings: raised
                    .iter()
                    .map(|a| RingAlertView {
                        subject: a.subject.clone(),
                        members: serde_json::from_str::<Value>(&a.details_json)
                            .ok()
                            .and_then(|d| d["members"].as_array().map(Vec::len))
                            .unwrap_or(0),
                    })
                    .collect(),
            };
            Ok((StatusCode::CREATED, to_json(&view)?))
        },
    )
    .await
}
