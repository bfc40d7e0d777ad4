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
        state: i.state.as_str().to_owned(),
        revision: i.revision,
        disposals: None,
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
    let rows = freeport_app::supervision::supervised_items(
        &state,
        &caller.actor(),
        &path_code(&code)?,
        page.after.as_deref().unwrap_or(""),
        limit(&page)?,
    )
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
    let (item, disposals) = freeport_app::supervision::item_with_disposals(
        &state,
        &caller.actor(),
        path_code(&code)?,
        &id,
    )
    .await?;
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
        freeport_app::Permission::DisposeSupervisedGoods,
        &headers,
        &path,
        &body,
        async move |idem| {
            let actor = c.actor();
            let enterprise = path_code(&code)?;
            let row =
                freeport_app::supervision::supervised_item(st, &actor, enterprise, &id).await?;
            let b: DisposalRequest = parse_body(payload)?;
            let order = b.into_domain()?;
            let disposed =
                freeport_app::supervision::dispose(st, &actor, row, order, b.revision, |d| {
                    kept(&idem, StatusCode::CREATED, to_json(&disposed_view(d)))
                })
                .await?;
            Ok((StatusCode::CREATED, to_json(&disposed_view(&disposed))?))
        },
    )
    .await
}

/// The answer to a disposal: its taxes and explanation, and the item as it now stands.
fn disposed_view(d: &freeport_app::supervision::Disposed) -> DisposalView {
    let r = &d.disposal;
    let mut item = item_view(d.item_after.clone());
    item.disposals = None;
    DisposalView {
        id: r.id.clone(),
        kind: r.kind.clone(),
        on: r.on_day.clone(),
        pack_version: r.pack_version.clone(),
        disposed_value: cny_text(r.disposed_value_fen),
        back_tax_value: cny_text(r.back_tax_value_fen),
        taxes: taxes_view(&d.taxes),
        explanation: d.explanation.clone(),
        item,
    }
}
