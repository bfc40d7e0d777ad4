//! The routes of `/api/v1`.
//!
//! Too long, knowingly: the handlers still hold the use cases. Issue 10 moves the use cases into an
//! application crate and splits what remains by resource (sessions, registry, declarations, account
//! books, supervised goods, duty-free, webhooks); until then this is the one file to read for them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use freeport_api::platform::*;
use freeport_api::quote::DeclarationDto;
use freeport_core::calendar::customs_rate_date;
use freeport_core::credit::{
    CreditAssessment, CreditRecord, CreditRecordKind, CreditStanding, assess_credit,
};
use freeport_core::currency::Currency;
use freeport_core::decision::{Decision, Effect, Outcome};
use freeport_core::declaration::{Counterparty, Declaration};
use freeport_core::hs::HsCode;
use freeport_core::identity::CreditCode;
use freeport_core::limits::SALE_QUANTITY;
use freeport_core::money::Cny;
use freeport_core::snapshot::{BalanceKey, Snapshot};
use freeport_core::unit::Unit;
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{
    Enterprise, NewDeclaration, NewPosting, NewSupervisedItem, NewWaiverLock, PostingRow,
    Transition, User,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use freeport_risk::selectivity::{self, Assessment, LineFacts, RaisedAlert};

use crate::auth::{Caller, Role, SESSION_COOKIE, hash_password, new_token, verify_password};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{PeerAddress, Query};
use crate::{AppState, MAX_BODY_BYTES, MAX_PAGE, idempotent};

pub(crate) mod risk_management;

/// The API's routes with their OpenAPI description: one list, so the document cannot miss a route.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(create_user))
        .routes(routes!(list_enterprises))
        .routes(routes!(put_enterprise, get_enterprise))
        .routes(routes!(account_book))
        .routes(routes!(account_book_csv))
        .routes(routes!(adjust_account_book))
        .routes(routes!(put_exchange_rate))
        .routes(routes!(quote))
        .routes(routes!(submit, list_declarations))
        .routes(routes!(get_declaration))
        .routes(routes!(amend))
        .routes(routes!(cancel))
        .routes(routes!(change_status))
        .routes(routes!(inspection_result))
        .routes(routes!(list_supervised_items))
        .routes(routes!(get_supervised_item))
        .routes(routes!(dispose))
        .routes(routes!(list_shops))
        .routes(routes!(put_shop))
        .routes(routes!(sell, list_sales))
        .routes(routes!(put_webhook, get_webhook, delete_webhook))
        .routes(routes!(webhook_deliveries))
        .routes(routes!(verify_audit))
        .routes(routes!(risk_management::get_credit))
        .routes(routes!(risk_management::add_credit_record))
        .routes(routes!(risk_management::repair_credit))
        .routes(routes!(risk_management::rules_performance))
        .routes(routes!(
            risk_management::propose_rule_set,
            risk_management::list_rule_sets
        ))
        .routes(routes!(risk_management::get_rule_set))
        .routes(routes!(risk_management::backtest_rule_set))
        .routes(routes!(risk_management::shadow_rule_set))
        .routes(routes!(risk_management::activate_rule_set))
        .routes(routes!(risk_management::retire_rule_set))
        .routes(routes!(risk_management::list_alerts))
        .routes(routes!(risk_management::get_alert))
        .routes(routes!(risk_management::analyse_alert))
        .routes(routes!(risk_management::dispose_alert))
        .routes(routes!(risk_management::evaluate_alert))
        .routes(routes!(
            risk_management::train_model,
            risk_management::list_models
        ))
}

pub(crate) fn router(state: AppState) -> Router {
    // The metrics recorder is installed once, before any request records into it.
    let _ = crate::observe::metrics_handle();
    let (routes, api) = api_routes().split_for_parts();
    let api = crate::openapi::complete(&api);
    routes
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/api/openapi.json", api))
        .fallback(|| async { ApiError::new(Code::NotFound, "no such route") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            crate::error::panic_response,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            crate::REQUEST_TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            crate::error::envelope_every_error,
        ))
        .layer(axum::middleware::from_fn(crate::observe::observe))
        .with_state(state)
}

/// Liveness, and the newest policy-pack version loaded.
#[utoipa::path(
    get,
    path = "/health",
    tag = "system",
    responses((status = 200, body = Health)),
)]
async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let pack = state
        .pack
        .versions
        .last()
        .map(|v| v.id.clone())
        .unwrap_or_default();
    Ok(Json(Health {
        ok: true,
        pack_latest_version: pack,
    }))
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(Code::InvalidInput, "the body is not UTF-8"))?;
    // PostgreSQL text cannot hold NUL, and no customs field needs one: refuse it at the edge.
    if text.contains('\0') || text.contains("\\u0000") {
        return Err(ApiError::new(
            Code::InvalidInput,
            "NUL characters are not accepted",
        ));
    }
    Ok(freeport_api::decode_json(text)?)
}

/// The enterprise a path names: a path whose code is not a unified social credit code names no
/// resource, so it is `404`, like an unregistered one.
fn path_code(text: &str) -> ApiResult<CreditCode> {
    CreditCode::parse(text).map_err(|e| {
        ApiError::new(
            Code::NotFound,
            format!("no enterprise {text:?}: {}", e.reason),
        )
    })
}

fn credit_code(field: &str, text: &str) -> ApiResult<CreditCode> {
    Ok(CreditCode::parse(text).map_err(|e| FieldError {
        field: field.to_owned(),
        ..e
    })?)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Page {
    /// The `next_after` of the previous page.
    #[serde(default)]
    after: Option<String>,
    /// 1 to 1000; 100 when absent.
    #[serde(default)]
    limit: Option<i64>,
}

fn limit(page: &Page) -> ApiResult<i64> {
    match page.limit {
        None => Ok(100),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) => Err(FieldError::new(
            "limit",
            FieldErrorKind::OutOfRange,
            format!("{l} is not between 1 and {MAX_PAGE}"),
        )
        .into()),
    }
}

// ----- sessions and users ---------------------------------------------------------------------

const TOKEN_TTL_MS: i64 = 12 * 3600 * 1000;

/// Log in: create a session.
///
/// Logging in creates a session; it is the one POST without an Idempotency-Key (a retry simply
/// makes another session).
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    tag = "sessions",
    request_body = LoginRequest,
    responses((status = 201, description = "a session; the token is also set as an HttpOnly cookie", body = SessionCreated), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
)]
async fn login(
    State(state): State<AppState>,
    PeerAddress(peer): PeerAddress,
    body: Bytes,
) -> Response {
    let result: ApiResult<Response> = async {
        let login: LoginRequest = parse_body(&body)?;
        let throttle = &state.login_throttle;
        throttle
            .check(&login.username, peer, state.now_ms())
            .map_err(too_many_attempts)?;
        let found = state.store.user_by_name(&login.username).await?;
        // One answer, and the same work, for an unknown user and a wrong password: an unknown
        // user is checked against a fixed hash, so neither the reply nor its timing tells which
        // usernames exist.
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, crate::auth::dummy_hash().to_owned()),
        };
        let password = login.password.clone();
        let verified = throttle
            .hash(move || verify_password(&password, &hash))
            .await
            .map_err(too_many_attempts)?;
        let Some(user) = user.filter(|_| verified) else {
            throttle.failed(&login.username, peer, state.now_ms());
            return Err(ApiError::new(
                Code::Unauthenticated,
                "unknown user or wrong password",
            ));
        };
        throttle.succeeded(&login.username);
        let token = new_token()?;
        let now = state.now_ms();
        state
            .store
            .put_token(
                &freeport_store::sha256_hex(token.as_bytes()),
                &user.id,
                now,
                now + TOKEN_TTL_MS,
            )
            .await?;
        let cookie = format!(
            "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
            TOKEN_TTL_MS / 1000
        );
        let mut response = (
            StatusCode::CREATED,
            Json(SessionCreated {
                token,
                expires_at_ms: now + TOKEN_TTL_MS,
                user: user_view(user),
            }),
        )
            .into_response();
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
        Ok(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `429 too_many_requests` with `Retry-After`.
fn too_many_attempts(retry: crate::throttle::RetryAfter) -> ApiError {
    ApiError::new(
        Code::TooManyRequests,
        format!(
            "too many failed log-ins for this account or from this address; retry in {} s",
            retry.0
        ),
    )
    .with_retry_after(retry.0)
}

/// Log out: revoke the session's token at once.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions",
    tag = "sessions",
    responses((status = 204, description = "the token is revoked"), (status = 401, description = "not authenticated", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.revoke_token(&caller.token_sha256).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calling user.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "sessions",
    responses((status = 200, body = UserEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn me(caller: Caller) -> Json<UserEnvelope> {
    Json(UserEnvelope {
        user: user_view(caller.user),
    })
}

fn user_view(u: User) -> UserView {
    UserView {
        id: u.id,
        username: u.username,
        role: u.role,
        enterprise: u.enterprise,
    }
}

fn enterprise_view(e: Enterprise) -> EnterpriseView {
    EnterpriseView {
        credit_code: e.credit_code,
        name: e.name,
        beneficiary: e.beneficiary,
        encouraged_industry_filed: e.encouraged_industry_filed,
        encouraged_revenue_share: e.encouraged_revenue_share,
        credit_class: e.credit_class,
    }
}

/// A view as the JSON value that idempotent handlers store and answer.
fn to_json<T: serde::Serialize>(view: &T) -> ApiResult<Value> {
    serde_json::to_value(view).map_err(|e| ApiError::new(Code::Internal, e.to_string()))
}

/// Create a user (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUserRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = UserEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let c = &caller;
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::Administrator],
        &headers,
        "POST /api/v1/users",
        &body,
        async move |idem| {
            let b: NewUserRequest = parse_body(payload)?;
            if b.username.trim().is_empty() || b.username.chars().count() > 100 {
                return Err(FieldError::new(
                    "username",
                    FieldErrorKind::OutOfRange,
                    "1 to 100 characters",
                )
                .into());
            }
            if b.password.chars().count() < 12 {
                return Err(FieldError::new(
                    "password",
                    FieldErrorKind::OutOfRange,
                    "at least 12 characters",
                )
                .into());
            }
            let role = Role::parse(&b.role)
                .ok_or_else(|| FieldError::new("role", FieldErrorKind::Unknown, "not a role"))?;
            let enterprise = match (role.is_tenant_bound(), b.enterprise) {
                (true, Some(e)) => {
                    let code = credit_code("enterprise", &e)?;
                    if st.store.enterprise(code.as_str()).await?.is_none() {
                        return Err(FieldError::new(
                            "enterprise",
                            FieldErrorKind::Unknown,
                            "not in the registry",
                        )
                        .into());
                    }
                    Some(code.as_str().to_owned())
                }
                (true, None) => {
                    return Err(FieldError::new(
                        "enterprise",
                        FieldErrorKind::Missing,
                        "this role acts for one enterprise",
                    )
                    .into());
                }
                (false, Some(_)) => {
                    return Err(FieldError::new(
                        "enterprise",
                        FieldErrorKind::Inconsistent,
                        "this role is not bound to an enterprise",
                    )
                    .into());
                }
                (false, None) => None,
            };
            let user = User {
                id: uuid::Uuid::now_v7().to_string(),
                username: b.username.trim().to_owned(),
                role: role.as_str().to_owned(),
                enterprise,
            };
            let hash = hash_password(&b.password)?;
            let response = to_json(&UserEnvelope {
                user: user_view(user.clone()),
            })?;
            let record = idem.record(StatusCode::CREATED, &response);
            st.store
                .create_user(&user, &hash, &c.user.id, st.now_ms(), Some(&record))
                .await?;
            Ok((StatusCode::CREATED, response))
        },
    )
    .await
}

// ----- enterprise registry --------------------------------------------------------------------

const CREDIT_CLASSES: [&str; 5] = [
    "advanced_certified",
    "certified",
    "general",
    "dishonest",
    "seriously_dishonest",
];

/// Register an enterprise or update its registry entry.
#[utoipa::path(
    put,
    path = "/api/v1/enterprises/{code}",
    tag = "registry",
    request_body = EnterpriseRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = EnterpriseEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn put_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let actor = caller.user.id.clone();
    let path = format!("PUT /api/v1/enterprises/{code}");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::Administrator, Role::CustomsOfficer],
        &headers,
        &path,
        &body,
        async move |idem| {
            let code = path_code(&code)?;
            let b: EnterpriseRequest = parse_body(payload)?;
            if b.name.trim().is_empty() || b.name.chars().count() > 300 {
                return Err(FieldError::new(
                    "name",
                    FieldErrorKind::OutOfRange,
                    "1 to 300 characters",
                )
                .into());
            }
            if !CREDIT_CLASSES.contains(&b.credit_class.as_str()) {
                return Err(FieldError::new(
                    "credit_class",
                    FieldErrorKind::Unknown,
                    format!("one of {}", CREDIT_CLASSES.join(", ")),
                )
                .into());
            }
            if let Some(share) = &b.encouraged_revenue_share {
                let d = freeport_core::limits::SHARE.parse("encouraged_revenue_share", share)?;
                if d > Decimal::ONE {
                    return Err(FieldError::new(
                        "encouraged_revenue_share",
                        FieldErrorKind::OutOfRange,
                        "a share between 0 and 1",
                    )
                    .into());
                }
            }
            let e = Enterprise {
                credit_code: code.as_str().to_owned(),
                name: b.name.trim().to_owned(),
                beneficiary: b.beneficiary,
                encouraged_industry_filed: b.encouraged_industry_filed,
                encouraged_revenue_share: b.encouraged_revenue_share,
                credit_class: b.credit_class,
            };
            let response = to_json(&EnterpriseEnvelope {
                enterprise: enterprise_view(e.clone()),
            })?;
            let record = idem.record(StatusCode::OK, &response);
            st.store
                .put_enterprise(&e, &actor, st.now_ms(), Some(&record))
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

/// Read one registry entry.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}",
    tag = "registry",
    params(("code" = String, Path, description = "unified social credit code")),
    responses((status = 200, body = EnterpriseEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn get_enterprise(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<EnterpriseEnvelope>> {
    let code = path_code(&code)?.as_str().to_owned();
    caller.require_enterprise(&code)?;
    let e = state
        .store
        .enterprise(&code)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such resource"))?;
    Ok(Json(EnterpriseEnvelope {
        enterprise: enterprise_view(e),
    }))
}

/// List the registry, in credit-code order.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises",
    tag = "registry",
    params(Page),
    responses((status = 200, body = EnterprisePage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn list_enterprises(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<EnterprisePage>> {
    caller.require(&[Role::Administrator, Role::CustomsOfficer, Role::RiskAnalyst])?;
    let items = state
        .store
        .list_enterprises(page.after.as_deref().unwrap_or(""), limit(&page)?)
        .await?;
    let next_after = items.last().map(|e| e.credit_code.clone());
    Ok(Json(EnterprisePage {
        items: items.into_iter().map(enterprise_view).collect(),
        next_after,
    }))
}

/// Record the benchmark exchange rate of a day (R8.5).
#[utoipa::path(
    put,
    path = "/api/v1/exchange-rates/{currency}/{day}",
    tag = "registry",
    request_body = ExchangeRateRequest,
    params(("currency" = String, Path, description = "ISO 4217 code"), ("day" = String, Path, description = "YYYY-MM-DD"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ExchangeRateView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn put_exchange_rate(
    State(state): State<AppState>,
    caller: Caller,
    Path((currency, day)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let actor = caller.user.id.clone();
    let path = format!("PUT /api/v1/exchange-rates/{currency}/{day}");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::Administrator, Role::CustomsOfficer],
        &headers,
        &path,
        &body,
        async move |idem| {
            let c = Currency::parse(&currency).map_err(|e| FieldError {
                field: "currency".to_owned(),
                ..e
            })?;
            let d = parse_day("day", &day)?;
            let b: ExchangeRateRequest = parse_body(payload)?;
            let rate =
                freeport_core::limits::EXCHANGE_RATE.parse("cny_per_unit", &b.cny_per_unit)?;
            let response = to_json(&ExchangeRateView {
                currency: c.as_str().to_owned(),
                day: d.to_string(),
                cny_per_unit: rate.to_string(),
            })?;
            let record = idem.record(StatusCode::OK, &response);
            st.store
                .put_exchange_rate(
                    c.as_str(),
                    &d.to_string(),
                    &rate.to_string(),
                    &actor,
                    st.now_ms(),
                    Some(&record),
                )
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

// ----- deciding -------------------------------------------------------------------------------

/// The state a decision reads, from the store: the parties' standing, the declarant's account book,
/// and the exchange rate of the rate day.
/// Also answers the declarant's credit class (`general` when it is not registered), read with its
/// standing, for the lane.
/// An enterprise's credit on `on`: the registered class and its credit records through the core's
/// assessment (R6.1).
pub(crate) async fn credit_assessment(
    state: &AppState,
    e: &Enterprise,
    on: time::Date,
) -> ApiResult<CreditAssessment> {
    let records = state.store.credit_history(&e.credit_code).await?;
    assess_credit_with(state, e, &records, on).await
}

/// The assessment over `records` (the stored ones, or with a record about to be kept).
pub(crate) async fn assess_credit_with(
    state: &AppState,
    e: &Enterprise,
    records: &[CreditRecord],
    on: time::Date,
) -> ApiResult<CreditAssessment> {
    // The prior year's declarations are the base of the violation share, which only violations
    // can cross: without any, the count is not needed.
    let prior = if records
        .iter()
        .any(|r| matches!(r.kind, CreditRecordKind::Violation { .. }))
    {
        let n = state
            .store
            .declarations_in_year(&e.credit_code, on.year() - 1)
            .await?;
        Some(u64::try_from(n).unwrap_or(0))
    } else {
        None
    };
    let version = state
        .pack
        .version_on(on)
        .or_else(|| state.pack.versions.first())
        .ok_or_else(|| ApiError::new(Code::Internal, "the pack has no version"))?;
    Ok(assess_credit(
        version,
        &CreditStanding {
            registered: freeport_store::domain::registered_class(e)?,
            records,
            prior_year_declarations: prior,
        },
        on,
    ))
}

async fn snapshot_for(state: &AppState, d: &Declaration) -> ApiResult<(Snapshot, String)> {
    let mut declarant_class = "general".to_owned();
    let mut snapshot = Snapshot {
        enforce_balances: true,
        ..Snapshot::default()
    };
    let mut parties = vec![d.declarant];
    if let Some(Counterparty::Enterprise(c)) = &d.counterparty {
        parties.push(*c);
    }
    for code in parties {
        if let Some(e) = state.store.enterprise(code.as_str()).await? {
            if code == d.declarant {
                declarant_class = credit_assessment(state, &e, d.declared_on)
                    .await?
                    .class
                    .as_str()
                    .to_owned();
            }
            snapshot
                .enterprises
                .insert(code, state.store.standing(&e).await?);
        }
    }
    snapshot
        .balances
        .extend(state.store.book(d.declarant).await?);
    if d.currency != Currency::CNY
        && let Some(v) = state.pack.version_on(d.declared_on)
    {
        let day = customs_rate_date(d.declared_on, &v.holidays);
        if let Some(rate) = state
            .store
            .exchange_rate_on(d.currency.as_str(), day)
            .await?
        {
            snapshot.exchange_rates.insert(day, d.currency, rate);
        }
    }
    Ok((snapshot, declarant_class))
}

fn decide<'p>(
    state: &'p AppState,
    d: &Declaration,
    snapshot: &Snapshot,
) -> ApiResult<Decision<'p>> {
    freeport_core::decide(d, &state.pack, snapshot).map_err(|e| {
        FieldError {
            field: format!("declaration.{}", e.field),
            ..e
        }
        .into()
    })
}

/// The decision's postings as store rows: quantities in thousandths, which must be whole.
fn postings_of(decision: &Decision<'_>) -> ApiResult<Vec<NewPosting>> {
    decision
        .postings
        .iter()
        .map(|p| {
            let milli = p.quantity.value * Decimal::ONE_THOUSAND;
            if milli.fract() != Decimal::ZERO {
                return Err(FieldError::new(
                    format!("declaration.lines[{}].quantities[0].value", p.line),
                    FieldErrorKind::OutOfRange,
                    "account-book quantities have at most three decimals",
                )
                .into());
            }
            let quantity_milli = i64::try_from(milli).map_err(|_| {
                ApiError::from(FieldError::new(
                    format!("declaration.lines[{}].quantities[0].value", p.line),
                    FieldErrorKind::OutOfRange,
                    "too large",
                ))
            })?;
            Ok(NewPosting {
                enterprise: p.enterprise.as_str().to_owned(),
                hs_code: p.hs_code.as_str().to_owned(),
                unit: p.quantity.unit.code().to_owned(),
                quantity_milli,
                value_fen: p.value.fen(),
                movement: crate::wire_name(p.movement),
                line: i64::try_from(p.line).ok(),
                note: String::new(),
            })
        })
        .collect()
}

/// The goods the decision put under supervision (R3.4), one item per line, with the quantity and
/// value its first-line entry posted.
fn supervised_of(decision: &Decision<'_>, d: &Declaration) -> ApiResult<Vec<NewSupervisedItem>> {
    let mut out = Vec::new();
    for e in &decision.effects {
        let Effect::Supervised {
            enterprise,
            line,
            kind,
            years,
            from,
            until,
            ..
        } = e
        else {
            continue;
        };
        let (Some(posting), Some(declared)) = (
            decision
                .postings
                .iter()
                .find(|p| p.line == *line && p.enterprise == *enterprise),
            d.lines.get(*line),
        ) else {
            continue;
        };
        let quantity_milli = posting.quantity.value * Decimal::ONE_THOUSAND;
        out.push(NewSupervisedItem {
            id: uuid::Uuid::now_v7().to_string(),
            enterprise: enterprise.as_str().to_owned(),
            line: i64::try_from(*line).unwrap_or(i64::MAX),
            hs_code: posting.hs_code.as_str().to_owned(),
            origin: declared.origin.as_str().to_owned(),
            consumption_tax_item: declared.consumption_tax_item.clone(),
            kind: (*kind).to_owned(),
            years: i64::from(*years),
            released_on: from.to_string(),
            supervised_until: until.to_string(),
            unit: posting.quantity.unit.code().to_owned(),
            quantity_milli: i64::try_from(quantity_milli.trunc()).map_err(|_| {
                ApiError::new(
                    Code::InvalidInput,
                    "quantity too large for the account book",
                )
            })?,
            customs_value_fen: posting.value.fen(),
        });
    }
    Ok(out)
}

/// Postings that undo a declaration's effect on the books: one per book entry, netting everything
/// the declaration posted there (an amended declaration has posted, reversed and posted again).
/// Entries that come back into a book go first, so no book passes through a negative balance.
fn reversals(rows: &[PostingRow]) -> Vec<NewPosting> {
    let mut net: std::collections::BTreeMap<(String, String, String), (i64, i64)> =
        std::collections::BTreeMap::new();
    for r in rows {
        let e = net
            .entry((r.enterprise.clone(), r.hs_code.clone(), r.unit.clone()))
            .or_default();
        e.0 += r.quantity_milli;
        e.1 += r.value_fen;
    }
    let mut out: Vec<NewPosting> = net
        .into_iter()
        .filter(|(_, (q, _))| *q != 0)
        .map(|((enterprise, hs_code, unit), (q, v))| NewPosting {
            enterprise,
            hs_code,
            unit,
            quantity_milli: -q,
            value_fen: -v,
            movement: "reversal".to_owned(),
            line: None,
            note: "reverses the declaration's postings".to_owned(),
        })
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.quantity_milli.signum()));
    out
}

/// The lane of an accepted declaration, against the declarant's credit class on the declaration
/// day, with the facts the rules saw and the alerts it raises; refused and not-required
/// declarations take none. Pure: every input was read before the declaration was decided.
fn assess_lane(
    state: &AppState,
    d: &Declaration,
    decision: &Decision<'_>,
    class: &str,
    inputs: &crate::risk::RiskInputs,
    id: &str,
) -> Option<(Assessment, Vec<LineFacts>, Vec<RaisedAlert>)> {
    if decision.outcome != Outcome::Accepted {
        return None;
    }
    let facts = selectivity::line_facts(d, decision, class, &inputs.references);
    let live = state.live_rules();
    let assessment = selectivity::assess(&state.risk, &live, &facts, class, id);
    let mut alerts = selectivity::rule_alerts(&assessment, d.declarant.as_str(), id, d.declared_on);
    alerts.extend(selectivity::spike_alerts(
        &state.risk.settings,
        &facts,
        &inputs.spike_counts,
        id,
        d.declared_on,
    ));
    Some((assessment, facts, alerts))
}

fn status_after(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Accepted => "decided",
        Outcome::Rejected => "rejected",
        Outcome::NotRequired => "not_required",
    }
}

/// Decide a declaration without committing anything.
#[utoipa::path(
    post,
    path = "/api/v1/quote",
    tag = "declarations",
    request_body = QuoteBody,
    responses((status = 200, body = DecisionEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn quote(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<DecisionEnvelope>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let b: QuoteBody = parse_body(&body)?;
    let d = b.declaration.into_domain(&state.pack.nomenclature)?;
    // A quote against the store reads the declarant's account book: an enterprise user may read
    // only its own, or a refusal would tell it what another enterprise holds.
    caller.require_enterprise(d.declarant.as_str())?;
    // A quote decides against the store's snapshot unless the caller supplies one (what-if).
    let snapshot = match b.snapshot {
        Some(s) => s.into_domain()?,
        None => snapshot_for(&state, &d).await?.0,
    };
    let decision = decide(&state, &d, &snapshot)?;
    Ok(Json(DecisionEnvelope {
        decision: to_json(&decision)?,
    }))
}

/// Submit a declaration: decide it and commit the decision in one transaction.
#[utoipa::path(
    post,
    path = "/api/v1/declarations",
    tag = "declarations",
    request_body = DeclarationDto,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, description = "decided and committed", body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let c = &caller;
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::EnterpriseUser],
        &headers,
        "POST /api/v1/declarations",
        &body,
        async move |idem| {
            let dto: DeclarationDto = parse_body(payload)?;
            let d = dto.into_domain(&st.pack.nomenclature)?;
            if c.user.enterprise.as_deref() != Some(d.declarant.as_str()) {
                return Err(ApiError::new(
                    Code::Forbidden,
                    "an enterprise user declares for its own enterprise only",
                ));
            }
            // The snapshot has read the registry: a declarant absent from it is not registered.
            let (snapshot, class) = snapshot_for(st, &d).await?;
            if snapshot.standing(&d.declarant).is_none() {
                return Err(FieldError::new(
                    "declaration.declarant",
                    FieldErrorKind::Unknown,
                    "not in the enterprise registry",
                )
                .into());
            }
            let inputs = crate::risk::risk_inputs(st, &d).await?;
            let decision = decide(st, &d, &snapshot)?;
            let postings = postings_of(&decision)?;
            let supervised = supervised_of(&decision, &d)?;
            let id = uuid::Uuid::now_v7().to_string();
            let assessed = assess_lane(st, &d, &decision, &class, &inputs, &id);
            let (flow_lines, alerts) = match &assessed {
                Some((_, facts, alerts)) => (
                    crate::risk::flow_lines(facts),
                    crate::risk::alert_rows(alerts.clone()),
                ),
                None => (Vec::new(), Vec::new()),
            };
            let assessment = assessed.map(|(a, _, _)| a);
            let status = status_after(decision.outcome);
            let decision_json = serde_json::to_value(&decision)
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
            let now = st.now_ms();
            let waiver_locks = decision
                .effects
                .iter()
                .filter_map(|e| match e {
                    Effect::WaiverLock {
                        enterprise,
                        kind_prefix,
                        range,
                        ..
                    } => Some(NewWaiverLock {
                        enterprise: enterprise.as_str().to_owned(),
                        kind_prefix: kind_prefix.clone(),
                        first_day: range.first.to_string(),
                        last_day: range.last.to_string(),
                    }),
                    Effect::LedgerEntryDue { .. } | Effect::Supervised { .. } => None,
                })
                .collect();
            let outcome = crate::wire_name(decision.outcome);
            let record = NewDeclaration {
                id: id.clone(),
                enterprise: d.declarant.as_str().to_owned(),
                reference: d.id.clone(),
                flow: crate::wire_name(d.flow),
                status: status.to_owned(),
                declared_on: d.declared_on.to_string(),
                pack_version: decision.pack.id.clone(),
                outcome,
                payable_total_fen: decision.totals.payable_total.fen(),
                request_json: String::from_utf8_lossy(payload).into_owned(),
                decision_json: decision_json.to_string(),
                lane: assessment.as_ref().map(|a| a.lane.as_str().to_owned()),
                risk_json: assessment.as_ref().map(|a| a.record.to_string()),
                postings,
                supervised,
                waiver_locks,
                flow_lines,
                alerts,
                actor: c.user.id.clone(),
                event_topic: "declaration.decided".to_owned(),
                event_payload: json!({
                    "id": id,
                    "enterprise": d.declarant.as_str(),
                    "status": status,
                    "lane": assessment.as_ref().map(|a| a.lane.as_str()),
                })
                .to_string(),
                idempotency: None,
                now_ms: now,
            };
            let response = to_json(&DeclarationView {
                id: record.id.clone(),
                enterprise: record.enterprise.clone(),
                reference: record.reference.clone(),
                flow: record.flow.clone(),
                status: record.status.clone(),
                revision: 1,
                declared_on: record.declared_on.clone(),
                pack_version: record.pack_version.clone(),
                outcome: record.outcome.clone(),
                payable_total_fen: record.payable_total_fen,
                decision: decision_json,
                lane: record.lane.clone(),
                risk: assessment.map(|a| a.record),
                created_at_ms: now,
                updated_at_ms: now,
                events: None,
            })?;
            let record = NewDeclaration {
                idempotency: Some(idem.record(StatusCode::CREATED, &response)),
                ..record
            };
            st.store.commit_declaration(&record).await?;
            crate::observe::decision_committed(
                &record.outcome,
                &record.flow,
                record.lane.as_deref().unwrap_or("none"),
                &record.postings,
            );
            Ok((StatusCode::CREATED, response))
        },
    )
    .await
}

fn declaration_view(row: &freeport_store::DeclarationRow) -> DeclarationView {
    DeclarationView {
        id: row.id.clone(),
        enterprise: row.enterprise.clone(),
        reference: row.reference.clone(),
        flow: row.flow.clone(),
        status: row.status.clone(),
        revision: row.revision,
        declared_on: row.declared_on.clone(),
        pack_version: row.pack_version.clone(),
        outcome: row.outcome.clone(),
        payable_total_fen: row.payable_total_fen,
        decision: serde_json::from_str::<Value>(&row.decision_json).unwrap_or(Value::Null),
        lane: row.lane.clone(),
        risk: row
            .risk_json
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        created_at_ms: row.created_at_ms,
        updated_at_ms: row.updated_at_ms,
        events: None,
    }
}

async fn visible_declaration(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<freeport_store::DeclarationRow> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::new(Code::NotFound, "no such resource"));
    }
    let row = state
        .store
        .declaration(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such resource"))?;
    caller.require_enterprise(&row.enterprise)?;
    Ok(row)
}

/// Read a declaration with its decision and status history.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}",
    tag = "declarations",
    params(("id" = String, Path)),
    responses((status = 200, body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn get_declaration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeclarationView>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let row = visible_declaration(&state, &caller, &id).await?;
    let events = state.store.declaration_events(&id).await?;
    let mut view = declaration_view(&row);
    view.events = Some(
        events
            .into_iter()
            .map(|e| DeclarationEventView {
                seq: e.seq,
                status: e.status,
                actor: e.actor,
                note: e.note,
                at_ms: e.at_ms,
            })
            .collect(),
    );
    Ok(Json(view))
}

/// List declarations in submission order (an enterprise user sees its own).
#[utoipa::path(
    get,
    path = "/api/v1/declarations",
    tag = "declarations",
    params(Page),
    responses((status = 200, body = DeclarationPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn list_declarations(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<DeclarationPage>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let enterprise = if caller.role == Role::EnterpriseUser {
        caller.user.enterprise.clone()
    } else {
        None
    };
    let rows = state
        .store
        .list_declarations(
            enterprise.as_deref(),
            page.after.as_deref().unwrap_or(""),
            limit(&page)?,
        )
        .await?;
    Ok(Json(DeclarationPage {
        items: rows.iter().map(declaration_view).collect(),
        next_after: rows.last().map(|r| r.id.clone()),
    }))
}

/// The officer's transitions: from → allowed targets.
fn allowed_officer_transition(from: &str, to: &str) -> bool {
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
fn idem_key_hash(note: &str, payload: &[u8]) -> String {
    let mut bytes = payload.to_vec();
    bytes.extend_from_slice(note.as_bytes());
    freeport_store::sha256_hex(&bytes)[..16].to_owned()
}

/// Departures one buyer may buy for within `PROXY_WINDOW_DAYS` before an alert (R4.8).
const PROXY_DEPARTURES: usize = 3;
const PROXY_WINDOW_DAYS: i64 = 30;

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
struct Change {
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

async fn transition_response(
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
async fn change_status(
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
async fn inspection_result(
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
async fn cancel(
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
async fn amend(
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
            let (mut snapshot, class) = snapshot_for(st, &d).await?;
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
            let inputs = crate::risk::risk_inputs(st, &d).await?;
            let decision = decide(st, &d, &snapshot)?;
            let mut postings = reversals(&old);
            postings.extend(postings_of(&decision)?);
            let supervised = supervised_of(&decision, &d)?;
            // The same declaration draws the same number: amending cannot re-roll the sample.
            let assessment =
                assess_lane(st, &d, &decision, &class, &inputs, &id).map(|(a, _, _)| a);
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

// ----- account books ---------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PostingPage {
    /// The `next_after` of the previous page.
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

fn quantity_text(milli: i64) -> String {
    Decimal::new(milli, 3).normalize().to_string()
}

/// Read an enterprise's account book: balances and a page of postings.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/account-book",
    tag = "account books",
    params(("code" = String, Path), PostingPage),
    responses((status = 200, body = AccountBookView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn account_book(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(page): Query<PostingPage>,
) -> ApiResult<Json<AccountBookView>> {
    let code = path_code(&code)?.as_str().to_owned();
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    caller.require_enterprise(&code)?;
    let limit = limit(&Page {
        after: None,
        limit: page.limit,
    })?;
    let balances = state.store.balances(&code).await?;
    let postings = state
        .store
        .postings(&code, page.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(AccountBookView {
        enterprise: code,
        next_after: postings.last().map(|p| p.id),
        balances: balances
            .into_iter()
            .map(|b| BalanceView {
                quantity: quantity_text(b.quantity_milli),
                hs_code: b.hs_code,
                unit: b.unit,
            })
            .collect(),
        postings: postings
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
async fn account_book_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let code = path_code(&code)?.as_str().to_owned();
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    caller.require_enterprise(&code)?;
    let mut out = String::from(
        "posting_id,at_ms,hs_code,unit,quantity,value_cny,movement,declaration_id,line,note\n",
    );
    let mut after = 0;
    // Bounded: 1000 pages of 1000 postings; beyond that, page through the JSON endpoint.
    for _ in 0..1000 {
        let page = state.store.postings(&code, after, MAX_PAGE).await?;
        for p in &page {
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
        match page.last() {
            Some(p) if page.len() as i64 == MAX_PAGE => after = p.id,
            _ => break,
        }
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
async fn adjust_account_book(
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
        &[Role::CustomsOfficer],
        &headers,
        &path,
        &body,
        async move |idem| {
            let code = path_code(&code)?;
            let b: AdjustmentRequest = parse_body(payload)?;
            if b.items.is_empty() || b.items.len() > 1000 {
                return Err(FieldError::new(
                    "items",
                    FieldErrorKind::OutOfRange,
                    "1 to 1000 items",
                )
                .into());
            }
            let balances = st.store.balances(code.as_str()).await?;
            let mut postings = Vec::new();
            let mut report = Vec::new();
            for (i, item) in b.items.iter().enumerate() {
                let hs = HsCode::parse(
                    &format!("items[{i}].hs_code"),
                    &item.hs_code,
                    &st.pack.nomenclature,
                )?;
                let unit = Unit::parse(&format!("items[{i}].unit"), &item.unit)?;
                let field = format!("items[{i}].quantity");
                let qty = milli(
                    &field,
                    freeport_core::limits::QUANTITY.parse(&field, &item.quantity)?,
                )?;
                let booked = balances
                    .iter()
                    .find(|x| x.hs_code == hs.as_str() && x.unit == unit.code())
                    .map_or(0, |x| x.quantity_milli);
                let delta = match b.kind.as_str() {
                    // A stock-take posts counted minus booked; a write-off removes the stated quantity.
                    "stock_take" => qty - booked,
                    "write_off" => -qty,
                    _ => {
                        return Err(FieldError::new(
                            "kind",
                            FieldErrorKind::Unknown,
                            "stock_take or write_off",
                        )
                        .into());
                    }
                };
                report.push(AdjustmentLine {
                    hs_code: hs.as_str().to_owned(),
                    unit: unit.code().to_owned(),
                    booked: quantity_text(booked),
                    adjustment: quantity_text(delta),
                });
                if delta != 0 {
                    postings.push(NewPosting {
                        enterprise: code.as_str().to_owned(),
                        hs_code: hs.as_str().to_owned(),
                        unit: unit.code().to_owned(),
                        quantity_milli: delta,
                        value_fen: 0,
                        movement: b.kind.clone(),
                        line: None,
                        note: item.note.clone(),
                    });
                }
            }
            // A count below the book means zero-tariff goods left the account without a
            // declaration: an early warning for the analysts, raised with the adjustment.
            let day = st.today().to_string();
            let alerts: Vec<freeport_store::NewAlert> = postings
                .iter()
                .filter(|p| b.kind == "stock_take" && p.quantity_milli < 0)
                .map(|p| freeport_store::NewAlert {
                    id: uuid::Uuid::now_v7().to_string(),
                    dedupe_key: format!("outflow:{}:{}:{}:{}", p.enterprise, p.hs_code, p.unit, idem_key_hash(&p.note, payload)),
                    kind: "unexplained_outflow".to_owned(),
                    subject: format!("{} {} short of the book for {}", quantity_text(-p.quantity_milli), p.unit, p.hs_code),
                    enterprise: Some(p.enterprise.clone()),
                    declaration_id: None,
                    person_code: None,
                    raised_on: day.clone(),
                    details_json: json!({ "hs_code": p.hs_code, "unit": p.unit, "shortfall": quantity_text(-p.quantity_milli), "note": p.note }).to_string(),
                })
                .collect();
            let response = to_json(&AdjustmentReport {
                kind: b.kind.clone(),
                items: report,
            })?;
            st.store
                .adjust(
                    &postings,
                    &alerts,
                    &c.user.id,
                    &format!("account_book.{}", b.kind),
                    Some(&idem.record(StatusCode::OK, &response)),
                    st.now_ms(),
                )
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

// ----- supervised goods -----------------------------------------------------------------------

fn cny_text(fen: i64) -> String {
    freeport_core::money::Cny::from_fen(fen).to_string()
}

fn taxes_view(t: &freeport_core::tax::TaxAmounts) -> TaxesView {
    TaxesView {
        tariff: t.tariff.to_string(),
        consumption_tax: t.consumption_tax.to_string(),
        vat: t.vat.to_string(),
        total: t.total().to_string(),
    }
}

fn item_view(i: freeport_store::SupervisedItemRow) -> SupervisedItemView {
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
async fn visible_item(
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
async fn list_supervised_items(
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
async fn get_supervised_item(
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
async fn dispose(
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

// ----- offshore duty-free -----------------------------------------------------------------------

fn shop_id(text: &str) -> ApiResult<String> {
    if text.is_empty()
        || text.len() > 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(FieldError::new(
            "shop",
            FieldErrorKind::Malformed,
            "1 to 64 letters, digits, - or _",
        )
        .into());
    }
    Ok(text.to_owned())
}

fn shop_view(s: freeport_store::Shop) -> ShopView {
    ShopView {
        id: s.id,
        operator: s.operator,
        name: s.name,
        location: s.location,
    }
}

/// The shop as the caller may see it: another operator's shop is reported absent.
async fn visible_shop(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<freeport_store::Shop> {
    let id = shop_id(id).map_err(|_| ApiError::new(Code::NotFound, "no such resource"))?;
    match state.store.shop(&id).await? {
        Some(shop) if caller.may_access_shop(&shop.operator) => Ok(shop),
        _ => Err(ApiError::new(Code::NotFound, "no such resource")),
    }
}

/// Register a duty-free shop or update it (customs officers, administrators).
#[utoipa::path(
    put,
    path = "/api/v1/duty-free/shops/{shop}",
    tag = "duty-free",
    request_body = ShopRequest,
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ShopView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn put_shop(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("PUT /api/v1/duty-free/shops/{shop}");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::CustomsOfficer, Role::Administrator],
        &headers,
        &path,
        &body,
        async move |idem| {
            let id = shop_id(&shop)?;
            let b: ShopRequest = parse_body(payload)?;
            let operator = credit_code("operator", &b.operator)?.as_str().to_owned();
            if st.store.enterprise(&operator).await?.is_none() {
                return Err(FieldError::new(
                    "operator",
                    FieldErrorKind::Unknown,
                    "not in the enterprise registry",
                )
                .into());
            }
            for (field, text) in [("name", &b.name), ("location", &b.location)] {
                if text.trim().is_empty() || text.chars().count() > 300 {
                    return Err(FieldError::new(
                        field,
                        FieldErrorKind::OutOfRange,
                        "1 to 300 characters",
                    )
                    .into());
                }
            }
            let shop = freeport_store::Shop {
                id,
                operator,
                name: b.name.trim().to_owned(),
                location: b.location.trim().to_owned(),
            };
            let response = to_json(&shop_view(shop.clone()))?;
            let record = idem.record(StatusCode::OK, &response);
            st.store
                .put_shop(&shop, &c.user.id, st.now_ms(), Some(&record))
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

/// List duty-free shops: an operator sees its own.
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/shops",
    tag = "duty-free",
    params(Page),
    responses((status = 200, body = ShopPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn list_shops(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<ShopPage>> {
    caller.require(&[
        Role::DutyFreeOperator,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let operator = match caller.role {
        Role::DutyFreeOperator => caller.user.enterprise.clone(),
        _ => None,
    };
    let shops = state
        .store
        .shops(
            operator.as_deref(),
            page.after.as_deref().unwrap_or(""),
            limit(&page)?,
        )
        .await?;
    Ok(Json(ShopPage {
        next_after: shops.last().map(|s| s.id.clone()),
        items: shops.into_iter().map(shop_view).collect(),
    }))
}

fn sale_view(row: freeport_store::SaleRow) -> SaleView {
    SaleView {
        decision: serde_json::from_str(&row.decision_json).unwrap_or(Value::Null),
        total: cny_text(row.total_fen),
        id: row.id,
        shop: row.shop,
        departure_on: row.departure_on,
        sold_on: row.sold_on,
        accepted: row.accepted,
        pack_version: row.pack_version,
    }
}

/// A `YYYY-MM-DD` day from the request, or an error naming `field`.
fn parse_day(field: &str, text: &str) -> ApiResult<time::Date> {
    Ok(freeport_core::calendar::parse_day(field, text)?)
}

/// A quantity in thousandths, as account books and sales keep it: at most three decimals.
fn milli(field: &str, value: Decimal) -> ApiResult<i64> {
    Ok(freeport_core::limits::to_milli(field, value)?)
}

/// Sell duty-free: decide the sale against the buyer's age, the departure's category limits and
/// the annual quota, and record it.
///
/// The buyer is identified by document across all shops (one code per person; the number is
/// never stored). An accepted sale spends quota in the same transaction; a refused one is kept
/// on record with its reasons and spends nothing.
#[utoipa::path(
    post,
    path = "/api/v1/duty-free/shops/{shop}/sales",
    tag = "duty-free",
    request_body = SaleRequest,
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, description = "decided and recorded, accepted or refused", body = SaleView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "another sale to the same person got there first, or idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn sell(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("POST /api/v1/duty-free/shops/{shop}/sales");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::DutyFreeOperator],
        &headers,
        &path,
        &body,
        async move |idem| {
            use freeport_core::duty_free::{BasketItem, SaleLine, TravellerRecord, decide_sale};
            let shop = visible_shop(st, c, &shop).await?;
            let b: SaleRequest = parse_body(payload)?;
            let document = freeport_core::identity::PersonDocument::parse(
                &b.document.kind,
                &b.document.number,
                b.document.issuing_country.as_deref(),
            )?;
            let birth_date = parse_day("birth_date", &b.birth_date)?;
            if let freeport_core::identity::PersonDocument::ResidentId(id) = &document
                && id.birth_date() != birth_date
            {
                return Err(FieldError::new(
                    "birth_date",
                    FieldErrorKind::Inconsistent,
                    "does not match the resident identity card",
                )
                .into());
            }
            let departure_on = parse_day("departure_on", &b.departure_on)?;
            let sold_on = parse_day("sold_on", &b.sold_on)?;
            if departure_on < sold_on {
                return Err(FieldError::new(
                    "departure_on",
                    FieldErrorKind::OutOfRange,
                    "the departure cannot precede the sale",
                )
                .into());
            }
            if b.items.is_empty() || b.items.len() > 100 {
                return Err(
                    FieldError::new("items", FieldErrorKind::OutOfRange, "1 to 100 items").into(),
                );
            }
            let mut lines = Vec::with_capacity(b.items.len());
            let mut items = Vec::with_capacity(b.items.len());
            for (i, item) in b.items.iter().enumerate() {
                let f = |name: &str| format!("items[{i}].{name}");
                let unit_price = freeport_api::quote::bounded_cny(
                    &f("unit_price"),
                    &item.unit_price,
                    freeport_core::limits::SALE_UNIT_PRICE,
                )?;
                let quantity = SALE_QUANTITY.parse(&f("quantity"), &item.quantity)?;
                let limit_quantity = match &item.limit_quantity {
                    Some(q) => SALE_QUANTITY.parse(&f("limit_quantity"), q)?,
                    None => quantity,
                };
                if item.description.chars().count() > 300 {
                    return Err(FieldError::new(
                        f("description"),
                        FieldErrorKind::OutOfRange,
                        "at most 300 characters",
                    )
                    .into());
                }
                items.push(freeport_store::NewSaleItem {
                    category: item.category.clone(),
                    description: item.description.clone(),
                    unit_price_fen: unit_price.fen(),
                    quantity_milli: milli(&f("quantity"), quantity)?,
                    limit_quantity_milli: milli(&f("limit_quantity"), limit_quantity)?,
                });
                lines.push(SaleLine {
                    category: item.category.clone(),
                    unit_price,
                    quantity,
                    limit_quantity,
                });
            }
            let person_code = st.store.person_code(&document.canonical_key());
            let year = i64::from(sold_on.year());
            let recent_from = sold_on - time::Duration::days(PROXY_WINDOW_DAYS);
            let history = st
                .store
                .traveller_history(
                    &person_code,
                    year,
                    &departure_on.to_string(),
                    &recent_from.to_string(),
                )
                .await?;
            let traveller = TravellerRecord {
                birth_date,
                spent_this_year: freeport_core::money::Cny::from_fen(history.spent_this_year_fen),
                bought_this_departure: history
                    .bought_this_departure
                    .iter()
                    .map(|(category, m)| BasketItem {
                        category: category.clone(),
                        quantity: Decimal::new(*m, 3),
                    })
                    .collect(),
                banned_until: history
                    .banned_until
                    .as_deref()
                    .and_then(|d| parse_day("banned_until", d).ok()),
            };
            let decision = decide_sale(&st.pack, sold_on, &lines, &traveller)?;
            // R4.8: buying for several departures within weeks is the return-flow pattern of
            // paid carriers; the analysts see it in the alert queue.
            let mut departures = history.recent_departures.clone();
            if !departures.contains(&departure_on.to_string()) {
                departures.push(departure_on.to_string());
            }
            let alerts = if decision.accepted && departures.len() >= PROXY_DEPARTURES {
                vec![freeport_store::NewAlert {
                    id: uuid::Uuid::now_v7().to_string(),
                    dedupe_key: format!("proxy:{person_code}:{}", &sold_on.to_string()[..7]),
                    kind: "proxy_buying".to_owned(),
                    subject: format!(
                        "one buyer, {} departures within {PROXY_WINDOW_DAYS} days",
                        departures.len()
                    ),
                    enterprise: None,
                    declaration_id: None,
                    person_code: Some(person_code.clone()),
                    raised_on: sold_on.to_string(),
                    details_json: json!({ "departures": departures, "shop": shop.id, "window_days": PROXY_WINDOW_DAYS }).to_string(),
                }]
            } else {
                Vec::new()
            };
            let decision_json = to_json(&decision)?;
            let limits = decision
                .pack
                .duty_free
                .categories
                .values()
                .filter_map(|c| {
                    let limit = c.per_departure_limit? * Decimal::ONE_THOUSAND;
                    Some((c.id.clone(), i64::try_from(limit.trunc()).ok()?))
                })
                .filter(|(id, _)| items.iter().any(|i| &i.category == id))
                .collect();
            let sale_id = uuid::Uuid::now_v7().to_string();
            let response = to_json(&SaleView {
                id: sale_id.clone(),
                shop: shop.id.clone(),
                departure_on: departure_on.to_string(),
                sold_on: sold_on.to_string(),
                accepted: decision.accepted,
                total: decision.total.to_string(),
                pack_version: decision.pack.id.clone(),
                decision: decision_json.clone(),
            })?;
            let record = idem.record(StatusCode::CREATED, &response);
            st.store
                .record_sale(&freeport_store::NewSale {
                    id: sale_id,
                    shop: shop.id,
                    person_code,
                    departure_on: departure_on.to_string(),
                    sold_on: sold_on.to_string(),
                    accepted: decision.accepted,
                    total_fen: decision.total.fen(),
                    pack_version: decision.pack.id.clone(),
                    decision_json: decision_json.to_string(),
                    items,
                    year,
                    annual_quota_fen: decision.pack.duty_free.annual_quota.fen(),
                    limits,
                    alerts,
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

/// List a shop's sales, accepted and refused, in time order.
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/shops/{shop}/sales",
    tag = "duty-free",
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), Page),
    responses((status = 200, body = SalePage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn list_sales(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<SalePage>> {
    caller.require(&[
        Role::DutyFreeOperator,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ])?;
    let shop = visible_shop(&state, &caller, &shop).await?;
    let rows = state
        .store
        .sales(&shop.id, page.after.as_deref().unwrap_or(""), limit(&page)?)
        .await?;
    Ok(Json(SalePage {
        next_after: rows.last().map(|r| r.id.clone()),
        items: rows.into_iter().map(sale_view).collect(),
    }))
}

// ----- webhooks --------------------------------------------------------------------------------

fn webhook_url(text: &str) -> ApiResult<String> {
    let bad = |reason: &str| -> ApiError {
        FieldError::new("url", FieldErrorKind::Malformed, reason.to_owned()).into()
    };
    if text.len() > 2000 {
        return Err(
            FieldError::new("url", FieldErrorKind::OutOfRange, "at most 2000 characters").into(),
        );
    }
    let url = reqwest::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("an http:// or https:// URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials do not belong in the URL; deliveries are signed instead",
        ));
    }
    Ok(url.to_string())
}

/// Set the enterprise's webhook: where its declarations' status changes are pushed.
///
/// Answers the signing secret once; setting the webhook again rotates it. Deliveries are signed
/// (`Freeport-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`), carry `Freeport-Event-Id`, and
/// are retried with doubling waits until the receiver answers 2xx.
#[utoipa::path(
    put,
    path = "/api/v1/enterprises/{code}/webhook",
    tag = "webhooks",
    request_body = WebhookRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = WebhookView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn put_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("PUT /api/v1/enterprises/{code}/webhook");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::EnterpriseUser, Role::Administrator],
        &headers,
        &path,
        &body,
        async move |idem| {
            let code = path_code(&code)?.as_str().to_owned();
            c.require_enterprise(&code)?;
            if st.store.enterprise(&code).await?.is_none() {
                return Err(ApiError::new(Code::NotFound, "no such resource"));
            }
            let b: WebhookRequest = parse_body(payload)?;
            let url = webhook_url(&b.url)?;
            let secret = new_token()?;
            let response = to_json(&WebhookView {
                enterprise: code.clone(),
                url: url.clone(),
                secret: Some(secret.clone()),
            })?;
            let record = idem.record(StatusCode::OK, &response);
            st.store
                .put_webhook(
                    &freeport_store::Webhook {
                        enterprise: code,
                        url,
                        secret,
                        updated_at_ms: st.now_ms(),
                    },
                    &c.user.id,
                    Some(&record),
                )
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

/// Read the enterprise's webhook (without its secret).
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/webhook",
    tag = "webhooks",
    params(("code" = String, Path, description = "unified social credit code")),
    responses((status = 200, body = WebhookView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::Administrator,
    ])?;
    let code = path_code(&code)?.as_str().to_owned();
    caller.require_enterprise(&code)?;
    let w = state
        .store
        .webhook(&code)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no webhook is set"))?;
    Ok(Json(WebhookView {
        enterprise: w.enterprise,
        url: w.url,
        secret: None,
    }))
}

/// Remove the enterprise's webhook; deliveries still pending are marked failed.
#[utoipa::path(
    delete,
    path = "/api/v1/enterprises/{code}/webhook",
    tag = "webhooks",
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = WebhookRemoved), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (st, c) = (&state, &caller);
    let path = format!("DELETE /api/v1/enterprises/{code}/webhook");
    idempotent(
        &state,
        &caller,
        &[Role::EnterpriseUser, Role::Administrator],
        &headers,
        &path,
        &Bytes::new(),
        async move |idem| {
            let code = path_code(&code)?.as_str().to_owned();
            c.require_enterprise(&code)?;
            // Whether anything was removed is known only inside the transaction; the stored
            // answer says what this request did.
            let existed = st.store.webhook(&code).await?.is_some();
            let response = to_json(&WebhookRemoved { removed: existed })?;
            let record = idem.record(StatusCode::OK, &response);
            st.store
                .delete_webhook(&code, &c.user.id, st.now_ms(), Some(&record))
                .await?;
            Ok((StatusCode::OK, response))
        },
    )
    .await
}

/// The enterprise's webhook deliveries, newest first, with their attempts and last error.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/webhook/deliveries",
    tag = "webhooks",
    params(("code" = String, Path, description = "unified social credit code"), PostingPage),
    responses((status = 200, body = WebhookDeliveryPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(page): Query<PostingPage>,
) -> ApiResult<Json<WebhookDeliveryPage>> {
    caller.require(&[
        Role::EnterpriseUser,
        Role::CustomsOfficer,
        Role::Administrator,
    ])?;
    let code = path_code(&code)?.as_str().to_owned();
    caller.require_enterprise(&code)?;
    let limit = limit(&Page {
        after: None,
        limit: page.limit,
    })?;
    let rows = state
        .store
        .deliveries(&code, page.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(WebhookDeliveryPage {
        next_after: rows.last().map(|d| d.id),
        items: rows
            .into_iter()
            .map(|d| WebhookDeliveryView {
                id: d.id,
                event_id: d.event_id,
                topic: d.topic,
                state: d.state,
                attempts: d.attempts,
                last_status: d.last_status,
                last_error: d.last_error,
                next_attempt_at_ms: d.next_attempt_at_ms,
                delivered_at_ms: d.delivered_at_ms,
            })
            .collect(),
    }))
}

// ----- audit -----------------------------------------------------------------------------------

/// Verify the audit chain.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "audit",
    responses((status = 200, body = AuditReportView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
async fn verify_audit(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AuditReportView>> {
    caller.require(&[Role::Administrator])?;
    let report = state.store.verify_audit().await?;
    Ok(Json(AuditReportView {
        entries: report.entries,
        intact: report.intact,
        problem: report.problem,
    }))
}
