//! The console's sign-in, homes, language and CSRF, driven through its router on a real SQLite
//! store: a wrong password, a form without its token, each role landing on its own home and refused
//! another's, the language switch, sign-out revoking the session.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use freeport_app::users::{NewUser, Role};
use freeport_app::{Actor, Platform};
use tower::ServiceExt;

const PASSWORD: &str = "a-long-enough-password";

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn console() -> axum::Router {
    console_on().await.0
}

async fn console_on() -> (axum::Router, Platform) {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("freeport_console_{}_{n}", std::process::id());
    let url = freeport_store::fresh::fresh_database(None, &name)
        .await
        .expect("a fresh database");
    let store = freeport_store::Store::connect(&url, 4, b"k")
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let pack =
        freeport_policy_fs::load_pack(&freeport_policy_fs::bundled_pack_dir()).expect("pack");
    let platform = Platform::new(store, Arc::new(pack));
    let admin = Actor {
        user_id: "admin".into(),
        role: Role::Administrator,
        enterprise: None,
    };
    freeport_app::users::first_administrator(&platform.store, PASSWORD, "test", 1)
        .await
        .expect("the administrator");
    let officer = NewUser {
        username: "officer".into(),
        password: PASSWORD.into(),
        role: "customs_officer".into(),
        enterprise: None,
    };
    freeport_app::users::create(&platform, &admin, officer, |_| Ok(None))
        .await
        .expect("an officer");
    let router = freeport_console::router(freeport_console::Console {
        platform: platform.clone(),
        throttle: Arc::new(freeport_app::throttle::LoginThrottle::new(
            freeport_app::throttle::LoginPolicy::default(),
        )),
    });
    (router, platform)
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

async fn send(app: &axum::Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.expect("an answer");
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cookies = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .expect("a body");
    Answer {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("a request")
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .expect("a request")
}

/// The value a `Set-Cookie` gives `name`.
fn set(answer: &Answer, name: &str) -> Option<String> {
    answer.cookies.iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
    })
}

/// The hidden `csrf` field of a page's form.
fn csrf_field(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[at..].split('"').next().unwrap_or("").to_owned()
}

/// Signs in as `username`; the session cookie.
async fn sign_in(app: &axum::Router, username: &str) -> (Answer, String) {
    let page = send(app, get("/login", "")).await;
    let token = set(&page, "freeport_login_csrf").expect("the form's cookie");
    assert_eq!(csrf_field(&page.body), token, "the token is doubled");
    let answer = send(
        app,
        post(
            "/login",
            &format!("freeport_login_csrf={token}"),
            &format!("username={username}&password={PASSWORD}&csrf={token}"),
        ),
    )
    .await;
    let session = set(&answer, "freeport_session").unwrap_or_default();
    (answer, format!("freeport_session={session}"))
}

#[tokio::test]
async fn sign_in_lands_on_the_roles_home_and_refuses_what_is_not_its_own() {
    let app = console().await;
    // Not signed in: the sign-in page, in Chinese by default, every field labelled.
    let root = send(&app, get("/", "")).await;
    assert_eq!(root.location.as_deref(), Some("/login"));
    let page = send(&app, get("/login", "")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"zh-CN\">"), "{}", page.body);
    assert!(page.body.contains("<label for=\"username\">用户名</label>"));
    assert!(page.body.contains("<label for=\"password\">密码</label>"));

    // A wrong password: refused, the same form again, nothing set.
    let token = set(&page, "freeport_login_csrf").expect("cookie");
    let wrong = send(
        &app,
        post(
            "/login",
            &format!("freeport_login_csrf={token}"),
            &format!("username=officer&password=wrong-password-1&csrf={token}"),
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码错误"), "{}", wrong.body);
    assert_eq!(set(&wrong, "freeport_session"), None);
    // A form whose token is not its cookie's: refused before the password is looked at.
    let forged = send(
        &app,
        post(
            "/login",
            "freeport_login_csrf=aaaa",
            &format!("username=officer&password={PASSWORD}&csrf=bbbb"),
        ),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // An officer lands on the monitoring centre; the administrator too.
    let (signed, officer) = sign_in(&app, "officer").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert_eq!(signed.location.as_deref(), Some("/console/monitoring"));
    assert!(
        signed
            .cookies
            .iter()
            .any(|c| c.starts_with("freeport_session=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Strict")),
        "{:?}",
        signed.cookies
    );
    let home = send(&app, get("/console/monitoring", &officer)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("待处置预警"), "{}", home.body);
    assert!(
        home.body.contains("海口") || home.body.contains("洋浦"),
        "the ports by name: {}",
        home.body
    );
    assert_eq!(
        send(&app, get("/", &officer)).await.location.as_deref(),
        Some("/console/monitoring")
    );
    // Another role's home is refused.
    let other = send(&app, get("/console/shops", &officer)).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);

    // The language switch: a cookie, then every label in English.
    let switched = send(&app, get("/lang/en", &officer)).await;
    let lang = set(&switched, "freeport_lang").expect("the language cookie");
    assert_eq!(lang, "en");
    let english = send(
        &app,
        get(
            "/console/monitoring",
            &format!("{officer}; freeport_lang=en"),
        ),
    )
    .await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(english.body.contains("Open alerts (0)"), "{}", english.body);
    assert!(english.body.contains(">中文</a>"), "the switch back");

    // Sign-out needs the session's own token, and revokes the session.
    let forged = send(&app, post("/logout", &officer, "csrf=0000")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let csrf = csrf_field(&home.body);
    let out = send(&app, post("/logout", &officer, &format!("csrf={csrf}"))).await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    let after = send(&app, get("/console/monitoring", &officer)).await;
    assert_eq!(
        after.location.as_deref(),
        Some("/login"),
        "the session is gone"
    );

    let (signed, _) = sign_in(&app, "admin").await;
    assert_eq!(signed.location.as_deref(), Some("/console/monitoring"));
}

#[tokio::test]
async fn the_vendored_scripts_are_served_from_the_binary() {
    let app = console().await;
    let htmx = send(&app, get("/assets/vendor/htmx-2.0.11/htmx.min.js", "")).await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.contains("htmx"), "the library itself");
    let css = send(&app, get("/assets/console.css", "")).await;
    assert!(css.body.contains(":focus-visible"));
    assert_eq!(
        send(&app, get("/assets/nothing.js", "")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_administrator_changes_a_ports_mode_from_the_page_and_an_officer_cannot() {
    let app = console().await;
    let (_, officer) = sign_in(&app, "officer").await;
    let page = send(&app, get("/console/monitoring", &officer)).await;
    assert!(
        !page.body.contains("/console/ports/mode"),
        "no form for a role without the right"
    );
    let csrf = csrf_field(&page.body);
    let refused = send(
        &app,
        post(
            "/console/ports/mode",
            &officer,
            &format!("csrf={csrf}&port=xinhai&mode=scanners_down&reroute_to=&reason=test"),
        ),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "refused on a direct request"
    );

    let (_, admin) = sign_in(&app, "admin").await;
    let admin_en = format!("{admin}; freeport_lang=en");
    let page = send(&app, get("/console/monitoring", &admin_en)).await;
    assert!(
        page.body.contains("action=\"/console/ports/mode\""),
        "{}",
        page.body
    );
    let csrf = csrf_field(&page.body);
    let forged = send(
        &app,
        post(
            "/console/ports/mode",
            &admin_en,
            "csrf=00&port=xinhai&mode=scanners_down&reroute_to=&reason=x",
        ),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let changed = send(
        &app,
        post(
            "/console/ports/mode",
            &admin_en,
            &format!(
                "csrf={csrf}&port=xinhai&mode=scanners_down&reroute_to=&reason=H986+maintenance"
            ),
        ),
    )
    .await;
    assert_eq!(
        changed.location.as_deref(),
        Some("/console/monitoring"),
        "{}",
        changed.body
    );
    let page = send(&app, get("/console/monitoring", &admin_en)).await;
    assert!(
        page.body.contains("<td>Haikou Xinhai Port</td><td>H986 scanners out of service: red lane to manual inspection</td>"),
        "{}",
        page.body
    );
    // A second mode on a port in one is refused with the reason, and the page says it.
    let again = send(
        &app,
        post(
            "/console/ports/mode",
            &admin_en,
            &format!("csrf={csrf}&port=xinhai&mode=system_down&reroute_to=&reason=again"),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body.contains("return it to normal first"),
        "{}",
        again.body
    );
}

/// A committed sale of one lipstick with traceability number `code`, at shop SHOP-1 of operator
/// `OPERATOR`, to a passport holder leaving on 2026-03-05 from Haikou Meilan.
async fn sold_piece(platform: &Platform, code: &str) {
    use freeport_core::identity::{CreditCode, PersonDocument};
    const OPERATOR: &str = "91460000MA5T00001F";
    let admin = Actor {
        user_id: "admin".into(),
        role: Role::Administrator,
        enterprise: None,
    };
    let r = freeport_core::registry::Registration {
        code: CreditCode::parse(OPERATOR).expect("code"),
        name: "Operator".into(),
        beneficiary: false,
        encouraged_industry_filed: false,
        encouraged_revenue_share: None,
        credit_class: freeport_core::credit::CreditClass::General,
    };
    freeport_app::registry::register(platform, &admin, r, |_| Ok(None))
        .await
        .expect("registered");
    let shop = freeport_app::duty_free::ShopRegistration {
        id: "SHOP-1".into(),
        operator: CreditCode::parse(OPERATOR).expect("code"),
        name: "Sanya shop".into(),
        location: "Sanya".into(),
        resident_zero_tariff: false,
    };
    freeport_app::duty_free::register_shop(platform, &admin, shop, |_| Ok(None))
        .await
        .expect("shop");
    let day = time::macros::date!(2026 - 03 - 05);
    let document = PersonDocument::parse("passport", "E12345678", Some("GB")).expect("passport");
    let officer = Actor {
        user_id: "officer".into(),
        role: Role::CustomsOfficer,
        enterprise: None,
    };
    let report = freeport_app::departures::DepartureReport {
        document: document.clone(),
        kind: freeport_core::departure::DepartureKind::Flight,
        means: "HU7181".into(),
        port: "haikou-meilan".into(),
        departs_at_ms: freeport_app::clock::zone_day_start_ms(day) + 36_000_000,
        leaves_country: false,
    };
    freeport_app::departures::record(platform, &officer, report, |_| Ok(None))
        .await
        .expect("a departure");
    let order = freeport_core::duty_free::SaleOrder {
        scheme: freeport_core::quota_ledger::Scheme::Offshore,
        document,
        birth_date: time::macros::date!(1990 - 05 - 01),
        departure_on: Some(day),
        sold_on: time::macros::date!(2026 - 03 - 02),
        lines: vec![freeport_core::duty_free::SaleLine {
            category: "cosmetics".into(),
            unit_price: freeport_core::money::Cny::from_fen(30_000),
            quantity: 1.into(),
            limit_quantity: 1.into(),
            pickup: freeport_core::duty_free::PickupMode::Departure,
            trace_codes: vec![code.to_owned()],
        }],
        descriptions: vec!["lipstick".into()],
        links: Vec::new(),
    };
    let op = Actor {
        user_id: "op".into(),
        role: Role::DutyFreeOperator,
        enterprise: Some(OPERATOR.into()),
    };
    let shop = freeport_app::duty_free::visible_shop(platform, &op, "SHOP-1")
        .await
        .expect("the shop");
    let sold = freeport_app::duty_free::sell(
        platform,
        &op,
        &shop,
        (order, freeport_app::duty_free::Taking::Sell),
        |_| Ok(None),
    )
    .await
    .expect("sold");
    assert_eq!(
        sold.sale.state,
        freeport_core::quota_ledger::SaleState::Committed
    );
}

#[tokio::test]
async fn an_officer_traces_a_piece_by_its_number() {
    let (app, platform) = console_on().await;
    let code = "9000000000000123";
    sold_piece(&platform, code).await;
    let (_, officer) = sign_in(&app, "officer").await;
    let home = send(&app, get("/console/monitoring", &officer)).await;
    assert!(
        home.body.contains("href=\"/console/items\""),
        "the trace is linked"
    );
    let page = send(&app, get(&format!("/console/items?code={code}"), &officer)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("已售出"), "{}", page.body);
    assert!(page.body.contains("SHOP-1"));
    assert!(
        page.body.contains("HU7181"),
        "the departure on record: {}",
        page.body
    );
    assert!(
        !page.body.contains("E12345678"),
        "the buyer by person code only"
    );
    let person = platform.store.person_code(
        &freeport_core::identity::PersonDocument::parse("passport", "E12345678", Some("GB"))
            .expect("passport")
            .canonical_key(),
    );
    assert!(page.body.contains(&person), "{}", page.body);
    let none = send(&app, get("/console/items?code=9000000000000999", &officer)).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.body.contains("未找到该溯源码的商品"));

    // The traveller's allowance, posted so the number stays out of URLs: the sale's 300 spent.
    let form = send(&app, get("/console/allowance", &officer)).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_field(&form.body);
    let ask = |csrf: &str, number: &str| {
        format!(
            "csrf={csrf}&kind=passport&number={number}&issuing_country=GB&departure_on=2026-03-05"
        )
    };
    let page = send(
        &app,
        post("/console/allowance", &officer, &ask(&csrf, "E12345678")),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("¥99,700.00"), "remaining: {}", page.body);
    assert!(page.body.contains("<td>cosmetics</td><td class=\"num\">30</td><td class=\"num\">1</td><td class=\"num\">29</td>"), "{}", page.body);
    assert!(page.body.contains("已有离岛记录"));
    assert!(
        !page.body.contains("E12345678"),
        "the number is not shown back"
    );
    let bad = send(
        &app,
        post(
            "/console/allowance",
            &officer,
            &ask(&csrf, "not-a-passport!"),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let forged = send(
        &app,
        post("/console/allowance", &officer, &ask("00", "E12345678")),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}
