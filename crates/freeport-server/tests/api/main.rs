//! The HTTP API driven over a real loopback socket, against SQLite and — when
//! `FREEPORT_TEST_POSTGRES_URL` is set, as in CI — PostgreSQL. No store is mocked.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use freeport_server::AppState;
use freeport_store::{Store, User};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod clock;
mod fail_closed;
mod hardening;

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
    let hash = freeport_server::auth::hash_password(ADMIN_PASSWORD).expect("hash");
    store
        .create_user(
            &User {
                id: "admin".into(),
                username: "admin".into(),
                role: "administrator".into(),
                enterprise: None,
            },
            &hash,
            "test",
            1,
            None,
        )
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

#[tokio::test]
async fn zero_tariff_goods_from_entry_to_the_mainland_with_the_books_balanced() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let b = app.enterprise(&admin, B, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;

        // 1. A imports 1000 kg of beef at zero tariff.
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("imp-1"),
                Some(&declaration(
                    "IMP-1",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", "1000", "356000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        assert_eq!(
            d["decision"]["lines"][0]["treatment"], "zero_tariff",
            "{be}"
        );
        assert_eq!(
            app.balances(&a, A).await,
            bal(&[("02023000", "1000")]),
            "{be}"
        );

        // The officer releases it through inspection.
        let id = d["id"].as_str().expect("id").to_owned();
        let (s, x) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/status"),
                Some(&officer),
                Some("st-1"),
                Some(&json!({ "to": "under_inspection", "revision": 1 })),
            )
            .await;
        assert_eq!(
            (s, x["status"].as_str()),
            (StatusCode::OK, Some("under_inspection")),
            "{be}: {x}"
        );
        let (s, x) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/inspection-result"),
                Some(&officer),
                Some("st-2"),
                Some(&json!({ "result": "compliant", "revision": 2 })),
            )
            .await;
        assert_eq!(
            (s, x["status"].as_str()),
            (StatusCode::OK, Some("released")),
            "{be}: {x}"
        );
        let (s, x) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/status"),
                Some(&officer),
                Some("st-3"),
                Some(&json!({ "to": "closed", "revision": 3 })),
            )
            .await;
        assert_eq!(
            (s, x["status"].as_str()),
            (StatusCode::OK, Some("closed")),
            "{be}: {x}"
        );

        // 2. A moves 600 kg to B, another beneficiary: free, out of A's book and into B's.
        let mut transfer = declaration(
            "TR-1",
            "island_transfer",
            A,
            vec![line("02023000", "AR", "600", "213600", "zero_tariff")],
        );
        transfer["counterparty"] = json!({ "kind": "enterprise", "credit_code": B });
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("tr-1"),
                Some(&transfer),
            )
            .await;
        assert_eq!(
            (s, d["decision"]["lines"][0]["treatment"].as_str()),
            (StatusCode::CREATED, Some("free_circulation")),
            "{be}: {d}"
        );
        assert_eq!(
            app.balances(&a, A).await,
            bal(&[("02023000", "400")]),
            "{be}"
        );
        assert_eq!(
            app.balances(&b, B).await,
            bal(&[("02023000", "600")]),
            "{be}"
        );

        // 3. B processes the 600 kg into 240 kg of jerky.
        let mut jerky = line("16025090", "CN", "240", "400000", "zero_tariff");
        jerky["imported_materials"] = json!([{ "hs_code": "02023000", "origin": "AR", "customs_value": "213600.00", "quantities": [{ "value": "600", "unit": "kg" }] }]);
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&b),
                Some("proc-1"),
                Some(&declaration("PROC-1", "processing", B, vec![jerky])),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        assert_eq!(
            app.balances(&b, B).await,
            bal(&[("16025090", "240")]),
            "{be}"
        );

        // 4. B sells 100 kg to the mainland with the value-added exemption: tariff exempt, VAT due.
        let mut exit = line("16025090", "CN", "100", "200000", "zero_tariff");
        exit["imported_materials"] = json!([{ "hs_code": "02023000", "origin": "AR", "customs_value": "89000.00", "quantities": [{ "value": "250", "unit": "kg" }] }]);
        exit["value_added"] = json!({ "sale_price": "200000.00" });
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&b),
                Some("exit-va"),
                Some(&declaration(
                    "EXIT-VA",
                    "second_line_exit",
                    B,
                    vec![exit.clone()],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        let l = &d["decision"]["lines"][0];
        assert_eq!(
            (
                l["treatment"].as_str(),
                l["taxes"]["tariff"].as_str(),
                l["exempted"]["tariff"].as_str()
            ),
            (
                Some("value_added_tariff_exempt"),
                Some("0.00"),
                Some("10680.00")
            ),
            "{be}: {l}"
        );
        assert_eq!(
            app.balances(&b, B).await,
            bal(&[("16025090", "140")]),
            "{be}"
        );

        // 5. And the other 140 kg without the claim: taxed on the imported beef.
        let mut exit = line("16025090", "CN", "140", "280000", "zero_tariff");
        exit["imported_materials"] = json!([{ "hs_code": "02023000", "origin": "AR", "customs_value": "124600.00", "quantities": [{ "value": "350", "unit": "kg" }] }]);
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&b),
                Some("exit-2"),
                Some(&declaration("EXIT-2", "second_line_exit", B, vec![exit])),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        assert_eq!(
            d["decision"]["lines"][0]["taxes"]["tariff"], "14952.00",
            "{be}: 124 600 × 12 %"
        );
        assert!(
            app.balances(&b, B).await.is_empty(),
            "{be}: B's book is empty"
        );

        // 6. A cannot send more beef to the mainland than its book holds: refused, nothing posted.
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("exit-3"),
                Some(&declaration(
                    "EXIT-3",
                    "second_line_exit",
                    A,
                    vec![line("02023000", "AR", "500", "178000", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(
            (s, d["status"].as_str()),
            (StatusCode::CREATED, Some("rejected")),
            "{be}: {d}"
        );
        assert_eq!(
            d["decision"]["reasons"][0]["code"], "account_book_insufficient",
            "{be}"
        );
        assert_eq!(
            app.balances(&a, A).await,
            bal(&[("02023000", "400")]),
            "{be}"
        );
        // The 400 it holds leave, with taxes.
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("exit-4"),
                Some(&declaration(
                    "EXIT-4",
                    "second_line_exit",
                    A,
                    vec![line("02023000", "AR", "400", "142400", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(
            (s, d["status"].as_str()),
            (StatusCode::CREATED, Some("decided")),
            "{be}: {d}"
        );
        assert!(app.balances(&a, A).await.is_empty(), "{be}");

        let (s, v) = app
            .call(
                Method::GET,
                "/api/v1/audit/verify",
                Some(&admin),
                None,
                None,
            )
            .await;
        assert_eq!(
            (s, v["intact"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{be}: {v}"
        );
    }
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_reuse_and_are_required() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let body = declaration(
            "K-1",
            "first_line_import",
            A,
            vec![line("84713000", "CN", "10", "5000", "duty_paid")],
        );
        let (s1, d1) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("k-1"),
                Some(&body),
            )
            .await;
        let (s2, d2) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("k-1"),
                Some(&body),
            )
            .await;
        assert_eq!(
            (s1, &d1),
            (s2, &d2),
            "{be}: the replay is the stored result"
        );
        let other = declaration(
            "K-2",
            "first_line_import",
            A,
            vec![line("84713000", "CN", "11", "5000", "duty_paid")],
        );
        let (s, e) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("k-1"),
                Some(&other),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("idempotency_key_reused")),
            "{be}"
        );
        let (s, e) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                None,
                Some(&body),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("idempotency_key_required")),
            "{be}"
        );
        let (_, list) = app
            .call(Method::GET, "/api/v1/declarations", Some(&a), None, None)
            .await;
        assert_eq!(
            list["items"].as_array().map(Vec::len),
            Some(1),
            "{be}: one declaration, however often retried"
        );
        // A refused request is remembered too: the retry gets the same refusal.
        let bad = declaration(
            "K-3",
            "first_line_import",
            A,
            vec![line("99999999", "CN", "1", "1", "duty_paid")],
        );
        let (s1, e1) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("k-bad"),
                Some(&bad),
            )
            .await;
        let (s2, e2) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("k-bad"),
                Some(&bad),
            )
            .await;
        assert_eq!((s1, &e1), (s2, &e2), "{be}");
        assert_eq!(s1, StatusCode::UNPROCESSABLE_ENTITY, "{be}");
    }
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

/// Every write the API documents, sent twice with one key: the second answer is the first, and
/// nothing is written again.
#[tokio::test]
async fn replaying_any_write_changes_nothing() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let b = app.enterprise(&admin, B, false).await;
        let operator = app
            .user(&admin, "operator", "duty_free_operator", Some(B))
            .await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let mut covered = Vec::new();
        let mut id = String::new();
        let rule_set = ALERTING_RULES;
        let sha = freeport_store::sha256_hex(rule_set.as_bytes());
        // Old enough for repair (12 months), young enough to count (24).
        let smuggled_on =
            (time::OffsetDateTime::now_utc().date() - time::Duration::days(400)).to_string();
        inspected_history(&app, (&a, A), (&b, B), &officer, 40).await;
        let decl = declaration(
            "R-1",
            "first_line_import",
            A,
            vec![line("84713000", "CN", "10", "5000", "duty_paid")],
        );
        let steps: Vec<(Method, &str, &str, Value)> = vec![
            (
                Method::POST,
                "/api/v1/users",
                "admin",
                json!({ "username": "replayed", "password": "a-long-enough-password", "role": "risk_analyst" }),
            ),
            (
                Method::PUT,
                "/api/v1/enterprises/{B}",
                "admin",
                json!({ "name": "B Co", "beneficiary": true }),
            ),
            (
                Method::PUT,
                "/api/v1/exchange-rates/USD/2026-02-25",
                "admin",
                json!({ "cny_per_unit": "7.1" }),
            ),
            (
                Method::PUT,
                "/api/v1/enterprises/{A}/webhook",
                "a",
                json!({ "url": "http://127.0.0.1:9/x" }),
            ),
            (Method::POST, "/api/v1/declarations", "a", decl.clone()),
            (
                Method::POST,
                "/api/v1/declarations/{id}/amend",
                "a",
                json!({ "revision": 1, "declaration": decl }),
            ),
            (
                Method::POST,
                "/api/v1/declarations/{id}/status",
                "officer",
                json!({ "to": "under_inspection", "revision": 2 }),
            ),
            (
                Method::POST,
                "/api/v1/declarations/{id}/inspection-result",
                "officer",
                json!({ "result": "violation", "findings": ["undervaluation"], "revenue_found": "812.50", "revision": 3 }),
            ),
            (
                Method::POST,
                "/api/v1/declarations/{id}/cancel",
                "a",
                json!({ "revision": 4 }),
            ),
            (
                Method::POST,
                "/api/v1/enterprises/{A}/account-book/adjustments",
                "officer",
                json!({ "kind": "stock_take", "items": [{ "hs_code": "84713000", "unit": "kg", "quantity": "5" }] }),
            ),
            (
                Method::DELETE,
                "/api/v1/enterprises/{A}/webhook",
                "a",
                Value::Null,
            ),
            (
                Method::PUT,
                "/api/v1/duty-free/shops/SHOP-R",
                "admin",
                json!({ "operator": B, "name": "Sanya shop", "location": "Sanya" }),
            ),
            (
                Method::POST,
                "/api/v1/duty-free/shops/SHOP-R/sales",
                "operator",
                sale(
                    "passport",
                    "E12345678",
                    Some("GB"),
                    "1990-05-01",
                    "2026-03-05",
                    "watches",
                    "1000",
                    "1",
                ),
            ),
            (
                Method::POST,
                "/api/v1/risk/rule-sets",
                "analyst",
                json!({ "source": rule_set }),
            ),
            (
                Method::POST,
                "/api/v1/risk/rule-sets/{sha}/backtest",
                "analyst",
                json!({ "from": "2026-01-01", "to": "2026-12-31", "revision": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/risk/rule-sets/{sha}/shadow",
                "analyst",
                json!({ "reason": "compare with the active set", "revision": 2 }),
            ),
            (
                Method::POST,
                "/api/v1/risk/rule-sets/{sha}/activate",
                "analyst",
                json!({ "reason": "back-test shows the load is bearable", "revision": 3 }),
            ),
            (
                Method::POST,
                "/api/v1/risk/models",
                "analyst",
                json!({ "from": "2026-03-01", "to": "2026-03-31" }),
            ),
            // A second entry of equipment, whose supervised item is then disposed of; the active
            // set's rule raises an alert on it.
            (
                Method::POST,
                "/api/v1/declarations",
                "a",
                declaration(
                    "R-2",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "4", "8000", "duty_paid")],
                ),
            ),
            (
                Method::POST,
                "/api/v1/enterprises/{A}/supervised-items/{item}/disposals",
                "a",
                json!({ "kind": "transfer", "on": "2026-09-01", "quantity": "1", "revision": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/alerts/{alert}/analysis",
                "analyst",
                json!({ "conclusion": "confirmed", "notes": "declared value far below peers", "revision": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/alerts/{alert}/disposal",
                "officer",
                json!({ "action": "penalise", "penalty": "2000", "notes": "undervaluation", "revision": 2 }),
            ),
            (
                Method::POST,
                "/api/v1/alerts/{alert}/evaluation",
                "analyst",
                json!({ "effective": true, "revenue_found": "1200", "revision": 3 }),
            ),
            (
                Method::POST,
                "/api/v1/risk/rule-sets/{sha}/retire",
                "analyst",
                json!({ "reason": "superseded", "revision": 4 }),
            ),
            (
                Method::POST,
                "/api/v1/enterprises/{A}/credit/records",
                "officer",
                json!({ "kind": "smuggling", "on": smuggled_on, "reference": "case-1" }),
            ),
            (
                Method::POST,
                "/api/v1/enterprises/{A}/credit/repair",
                "officer",
                json!({ "reason": "penalty paid, controls improved" }),
            ),
        ];
        for (n, (method, template, who, body)) in steps.into_iter().enumerate() {
            let token = match who {
                "admin" => &admin,
                "officer" => &officer,
                "operator" => &operator,
                "analyst" => &analyst,
                _ => &a,
            };
            let alert = match app.state.store.alerts(None, "", 1).await {
                Ok(alerts) => alerts.into_iter().map(|a| a.id).next().unwrap_or_default(),
                Err(e) => panic!("{be}: {e}"),
            };
            let item = match app.state.store.supervised_items(A, "", 100).await {
                Ok(items) => items
                    .into_iter()
                    .filter(|i| i.state.as_str() == "supervised")
                    .map(|i| i.id)
                    .next_back()
                    .unwrap_or_default(),
                Err(e) => panic!("{be}: {e}"),
            };
            let path = template
                .replace("{A}", A)
                .replace("{B}", B)
                .replace("{id}", &id)
                .replace("{item}", &item)
                .replace("{alert}", &alert)
                .replace("{sha}", &sha);
            let body = (!body.is_null()).then_some(body);
            let key = format!("replay-{n}");
            let (s1, r1) = app
                .call(
                    method.clone(),
                    &path,
                    Some(token),
                    Some(&key),
                    body.as_ref(),
                )
                .await;
            assert!(s1.is_success(), "{be}: {method} {path}: {s1} {r1}");
            let before = footprint(&app).await;
            let (s2, r2) = app
                .call(
                    method.clone(),
                    &path,
                    Some(token),
                    Some(&key),
                    body.as_ref(),
                )
                .await;
            assert_eq!((s1, &r1), (s2, &r2), "{be}: {method} {path} replays");
            assert_eq!(
                footprint(&app).await,
                before,
                "{be}: {method} {path} wrote again"
            );
            if template == "/api/v1/declarations" {
                id = r1["id"].as_str().expect("id").to_owned();
            }
            covered.push(format!(
                "{method} {}",
                template
                    .replace("{A}", "{code}")
                    .replace("{B}", "{code}")
                    .replace("{item}", "{id}")
                    .replace("{alert}", "{id}")
                    .replace("{sha}", "{sha256}")
                    .replace("SHOP-R", "{shop}")
                    .replace("USD/2026-02-25", "{currency}/{day}")
            ));
        }
        let (_, doc) = app
            .call(Method::GET, "/api/openapi.json", None, None, None)
            .await;
        let mut writes: Vec<String> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .expect("operations")
                    .iter()
                    .filter(|(_, op)| {
                        op["parameters"]
                            .as_array()
                            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"))
                    })
                    .map(move |(m, _)| format!("{} {path}", m.to_uppercase()))
            })
            .collect();
        writes.sort();
        covered.sort();
        covered.dedup();
        assert_eq!(covered, writes, "{be}: every write is replayed here");
    }
}

#[tokio::test]
async fn a_retry_after_a_crash_between_commit_and_response_gets_the_original_result() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let body = declaration(
            "CRASH-1",
            "first_line_import",
            A,
            vec![line("02023000", "AR", "100", "35600", "duty_paid")],
        );
        app.state.crash_after_commit.store(true, Ordering::SeqCst);
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("crash-1"),
                Some(&body),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{be}: the client saw a failure"
        );
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("crash-1"),
                Some(&body),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::CREATED,
            "{be}: the retry returns the committed result: {d}"
        );
        let (_, list) = app
            .call(Method::GET, "/api/v1/declarations", Some(&a), None, None)
            .await;
        assert_eq!(list["items"][0]["id"], d["id"], "{be}");
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{be}");
        assert_eq!(
            app.balances(&a, A).await,
            bal(&[("02023000", "100")]),
            "{be}: posted once"
        );
    }
}

#[tokio::test]
async fn bad_input_never_causes_a_5xx_and_never_changes_state() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let before = app.state.store.verify_audit().await.expect("audit").entries;
        let good = declaration(
            "BAD",
            "first_line_import",
            A,
            vec![line("84713000", "CN", "1", "100", "duty_paid")],
        );
        let mut bodies: Vec<String> = vec![
            String::new(),
            "{".into(),
            "null".into(),
            "[]".into(),
            "\u{0}\u{1}".into(),
            json!({ "unexpected": true }).to_string(),
            "x".repeat(2 * 1024 * 1024),
        ];
        for (field, value) in [
            ("hs_code", json!("12")),
            ("hs_code", json!(84713000)),
            ("origin", json!("ZZ")),
            ("value", json!("-1")),
            ("value", json!("1e400")),
            ("value", json!("99999999999999999999999999999")),
            ("quantities", json!([{ "value": "-5", "unit": "kg" }])),
            ("quantities", json!([{ "value": "5", "unit": "furlong" }])),
            ("quantities", json!([])),
            ("goods_status", json!("stolen")),
        ] {
            let mut b = good.clone();
            b["lines"][0][field] = value;
            bodies.push(b.to_string());
        }
        for (field, value) in [
            ("declarant", json!("91460000MA5T00001X")),
            ("currency", json!("XYZ")),
            ("declared_on", json!("2026-02-30")),
            ("flow", json!("sideways")),
            ("lines", json!([])),
            ("declared_on", json!("1999-01-01")),
        ] {
            let mut b = good.clone();
            b[field] = value;
            bodies.push(b.to_string());
        }
        for (i, body) in bodies.into_iter().enumerate() {
            let status = app
                .raw(
                    Method::POST,
                    "/api/v1/declarations",
                    Some(&a),
                    Some(&format!("bad-{i}")),
                    body,
                )
                .await;
            assert!(status.is_client_error(), "{be}: body {i} gave {status}");
        }
        for path in [
            "/api/v1/declarations/%00",
            "/api/v1/declarations/../../etc",
            "/api/v1/enterprises/not-a-code/account-book",
            "/api/v1/nothing",
            "/api/v1/declarations?limit=100000",
            "/api/v1/declarations?limit=abc",
        ] {
            let status = app
                .raw(Method::GET, path, Some(&a), None, String::new())
                .await;
            assert!(status.is_client_error(), "{be}: GET {path} gave {status}");
        }
        let status = app
            .raw(
                Method::POST,
                "/api/v1/declarations",
                Some("not-a-token"),
                Some("k"),
                good.to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{be}");
        let (_, list) = app
            .call(Method::GET, "/api/v1/declarations", Some(&a), None, None)
            .await;
        assert_eq!(
            list["items"].as_array().map(Vec::len),
            Some(0),
            "{be}: nothing was declared"
        );
        assert_eq!(
            app.state.store.verify_audit().await.expect("audit").entries,
            before,
            "{be}: nothing was audited"
        );
        assert!(app.balances(&a, A).await.is_empty(), "{be}");
    }
}

#[tokio::test]
async fn cancelling_reverses_the_postings_and_amending_re_decides() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("c-1"),
                Some(&declaration(
                    "C-1",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", "300", "100000", "duty_paid")],
                )),
            )
            .await;
        let id = d["id"].as_str().expect("id").to_owned();
        let (s, x) = app.call(Method::POST, &format!("/api/v1/declarations/{id}/amend"), Some(&a), Some("c-2"), Some(&json!({ "revision": 1, "declaration": declaration("C-1", "first_line_import", A, vec![line("02023000", "AR", "250", "90000", "duty_paid")]) }))).await;
        assert_eq!(
            (s, x["revision"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{be}: {x}"
        );
        assert_eq!(
            app.balances(&a, A).await,
            bal(&[("02023000", "250")]),
            "{be}: amended quantity booked"
        );
        let (s, x) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/cancel"),
                Some(&a),
                Some("c-3"),
                Some(&json!({ "revision": 1 })),
            )
            .await;
        assert_eq!(
            (s, x["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{be}: a stale revision is refused: {x}"
        );
        let (s, x) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/cancel"),
                Some(&a),
                Some("c-4"),
                Some(&json!({ "revision": 2 })),
            )
            .await;
        assert_eq!(
            (s, x["status"].as_str()),
            (StatusCode::OK, Some("cancelled")),
            "{be}: {x}"
        );
        assert!(
            app.balances(&a, A).await.is_empty(),
            "{be}: the book is back to empty"
        );
        let (s, x) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/cancel"),
                Some(&a),
                Some("c-5"),
                Some(&json!({ "revision": 3 })),
            )
            .await;
        assert_eq!(
            (s, x["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_transition")),
            "{be}"
        );
    }
}

#[tokio::test]
async fn stock_take_reconciles_and_the_book_exports_to_csv() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        app.call(
            Method::POST,
            "/api/v1/declarations",
            Some(&a),
            Some("s-1"),
            Some(&declaration(
                "S-1",
                "first_line_import",
                A,
                vec![line("02023000", "AR", "1000", "356000", "duty_paid")],
            )),
        )
        .await;
        let (s, r) = app.call(Method::POST, &format!("/api/v1/enterprises/{A}/account-book/adjustments"), Some(&officer), Some("st"), Some(&json!({ "kind": "stock_take", "items": [{ "hs_code": "02023000", "unit": "kg", "quantity": "985.5", "note": "counted 2026-03-20" }] }))).await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        assert_eq!(
            (
                r["items"][0]["booked"].as_str(),
                r["items"][0]["adjustment"].as_str()
            ),
            (Some("1000"), Some("-14.5")),
            "{be}"
        );
        assert_eq!(
            app.balances(&a, A).await,
            bal(&[("02023000", "985.5")]),
            "{be}"
        );
        let resp = app
            .http
            .get(format!(
                "{}/api/v1/enterprises/{A}/account-book.csv",
                app.base
            ))
            .bearer_auth(&a)
            .send()
            .await
            .expect("csv");
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = resp.text().await.expect("text");
        assert_eq!(
            csv.lines().count(),
            3,
            "{be}: header and two postings: {csv}"
        );
        assert!(csv.contains("stock_take") && csv.contains("-14.5"), "{be}");
        // Enterprises may not adjust their own books.
        let (s, _) = app.call(Method::POST, &format!("/api/v1/enterprises/{A}/account-book/adjustments"), Some(&a), Some("st2"), Some(&json!({ "kind": "write_off", "items": [{ "hs_code": "02023000", "unit": "kg", "quantity": "1" }] }))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{be}");
    }
}

/// Every endpoint with every role and a foreign tenant. The expectation comes from this table, not
/// from the server: a change to who may do what must change both.
#[tokio::test]
async fn no_read_or_write_crosses_a_role_or_a_tenant() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let own = app.enterprise(&admin, A, true).await;
        let foreign = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let operator = app
            .user(&admin, "operator", "duty_free_operator", Some(C))
            .await;
        let other_operator = app
            .user(&admin, "operator-a", "duty_free_operator", Some(A))
            .await;
        let (s, shop) = app
            .call(
                Method::PUT,
                "/api/v1/duty-free/shops/HK-1",
                Some(&admin),
                Some("m-shop"),
                Some(&json!({ "operator": C, "name": "Haikou shop", "location": "Haikou" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {shop}");
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&own),
                Some("m-1"),
                Some(&declaration(
                    "M-1",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", "10", "3560", "duty_paid")],
                )),
            )
            .await;
        let id = d["id"].as_str().expect("id").to_owned();
        // Equipment entered zero-tariff is supervised: one item to read and dispose of.
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&own),
                Some("m-eq"),
                Some(&declaration(
                    "M-EQ",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "3", "9000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let item = app
            .state
            .store
            .supervised_items(A, "", 10)
            .await
            .expect("items")
            .remove(0)
            .id;

        let (s, set) = app
            .call(
                Method::POST,
                "/api/v1/risk/rule-sets",
                Some(&analyst),
                Some("m-rules"),
                Some(&json!({ "source": ALERTING_RULES })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {set}");
        let sha = set["sha256"].as_str().expect("sha256").to_owned();
        app.state
            .store
            .raise_alerts(
                &[freeport_store::NewAlert {
                    id: "01900000-0000-7000-8000-000000000001".to_owned(),
                    dedupe_key: "matrix".to_owned(),
                    kind: "rule".to_owned(),
                    subject: "matrix".to_owned(),
                    enterprise: Some(A.to_owned()),
                    declaration_id: Some(id.clone()),
                    person_code: None,
                    raised_on: "2026-03-01".to_owned(),
                    details_json: "{}".to_owned(),
                }],
                1,
            )
            .await
            .expect("alert");
        let alert = "01900000-0000-7000-8000-000000000001";

        // (who, token); "foreign" is an enterprise user of another enterprise.
        let callers: Vec<(&str, Option<String>)> = vec![
            ("anonymous", None),
            ("own", Some(own.clone())),
            ("foreign", Some(foreign.clone())),
            ("operator", Some(operator)),
            ("foreign_operator", Some(other_operator)),
            ("officer", Some(officer)),
            ("analyst", Some(analyst)),
            ("admin", Some(admin.clone())),
        ];
        let all = [
            "own",
            "foreign",
            "operator",
            "foreign_operator",
            "officer",
            "analyst",
            "admin",
        ];
        // (method, path, body, who may)
        let endpoints: Vec<(Method, String, Option<Value>, Vec<&str>)> = vec![
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/credit"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                format!("/api/v1/enterprises/{A}/credit/records"),
                Some(
                    json!({ "kind": "violation", "on": "2026-03-01", "reference": "P-1", "amount": "5000" }),
                ),
                vec!["officer"],
            ),
            (
                Method::POST,
                format!("/api/v1/enterprises/{A}/credit/repair"),
                Some(json!({ "reason": "corrected" })),
                vec!["officer"],
            ),
            (
                Method::GET,
                "/api/v1/risk/rules/performance?from=2026-01-01&to=2026-12-31".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                "/api/v1/risk/rule-sets".to_owned(),
                Some(json!({ "source": ALERTING_RULES })),
                vec!["analyst"],
            ),
            (
                Method::GET,
                "/api/v1/risk/rule-sets".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/risk/rule-sets/{sha}"),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                format!("/api/v1/risk/rule-sets/{sha}/backtest"),
                Some(json!({ "from": "2026-01-01", "to": "2026-12-31", "revision": 1 })),
                vec!["analyst"],
            ),
            (
                Method::POST,
                format!("/api/v1/risk/rule-sets/{sha}/shadow"),
                Some(json!({ "reason": "try", "revision": 1 })),
                vec!["analyst"],
            ),
            (
                Method::POST,
                format!("/api/v1/risk/rule-sets/{sha}/activate"),
                Some(json!({ "reason": "go", "revision": 1 })),
                vec!["analyst"],
            ),
            (
                Method::POST,
                format!("/api/v1/risk/rule-sets/{sha}/retire"),
                Some(json!({ "reason": "stop", "revision": 1 })),
                vec!["analyst"],
            ),
            (
                Method::GET,
                "/api/v1/alerts".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                "/api/v1/risk/models".to_owned(),
                Some(json!({ "from": "2026-01-01", "to": "2026-12-31" })),
                vec!["analyst"],
            ),
            (
                Method::GET,
                "/api/v1/risk/models".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/alerts/{alert}"),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                format!("/api/v1/alerts/{alert}/analysis"),
                Some(json!({ "conclusion": "confirmed", "notes": "n", "revision": 1 })),
                vec!["analyst"],
            ),
            (
                Method::POST,
                format!("/api/v1/alerts/{alert}/disposal"),
                Some(json!({ "action": "no_action", "revision": 2 })),
                vec!["officer"],
            ),
            (
                Method::POST,
                format!("/api/v1/alerts/{alert}/evaluation"),
                Some(json!({ "effective": false, "revision": 3 })),
                vec!["analyst"],
            ),
            (
                Method::GET,
                format!("/api/v1/declarations/{id}"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/account-book"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/account-book.csv"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                "/api/v1/enterprises".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                "/api/v1/audit/verify".to_owned(),
                None,
                vec!["admin"],
            ),
            (Method::GET, "/api/v1/me".to_owned(), None, all.to_vec()),
            // Every enterprise user lists its own declarations; the check below shows whose.
            (
                Method::GET,
                "/api/v1/declarations".to_owned(),
                None,
                vec!["own", "foreign", "officer", "analyst", "admin"],
            ),
            (
                Method::PUT,
                format!("/api/v1/enterprises/{A}"),
                Some(json!({ "name": "Renamed", "beneficiary": true })),
                vec!["officer", "admin"],
            ),
            (
                Method::PUT,
                "/api/v1/exchange-rates/USD/2026-02-25".to_owned(),
                Some(json!({ "cny_per_unit": "7.1" })),
                vec!["officer", "admin"],
            ),
            (
                Method::POST,
                "/api/v1/users".to_owned(),
                Some(
                    json!({ "username": "new", "password": "a-long-enough-password", "role": "risk_analyst" }),
                ),
                vec!["admin"],
            ),
            (
                Method::POST,
                "/api/v1/declarations".to_owned(),
                Some(declaration(
                    "M-2",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
                vec!["own"],
            ),
            (
                Method::POST,
                format!("/api/v1/declarations/{id}/status"),
                Some(json!({ "to": "held", "revision": 1 })),
                vec!["officer"],
            ),
            (
                Method::POST,
                format!("/api/v1/declarations/{id}/cancel"),
                Some(json!({ "revision": 1 })),
                vec!["own"],
            ),
            (
                Method::POST,
                format!("/api/v1/enterprises/{A}/account-book/adjustments"),
                Some(
                    json!({ "kind": "write_off", "items": [{ "hs_code": "02023000", "unit": "kg", "quantity": "1" }] }),
                ),
                vec!["officer"],
            ),
            (
                Method::POST,
                "/api/v1/quote".to_owned(),
                Some(json!({ "declaration": declaration(
                    "M-3",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                ) })),
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                format!("/api/v1/declarations/{id}/amend"),
                Some(json!({ "revision": 1, "declaration": declaration(
                    "M-1",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", "10", "3560", "duty_paid")],
                ) })),
                vec!["own"],
            ),
            (
                Method::POST,
                format!("/api/v1/declarations/{id}/inspection-result"),
                Some(json!({ "result": "compliant", "revision": 1 })),
                vec!["officer"],
            ),
            (
                Method::PUT,
                format!("/api/v1/enterprises/{A}/webhook"),
                Some(json!({ "url": "http://127.0.0.1:9/hook" })),
                vec!["own", "admin"],
            ),
            // Every operator lists its own shops; the shop's sales are its operator's only.
            (
                Method::GET,
                "/api/v1/duty-free/shops".to_owned(),
                None,
                vec![
                    "operator",
                    "foreign_operator",
                    "officer",
                    "analyst",
                    "admin",
                ],
            ),
            (
                Method::PUT,
                "/api/v1/duty-free/shops/HK-1".to_owned(),
                Some(json!({ "operator": C, "name": "Haikou shop", "location": "Haikou Meilan" })),
                vec!["officer", "admin"],
            ),
            (
                Method::POST,
                "/api/v1/duty-free/shops/HK-1/sales".to_owned(),
                Some(sale(
                    "passport",
                    "E12345678",
                    Some("GB"),
                    "1990-05-01",
                    "2026-03-05",
                    "watches",
                    "1000",
                    "1",
                )),
                vec!["operator"],
            ),
            (
                Method::GET,
                "/api/v1/duty-free/shops/HK-1/sales".to_owned(),
                None,
                vec!["operator", "officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/supervised-items"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/supervised-items/{item}"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                format!("/api/v1/enterprises/{A}/supervised-items/{item}/disposals"),
                Some(
                    json!({ "kind": "diversion", "on": "2026-06-01", "days_diverted": 1, "revision": 1 }),
                ),
                vec!["own"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/webhook"),
                None,
                vec!["own", "officer", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/webhook/deliveries"),
                None,
                vec!["own", "officer", "admin"],
            ),
            (
                Method::DELETE,
                format!("/api/v1/enterprises/{A}/webhook"),
                None,
                vec!["own", "admin"],
            ),
        ];
        // The matrix covers every operation the API documents, except the public ones and logging
        // out (which would end the callers' sessions): a new route without a row fails here.
        let (_, doc) = app
            .call(Method::GET, "/api/openapi.json", None, None, None)
            .await;
        let mut documented: Vec<String> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .expect("operations")
                    .keys()
                    .map(move |m| format!("{} {path}", m.to_uppercase()))
            })
            .filter(|op| {
                !matches!(
                    op.as_str(),
                    "GET /health" | "POST /api/v1/sessions" | "DELETE /api/v1/sessions"
                )
            })
            .collect();
        let mut covered: Vec<String> = endpoints
            .iter()
            .map(|(m, path, _, _)| {
                let template = path
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .replace(&id, "{id}")
                    .replace(&item, "{id}")
                    .replace(alert, "{id}")
                    .replace(&sha, "{sha256}")
                    .replace(A, "{code}")
                    .replace("USD/2026-02-25", "{currency}/{day}")
                    .replace("HK-1", "{shop}");
                format!("{m} {template}")
            })
            .collect();
        documented.sort();
        covered.sort();
        assert_eq!(covered, documented, "{be}: the matrix and the API differ");
        let mut checked = 0;
        for (method, path, body, may) in &endpoints {
            for (who, token) in &callers {
                let key = format!("matrix-{checked}");
                let (status, resp) = app
                    .call(
                        method.clone(),
                        path,
                        token.as_deref(),
                        Some(&key),
                        body.as_ref(),
                    )
                    .await;
                checked += 1;
                let allowed = may.contains(who);
                if token.is_none() {
                    assert_eq!(
                        status,
                        StatusCode::UNAUTHORIZED,
                        "{be}: {who} {method} {path}"
                    );
                } else if allowed {
                    assert!(
                        !matches!(
                            status,
                            StatusCode::UNAUTHORIZED
                                | StatusCode::FORBIDDEN
                                | StatusCode::NOT_FOUND
                        ),
                        "{be}: {who} may {method} {path}, got {status} {resp}"
                    );
                } else {
                    assert!(
                        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                        "{be}: {who} may not {method} {path}, got {status} {resp}"
                    );
                    // A denied write leaves nothing: the foreign tenant's data is unchanged below.
                }
            }
        }
        assert_eq!(checked, endpoints.len() * callers.len());
        // Listing never shows another tenant's declarations.
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/declarations",
                Some(&foreign),
                None,
                None,
            )
            .await;
        assert!(
            list["items"]
                .as_array()
                .is_some_and(|items| items.iter().all(|d| d["enterprise"] == C)),
            "{be}: {list}"
        );
    }
}

/// Registers an enterprise and commits three declarations, leaving four outbox events.
async fn three_events(app: &App) {
    let admin = app.admin().await;
    let a = app.enterprise(&admin, A, true).await;
    for i in 0..3 {
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some(&format!("ev-{i}")),
                Some(&declaration(
                    &format!("EV-{i}"),
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn the_outbox_reaches_in_process_subscribers_in_order_and_once() {
    for app in apps().await {
        three_events(&app).await;
        let (tx, mut rx) = tokio::sync::broadcast::channel(64);
        let sink = freeport_server::events::Sink::InProcess(tx);
        let n = freeport_server::events::relay_once(&app.state.store, &sink, 100, 1)
            .await
            .expect("relay");
        // The registry entry and the three declarations each left one event (users are audited,
        // not published).
        assert_eq!(n, 4, "{}", app.backend);
        let mut topics = Vec::new();
        let mut last = 0;
        while let Ok(e) = rx.try_recv() {
            assert!(e.id > last, "{}: in outbox order", app.backend);
            last = e.id;
            topics.push(e.topic);
        }
        assert_eq!(
            topics
                .iter()
                .filter(|t| *t == "declaration.decided")
                .count(),
            3,
            "{}: {topics:?}",
            app.backend
        );
        assert_eq!(
            freeport_server::events::relay_once(&app.state.store, &sink, 100, 2)
                .await
                .expect("relay"),
            0,
            "{}: nothing twice",
            app.backend
        );
    }
}

#[tokio::test]
async fn the_outbox_reaches_jetstream_exactly_once_even_after_a_crash_before_marking() {
    let Ok(url) = std::env::var("FREEPORT_TEST_NATS_URL") else {
        eprintln!(
            "note: FREEPORT_TEST_NATS_URL is not set; the JetStream relay test needs a NATS server"
        );
        return;
    };
    for app in apps().await {
        three_events(&app).await;
        let tag = format!(
            "{}{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let (stream_name, prefix) = (format!("FREEPORT_TEST_{tag}"), format!("fptest{tag}"));
        let sink = freeport_server::events::Sink::jetstream(&url, &stream_name, &prefix)
            .await
            .expect("jetstream");
        assert_eq!(
            freeport_server::events::relay_once(&app.state.store, &sink, 100, 1)
                .await
                .expect("relay"),
            4
        );
        // A crash after publishing but before marking: the relay publishes everything again.
        app.state
            .store
            .raw_execute("UPDATE outbox SET published_at_ms = NULL")
            .await
            .expect("unmark");
        assert_eq!(
            freeport_server::events::relay_once(&app.state.store, &sink, 100, 2)
                .await
                .expect("relay"),
            4
        );
        let js = async_nats::jetstream::new(async_nats::connect(&url).await.expect("connect"));
        let mut stream = js.get_stream(&stream_name).await.expect("stream");
        let messages = stream.info().await.expect("info").state.messages;
        assert_eq!(
            messages, 4,
            "{}: JetStream kept each event once",
            app.backend
        );
        js.delete_stream(&stream_name).await.expect("cleanup");
    }
}

#[tokio::test]
async fn metrics_label_routes_by_pattern_and_every_response_has_a_request_id() {
    for app in apps().await {
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("mx-1"),
                Some(&declaration(
                    "MX-1",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        let id = d["id"].as_str().expect("id").to_owned();
        let resp = app
            .http
            .get(format!("{}/api/v1/declarations/{id}", app.base))
            .bearer_auth(&a)
            .header("x-request-id", "trace-me-42")
            .send()
            .await
            .expect("get");
        assert_eq!(
            resp.headers()["x-request-id"],
            "trace-me-42",
            "a caller's request id is kept"
        );
        let resp = app
            .http
            .get(format!("{}/health", app.base))
            .send()
            .await
            .expect("health");
        assert!(
            resp.headers()
                .get("x-request-id")
                .is_some_and(|v| !v.is_empty()),
            "one is made when absent"
        );

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, freeport_server::observe::metrics_router()).await;
        });
        let text = app
            .http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        assert!(text.contains("http_request_duration_seconds"), "{text}");
        assert!(
            text.contains("route=\"/api/v1/declarations/{id}\""),
            "labelled by pattern: {text}"
        );
        assert!(!text.contains(&id), "never by a raw id");
        assert!(
            text.contains("decisions_total{") && text.contains("ledger_postings_total{"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_failed_login_does_not_tell_unknown_users_from_wrong_passwords() {
    for app in apps().await {
        let unknown = app
            .call(
                Method::POST,
                "/api/v1/sessions",
                None,
                None,
                Some(&json!({ "username": "nobody", "password": "whatever-it-is" })),
            )
            .await;
        let wrong = app
            .call(
                Method::POST,
                "/api/v1/sessions",
                None,
                None,
                Some(&json!({ "username": "admin", "password": "not-the-password" })),
            )
            .await;
        assert_eq!(unknown, wrong, "{}", app.backend);
        assert_eq!(unknown.0, StatusCode::UNAUTHORIZED, "{}", app.backend);
        // A revoked session stops working at once.
        let token = app.admin().await;
        assert_eq!(
            app.call(Method::GET, "/api/v1/me", Some(&token), None, None)
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            app.call(Method::DELETE, "/api/v1/sessions", Some(&token), None, None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.call(Method::GET, "/api/v1/me", Some(&token), None, None)
                .await
                .0,
            StatusCode::UNAUTHORIZED,
            "{}",
            app.backend
        );
    }
}

/// The document and a browsable Swagger UI are served from the binary, with nothing fetched from
/// elsewhere.
#[tokio::test]
async fn the_api_describes_itself_and_swagger_ui_is_served_from_the_binary() {
    let app = apps().await.remove(0);
    let (status, doc) = app
        .call(Method::GET, "/api/openapi.json", None, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/declarations"]["post"].is_object());
    let page = app
        .http
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page loads nothing from elsewhere: {html}"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let r = app
            .http
            .get(format!("{}/docs/{asset}", app.base))
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        assert!(r.bytes().await.expect("bytes").len() > 100, "{asset}");
    }
    let init = app
        .http
        .get(format!("{}/docs/swagger-initializer.js", app.base))
        .send()
        .await
        .expect("init")
        .text()
        .await
        .expect("text");
    assert!(init.contains("/api/openapi.json"), "{init}");
}

/// A tiny receiver: records every delivery; answers 500 to the first `failures`, then 204.
async fn receiver(
    failures: usize,
) -> (
    String,
    Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
) {
    let seen: Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let mut seen = log.lock().expect("lock");
                seen.push((headers, body));
                if seen.len() <= failures {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test]
async fn status_changes_reach_the_enterprise_by_signed_retried_webhooks() {
    use freeport_server::webhooks::{RetryPolicy, client, deliver_due, signature};
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let (url, seen) = receiver(2).await;
        let put = json!({ "url": url });
        let path = format!("/api/v1/enterprises/{A}/webhook");
        let (s, set) = app
            .call(Method::PUT, &path, Some(&a), Some("wh-1"), Some(&put))
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {set}");
        let secret = set["secret"].as_str().expect("secret").to_owned();
        assert_eq!(secret.len(), 64);
        // A retried PUT replays the same secret; reading the webhook never shows it.
        let (_, again) = app
            .call(Method::PUT, &path, Some(&a), Some("wh-1"), Some(&put))
            .await;
        assert_eq!(again["secret"], set["secret"], "{be}");
        let (_, read) = app.call(Method::GET, &path, Some(&a), None, None).await;
        assert_eq!(read["url"], json!(url));
        assert!(read.get("secret").is_none(), "{be}: {read}");
        // C's webhook points at a closed port.
        let (s, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/enterprises/{C}/webhook"),
                Some(&c),
                Some("wh-c"),
                Some(&json!({ "url": "http://127.0.0.1:1/hook" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("wh-d"),
                Some(&declaration(
                    "WH-1",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        let id = d["id"].as_str().expect("id").to_owned();
        let (_, dc) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&c),
                Some("wh-dc"),
                Some(&declaration(
                    "WH-C",
                    "first_line_import",
                    C,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        assert!(dc["id"].is_string(), "{be}: {dc}");

        let policy = RetryPolicy {
            max_attempts: 3,
            first_backoff_ms: 1000,
            max_backoff_ms: 60_000,
            timeout_ms: 2000,
        };
        let http = client(&policy);
        let store = &app.state.store;
        let t0 = 1_900_000_000_000;
        // First attempt of both: A's receiver answers 500, C's port is closed.
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0)
                .await
                .expect("round"),
            2
        );
        // Nothing is due again until the backoff has passed.
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 999)
                .await
                .expect("round"),
            0
        );
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 1000)
                .await
                .expect("round"),
            2
        );
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 2999)
                .await
                .expect("round"),
            0
        );
        // The third attempt reaches A; C has had its three attempts and fails.
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 3000)
                .await
                .expect("round"),
            2
        );
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 999_999)
                .await
                .expect("round"),
            0
        );

        let deliveries = seen.lock().expect("lock").clone();
        assert_eq!(deliveries.len(), 3, "{be}");
        let body = deliveries[0].1.clone();
        for (n, (headers, b)) in deliveries.iter().enumerate() {
            assert_eq!(b, &body, "{be}: the same bytes on every attempt");
            let attempt = headers["freeport-delivery-attempt"]
                .to_str()
                .expect("ascii");
            assert_eq!(attempt, (n + 1).to_string());
            let sig = headers["freeport-signature"].to_str().expect("ascii");
            let t: i64 = sig
                .trim_start_matches("t=")
                .split(',')
                .next()
                .and_then(|t| t.parse().ok())
                .expect("t");
            assert_eq!(
                sig,
                signature(&secret, t, b),
                "{be}: signed with the secret"
            );
            assert_ne!(sig, signature("another secret", t, b));
        }
        let event: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(event["topic"], "declaration.decided");
        assert_eq!(event["data"]["id"], json!(id));
        assert_eq!(event["data"]["status"], "decided");
        assert_eq!(event["enterprise"], A);

        // A status change is pushed too; the receiver now answers at once.
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/status"),
                Some(&officer),
                Some("wh-s"),
                Some(&json!({ "to": "released", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let t1 = t0 + 2_000_000;
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t1)
                .await
                .expect("round"),
            1
        );
        let last: Value =
            serde_json::from_str(&seen.lock().expect("lock").last().expect("one").1).expect("json");
        assert_eq!(last["topic"], "declaration.status");
        assert_eq!(last["data"]["status"], "released");
        assert!(last["event_id"].as_i64() > event["event_id"].as_i64());

        let (_, page) = app
            .call(
                Method::GET,
                &format!("{path}/deliveries"),
                Some(&a),
                None,
                None,
            )
            .await;
        let states: Vec<(String, i64)> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| {
                (
                    d["state"].as_str().unwrap_or("").to_owned(),
                    d["attempts"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            states,
            vec![("delivered".to_owned(), 1), ("delivered".to_owned(), 3)],
            "{be}: newest first"
        );
        let (_, page_c) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{C}/webhook/deliveries"),
                Some(&c),
                None,
                None,
            )
            .await;
        let failed = &page_c["items"][0];
        assert_eq!(failed["state"], "failed", "{be}: {page_c}");
        assert_eq!(failed["attempts"], 3);
        assert!(
            failed["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("not delivered"))
        );
        // A's deliveries are not C's to read.
        let (s, _) = app
            .call(
                Method::GET,
                &format!("{path}/deliveries"),
                Some(&c),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // A bad URL is refused and changes nothing.
        for (n, bad) in ["ftp://x/y", "not a url", "http://user:pw@host/x"]
            .iter()
            .enumerate()
        {
            let (s, e) = app
                .call(
                    Method::PUT,
                    &path,
                    Some(&a),
                    Some(&format!("bad-url-{n}")),
                    Some(&json!({ "url": bad })),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {bad}");
            assert_eq!(e["details"]["field"], "url");
        }
        let (_, still) = app.call(Method::GET, &path, Some(&a), None, None).await;
        assert_eq!(still["url"], json!(url));
    }
}

/// Equipment entered zero-tariff is supervised per item (R3.4); disposing of it early pays back
/// taxes on the depreciated value (R8.10) and takes it out of the account book. Expected figures
/// are worked by hand: 3 scanners (MFN 4 %, VAT 13 %) worth 360 000.00 entered on 2026-01-10.
#[tokio::test]
async fn supervised_equipment_is_tracked_and_early_disposal_is_taxed() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let scanners = json!({ "id": "SUP-1", "flow": "first_line_import", "declared_on": "2026-01-10",
            "declarant": A, "currency": "CNY", "lines": [{ "hs_code": "90181210", "origin": "DE",
            "quantities": [{ "value": "3", "unit": "piece" }], "value": "360000", "goods_status": "duty_paid" }] });
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("sup-1"),
                Some(&scanners),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        let declaration_id = d["id"].as_str().expect("id").to_owned();
        let items_path = format!("/api/v1/enterprises/{A}/supervised-items");
        let (_, page) = app
            .call(Method::GET, &items_path, Some(&a), None, None)
            .await;
        let item = &page["items"][0];
        assert_eq!(
            (
                item["kind"].as_str(),
                item["years"].as_i64(),
                item["supervised_until"].as_str(),
                item["quantity"].as_str(),
                item["customs_value"].as_str(),
                item["state"].as_str(),
            ),
            (
                Some("equipment"),
                Some(3),
                Some("2029-01-10"),
                Some("3"),
                Some("360000.00"),
                Some("supervised")
            ),
            "{be}: {page}"
        );
        let item_id = item["id"].as_str().expect("id").to_owned();
        let dispose = format!("{items_path}/{item_id}/disposals");

        // One scanner sold on 2027-04-10: 15 whole months of 36 supervised.
        let (s, one) = app
            .call(Method::POST, &dispose, Some(&a), Some("sup-d1"),
                Some(&json!({ "kind": "transfer", "on": "2027-04-10", "quantity": "1", "revision": 1 })))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {one}");
        assert_eq!(one["disposed_value"], "120000.00");
        assert_eq!(one["back_tax_value"], "70000.00", "{be}: 120 000 × 21/36");
        assert_eq!(one["taxes"]["tariff"], "2800.00");
        assert_eq!(one["taxes"]["vat"], "9464.00", "{be}: 13 % × 72 800");
        assert_eq!(one["taxes"]["total"], "12264.00");
        assert_eq!(one["pack_version"], "hainan/2026-02-05");
        assert_eq!(one["explanation"][0]["rule"], "R8.10");
        assert_eq!(one["item"]["quantity"], "2");
        assert_eq!(one["item"]["customs_value"], "240000.00");
        let balance = |book: &Value| {
            book["balances"]
                .as_array()
                .expect("balances")
                .iter()
                .find(|b| b["hs_code"] == "90181210")
                .map(|b| b["quantity"].as_str().unwrap_or("").to_owned())
        };
        let book_path = format!("/api/v1/enterprises/{A}/account-book");
        let (_, book) = app
            .call(Method::GET, &book_path, Some(&a), None, None)
            .await;
        assert_eq!(
            balance(&book).as_deref(),
            Some("2"),
            "{be}: the sold scanner left the book"
        );
        assert!(
            book["postings"]
                .as_array()
                .expect("postings")
                .iter()
                .any(|p| p["movement"] == "early_disposal" && p["quantity"] == "-1")
        );

        // A disposal made on a stale read changes nothing.
        let before = footprint(&app).await;
        let (s, e) = app
            .call(
                Method::POST,
                &dispose,
                Some(&a),
                Some("sup-stale"),
                Some(&json!({ "kind": "transfer", "on": "2027-04-10", "revision": 1 })),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{be}: {e}"
        );
        assert_eq!(footprint(&app).await, before);

        // The other two used for another purpose for 73 days: 240 000 × 73 / 1 095.
        let (s, div) = app
            .call(Method::POST, &dispose, Some(&a), Some("sup-d2"),
                Some(&json!({ "kind": "diversion", "on": "2026-06-01", "days_diverted": 73, "revision": 2 })))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {div}");
        assert_eq!(div["back_tax_value"], "16000.00");
        assert_eq!(div["taxes"]["tariff"], "640.00");
        assert_eq!(div["taxes"]["vat"], "2163.20", "{be}: 13 % × 16 640");
        assert_eq!(
            div["item"]["quantity"], "2",
            "{be}: a diversion keeps the goods supervised"
        );

        // Released once the period is over: nothing owed, and the goods leave the book.
        let (s, free) = app
            .call(
                Method::POST,
                &dispose,
                Some(&a),
                Some("sup-d3"),
                Some(&json!({ "kind": "early_release", "on": "2029-01-10", "revision": 3 })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {free}");
        assert_eq!(free["taxes"]["total"], "0.00");
        assert_eq!(free["item"]["state"], "disposed");
        let (_, book) = app
            .call(Method::GET, &book_path, Some(&a), None, None)
            .await;
        assert_eq!(balance(&book).as_deref(), Some("0"), "{be}");
        let (s, e) = app
            .call(
                Method::POST,
                &dispose,
                Some(&a),
                Some("sup-d4"),
                Some(&json!({ "kind": "transfer", "on": "2029-02-01", "revision": 4 })),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_transition"))
        );
        let (_, read) = app
            .call(
                Method::GET,
                &format!("{items_path}/{item_id}"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(
            read["disposals"].as_array().map(Vec::len),
            Some(3),
            "{be}: {read}"
        );

        // Bad disposals are refused with the field named, and change nothing.
        let before = footprint(&app).await;
        for (n, (body, field)) in [
            (
                json!({ "kind": "sale", "on": "2027-01-01", "revision": 4 }),
                "kind",
            ),
            (
                json!({ "kind": "diversion", "on": "2027-01-01", "revision": 4 }),
                "days_diverted",
            ),
            (
                json!({ "kind": "transfer", "on": "2027-13-01", "revision": 4 }),
                "on",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let (_, page) = app
                .call(Method::GET, &items_path, Some(&a), None, None)
                .await;
            let _ = page;
            let (s2, d2) = app
                .call(Method::POST, "/api/v1/declarations", Some(&a), Some(&format!("sup-more-{n}")),
                    Some(&json!({ "id": format!("SUP-M{n}"), "flow": "first_line_import", "declared_on": "2026-01-10",
                        "declarant": A, "currency": "CNY", "lines": [{ "hs_code": "90181210", "origin": "DE",
                        "quantities": [{ "value": "1", "unit": "piece" }], "value": "1000", "goods_status": "duty_paid" }] })))
                .await;
            assert_eq!(s2, StatusCode::CREATED, "{be}: {d2}");
            let fresh = app
                .state
                .store
                .supervised_items(A, &item_id, 100)
                .await
                .expect("items");
            let fresh = fresh.last().expect("item").id.clone();
            let before_bad = footprint(&app).await;
            let (s, e) = app
                .call(
                    Method::POST,
                    &format!("{items_path}/{fresh}/disposals"),
                    Some(&a),
                    Some(&format!("sup-bad-{n}")),
                    Some(&body),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {body}");
            assert_eq!(e["details"]["field"], field, "{be}: {e}");
            assert_eq!(footprint(&app).await, before_bad);
        }
        let _ = before;

        // Disposals stand: the declaration that entered the goods can no longer be cancelled;
        // one whose goods were never disposed of withdraws its items when cancelled.
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{declaration_id}/cancel"),
                Some(&a),
                Some("sup-c1"),
                Some(&json!({ "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}");
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/declarations?limit=100",
                Some(&a),
                None,
                None,
            )
            .await;
        let last = list["items"]
            .as_array()
            .expect("items")
            .last()
            .expect("one")
            .clone();
        let (s, _) = app
            .call(
                Method::POST,
                &format!(
                    "/api/v1/declarations/{}/cancel",
                    last["id"].as_str().expect("id")
                ),
                Some(&a),
                Some("sup-c2"),
                Some(&json!({ "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}");
        let items = app
            .state
            .store
            .supervised_items(A, "", 100)
            .await
            .expect("items");
        let withdrawn = items
            .iter()
            .find(|i| i.declaration_id == last["id"].as_str().unwrap_or(""))
            .expect("item");
        assert_eq!(withdrawn.state.as_str(), "withdrawn", "{be}");
    }
}

/// Offshore duty-free sales: one code per person across shops, the annual quota spent to the fen
/// and never beyond, per-departure limits over every sale of the departure, operators confined to
/// their own shops.
#[tokio::test]
async fn duty_free_sales_follow_the_quota_and_limits_across_shops() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let _ = app.enterprise(&admin, A, false).await;
        let op = app
            .user(&admin, "op-c", "duty_free_operator", Some(C))
            .await;
        let op_a = app
            .user(&admin, "op-a", "duty_free_operator", Some(A))
            .await;
        for (n, shop) in ["SANYA-1", "HAIKOU-2"].iter().enumerate() {
            let (s, b) = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/duty-free/shops/{shop}"),
                    Some(&admin),
                    Some(&format!("shop-{n}")),
                    Some(&json!({ "operator": C, "name": shop, "location": "Hainan" })),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{be}: {b}");
        }
        let sell = |shop: &str, key: &str, body: Value| {
            let path = format!("/api/v1/duty-free/shops/{shop}/sales");
            let key = key.to_owned();
            let op = op.clone();
            let app = &app;
            async move {
                app.call(Method::POST, &path, Some(&op), Some(&key), Some(&body))
                    .await
            }
        };
        let passport = |price: &str| {
            sale(
                "passport",
                "E12345678",
                Some("GB"),
                "1990-05-01",
                "2026-03-05",
                "watches",
                price,
                "1",
            )
        };
        // 60 000 in one shop, then 45 000 in the other: the second passes the 100 000 quota.
        let (s, first) = sell("SANYA-1", "s-1", passport("60000")).await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {first}");
        assert_eq!(first["accepted"], true);
        assert_eq!(first["decision"]["quota"]["remaining_after"], "40000.00");
        let (s, second) = sell("HAIKOU-2", "s-2", passport("45000")).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(second["accepted"], false, "{be}: one person across shops");
        assert_eq!(second["decision"]["refusals"][0]["code"], "quota_exceeded");
        assert_eq!(
            second["decision"]["refusals"][0]["explanation"]["rule"],
            "R4.2"
        );
        // The refused sale spent nothing: 40 000 still fits exactly.
        let (_, third) = sell("HAIKOU-2", "s-3", passport("40000")).await;
        assert_eq!(third["accepted"], true, "{be}: {third}");
        assert_eq!(third["decision"]["quota"]["remaining_after"], "0.00");

        // Category limits count every sale of the departure, and only that departure.
        let first17 = "46010019900501123";
        let check = freeport_core::identity::resident_id_check_digit(first17).expect("digit");
        let resident = format!("{first17}{check}");
        let cosmetics = |n: &str, departure: &str| {
            sale(
                "resident_id",
                &resident,
                None,
                "1990-05-01",
                departure,
                "cosmetics",
                "200",
                n,
            )
        };
        let (_, c1) = sell("SANYA-1", "c-1", cosmetics("25", "2026-03-05")).await;
        assert_eq!(c1["accepted"], true, "{be}: {c1}");
        let (_, c2) = sell("HAIKOU-2", "c-2", cosmetics("6", "2026-03-05")).await;
        assert_eq!(
            c2["decision"]["refusals"][0]["code"], "departure_limit_exceeded",
            "{be}: {c2}"
        );
        let (_, c3) = sell("HAIKOU-2", "c-3", cosmetics("6", "2026-03-20")).await;
        assert_eq!(c3["accepted"], true, "{be}: another departure");

        // Bad input names the field and changes nothing.
        let before = footprint(&app).await;
        let mut wrong_birth = cosmetics("1", "2026-03-05");
        wrong_birth["birth_date"] = json!("1991-05-01");
        let mut early = passport("1");
        early["departure_on"] = json!("2026-03-01");
        let mut bad_number = passport("1");
        bad_number["document"]["number"] = json!("!");
        for (n, (body, field)) in [
            (wrong_birth, "birth_date"),
            (early, "departure_on"),
            (bad_number, "document.number"),
            (
                sale(
                    "passport",
                    "E1234567",
                    None,
                    "1990-05-01",
                    "2026-03-05",
                    "watches",
                    "1",
                    "1",
                ),
                "document.issuing_country",
            ),
            (
                sale(
                    "passport",
                    "E1234567",
                    Some("GB"),
                    "1990-05-01",
                    "2026-03-05",
                    "spaceships",
                    "1",
                    "1",
                ),
                "items[0].category",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let (s, e) = sell("SANYA-1", &format!("bad-{n}"), body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {e}");
            assert_eq!(e["details"]["field"], field, "{be}: {e}");
        }
        assert_eq!(footprint(&app).await, before);

        // Operators are confined to their own shops.
        let (_, mine) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/shops",
                Some(&op_a),
                None,
                None,
            )
            .await;
        assert_eq!(
            mine["items"].as_array().map(Vec::len),
            Some(0),
            "{be}: {mine}"
        );
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/shops/SANYA-1/sales",
                Some(&op_a),
                Some("x-1"),
                Some(&passport("1")),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{be}");
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/shops/HAIKOU-2/sales",
                Some(&op),
                None,
                None,
            )
            .await;
        let accepted: Vec<bool> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| s["accepted"].as_bool().unwrap_or(true))
            .collect();
        assert_eq!(
            accepted,
            vec![false, true, false, true],
            "{be}: refused sales stay on record"
        );
        // No document number is stored anywhere.
        let dump = app
            .state
            .store
            .sales("SANYA-1", "", 100)
            .await
            .expect("sales")
            .iter()
            .map(|s| s.decision_json.clone())
            .collect::<String>();
        assert!(
            !dump.contains("E12345678") && !dump.contains(&resident),
            "{be}"
        );
    }
}

/// Accepted declarations take a lane: the rules' floor (a dishonest enterprise's rule asks for
/// red), the random sample, or the score; the record names the rule set, the rules that fired and
/// the draw, and amending cannot re-roll the draw.
#[tokio::test]
async fn accepted_declarations_take_a_lane_with_its_reasons() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let (s, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/enterprises/{C}"),
                Some(&admin),
                Some("dishonest"),
                Some(
                    &json!({ "name": "Firm C", "beneficiary": true, "credit_class": "dishonest" }),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let laptops = |reference: &str, who: &str| {
            declaration(
                reference,
                "first_line_import",
                who,
                vec![line("84713000", "CN", "2", "9000", "duty_paid")],
            )
        };
        let (s, dc) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&c),
                Some("lane-c"),
                Some(&laptops("L-C", C)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {dc}");
        assert_eq!(dc["lane"], "red", "{be}: {dc}");
        assert_eq!(dc["risk"]["credit_class"], "dishonest");
        assert_eq!(dc["risk"]["rule_set"], "hainan");
        assert!(
            dc["risk"]["hits"]
                .as_array()
                .expect("hits")
                .iter()
                .any(|h| h["rule"] == "CRD-001"),
            "{be}: {dc}"
        );
        let (s, da) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("lane-a"),
                Some(&laptops("L-A", A)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        // No rule fires on ordinary goods of a general enterprise: green, unless the draw took it
        // into the 0.5 % random sample.
        let lane = da["lane"].as_str().expect("lane").to_owned();
        let reason = da["risk"]["reason"].as_str().expect("reason").to_owned();
        assert!(
            (lane == "green" && reason == "score") || (lane == "red" && reason == "random"),
            "{be}: {da}"
        );
        assert_eq!(da["risk"]["hits"].as_array().map(Vec::len), Some(0));
        let id = da["id"].as_str().expect("id").to_owned();
        let (_, read) = app
            .call(
                Method::GET,
                &format!("/api/v1/declarations/{id}"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(read["lane"], da["lane"], "{be}: the lane is stored");
        let (_, amended) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/amend"),
                Some(&a),
                Some("lane-amend"),
                Some(&json!({ "revision": 1, "declaration": laptops("L-A", A) })),
            )
            .await;
        assert_eq!(
            amended["risk"]["draw"], da["risk"]["draw"],
            "{be}: {amended}"
        );
        // A refused declaration takes no lane.
        let (_, refused) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("lane-refused"),
                Some(&declaration(
                    "L-R",
                    "second_line_exit",
                    A,
                    vec![line("02023000", "AR", "999999", "1000", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(refused["status"], "rejected", "{be}: {refused}");
        assert!(refused["lane"].is_null());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_follows_its_records_and_is_shown_to_the_enterprise_with_a_repair_path() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let _ = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let credit = |who: &str, on: &str| {
            let who = who.to_owned();
            let on = on.to_owned();
            let app = &app;
            async move {
                let (s, v) = app
                    .call(
                        Method::GET,
                        &format!("/api/v1/enterprises/{A}/credit?on={on}"),
                        Some(&who),
                        None,
                        None,
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{v}");
                v
            }
        };
        let v = credit(&a, "2026-03-16").await;
        assert_eq!(v["assessment"]["class"], "general", "{be}: {v}");
        assert_eq!(v["assessment"]["rule"], "R6.1");
        assert!(
            v["assessment"]["pack_version"]
                .as_str()
                .is_some_and(|p| p.starts_with("hainan/"))
        );

        // A tax due on 2025-11-10 and unpaid: dishonest from 2026-02-11, the enterprise sees why.
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/enterprises/{A}/credit/records"),
                Some(&officer),
                Some("tax-1"),
                Some(&json!({ "kind": "tax_due", "on": "2025-11-10", "reference": "TAX-1", "amount": "52000", "due_on": "2025-11-10" })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {r}");
        let v = credit(&a, "2026-03-16").await;
        assert_eq!(v["assessment"]["class"], "dishonest", "{be}: {v}");
        let overdue = v["assessment"]["components"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == "overdue_taxes"))
            .expect("component");
        assert_eq!(
            (
                overdue["crossed"].as_bool(),
                overdue["references"][0].as_str()
            ),
            (Some(true), Some("TAX-1"))
        );
        assert_eq!(
            v["assessment"]["repair"]["unpaid_taxes"][0], "TAX-1",
            "{be}: {v}"
        );
        assert_eq!(v["records"][0]["amount"], "52000.00");
        // The foreign enterprise does not see it.
        let foreign = app.user(&admin, "c-user", "enterprise_user", Some(C)).await;
        let (s, _) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/credit"),
                Some(&foreign),
                None,
                None,
            )
            .await;
        assert!(
            matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{be}"
        );

        // Lanes read the class on the declaration day: a declaration then is assessed dishonest.
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("cr-1"),
                Some(&declaration(
                    "CR-1",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        assert_eq!(d["risk"]["credit_class"], "dishonest", "{be}: {d}");

        // Repair is refused while the tax is unpaid, and the refusal says so.
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/enterprises/{A}/credit/repair"),
                Some(&officer),
                Some("repair-1"),
                Some(&json!({ "reason": "applied" })),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: {r}");
        assert!(
            r["message"].as_str().is_some_and(|m| m.contains("TAX-1")),
            "{be}: {r}"
        );

        // Paying restores the class at once.
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/enterprises/{A}/credit/records"),
                Some(&officer),
                Some("paid-1"),
                Some(&json!({ "kind": "tax_paid", "on": "2026-03-20", "reference": "TAX-1" })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(
            credit(&a, "2026-03-20").await["assessment"]["class"],
            "general",
            "{be}"
        );
        assert_eq!(
            credit(&a, "2026-03-19").await["assessment"]["class"],
            "dishonest",
            "{be}: replayable by day"
        );

        // Bad records name the field and change nothing.
        let before = footprint(&app).await;
        for (n, body) in [
            json!({ "kind": "bribery", "on": "2026-03-01", "reference": "X" }),
            json!({ "kind": "violation", "on": "2026-03-01", "reference": "X" }),
            json!({ "kind": "tax_due", "on": "2026-03-01", "reference": "X", "amount": "1" }),
            json!({ "kind": "smuggling", "on": "2026-13-01", "reference": "X" }),
        ]
        .into_iter()
        .enumerate()
        {
            let (s, r) = app
                .call(
                    Method::POST,
                    &format!("/api/v1/enterprises/{A}/credit/records"),
                    Some(&officer),
                    Some(&format!("bad-{n}")),
                    Some(&body),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {body} {r}");
            assert!(r["details"]["field"].is_string(), "{be}: {r}");
        }
        assert_eq!(footprint(&app).await, before, "{be}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspection_results_feed_rule_performance_and_credit() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        // The alerting rule set, back-tested and activated, fires on every computer entry.
        let (_, set) = app
            .call(
                Method::POST,
                "/api/v1/risk/rule-sets",
                Some(&analyst),
                Some("p"),
                Some(&json!({ "source": ALERTING_RULES })),
            )
            .await;
        let sha = set["sha256"].as_str().expect("sha").to_owned();
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/risk/rule-sets/{sha}/backtest"),
                Some(&analyst),
                Some("b"),
                Some(&json!({ "from": "2026-01-01", "to": "2026-12-31", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/risk/rule-sets/{sha}/activate"),
                Some(&analyst),
                Some("a"),
                Some(&json!({ "reason": "test", "revision": 2 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let mut ids = Vec::new();
        for n in 0..3 {
            let (s, d) = app
                .call(
                    Method::POST,
                    "/api/v1/declarations",
                    Some(&a),
                    Some(&format!("ins-{n}")),
                    Some(&declaration(
                        &format!("INS-{n}"),
                        "first_line_import",
                        A,
                        vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                    )),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
            assert_eq!(
                d["risk"]["rule_set_sha256"],
                sha.as_str(),
                "{be}: the activated set chose the lane"
            );
            ids.push(d["id"].as_str().expect("id").to_owned());
        }
        // Two inspected: one finds undervaluation and recovers 812.50, one is compliant.
        for (n, (id, result)) in ids.iter().zip([
            json!({ "result": "violation", "findings": ["undervaluation"], "revenue_found": "812.50", "inspected_on": "2026-03-18", "revision": 2 }),
            json!({ "result": "compliant", "inspected_on": "2026-03-18", "revision": 2 }),
        ]).enumerate()
        {
            let (s, r) = app
                .call(Method::POST, &format!("/api/v1/declarations/{id}/status"), Some(&officer), Some(&format!("st-{n}")), Some(&json!({ "to": "under_inspection", "revision": 1 })))
                .await;
            assert_eq!(s, StatusCode::OK, "{be}: {r}");
            let (s, r) = app
                .call(Method::POST, &format!("/api/v1/declarations/{id}/inspection-result"), Some(&officer), Some(&format!("res-{n}")), Some(&result))
                .await;
            assert_eq!(s, StatusCode::OK, "{be}: {r}");
        }
        // A violation must say what was found; a compliant result recovers nothing.
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{}/inspection-result", ids[2]),
                Some(&officer),
                Some("res-bad"),
                Some(&json!({ "result": "compliant", "revenue_found": "5", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {r}");

        let (s, p) = app
            .call(
                Method::GET,
                "/api/v1/risk/rules/performance?from=2026-03-01&to=2026-03-31&min_inspections=2",
                Some(&analyst),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {p}");
        assert_eq!(
            (p["declarations"].as_u64(), p["inspections"].as_u64()),
            (Some(3), Some(2)),
            "{be}: {p}"
        );
        let rule = p["rules"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["rule"] == "ADP-001"))
            .expect("ADP-001");
        assert_eq!(rule["periods"][0]["period"], "2026-03", "{be}: {rule}");
        assert_eq!(
            (
                rule["total"]["hits"].as_u64(),
                rule["total"]["inspections"].as_u64(),
                rule["total"]["findings"].as_u64()
            ),
            (Some(3), Some(2), Some(1)),
            "{be}: {rule}"
        );
        assert_eq!(rule["total"]["revenue_found"], "812.50", "{be}: {rule}");
        assert_eq!(rule["total"]["hit_rate"].as_f64(), Some(0.5));
        assert!(rule["retire"].is_null(), "{be}: it found revenue");

        // The finding is on the enterprise's credit record.
        let (_, v) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/credit?on=2026-03-20"),
                Some(&a),
                None,
                None,
            )
            .await;
        let findings = v["assessment"]["components"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == "inspection_findings"))
            .expect("findings");
        assert_eq!(findings["value"], "1", "{be}: {v}");
        assert_eq!(findings["references"][0], ids[0].as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_sets_are_back_tested_shadowed_and_activated_with_who_and_why() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        // A malformed file is refused with its line and column.
        let (s, r) = app
            .call(Method::POST, "/api/v1/risk/rule-sets", Some(&analyst), Some("bad"), Some(&json!({ "source": "ruleset \"x\" version 1\n\nrule \"R\"\n  when hs in prefix(\"84\"\n  then score 1\nend\n" })))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {r}");
        assert!(r.to_string().contains("line 5, column"), "{be}: {r}");

        let (s, set) = app
            .call(
                Method::POST,
                "/api/v1/risk/rule-sets",
                Some(&analyst),
                Some("p"),
                Some(&json!({ "source": ALERTING_RULES })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {set}");
        assert_eq!(
            (set["state"].as_str(), set["rules"].as_u64()),
            (Some("proposed"), Some(1))
        );
        let sha = set["sha256"].as_str().expect("sha").to_owned();
        let post = |path: String, key: &'static str, body: Value| {
            let (app, analyst) = (&app, analyst.clone());
            async move {
                app.call(Method::POST, &path, Some(&analyst), Some(key), Some(&body))
                    .await
            }
        };
        // Activation needs a back-test.
        let (s, r) = post(
            format!("/api/v1/risk/rule-sets/{sha}/activate"),
            "a0",
            json!({ "reason": "now", "revision": 1 }),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: {r}");

        // History: two computer entries under the bundled set, one inspected with a finding.
        let mut first = String::new();
        for n in 0..2 {
            let (s, d) = app
                .call(
                    Method::POST,
                    "/api/v1/declarations",
                    Some(&a),
                    Some(&format!("h-{n}")),
                    Some(&declaration(
                        &format!("H-{n}"),
                        "first_line_import",
                        A,
                        vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                    )),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
            assert!(d["risk"]["shadow"].is_null());
            if n == 0 {
                first = d["id"].as_str().expect("id").to_owned();
            }
        }
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        app.call(
            Method::POST,
            &format!("/api/v1/declarations/{first}/status"),
            Some(&officer),
            Some("s"),
            Some(&json!({ "to": "under_inspection", "revision": 1 })),
        )
        .await;
        let (s, _) = app
            .call(Method::POST, &format!("/api/v1/declarations/{first}/inspection-result"), Some(&officer), Some("r"), Some(&json!({ "result": "violation", "findings": ["misclassification"], "revenue_found": "300", "revision": 2 })))
            .await;
        assert_eq!(s, StatusCode::OK);

        let (s, bt) = post(
            format!("/api/v1/risk/rule-sets/{sha}/backtest"),
            "bt",
            json!({ "from": "2026-03-01", "to": "2026-03-31", "revision": 1 }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}: {bt}");
        let proposed = &bt["backtest"]["proposed"];
        assert_eq!(bt["backtest"]["declarations"], 2, "{be}: {bt}");
        assert_eq!(
            (
                proposed["lines_hit"].as_u64(),
                proposed["rules"][0]["findings"].as_u64()
            ),
            (Some(2), Some(1)),
            "{be}: {bt}"
        );
        assert_eq!(
            proposed["rules"][0]["revenue_found"], "300.00",
            "{be}: {bt}"
        );
        assert_eq!(
            bt["backtest"]["active"]["rule_set"], "hainan",
            "{be}: compared with the active set"
        );

        // In shadow it is evaluated and recorded beside the active set, not obeyed.
        let (s, sh) = post(
            format!("/api/v1/risk/rule-sets/{sha}/shadow"),
            "sh",
            json!({ "reason": "watch it for a week", "revision": 2 }),
        )
        .await;
        assert_eq!(
            (s, sh["state"].as_str()),
            (StatusCode::OK, Some("shadow")),
            "{be}: {sh}"
        );
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("h-s"),
                Some(&declaration(
                    "H-S",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(d["risk"]["rule_set"], "hainan", "{be}: {d}");
        assert_eq!(
            d["risk"]["shadow"]["rule_set_sha256"],
            sha.as_str(),
            "{be}: {d}"
        );
        assert_eq!(
            d["risk"]["shadow"]["hits"][0]["rule"], "ADP-001",
            "{be}: {d}"
        );
        let (_, p) = app
            .call(
                Method::GET,
                "/api/v1/risk/rules/performance?from=2026-03-01&to=2026-03-31",
                Some(&analyst),
                None,
                None,
            )
            .await;
        assert_eq!(p["shadow_rules"][0]["total"]["hits"], 1, "{be}: {p}");

        // Activated with the analyst's reason; the next declaration's lane is its.
        let (s, act) = post(
            format!("/api/v1/risk/rule-sets/{sha}/activate"),
            "act",
            json!({ "reason": "computers are being undervalued", "revision": 3 }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}: {act}");
        let changes = act["changes"].as_array().expect("changes");
        let last = changes.last().expect("a change");
        assert_eq!(
            (
                last["from"].as_str(),
                last["to"].as_str(),
                last["reason"].as_str()
            ),
            (
                Some("shadow"),
                Some("active"),
                Some("computers are being undervalued")
            ),
            "{be}: {act}"
        );
        assert!(last["analyst"].as_str().is_some_and(|x| !x.is_empty()));
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("h-a"),
                Some(&declaration(
                    "H-A",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(d["risk"]["rule_set_sha256"], sha.as_str(), "{be}: {d}");
        assert!(
            d["risk"]["shadow"].is_null(),
            "{be}: the shadow set became the active one"
        );
        // A restarted server reads the active set back from the store.
        let fresh = AppState::new(app.state.store.clone(), pack());
        fresh.reload_rules().await.expect("reload");
        assert_eq!(
            fresh.live_rules().active_sha256.as_deref(),
            Some(sha.as_str()),
            "{be}"
        );
        // Retiring it returns selection to the bundled set.
        let (s, _) = post(
            format!("/api/v1/risk/rule-sets/{sha}/retire"),
            "ret",
            json!({ "reason": "done", "revision": 4 }),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(app.state.live_rules().active_sha256, None, "{be}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_raised_analysed_disposed_and_evaluated() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        // Zero-tariff computers enter; then a spike of second-line exits of their heading: ten in
        // a day against a quiet month.
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("zt"),
                Some(&declaration(
                    "ZT",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "20", "90000", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        for n in 0..10 {
            let (s, d) = app
                .call(
                    Method::POST,
                    "/api/v1/declarations",
                    Some(&a),
                    Some(&format!("exit-{n}")),
                    Some(&declaration(
                        &format!("EXIT-{n}"),
                        "second_line_exit",
                        A,
                        vec![line("84713000", "CN", "1", "4500", "zero_tariff")],
                    )),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
            assert_eq!(d["outcome"], "accepted", "{be}: {d}");
            let spikes = app
                .state
                .store
                .alerts(Some(freeport_risk::governance::AlertState::Open), "", 10)
                .await
                .expect("alerts")
                .len();
            assert_eq!(
                spikes,
                usize::from(n == 9),
                "{be}: the tenth exit crosses the floor of ten"
            );
        }
        let (_, q) = app
            .call(
                Method::GET,
                "/api/v1/alerts?state=open",
                Some(&analyst),
                None,
                None,
            )
            .await;
        let spikes: Vec<&Value> = q["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|x| x["kind"] == "flow_spike")
            .collect();
        assert_eq!(spikes.len(), 1, "{be}: {q}");
        assert_eq!(spikes[0]["details"]["heading"], "8471", "{be}");
        assert_eq!(spikes[0]["details"]["spike"]["today"], 10, "{be}");
        // An eleventh the same day is the same warning, not a second alert.
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("exit-10"),
                Some(&declaration(
                    "EXIT-10",
                    "second_line_exit",
                    A,
                    vec![line("84713000", "CN", "1", "4500", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(
            app.state
                .store
                .alerts(None, "", 10)
                .await
                .expect("alerts")
                .len(),
            1,
            "{be}"
        );

        // A stock-take short of the book: zero-tariff goods left without a declaration.
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/enterprises/{A}/account-book/adjustments"), Some(&officer), Some("count"), Some(&json!({ "kind": "stock_take", "items": [{ "hs_code": "84713000", "unit": "kg", "quantity": "6" }] })))
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (_, q) = app
            .call(
                Method::GET,
                "/api/v1/alerts?state=open",
                Some(&analyst),
                None,
                None,
            )
            .await;
        let outflow = q["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|x| x["kind"] == "unexplained_outflow")
            .expect("outflow alert")
            .clone();
        assert_eq!(
            (
                outflow["enterprise"].as_str(),
                outflow["details"]["shortfall"].as_str()
            ),
            (Some(A), Some("3")),
            "{be}: {outflow}"
        );

        // The spike's declaration is held on disposal; steps go in order.
        let id = spikes[0]["id"].as_str().expect("id").to_owned();
        let declaration_id = spikes[0]["declaration_id"]
            .as_str()
            .expect("declaration")
            .to_owned();
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{id}/disposal"),
                Some(&officer),
                Some("d0"),
                Some(&json!({ "action": "hold", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: analysis comes first: {r}");
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/alerts/{id}/analysis"), Some(&analyst), Some("an"), Some(&json!({ "conclusion": "confirmed", "notes": "one dealer, new buyers", "revision": 1 })))
            .await;
        assert_eq!(
            (s, r["state"].as_str()),
            (StatusCode::OK, Some("analysed")),
            "{be}: {r}"
        );
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{id}/disposal"),
                Some(&officer),
                Some("d1"),
                Some(&json!({ "action": "hold", "notes": "hold the car", "revision": 2 })),
            )
            .await;
        assert_eq!(
            (s, r["state"].as_str()),
            (StatusCode::OK, Some("disposed")),
            "{be}: {r}"
        );
        let (_, d) = app
            .call(
                Method::GET,
                &format!("/api/v1/declarations/{declaration_id}"),
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(
            (d["status"].as_str(), d["lane"].as_str()),
            (Some("held"), Some("hold")),
            "{be}: {d}"
        );
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/alerts/{id}/evaluation"), Some(&analyst), Some("ev"), Some(&json!({ "effective": true, "revenue_found": "45000", "notes": "resale confirmed", "revision": 3 })))
            .await;
        assert_eq!(
            (s, r["state"].as_str()),
            (StatusCode::OK, Some("evaluated")),
            "{be}: {r}"
        );
        assert_eq!(r["evaluation"]["revenue_found"], "45000.00", "{be}: {r}");

        // Downgrading on the outflow alert makes the enterprise dishonest, visibly.
        let oid = outflow["id"].as_str().expect("id");
        app.call(Method::POST, &format!("/api/v1/alerts/{oid}/analysis"), Some(&analyst), Some("an2"), Some(&json!({ "conclusion": "confirmed", "notes": "sold on the island without a declaration", "revision": 1 }))).await;
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{oid}/disposal"),
                Some(&officer),
                Some("d2"),
                Some(&json!({ "action": "downgrade_credit", "notes": "repeated", "revision": 2 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (_, v) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/credit"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(v["assessment"]["class"], "dishonest", "{be}: {v}");
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_retrained_on_inspection_results_joins_the_lane_with_its_reasons() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let train = |key: &'static str, from: &'static str| {
            let (app, analyst) = (&app, analyst.clone());
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/risk/models",
                    Some(&analyst),
                    Some(key),
                    Some(&json!({ "from": from, "to": "2026-03-31" })),
                )
                .await
            }
        };
        // Nothing inspected yet: refused, saying what training needs.
        let (s, r) = train("t0", "2026-03-01").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {r}");
        assert_eq!(r["details"]["field"], "to", "{be}: {r}");

        inspected_history(&app, (&a, A), (&c, C), &officer, 50).await;
        let (s, m) = train("t1", "2026-03-01").await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {m}");
        assert_eq!(
            (
                m["cases"].as_i64(),
                m["violations"].as_i64(),
                m["state"].as_str()
            ),
            (Some(50), Some(25), Some("active")),
            "{be}: {m}"
        );
        assert_eq!(m["holdout"]["cases"], 10, "{be}: {m}");
        assert!(
            m["holdout"]["auc"].as_f64().is_some_and(|auc| auc > 0.9),
            "{be}: {m}"
        );

        // In the decision path: A's cheese scores high, C's beef low, each with its reasons.
        let submit = |token: String,
                      key: &'static str,
                      code: &'static str,
                      hs: &'static str,
                      origin: &'static str| {
            let app = &app;
            async move {
                let (s, d) = app
                    .call(
                        Method::POST,
                        "/api/v1/declarations",
                        Some(&token),
                        Some(key),
                        Some(&declaration(
                            key,
                            "first_line_import",
                            code,
                            vec![line(hs, origin, "100", "3000", "duty_paid")],
                        )),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{d}");
                d
            }
        };
        let risky = submit(a.clone(), "NEW-A", A, "04069000", "CN").await;
        let model = &risky["risk"]["model"];
        assert_eq!(model["model_sha256"], m["sha256"], "{be}: {risky}");
        let p: f64 = model["probability"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .expect("probability");
        assert!(p > 0.5, "{be}: {model}");
        assert_eq!(
            risky["lane"], "red",
            "{be}: {p} × 100 points reach red: {risky}"
        );
        let reasons = model["contributions"].as_array().expect("contributions");
        assert_eq!(reasons.len(), 5, "{be}: {model}");
        assert!(
            reasons.iter().all(|r| r["feature"]
                .as_str()
                .is_some_and(|f| freeport_risk::platform_model::PLATFORM_FEATURES.contains(&f))),
            "{be}: {model}"
        );
        let safe = submit(c.clone(), "NEW-C", C, "02023000", "AR").await;
        let q: f64 = safe["risk"]["model"]["probability"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .expect("probability");
        assert!(q < 0.5 && q < p, "{be}: {safe}");

        // The same data trains the same model; a later period retires the earlier one.
        let (_, again) = train("t2", "2026-03-01").await;
        assert_eq!(again["sha256"], m["sha256"], "{be}: deterministic");
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/risk/models",
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(
            list["items"].as_array().map(Vec::len),
            Some(1),
            "{be}: {list}"
        );
        assert_eq!(list["items"][0]["state"], "active");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_retrains_itself_when_new_inspection_results_arrive() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let retrainer = freeport_app::training::spawn_retrainer(
            app.state.platform.clone(),
            std::time::Duration::from_millis(100),
            3650,
        );
        // Too few results: nothing is trained.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.state.store.active_model().await.expect("read"),
            None,
            "{be}"
        );
        inspected_history(&app, (&a, A), (&c, C), &officer, 44).await;
        // It trains as soon as there are enough results, and again as more arrive: the active
        // model ends up learned from all 44.
        let mut active = None;
        for _ in 0..100 {
            active = app.state.store.active_model().await.expect("read");
            if active.as_ref().is_some_and(|m| m.cases == 44) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let active = active.expect("the retrainer trained a model");
        assert_eq!(
            (active.cases, active.trained_by.as_str()),
            (44, "system:retrainer"),
            "{be}"
        );
        let models = app.state.store.risk_models().await.expect("models");
        assert_eq!(
            models.iter().filter(|m| m.state == "active").count(),
            1,
            "{be}"
        );
        // The live path uses it without a restart. (An earlier model, trained when the first
        // results arrived, may still be live for a moment: the store commits before the reload.)
        for _ in 0..50 {
            if app.state.live_rules().model.as_ref().map(|(_, sha)| sha) == Some(&active.sha256) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            app.state
                .live_rules()
                .model
                .as_ref()
                .map(|(_, sha)| sha.clone()),
            Some(active.sha256.clone()),
            "{be}"
        );
        retrainer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_buying_is_flagged_and_a_ban_stops_the_next_sale() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, true).await;
        let operator = app
            .user(&admin, "operator", "duty_free_operator", Some(C))
            .await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let (s, _) = app
            .call(
                Method::PUT,
                "/api/v1/duty-free/shops/HK-1",
                Some(&admin),
                Some("shop"),
                Some(&json!({ "operator": C, "name": "Haikou shop", "location": "Haikou" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let buy = |key: &'static str, departure: &'static str| {
            let (app, operator) = (&app, operator.clone());
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/duty-free/shops/HK-1/sales",
                    Some(&operator),
                    Some(key),
                    Some(&sale(
                        "passport",
                        "E55555555",
                        Some("GB"),
                        "1990-05-01",
                        departure,
                        "watches",
                        "1000",
                        "1",
                    )),
                )
                .await
            }
        };
        // One buyer, three departures within a month: the return-flow pattern of paid carriers.
        for (key, departure) in [("s1", "2026-03-05"), ("s2", "2026-03-12")] {
            let (s, r) = buy(key, departure).await;
            assert_eq!(
                (s, r["accepted"].as_bool()),
                (StatusCode::CREATED, Some(true)),
                "{be}: {r}"
            );
        }
        assert!(
            app.state
                .store
                .alerts(None, "", 10)
                .await
                .expect("alerts")
                .is_empty(),
            "{be}: two departures are ordinary"
        );
        let (s, _) = buy("s3", "2026-03-20").await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, q) = app
            .call(
                Method::GET,
                "/api/v1/alerts?state=open",
                Some(&analyst),
                None,
                None,
            )
            .await;
        let alert = q["items"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["kind"] == "proxy_buying"))
            .expect("proxy alert")
            .clone();
        let person = alert["person_code"]
            .as_str()
            .expect("person code")
            .to_owned();
        assert!(
            !person.contains("E55555555"),
            "{be}: the document number is never stored"
        );
        assert_eq!(
            alert["details"]["departures"].as_array().map(Vec::len),
            Some(3),
            "{be}: {alert}"
        );

        let id = alert["id"].as_str().expect("id");
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/alerts/{id}/analysis"), Some(&analyst), Some("an"), Some(&json!({ "conclusion": "confirmed", "notes": "quota sold through a job advert", "revision": 1 })))
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{id}/disposal"),
                Some(&officer),
                Some("ban"),
                Some(&json!({ "action": "ban_duty_free", "notes": "R4.6", "revision": 2 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");

        // The next sale to the same person, in any shop, is refused under R4.6.
        let (s, r) = buy("s4", "2026-03-25").await;
        assert_eq!(
            (s, r["accepted"].as_bool()),
            (StatusCode::CREATED, Some(false)),
            "{be}: {r}"
        );
        assert_eq!(r["decision"]["refusals"][0]["code"], "banned", "{be}: {r}");
        assert_eq!(
            r["decision"]["refusals"][0]["explanation"]["rule"], "R4.6",
            "{be}: {r}"
        );
        // A disposed alert takes no second disposal.
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{id}/disposal"),
                Some(&officer),
                Some("ban-again"),
                Some(&json!({ "action": "ban_duty_free", "revision": 3 })),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: already disposed: {r}");
    }
}
