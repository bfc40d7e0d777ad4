//! Supervised goods: the items a zero-tariff import keeps under supervision, and their disposal.

use super::*;

pub(super) fn taxes_view(t: &freeport_core::tax::TaxAmounts) -> TaxesView {
    TaxesView {
        tariff: t.tariff.to_string(),
        consumption_tax: t.consumption_tax.to_string(),
        vat: t.vat.to_string(),
        total: t.total().to_string(),
    }
}

pub(super) fn item_view(i: freeport_store::SupervisedItemRow) -> SupervisedItemView {
    SupervisedItemView {
        quantity: quantity_text(i.quantity_milli),
        customs_value: cny_text(i.customs_value_fen),
        id: i.id,
        declaration_id: i.declaration_id,
        line: i.line,
        hs_code: i.hs_code,
        origin: i.origin,
        kind: i.kind,
        years: i.years,
        released_on: i.released_on,
        supervised_until: i.supervised_until,
        unit: i.unit,
        state: i.state,
        revision: i.revision,
        disposals: None,
    }
}

/// The item `id` of enterprise `code`, as the caller may see it.
pub(super) async fn visible_item(
    state: &AppState,
    caller: &Caller,
    code: &str,
    id: &str,
) -> ApiResult<(String, freeport_store::SupervisedItemRow)> {
    let code = path_code(code)?.as_str().to_owned();
    caller.require_enterprise(&code)?;
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::new(Code::NotFound, "no such resource"));
    }
    match state.store.supervised_item(id).await? {
        Some(item) if item.enterprise == code => Ok((code, item)),
        _ => Err(ApiError::new(Code::NotFound, "no such resource")),
    }
}

/// List the goods an enterprise holds under supervision (R3.4), with what remains of each.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/supervised-items",
    tag = "account books",
    params(("code" = String, Path, description = "unified social credit code"), Page),
    responses((status = 200, body = SupervisedItemPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_supervised_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<SupervisedItemPage>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let code = path_code(&code)?.as_str().to_owned();
    caller.require_enterprise(&code)?;
    let rows = state
        .store
        .supervised_items(&code, page.after.as_deref().unwrap_or(""), limit(&page)?)
        .await?;
    Ok(Json(SupervisedItemPage {
        next_after: rows.last().map(|i| i.id.clone()),
        items: rows.into_iter().map(item_view).collect(),
    }))
}

/// Read one supervised item with its disposals.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/supervised-items/{id}",
    tag = "account books",
    params(("code" = String, Path, description = "unified social credit code"), ("id" = String, Path)),
    responses((status = 200, body = SupervisedItemView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_supervised_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<Json<SupervisedItemView>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let (_, item) = visible_item(&state, &caller, &code, &id).await?;
    let disposals = state.store.disposals(&item.id).await?;
    let mut view = item_view(item);
    view.disposals = Some(
        disposals
            .into_iter()
            .map(|d| DisposalSummary {
                quantity: quantity_text(d.quantity_milli),
                back_tax_value: cny_text(d.back_tax_value_fen),
                taxes: TaxesView {
                    tariff: cny_text(d.tariff_fen),
                    consumption_tax: cny_text(d.consumption_tax_fen),
                    vat: cny_text(d.vat_fen),
                    total: cny_text(d.tariff_fen + d.consumption_tax_fen + d.vat_fen),
                },
                id: d.id,
                kind: d.kind,
                on: d.on_day,
                days_diverted: d.days_diverted,
                pack_version: d.pack_version,
                at_ms: d.at_ms,
            })
            .collect(),
    );
    Ok(Json(view))
}

/// Declare an early disposal of supervised goods and owe its back taxes (R8.10).
///
/// A transfer or early release before the period ends pays import taxes on the customs value
/// reduced by the whole months already supervised; a diversion pays on the share of the period
/// diverted. The rates are those of the pack version in force on the disposal day. Transferred
/// and released goods leave the account book in the same transaction.
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{code}/supervised-items/{id}/disposals",
    tag = "account books",
    request_body = DisposalRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = DisposalView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "stale revision, item no longer supervised, or idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn dispose(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/enterprises/{code}/supervised-items/{id}/disposals");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::EnterpriseUser],
        &headers,
        &path,
        &body,
        async move |idem| {
            use freeport_core::supervision::{Disposal, DisposalKind, SupervisedItem};
            let (code, row) = visible_item(st, c, &code, &id).await?;
            let b: DisposalRequest = parse_body(payload)?;
            if row.state != "supervised" {
                return Err(ApiError::new(
                    Code::InvalidTransition,
                    format!("the item is {}, no longer supervised", row.state),
                ));
            }
            let on = parse_day("on", &b.on)?;
            let kind = match (b.kind.as_str(), b.days_diverted) {
                ("transfer", None) => DisposalKind::Transfer,
                ("early_release", None) => DisposalKind::EarlyRelease,
                ("diversion", Some(days)) if (1..=MAX_DAYS_DIVERTED).contains(&days) => {
                    DisposalKind::Diversion { days }
                }
                ("diversion", Some(days)) => {
                    return Err(FieldError::new(
                        "days_diverted",
                        FieldErrorKind::OutOfRange,
                        format!("{days} is not between 1 and {MAX_DAYS_DIVERTED}"),
                    )
                    .into());
                }
                ("diversion", None) => {
                    return Err(FieldError::new(
                        "days_diverted",
                        FieldErrorKind::Missing,
                        "a diversion states its days",
                    )
                    .into());
                }
                ("transfer" | "early_release", Some(_)) => {
                    return Err(FieldError::new(
                        "days_diverted",
                        FieldErrorKind::Inconsistent,
                        "only a diversion counts days",
                    )
                    .into());
                }
                _ => {
                    return Err(FieldError::new(
                        "kind",
                        FieldErrorKind::Unknown,
                        "transfer, early_release or diversion",
                    )
                    .into());
                }
            };
            let remaining = Decimal::new(row.quantity_milli, 3);
            let quantity = match (&b.quantity, kind) {
                (None, _) => remaining,
                (Some(_), DisposalKind::Diversion { .. }) => {
                    return Err(FieldError::new(
                        "quantity",
                        FieldErrorKind::Inconsistent,
                        "a diversion concerns the goods' use, not a quantity",
                    )
                    .into());
                }
                (Some(q), _) => freeport_core::limits::QUANTITY.parse("quantity", q)?,
            };
            let quantity_milli = milli("quantity", quantity)?;
            let stored = |field: &str, e: FieldError| {
                ApiError::new(
                    Code::Internal,
                    format!("stored item has a bad {field}: {e}"),
                )
            };
            let item = SupervisedItem {
                hs_code: HsCode::parse("hs_code", &row.hs_code, &st.pack.nomenclature)
                    .map_err(|e| stored("hs_code", e))?,
                origin: freeport_core::country::Country::parse(&row.origin)
                    .map_err(|e| stored("origin", e))?,
                consumption_tax_item: row.consumption_tax_item.clone(),
                years: u32::try_from(row.years).unwrap_or(0),
                released_on: freeport_core::calendar::parse_day("released_on", &row.released_on)
                    .map_err(|e| stored("released_on", e))?,
                quantity: freeport_core::unit::Quantity {
                    value: remaining,
                    unit: Unit::parse("unit", &row.unit).map_err(|e| stored("unit", e))?,
                },
                customs_value: freeport_core::money::Cny::from_fen(row.customs_value_fen),
            };
            let assessment = freeport_core::supervision::assess_disposal(
                &st.pack,
                &item,
                &Disposal { kind, on, quantity },
            )?;
            let leaves = kind.ends_supervision();
            let (remaining_quantity_milli, remaining_value_fen) = if leaves {
                (
                    row.quantity_milli - quantity_milli,
                    row.customs_value_fen - assessment.disposed_value.fen(),
                )
            } else {
                (row.quantity_milli, row.customs_value_fen)
            };
            let explanation = to_json(&assessment.steps)?;
            let disposal_id = uuid::Uuid::now_v7().to_string();
            let mut after = item_view(freeport_store::SupervisedItemRow {
                quantity_milli: remaining_quantity_milli,
                customs_value_fen: remaining_value_fen,
                state: if remaining_quantity_milli == 0 {
                    "disposed".to_owned()
                } else {
                    "supervised".to_owned()
                },
                revision: row.revision + 1,
                ..row.clone()
            });
            after.disposals = None;
            let response = to_json(&DisposalView {
                id: disposal_id.clone(),
                kind: b.kind.clone(),
                on: on.to_string(),
                pack_version: assessment.pack.id.clone(),
                disposed_value: assessment.disposed_value.to_string(),
                back_tax_value: assessment.back_tax_value.to_string(),
                taxes: taxes_view(&assessment.taxes),
                explanation: explanation.clone(),
                item: after,
            })?;
            let record = idem.record(StatusCode::CREATED, &response);
            st.store
                .dispose(&freeport_store::NewDisposal {
                    id: disposal_id,
                    item_id: row.id.clone(),
                    expected_revision: b.revision,
                    enterprise: code.clone(),
                    kind: b.kind.clone(),
                    on_day: on.to_string(),
                    days_diverted: b.days_diverted.map(i64::from),
                    quantity_milli,
                    disposed_value_fen: assessment.disposed_value.fen(),
                    back_tax_value_fen: assessment.back_tax_value.fen(),
                    tariff_fen: assessment.taxes.tariff.fen(),
                    consumption_tax_fen: assessment.taxes.consumption_tax.fen(),
                    vat_fen: assessment.taxes.vat.fen(),
                    pack_version: assessment.pack.id.clone(),
                    assessment_json: explanation.to_string(),
                    posting: leaves.then(|| NewPosting {
                        enterprise: code.clone(),
                        hs_code: row.hs_code.clone(),
                        unit: row.unit.clone(),
                        quantity_milli: -quantity_milli,
                        value_fen: assessment.disposed_value.fen(),
                        movement: "early_disposal".to_owned(),
                        line: None,
                        note: format!("{} of supervised item {}", b.kind, row.id),
                    }),
                    remaining_quantity_milli,
                    remaining_value_fen,
                    actor: c.user.id.clone(),
                    idempotency: Some(record),
                    now_ms: st.now_ms(),
                })
                .await?;
            Ok((StatusCode::CREATED, response))
        },
    )
    .await
}
