//! Authentication at the edge: the bearer token or session cookie a request carries, the caller
//! it belongs to (`freeport_app::sessions::authenticate`), and the role checks handlers make.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::AppState;
use crate::error::{ApiError, Code};
use freeport_store::User;

pub use freeport_app::users::Role;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub role: Role,
    pub token_sha256: String,
}

impl Caller {
    /// The caller as the application layer's actor.
    pub fn actor(&self) -> freeport_app::Actor {
        freeport_app::Actor {
            user_id: self.user.id.clone(),
            role: self.role,
            enterprise: self.user.enterprise.clone(),
        }
    }

    /// `403` unless the caller's role holds `permission` (checked before an idempotent write
    /// looks for its replay; the use case checks it again).
    pub fn require(&self, permission: freeport_app::Permission) -> Result<(), ApiError> {
        Ok(self.actor().require(permission)?)
    }
}

pub const SESSION_COOKIE: &str = "freeport_session";

fn token_from(parts: &Parts) -> Option<String> {
    if let Some(v) = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    parts
        .headers
        .get(axum::http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| {
            cookies.split(';').map(str::trim).find_map(|c| {
                c.strip_prefix(SESSION_COOKIE)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(str::to_owned)
            })
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token_from(parts).ok_or_else(|| {
            ApiError::new(
                Code::Unauthenticated,
                "a bearer token or session cookie is required",
            )
        })?;
        let freeport_app::sessions::Authenticated { user, token_sha256 } =
            freeport_app::sessions::authenticate(state, &token)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        Code::Unauthenticated,
                        "the token is unknown, expired or revoked",
                    )
                })?;
        let role = Role::parse(&user.role)
            .ok_or_else(|| ApiError::new(Code::Internal, "a user has an unknown role"))?;
        Ok(Caller {
            user,
            role,
            token_sha256,
        })
    }
}
