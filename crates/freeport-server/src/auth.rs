//! Authentication (argon2id passwords, opaque bearer tokens stored hashed) and roles.

use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, Code};
use freeport_store::User;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Acts for one enterprise, and sees only that enterprise.
    EnterpriseUser,
    /// Acts for one duty-free operator's shops.
    DutyFreeOperator,
    CustomsOfficer,
    RiskAnalyst,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::EnterpriseUser,
        Role::DutyFreeOperator,
        Role::CustomsOfficer,
        Role::RiskAnalyst,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::EnterpriseUser => "enterprise_user",
            Role::DutyFreeOperator => "duty_free_operator",
            Role::CustomsOfficer => "customs_officer",
            Role::RiskAnalyst => "risk_analyst",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles bound to one tenant (an enterprise or an operator) see only that tenant's data.
    pub fn is_tenant_bound(self) -> bool {
        matches!(self, Role::EnterpriseUser | Role::DutyFreeOperator)
    }
}

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

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::new(Code::Internal, format!("password hashing failed: {e}")))
}

/// A fixed Argon2id hash of a random password, computed once: verifying against it costs what
/// verifying a real user's password costs.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hash_password(&password).unwrap_or_default()
    })
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A new opaque token: 32 random bytes, hex. Only its SHA-256 is stored.
pub fn new_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::new(Code::Internal, format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
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
        let token_sha256 = freeport_store::sha256_hex(token.as_bytes());
        let user = state
            .store
            .user_by_token(&token_sha256, state.now_ms())
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
