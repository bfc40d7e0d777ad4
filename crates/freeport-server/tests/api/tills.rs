//! A duty-free till's two phases: a basket reserved whole against the quota and the departure's
//! category limits, committed or voided, expiring by itself; committed goods returned.

use std::sync::Arc;

use freeport_server::clock::{Clock, ManualClock};

use super::*;

/// A passport holder's basket of `n` pieces of `category` at `price` each, held `hold` seconds.
fn basket(category: &str, price: &str, n: &str, hold: Option<i64>) -> Value {
    let mut b = sale(
        "passport",
        "E12345678",
        Some("GB"),
        "1990-05-01",
        "2026-03-05",
        category,
        price,
        n,
    );
    if let Some(h) = hold {
        b["hold_seconds"] = json!(h);
    }
    b
}

/// Reserve, void, commit, return and expire against one buyer's quota and cosmetics allowance,
/// checking the ledger's figures after each step.
#[tokio::test]
async fn a_till_reserves_commits_voids_returns_and_lets_reservations_expire() {
    let clock = Arc::new(ManualClock::new(0));
    for app in apps_on(Some(clock.clone())).await {
        let be = app.backend.clone();
        clock.set(ManualClock::at_day(time::macros::date!(2026 - 03 - 02)).now_ms() + 36_000_000);
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let op = app
            .user(&admin, "op-c", "duty_free_operator", Some(C))
            .await;
        let (s, _) = app
            .call(
                Method::PUT,
                "/api/v1/duty-free/shops/SANYA-1",
                Some(&admin),
                Some("shop"),
                Some(&json!({ "operator": C, "name": "Sanya", "location": "Hainan" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let call = |method: Method, path: String, key: Option<String>, body: Option<Value>| {
            let (app, op) = (&app, op.clone());
            async move {
                app.call(method, &path, Some(&op), key.as_deref(), body.as_ref())
                    .await
            }
        };
        let reserve = |key: &str, body: Value| {
            call(
                Method::POST,
                "/api/v1/duty-free/shops/SANYA-1/reservations".into(),
                Some(key.into()),
                Some(body),
            )
        };
        let settle = |id: &str, verb: &str, key: &str| {
            call(
                Method::POST,
                format!("/api/v1/duty-free/shops/SANYA-1/sales/{id}/{verb}"),
                Some(key.into()),
                None,
            )
        };
        let person = {
            let doc =
                freeport_core::identity::PersonDocument::parse("passport", "E12345678", Some("GB"))
                    .expect("passport");
            app.state.store.person_code(&doc.canonical_key())
        };
        let ledger = || {
            let (app, person) = (&app, person.clone());
            async move {
                let quota = app
                    .state
                    .store
                    .quota_year(freeport_core::quota_ledger::Scheme::Offshore, &person, 2026)
                    .await
                    .expect("quota");
                let cosmetics = app
                    .state
                    .store
                    .allowances(&person, "2026-03-05")
                    .await
                    .expect("allowances")
                    .into_iter()
                    .find(|(c, _)| c == "cosmetics")
                    .map_or(0, |(_, m)| m);
                (quota, cosmetics)
            }
        };

        // Without a departure on record, nothing is sold (R4.3).
        let (_, none) = reserve("r-0", basket("watches", "100", "1", None)).await;
        assert_eq!(
            (
                none["state"].as_str(),
                none["decision"]["refusals"][0]["code"].as_str()
            ),
            (Some("refused"), Some("no_departure")),
            "{be}: {none}"
        );
        app.departs(&basket("watches", "1", "1", None)).await;
        // 60 000 of watches held: pending, with its deadline; the quota holds it as reserved.
        let (s, watch) = reserve("r-1", basket("watches", "60000", "1", Some(120))).await;
        assert_eq!(
            (s, watch["state"].as_str(), watch["expires_at_ms"].as_i64()),
            (
                StatusCode::CREATED,
                Some("pending"),
                Some(clock.now_ms() + 120_000)
            ),
            "{be}: {watch}"
        );
        assert_eq!(ledger().await, ((0, 6_000_000), 0), "{be}");
        // A second basket that would pass the quota with the first still held is refused with the
        // shortfall named, and holds nothing.
        let (_, over) = reserve("r-2", basket("watches", "45000", "1", None)).await;
        assert_eq!(over["state"], "refused", "{be}: {over}");
        let why = over["decision"]["refusals"][0]["explanation"]["finding"].to_string();
        assert!(why.contains("5000.00 CNY short"), "{be}: {why}");
        // Voided: the quota is free again.
        let watch_id = watch["id"].as_str().expect("id").to_owned();
        let (s, v) = settle(&watch_id, "void", "v-1").await;
        assert_eq!(
            (s, v["state"].as_str()),
            (StatusCode::OK, Some("voided")),
            "{be}: {v}"
        );
        assert_eq!(ledger().await, ((0, 0), 0), "{be}");
        let (s, e) = settle(&watch_id, "commit", "c-0").await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: a void is final: {e}");

        // 30 cosmetics (the departure's limit) reserved and committed: spent, allowance full.
        let (_, lip) = reserve("r-3", basket("cosmetics", "200.5", "30", None)).await;
        let lip_id = lip["id"].as_str().expect("id").to_owned();
        let (s, c) = settle(&lip_id, "commit", "c-1").await;
        assert_eq!(
            (s, c["state"].as_str()),
            (StatusCode::OK, Some("committed")),
            "{be}: {c}"
        );
        assert_eq!(ledger().await, ((601_500, 0), 30_000), "{be}");
        let (_, more) = reserve("r-4", basket("cosmetics", "10", "1", None)).await;
        assert_eq!(more["state"], "refused", "{be}: the limit is held: {more}");
        let (s, again) = settle(&lip_id, "commit", "c-1").await;
        assert_eq!(
            (s, again["state"].as_str()),
            (StatusCode::OK, Some("committed")),
            "{be}: a retry replays"
        );

        // 10 of the 30 come back: 2 005.00 refunded, 10 of the allowance free again.
        let ret = |key: &str, body: Value| {
            call(
                Method::POST,
                format!("/api/v1/duty-free/shops/SANYA-1/sales/{lip_id}/returns"),
                Some(key.into()),
                Some(body),
            )
        };
        let (s, r) = ret(
            "ret-1",
            json!({ "items": [{ "line": 0, "quantity": "10" }], "reason": "wrong shade" }),
        )
        .await;
        assert_eq!(
            (s, r["refund"].as_str()),
            (StatusCode::CREATED, Some("2005.00")),
            "{be}: {r}"
        );
        assert_eq!(ledger().await, ((401_000, 0), 20_000), "{be}");
        let (s, e) = ret(
            "ret-2",
            json!({ "items": [{ "line": 0, "quantity": "21" }], "reason": "all" }),
        )
        .await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("items[0].quantity")),
            "{be}: only 20 are left: {e}"
        );
        let (s, last) = ret(
            "ret-3",
            json!({ "items": [{ "line": 0, "quantity": "20" }], "reason": "all" }),
        )
        .await;
        assert_eq!(
            (s, last["refund"].as_str()),
            (StatusCode::CREATED, Some("4010.00")),
            "{be}: {last}"
        );
        assert_eq!(ledger().await, ((0, 0), 0), "{be}: every fen back");
        let (_, detail) = call(
            Method::GET,
            format!("/api/v1/duty-free/shops/SANYA-1/sales/{lip_id}"),
            None,
            None,
        )
        .await;
        assert_eq!(
            (
                detail["sale"]["returned"].as_str(),
                detail["lines"][0]["returned_quantity"].as_str()
            ),
            (Some("6015.00"), Some("30")),
            "{be}: {detail}"
        );

        // An unconfirmed reservation expires by itself: its quota is free for the next basket,
        // and committing it is refused.
        let (_, held) = reserve("r-5", basket("watches", "99000", "1", Some(60))).await;
        assert_eq!(held["state"], "pending", "{be}: {held}");
        clock.advance(61_000);
        let op2 = app.login("op-c", "a-long-enough-password").await;
        let (_, next) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/shops/SANYA-1/reservations",
                Some(&op2),
                Some("r-6"),
                Some(&basket("watches", "99000", "1", None)),
            )
            .await;
        assert_eq!(
            next["state"], "pending",
            "{be}: the expired hold gave its quota back: {next}"
        );
        let (s, e) = app
            .call(
                Method::POST,
                &format!(
                    "/api/v1/duty-free/shops/SANYA-1/sales/{}/commit",
                    held["id"].as_str().expect("id")
                ),
                Some(&op2),
                Some("c-late"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: {e}");
        let (_, late) = app
            .call(
                Method::GET,
                &format!(
                    "/api/v1/duty-free/shops/SANYA-1/sales/{}",
                    held["id"].as_str().expect("id")
                ),
                Some(&op2),
                None,
                None,
            )
            .await;
        assert_eq!(late["sale"]["state"], "expired", "{be}: {late}");
        assert_eq!(ledger().await, ((0, 9_900_000), 0), "{be}");
        // What the buyer may still buy, as the till reads it before ringing up.
        let (s, a) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/allowance",
                Some(&op2),
                None,
                Some(&json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "departure_on": "2026-03-05" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {a}");
        let cosmetics = a["categories"]
            .as_array()
            .expect("categories")
            .iter()
            .find(|c| c["category"] == "cosmetics")
            .expect("cosmetics")
            .clone();
        assert_eq!(
            (
                a["spent"].as_str(),
                a["reserved"].as_str(),
                a["remaining"].as_str(),
                a["departure_on_record"].as_bool(),
                cosmetics["taken"].as_str(),
                cosmetics["remaining"].as_str()
            ),
            (
                Some("0.00"),
                Some("99000.00"),
                Some("1000.00"),
                Some(true),
                Some("0"),
                Some("30")
            ),
            "{be}: {a}"
        );
        // The shop's day: one sale committed and wholly returned, one pending, one voided, one
        // expired, three refused.
        let (s, daily) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/shops/SANYA-1/sales/daily?from=2026-03-01&to=2026-03-31",
                Some(&op2),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {daily}");
        let d = &daily["days"][0];
        assert_eq!(
            (
                d["day"].as_str(),
                d["committed"].as_i64(),
                d["committed_total"].as_str(),
                d["returned_total"].as_str(),
                d["net_total"].as_str(),
                (
                    d["pending"].as_i64(),
                    d["voided"].as_i64(),
                    d["expired"].as_i64(),
                    d["refused"].as_i64()
                )
            ),
            (
                Some("2026-03-02"),
                Some(1),
                Some("6015.00"),
                Some("6015.00"),
                Some("0.00"),
                (Some(1), Some(1), Some(1), Some(3))
            ),
            "{be}: {daily}"
        );
        // A sale made at once is not held.
        let (s, e) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/shops/SANYA-1/sales",
                Some(&op2),
                Some("s-held"),
                Some(&basket("watches", "1", "1", Some(60))),
            )
            .await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("hold_seconds")),
            "{be}: {e}"
        );
    }
}
