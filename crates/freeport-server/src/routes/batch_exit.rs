//! Batch exit, centralised declaration (R2.5): an enterprise's standing, its consolidated
//! declarations, reinstatement.

use freeport_api::second_line::{
    BatchExitView, ConsolidationRequest, ConsolidationView, ReinstatementRequest, SuspensionView,
};
use freeport_core::batch_exit::BatchMonth;

use super::*;

fn consolidation_view(r: &freeport_store::ConsolidationRow) -> ConsolidationView {
    ConsolidationView {
        id: r.id.clone(),
        enterprise: r.enterprise.clone(),
        month: r.month.clone(),
        filed_on: r.filed_on.clone(),
        due_on: r.due_on.clone(),
        late: r.late,
        shipments: r.shipments,
        tariff: cny_text(r.tariff_fen),
        consumption_tax: cny_text(r.consumption_tax_fen),
        vat: cny_text(r.vat_fen),
        total: cny_text(r.payable_total_fen),
        pack_version: r.pack_version.clone(),
        explanation: serde_json::from_str(&r.explanation_json).unwrap_or(Value::Null),
    }
}

/// An enterprise's batch exit: suspension, months not yet consolidated, consolidated declarations.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/batch-exit",
    tag = "ports",
    params(("code" = String, Path, description = "unified social credit code")),
    responses((status = 200, body = BatchExitView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn batch_exit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<BatchExitView>> {
    let code = path_code(&code)?;
    let s = freeport_app::batch_exit::standing(&state, &caller.actor(), &code).await?;
    Ok(Json(BatchExitView {
        enterprise: code.as_str().to_owned(),
        suspended: s.suspension.map(|x| SuspensionView {
            reason: x.reason,
            actor: x.actor,
            since_ms: x.since_ms,
        }),
        unconsolidated: s.unconsolidated,
        consolidations: s.consolidations.iter().map(consolidation_view).collect(),
    }))
}

/// File a month's consolidated declaration of batch exits, due by the pack's day of the following
/// month; filed late, it suspends the enterprise's batch exit.
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{code}/batch-exit/consolidations",
    tag = "ports",
    request_body = ConsolidationRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = ConsolidationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, the month already consolidated, or its batches changed meanwhile", body = ErrorEnvelope), (status = 422, description = "invalid input, a month not over or without batch exits", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn file_consolidation(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/enterprises/{code}/batch-exit/consolidations");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Declare,
        &headers,
        &path,
        &body,
        async move |idem| {
            let enterprise = path_code(&code)?;
            let b: ConsolidationRequest = parse_body(payload)?;
            let month = BatchMonth::parse("month", &b.month)?;
            let row = freeport_app::batch_exit::file_consolidation(
                st,
                &c.actor(),
                enterprise,
                month,
                |row| {
                    kept(
                        &idem,
                        StatusCode::CREATED,
                        to_json(&consolidation_view(row)),
                    )
                },
            )
            .await?;
            Ok((StatusCode::CREATED, to_json(&consolidation_view(&row))?))
        },
    )
    .await
}

/// Reinstate a suspended enterprise's batch exit on its application (customs officers), once every
/// month it shipped in is consolidated.
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{code}/batch-exit/reinstatement",
    tag = "ports",
    request_body = ReinstatementRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ReinstatementRequest), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, not suspended, or a month still unconsolidated", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn reinstate_batch_exit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/enterprises/{code}/batch-exit/reinstatement");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Examine,
        &headers,
        &path,
        &body,
        async move |idem| {
            let enterprise = path_code(&code)?;
            let b: ReinstatementRequest = parse_body(payload)?;
            let answer = serde_json::json!({ "reason": b.reason });
            let record = idem.record(StatusCode::OK, &answer);
            freeport_app::batch_exit::reinstate(
                st,
                &c.actor(),
                enterprise,
                &b.reason,
                Some(record),
            )
            .await?;
            Ok((StatusCode::OK, answer))
        },
    )
    .await
}
