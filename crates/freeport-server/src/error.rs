//! One error envelope for the whole API, with one table from code to status.
//!
//! `{ "code": "quota_exceeded", "message": "…", "type": "domain|auth|invalid_request|internal",
//! "details": … }`. Codes are stable snake_case, documented in `docs/reference/errors.md`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use freeport_core::FieldError;
use freeport_store::StoreError;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    /// A request with the same key is still being processed; retry to get its result.
    IdempotencyKeyInFlight,
    InvalidTransition,
    Conflict,
    AccountBookInsufficient,
    PayloadTooLarge,
    MethodNotAllowed,
    /// The request took longer than the server's limit; nothing it had not committed stands.
    Timeout,
    /// Too many failed log-ins for the account or from the address; `Retry-After` says when.
    TooManyRequests,
    /// A stored record the request needs no longer decodes; nothing was decided or applied.
    StoredRecordUnreadable,
    Internal,
}

impl Code {
    /// The code table: code, HTTP status, type.
    pub fn parts(self) -> (&'static str, StatusCode, &'static str) {
        match self {
            Code::InvalidInput => (
                "invalid_input",
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            Code::Unauthenticated => ("unauthenticated", StatusCode::UNAUTHORIZED, "auth"),
            Code::Forbidden => ("forbidden", StatusCode::FORBIDDEN, "auth"),
            Code::NotFound => ("not_found", StatusCode::NOT_FOUND, "invalid_request"),
            Code::IdempotencyKeyRequired => (
                "idempotency_key_required",
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            Code::IdempotencyKeyReused => (
                "idempotency_key_reused",
                StatusCode::CONFLICT,
                "invalid_request",
            ),
            Code::IdempotencyKeyInFlight => (
                "idempotency_key_in_flight",
                StatusCode::CONFLICT,
                "invalid_request",
            ),
            Code::InvalidTransition => ("invalid_transition", StatusCode::CONFLICT, "domain"),
            Code::Conflict => ("conflict", StatusCode::CONFLICT, "domain"),
            Code::AccountBookInsufficient => {
                ("account_book_insufficient", StatusCode::CONFLICT, "domain")
            }
            Code::PayloadTooLarge => (
                "payload_too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
            ),
            Code::MethodNotAllowed => (
                "method_not_allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
            ),
            Code::Timeout => ("timeout", StatusCode::REQUEST_TIMEOUT, "invalid_request"),
            Code::TooManyRequests => ("too_many_requests", StatusCode::TOO_MANY_REQUESTS, "auth"),
            Code::StoredRecordUnreadable => (
                "stored_record_unreadable",
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
            Code::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub details: Value,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: json!({}),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The code a bare status from a lower layer (body limit, timeout, router, extractor) stands for.
    fn for_status(status: StatusCode) -> Code {
        match status.as_u16() {
            401 => Code::Unauthenticated,
            403 => Code::Forbidden,
            404 => Code::NotFound,
            405 => Code::MethodNotAllowed,
            408 => Code::Timeout,
            413 => Code::PayloadTooLarge,
            429 => Code::TooManyRequests,
            400..=499 => Code::InvalidInput,
            _ => Code::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code.parts().1
    }

    pub fn body(&self) -> Value {
        let (code, _, kind) = self.code.parts();
        json!({ "code": code, "message": self.message, "type": kind, "details": self.details })
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError {
            code: Code::InvalidInput,
            message: e.to_string(),
            details: json!({ "field": e.field, "kind": e.kind, "reason": e.reason }),
            retry_after: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InsufficientBalance { .. } => ApiError::new(
                Code::AccountBookInsufficient,
                format!("{e}; retry to have the decision re-made on the current book"),
            ),
            StoreError::Conflict(m) => ApiError::new(Code::Conflict, m),
            StoreError::BalanceCeiling { .. } => ApiError::new(Code::Conflict, e.to_string()),
            StoreError::IdempotencyKeyTaken(_) => ApiError::new(
                Code::IdempotencyKeyInFlight,
                "a request with this Idempotency-Key is being processed; retry to get its result",
            ),
            StoreError::NotFound(m) => ApiError::new(Code::NotFound, m),
            StoreError::Corrupt(m) => {
                tracing::error!(record = %m, "stored record unreadable");
                ApiError::new(
                    Code::StoredRecordUnreadable,
                    format!(
                        "a stored record the request needs does not read ({m}); nothing was applied: an administrator must repair it"
                    ),
                )
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::new(
                    Code::Internal,
                    "the store failed; the request was not applied",
                )
            }
        }
    }
}

impl From<freeport_app::AppError> for ApiError {
    fn from(e: freeport_app::AppError) -> Self {
        use freeport_app::AppError;
        match e {
            AppError::Invalid(f) => f.into(),
            AppError::Forbidden(m) => ApiError::new(Code::Forbidden, m),
            AppError::NotFound(m) => ApiError::new(Code::NotFound, m),
            AppError::InvalidTransition(m) => ApiError::new(Code::InvalidTransition, m),
            AppError::Conflict(m) => ApiError::new(Code::Conflict, m),
            AppError::Store(s) => s.into(),
            AppError::Internal(m) => ApiError::new(Code::Internal, m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Every error leaves in the envelope, whichever layer produced it: a bare status or a plain-text
/// body from the router (unknown route, wrong method), the body limit, the timeout or an
/// extractor is replaced by the envelope of its code. JSON errors from handlers pass unchanged.
pub(crate) async fn envelope_every_error(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let code = ApiError::for_status(status);
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let mut enveloped = ApiError::new(code, text).into_response();
    // Headers a lower layer set for the client (Allow on a 405, Retry-After) stay.
    for name in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            enveloped.headers_mut().insert(name, v.clone());
        }
    }
    enveloped
}

/// The answer to a handler that panicked: the envelope's `internal`, never a dropped connection.
pub(crate) fn panic_response(
    _panic: Box<dyn std::any::Any + Send + 'static>,
) -> axum::http::Response<axum::body::Body> {
    tracing::error!("a handler panicked; answered 500");
    ApiError::new(
        Code::Internal,
        "the server failed while handling the request; it was not applied unless a retry with the same Idempotency-Key says otherwise",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    async fn panics() -> &'static str {
        panic!("a defect")
    }

    /// The layers `routes::router` puts around every route, here around a handler that panics and
    /// one that takes longer than the (shortened) timeout.
    fn edge(timeout: Duration) -> Router {
        Router::new()
            .route("/panics", get(panics))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                super::panic_response,
            ))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            ))
            .layer(axum::middleware::from_fn(super::envelope_every_error))
    }

    async fn answer(path: &str) -> (StatusCode, serde_json::Value) {
        let response = edge(Duration::from_millis(50))
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("an answer");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("JSON"))
    }

    #[tokio::test]
    async fn a_panic_and_a_timeout_answer_the_envelope() {
        let (status, body) = answer("/panics").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal", "{body}");
        let (status, body) = answer("/slow").await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(body["code"], "timeout", "{body}");
        assert!(body["details"].is_object());
    }
}
