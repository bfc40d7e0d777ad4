//! What a till checks a buyer and a basket against beyond the quota: the pack's categories and
//! lists on a day, and the serious-dishonesty list (R4.7).

use freeport_api::platform::{
    CategoriesView, CategoryView, DishonestyPage, DishonestyRequest, DishonestyView,
    ResidentGoodsView, ResidentListView,
};
use freeport_core::pack::model::LimitStatus;

use super::*;

fn status(s: LimitStatus) -> String {
    match s {
        LimitStatus::Verified => "verified",
        LimitStatus::Unverified => "unverified",
    }
    .to_owned()
}

/// A day, today when absent.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct OnDay {
    /// `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    on: Option<String>,
}

/// The duty-free categories and limits, pick-up thresholds and the residents' zero-tariff list of
/// the pack version in force on a day (any signed-in user: every till and traveller may know
/// them). Each limit says whether a source gives it (`verified`) or not (`unverified`, not
/// enforced).
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/categories",
    tag = "duty-free",
    params(OnDay),
    responses((status = 200, body = CategoriesView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn duty_free_categories(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OnDay>,
) -> ApiResult<Json<CategoriesView>> {
    let on = match &q.on {
        Some(text) => super::duty_free::parse_day("on", text)?,
        None => state.today(),
    };
    let v = freeport_app::categories::in_force(&state, &caller.actor(), on)?;
    let d = &v.duty_free;
    let dec = |x: rust_decimal::Decimal| x.normalize().to_string();
    Ok(Json(CategoriesView {
        pack_version: v.id.clone(),
        annual_quota: d.annual_quota.to_string(),
        minimum_age: d.minimum_age,
        buy_and_take_below: d.buy_and_take_below.to_string(),
        guarantee_from: d.guarantee_from.to_string(),
        departure_within_days: d.departure_within_days,
        categories: d
            .categories
            .values()
            .map(|c| CategoryView {
                id: c.id.clone(),
                name: c.name.clone(),
                per_departure_limit: c.per_departure_limit.map(dec),
                limit_unit: c.limit_unit.map(|u| u.to_string()),
                limit_status: status(c.limit_status),
                buy_and_take: c.buy_and_take,
                buy_and_take_limit_status: status(c.buy_and_take_limit_status),
                articles_tax_class: c.articles_tax_class,
                source: c.source.clone(),
            })
            .collect(),
        resident_zero_tariff: d.resident_annual_quota.map(|annual| ResidentListView {
            annual_quota: annual.to_string(),
            goods: d
                .resident_goods
                .values()
                .map(|g| ResidentGoodsView {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    status: status(g.status),
                    source: g.source.clone(),
                })
                .collect(),
        }),
    }))
}

fn listing_view(l: &freeport_store::NewDishonestyListing) -> DishonestyView {
    DishonestyView {
        id: l.id.clone(),
        person_code: l.person_code.clone(),
        listed_on: l.listed_on.clone(),
        until: l.until.clone(),
        ground: l.ground.clone(),
        reason: l.reason.clone(),
    }
}

/// Put a person on the duty-free shopping serious-dishonesty list (customs officers): for the
/// pack's years (3) from the decision's day; every till refuses the person meanwhile. The document
/// is kept only as the person code.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/dishonesty-list",
    tag = "duty-free",
    request_body = DishonestyRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = DishonestyView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_dishonest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::ListDishonest,
        &headers,
        "POST /api/v1/duty-free/dishonesty-list",
        &body,
        async move |idem| {
            let b: DishonestyRequest = parse_body(payload)?;
            let document = freeport_core::identity::PersonDocument::parse(
                &b.document.kind,
                &b.document.number,
                b.document.issuing_country.as_deref(),
            )
            .map_err(|e| e.within("document"))?;
            let ground = freeport_app::dishonesty::Ground::parse(&b.ground).ok_or_else(|| {
                FieldError::new(
                    "ground",
                    FieldErrorKind::Unknown,
                    "conviction, serious_penalty, two_or_more_penalties or other",
                )
            })?;
            let listing = freeport_app::dishonesty::Listing {
                document,
                ground,
                listed_on: super::duty_free::parse_day("listed_on", &b.listed_on)?,
                reason: b.reason,
            };
            let l = freeport_app::dishonesty::list(st, &c.actor(), listing, |l| {
                kept(&idem, StatusCode::CREATED, to_json(&listing_view(l)))
            })
            .await?;
            Ok((StatusCode::CREATED, to_json(&listing_view(&l))?))
        },
    )
    .await
}

/// Which listings, a page at a time.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ListingsQuery {
    /// Only listings in force on this day, `YYYY-MM-DD`; every listing when absent.
    #[serde(default)]
    on: Option<String>,
    /// The `next_after` of the previous page.
    #[serde(default)]
    after: Option<String>,
    /// 1 to 1000; 100 when absent.
    #[serde(default)]
    limit: Option<i64>,
}

/// The serious-dishonesty list, by person code (customs).
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/dishonesty-list",
    tag = "duty-free",
    params(ListingsQuery),
    responses((status = 200, body = DishonestyPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn dishonesty_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListingsQuery>,
) -> ApiResult<Json<DishonestyPage>> {
    let on =
        q.on.as_deref()
            .map(|d| super::duty_free::parse_day("on", d))
            .transpose()?;
    let page = Page {
        after: q.after.clone(),
        limit: q.limit,
    };
    let rows = freeport_app::dishonesty::listings(
        &state,
        &caller.actor(),
        on,
        q.after.as_deref().unwrap_or(""),
        limit(&page)?,
    )
    .await?;
    Ok(Json(DishonestyPage {
        next_after: rows.last().map(|r| r.id.clone()),
        items: rows
            .into_iter()
            .map(|r| DishonestyView {
                id: r.id,
                person_code: r.person_code,
                listed_on: r.listed_on,
                until: r.until,
                ground: r.ground,
                reason: r.reason,
            })
            .collect(),
    }))
}
