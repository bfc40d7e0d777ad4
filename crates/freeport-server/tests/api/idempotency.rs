//! Idempotency keys: replays, reuse, a crash between commit and answer, and bad input that changes nothing.

use super::*;

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
        let mut sale_id = String::new();
        let rule_set = ALERTING_RULES;
        let sha = freeport_store::sha256_hex(rule_set.as_bytes());
        // Old enough for repair (12 months), young enough to count (24).
        let smuggled_on =
            (time::OffsetDateTime::now_utc().date() - time::Duration::days(400)).to_string();
        inspected_history(&app, (&a, A), (&b, B), &officer, 40).await;
        // A dishonest enterprise with beef in its book: its exit through Xinhai awaits a scan.
        let c = app.enterprise(&admin, C, true).await;
        super::second_line::beef_in_the_book(&app, &c, C).await;
        let (s, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/enterprises/{C}"),
                Some(&admin),
                Some("dishonest-c"),
                Some(
                    &json!({ "name": "Firm C", "beneficiary": true, "credit_class": "dishonest" }),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}");
        // A month long enough past that its consolidation is late today.
        let past = time::OffsetDateTime::now_utc().date() - time::Duration::days(70);
        let batch_month = format!("{:04}-{:02}", past.year(), u8::from(past.month()));
        let mut batch_of_b = declaration(
            "R-BATCH",
            "second_line_exit",
            B,
            vec![line("02023000", "AR", "10", "3560", "zero_tariff")],
        );
        batch_of_b["declared_on"] = json!(past.to_string());
        batch_of_b["batch_exit"] = json!(true);
        // B's batch exit, moved to that month: exits count in the month they leave in, so only
        // the store can put one in the past.
        let (s, _) = app
            .call(Method::PUT, &format!("/api/v1/enterprises/{B}"), Some(&admin), Some("b-aeo"), Some(&json!({ "name": "B Co", "beneficiary": true, "credit_class": "advanced_certified" })))
            .await;
        assert_eq!(s, StatusCode::OK, "{be}");
        let (s, _) = app
            .submit(
                &b,
                "b-beef",
                &declaration(
                    "R-BEEF",
                    "first_line_import",
                    B,
                    vec![line("02023000", "AR", "100", "35600", "duty_paid")],
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}");
        let (s, r) = app.submit(&b, "b-batch", &batch_of_b).await;
        assert_eq!(
            (s, r["outcome"].as_str()),
            (StatusCode::CREATED, Some("accepted")),
            "{be}: {r}"
        );
        sqlx_exec(
            &app.state.store,
            &format!("UPDATE declarations SET batch_month = '{batch_month}' WHERE enterprise = '{B}' AND batch_month IS NOT NULL"),
        )
        .await;
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
                Method::POST,
                "/api/v1/departures",
                "officer",
                json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "kind": "flight", "means": "HU7181", "port": "haikou-meilan", "departs_at": "2026-03-05T10:00:00+08:00" }),
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
                json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "birth_date": "1990-05-01", "departure_on": "2026-03-05", "sold_on": "2026-03-02", "items": [{ "category": "cosmetics", "description": "lipstick", "unit_price": "100", "quantity": "1", "trace_codes": ["9000000000000002"] }] }),
            ),
            (
                Method::POST,
                "/api/v1/duty-free/items/9000000000000002/hand-over",
                "operator",
                Value::Null,
            ),
            (
                Method::POST,
                "/api/v1/duty-free/items/9000000000000002/departure",
                "officer",
                json!({ "port": "haikou-meilan" }),
            ),
            (
                Method::POST,
                "/api/v1/duty-free/dishonesty-list",
                "officer",
                json!({ "document": { "kind": "passport", "number": "E99999999", "issuing_country": "GB" }, "ground": "serious_penalty", "listed_on": "2026-03-01", "reason": "penalty decision No. 7" }),
            ),
            (
                Method::POST,
                "/api/v1/duty-free/rings/alerts",
                "analyst",
                json!({ "from": "2026-03-01", "to": "2026-03-31" }),
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
                "/api/v1/duty-free/shops/SHOP-R/reservations",
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
                "/api/v1/duty-free/shops/SHOP-R/sales/{sale}/void",
                "operator",
                Value::Null,
            ),
            (
                Method::POST,
                "/api/v1/duty-free/shops/SHOP-R/reservations",
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
                "/api/v1/duty-free/shops/SHOP-R/sales/{sale}/commit",
                "operator",
                Value::Null,
            ),
            (
                Method::POST,
                "/api/v1/duty-free/shops/SHOP-R/sales/{sale}/returns",
                "operator",
                json!({ "items": [{ "line": 0, "quantity": "1" }], "reason": "replay" }),
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
            (
                Method::POST,
                "/api/v1/declarations",
                "c",
                super::second_line::exit_via("R-RED", C, "xinhai"),
            ),
            (
                Method::POST,
                "/api/v1/declarations/{id}/scan-result",
                "officer",
                json!({ "alerted": false, "revision": 1 }),
            ),
            (
                Method::POST,
                "/api/v1/ports/xinhai/channels/xinhai-cargo-01/crossings",
                "officer",
                json!({ "declaration_id": "{id}", "means": "琼A12345" }),
            ),
            (
                Method::PUT,
                "/api/v1/ports/xinhai/capacity",
                "admin",
                json!({ "daily_inspection_capacity": 80 }),
            ),
            (
                Method::PUT,
                "/api/v1/ports/boao/mode",
                "admin",
                json!({ "mode": "system_down", "reason": "replayed" }),
            ),
            // B shipped in batches in a month long past (set up above), consolidates it late, is
            // suspended and is reinstated.
            (
                Method::POST,
                "/api/v1/enterprises/{B}/batch-exit/consolidations",
                "b",
                json!({ "month": batch_month }),
            ),
            (
                Method::POST,
                "/api/v1/enterprises/{B}/batch-exit/reinstatement",
                "officer",
                json!({ "reason": "application approved" }),
            ),
            (
                Method::PUT,
                "/api/v1/enterprises/{B}/second-line-list",
                "officer",
                json!({ "list": "white_list", "reason": "replayed" }),
            ),
            (
                Method::PUT,
                "/api/v1/second-line-lists/individuals",
                "officer",
                json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "list": "key_concern", "reason": "replayed" }),
            ),
            (
                Method::POST,
                "/api/v1/ports/boao/channels/boao-passenger-01/passengers",
                "officer",
                json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "departure_on": "2026-03-05", "carried": [{ "category": "watches", "unit_price": "1000", "quantity": "2" }] }),
            ),
        ];
        for (n, (method, template, who, body)) in steps.into_iter().enumerate() {
            let token = match who {
                "admin" => &admin,
                "officer" => &officer,
                "operator" => &operator,
                "analyst" => &analyst,
                "c" => &c,
                "b" => &b,
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
                .replace("{sha}", &sha)
                .replace("{sale}", &sale_id);
            let body = (!body.is_null())
                .then(|| serde_json::from_str::<Value>(&body.to_string().replace("{id}", &id)))
                .transpose()
                .expect("a body");
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
            if template.ends_with("/reservations") {
                sale_id = r1["id"].as_str().expect("sale id").to_owned();
            }
            covered.push(format!(
                "{method} {}",
                template
                    .replace("{A}", "{code}")
                    .replace("{B}", "{code}")
                    .replace("{item}", "{id}")
                    .replace("{alert}", "{id}")
                    .replace("{sha}", "{sha256}")
                    .replace("{sale}", "{id}")
                    .replace("9000000000000002", "{code}")
                    .replace("SHOP-R", "{shop}")
                    .replace("USD/2026-02-25", "{currency}/{day}")
                    .replace(
                        "xinhai/channels/xinhai-cargo-01",
                        "{port}/channels/{channel}"
                    )
                    .replace("/ports/xinhai/", "/ports/{port}/")
                    .replace(
                        "boao/channels/boao-passenger-01",
                        "{port}/channels/{channel}"
                    )
                    .replace("/ports/boao/", "/ports/{port}/")
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
