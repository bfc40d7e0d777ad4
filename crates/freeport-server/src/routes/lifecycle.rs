//! A declaration's life after its decision: officers' status changes, inspection results,
//! cancellation and amendment.

use super::*;

/// The officer's transitions: from → allowed targets.
pub(super) fn allowed_officer_transition(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("decided", "released" | "under_inspection" | "held")
            | ("under_inspection", "held")
            | ("held", "released" | "closed")
            | ("released", "closed")
    )
}

/// A short hash of a request, so that one stock-take raises one alert per line however it is
/// retried, and two stock-takes raise two.
pub(super) fn idem_key_hash(note: &str, payload: &[u8]) -> String {
    let mut bytes = payload.to_vec();
    bytes.extend_from_slice(note.as_bytes());
    freeport_store::sha256_hex(&bytes)[..16].to_owned()
}

/// Departures one buyer may buy for within `PROXY_WINDOW_DAYS` before an alert (R4.8).
pub(super) const PROXY_DEPARTURES: usize = 3;
pub(super) const PROXY_WINDOW_DAYS: i64 = 30;

/// What an inspection can find (the `findings` of a violation).
/// The longest diversion a disposal states: ten years, longer than any supervision period (R3.4).
pub(crate) const MAX_DAYS_DIVERTED: u32 = 3653;

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

/// A requested status change, before it is applied.
pub(super) struct Change {
    from: Vec<String>,
    to: String,
    revision: i64,
    note: String,
    replace: Option<(String, String, String, i64)>,
    postings: Vec<NewPosting>,
    /// For a cancellation or an amendment: the supervised items that replace the declaration's.
    supervised: Option<Vec<NewSupervisedItem>>,
    /// For an amendment: the lane chosen again, and its assessment.
    lane: Option<(Option<String>, Option<String>)>,
    /// For an inspection result: what it found.
    inspection: Option<freeport_store::NewInspection>,
}

pub(super) async fn transition_response(
    state: &AppState,
    caller: &Caller,
    id: &str,
    change: Change,
    idem: &crate::Idempotency,
) -> ApiResult<(StatusCode, Value)> {
    let Change {
        from,
        to,
        revision,
        note,
        replace,
        postings,
        supervised,
        lane,
        inspection,
    } = change;
    let row = state
        .store
        .declaration(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such resource"))?;
    // The response is known before the commit: the new status at the next revision.
    let mut view = declaration_view(&row);
    view.status = to.clone();
    view.revision = revision + 1;
    if let Some((_, decision_json, outcome, payable)) = &replace {
        view.decision = serde_json::from_str(decision_json).unwrap_or(Value::Null);
        view.outcome = outcome.clone();
        view.payable_total_fen = *payable;
    }
    if let Some((l, r)) = &lane {
        view.lane = l.clone();
        view.risk = r.as_deref().and_then(|r| serde_json::from_str(r).ok());
    }
    let now = state.now_ms();
    view.updated_at_ms = now;
    let view = to_json(&view)?;
    let t = Transition {
        declaration_id: id.to_owned(),
        from,
        to: to.clone(),
        expected_revision: revision,
        actor: caller.user.id.clone(),
        note,
        replace,
        postings,
        supervised,
        lane,
        inspection,
        event_topic: "declaration.status".to_owned(),
        event_payload: json!({ "id": id, "enterprise": row.enterprise, "status": to }).to_string(),
        idempotency: None,
        now_ms: now,
    };
    let t = Transition {
        idempotency: Some(idem.record(StatusCode::OK, &view)),
        ..t
    };
    state.store.transition(&t).await?;
    Ok((StatusCode::OK, view))
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
        &[Role::CustomsOfficer],
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: StatusChangeRequest = parse_body(payload)?;
            let row = visible_declaration(st, c, &id).await?;
            if !allowed_officer_transition(&row.status, &b.to) {
                return Err(ApiError::new(
                    Code::InvalidTransition,
                    format!("a declaration {} cannot become {}", row.status, b.to),
                ));
            }
            transition_response(
                st,
                c,
                &id,
                Change {
                    from: vec![row.status.clone()],
                    to: b.to.to_string(),
                    revision: b.revision,
                    note: b.note,
                    replace: None,
                    postings: vec![],
                    supervised: None,
                    lane: None,
                    inspection: None,
                },
                &idem,
            )
            .await
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
        &[Role::CustomsOfficer],
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: InspectionResultRequest = parse_body(payload)?;
            let to = match b.result.as_str() {
                "compliant" => "released",
                "violation" => "held",
                _ => {
                    return Err(FieldError::new(
                        "result",
                        FieldErrorKind::Unknown,
                        "compliant or violation",
                    )
                    .into());
                }
            };
            let inspected_on = match b.inspected_on.as_deref() {
                Some(text) => parse_day("inspected_on", text)?,
                None => st.today(),
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
            let row = visible_declaration(st, c, &id).await?;
            if row.status != "under_inspection" {
                return Err(ApiError::new(
                    Code::InvalidTransition,
                    format!("a declaration {} has no inspection to record", row.status),
                ));
            }
            let credit_record =
                (b.result == "violation").then(|| freeport_store::NewCreditRecord {
                    id: uuid::Uuid::now_v7().to_string(),
                    enterprise: row.enterprise.clone(),
                    on_day: inspected_on.to_string(),
                    reference: id.clone(),
                    kind: "inspection_finding".to_owned(),
                    amount_fen: Some(revenue.fen()),
                    due_on: None,
                    note: b.findings.join(", "),
                    actor: c.user.id.clone(),
                });
            let inspection = freeport_store::NewInspection {
                enterprise: row.enterprise.clone(),
                inspected_on: inspected_on.to_string(),
                result: b.result.clone(),
                revenue_found_fen: revenue.fen(),
                findings_json: json!(b.findings).to_string(),
                credit_record,
            };
            let note = format!("inspection {}: {}", b.result, b.note);
            transition_response(
                st,
                c,
                &id,
                Change {
                    from: vec!["under_inspection".to_owned()],
                    to: (to).to_string(),
                    revision: b.revision,
                    note,
                    replace: None,
                    postings: vec![],
                    supervised: None,
                    lane: None,
                    inspection: Some(inspection),
                },
                &idem,
            )
            .await
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
        &[Role::EnterpriseUser],
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: CancelRequest = parse_body(payload)?;
            let row = visible_declaration(st, c, &id).await?;
            if !matches!(row.status.as_str(), "decided" | "held") {
                return Err(ApiError::new(
                    Code::InvalidTransition,
                    format!("a declaration {} cannot be cancelled", row.status),
                ));
            }
            // Cancelling undoes the book: each posting is reversed in the same transaction.
            let postings = reversals(&st.store.declaration_postings(&id).await?);
            transition_response(
                st,
                c,
                &id,
                Change {
                    from: vec!["decided".to_owned(), "held".to_owned()],
                    to: ("cancelled").to_string(),
                    revision: b.revision,
                    note: b.note,
                    replace: None,
                    postings,
                    supervised: Some(Vec::new()),
                    lane: None,
                    inspection: None,
                },
                &idem,
            )
            .await
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
        &[Role::EnterpriseUser],
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: AmendRequest = parse_body(payload)?;
            let row = visible_declaration(st, c, &id).await?;
            if row.status != "decided" {
                return Err(ApiError::new(
                    Code::InvalidTransition,
                    format!("a declaration {} cannot be amended", row.status),
                ));
            }
            let d = b.declaration.into_domain(&st.pack.nomenclature)?;
            if d.declarant.as_str() != row.enterprise {
                return Err(FieldError::new(
                    "declaration.declarant",
                    FieldErrorKind::Inconsistent,
                    "an amendment keeps the declarant",
                )
                .into());
            }
            // Decide against the book as it would be without this declaration's own postings.
            let old = st.store.declaration_postings(&id).await?;
            let (mut snapshot, class) = st.snapshot_for(&d).await?;
            for p in &old {
                let unreadable = || {
                    freeport_store::StoreError::Corrupt(format!(
                        "posting {} of declaration {id}",
                        p.id
                    ))
                };
                let code = CreditCode::parse(&p.enterprise).map_err(|_| unreadable())?;
                if code != d.declarant {
                    continue;
                }
                let key = BalanceKey {
                    enterprise: code,
                    hs_code: HsCode::parse_shape("hs", &p.hs_code).map_err(|_| unreadable())?,
                    unit: Unit::parse("unit", &p.unit).map_err(|_| unreadable())?,
                };
                *snapshot.balances.entry(key).or_default() -= Decimal::new(p.quantity_milli, 3);
            }
            let inputs = st.risk_inputs(&d).await?;
            let decision = decide(&st.pack, &d, &snapshot)?;
            let mut postings = reversals(&old);
            postings.extend(postings_of(&decision)?);
            let supervised = supervised_of(&decision, &d)?;
            // The same declaration draws the same number: amending cannot re-roll the sample.
            let assessment = freeport_app::deciding::assess_lane(
                &st.risk,
                &st.live_rules(),
                &d,
                &decision,
                &class,
                &inputs,
                &id,
            )
            .map(|a| a.assessment);
            let decision_json = serde_json::to_value(&decision)
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?
                .to_string();
            let outcome = crate::wire_name(decision.outcome);
            let to = status_after(decision.outcome);
            let replace = Some((
                json!({ "declaration_json": String::from_utf8_lossy(payload) }).to_string(),
                decision_json,
                outcome,
                decision.totals.payable_total.fen(),
            ));
            transition_response(
                st,
                c,
                &id,
                Change {
                    from: vec!["decided".to_owned()],
                    to: (to).to_string(),
                    revision: b.revision,
                    note: "amended".to_owned(),
                    replace,
                    postings,
                    supervised: Some(supervised),
                    lane: Some((
                        assessment.as_ref().map(|a| a.lane.as_str().to_owned()),
                        assessment.map(|a| a.record.to_string()),
                    )),
                    inspection: None,
                },
                &idem,
            )
            .await
        },
    )
    .await
}
