//! Regression tests for the defects hostile probing found: absurd numbers, concurrent duplicates,
//! throttling, error envelopes, dates on the wire. Each runs on SQLite and, in CI, PostgreSQL.

use super::*;

/// The `details` of an `invalid_input` answer: (field, kind).
fn field_error(body: &Value) -> (String, String) {
    (
        body["details"]["field"].as_str().unwrap_or("").to_owned(),
        body["details"]["kind"].as_str().unwrap_or("").to_owned(),
    )
}

async fn audit_entries(app: &App) -> i64 {
    app.state
        .store
        .verify_audit()
        .await
        .expect("verify")
        .entries
}

/// A registered operator with one shop `SANYA-1`; returns the operator's token.
async fn shop(app: &App, admin: &str) -> String {
    let _ = app.enterprise(admin, C, false).await;
    let op = app.user(admin, "op-c", "duty_free_operator", Some(C)).await;
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/duty-free/shops/SANYA-1",
            Some(admin),
            Some("shop-sanya"),
            Some(&json!({ "operator": C, "name": "Sanya 1", "location": "Hainan" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    op
}

/// Defects 1 and 4: a line value beyond the ceiling is refused naming the field (it used to be
/// accepted and then overflow the daily flow statistics for a year); a statistics row already at
/// the edge of a BIGINT neither fails nor turns into a float when more lines arrive, and the value
/// reference read over a year of such rows still answers.
#[tokio::test]
async fn absurd_values_are_refused_and_no_stored_total_can_poison_later_declarations() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let before = audit_entries(&app).await;
        for (value, field) in [
            ("92233720368547758.07", "declaration.lines[0].value"),
            ("100000000000", "declaration.lines[0].value"),
            ("99999999999.00001", "declaration.lines[0].value"),
            (
                "79228162514264337593543950335",
                "declaration.lines[0].value",
            ),
        ] {
            let (s, b) = app
                .submit(
                    &a,
                    &format!("huge-{value}"),
                    &declaration(
                        "HUGE",
                        "first_line_import",
                        A,
                        vec![line("02023000", "AR", "10", value, "duty_paid")],
                    ),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {value}: {b}");
            assert_eq!(
                field_error(&b),
                (field.to_owned(), "out_of_range".to_owned()),
                "{be}: {b}"
            );
        }
        // A declaration's lines together pass the declaration's ceiling.
        let (s, b) = app
            .submit(
                &a,
                "huge-total",
                &declaration(
                    "HUGE-TOTAL",
                    "first_line_import",
                    A,
                    (0..11)
                        .map(|_| line("02023000", "AR", "10", "99999999999", "duty_paid"))
                        .collect(),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {b}");
        assert_eq!(
            field_error(&b),
            ("declaration.lines".to_owned(), "out_of_range".to_owned())
        );
        assert_eq!(
            audit_entries(&app).await,
            before,
            "{be}: refusals change nothing"
        );

        // A line at the ceiling is accepted, and its day's statistics row is then pushed to the
        // edge of a BIGINT, as a year of hostile declarations would.
        let submit = |key: &str, reference: &str, day: &str, value: &str| {
            let mut body = declaration(
                reference,
                "first_line_import",
                A,
                vec![line("02023000", "AR", "10", value, "duty_paid")],
            );
            body["declared_on"] = json!(day);
            let (key, a, app) = (key.to_owned(), a.clone(), &app);
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/declarations",
                    Some(&a),
                    Some(&key),
                    Some(&body),
                )
                .await
            }
        };
        let (s, b) = submit("edge-1", "EDGE-1", "2026-03-16", "99999999999.99").await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {b}");
        assert!(b["lane"].is_string(), "{be}: the line took a lane: {b}");
        sqlx_exec(
            &app.state.store,
            "UPDATE flow_stats SET value_fen = 9223372036854775000, quantity_milli = 9223372036854775000",
        )
        .await;
        for (i, day) in ["2026-03-16", "2026-03-17", "2026-06-30"]
            .iter()
            .enumerate()
        {
            let (s, b) = submit(
                &format!("edge-next-{i}"),
                &format!("EDGE-N{i}"),
                day,
                "99999999999.99",
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {day}: {b}");
        }
        let rows = app
            .state
            .store
            .declared_totals("02023000", "kg", "2026-01-01", "2026-12-31")
            .await
            .expect("the totals read");
        // The row at the edge took nothing more (the line is counted apart); the other days
        // added theirs; the year's sum is exact in 128 bits.
        assert_eq!(
            (rows.declarations, rows.value_fen),
            (3, 9_223_372_036_854_775_000 + 2 * 9_999_999_999_999),
            "{be}: {rows:?}"
        );
    }
}

/// Defects 3 and 4: every oversized or over-precise number is a 422 naming its field, never a
/// dropped connection, a clamp or a silent round to zero.
#[tokio::test]
async fn oversized_numbers_are_refused_naming_the_field() {
    const HUGE: &str = "79228162514264337593543950335";
    const TINY: &str = "0.0000000000000000000000000000000000000001";
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let op = shop(&app, &admin).await;
        let (s, b) = app
            .submit(
                &a,
                "stock",
                &declaration(
                    "STOCK",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", "1000", "356000", "duty_paid")],
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {b}");
        let before = audit_entries(&app).await;
        let sale_with = |price: &str, quantity: &str, limit: Option<&str>| {
            let mut body = sale(
                "passport",
                "E12345678",
                Some("GB"),
                "1990-05-01",
                "2026-03-05",
                "watches",
                price,
                quantity,
            );
            if let Some(l) = limit {
                body["items"][0]["limit_quantity"] = json!(l);
            }
            body
        };
        let sales = "/api/v1/duty-free/shops/SANYA-1/sales";
        let adjust = format!("/api/v1/enterprises/{A}/account-book/adjustments");
        let adjustment = |kind: &str, quantity: &str| json!({ "kind": kind, "items": [{ "hs_code": "02023000", "unit": "kg", "quantity": quantity, "note": "n" }] });
        let cases: Vec<(&str, String, &str, Value, &str)> = vec![
            (
                "declaration quantity",
                "/api/v1/declarations".into(),
                "a",
                declaration(
                    "Q",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", HUGE, "1000", "duty_paid")],
                ),
                "declaration.lines[0].quantities[0].value",
            ),
            (
                "declaration quantity, 40 decimals",
                "/api/v1/declarations".into(),
                "a",
                declaration(
                    "Q",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", TINY, "1000", "duty_paid")],
                ),
                "declaration.lines[0].quantities[0].value",
            ),
            (
                "sale quantity",
                sales.into(),
                "op",
                sale_with("100", HUGE, None),
                "items[0].quantity",
            ),
            (
                "sale limit quantity",
                sales.into(),
                "op",
                sale_with("100", "1", Some(HUGE)),
                "items[0].limit_quantity",
            ),
            (
                "sale total",
                sales.into(),
                "op",
                sale_with("92233720368547758.07", "10000", None),
                "items[0].unit_price",
            ),
            (
                "sale quantity, 40 decimals",
                sales.into(),
                "op",
                sale_with("100", TINY, None),
                "items[0].quantity",
            ),
            (
                "stock-take quantity",
                adjust.clone(),
                "officer",
                adjustment("stock_take", HUGE),
                "items[0].quantity",
            ),
            (
                "write-off quantity",
                adjust.clone(),
                "officer",
                adjustment("write_off", "1000000000000.5"),
                "items[0].quantity",
            ),
        ];
        for (n, (what, path, who, body, field)) in cases.into_iter().enumerate() {
            let token = match who {
                "a" => &a,
                "op" => &op,
                _ => &officer,
            };
            let (s, b) = app
                .call(
                    Method::POST,
                    &path,
                    Some(token),
                    Some(&format!("big-{n}")),
                    Some(&body),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {what}: {b}");
            assert_eq!(
                field_error(&b),
                (field.to_owned(), "out_of_range".to_owned()),
                "{be}: {what}: {b}"
            );
        }
        let (s, b) = app
            .call(
                Method::PUT,
                "/api/v1/exchange-rates/USD/2026-03-02",
                Some(&officer),
                Some("rate-huge"),
                Some(&json!({ "cny_per_unit": HUGE })),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {b}");
        assert_eq!(field_error(&b).0, "cny_per_unit");
        assert_eq!(audit_entries(&app).await, before, "{be}: nothing changed");
    }
}

/// Defect 2: clients sending the same key and body at once get one write and the same answer;
/// none is told 500 "not applied" for a request that was applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_make_one_write_and_no_server_error() {
    const CLIENTS: usize = 20;
    const ROUNDS: usize = 20;
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let op = shop(&app, &admin).await;
        let app = Arc::new(app);
        let mut server_errors = 0;
        for kind in ["declaration", "sale", "exchange_rate"] {
            for round in 0..ROUNDS {
                let key = format!("race-{kind}-{round}");
                let (path, method, token, body) = match kind {
                    "declaration" => (
                        "/api/v1/declarations".to_owned(),
                        Method::POST,
                        a.clone(),
                        declaration(
                            &format!("RACE-{round}"),
                            "first_line_import",
                            A,
                            vec![line("02023000", "AR", "10", "3560", "duty_paid")],
                        ),
                    ),
                    "sale" => (
                        "/api/v1/duty-free/shops/SANYA-1/sales".to_owned(),
                        Method::POST,
                        op.clone(),
                        sale(
                            "passport",
                            &format!("E1234{round:04}"),
                            Some("GB"),
                            "1990-05-01",
                            "2026-03-05",
                            "watches",
                            "1000",
                            "1",
                        ),
                    ),
                    _ => (
                        format!("/api/v1/exchange-rates/USD/2026-04-{:02}", round + 1),
                        Method::PUT,
                        officer.clone(),
                        json!({ "cny_per_unit": "7.1234" }),
                    ),
                };
                let mut clients = Vec::new();
                for _ in 0..CLIENTS {
                    let (app, path, method, token, body, key) = (
                        app.clone(),
                        path.clone(),
                        method.clone(),
                        token.clone(),
                        body.clone(),
                        key.clone(),
                    );
                    clients.push(tokio::spawn(async move {
                        app.call(method, &path, Some(&token), Some(&key), Some(&body))
                            .await
                    }));
                }
                let mut answers = Vec::new();
                for c in clients {
                    answers.push(c.await.expect("client"));
                }
                server_errors += answers.iter().filter(|(s, _)| s.is_server_error()).count();
                let ok: Vec<&Value> = answers
                    .iter()
                    .filter(|(s, _)| s.is_success())
                    .map(|(_, b)| b)
                    .collect();
                assert_eq!(
                    ok.len(),
                    CLIENTS,
                    "{be}: {kind} round {round}: every client gets the one answer: {:?}",
                    answers
                        .iter()
                        .filter(|(s, _)| !s.is_success())
                        .collect::<Vec<_>>()
                );
                assert!(
                    ok.windows(2).all(|w| w[0] == w[1]),
                    "{be}: {kind}: the same answer"
                );
            }
        }
        assert_eq!(server_errors, 0, "{be}: no 5xx");
        // One write per key: 20 declarations, 20 sales, 20 rates.
        let (s, page) = app
            .call(
                Method::GET,
                "/api/v1/declarations?limit=1000",
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let race = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|d| {
                d["reference"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("RACE-"))
            })
            .count();
        assert_eq!(race, ROUNDS, "{be}: one declaration per key");
        let (s, page) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/shops/SANYA-1/sales?limit=1000",
                Some(&op),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            page["items"].as_array().map(Vec::len),
            Some(ROUNDS),
            "{be}: one sale per key"
        );
        let report = app.state.store.verify_audit().await.expect("verify");
        assert!(report.intact, "{be}: {report:?}");
    }
}

/// Defect 7: failed log-ins are throttled per account (429 with Retry-After after five) and per
/// address, without a password check, and the same for unknown users; others still log in.
#[tokio::test]
async fn failed_log_ins_are_throttled_per_account_and_per_address() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.user(&admin, "officer", "customs_officer", None).await;
        for username in ["officer", "nobody-at-all"] {
            for i in 0..5 {
                let (s, b) = app
                    .call(
                        Method::POST,
                        "/api/v1/sessions",
                        None,
                        None,
                        Some(&json!({ "username": username, "password": format!("guess-{i}") })),
                    )
                    .await;
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{be}: {username} {i}: {b}");
            }
            let _ = app
                .call(
                    Method::POST,
                    "/api/v1/sessions",
                    None,
                    None,
                    Some(&json!({ "username": username, "password": "guess-5" })),
                )
                .await;
            let resp = app
                .http
                .post(format!("{}/api/v1/sessions", app.base))
                .body(
                    json!({ "username": username, "password": "a-long-enough-password" })
                        .to_string(),
                )
                .send()
                .await
                .expect("request");
            assert_eq!(
                resp.status(),
                StatusCode::TOO_MANY_REQUESTS,
                "{be}: {username}: even the right password waits"
            );
            let retry = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            assert!(
                retry.is_some_and(|r| (1..=900).contains(&r)),
                "{be}: {retry:?}"
            );
            let body: Value = resp.json().await.expect("json");
            assert_eq!(body["code"], "too_many_requests", "{be}: {body}");
        }
        // Another account from the same address is not locked by them.
        let _ = app.login("admin", ADMIN_PASSWORD).await;
        // Thirty failures from one address, across usernames, lock the address for the window.
        for i in 0..30 {
            let _ = app
                .call(
                    Method::POST,
                    "/api/v1/sessions",
                    None,
                    None,
                    Some(&json!({ "username": format!("spray-{i}"), "password": "x" })),
                )
                .await;
        }
        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/sessions",
                None,
                None,
                Some(&json!({ "username": "admin", "password": ADMIN_PASSWORD })),
            )
            .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{be}: {b}");
    }
}

/// Defect 8: a stored 409 replays for the same key (as the documentation now says); a new key
/// decides again.
#[tokio::test]
async fn a_409_replays_for_its_key_and_a_new_key_decides_again() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let (s, d) = app
            .submit(
                &a,
                "d-1",
                &declaration(
                    "D-1",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", "10", "3560", "duty_paid")],
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        let id = d["id"].as_str().expect("id");
        let cancel = |key: &'static str, revision: i64| {
            let path = format!("/api/v1/declarations/{id}/cancel");
            let (a, app) = (a.clone(), &app);
            async move {
                app.call(
                    Method::POST,
                    &path,
                    Some(&a),
                    Some(key),
                    Some(&json!({ "revision": revision, "note": "withdrawn" })),
                )
                .await
            }
        };
        let (s, first) = cancel("c-1", 7).await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: {first}");
        let (s, again) = cancel("c-1", 7).await;
        assert_eq!(
            (s, &again),
            (StatusCode::CONFLICT, &first),
            "{be}: replayed"
        );
        let (s, fresh) = cancel("c-2", 1).await;
        assert_eq!(s, StatusCode::OK, "{be}: {fresh}");
    }
    let errors = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/reference/errors.md"
    ))
    .expect("errors.md");
    assert!(
        errors.contains("replays the stored 409") && errors.contains("a new `Idempotency-Key`"),
        "the documentation says what a retry of a 409 does"
    );
}

/// Defect 9: errors from every layer (body limit, unknown route, wrong method, a bad query
/// parameter) use the JSON envelope with a documented code.
#[tokio::test]
async fn every_error_uses_the_envelope_whichever_layer_answers() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
        for (method, path, body, status, code) in [
            (
                Method::PUT,
                format!("/api/v1/enterprises/{A}"),
                big.clone(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
            (
                Method::GET,
                "/api/v1/no-such-thing".to_owned(),
                String::new(),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                Method::DELETE,
                "/health".to_owned(),
                String::new(),
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            ),
            (
                Method::GET,
                "/api/v1/enterprises?limit=many".to_owned(),
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
            ),
        ] {
            let resp = app
                .http
                .request(method.clone(), format!("{}{path}", app.base))
                .bearer_auth(&admin)
                .header("Idempotency-Key", "big")
                .body(body)
                .send()
                .await
                .expect("an answer, not a dropped connection");
            assert_eq!(resp.status(), status, "{be}: {method} {path}");
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            assert!(
                content_type.starts_with("application/json"),
                "{be}: {path}: {content_type}"
            );
            let body: Value = resp.json().await.expect("json");
            assert_eq!(body["code"], code, "{be}: {path}: {body}");
            assert!(
                body["message"].is_string() && body["details"].is_object(),
                "{body}"
            );
        }
    }
}

/// Defect 10: every date in a decision record is `YYYY-MM-DD`.
#[tokio::test]
async fn decision_records_carry_dates_as_days() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let (s, d) = app.submit(&a, "day-1", &json!({ "id": "DAY-1", "flow": "first_line_import", "declared_on": "2026-03-16",
                    "declarant": A, "currency": "CNY", "lines": [{ "hs_code": "90181210", "origin": "DE",
                    "quantities": [{ "value": "3", "unit": "piece" }], "value": "360000", "goods_status": "duty_paid" }] }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        let decision = &d["decision"];
        assert_eq!(decision["declared_on"], "2026-03-16", "{be}: {decision}");
        let mut days = Vec::new();
        collect_dates(decision, &mut days);
        assert!(!days.is_empty());
        for day in days {
            assert!(
                day.as_str()
                    .is_some_and(|t| t.len() == 10 && t.as_bytes()[4] == b'-'),
                "{be}: a date on the wire: {day}"
            );
        }
    }
}

/// Every value under a key that names a day.
fn collect_dates<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if [
                    "declared_on",
                    "from",
                    "until",
                    "by",
                    "first",
                    "last",
                    "rate_date",
                ]
                .contains(&k.as_str())
                {
                    out.push(x);
                } else {
                    collect_dates(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_dates(x, out)),
        _ => {}
    }
}
