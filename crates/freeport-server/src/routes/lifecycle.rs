//! A declaration's life after its decision: officers' status changes, inspection results,
//! cancellation and amendment.

use freeport_app::lifecycle::{InspectionResult, Transitioned};
use freeport_core::lifecycle::DeclarationStatus;

use super::*;

/// What an inspection can find (the `findings` of a violation).
pub(crate) const FINDING_KINDS: [&str; 8] = [
    "undervaluation",
    "misclassification",
    "origin",
    "quantity",
    "prohibited_goods",
    "missing_licence",
    "documents",
    "other",
];

/// The answer to a transition: the declaration at its new status and revision.
fn transitioned_view(t: &Transitioned) -> ApiResult<Value> {
    let tr = &t.transition;
    let mut view = declaration_view(&t.before);
    view.status = tr.to.as_str().to_owned();
    view.revision = tr.expected_revision + 1;
    if let Some((_, decision_json, outcome, payable)) = &tr.replace {
        view.decision = serde_json::from_str(decision_json)
            .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
        view.outcome = outcome.clone();
        view.payable_total_fen = *payable;
    }
    if let Some((lane, risk)) = &tr.lane {
        view.lane = lane.clone();
        view.risk = super::declarations::risk_view(risk.as_ref());
    }
    view.updated_at_ms = tr.now_ms;
    to_json(&view)
}

/// How a transition's answer is kept with it.
pub(super) fn answer(idem: &crate::Idempotency) -> freeport_app::lifecycle::Answer<'_> {
    Box::new(move |t: &Transitioned| kept(idem, StatusCode::OK, transitioned_view(t)))
}

pub(super) fn answered(t: &Transitioned) -> ApiResult<(StatusCode, Value)> {
    if let (DeclarationStatus::Released, Some(port)) = (t.transition.to, &t.before.port) {
        crate::observe::released_at_port(
            port,
            t.before.lane.as_deref().unwrap_or("none"),
            t.before.created_at_ms,
            t.transition.now_ms,
        );
    }
    Ok((StatusCode::OK, transitioned_view(t)?))
}

/// Move a declaration along its lifecycle (customs officers).
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/status",
    tag = "declarations",
    request_body = StatusChangeRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/declarations/{id}/status");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Examine,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: StatusChangeRequest = parse_body(payload)?;
            let to = DeclarationStatus::parse(&b.to).ok_or_else(|| {
                FieldError::new(
                    "to",
                    FieldErrorKind::Unknown,
                    "released, under_inspection, held or closed",
                )
            })?;
            let t = freeport_app::lifecycle::change_status(
                st,
                &c.actor(),
                &id,
                to,
                b.revision,
                b.note,
                answer(&idem),
            )
            .await?;
            answered(&t)
        },
    )
    .await
}

/// Record the result of an inspection.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/inspection-result",
    tag = "declarations",
    request_body = InspectionResultRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn inspection_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/declarations/{id}/inspection-result");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Examine,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: InspectionResultRequest = parse_body(payload)?;
            match b.result.as_str() {
                "compliant" | "violation" => {}
                _ => {
                    return Err(FieldError::new(
                        "result",
                        FieldErrorKind::Unknown,
                        "compliant or violation",
                    )
                    .into());
                }
            };
            let revenue = match b.revenue_found.as_deref() {
                Some(text) => freeport_api::quote::non_negative_cny("revenue_found", text)?,
                None => Cny::ZERO,
            };
            for (i, f) in b.findings.iter().enumerate() {
                if !FINDING_KINDS.contains(&f.as_str()) {
                    return Err(FieldError::new(
                        format!("findings[{i}]"),
                        FieldErrorKind::Unknown,
                        FINDING_KINDS.join(", "),
                    )
                    .into());
                }
            }
            match (
                b.result.as_str(),
                b.findings.is_empty(),
                revenue == Cny::ZERO,
            ) {
                ("violation", true, _) => {
                    return Err(FieldError::new(
                        "findings",
                        FieldErrorKind::Missing,
                        "a violation names what was found",
                    )
                    .into());
                }
                ("compliant", false, _) | ("compliant", _, false) => {
                    return Err(FieldError::new(
                        "findings",
                        FieldErrorKind::Inconsistent,
                        "a compliant result has no findings and recovers no revenue",
                    )
                    .into());
                }
                _ => {}
            }
            let result = if b.result == "violation" {
                InspectionResult::Violation {
                    findings: b.findings.clone(),
                    revenue,
                }
            } else {
                InspectionResult::Compliant
            };
            let inspected_on = match b.inspected_on.as_deref() {
                Some(text) => Some(parse_day("inspected_on", text)?),
                None => None,
            };
            let t = freeport_app::lifecycle::record_inspection(
                st,
                &c.actor(),
                &id,
                result,
                inspected_on,
                b.revision,
                &b.note,
                answer(&idem),
            )
            .await?;
            answered(&t)
        },
    )
    .await
}

/// Cancel a declaration; its postings are reversed in the same transaction.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/cancel",
    tag = "declarations",
    request_body = CancelRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/declarations/{id}/cancel");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Declare,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: CancelRequest = parse_body(payload)?;
            let t = freeport_app::lifecycle::cancel(
                st,
                &c.actor(),
                &id,
                b.revision,
                b.note,
                answer(&idem),
            )
            .await?;
            answered(&t)
        },
    )
    .await
}

/// Amend a decided declaration: decide it again and replace its postings.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/amend",
    tag = "declarations",
    request_body = AmendRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn amend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/declarations/{id}/amend");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Declare,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: AmendRequest = parse_body(payload)?;
            let d = b.declaration.into_domain(&st.pack.nomenclature)?;
            let t = freeport_app::lifecycle::amend(
                st,
                &c.actor(),
                &id,
                d,
                &String::from_utf8_lossy(payload),
                b.revision,
                answer(&idem),
            )
            .await?;
            answered(&t)
        },
    )
    .await
}
