//! The routes of `/api/v1`, one module per resource; this file holds the route list, the layers
//! every request passes, the helpers every handler shares (body and path parsing, pages, JSON), and
//! the audit check.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use freeport_api::platform::*;
use freeport_api::quote::DeclarationDto;
use freeport_core::credit::CreditAssessment;
use freeport_core::currency::Currency;
use freeport_core::identity::CreditCode;
use freeport_core::money::Cny;
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{Enterprise, User};
use serde::Deserialize;
use serde_json::Value;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{Caller, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{PeerAddress, Query};
use crate::{AppState, MAX_BODY_BYTES, MAX_PAGE, idempotent};

use freeport_risk::platform_model::PLATFORM_FEATURES;
use freeport_risk::rules::parse_rule_set;
use freeport_store::{AlertRow, RuleSetRow};

pub(crate) mod sessions;
use sessions::*;
pub(crate) mod registry;
use registry::*;
pub(crate) mod declarations;
use declarations::*;
pub(crate) mod lifecycle;
use lifecycle::*;
pub(crate) mod account_books;
use account_books::*;
pub(crate) mod supervised_goods;
use supervised_goods::*;
pub(crate) mod duty_free;
use duty_free::*;
mod tills;
use tills::*;
mod departures;
use departures::*;
mod rings;
use rings::*;
mod items;
use items::*;
pub(crate) mod webhooks;
use webhooks::*;
pub(crate) mod credit;
use credit::*;
pub(crate) mod rule_sets;
use rule_sets::*;
pub(crate) mod alerts;
use alerts::*;
pub(crate) mod models;
use models::*;
pub(crate) mod ports;
use ports::*;
pub(crate) mod batch_exit;
use batch_exit::*;
pub(crate) mod second_line_credit;
use second_line_credit::*;
pub(crate) mod duty_free_rules;
use duty_free_rules::*;
pub(crate) mod sales_feed;
use sales_feed::*;

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
        .routes(routes!(scan_result))
        .routes(routes!(list_ports))
        .routes(routes!(record_crossing))
        .routes(routes!(port_load))
        .routes(routes!(port_calibration))
        .routes(routes!(set_port_capacity))
        .routes(routes!(time_release))
        .routes(routes!(set_port_mode))
        .routes(routes!(batch_exit))
        .routes(routes!(file_consolidation))
        .routes(routes!(reinstate_batch_exit))
        .routes(routes!(check_passenger))
        .routes(routes!(second_line_credit))
        .routes(routes!(list_operator))
        .routes(routes!(list_individual))
        .routes(routes!(list_supervised_items))
        .routes(routes!(get_supervised_item))
        .routes(routes!(dispose))
        .routes(routes!(list_shops))
        .routes(routes!(put_shop))
        .routes(routes!(sell, list_sales))
        .routes(routes!(reserve))
        .routes(routes!(record_departure))
        .routes(routes!(list_rings))
        .routes(routes!(get_item))
        .routes(routes!(allowance))
        .routes(routes!(traveller_allowance))
        .routes(routes!(duty_free_categories))
        .routes(routes!(list_dishonest, dishonesty_list))
        .routes(routes!(hand_over_item))
        .routes(routes!(item_departure))
        .routes(routes!(raise_ring_alerts))
        .routes(routes!(get_sale))
        .routes(routes!(daily_sales))
        .routes(routes!(sales_live))
        .routes(routes!(commit_sale))
        .routes(routes!(void_sale))
        .routes(routes!(return_goods))
        .routes(routes!(put_webhook, get_webhook, delete_webhook))
        .routes(routes!(webhook_deliveries))
        .routes(routes!(verify_audit))
        .routes(routes!(get_credit))
        .routes(routes!(add_credit_record))
        .routes(routes!(repair_credit))
        .routes(routes!(rules_performance))
        .routes(routes!(propose_rule_set, list_rule_sets))
        .routes(routes!(get_rule_set))
        .routes(routes!(backtest_rule_set))
        .routes(routes!(shadow_rule_set))
        .routes(routes!(activate_rule_set))
        .routes(routes!(retire_rule_set))
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(analyse_alert))
        .routes(routes!(dispose_alert))
        .routes(routes!(evaluate_alert))
        .routes(routes!(train_model, list_models))
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

/// The answer a use case keeps with its commit, so that a retry with the same key replays it.
fn kept(
    idem: &crate::Idempotency,
    status: StatusCode,
    view: ApiResult<Value>,
) -> freeport_app::AppResult<Option<freeport_store::IdempotencyRecord>> {
    let view = view.map_err(|e| freeport_app::AppError::Internal(e.message))?;
    Ok(Some(idem.record(status, &view)))
}

fn cny_text(fen: i64) -> String {
    Cny::from_fen(fen).to_string()
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
    let report = freeport_app::registry::verify_audit(&state, &caller.actor()).await?;
    Ok(Json(AuditReportView {
        entries: report.entries,
        intact: report.intact,
        problem: report.problem,
    }))
}
