//! Account books: balances and postings (JSON and CSV) and adjustments.

use super::*;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct PostingPage {
    /// The `next_after` of the previous page.
    #[serde(default)]
    pub(super) after: Option<i64>,
    #[serde(default)]
    pub(super) limit: Option<i64>,
}

pub(super) use freeport_app::account_books::quantity_text;

/// Read an enterprise's account book: balances and a page of postings.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/account-book",
    tag = "account books",
    params(("code" = String, Path), PostingPage),
    responses((status = 200, body = AccountBookView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn account_book(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(page): Query<PostingPage>,
) -> ApiResult<Json<AccountBookView>> {
    let code = path_code(&code)?;
    let limit = limit(&Page {
        after: None,
        limit: page.limit,
    })?;
    let book = freeport_app::account_books::account_book(
        &state,
        &caller.actor(),
        &code,
        page.after.unwrap_or(0),
        limit,
    )
    .await?;
    Ok(Json(AccountBookView {
        enterprise: code.as_str().to_owned(),
        next_after: book.postings.last().map(|p| p.id),
        balances: book
            .balances
            .into_iter()
            .map(|b| BalanceView {
                quantity: quantity_text(b.quantity_milli),
                hs_code: b.hs_code,
                unit: b.unit,
            })
            .collect(),
        postings: book
            .postings
            .into_iter()
            .map(|p| PostingView {
                id: p.id,
                quantity: quantity_text(p.quantity_milli),
                value: freeport_core::money::Cny::from_fen(p.value_fen).to_string(),
                hs_code: p.hs_code,
                unit: p.unit,
                movement: p.movement,
                declaration_id: p.declaration_id,
                line: p.line,
                note: p.note,
                at_ms: p.at_ms,
            })
            .collect(),
    }))
}

/// Export an enterprise's account book as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/account-book.csv",
    tag = "account books",
    params(("code" = String, Path)),
    responses((status = 200, description = "every posting as CSV", content_type = "text/csv", body = String), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn account_book_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let code = path_code(&code)?;
    // Bounded: 1000 pages of 1000 postings; beyond that, page through the JSON endpoint.
    let postings =
        freeport_app::account_books::every_posting(&state, &caller.actor(), &code, MAX_PAGE, 1000)
            .await?;
    let mut out = String::from(
        "posting_id,at_ms,hs_code,unit,quantity,value_cny,movement,declaration_id,line,note\n",
    );
    for p in &postings {
        let note = p.note.replace('"', "\"\"");
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},\"{note}\"\n",
            p.id,
            p.at_ms,
            p.hs_code,
            p.unit,
            quantity_text(p.quantity_milli),
            freeport_core::money::Cny::from_fen(p.value_fen),
            p.movement,
            p.declaration_id.as_deref().unwrap_or(""),
            p.line.map(|l| l.to_string()).unwrap_or_default()
        ));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// Post a stock-take or a write-off to an account book.
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{code}/account-book/adjustments",
    tag = "account books",
    request_body = AdjustmentRequest,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = AdjustmentReport), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn adjust_account_book(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/enterprises/{code}/account-book/adjustments");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::AdjustAccountBook,
        &headers,
        &path,
        &body,
        async move |idem| {
            let code = path_code(&code)?;
            let b: AdjustmentRequest = parse_body(payload)?;
            let adjustment = b.into_domain(&st.pack.nomenclature)?;
            let digest = String::from_utf8_lossy(payload);
            let adjusted = freeport_app::account_books::adjust(
                st,
                &c.actor(),
                code,
                adjustment,
                &digest,
                |a| kept(&idem, StatusCode::OK, to_json(&adjustment_report(a))),
            )
            .await?;
            Ok((StatusCode::OK, to_json(&adjustment_report(&adjusted))?))
        },
    )
    .await
}

fn adjustment_report(a: &freeport_app::account_books::Adjusted) -> AdjustmentReport {
    AdjustmentReport {
        kind: a.kind.as_str().to_owned(),
        items: a
            .entries
            .iter()
            .map(|e| AdjustmentLine {
                hs_code: e.hs_code.clone(),
                unit: e.unit.clone(),
                booked: quantity_text(e.booked_milli),
                adjustment: quantity_text(e.delta_milli),
            })
            .collect(),
    }
}
