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
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::new(
                Code::Forbidden,
                format!("the {} role may not do this", self.role.as_str()),
            ))
        }
    }

    /// May this caller see or act on `enterprise`'s data?
    pub fn may_access_enterprise(&self, enterprise: &str) -> bool {
        match self.role {
            Role::CustomsOfficer | Role::RiskAnalyst | Role::Administrator => true,
            Role::EnterpriseUser => self.user.enterprise.as_deref() == Some(enterprise),
            Role::DutyFreeOperator => false,
        }
    }

    /// May this caller see or act on a shop run by `operator`? Operators see their own shops;
    /// enterprise users see none.
    pub fn may_access_shop(&self, operator: &str) -> bool {
        match self.role {
            Role::CustomsOfficer | Role::RiskAnalyst | Role::Administrator => true,
            Role::DutyFreeOperator => self.user.enterprise.as_deref() == Some(operator),
            Role::EnterpriseUser => false,
        }
    }

    pub fn require_enterprise(&self, enterprise: &str) -> Result<(), ApiError> {
        // A foreign tenant's resource is reported as absent, so its existence does not leak.
        if self.may_access_enterprise(enterprise) {
            Ok(())
        } else {
            Err(ApiError::new(Code::NotFound, "no such resource"))
        }
    }
}

/// The stored hash of `password`, for the shell's first administrator and test fixtures.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Ok(freeport_app::users::hash_password(password)?)
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
