//! Users and their bearer tokens (kept by hash).

use serde::Serialize;

use crate::records::IdempotencyRecord;
use crate::steps::{Columns, statement};
use crate::{Result, Store, StoreError, append_audit, row_i64, row_opt_string, row_string};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: String,
    pub enterprise: Option<String>,
}

fn user_from(row: &(impl Columns + ?Sized)) -> Result<User> {
    Ok(User {
        id: row_string(row, "id")?,
        username: row_string(row, "username")?,
        role: row_string(row, "role")?,
        enterprise: row_opt_string(row, "enterprise")?,
    })
}

impl Store {
    // ----- users and tokens --------------------------------------------------------------------

    pub async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        actor: &str,
        now_ms: i64,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let mut tx = self.begin_write(idempotency, now_ms).await?;
        let inserted = sqlx::query("INSERT INTO users (id, username, password_hash, role, enterprise, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING")
            .bind(&user.id)
            .bind(&user.username)
            .bind(password_hash)
            .bind(&user.role)
            .bind(user.enterprise.as_deref())
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "user {} exists",
                user.username
            )));
        }
        let payload = serde_json::to_string(user).unwrap_or_default();
        append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            actor,
            "user.create",
            &user.id,
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?;
        row_i64(&row, "n")
    }

    /// The user and its password hash, by name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT id, username, role, enterprise, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_from(&r)?, row_string(&r, "password_hash")?)))
            .transpose()
    }

    pub async fn put_token(
        &self,
        token_sha256: &str,
        user_id: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        let _gate = self.write_guard().await;
        sqlx::query("INSERT INTO api_tokens (token_sha256, user_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)")
            .bind(token_sha256)
            .bind(user_id)
            .bind(now_ms)
            .bind(expires_at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user a live, unrevoked token belongs to.
    pub async fn user_by_token(&self, token_sha256: &str, now_ms: i64) -> Result<Option<User>> {
        let s = statement!(
            "SELECT u.id, u.username, u.role, u.enterprise FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1 AND t.revoked = 0 AND t.expires_at_ms > $2",
            token_sha256,
            now_ms
        );
        self.fetch_optional(&s, |r| user_from(r)).await
    }

    pub async fn revoke_token(&self, token_sha256: &str) -> Result<()> {
        let _gate = self.write_guard().await;
        sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
