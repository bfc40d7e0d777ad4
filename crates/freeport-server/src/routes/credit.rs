//! Enterprise credit: the assessment an enterprise can see, credit records and repair (R6.1).

use freeport_app::credit::Credited;

use super::*;

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
    let on = q.on.as_deref().map(|t| parse_day("on", t)).transpose()?;
    let file = freeport_app::credit::credit_file(&state, &caller.actor(), &code, on).await?;
    Ok(Json(credit_view(
        &file.enterprise,
        &file.assessment,
        file.records,
    )?))
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
        freeport_app::Permission::KeepCreditRecords,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: CreditRecordRequest = parse_body(payload)?;
            let record = b.into_domain()?;
            let credited =
                freeport_app::credit::record(st, &c.actor(), &code, record, &b.note, answer(&idem))
                    .await?;
            Ok((StatusCode::CREATED, credited_view(&credited)?))
        },
    )
    .await
}

/// How a kept credit record's answer is stored with it.
fn answer(
    idem: &crate::Idempotency,
) -> impl FnOnce(&Credited) -> freeport_app::AppResult<Option<freeport_store::IdempotencyRecord>> + '_
{
    move |credited| kept(idem, StatusCode::CREATED, credited_view(credited))
}

fn credited_view(c: &Credited) -> ApiResult<Value> {
    to_json(&credit_view(
        &c.enterprise,
        &c.assessment,
        c.records.clone(),
    )?)
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
        freeport_app::Permission::KeepCreditRecords,
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
            let credited =
                freeport_app::credit::repair(st, &c.actor(), &code, &b.reason, answer(&idem))
                    .await?;
            Ok((StatusCode::CREATED, credited_view(&credited)?))
        },
    )
    .await
}
