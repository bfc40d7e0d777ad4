//! Offshore duty-free: quota, limits and shops; proxy buying and bans.

use super::*;

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
        app.departs(&passport("1")).await;
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
        app.departs(&cosmetics("1", "2026-03-05")).await;
        app.departs(&cosmetics("1", "2026-03-20")).await;
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
        for day in ["2026-03-05", "2026-03-12", "2026-03-20", "2026-03-25"] {
            app.departs(&sale(
                "passport",
                "E55555555",
                Some("GB"),
                "1990-05-01",
                day,
                "watches",
                "1",
                "1",
            ))
            .await;
        }
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

        // R4.7(b): one penalty does not list; a second ban puts the person on the serious-
        // dishonesty list by itself, for the pack's years from the ban's day.
        let list = || {
            let (officer, app) = (officer.clone(), &app);
            async move {
                let (s, page) = app
                    .call(
                        Method::GET,
                        "/api/v1/duty-free/dishonesty-list",
                        Some(&officer),
                        None,
                        None,
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{page}");
                page["items"].as_array().cloned().unwrap_or_default()
            }
        };
        assert!(list().await.is_empty(), "{be}: one penalty");
        app.state
            .store
            .raise_alerts(
                &[freeport_store::NewAlert {
                    id: "second-alert".into(),
                    dedupe_key: format!("proxy:{person}:2026-04"),
                    kind: "proxy_buying".into(),
                    subject: "one buyer, three departures within 30 days".into(),
                    enterprise: None,
                    declaration_id: None,
                    person_code: Some(person.clone()),
                    raised_on: "2026-04-20".into(),
                    details_json: "{}".into(),
                }],
                1,
            )
            .await
            .expect("raised");
        let path = |step: &str| format!("/api/v1/alerts/second-alert/{step}");
        let (s, r) = app
            .call(
                Method::POST,
                &path("analysis"),
                Some(&analyst),
                Some("an-2"),
                Some(&json!({ "conclusion": "confirmed", "notes": "again", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (s, r) = app
            .call(
                Method::POST,
                &path("disposal"),
                Some(&officer),
                Some("ban-2"),
                Some(&json!({ "action": "ban_duty_free", "revision": 2 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let listed = list().await;
        assert_eq!(listed.len(), 1, "{be}: {listed:?}");
        assert_eq!(listed[0]["person_code"], person.as_str());
        assert_eq!(listed[0]["ground"], "two_or_more_penalties");
        let today = app.state.today();
        assert_eq!(listed[0]["listed_on"], today.to_string());
        let until = freeport_core::calendar::add_months(today, 36)
            .previous_day()
            .expect("a day");
        assert_eq!(listed[0]["until"], until.to_string(), "{be}");
    }
}
