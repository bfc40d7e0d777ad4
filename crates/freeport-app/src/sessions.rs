//! Sessions: a log-in checked against the stored password hash and answered with an opaque token,
//! the token's user while it lives, and log-out. Only the token's SHA-256 is stored, so a copy of
//! the database opens no session.

use std::future::Future;

use freeport_store::User;

use crate::users::{dummy_hash, verify_password};
use crate::{AppError, AppResult, Platform};

/// How long a session lives.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// A session opened: the token the user presents (stored only as its hash), when it expires, and
/// the user.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at_ms: i64,
    pub user: User,
}

/// A caller known by a live token: the user, and the token's hash (what log-out revokes).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token_sha256: String,
}

/// No password check may start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no password check may start now; retry in {retry_after_s} s")]
pub struct Busy {
    pub retry_after_s: u64,
}

/// Where a log-in's password check runs. Hashing is deliberately slow, so the edge bounds how
/// many checks run at once, off its async workers, and a guessing flood cannot take every core
/// from other requests.
pub trait HashingBound {
    fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, Busy>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// One refusal for an unknown user and a wrong password, so that it tells nobody which
    /// usernames exist.
    #[error("unknown user or wrong password")]
    Refused,
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    App(#[from] AppError),
}

/// Opens a session for `username` if `password` is theirs; the check runs within `hashing`.
pub async fn login(
    platform: &Platform,
    username: &str,
    password: &str,
    hashing: &impl HashingBound,
) -> Result<Session, LoginError> {
    let found = platform
        .store
        .user_by_name(username)
        .await
        .map_err(AppError::from)?;
    // One answer, and the same work, for an unknown user and a wrong password: an unknown
    // user is checked against a fixed hash, so neither the reply nor its timing tells which
    // usernames exist.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let password = password.to_owned();
    let verified = hashing
        .run(move || verify_password(&password, &hash))
        .await?;
    let user = user.filter(|_| verified).ok_or(LoginError::Refused)?;
    let token = new_token()?;
    let now = platform.now_ms();
    let expires_at_ms = now + SESSION_TTL_MS;
    platform
        .store
        .put_token(&token_sha256(&token), &user.id, now, expires_at_ms)
        .await
        .map_err(AppError::from)?;
    Ok(Session {
        token,
        expires_at_ms,
        user,
    })
}

/// The user `token` was issued to, while it is neither expired nor revoked.
pub async fn authenticate(platform: &Platform, token: &str) -> AppResult<Option<Authenticated>> {
    let token_sha256 = token_sha256(token);
    let user = platform
        .store
        .user_by_token(&token_sha256, platform.now_ms())
        .await?;
    Ok(user.map(|user| Authenticated { user, token_sha256 }))
}

/// Revokes a session's token at once, rather than letting it live out its time.
pub async fn log_out(platform: &Platform, token_sha256: &str) -> AppResult<()> {
    platform.store.revoke_token(token_sha256).await?;
    Ok(())
}

/// A new opaque secret, 32 random bytes in hex: a session token or a webhook's signing secret,
/// which nobody may guess.
pub fn new_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn token_sha256(token: &str) -> String {
    freeport_store::sha256_hex(token.as_bytes())
}
