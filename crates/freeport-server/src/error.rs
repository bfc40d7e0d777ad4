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
    InvalidTransition,
    Conflict,
    AccountBookInsufficient,
    PayloadTooLarge,
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
            Code::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Value::Null,
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
            StoreError::NotFound(m) => ApiError::new(Code::NotFound, m),
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
