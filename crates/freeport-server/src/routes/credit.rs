//! Enterprise credit: the assessment an enterprise can see, credit records and repair (R6.1).

use super::*;

pub(super) const READERS: [Role; 3] =
    [Role::CustomsOfficer, Role::RiskAnalyst, Role::Administrator];
/// Declarations a back-test or a performance report reads at most.
pub(super) const HISTORY_LIMIT: i64 = 200_000;

pub(super) fn credit_view(
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

pub(super) async fn registered(state: &AppState, code: &str) -> ApiResult<Enterprise> {
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
    let assessment = state.credit_assessment(&e, on).await?;
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
pub(super) async fn keep_credit_record(
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
    let assessment = state.assess_credit_with(e, &records, on).await?;
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
            let before = st.credit_assessment(&e, on).await?;
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
