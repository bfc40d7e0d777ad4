//! Declarations: quote, submit, read and list.

use freeport_core::lifecycle::DeclarationStatus;

use super::*;

/// Decide a declaration without committing anything.
#[utoipa::path(
    post,
    path = "/api/v1/quote",
    tag = "declarations",
    request_body = QuoteBody,
    responses((status = 200, body = DecisionEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn quote(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<DecisionEnvelope>> {
    let b: QuoteBody = parse_body(&body)?;
    let d = b.declaration.into_domain(&state.pack.nomenclature)?;
    let what_if = b.snapshot.map(|s| s.into_domain()).transpose()?;
    let decision = freeport_app::declarations::quote(&state, &caller.actor(), &d, what_if).await?;
    Ok(Json(DecisionEnvelope {
        decision: to_json(&decision)?,
    }))
}

/// Submit a declaration: decide it and commit the decision in one transaction.
#[utoipa::path(
    post,
    path = "/api/v1/declarations",
    tag = "declarations",
    request_body = DeclarationDto,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, description = "decided and committed", body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let c = &caller;
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Declare,
        &headers,
        "POST /api/v1/declarations",
        &body,
        async move |idem| {
            let dto: DeclarationDto = parse_body(payload)?;
            let d = dto.into_domain(&st.pack.nomenclature)?;
            let actor = c.actor();
            let request_json = String::from_utf8_lossy(payload).into_owned();
            // The answer is built once: kept with the commit, and sent.
            let mut answer = Value::Null;
            let submitted = freeport_app::declarations::submit(st, &actor, d, request_json, |s| {
                answer = to_json(&submitted_view(s))
                    .map_err(|e| freeport_app::AppError::Internal(e.message))?;
                Ok(Some(idem.record(StatusCode::CREATED, &answer)))
            })
            .await?;
            let record = &submitted.record;
            if let (DeclarationStatus::Released, Some(port)) =
                (record.committed_status(), &record.port)
            {
                let lane = record.lane.as_deref().unwrap_or("none");
                crate::observe::released_at_port(port, lane, record.now_ms, record.now_ms);
            }
            crate::observe::decision_committed(
                &record.outcome,
                &record.flow,
                record.lane.as_deref().unwrap_or("none"),
                &record.postings,
            );
            Ok((StatusCode::CREATED, answer))
        },
    )
    .await
}

/// The answer to a submitted declaration: revision 1, as committed.
fn submitted_view(s: &freeport_app::declarations::Submitted) -> DeclarationView {
    let r = &s.record;
    DeclarationView {
        id: r.id.clone(),
        enterprise: r.enterprise.clone(),
        reference: r.reference.clone(),
        flow: r.flow.clone(),
        status: r.committed_status().as_str().to_owned(),
        revision: 1,
        declared_on: r.declared_on.clone(),
        pack_version: r.pack_version.clone(),
        outcome: r.outcome.clone(),
        payable_total_fen: r.payable_total_fen,
        decision: s.decision.clone(),
        lane: r.lane.clone(),
        risk: risk_view(r.risk.as_ref()),
        port: r.port.clone(),
        created_at_ms: r.now_ms,
        updated_at_ms: r.now_ms,
        events: None,
    }
}

/// The risk record as the view's JSON object.
pub(super) fn risk_view(record: Option<&freeport_risk::selectivity::RiskRecord>) -> Option<Value> {
    record.and_then(|r| serde_json::to_value(r).ok())
}

pub(super) fn declaration_view(row: &freeport_store::DeclarationRow) -> DeclarationView {
    DeclarationView {
        id: row.id.clone(),
        enterprise: row.enterprise.clone(),
        reference: row.reference.clone(),
        flow: row.flow.clone(),
        status: row.status.as_str().to_owned(),
        revision: row.revision,
        declared_on: row.declared_on.clone(),
        pack_version: row.pack_version.clone(),
        outcome: row.outcome.clone(),
        payable_total_fen: row.payable_total_fen,
        decision: serde_json::from_str::<Value>(&row.decision_json).unwrap_or(Value::Null),
        lane: row.lane.clone(),
        risk: risk_view(row.risk.as_ref()),
        port: row.port.clone(),
        created_at_ms: row.created_at_ms,
        updated_at_ms: row.updated_at_ms,
        events: None,
    }
}

/// Read a declaration with its decision and status history.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}",
    tag = "declarations",
    params(("id" = String, Path)),
    responses((status = 200, body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_declaration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeclarationView>> {
    let (row, events) =
        freeport_app::declarations::declaration_with_history(&state, &caller.actor(), &id).await?;
    let mut view = declaration_view(&row);
    view.events = Some(
        events
            .into_iter()
            .map(|e| DeclarationEventView {
                seq: e.seq,
                status: e.status.as_str().to_owned(),
                actor: e.actor,
                note: e.note,
                at_ms: e.at_ms,
            })
            .collect(),
    );
    Ok(Json(view))
}

/// List declarations in submission order (an enterprise user sees its own).
#[utoipa::path(
    get,
    path = "/api/v1/declarations",
    tag = "declarations",
    params(Page),
    responses((status = 200, body = DeclarationPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_declarations(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<DeclarationPage>> {
    let rows = freeport_app::declarations::declarations(
        &state,
        &caller.actor(),
        page.after.as_deref().unwrap_or(""),
        limit(&page)?,
    )
    .await?;
    Ok(Json(DeclarationPage {
        items: rows.iter().map(declaration_view).collect(),
        next_after: rows.last().map(|r| r.id.clone()),
    }))
}
