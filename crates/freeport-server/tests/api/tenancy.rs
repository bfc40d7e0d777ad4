//! Who may do what: every endpoint with every role and a foreign tenant.

use super::*;

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
        // A basket held at the shop's till, for its commit, void, return and read.
        app.departs(&sale(
            "passport",
            "E12345678",
            Some("GB"),
            "1990-05-01",
            "2026-03-05",
            "watches",
            "1",
            "1",
        ))
        .await;
        let (s, held) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/shops/HK-1/reservations",
                Some(&operator),
                Some("m-held"),
                Some(&sale(
                    "passport",
                    "E12345678",
                    Some("GB"),
                    "1990-05-01",
                    "2026-03-05",
                    "watches",
                    "1000",
                    "1",
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {held}");
        let held = held["id"].as_str().expect("sale id").to_owned();
        // A piece sold with its traceability number, to look up, hand over and see depart.
        let mut traced = sale(
            "passport",
            "E12345678",
            Some("GB"),
            "1990-05-01",
            "2026-03-05",
            "cosmetics",
            "100",
            "1",
        );
        traced["items"][0]["trace_codes"] = json!(["9000000000000001"]);
        let (s, r) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/shops/HK-1/sales",
                Some(&operator),
                Some("m-traced"),
                Some(&traced),
            )
            .await;
        assert_eq!(
            (s, r["accepted"].as_bool()),
            (StatusCode::CREATED, Some(true)),
            "{be}: {r}"
        );
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

        let carrier = app.user(&admin, "carrier", "carrier", Some(A)).await;
        // (who, token); "foreign" is an enterprise user of another enterprise.
        let callers: Vec<(&str, Option<String>)> = vec![
            ("anonymous", None),
            ("carrier", Some(carrier)),
            ("own", Some(own.clone())),
            ("foreign", Some(foreign.clone())),
            ("operator", Some(operator)),
            ("foreign_operator", Some(other_operator)),
            ("officer", Some(officer)),
            ("analyst", Some(analyst)),
            ("admin", Some(admin.clone())),
        ];
        let all = [
            "carrier",
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
                "/api/v1/duty-free/shops/HK-1/sales/live?max_seconds=1".to_owned(),
                None,
                vec!["operator", "officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                "/api/v1/duty-free/shops/HK-1/sales/daily?from=2026-03-01&to=2026-03-31".to_owned(),
                None,
                vec!["operator", "officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                "/api/v1/duty-free/allowance".to_owned(),
                Some(
                    json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "departure_on": "2026-03-05" }),
                ),
                vec![
                    "operator",
                    "foreign_operator",
                    "officer",
                    "analyst",
                    "admin",
                ],
            ),
            (
                Method::GET,
                "/api/v1/duty-free/categories?on=2026-03-02".to_owned(),
                None,
                all.to_vec(),
            ),
            (
                Method::POST,
                "/api/v1/duty-free/dishonesty-list".to_owned(),
                Some(
                    json!({ "document": { "kind": "passport", "number": "E99999999", "issuing_country": "GB" }, "ground": "conviction", "listed_on": "2026-03-01", "reason": "judgment" }),
                ),
                vec!["officer"],
            ),
            (
                Method::GET,
                "/api/v1/duty-free/dishonesty-list".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                "/api/v1/duty-free/items/9000000000000001".to_owned(),
                None,
                vec!["operator", "officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                "/api/v1/duty-free/items/9000000000000001/hand-over".to_owned(),
                None,
                vec!["operator"],
            ),
            (
                Method::POST,
                "/api/v1/duty-free/items/9000000000000001/departure".to_owned(),
                Some(json!({ "port": "haikou-meilan" })),
                vec!["officer"],
            ),
            (
                Method::GET,
                "/api/v1/duty-free/rings?from=2026-03-01&to=2026-03-31".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                "/api/v1/duty-free/rings/alerts".to_owned(),
                Some(json!({ "from": "2026-03-01", "to": "2026-03-31" })),
                vec!["analyst"],
            ),
            (
                Method::POST,
                "/api/v1/departures".to_owned(),
                Some(
                    json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "kind": "flight", "means": "HU7181", "port": "haikou-meilan", "departs_at": "2026-03-05T10:00:00+08:00" }),
                ),
                vec!["carrier", "officer"],
            ),
            (
                Method::POST,
                "/api/v1/duty-free/shops/HK-1/reservations".to_owned(),
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
                format!("/api/v1/duty-free/shops/HK-1/sales/{held}"),
                None,
                vec!["operator", "officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                format!("/api/v1/duty-free/shops/HK-1/sales/{held}/commit"),
                None,
                vec!["operator"],
            ),
            (
                Method::POST,
                format!("/api/v1/duty-free/shops/HK-1/sales/{held}/returns"),
                Some(json!({ "items": [{ "line": 0, "quantity": "1" }], "reason": "matrix" })),
                vec!["operator"],
            ),
            (
                Method::POST,
                format!("/api/v1/duty-free/shops/HK-1/sales/{held}/void"),
                None,
                vec!["operator"],
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
            (Method::GET, "/api/v1/ports".to_owned(), None, all.to_vec()),
            (
                Method::POST,
                format!("/api/v1/declarations/{id}/scan-result"),
                Some(json!({ "alerted": false, "revision": 1 })),
                vec!["officer"],
            ),
            (
                Method::POST,
                "/api/v1/ports/xinhai/channels/xinhai-cargo-01/crossings".to_owned(),
                Some(json!({ "means": "琼A00001" })),
                vec!["officer"],
            ),
            (
                Method::GET,
                "/api/v1/ports/xinhai/load".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                "/api/v1/ports/xinhai/calibration?from=2026-01-01&to=2026-01-31".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                "/api/v1/time-release?from=2026-01-01&to=2026-01-31".to_owned(),
                None,
                vec!["officer", "analyst", "admin"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/batch-exit"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::POST,
                format!("/api/v1/enterprises/{A}/batch-exit/consolidations"),
                Some(json!({ "month": "2026-01" })),
                vec!["own"],
            ),
            (
                Method::POST,
                format!("/api/v1/enterprises/{A}/batch-exit/reinstatement"),
                Some(json!({ "reason": "matrix" })),
                vec!["officer"],
            ),
            (
                Method::POST,
                "/api/v1/ports/boao/channels/boao-passenger-01/passengers".to_owned(),
                Some(
                    json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "departure_on": "2026-03-05", "carried": [] }),
                ),
                vec!["officer"],
            ),
            (
                Method::GET,
                format!("/api/v1/enterprises/{A}/second-line-credit"),
                None,
                vec!["own", "officer", "analyst", "admin"],
            ),
            (
                Method::PUT,
                format!("/api/v1/enterprises/{A}/second-line-list"),
                Some(json!({ "list": "white_list", "reason": "matrix" })),
                vec!["officer"],
            ),
            (
                Method::PUT,
                "/api/v1/second-line-lists/individuals".to_owned(),
                Some(
                    json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "list": "white_list", "reason": "matrix" }),
                ),
                vec!["officer"],
            ),
            (
                Method::PUT,
                "/api/v1/ports/boao/mode".to_owned(),
                Some(json!({ "mode": "system_down", "reason": "matrix" })),
                vec!["admin"],
            ),
            (
                Method::PUT,
                "/api/v1/ports/xinhai/capacity".to_owned(),
                Some(json!({ "daily_inspection_capacity": 80 })),
                vec!["admin"],
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
                    "GET /health"
                        | "POST /api/v1/sessions"
                        | "DELETE /api/v1/sessions"
                        | "POST /api/v1/travellers/allowance"
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
                    .replace(&held, "{id}")
                    .replace("9000000000000001", "{code}")
                    .replace(A, "{code}")
                    .replace("USD/2026-02-25", "{currency}/{day}")
                    .replace("HK-1", "{shop}")
                    .replace(
                        "xinhai/channels/xinhai-cargo-01",
                        "{port}/channels/{channel}",
                    )
                    .replace("/ports/xinhai/", "/ports/{port}/")
                    .replace(
                        "boao/channels/boao-passenger-01",
                        "{port}/channels/{channel}",
                    )
                    .replace("/ports/boao/", "/ports/{port}/");
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
