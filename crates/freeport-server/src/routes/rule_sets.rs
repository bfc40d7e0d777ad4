//! Rule performance from inspection results, and the rule sets' lifecycle: propose, back-test,
//! shadow, activate, retire.

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
    caller.require(&READERS)?;
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
    let history = state
        .store
        .assessed_declarations(&from.to_string(), &to.to_string(), HISTORY_LIMIT)
        .await?;
    struct Row {
        month: String,
        active: Vec<String>,
        shadow: Vec<String>,
        inspected: bool,
        violation: bool,
        revenue: Decimal,
    }
    let rows: Vec<Row> = history
        .iter()
        .map(|h| {
            let record: Value = serde_json::from_str(&h.risk_json)
                .map_err(|e| freeport_app::training::stored_record_error(&h.id, &e))?;
            Ok(Row {
                month: h.declared_on.get(..7).unwrap_or("").to_owned(),
                active: selectivity::hit_rules(&record),
                shadow: selectivity::hit_rules(&record["shadow"]),
                inspected: h.result.is_some(),
                violation: h.result.as_deref() == Some("violation"),
                revenue: Decimal::new(h.revenue_found_fen.unwrap_or(0), 2),
            })
        })
        .collect::<ApiResult<_>>()?;
    let outcomes = |shadow: bool| {
        rows.iter().map(move |r| RuleOutcome {
            period: &r.month,
            rules: if shadow { &r.shadow } else { &r.active },
            inspected: r.inspected,
            violation: r.violation,
            revenue_found: r.revenue,
        })
    };
    Ok(Json(RulePerformanceView {
        from: from.to_string(),
        to: to.to_string(),
        declarations: rows.len(),
        inspections: rows.iter().filter(|r| r.inspected).count(),
        min_inspections: min,
        rules: to_json(&rule_performance(outcomes(false), min))?,
        shadow_rules: to_json(&rule_performance(outcomes(true), min))?,
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
        state: row.state,
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
                from: c.from_state,
                to: c.to_state,
                analyst: c.analyst,
                reason: c.reason,
                at_ms: c.at_ms,
            })
            .collect(),
        source: row.source,
    }
}

pub(super) async fn rule_set_row(state: &AppState, sha256: &str) -> ApiResult<RuleSetRow> {
    state
        .store
        .rule_set(sha256)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such resource"))
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
        &[Role::RiskAnalyst],
        &headers,
        "POST /api/v1/risk/rule-sets",
        &body,
        async move |idem| {
            let b: ProposeRuleSetRequest = parse_body(payload)?;
            let set = parse_rule_set(&b.source).map_err(|e| {
                FieldError::new(
                    "source",
                    FieldErrorKind::Malformed,
                    format!("line {}, column {}: {}", e.line, e.column, e.message),
                )
            })?;
            let sha256 = freeport_store::sha256_hex(b.source.as_bytes());
            let now = st.now_ms();
            let row = RuleSetRow {
                sha256: sha256.clone(),
                name: set.name.clone(),
                version: i64::from(set.version),
                source: b.source.clone(),
                state: "proposed".to_owned(),
                proposed_by: c.user.id.clone(),
                backtest_json: None,
                revision: 1,
                created_at_ms: now,
                updated_at_ms: now,
            };
            let response = to_json(&rule_set_view(row, Vec::new()))?;
            st.store
                .propose_rule_set(
                    &sha256,
                    &set.name,
                    i64::from(set.version),
                    &b.source,
                    &c.user.id,
                    Some(&idem.record(StatusCode::CREATED, &response)),
                    now,
                )
                .await?;
            Ok((StatusCode::CREATED, response))
        },
    )
    .await
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
    caller.require(&READERS)?;
    let mut items = Vec::new();
    for row in state.store.rule_sets().await? {
        let changes = state.store.rule_set_changes(&row.sha256).await?;
        items.push(rule_set_view(row, changes));
    }
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
    caller.require(&READERS)?;
    let row = rule_set_row(&state, &sha256).await?;
    let changes = state.store.rule_set_changes(&sha256).await?;
    Ok(Json(rule_set_view(row, changes)))
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
        &[Role::RiskAnalyst],
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: BacktestRequest = parse_body(payload)?;
            let (from, to) = period_of(&b.from, &b.to)?;
            let row = rule_set_row(st, &sha256).await?;
            // Stale before the replay, not after it.
            if b.revision != row.revision {
                return Err(ApiError::new(Code::Conflict, format!("the rule set is at revision {}", row.revision)));
            }
            let proposed = parse_rule_set(&row.source)
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
            let live = st.live_rules();
            let history = st
                .store
                .assessed_declarations(&from.to_string(), &to.to_string(), HISTORY_LIMIT)
                .await?;
            let report = backtest_report(st, &proposed, &live, &history)?;
            let report = json!({ "from": from.to_string(), "to": to.to_string(), "declarations": history.len(), "proposed": report.0, "active": report.1 });
            let report_text = report.to_string();
            let changes = st.store.rule_set_changes(&sha256).await?;
            let now = st.now_ms();
            let mut view_row = row.clone();
            view_row.backtest_json = Some(report_text.clone());
            view_row.revision = row.revision + 1;
            view_row.updated_at_ms = now;
            let response = to_json(&rule_set_view(view_row, changes))?;
            st.store
                .save_backtest(&sha256, b.revision, &report_text, &c.user.id, Some(&idem.record(StatusCode::OK, &response)), now)
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

/// Both sets over the same recorded facts: per-rule hits, findings and revenue, and the lanes
/// each would choose with the same draws.
pub(super) fn backtest_report(
    state: &AppState,
    proposed: &freeport_risk::rules::RuleSet,
    live: &selectivity::LiveRules,
    history: &[freeport_store::AssessedDeclaration],
) -> ApiResult<(Value, Value)> {
    let decoded: Vec<(
        Vec<selectivity::LineFacts>,
        &freeport_store::AssessedDeclaration,
    )> = history
        .iter()
        .map(|h| {
            let unreadable =
                |e: serde_json::Error| freeport_app::training::stored_record_error(&h.id, &e);
            let record: Value = serde_json::from_str(&h.risk_json).map_err(unreadable)?;
            Ok((selectivity::recorded_facts(&record).map_err(unreadable)?, h))
        })
        .collect::<ApiResult<_>>()?;
    let run = |set: &freeport_risk::rules::RuleSet| {
        let lines = decoded.iter().flat_map(|(facts, h)| {
            facts.iter().map(move |f| HistoricalLine {
                facts: f.facts(),
                fraud: h.result.as_deref() == Some("violation"),
                revenue_proxy: Decimal::new(h.revenue_found_fen.unwrap_or(0), 2),
            })
        });
        let report = backtest(set, lines);
        // The lanes as they would have been with this set beside the live model.
        let with_set = selectivity::LiveRules {
            active: set.clone(),
            active_sha256: None,
            shadow: None,
            model: live.model.clone(),
        };
        let mut lanes: std::collections::BTreeMap<&'static str, u64> = Default::default();
        let (mut caught, mut missed) = (0u64, 0u64);
        for (facts, h) in &decoded {
            let class = facts.first().map_or("general", |f| f.credit_class.as_str());
            let lane = selectivity::lane_of(&state.risk, &with_set, facts, class, &h.id);
            *lanes.entry(lane.as_str()).or_default() += 1;
            if h.result.as_deref() == Some("violation") {
                if matches!(
                    lane,
                    freeport_risk::rules::Lane::Green | freeport_risk::rules::Lane::Blue
                ) {
                    missed += 1;
                } else {
                    caught += 1;
                }
            }
        }
        json!({
            "rule_set": set.name,
            "version": set.version,
            "lines": report.lines,
            "lines_hit": report.hit_lines,
            "lanes": lanes,
            "violations_selected": caught,
            "violations_released": missed,
            "rules": report.rules.iter().map(|r| json!({
                "rule": r.rule,
                "owner": r.owner,
                "hits": r.hits,
                "load": r.load,
                "findings": r.frauds,
                "hit_rate": r.hit_rate,
                "revenue_found": r.yield_proxy.to_string(),
                "no_yield": r.no_yield,
            })).collect::<Vec<_>>(),
        })
    };
    Ok((run(proposed), run(&live.active)))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn change_state(
    state: &AppState,
    caller: &Caller,
    sha256: String,
    headers: &HeaderMap,
    body: &Bytes,
    verb: &str,
    from: &'static [&'static str],
    to: &'static str,
) -> Response {
    let (st, c) = (state, caller);
    let path = format!("POST /api/v1/risk/rule-sets/{sha256}/{verb}");
    idempotent(
        state,
        caller,
        &[Role::RiskAnalyst],
        headers,
        &path,
        body,
        async move |idem| {
            let b: RuleSetStateRequest = parse_body(body)?;
            if b.reason.trim().is_empty() {
                return Err(FieldError::new("reason", FieldErrorKind::Missing, "say why").into());
            }
            let row = rule_set_row(st, &sha256).await?;
            if !from.contains(&row.state.as_str()) {
                return Err(ApiError::new(
                    Code::InvalidTransition,
                    format!("a {} rule set cannot become {to}", row.state),
                ));
            }
            if to == "active" && row.backtest_json.is_none() {
                return Err(ApiError::new(
                    Code::InvalidTransition,
                    "back-test the rule set before activating it",
                ));
            }
            let now = st.now_ms();
            let mut changes = st.store.rule_set_changes(&sha256).await?;
            changes.push(freeport_store::RuleSetChange {
                from_state: row.state.clone(),
                to_state: to.to_owned(),
                analyst: c.user.id.clone(),
                reason: b.reason.clone(),
                at_ms: now,
            });
            let mut view_row = row.clone();
            view_row.state = to.to_owned();
            view_row.revision = row.revision + 1;
            view_row.updated_at_ms = now;
            let response = to_json(&rule_set_view(view_row, changes))?;
            st.store
                .change_rule_set_state(
                    &sha256,
                    b.revision,
                    from,
                    to,
                    &c.user.id,
                    &b.reason,
                    Some(&idem.record(StatusCode::OK, &response)),
                    now,
                )
                .await?;
            st.reload_rules().await?;
            Ok((StatusCode::OK, response))
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
        &["proposed"],
        "shadow",
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
        &["proposed", "shadow"],
        "active",
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
        &["proposed", "shadow", "active"],
        "retired",
    )
    .await
}
