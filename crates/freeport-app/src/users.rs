//! Users: the roles a user acts in, a user created by an administrator, and the passwords they log
//! in with (Argon2id; only the hash is stored).

use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher};
use freeport_core::identity::CreditCode;
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{IdempotencyRecord, User};

use crate::{Actor, AppError, AppResult, Platform};

/// What a user may do follows from the role; each edge decides which roles a use case admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Acts for one enterprise, and sees only that enterprise.
    EnterpriseUser,
    /// Acts for one duty-free operator's shops.
    DutyFreeOperator,
    CustomsOfficer,
    RiskAnalyst,
    Administrator,
    /// An airline, railway or shipping line recording its passengers' departures (R4.3), for one
    /// enterprise (the carrier).
    Carrier,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::EnterpriseUser,
        Role::DutyFreeOperator,
        Role::Carrier,
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
            Role::Carrier => "carrier",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles bound to one tenant (an enterprise or an operator) see only that tenant's data.
    pub fn is_tenant_bound(self) -> bool {
        matches!(
            self,
            Role::EnterpriseUser | Role::DutyFreeOperator | Role::Carrier
        )
    }
}

/// A user as an administrator asks for one, not yet checked: what makes a user valid (a known
/// role, an enterprise exactly for the roles bound to one, and a registered one) is the
/// platform's rule, the same from every edge.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: String,
    pub enterprise: Option<String>,
}

fn out_of_range(field: &str, message: &str) -> AppError {
    FieldError::new(field, FieldErrorKind::OutOfRange, message).into()
}

/// The enterprise a user of `role` acts for: required, and registered, exactly for the roles
/// bound to one.
async fn enterprise_of(
    platform: &Platform,
    role: Role,
    enterprise: Option<String>,
) -> AppResult<Option<String>> {
    match (role.is_tenant_bound(), enterprise) {
        (true, Some(e)) => {
            let code = CreditCode::parse(&e).map_err(|err| FieldError {
                field: "enterprise".to_owned(),
                ..err
            })?;
            if platform.store.enterprise(code.as_str()).await?.is_none() {
                return Err(FieldError::new(
                    "enterprise",
                    FieldErrorKind::Unknown,
                    "not in the registry",
                )
                .into());
            }
            Ok(Some(code.as_str().to_owned()))
        }
        (true, None) => Err(FieldError::new(
            "enterprise",
            FieldErrorKind::Missing,
            "this role acts for one enterprise",
        )
        .into()),
        (false, Some(_)) => Err(FieldError::new(
            "enterprise",
            FieldErrorKind::Inconsistent,
            "this role is not bound to an enterprise",
        )
        .into()),
        (false, None) => Ok(None),
    }
}

/// Creates a user with its password hashed (administrators).
pub async fn create(
    platform: &Platform,
    actor: &Actor,
    new: NewUser,
    answer: impl FnOnce(&User) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<User> {
    actor.require(crate::Permission::CreateUsers)?;
    if new.username.trim().is_empty() || new.username.chars().count() > 100 {
        return Err(out_of_range("username", "1 to 100 characters"));
    }
    if new.password.chars().count() < 12 {
        return Err(out_of_range("password", "at least 12 characters"));
    }
    let role = Role::parse(&new.role)
        .ok_or_else(|| FieldError::new("role", FieldErrorKind::Unknown, "not a role"))?;
    let enterprise = enterprise_of(platform, role, new.enterprise).await?;
    let user = User {
        id: uuid::Uuid::now_v7().to_string(),
        username: new.username.trim().to_owned(),
        role: role.as_str().to_owned(),
        enterprise,
    };
    let hash = hash_password(&new.password)?;
    let idempotency = answer(&user)?;
    platform
        .store
        .create_user(
            &user,
            &hash,
            &actor.user_id,
            platform.now_ms(),
            idempotency.as_ref(),
        )
        .await?;
    Ok(user)
}

/// What [`first_administrator`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstAdministrator {
    Created,
    /// The store already had a user (or another node created the administrator first).
    AlreadyThere,
}

/// On a store with no user yet: the administrator `admin` with `password`, recorded as done by
/// `by`. Several nodes may start at once on a new database: whichever creates it first wins, and
/// the others find it standing.
pub async fn first_administrator(
    store: &freeport_store::Store,
    password: &str,
    by: &str,
    now_ms: i64,
) -> AppResult<FirstAdministrator> {
    if store.user_count().await? > 0 {
        return Ok(FirstAdministrator::AlreadyThere);
    }
    let user = User {
        id: "admin".to_owned(),
        username: "admin".to_owned(),
        role: Role::Administrator.as_str().to_owned(),
        enterprise: None,
    };
    match store
        .create_user(&user, &hash_password(password)?, by, now_ms, None)
        .await
    {
        Ok(()) => Ok(FirstAdministrator::Created),
        Err(_) if store.user_by_name("admin").await?.is_some() => {
            Ok(FirstAdministrator::AlreadyThere)
        }
        Err(e) => Err(e.into()),
    }
}

/// The Argon2id hash of `password`, as stored.
pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
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

/// Whether `password` is the one `hash` was made from; a hash that does not parse matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}
