//! The HTTP API driven over a real loopback socket, against SQLite and — when
//! `FREEPORT_TEST_POSTGRES_URL` is set, as in CI — PostgreSQL. No store is mocked.
//!
//! One test binary: this file is the shared harness (a fresh server per backend, log-in, the
//! requests every test sends); each module tests one resource.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use freeport_server::AppState;
use freeport_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod account_books;
mod alerts;
mod batch_exit;
mod channels;
mod clock;
mod contract;
mod credit;
mod declarations;
mod duty_free;
mod events;
mod fail_closed;
mod hardening;
mod idempotency;
mod items;
mod lanes;
mod models;
mod residents;
mod rings;
mod rule_sets;
mod sales_feed;
mod second_line;
mod supervised_goods;
mod tenancy;
mod tills;
mod webhooks;

static COUNTER: AtomicU32 = AtomicU32::new(0);
const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";

struct App {
    backend: String,
    base: String,
    http: reqwest::Client,
    state: AppState,
}

fn pack() -> Arc<freeport_core::pack::PolicyPack> {
    static PACK: std::sync::OnceLock<Arc<freeport_core::pack::PolicyPack>> =
        std::sync::OnceLock::new();
    PACK.get_or_init(|| {
        Arc::new(
            freeport_policy_fs::load_pack(&freeport_policy_fs::bundled_pack_dir()).expect("pack"),
        )
    })
    .clone()
}

async fn start_on(
    backend: &str,
    store: Store,
    clock: Option<Arc<dyn freeport_server::clock::Clock>>,
) -> App {
    store.migrate().await.expect("migrate");
    freeport_app::users::first_administrator(&store, ADMIN_PASSWORD, "test", 1)
        .await
        .expect("admin");
    let mut state = AppState::new(store, pack());
    if let Some(clock) = clock {
        state = state.with_clock(clock);
    }
    let (addr, _handle) = freeport_server::spawn(state.clone()).await.expect("spawn");
    App {
        backend: backend.to_owned(),
        base: format!("http://{addr}"),
        http: {
            freeport_server::webhooks::install_tls_provider();
            reqwest::Client::new()
        },
        state,
    }
}

/// A fresh server per backend: SQLite always, PostgreSQL when configured.
async fn apps() -> Vec<App> {
    apps_on(None).await
}

/// The same, every server on `clock`.
async fn apps_on(clock: Option<Arc<dyn freeport_server::clock::Clock>>) -> Vec<App> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let postgres = std::env::var("FREEPORT_TEST_POSTGRES_URL").ok();
    let mut out = Vec::new();
    for (backend, admin) in [("sqlite", None), ("postgres", postgres.as_deref())] {
        if backend == "postgres" && admin.is_none() {
            continue;
        }
        let name = format!("freeport_api_{}_{n}", std::process::id());
        let url = freeport_store::fresh::fresh_database(admin, &name)
            .await
            .expect("a fresh database");
        let store = Store::connect(&url, if admin.is_some() { 8 } else { 4 }, b"k")
            .await
            .expect("connect");
        out.push(start_on(backend, store, clock.clone()).await);
    }
    out
}

async fn sqlx_exec(store: &Store, sql: &str) {
    store.raw_execute(sql).await.expect("sql");
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Submits a declaration with `key`.
    async fn submit(&self, token: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v1/declarations",
            Some(token),
            Some(key),
            Some(body),
        )
        .await
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: String,
    ) -> StatusCode {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.expect("request").status()
    }

    async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/sessions",
                None,
                None,
                Some(&json!({ "username": username, "password": password })),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}: login {username}: {body}",
            self.backend
        );
        body["token"].as_str().expect("token").to_owned()
    }

    async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Registers an enterprise and a user acting for it; returns the user's token.
    async fn enterprise(&self, admin: &str, code: &str, beneficiary: bool) -> String {
        let (s, b) = self.call(Method::PUT, &format!("/api/v1/enterprises/{code}"), Some(admin), Some(&format!("put-{code}")), Some(&json!({ "name": format!("Firm {code}"), "beneficiary": beneficiary, "encouraged_industry_filed": true }))).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        self.user(
            admin,
            &format!("user-{code}"),
            "enterprise_user",
            Some(code),
        )
        .await
    }

    /// The port records the departure a sale's body names (R4.3): its document leaving on its
    /// `departure_on`, at ten in the morning, by air from Haikou Meilan.
    async fn departs(&self, sale: &Value) {
        let doc = &sale["document"];
        let document = freeport_core::identity::PersonDocument::parse(
            doc["kind"].as_str().expect("kind"),
            doc["number"].as_str().expect("number"),
            doc["issuing_country"].as_str(),
        )
        .expect("a document");
        let day = freeport_core::calendar::parse_day(
            "departure_on",
            sale["departure_on"].as_str().expect("departure_on"),
        )
        .expect("a day");
        let port = freeport_app::Actor {
            user_id: "port-officer".into(),
            role: freeport_app::users::Role::CustomsOfficer,
            enterprise: None,
        };
        let report = freeport_app::departures::DepartureReport {
            document,
            kind: freeport_core::departure::DepartureKind::Flight,
            means: "HU7181".into(),
            port: "haikou-meilan".into(),
            departs_at_ms: freeport_app::clock::zone_day_start_ms(day) + 10 * 3_600_000,
            leaves_country: false,
        };
        freeport_app::departures::record(&self.state, &port, report, |_| Ok(None))
            .await
            .expect("a departure recorded");
    }

    async fn user(&self, admin: &str, name: &str, role: &str, enterprise: Option<&str>) -> String {
        let mut body =
            json!({ "username": name, "password": "a-long-enough-password", "role": role });
        if let Some(e) = enterprise {
            body["enterprise"] = json!(e);
        }
        let (s, b) = self
            .call(
                Method::POST,
                "/api/v1/users",
                Some(admin),
                Some(&format!("user-{name}")),
                Some(&body),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        self.login(name, "a-long-enough-password").await
    }

    async fn balances(&self, token: &str, code: &str) -> Vec<(String, String)> {
        let (s, b) = self
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{code}/account-book"),
                Some(token),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let mut out: Vec<(String, String)> = b["balances"]
            .as_array()
            .expect("balances")
            .iter()
            .map(|x| {
                (
                    x["hs_code"].as_str().unwrap_or("").to_owned(),
                    x["quantity"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        out.retain(|(_, q)| q != "0");
        // The book balances: the sum of its postings equals its balances.
        let postings = b["postings"].as_array().expect("postings");
        for (hs, q) in &out {
            let sum: rust_decimal::Decimal = postings
                .iter()
                .filter(|p| p["hs_code"] == hs.as_str())
                .map(|p| {
                    p["quantity"]
                        .as_str()
                        .unwrap_or("0")
                        .parse::<rust_decimal::Decimal>()
                        .expect("decimal")
                })
                .sum();
            assert_eq!(
                sum,
                q.parse::<rust_decimal::Decimal>().expect("decimal"),
                "{}: postings of {hs} sum to the balance",
                self.backend
            );
        }
        out
    }
}

/// A rule set that alerts on every declaration of automatic data-processing machines.
const ALERTING_RULES: &str = r#"ruleset "test" version 2

rule "ADP-001"
  title "Computers for the alert queue"
  owner "risk.test"
  when hs in prefix("8471")
  then score 5, alert "computer entry"
end
"#;

const A: &str = "91460000MA5T00001F";
const B: &str = "91460000MA5T00004Q";
const C: &str = "91460000MA5T00002J";

fn line(hs: &str, origin: &str, kg: &str, value: &str, status: &str) -> Value {
    json!({ "hs_code": hs, "origin": origin, "quantities": [{ "value": kg, "unit": "kg" }], "value": value, "goods_status": status })
}

fn declaration(reference: &str, flow: &str, declarant: &str, lines: Vec<Value>) -> Value {
    json!({ "id": reference, "flow": flow, "declared_on": "2026-03-16", "declarant": declarant, "currency": "CNY", "lines": lines })
}

/// A duty-free sale of `n` pieces of one category, sold on 2026-03-02.
#[allow(clippy::too_many_arguments)]
fn sale(
    kind: &str,
    number: &str,
    country: Option<&str>,
    birth: &str,
    departure: &str,
    category: &str,
    price: &str,
    n: &str,
) -> Value {
    json!({
        "document": { "kind": kind, "number": number, "issuing_country": country },
        "birth_date": birth, "departure_on": departure, "sold_on": "2026-03-02",
        "items": [{ "category": category, "description": "item", "unit_price": price, "quantity": n }],
    })
}

fn bal(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Audit entries and outbox events: what a replay must not add to.
async fn footprint(app: &App) -> (i64, usize) {
    let audit = app.state.store.verify_audit().await.expect("audit").entries;
    let events = app
        .state
        .store
        .unpublished_events(0, 100_000)
        .await
        .expect("outbox")
        .len();
    (audit, events)
}

/// `n` inspected declarations alternating between `bad` (cheese, each inspection finding
/// undervaluation) and `good` (beef, compliant): history for the learned model.
async fn inspected_history(
    app: &App,
    (bad_token, bad): (&str, &str),
    (good_token, good): (&str, &str),
    officer: &str,
    n: usize,
) {
    for i in 0..n {
        let (token, code, hs, origin) = if i % 2 == 0 {
            (bad_token, bad, "04069000", "CN")
        } else {
            (good_token, good, "02023000", "AR")
        };
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(token),
                Some(&format!("hist-{i}")),
                Some(&declaration(
                    &format!("HIST-{i}"),
                    "first_line_import",
                    code,
                    vec![line(hs, origin, "100", "3000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let id = d["id"].as_str().expect("id").to_owned();
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/status"),
                Some(officer),
                Some(&format!("hist-s-{i}")),
                Some(&json!({ "to": "under_inspection", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let result = if i % 2 == 0 {
            json!({ "result": "violation", "findings": ["undervaluation"], "revenue_found": "150", "revision": 2 })
        } else {
            json!({ "result": "compliant", "revision": 2 })
        };
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/inspection-result"),
                Some(officer),
                Some(&format!("hist-r-{i}")),
                Some(&result),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
}
