//! Travellers' departures, as carriers and the port record them (R4.3).

use freeport_api::platform::{DepartureRequest, DepartureView};

use super::*;

fn departure_view(d: &freeport_core::departure::Departure) -> DepartureView {
    DepartureView {
        id: d.id.clone(),
        kind: d.kind.as_str().to_owned(),
        means: d.means.clone(),
        port: d.port.clone(),
        departs_at_ms: d.departs_at_ms,
        departure_on: d.departure_on.to_string(),
        leaves_country: d.leaves_country,
    }
}

/// Record a traveller's departure from the island (carriers, customs officers at the port). A
/// duty-free sale needs one on its departure day; the document identifies the traveller and is
/// kept only as the person code.
#[utoipa::path(
    post,
    path = "/api/v1/departures",
    tag = "duty-free",
    request_body = DepartureRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = DepartureView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn record_departure(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::RecordDeparture,
        &headers,
        "POST /api/v1/departures",
        &body,
        async move |idem| {
            let b: DepartureRequest = parse_body(payload)?;
            let (document, kind, means, departs_at_ms) = b.parse()?;
            let report = freeport_app::departures::DepartureReport {
                document,
                kind,
                means,
                port: b.port.clone(),
                departs_at_ms,
                leaves_country: b.leaves_country,
            };
            let d = freeport_app::departures::record(st, &c.actor(), report, |d| {
                kept(&idem, StatusCode::CREATED, to_json(&departure_view(d)))
            })
            .await?;
            Ok((StatusCode::CREATED, to_json(&departure_view(&d))?))
        },
    )
    .await
}
