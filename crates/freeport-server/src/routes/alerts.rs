//! The alert queue: list, read, analyse, dispose, evaluate.

use freeport_risk::governance::{AlertAction, AlertState};

use super::*;

pub(super) fn alert_view(a: AlertRow) -> AlertView {
    let parse = |s: Option<String>| s.and_then(|t| serde_json::from_str(&t).ok());
    AlertView {
        details: serde_json::from_str(&a.details_json).unwrap_or(Value::Null),
        analysis: parse(a.analysis_json),
        disposal: parse(a.disposal_json),
        evaluation: parse(a.evaluation_json),
        id: a.id,
        kind: a.kind,
        subject: a.subject,
        enterprise: a.enterprise,
        declaration_id: a.declaration_id,
        person_code: a.person_code,
        raised_on: a.raised_on,
        state: a.state.as_str().to_owned(),
        revision: a.revision,
        raised_at_ms: a.raised_at_ms,
        updated_at_ms: a.updated_at_ms,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct AlertQuery {
    /// `open`, `analysed`, `disposed` or `evaluated`; all when absent.
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// What an analyst may do with an alert.
pub(crate) const DISPOSAL_ACTIONS: [&str; 6] = AlertAction::NAMES;

/// The alert queue, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "risk",
    params(AlertQuery),
    responses((status = 200, body = AlertPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
) -> ApiResult<Json<AlertPage>> {
    let wanted = q
        .state
        .as_deref()
        .map(|s| {
            AlertState::parse(s).ok_or_else(|| {
                let names: Vec<&str> = AlertState::ALL.iter().map(|s| s.as_str()).collect();
                FieldError::new("state", FieldErrorKind::Unknown, names.join(", "))
            })
        })
        .transpose()?;
    let lim = limit(&Page {
        after: None,
        limit: q.limit,
    })?;
    let rows = freeport_app::alerts::alerts(
        &state,
        &caller.actor(),
        wanted,
        q.after.as_deref().unwrap_or(""),
        lim,
    )
    .await?;
    let next_after = (rows.len() as i64 == lim)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(AlertPage {
        items: rows.into_iter().map(alert_view).collect(),
        next_after,
    }))
}

/// How an alert step's answer is kept with it.
fn answer(idem: &crate::Idempotency) -> freeport_app::alerts::Answer<'_> {
    Box::new(move |next: &AlertRow| kept(idem, StatusCode::OK, to_json(&alert_view(next.clone()))))
}

fn answered(next: AlertRow) -> ApiResult<(StatusCode, Value)> {
    Ok((StatusCode::OK, to_json(&alert_view(next))?))
}

/// Read one alert with its analysis, disposal and evaluation.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/{id}",
    tag = "risk",
    params(("id" = String, Path)),
    responses((status = 200, body = AlertView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertView>> {
    let row = freeport_app::alerts::read_alert(&state, &caller.actor(), &id).await?;
    Ok(Json(alert_view(row)))
}

/// Analyse an open alert: confirmed as a risk to dispose of, or unfounded.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/analysis",
    tag = "risk",
    request_body = AlertAnalysisRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = AlertView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn analyse_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/alerts/{id}/analysis");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::AnalyseAlerts,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: AlertAnalysisRequest = parse_body(payload)?;
            if !matches!(b.conclusion.as_str(), "confirmed" | "unfounded") {
                return Err(FieldError::new(
                    "conclusion",
                    FieldErrorKind::Unknown,
                    "confirmed or unfounded",
                )
                .into());
            }
            if b.notes.trim().is_empty() {
                return Err(FieldError::new(
                    "notes",
                    FieldErrorKind::Missing,
                    "what the analysis found",
                )
                .into());
            }
            let next = freeport_app::alerts::analyse(
                st,
                &c.actor(),
                &id,
                b.conclusion == "confirmed",
                &b.notes,
                b.revision,
                answer(&idem),
            )
            .await?;
            answered(next)
        },
    )
    .await
}

/// Dispose of an analysed alert: inspect or hold its declaration, penalise or downgrade the
/// enterprise's credit (a credit record), or take no action. An unfounded alert takes no action.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/disposal",
    tag = "risk",
    request_body = AlertDisposalRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = AlertView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn dispose_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/alerts/{id}/disposal");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::DisposeAlerts,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: AlertDisposalRequest = parse_body(payload)?;

            let action = AlertAction::parse(&b.action).ok_or_else(|| {
                FieldError::new(
                    "action",
                    FieldErrorKind::Unknown,
                    AlertAction::NAMES.join(", "),
                )
            })?;
            let penalty = match b.penalty.as_deref() {
                Some(text) => Some(freeport_api::quote::non_negative_cny("penalty", text)?),
                None => None,
            };
            if (action == AlertAction::Penalise) != penalty.is_some() {
                return Err(FieldError::new(
                    "penalty",
                    FieldErrorKind::Inconsistent,
                    "the penalise action states a penalty, and only it",
                )
                .into());
            }
            let next = freeport_app::alerts::dispose(
                st,
                &c.actor(),
                &id,
                action,
                penalty,
                &b.notes,
                b.revision,
                answer(&idem),
            )
            .await?;
            answered(next)
        },
    )
    .await
}

/// Evaluate a disposed alert: did the disposal find what the alert suspected, and what did it
/// recover. Evaluations are what the alert's thresholds are tuned on.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/evaluation",
    tag = "risk",
    request_body = AlertEvaluationRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = AlertView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn evaluate_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/alerts/{id}/evaluation");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::AnalyseAlerts,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: AlertEvaluationRequest = parse_body(payload)?;
            let revenue = match b.revenue_found.as_deref() {
                Some(text) => freeport_api::quote::non_negative_cny("revenue_found", text)?,
                None => Cny::ZERO,
            };
            let next = freeport_app::alerts::evaluate(
                st,
                &c.actor(),
                &id,
                b.effective,
                revenue,
                &b.notes,
                b.revision,
                answer(&idem),
            )
            .await?;
            answered(next)
        },
    )
    .await
}
