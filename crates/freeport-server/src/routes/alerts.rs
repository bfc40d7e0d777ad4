//! The alert queue: list, read, analyse, dispose, evaluate.

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
        state: a.state,
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
pub(crate) const DISPOSAL_ACTIONS: [&str; 6] = [
    "inspect",
    "hold",
    "penalise",
    "downgrade_credit",
    "ban_duty_free",
    "no_action",
];

pub(super) const ALERT_STATES: [&str; 4] = ["open", "analysed", "disposed", "evaluated"];

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
    caller.require(&READERS)?;
    if let Some(s) = q.state.as_deref()
        && !ALERT_STATES.contains(&s)
    {
        return Err(
            FieldError::new("state", FieldErrorKind::Unknown, ALERT_STATES.join(", ")).into(),
        );
    }
    let lim = limit(&Page {
        after: None,
        limit: q.limit,
    })?;
    let rows = state
        .store
        .alerts(q.state.as_deref(), q.after.as_deref().unwrap_or(""), lim)
        .await?;
    let next_after = (rows.len() as i64 == lim)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(AlertPage {
        items: rows.into_iter().map(alert_view).collect(),
        next_after,
    }))
}

pub(super) async fn alert_row(state: &AppState, id: &str) -> ApiResult<AlertRow> {
    state
        .store
        .alert(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such resource"))
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
    caller.require(&READERS)?;
    Ok(Json(alert_view(alert_row(&state, &id).await?)))
}

/// Applies a step; the response is the alert as the step leaves it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn step(
    state: &AppState,
    caller: &Caller,
    idem: &crate::Idempotency,
    row: AlertRow,
    to: &str,
    record: Value,
    credit_record: Option<NewCreditRecord>,
    declaration_change: Option<DeclarationChange>,
    duty_free_ban: Option<(String, String, String)>,
) -> ApiResult<(StatusCode, Value)> {
    let now = state.now_ms();
    let revision = row.revision;
    let from = row.state.clone();
    let mut next = row.clone();
    next.state = to.to_owned();
    next.revision += 1;
    next.updated_at_ms = now;
    let text = Some(record.to_string());
    match to {
        "analysed" => next.analysis_json = text,
        "disposed" => next.disposal_json = text,
        _ => next.evaluation_json = text,
    }
    let response = to_json(&alert_view(next))?;
    state
        .store
        .advance_alert(&AlertStep {
            alert_id: row.id.clone(),
            expected_revision: revision,
            from_state: from,
            to_state: to.to_owned(),
            record_json: record.to_string(),
            credit_record,
            declaration_change,
            duty_free_ban,
            actor: caller.user.id.clone(),
            idempotency: Some(idem.record(StatusCode::OK, &response)),
            now_ms: now,
        })
        .await?;
    Ok((StatusCode::OK, response))
}

pub(super) fn expect_state(
    row: &AlertRow,
    revision: i64,
    state: &str,
    step: &str,
) -> ApiResult<()> {
    if row.state != state {
        return Err(ApiError::new(
            Code::InvalidTransition,
            format!("an {} alert cannot take {step}", row.state),
        ));
    }
    if row.revision != revision {
        return Err(ApiError::new(
            Code::Conflict,
            format!("the alert is at revision {}", row.revision),
        ));
    }
    Ok(())
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
        &[Role::RiskAnalyst],
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
            let row = alert_row(st, &id).await?;
            expect_state(&row, b.revision, "open", "an analysis")?;
            let record =
                json!({ "conclusion": b.conclusion, "notes": b.notes, "analyst": c.user.id });
            step(st, c, &idem, row, "analysed", record, None, None, None).await
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
    idempotent(&state, &caller, &[Role::CustomsOfficer], &headers, &path, &body, async move |idem| {
        let b: AlertDisposalRequest = parse_body(payload)?;

        if !DISPOSAL_ACTIONS.contains(&b.action.as_str()) {
            return Err(FieldError::new("action", FieldErrorKind::Unknown, DISPOSAL_ACTIONS.join(", ")).into());
        }
        let penalty = match b.penalty.as_deref() {
            Some(text) => Some(freeport_api::quote::non_negative_cny("penalty", text)?),
            None => None,
        };
        if (b.action == "penalise") != penalty.is_some() {
            return Err(FieldError::new("penalty", FieldErrorKind::Inconsistent, "the penalise action states a penalty, and only it").into());
        }
        let row = alert_row(st, &id).await?;
        expect_state(&row, b.revision, "analysed", "a disposal")?;
        let unfounded = row
            .analysis_json
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .is_some_and(|a| a["conclusion"] == "unfounded");
        if unfounded && b.action != "no_action" {
            return Err(ApiError::new(Code::InvalidTransition, "the analysis found the alert unfounded: dispose of it with no_action"));
        }
        let on = st.today();
        let needs = |what: Option<&String>, field: &str| -> ApiResult<String> {
            what.cloned().ok_or_else(|| {
                FieldError::new(field, FieldErrorKind::Inconsistent, format!("this alert names no {field}")).into()
            })
        };
        let credit = |kind: &str, amount: Option<Cny>| -> ApiResult<NewCreditRecord> {
            Ok(NewCreditRecord {
                id: uuid::Uuid::now_v7().to_string(),
                enterprise: needs(row.enterprise.as_ref(), "enterprise")?,
                on_day: on.to_string(),
                reference: format!("alert-{id}"),
                kind: kind.to_owned(),
                amount_fen: amount.map(Cny::fen),
                due_on: None,
                note: b.notes.clone(),
                actor: c.user.id.clone(),
            })
        };
        let (credit_record, declaration_change) = match b.action.as_str() {
            "inspect" => (None, Some(DeclarationChange {
                declaration_id: needs(row.declaration_id.as_ref(), "declaration")?,
                from: vec!["decided".to_owned()],
                to: "under_inspection".to_owned(),
                lane: "red".to_owned(),
            })),
            "hold" => (None, Some(DeclarationChange {
                declaration_id: needs(row.declaration_id.as_ref(), "declaration")?,
                from: vec!["decided".to_owned(), "under_inspection".to_owned()],
                to: "held".to_owned(),
                lane: "hold".to_owned(),
            })),
            "penalise" => (Some(credit("violation", penalty)?), None),
            "downgrade_credit" => (Some(credit("downgrade", None)?), None),
            _ => (None, None),
        };
        // R4.6: no offshore duty-free for the pack's ban years from the customs decision.
        let duty_free_ban = if b.action == "ban_duty_free" {
            let person = needs(row.person_code.as_ref(), "person_code")?;
            let years = st
                .pack
                .version_on(on)
                .map_or(3, |v| u32::from(v.duty_free.ban_years));
            let until = freeport_core::calendar::add_months(on, years * 12)
                .previous_day()
                .unwrap_or(on);
            Some((person, on.to_string(), until.to_string()))
        } else {
            None
        };
        let record = json!({ "action": b.action, "penalty": penalty.map(|p| p.to_string()), "notes": b.notes, "officer": c.user.id, "on": on.to_string() });
        step(st, c, &idem, row, "disposed", record, credit_record, declaration_change, duty_free_ban).await
    })
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
    idempotent(&state, &caller, &[Role::RiskAnalyst], &headers, &path, &body, async move |idem| {
        let b: AlertEvaluationRequest = parse_body(payload)?;
        let revenue = match b.revenue_found.as_deref() {
            Some(text) => freeport_api::quote::non_negative_cny("revenue_found", text)?,
            None => Cny::ZERO,
        };
        let row = alert_row(st, &id).await?;
        expect_state(&row, b.revision, "disposed", "an evaluation")?;
        let record = json!({ "effective": b.effective, "revenue_found": revenue.to_string(), "notes": b.notes, "analyst": c.user.id });
        step(st, c, &idem, row, "evaluated", record, None, None, None).await
    })
    .await
}
