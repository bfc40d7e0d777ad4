//! Rule performance from inspection results, and the rule sets' lifecycle: propose, back-test,
//! shadow, activate, retire.

use freeport_app::rule_sets::RuleSetNow;
use freeport_risk::governance::RuleSetState;

use super::*;

/// The most inspections a rule-performance query may ask for before flagging a rule.
pub(crate) const MAX_MIN_INSPECTIONS: u64 = 1_000_000_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct Period {
    /// First declaration day, `YYYY-MM-DD`.
    from: String,
    /// Last declaration day, `YYYY-MM-DD`.
    to: String,
    /// Inspections of a rule's hits before a rule without yield is flagged; 20 when absent.
    #[serde(default)]
    min_inspections: Option<u64>,
}

pub(super) fn period_of(from: &str, to: &str) -> ApiResult<(time::Date, time::Date)> {
    let (f, t) = (parse_day("from", from)?, parse_day("to", to)?);
    if t < f {
        return Err(FieldError::new("to", FieldErrorKind::Inconsistent, "not before from").into());
    }
    Ok((f, t))
}

/// Per rule and month: hits, inspections and their share of all inspections (load), findings,
/// hit rate and revenue recovered, from the inspection results; rules whose inspections recovered
/// nothing are flagged for retirement.
#[utoipa::path(
    get,
    path = "/api/v1/risk/rules/performance",
    tag = "risk",
    params(Period),
    responses((status = 200, body = RulePerformanceView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn rules_performance(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<Period>,
) -> ApiResult<Json<RulePerformanceView>> {
    let (from, to) = period_of(&q.from, &q.to)?;
    let min = q.min_inspections.unwrap_or(20);
    if min > MAX_MIN_INSPECTIONS {
        return Err(FieldError::new(
            "min_inspections",
            FieldErrorKind::OutOfRange,
            format!("{min} is more than {MAX_MIN_INSPECTIONS}"),
        )
        .into());
    }
    let p = freeport_app::rule_sets::performance(&state, &caller.actor(), from, to, min).await?;
    Ok(Json(RulePerformanceView {
        from: from.to_string(),
        to: to.to_string(),
        declarations: p.declarations,
        inspections: p.inspections,
        min_inspections: min,
        rules: to_json(&p.active)?,
        shadow_rules: to_json(&p.shadow)?,
    }))
}

// ----- rule sets -------------------------------------------------------------------------------

pub(super) fn rule_set_view(
    row: RuleSetRow,
    changes: Vec<freeport_store::RuleSetChange>,
) -> RuleSetView {
    let rules = parse_rule_set(&row.source).map_or(0, |s| s.rules.len());
    RuleSetView {
        sha256: row.sha256,
        name: row.name,
        version: row.version,
        state: row.state.as_str().to_owned(),
        rules,
        proposed_by: row.proposed_by,
        backtest: row
            .backtest_json
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok()),
        revision: row.revision,
        created_at_ms: row.created_at_ms,
        updated_at_ms: row.updated_at_ms,
        changes: changes
            .into_iter()
            .map(|c| RuleSetChangeView {
                from: c.from_state.as_str().to_owned(),
                to: c.to_state.as_str().to_owned(),
                analyst: c.analyst,
                reason: c.reason,
                at_ms: c.at_ms,
            })
            .collect(),
        source: row.source,
    }
}

/// Propose a rule set: parsed and type-checked (a malformed file is refused with its line and
/// column), then kept as `proposed` under the SHA-256 of its text.
#[utoipa::path(
    post,
    path = "/api/v1/risk/rule-sets",
    tag = "risk",
    request_body = ProposeRuleSetRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = RuleSetView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, or the same text proposed before", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn propose_rule_set(
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
        "POST /api/v1/risk/rule-sets",
        &body,
        async move |idem| {
            let b: ProposeRuleSetRequest = parse_body(payload)?;
            let done = freeport_app::rule_sets::propose(
                st,
                &c.actor(),
                &b.source,
                answer(&idem, StatusCode::CREATED),
            )
            .await?;
            Ok((StatusCode::CREATED, rule_set_now_view(&done)?))
        },
    )
    .await
}

/// How a rule set's answer is kept with its change.
fn answer(idem: &crate::Idempotency, status: StatusCode) -> freeport_app::rule_sets::Answer<'_> {
    Box::new(move |now: &RuleSetNow| kept(idem, status, rule_set_now_view(now)))
}

fn rule_set_now_view(now: &RuleSetNow) -> ApiResult<Value> {
    to_json(&rule_set_view(now.row.clone(), now.changes.clone()))
}

/// List the rule sets, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/risk/rule-sets",
    tag = "risk",
    responses((status = 200, body = RuleSetList), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_rule_sets(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RuleSetList>> {
    let items = freeport_app::rule_sets::rule_sets(&state, &caller.actor())
        .await?
        .into_iter()
        .map(|now| rule_set_view(now.row, now.changes))
        .collect();
    Ok(Json(RuleSetList { items }))
}

/// Read a rule set with its back-test and its history of states (who, when, why).
#[utoipa::path(
    get,
    path = "/api/v1/risk/rule-sets/{sha256}",
    tag = "risk",
    params(("sha256" = String, Path)),
    responses((status = 200, body = RuleSetView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_rule_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
) -> ApiResult<Json<RuleSetView>> {
    let now = freeport_app::rule_sets::read_rule_set(&state, &caller.actor(), &sha256).await?;
    Ok(Json(rule_set_view(now.row, now.changes)))
}

/// Back-test a rule set on the declarations of a period, beside the active set on the same
/// history: lines hit, the lanes it would choose, findings it would have caught and the revenue
/// they recovered, per rule. The result is kept on the set; activation needs one.
#[utoipa::path(
    post,
    path = "/api/v1/risk/rule-sets/{sha256}/backtest",
    tag = "risk",
    request_body = BacktestRequest,
    params(("sha256" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = RuleSetView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused or stale revision", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn backtest_rule_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/risk/rule-sets/{sha256}/backtest");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::GovernRisk,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: BacktestRequest = parse_body(payload)?;
            let period = period_of(&b.from, &b.to)?;
            let done = freeport_app::rule_sets::run_backtest(
                st,
                &c.actor(),
                &sha256,
                period,
                b.revision,
                answer(&idem, StatusCode::OK),
            )
            .await?;
            Ok((StatusCode::OK, rule_set_now_view(&done)?))
        },
    )
    .await
}

pub(super) async fn change_state(
    state: &AppState,
    caller: &Caller,
    sha256: String,
    headers: &HeaderMap,
    body: &Bytes,
    verb: &str,
    to: RuleSetState,
) -> Response {
    let (st, c) = (state, caller);
    let path = format!("POST /api/v1/risk/rule-sets/{sha256}/{verb}");
    idempotent(
        state,
        caller,
        freeport_app::Permission::GovernRisk,
        headers,
        &path,
        body,
        async move |idem| {
            let b: RuleSetStateRequest = parse_body(body)?;
            let done = freeport_app::rule_sets::change_state(
                st,
                &c.actor(),
                &sha256,
                to,
                b.revision,
                &b.reason,
                answer(&idem, StatusCode::OK),
            )
            .await?;
            Ok((StatusCode::OK, rule_set_now_view(&done)?))
        },
    )
    .await
}

/// Run a proposed rule set in shadow: evaluated and recorded beside the active set on every
/// declaration, never obeyed. It replaces any set already in shadow.
#[utoipa::path(
    post,
    path = "/api/v1/risk/rule-sets/{sha256}/shadow",
    tag = "risk",
    request_body = RuleSetStateRequest,
    params(("sha256" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = RuleSetView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn shadow_rule_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_state(
        &state,
        &caller,
        sha256,
        &headers,
        &body,
        "shadow",
        RuleSetState::Shadow,
    )
    .await
}

/// Activate a back-tested rule set: it chooses lanes from the next declaration on, the set it
/// replaces is retired, and the analyst and reason are kept.
#[utoipa::path(
    post,
    path = "/api/v1/risk/rule-sets/{sha256}/activate",
    tag = "risk",
    request_body = RuleSetStateRequest,
    params(("sha256" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = RuleSetView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision, no back-test or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn activate_rule_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_state(
        &state,
        &caller,
        sha256,
        &headers,
        &body,
        "activate",
        RuleSetState::Active,
    )
    .await
}

/// Retire a rule set (a proposal not taken, a shadow run ended, or the active set withdrawn, which
/// returns lane selection to the bundled set).
#[utoipa::path(
    post,
    path = "/api/v1/risk/rule-sets/{sha256}/retire",
    tag = "risk",
    request_body = RuleSetStateRequest,
    params(("sha256" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = RuleSetView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn retire_rule_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_state(
        &state,
        &caller,
        sha256,
        &headers,
        &body,
        "retire",
        RuleSetState::Retired,
    )
    .await
}
