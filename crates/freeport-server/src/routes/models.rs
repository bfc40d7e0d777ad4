//! The platform model: train and activate, list.

use super::*;

pub(super) fn model_view(m: freeport_store::RiskModelRow) -> RiskModelView {
    RiskModelView {
        holdout: serde_json::from_str(&m.metrics_json).unwrap_or(Value::Null),
        features: PLATFORM_FEATURES.iter().map(|f| (*f).to_owned()).collect(),
        sha256: m.sha256,
        state: m.state,
        trained_by: m.trained_by,
        from: m.from_day,
        to: m.to_day,
        cases: m.cases,
        violations: m.violations,
        trained_at_ms: m.trained_at_ms,
    }
}

/// Retrain the model on the inspection results of a period and put it in the decision path: from
/// the next declaration on, its probability adds to the rules' score and its feature
/// contributions are in the risk record. Measured first on the latest fifth of the period.
#[utoipa::path(
    post,
    path = "/api/v1/risk/models",
    tag = "risk",
    request_body = TrainModelRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = RiskModelView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input, or too few inspection results in the period", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn train_model(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::GovernRisk,
        &headers,
        "POST /api/v1/risk/models",
        &body,
        async move |idem| {
            let b: TrainModelRequest = parse_body(payload)?;
            let (from, to) = period_of(&b.from, &b.to)?;
            let row = freeport_app::training::train(st, &c.actor(), (from, to), |row| {
                kept(
                    &idem,
                    StatusCode::CREATED,
                    to_json(&model_view(row.clone())),
                )
            })
            .await?;
            let response = to_json(&model_view(row))?;
            Ok((StatusCode::CREATED, response))
        },
    )
    .await
}

/// The models trained so far, newest first; one is active.
#[utoipa::path(
    get,
    path = "/api/v1/risk/models",
    tag = "risk",
    responses((status = 200, body = RiskModelList), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_models(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RiskModelList>> {
    Ok(Json(RiskModelList {
        items: freeport_app::training::models(&state, &caller.actor())
            .await?
            .into_iter()
            .map(model_view)
            .collect(),
    }))
}
