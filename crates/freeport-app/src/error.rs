//! What a use case can answer instead of its result. The edges map each to their own words (the
//! HTTP API to its error codes, the CLI to exit codes).

use freeport_core::FieldError;
use freeport_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input names something the platform cannot judge; the field says where.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The actor may not do this to this resource (another enterprise's, say).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The resource is in a state this change cannot leave.
    #[error("{0}")]
    InvalidTransition(String),
    /// The resource changed since the actor read it.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A defect: something the platform itself produced does not hold together.
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;
