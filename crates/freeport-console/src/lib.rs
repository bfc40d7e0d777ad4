//! The monitoring centre's web console (issue 13): server-rendered pages for officers, analysts,
//! enterprises, operators and carriers, served by `freeport serve` beside the API.
//!
//! Pages call `freeport_app` directly, never the store and never the JSON API over HTTP. A user
//! signs in with the platform's account; the session is the API's own (one token, kept in an
//! `HttpOnly; SameSite=Strict` cookie), and every form carries a CSRF token: before sign-in a
//! random one doubled in a cookie, after it a keyed hash of the session token. Labels come in
//! Chinese and English (`i18n`); the browser's scripts are vendored into the binary (`assets`).

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use freeport_app::users::Role;
use freeport_app::{Actor, Platform};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

mod assets;
mod homes;
pub mod i18n;
mod pages;

use i18n::{LANG_COOKIE, Lang};

/// The session cookie: the API's, so a console session is an API session too.
pub const SESSION_COOKIE: &str = "freeport_session";
/// The double-submitted token of the sign-in form.
pub(crate) const LOGIN_CSRF: &str = "freeport_login_csrf";

/// What the console needs: the platform and the log-in throttle the API uses too.
#[derive(Clone)]
pub struct Console {
    pub platform: Platform,
    pub throttle: Arc<freeport_app::throttle::LoginThrottle>,
}

/// The console's routes: `/` (the sign-in page, or the role's home), `/login`, `/logout`,
/// `/lang/{code}`, the homes under `/console/`, and `/assets/`.
pub fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(pages::root))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::switch_language))
        .route("/console/{home}", get(pages::home))
        .route("/console/ports/mode", post(pages::set_port_mode))
        .route("/console/items", get(pages::item))
        .route(
            "/console/allowance",
            get(pages::allowance_page).post(pages::allowance),
        )
        .route("/assets/{*path}", get(assets::asset))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        ))
        .with_state(Arc::new(console))
}

/// Who is looking at a page: the signed-in user, their role and session token.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub(crate) actor: Actor,
    pub(crate) username: String,
    pub(crate) role: Role,
    pub(crate) token: String,
    pub(crate) token_sha256: String,
}

impl Viewer {
    /// The CSRF token of this session's forms: HMAC-SHA-256 of a fixed label under the session
    /// token, so it changes with every session and needs nothing stored.
    pub(crate) fn csrf(&self) -> String {
        csrf_of(&self.token)
    }
}

fn csrf_of(token: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(token.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"freeport console csrf");
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal, in time that does not depend on where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie of the request.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .find_map(|c| c.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
}

/// The language of the request: its cookie, else Chinese.
pub(crate) fn lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or(Lang::Zh)
}

/// The signed-in viewer, if the session cookie names a live session.
pub(crate) async fn viewer(console: &Console, headers: &HeaderMap) -> Option<Viewer> {
    let token = cookie(headers, SESSION_COOKIE)?.to_owned();
    let found = freeport_app::sessions::authenticate(&console.platform, &token)
        .await
        .ok()??;
    let role = Role::parse(&found.user.role)?;
    Some(Viewer {
        actor: Actor {
            user_id: found.user.id.clone(),
            role,
            enterprise: found.user.enterprise.clone(),
        },
        username: found.user.username,
        role,
        token,
        token_sha256: found.token_sha256,
    })
}

/// A `Set-Cookie` value: `HttpOnly; Secure; SameSite=Strict`, for `max_age` seconds (0 clears).
pub(crate) fn set_cookie(name: &str, value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The role's own home: where a user lands after signing in.
pub(crate) fn home_of(role: Role) -> &'static str {
    match role {
        Role::CustomsOfficer | Role::RiskAnalyst | Role::Administrator => "monitoring",
        Role::EnterpriseUser => "enterprise",
        Role::DutyFreeOperator => "shops",
        Role::Carrier => "departures",
    }
}

/// A redirect with a cookie or two.
pub(crate) fn redirect_with(to: &str, cookies: &[HeaderValue]) -> Response {
    let mut response = Redirect::to(to).into_response();
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    response
}

/// The address a request came from, when the server knows it (the log-in throttle counts by it).
pub(crate) struct Peer(pub(crate) IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
        ))
    }
}
