//! The routes of risk management: enterprise credit, rule performance from inspection results,
//! the rule sets' lifecycle (propose, back-test, shadow, activate, retire) and the alert queue.
//!
//! Over 1000 lines until issue 10 moves its use cases into the application crate and splits it into
//! credit, rule sets and alerts.

use freeport_core::credit::decide_repair;
use freeport_risk::backtest::{HistoricalLine, backtest};
use freeport_risk::feedback::{Outcome as RuleOutcome, rule_performance};
use freeport_risk::platform_model::PLATFORM_FEATURES;
use freeport_risk::rules::parse_rule_set;
use freeport_risk::selectivity;
use freeport_store::{AlertRow, AlertStep, DeclarationChange, NewCreditRecord, RuleSetRow};

use super::*;

const READERS: [Role; 3] = [Role::CustomsOfficer, Role::RiskAnalyst, Role::Administrator];
/// Declarations a back-test or a performance report reads at most.
const HISTORY_LIMIT: i64 = 200_000;

fn cny_text(fen: i64) -> String {
    Cny::from_fen(fen).to_string()
}

fn credit_view(
    enterprise: &str,
    assessment: &CreditAssessment,
    rows: Vec<freeport_store::CreditRecordRow>,
) -> ApiResult<CreditView> {
    Ok(CreditView {
        enterprise: enterprise.to_owned(),
        assessment: to_json(assessment)?,
        records: rows
            .into_iter()
            .map(|r| CreditRecordView {
                id: r.id,
                on: r.on_day,
                reference: r.reference,
                kind: r.kind,
                amount: r.amount_fen.map(cny_text),
                due_on: r.due_on,
                note: r.note,
                recorded_by: r.actor,
                at_ms: r.at_ms,
            })
            .collect(),
    })
}

async fn registered(state: &AppState, code: &str) -> ApiResult<Enterprise> {
    state
        .store
        .enterprise(code)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such resource"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct OnDay {
    /// The day to assess, `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    on: Option<String>,
}

/// Read an enterprise's credit: its class on the day, every component with its limit, the repair
/// path, and the records behind them (the enterprise sees its own).
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/credit",
    tag = "risk",
    params(("code" = String, Path), OnDay),
    responses((status = 200, body = CreditView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_credit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<OnDay>,
) -> ApiResult<Json<CreditView>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    caller.require_enterprise(&code)?;
    let on = match q.on.as_deref() {
        Some(text) => parse_day("on", text)?,
        None => state.today(),
    };
    let e = registered(&state, &code).await?;
    let assessment = credit_assessment(&state, &e, on).await?;
    let rows = state.store.credit_records(&code).await?;
    Ok(Json(credit_view(&code, &assessment, rows)?))
}

/// Keep a credit record on an enterprise (violations, smuggling, taxes due and paid); the class
/// follows from the records at once.
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{code}/credit/records",
    tag = "risk",
    request_body = CreditRecordRequest,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = CreditView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn add_credit_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/enterprises/{code}/credit/records");
    idempotent(
        &state,
        &caller,
        &[Role::CustomsOfficer],
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: CreditRecordRequest = parse_body(payload)?;
            let on = parse_day("on", &b.on)?;
            if b.reference.trim().is_empty() || b.reference.chars().count() > 200 {
                return Err(FieldError::new(
                    "reference",
                    FieldErrorKind::Missing,
                    "1 to 200 characters",
                )
                .into());
            }
            let amount = match b.amount.as_deref() {
                Some(text) => Some(freeport_api::quote::non_negative_cny("amount", text)?),
                None => None,
            };
            let due_on = match b.due_on.as_deref() {
                Some(text) => Some(parse_day("due_on", text)?),
                None => None,
            };
            let needs = |ok: bool, field: &str, reason: &str| -> ApiResult<()> {
                if ok {
                    Ok(())
                } else {
                    Err(FieldError::new(field, FieldErrorKind::Inconsistent, reason).into())
                }
            };
            match b.kind.as_str() {
                "violation" => needs(
                    amount.is_some() && due_on.is_none(),
                    "amount",
                    "a violation states its penalty, and no due day",
                )?,
                "tax_due" => needs(
                    amount.is_some() && due_on.is_some(),
                    "due_on",
                    "a tax due states its amount and due day",
                )?,
                "smuggling" | "tax_paid" => needs(
                    amount.is_none() && due_on.is_none(),
                    "amount",
                    "this record takes no amount or due day",
                )?,
                _ => {
                    return Err(FieldError::new(
                        "kind",
                        FieldErrorKind::Unknown,
                        "violation, smuggling, tax_due or tax_paid",
                    )
                    .into());
                }
            }
            let e = registered(st, &code).await?;
            let record = NewCreditRecord {
                id: uuid::Uuid::now_v7().to_string(),
                enterprise: code.clone(),
                on_day: on.to_string(),
                reference: b.reference.clone(),
                kind: b.kind.clone(),
                amount_fen: amount.map(Cny::fen),
                due_on: due_on.map(|d| d.to_string()),
                note: b.note.clone(),
                actor: c.user.id.clone(),
            };
            // The response shows the credit with the new record, assessed on its day.
            keep_credit_record(st, &e, record, on, &idem).await
        },
    )
    .await
}

/// Keeps a credit record; the response is the credit with it, assessed on `on`.
async fn keep_credit_record(
    state: &AppState,
    e: &Enterprise,
    record: NewCreditRecord,
    on: time::Date,
    idem: &crate::Idempotency,
) -> ApiResult<(StatusCode, Value)> {
    let mut rows = state.store.credit_records(&e.credit_code).await?;
    rows.push(freeport_store::CreditRecordRow {
        id: record.id.clone(),
        on_day: record.on_day.clone(),
        reference: record.reference.clone(),
        kind: record.kind.clone(),
        amount_fen: record.amount_fen,
        due_on: record.due_on.clone(),
        note: record.note.clone(),
        actor: record.actor.clone(),
        at_ms: state.now_ms(),
    });
    let records: Vec<CreditRecord> = rows
        .iter()
        .map(freeport_store::domain::credit_record)
        .collect::<Result<_, _>>()?;
    let assessment = assess_credit_with(state, e, &records, on).await?;
    let response = to_json(&credit_view(&e.credit_code, &assessment, rows)?)?;
    state
        .store
        .record_credit(
            &record,
            Some(&idem.record(StatusCode::CREATED, &response)),
            state.now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, response))
}

/// Grant credit repair to a dishonest enterprise whose repair path is open today; refused with
/// the reason (unpaid taxes, too early, not dishonest) otherwise.
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{code}/credit/repair",
    tag = "risk",
    request_body = CreditRepairRequest,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = CreditView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, or repair not open", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn repair_credit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/enterprises/{code}/credit/repair");
    idempotent(
        &state,
        &caller,
        &[Role::CustomsOfficer],
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: CreditRepairRequest = parse_body(payload)?;
            if b.reason.trim().is_empty() {
                return Err(FieldError::new(
                    "reason",
                    FieldErrorKind::Missing,
                    "say why repair is granted",
                )
                .into());
            }
            let e = registered(st, &code).await?;
            let on = st.today();
            let before = credit_assessment(st, &e, on).await?;
            decide_repair(&before)
                .map_err(|refusal| ApiError::new(Code::InvalidTransition, refusal.to_string()))?;
            let record = NewCreditRecord {
                id: uuid::Uuid::now_v7().to_string(),
                enterprise: code.clone(),
                on_day: on.to_string(),
                reference: format!("repair-{}", on),
                kind: "repair".to_owned(),
                amount_fen: None,
                due_on: None,
                note: b.reason.clone(),
                actor: c.user.id.clone(),
            };
            keep_credit_record(st, &e, record, on, &idem).await
        },
    )
    .await
}

// ----- rule performance ------------------------------------------------------------------------

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

fn period_of(from: &str, to: &str) -> ApiResult<(time::Date, time::Date)> {
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
                .map_err(|e| crate::risk::stored_record_error(&h.id, &e))?;
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

fn rule_set_view(row: RuleSetRow, changes: Vec<freeport_store::RuleSetChange>) -> RuleSetView {
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

async fn rule_set_row(state: &AppState, sha256: &str) -> ApiResult<RuleSetRow> {
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
fn backtest_report(
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
            let unreadable = |e: serde_json::Error| crate::risk::stored_record_error(&h.id, &e);
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
async fn change_state(
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

// ----- alerts ----------------------------------------------------------------------------------

fn alert_view(a: AlertRow) -> AlertView {
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

/// The most inspections a rule-performance query may ask for before flagging a rule.
pub(crate) const MAX_MIN_INSPECTIONS: u64 = 1_000_000_000;

/// What an analyst may do with an alert.
pub(crate) const DISPOSAL_ACTIONS: [&str; 6] = [
    "inspect",
    "hold",
    "penalise",
    "downgrade_credit",
    "ban_duty_free",
    "no_action",
];

const ALERT_STATES: [&str; 4] = ["open", "analysed", "disposed", "evaluated"];

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

async fn alert_row(state: &AppState, id: &str) -> ApiResult<AlertRow> {
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
async fn step(
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

fn expect_state(row: &AlertRow, revision: i64, state: &str, step: &str) -> ApiResult<()> {
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

// ----- the learned model -----------------------------------------------------------------------

fn model_view(m: freeport_store::RiskModelRow) -> RiskModelView {
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
        &[Role::RiskAnalyst],
        &headers,
        "POST /api/v1/risk/models",
        &body,
        async move |idem| {
            let b: TrainModelRequest = parse_body(payload)?;
            let (from, to) = period_of(&b.from, &b.to)?;
            let row = crate::risk::prepare_model(st, from, to, &c.user.id).await?;
            let response = to_json(&model_view(row.clone()))?;
            crate::risk::activate_model(
                st,
                &row,
                Some(&idem.record(StatusCode::CREATED, &response)),
            )
            .await?;
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
    caller.require(&READERS)?;
    Ok(Json(RiskModelList {
        items: state
            .store
            .risk_models()
            .await?
            .into_iter()
            .map(model_view)
            .collect(),
    }))
}
