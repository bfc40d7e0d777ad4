//! Sessions and users: log-in (throttled), log-out, who am I, and creating users.

use super::*;

pub(super) const TOKEN_TTL_MS: i64 = 12 * 3600 * 1000;

/// Log in: create a session.
///
/// Logging in creates a session; it is the one POST without an Idempotency-Key (a retry simply
/// makes another session).
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    tag = "sessions",
    request_body = LoginRequest,
    responses((status = 201, description = "a session; the token is also set as an HttpOnly cookie", body = SessionCreated), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
)]
pub(super) async fn login(
    State(state): State<AppState>,
    PeerAddress(peer): PeerAddress,
    body: Bytes,
) -> Response {
    let result: ApiResult<Response> = async {
        let login: LoginRequest = parse_body(&body)?;
        let throttle = &state.login_throttle;
        throttle
            .check(&login.username, peer, state.now_ms())
            .map_err(too_many_attempts)?;
        let found = state.store.user_by_name(&login.username).await?;
        // One answer, and the same work, for an unknown user and a wrong password: an unknown
        // user is checked against a fixed hash, so neither the reply nor its timing tells which
        // usernames exist.
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, crate::auth::dummy_hash().to_owned()),
        };
        let password = login.password.clone();
        let verified = throttle
            .hash(move || verify_password(&password, &hash))
            .await
            .map_err(too_many_attempts)?;
        let Some(user) = user.filter(|_| verified) else {
            throttle.failed(&login.username, peer, state.now_ms());
            return Err(ApiError::new(
                Code::Unauthenticated,
                "unknown user or wrong password",
            ));
        };
        throttle.succeeded(&login.username);
        let token = new_token()?;
        let now = state.now_ms();
        state
            .store
            .put_token(
                &freeport_store::sha256_hex(token.as_bytes()),
                &user.id,
                now,
                now + TOKEN_TTL_MS,
            )
            .await?;
        let cookie = format!(
            "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
            TOKEN_TTL_MS / 1000
        );
        let mut response = (
            StatusCode::CREATED,
            Json(SessionCreated {
                token,
                expires_at_ms: now + TOKEN_TTL_MS,
                user: user_view(user),
            }),
        )
            .into_response();
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
        Ok(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `429 too_many_requests` with `Retry-After`.
pub(super) fn too_many_attempts(retry: crate::throttle::RetryAfter) -> ApiError {
    ApiError::new(
        Code::TooManyRequests,
        format!(
            "too many failed log-ins for this account or from this address; retry in {} s",
            retry.0
        ),
    )
    .with_retry_after(retry.0)
}

/// Log out: revoke the session's token at once.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions",
    tag = "sessions",
    responses((status = 204, description = "the token is revoked"), (status = 401, description = "not authenticated", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.revoke_token(&caller.token_sha256).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The calling user.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "sessions",
    responses((status = 200, body = UserEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn me(caller: Caller) -> Json<UserEnvelope> {
    Json(UserEnvelope {
        user: user_view(caller.user),
    })
}

pub(super) fn user_view(u: User) -> UserView {
    UserView {
        id: u.id,
        username: u.username,
        role: u.role,
        enterprise: u.enterprise,
    }
}

pub(super) fn enterprise_view(e: Enterprise) -> EnterpriseView {
    EnterpriseView {
        credit_code: e.credit_code,
        name: e.name,
        beneficiary: e.beneficiary,
        encouraged_industry_filed: e.encouraged_industry_filed,
        encouraged_revenue_share: e.encouraged_revenue_share,
        credit_class: e.credit_class,
    }
}

/// A view as the JSON value that idempotent handlers store and answer.
pub(super) fn to_json<T: serde::Serialize>(view: &T) -> ApiResult<Value> {
    serde_json::to_value(view).map_err(|e| ApiError::new(Code::Internal, e.to_string()))
}

/// Create a user (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUserRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = UserEnvelope), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let c = &caller;
    let payload = &body;
    idempotent(
        &state,
        &caller,
        &[Role::Administrator],
        &headers,
        "POST /api/v1/users",
        &body,
        async move |idem| {
            let b: NewUserRequest = parse_body(payload)?;
            if b.username.trim().is_empty() || b.username.chars().count() > 100 {
                return Err(FieldError::new(
                    "username",
                    FieldErrorKind::OutOfRange,
                    "1 to 100 characters",
                )
                .into());
            }
            if b.password.chars().count() < 12 {
                return Err(FieldError::new(
                    "password",
                    FieldErrorKind::OutOfRange,
                    "at least 12 characters",
                )
                .into());
            }
            let role = Role::parse(&b.role)
                .ok_or_else(|| FieldError::new("role", FieldErrorKind::Unknown, "not a role"))?;
            let enterprise = match (role.is_tenant_bound(), b.enterprise) {
                (true, Some(e)) => {
                    let code = credit_code("enterprise", &e)?;
                    if st.store.enterprise(code.as_str()).await?.is_none() {
                        return Err(FieldError::new(
                            "enterprise",
                            FieldErrorKind::Unknown,
                            "not in the registry",
                        )
                        .into());
                    }
                    Some(code.as_str().to_owned())
                }
                (true, None) => {
                    return Err(FieldError::new(
                        "enterprise",
                        FieldErrorKind::Missing,
                        "this role acts for one enterprise",
                    )
                    .into());
                }
                (false, Some(_)) => {
                    return Err(FieldError::new(
                        "enterprise",
                        FieldErrorKind::Inconsistent,
                        "this role is not bound to an enterprise",
                    )
                    .into());
                }
                (false, None) => None,
            };
            let user = User {
                id: uuid::Uuid::now_v7().to_string(),
                username: b.username.trim().to_owned(),
                role: role.as_str().to_owned(),
                enterprise,
            };
            let hash = hash_password(&b.password)?;
            let response = to_json(&UserEnvelope {
                user: user_view(user.clone()),
            })?;
            let record = idem.record(StatusCode::CREATED, &response);
            st.store
                .create_user(&user, &hash, &c.user.id, st.now_ms(), Some(&record))
                .await?;
            Ok((StatusCode::CREATED, response))
        },
    )
    .await
}
