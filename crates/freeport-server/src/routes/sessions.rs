//! Sessions and users: log-in (throttled), log-out, who am I, and creating users.

use freeport_app::sessions::{LoginError, SESSION_TTL_MS};
use freeport_app::users::NewUser;

use super::*;

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
        let opened =
            freeport_app::sessions::login(&state, &login.username, &login.password, &**throttle)
                .await;
        let session = match opened {
            Ok(session) => session,
            Err(LoginError::Refused) => {
                throttle.failed(&login.username, peer, state.now_ms());
                return Err(ApiError::new(
                    Code::Unauthenticated,
                    "unknown user or wrong password",
                ));
            }
            Err(LoginError::Busy(busy)) => {
                return Err(too_many_attempts(crate::throttle::RetryAfter(
                    busy.retry_after_s,
                )));
            }
            Err(LoginError::App(e)) => return Err(e.into()),
        };
        throttle.succeeded(&login.username);
        Ok(session_created(session))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `201` with the session, and its token as an HttpOnly cookie for the console.
fn session_created(session: freeport_app::sessions::Session) -> Response {
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
        session.token,
        SESSION_TTL_MS / 1000
    );
    let mut response = (
        StatusCode::CREATED,
        Json(SessionCreated {
            token: session.token,
            expires_at_ms: session.expires_at_ms,
            user: user_view(session.user),
        }),
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
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
    freeport_app::sessions::log_out(&state, &caller.token_sha256).await?;
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

/// The answer to a user created.
fn user_created(user: &User) -> ApiResult<Value> {
    to_json(&UserEnvelope {
        user: user_view(user.clone()),
    })
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
    let actor = caller.actor();
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::CreateUsers,
        &headers,
        "POST /api/v1/users",
        &body,
        async move |idem| {
            let b: NewUserRequest = parse_body(payload)?;
            let new = NewUser {
                username: b.username,
                password: b.password,
                role: b.role,
                enterprise: b.enterprise,
            };
            let user = freeport_app::users::create(st, &actor, new, |u| {
                kept(&idem, StatusCode::CREATED, user_created(u))
            })
            .await?;
            Ok((StatusCode::CREATED, user_created(&user)?))
        },
    )
    .await
}
