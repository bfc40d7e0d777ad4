//! One item, one code (R4.9) and the pick-up modes (R4.5): each piece's traceability number followed
//! from the sale to its hand-over, its departure with the buyer against the departure on record, or
//! its return; the chosen mode recorded, and a guarantee for what is taken against one.

use super::*;

fn traced(codes: &[&str], pickup: &str) -> Value {
    let mut b = sale(
        "passport",
        "E12345678",
        Some("GB"),
        "1990-05-01",
        "2026-03-05",
        "cosmetics",
        "200",
        &codes.len().to_string(),
    );
    b["items"][0]["trace_codes"] = json!(codes);
    b["items"][0]["pickup"] = json!(pickup);
    b
}

#[tokio::test]
async fn a_piece_is_followed_by_its_number_from_the_sale_to_the_departure_or_the_return() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let _ = app.enterprise(&admin, A, false).await;
        let op = app.user(&admin, "op", "duty_free_operator", Some(C)).await;
        let other = app
            .user(&admin, "other", "duty_free_operator", Some(A))
            .await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
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
        app.departs(&traced(&[], "departure")).await;
        let sell = |key: &'static str, body: Value| {
            let (app, op) = (&app, op.clone());
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/duty-free/shops/HK-1/sales",
                    Some(&op),
                    Some(key),
                    Some(&body),
                )
                .await
            }
        };
        let (one, two) = ("1000000000000001", "1000000000000002");
        let (s, sold) = sell("s-1", traced(&[one, two], "departure")).await;
        assert_eq!(
            (s, sold["accepted"].as_bool()),
            (StatusCode::CREATED, Some(true)),
            "{be}: {sold}"
        );

        let item = |code: &'static str, token: String| {
            let app = &app;
            async move {
                app.call(
                    Method::GET,
                    &format!("/api/v1/duty-free/items/{code}"),
                    Some(&token),
                    None,
                    None,
                )
                .await
            }
        };
        let (s, i) = item(one, officer.clone()).await;
        assert_eq!(s, StatusCode::OK, "{be}: {i}");
        assert_eq!(
            (
                i["state"].as_str(),
                i["shop"].as_str(),
                i["pickup"].as_str(),
                i["departure"]["means"].as_str(),
                i["departure"]["port"].as_str()
            ),
            (
                Some("sold"),
                Some("HK-1"),
                Some("departure"),
                Some("HU7181"),
                Some("haikou-meilan")
            ),
            "{be}: {i}"
        );
        assert_eq!(i["sale_id"], sold["id"], "{be}");
        assert!(
            i["person_code"]
                .as_str()
                .is_some_and(|p| p.len() == 64 && !p.contains("E12345678"))
        );
        let (s, _) = item(one, other.clone()).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{be}: another operator's piece is absent"
        );
        let (s, _) = item("12", officer.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{be}");

        // Handed over once; it leaves only from the port the buyer departs from.
        let post = |path: String, token: String, key: &'static str, body: Option<Value>| {
            let app = &app;
            async move {
                app.call(Method::POST, &path, Some(&token), Some(key), body.as_ref())
                    .await
            }
        };
        let (s, h) = post(
            format!("/api/v1/duty-free/items/{one}/hand-over"),
            op.clone(),
            "h-1",
            None,
        )
        .await;
        assert_eq!(
            (s, h["state"].as_str()),
            (StatusCode::OK, Some("handed_over")),
            "{be}: {h}"
        );
        let (s, _) = post(
            format!("/api/v1/duty-free/items/{one}/hand-over"),
            op.clone(),
            "h-2",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}");
        let (s, e) = post(
            format!("/api/v1/duty-free/items/{one}/departure"),
            officer.clone(),
            "d-1",
            Some(json!({ "port": "sanya-phoenix" })),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "{be}: the buyer leaves from Haikou: {e}"
        );
        let (s, d) = post(
            format!("/api/v1/duty-free/items/{one}/departure"),
            officer.clone(),
            "d-2",
            Some(json!({ "port": "haikou-meilan" })),
        )
        .await;
        assert_eq!(
            (s, d["state"].as_str()),
            (StatusCode::OK, Some("departed")),
            "{be}: {d}"
        );
        assert!(d["departed_at_ms"].as_i64().is_some(), "{be}");

        // One piece comes back: the one still in the shop's hands, not the one gone.
        let id = sold["id"].as_str().expect("id");
        let (s, r) = post(
            format!("/api/v1/duty-free/shops/HK-1/sales/{id}/returns"),
            op.clone(),
            "ret",
            Some(json!({ "items": [{ "line": 0, "quantity": "1" }], "reason": "shade" })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {r}");
        let (_, i2) = item(two, officer.clone()).await;
        assert_eq!(i2["state"], "returned", "{be}: {i2}");
        let (_, i1) = item(one, officer.clone()).await;
        assert_eq!(i1["state"], "departed", "{be}: {i1}");

        // A number is sold once; a mode must be open to the item.
        let (s, e) = sell("s-2", traced(&[two], "departure")).await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("items[0].trace_codes")
            ),
            "{be}: {e}"
        );
        let mut phone = sale(
            "passport",
            "E12345678",
            Some("GB"),
            "1990-05-01",
            "2026-03-05",
            "mobile_phones",
            "5000",
            "1",
        );
        phone["items"][0]["pickup"] = json!("buy_and_take");
        let (s, e) = sell("s-3", phone).await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("items[0].pickup")),
            "{be}: {e}"
        );
        // Two watches at 50 000 take a whole year's quota: another buyer's, leaving that day.
        let mut watch = sale(
            "passport",
            "E22345678",
            Some("GB"),
            "1990-05-01",
            "2026-03-05",
            "watches",
            "50000",
            "1",
        );
        app.departs(&watch).await;
        watch["items"][0]["pickup"] = json!("guarantee_and_take");
        let (s, e) = sell("s-4", watch.clone()).await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("items[0].trace_codes")
            ),
            "{be}: a guarantee follows numbered pieces: {e}"
        );
        let pieces = ["1000000000000009", "1000000000000010"];
        watch["items"][0]["quantity"] = json!("2");
        watch["items"][0]["trace_codes"] = json!(pieces);
        let (s, w) = sell("s-5", watch).await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {w}");
        assert!(
            w["decision"]["guarantee"]
                .as_str()
                .is_some_and(|g| g != "0.00"),
            "{be}: a guarantee of the articles tax: {w}"
        );
        assert_eq!(w["guarantee"], w["decision"]["guarantee"], "{be}: {w}");
        assert_eq!(w["guarantee_released_at_ms"], Value::Null, "{be}: held");
        // R4.5(4): the guarantee goes back once every piece has left with the buyer, verified at
        // the port against the departure on record; one piece gone is not enough.
        let wid = w["id"].as_str().expect("id").to_owned();
        let released = || {
            let (app, op, wid) = (&app, op.clone(), wid.clone());
            async move {
                let (s, after) = app
                    .call(
                        Method::GET,
                        &format!("/api/v1/duty-free/shops/HK-1/sales/{wid}"),
                        Some(&op),
                        None,
                        None,
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{after}");
                after["sale"]["guarantee_released_at_ms"].as_i64()
            }
        };
        for (n, piece) in pieces.iter().enumerate() {
            assert_eq!(
                released().await,
                None,
                "{be}: held while a piece is on the island"
            );
            let (s, d) = post(
                format!("/api/v1/duty-free/items/{piece}/departure"),
                officer.clone(),
                ["d-3", "d-4"][n],
                Some(json!({ "port": "haikou-meilan" })),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{be}: {d}");
        }
        assert!(released().await.is_some(), "{be}: released");
        // The first sale had no guarantee: nothing to release.
        let (_, first) = app
            .call(
                Method::GET,
                &format!("/api/v1/duty-free/shops/HK-1/sales/{id}"),
                Some(&op),
                None,
                None,
            )
            .await;
        assert_eq!(
            first["sale"]["guarantee_released_at_ms"],
            Value::Null,
            "{be}: {first}"
        );
    }
}

/// R4.5(5): a buyer who takes goods at once and has no departure on record within the pack's 30
/// days is raised as an alert, once; one who left is not.
#[tokio::test]
async fn a_buyer_who_takes_goods_at_once_and_stays_is_raised_as_an_alert() {
    use freeport_server::clock::{Clock, ManualClock};
    let clock = std::sync::Arc::new(ManualClock::new(0));
    for app in apps_on(Some(clock.clone())).await {
        let be = app.backend.clone();
        clock.set(ManualClock::at_day(time::macros::date!(2026 - 03 - 02)).now_ms() + 36_000_000);
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let op = app.user(&admin, "op", "duty_free_operator", Some(C)).await;
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
        // One buyer leaves on 5 March; the other's departure is not until 20 April.
        let mut stays = Vec::new();
        for (n, (number, departure)) in [("E66666661", "2026-03-05"), ("E66666662", "2026-04-20")]
            .into_iter()
            .enumerate()
        {
            let mut body = sale(
                "passport",
                number,
                Some("GB"),
                "1990-05-01",
                departure,
                "cosmetics",
                "200",
                "2",
            );
            body["items"][0]["pickup"] = json!("buy_and_take");
            app.departs(&body).await;
            let (s, r) = app
                .call(
                    Method::POST,
                    "/api/v1/duty-free/shops/HK-1/sales",
                    Some(&op),
                    Some(&format!("s-{n}")),
                    Some(&body),
                )
                .await;
            assert_eq!(
                (s, r["accepted"].as_bool()),
                (StatusCode::CREATED, Some(true)),
                "{be}: {r}"
            );
            stays.push(r["id"].as_str().expect("id").to_owned());
        }
        let raised = || {
            let app = &app;
            async move {
                app.state
                    .store
                    .alerts(None, "", 100)
                    .await
                    .expect("alerts")
                    .into_iter()
                    .filter(|a| a.kind == freeport_app::pickup::STAYED_KIND)
                    .collect::<Vec<_>>()
            }
        };
        // Within the 30 days nothing is due.
        assert_eq!(
            freeport_app::pickup::overdue_takers(&app.state)
                .await
                .expect("look"),
            0,
            "{be}"
        );
        clock.set(ManualClock::at_day(time::macros::date!(2026 - 04 - 02)).now_ms() + 36_000_000);
        assert_eq!(
            freeport_app::pickup::overdue_takers(&app.state)
                .await
                .expect("look"),
            1,
            "{be}"
        );
        let alerts = raised().await;
        assert_eq!(alerts.len(), 1, "{be}");
        assert!(
            alerts[0].details_json.contains(&stays[1]),
            "{be}: the one who stayed: {}",
            alerts[0].details_json
        );
        assert!(
            alerts[0]
                .person_code
                .as_deref()
                .is_some_and(|p| !p.contains("E6666666"))
        );
        // Looking again raises nothing new.
        freeport_app::pickup::overdue_takers(&app.state)
            .await
            .expect("look");
        assert_eq!(raised().await.len(), 1, "{be}");
    }
}
