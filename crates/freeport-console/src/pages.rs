//! The pages: sign-in and sign-out, the language switch, and each role's home. A handler reads
//! the viewer, calls `freeport_app`, and renders a template; a role sees only its own home.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use freeport_app::sessions::LoginError;
use freeport_app::users::Role;
use serde::Deserialize;

use crate::i18n::{LANG_COOKIE, Lang};
use crate::{
    Console, LOGIN_CSRF, Peer, SESSION_COOKIE, Viewer, cookie, home_of, lang, redirect_with, same,
    set_cookie, viewer,
};

/// What every page's frame shows: the language, and the signed-in user with the sign-out form's
/// CSRF token.
pub(crate) struct Frame {
    pub(crate) lang: Lang,
    pub(crate) user: Option<FrameUser>,
}

pub(crate) struct FrameUser {
    pub(crate) username: String,
    pub(crate) role_key: &'static str,
    pub(crate) csrf: String,
    /// The pages the role may open: (path, label key).
    pub(crate) links: Vec<(String, &'static str)>,
}

fn frame(lang: Lang, viewer: Option<&Viewer>) -> Frame {
    Frame {
        lang,
        user: viewer.map(|v| FrameUser {
            username: v.username.clone(),
            role_key: role_key(v.role),
            csrf: v.csrf(),
            links: links(v),
        }),
    }
}

/// The role's home and, for those who may read shops, the item trace.
fn links(v: &Viewer) -> Vec<(String, &'static str)> {
    let mut links = vec![(format!("/console/{}", home_of(v.role)), "home")];
    if v.actor.require(freeport_app::Permission::ReadShops).is_ok() {
        links.push(("/console/allowance".to_owned(), "allowance"));
        links.push(("/console/items".to_owned(), "trace"));
    }
    links
}

fn role_key(role: Role) -> &'static str {
    match role {
        Role::CustomsOfficer => "role_customs_officer",
        Role::RiskAnalyst => "role_risk_analyst",
        Role::Administrator => "role_administrator",
        Role::EnterpriseUser => "role_enterprise_user",
        Role::DutyFreeOperator => "role_duty_free_operator",
        Role::Carrier => "role_carrier",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    csrf: String,
    error: Option<&'static str>,
    username: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forbidden.html")]
struct Forbidden {
    frame: Frame,
}

/// `/`: the role's home for a signed-in user, else the sign-in page.
pub(crate) async fn root(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    match viewer(&console, &headers).await {
        Some(v) => Redirect::to(&format!("/console/{}", home_of(v.role))).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

/// The sign-in form, with a fresh token doubled in a cookie.
fn login_form(
    lang: Lang,
    status: StatusCode,
    error: Option<&'static str>,
    username: String,
) -> Response {
    let csrf = match freeport_app::sessions::new_token() {
        Ok(t) => t,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let page = LoginPage {
        frame: frame(lang, None),
        csrf: csrf.clone(),
        error,
        username,
    };
    let mut response = (status, page).into_response();
    response.headers_mut().append(
        axum::http::header::SET_COOKIE,
        set_cookie(LOGIN_CSRF, &csrf, 3600),
    );
    response
}

pub(crate) async fn login_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
) -> Response {
    if let Some(v) = viewer(&console, &headers).await {
        return Redirect::to(&format!("/console/{}", home_of(v.role))).into_response();
    }
    login_form(lang(&headers), StatusCode::OK, None, String::new())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

/// Signs in: the form's token must match its cookie; the log-in is the API's, throttled alike.
pub(crate) async fn login(
    State(console): State<Arc<Console>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang(&headers);
    if !cookie(&headers, LOGIN_CSRF).is_some_and(|c| same(c, &form.csrf)) {
        return forbidden(lang, None);
    }
    let now = console.platform.now_ms();
    let throttle = &console.throttle;
    if throttle.check(&form.username, peer, now).is_err() {
        return login_form(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            Some("busy"),
            form.username,
        );
    }
    match freeport_app::sessions::login(
        &console.platform,
        &form.username,
        &form.password,
        &**throttle,
    )
    .await
    {
        Ok(session) => {
            throttle.succeeded(&form.username);
            let ttl = freeport_app::sessions::SESSION_TTL_MS / 1000;
            redirect_with(
                &format!(
                    "/console/{}",
                    Role::parse(&session.user.role).map_or("", home_of)
                ),
                &[
                    set_cookie(SESSION_COOKIE, &session.token, ttl),
                    set_cookie(LOGIN_CSRF, "", 0),
                ],
            )
        }
        Err(LoginError::Refused) => {
            throttle.failed(&form.username, peer, now);
            login_form(
                lang,
                StatusCode::UNAUTHORIZED,
                Some("refused"),
                form.username,
            )
        }
        Err(LoginError::Busy(_)) => login_form(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            Some("busy"),
            form.username,
        ),
        Err(LoginError::App(e)) => {
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// Signs out: the session is revoked at once, not left to expire.
pub(crate) async fn logout(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let lang = lang(&headers);
    let Some(v) = viewer(&console, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if !same(&v.csrf(), &form.csrf) {
        return forbidden(lang, Some(&v));
    }
    if let Err(e) = freeport_app::sessions::log_out(&console.platform, &v.token_sha256).await {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    redirect_with("/login", &[set_cookie(SESSION_COOKIE, "", 0)])
}

/// Keeps the chosen language in a cookie and goes back home.
pub(crate) async fn switch_language(Path(code): Path<String>) -> Response {
    match Lang::parse(&code) {
        Some(l) => redirect_with("/", &[set_cookie(LANG_COOKIE, l.code(), 365 * 86_400)]),
        None => (StatusCode::NOT_FOUND, "no such language").into_response(),
    }
}

fn forbidden(lang: Lang, viewer: Option<&Viewer>) -> Response {
    (
        StatusCode::FORBIDDEN,
        Forbidden {
            frame: frame(lang, viewer),
        },
    )
        .into_response()
}

/// A role's home; another role's is refused.
pub(crate) async fn home(
    State(console): State<Arc<Console>>,
    Path(home): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let Some(v) = viewer(&console, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if home != home_of(v.role) {
        return forbidden(lang, Some(&v));
    }
    let page = match home.as_str() {
        "monitoring" => crate::homes::monitoring(&console, &v, frame(lang, Some(&v)), None).await,
        "enterprise" => crate::homes::enterprise(&console, &v, frame(lang, Some(&v))).await,
        "shops" => crate::homes::shops(&console, &v, frame(lang, Some(&v))).await,
        _ => crate::homes::departures(frame(lang, Some(&v))),
    };
    page.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "a console page failed");
        (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
    })
}

#[derive(Deserialize)]
pub(crate) struct ItemQuery {
    #[serde(default)]
    code: Option<String>,
}

/// The item trace by traceability number: customs and operators (their own shops' pieces).
pub(crate) async fn item(
    State(console): State<Arc<Console>>,
    axum::extract::Query(q): axum::extract::Query<ItemQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let Some(v) = viewer(&console, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if v.actor
        .require(freeport_app::Permission::ReadShops)
        .is_err()
    {
        return forbidden(lang, Some(&v));
    }
    crate::homes::item(&console, &v, frame(lang, Some(&v)), q.code)
        .await
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

/// The allowance form, empty.
pub(crate) async fn allowance_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
) -> Response {
    allowance_answer(&console, &headers, None).await
}

#[derive(Deserialize)]
pub(crate) struct AllowanceForm {
    csrf: String,
    kind: String,
    number: String,
    #[serde(default)]
    issuing_country: String,
    departure_on: String,
}

/// A traveller's allowance looked up by document: posted, so the number stays out of URLs and
/// logs, and kept as nothing at all.
pub(crate) async fn allowance(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<AllowanceForm>,
) -> Response {
    if !viewer(&console, &headers)
        .await
        .is_some_and(|v| same(&v.csrf(), &form.csrf))
    {
        return forbidden(lang(&headers), None);
    }
    let ask = crate::homes::AllowanceAsk {
        kind: form.kind,
        number: form.number,
        issuing_country: form.issuing_country,
        departure_on: form.departure_on,
    };
    allowance_answer(&console, &headers, Some(ask)).await
}

async fn allowance_answer(
    console: &Console,
    headers: &HeaderMap,
    ask: Option<crate::homes::AllowanceAsk>,
) -> Response {
    let lang = lang(headers);
    let Some(v) = viewer(console, headers).await else {
        return Redirect::to("/login").into_response();
    };
    if v.actor
        .require(freeport_app::Permission::ReadShops)
        .is_err()
    {
        return forbidden(lang, Some(&v));
    }
    crate::homes::allowance(console, &v, frame(lang, Some(&v)), ask)
        .await
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ModeForm {
    csrf: String,
    port: String,
    mode: String,
    #[serde(default)]
    reroute_to: String,
    reason: String,
}

/// An administrator changes a port's mode from the monitoring centre; the page shows it at once.
/// A refusal shows the page again with the reason, and the status the API would give.
pub(crate) async fn set_port_mode(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<ModeForm>,
) -> Response {
    use freeport_app::AppError;
    let lang = lang(&headers);
    let Some(v) = viewer(&console, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if !same(&v.csrf(), &form.csrf) {
        return forbidden(lang, Some(&v));
    }
    let request = freeport_app::second_line::ModeRequest {
        port: &form.port,
        channel: None,
        mode: &form.mode,
        reason: &form.reason,
        reroute_to: Some(form.reroute_to.clone()).filter(|r| !r.is_empty()),
    };
    let status =
        match freeport_app::second_line::set_mode(&console.platform, &v.actor, request, |_| {
            Ok(None)
        })
        .await
        {
            Ok(_) => return Redirect::to("/console/monitoring").into_response(),
            Err(AppError::Forbidden(_)) => return forbidden(lang, Some(&v)),
            Err(e @ AppError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
            Err(e @ (AppError::InvalidTransition(_) | AppError::Conflict(_))) => {
                (StatusCode::CONFLICT, e.to_string())
            }
            Err(e @ AppError::NotFound(_)) => (StatusCode::NOT_FOUND, e.to_string()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
    match crate::homes::monitoring(&console, &v, frame(lang, Some(&v)), Some(status.1)).await {
        Ok(page) => (status.0, page).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
