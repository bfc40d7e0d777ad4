//! Residents at the till: zero-tariff consumer imports as a second quota of the ledger in
//! designated stores (R4.11, TV-13), buy-and-take without a ticket in a year with a departure
//! (R4.5(6)), the serious-dishonesty list (R4.7), and the pack's categories with unverified limits.

use super::*;

fn hainan_resident(first17: &str) -> String {
    let check = freeport_core::identity::resident_id_check_digit(first17).expect("digit");
    format!("{first17}{check}")
}

fn zero_tariff(number: &str, birth: &str, price: &str) -> Value {
    json!({
        "scheme": "resident_zero_tariff",
        "document": { "kind": "resident_id", "number": number },
        "birth_date": birth, "sold_on": "2026-03-02",
        "items": [{ "category": "food", "description": "olive oil", "unit_price": price, "quantity": "1" }],
    })
}

fn remaining_zero_tariff(a: &Value) -> &Value {
    &a["resident_zero_tariff"]["remaining"]
}

#[tokio::test]
async fn residents_spend_a_second_quota_in_designated_stores_only() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let op = app
            .user(&admin, "op-c", "duty_free_operator", Some(C))
            .await;
        for (shop, designated) in [("ZT-1", true), ("DF-1", false)] {
            let body = json!({ "operator": C, "name": shop, "location": "Haikou", "resident_zero_tariff": designated });
            let (s, b) = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/duty-free/shops/{shop}"),
                    Some(&admin),
                    Some(shop),
                    Some(&body),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{be}: {b}");
            assert_eq!(b["resident_zero_tariff"], designated);
        }
        let sell = |shop: &str, key: &str, body: Value| {
            let path = format!("/api/v1/duty-free/shops/{shop}/sales");
            let (key, op, app) = (key.to_owned(), op.clone(), &app);
            async move {
                app.call(Method::POST, &path, Some(&op), Some(&key), Some(&body))
                    .await
            }
        };
        // TV-13: a child resident (no minimum age) with 9 800 spent; a basket of 300 is 100 short.
        let child = hainan_resident("46010020190601123");
        let (s, first) = sell("ZT-1", "zt-1", zero_tariff(&child, "2019-06-01", "9800")).await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {first}");
        assert_eq!(first["accepted"], true, "{be}: {first}");
        assert_eq!(first["scheme"], "resident_zero_tariff");
        assert_eq!(first["departure_on"], Value::Null);
        assert_eq!(
            first["decision"]["steps"]
                .as_array()
                .expect("steps")
                .last()
                .expect("last")["rule"],
            "R4.11"
        );
        let (_, over) = sell("ZT-1", "zt-2", zero_tariff(&child, "2019-06-01", "300")).await;
        assert_eq!(over["accepted"], false, "{be}: {over}");
        let refusal = &over["decision"]["refusals"][0];
        assert_eq!(refusal["code"], "quota_exceeded");
        let text = refusal["explanation"]["finding"].as_str().expect("text");
        assert!(
            text.contains("200.00 CNY left") && text.contains("100.00 CNY short"),
            "{be}: {text}"
        );
        let (_, exact) = sell("ZT-1", "zt-3", zero_tariff(&child, "2019-06-01", "200")).await;
        assert_eq!(exact["accepted"], true, "{be}: {exact}");
        // The offshore quota is another: untouched.
        let ask = json!({ "document": { "kind": "resident_id", "number": child }, "departure_on": "2026-12-31" });
        let allowance = || {
            let (app, op, ask) = (&app, op.clone(), ask.clone());
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/duty-free/allowance",
                    Some(&op),
                    None,
                    Some(&ask),
                )
                .await
            }
        };

        let (s, a) = allowance().await;
        assert_eq!(s, StatusCode::OK, "{be}: {a}");
        assert_eq!(remaining_zero_tariff(&a), "0.00", "{be}: {a}");
        assert_eq!(a["spent"], "0.00", "{be}: the offshore quota is untouched");
        // A return gives the zero-tariff quota back, not the offshore one.
        let id = exact["id"].as_str().expect("id");
        let back = json!({ "items": [{ "line": 0, "quantity": "1" }], "reason": "spoilt" });
        let (s, b) = app
            .call(
                Method::POST,
                &format!("/api/v1/duty-free/shops/ZT-1/sales/{id}/returns"),
                Some(&op),
                Some("zt-back"),
                Some(&back),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {b}");
        let (_, a) = allowance().await;
        assert_eq!(remaining_zero_tariff(&a), "200.00", "{be}: {a}");
        // A store not designated refuses the scheme as bad input, and writes nothing.
        let (s, b) = sell("DF-1", "zt-4", zero_tariff(&child, "2019-06-01", "10")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {b}");
        assert_eq!(b["details"]["field"], "scheme", "{be}: {b}");
        // Not a Hainan resident: refused, with the reason.
        let visitor = hainan_resident("11010519900601123");
        let (_, b) = sell("ZT-1", "zt-5", zero_tariff(&visitor, "1990-06-01", "10")).await;
        assert_eq!(
            b["decision"]["refusals"][0]["code"], "not_resident",
            "{be}: {b}"
        );
        // A reservation holds the zero-tariff quota until voided.
        let path = "/api/v1/duty-free/shops/ZT-1/reservations";
        let (s, r) = app
            .call(
                Method::POST,
                path,
                Some(&op),
                Some("zt-r"),
                Some(&zero_tariff(&child, "2019-06-01", "150")),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {r}");
        let (_, a) = allowance().await;
        assert_eq!(a["resident_zero_tariff"]["reserved"], "150.00", "{be}: {a}");
        let rid = r["id"].as_str().expect("id");
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/duty-free/shops/ZT-1/sales/{rid}/void"),
                Some(&op),
                Some("zt-v"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, a) = allowance().await;
        assert_eq!(remaining_zero_tariff(&a), "200.00", "{be}: {a}");
    }
}

#[tokio::test]
async fn a_resident_who_left_this_year_buys_and_takes_and_the_dishonest_are_refused() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let op = app
            .user(&admin, "op-c", "duty_free_operator", Some(C))
            .await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let (s, _) = app
            .call(
                Method::PUT,
                "/api/v1/duty-free/shops/DF-1",
                Some(&admin),
                Some("shop"),
                Some(&json!({ "operator": C, "name": "DF", "location": "Sanya" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let adult = hainan_resident("46010019900501123");
        let take = json!({
            "document": { "kind": "resident_id", "number": adult },
            "birth_date": "1990-05-01", "sold_on": "2026-03-02",
            "items": [{ "category": "cosmetics", "description": "cream", "unit_price": "300", "quantity": "2", "pickup": "buy_and_take" }],
        });
        let path = "/api/v1/duty-free/shops/DF-1/sales";
        let (_, b) = app
            .call(Method::POST, path, Some(&op), Some("t-1"), Some(&take))
            .await;
        assert_eq!(b["accepted"], false, "{be}: {b}");
        assert_eq!(b["decision"]["refusals"][0]["code"], "no_departure");
        assert_eq!(
            b["decision"]["refusals"][0]["explanation"]["rule"],
            "R4.5(6)"
        );
        // A departure from the island in February makes the year's buy-and-take open.
        let mut trip = take.clone();
        trip["departure_on"] = json!("2026-02-10");
        app.departs(&trip).await;
        let (_, b) = app
            .call(Method::POST, path, Some(&op), Some("t-2"), Some(&take))
            .await;
        assert_eq!(b["accepted"], true, "{be}: {b}");
        assert_eq!(b["departure_on"], Value::Null);
        assert_eq!(b["decision"]["leave_island_by"], Value::Null);
        // R4.7: listed by customs, refused at every till; the list shows person codes only.
        let listing = json!({ "document": { "kind": "resident_id", "number": adult }, "ground": "conviction", "listed_on": "2026-03-01", "reason": "judgment (2026) Qiong 0105 No. 1" });
        let list = "/api/v1/duty-free/dishonesty-list";
        let (s, _) = app
            .call(Method::POST, list, Some(&op), Some("l-0"), Some(&listing))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{be}: an operator does not list");
        let (s, l) = app
            .call(
                Method::POST,
                list,
                Some(&officer),
                Some("l-1"),
                Some(&listing),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {l}");
        assert_eq!(l["until"], "2029-02-28");
        let (_, b) = app
            .call(Method::POST, path, Some(&op), Some("t-3"), Some(&take))
            .await;
        assert_eq!(
            b["decision"]["refusals"][0]["code"], "serious_dishonesty",
            "{be}: {b}"
        );
        assert_eq!(b["decision"]["refusals"][0]["explanation"]["rule"], "R4.7");
        let (s, page) = app
            .call(
                Method::GET,
                &format!("{list}?on=2026-12-01"),
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {page}");
        assert_eq!(page["items"].as_array().expect("items").len(), 1);
        assert!(
            !page.to_string().contains(&adult),
            "{be}: the number is never in clear"
        );
        let mut early = listing.clone();
        early["listed_on"] = json!("2021-06-01");
        let (s, b) = app
            .call(
                Method::POST,
                list,
                Some(&officer),
                Some("l-2"),
                Some(&early),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {b}");
        assert_eq!(b["details"]["field"], "listed_on");
    }
}

#[tokio::test]
async fn the_categories_say_which_limits_are_unverified() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let (s, c) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/categories?on=2026-03-02",
                Some(&admin),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {c}");
        assert_eq!(c["pack_version"], "hainan/2026-02-05");
        let find = |id: &str| {
            c["categories"]
                .as_array()
                .expect("categories")
                .iter()
                .find(|x| x["id"] == id)
                .cloned()
                .expect("category")
        };
        assert_eq!(find("mobile_phones")["per_departure_limit"], "4");
        assert_eq!(find("mobile_phones")["limit_status"], "verified");
        assert_eq!(find("pet_supplies")["limit_status"], "unverified");
        assert_eq!(find("cosmetics")["buy_and_take_limit_status"], "unverified");
        assert_eq!(c["resident_zero_tariff"]["annual_quota"], "10000.00");
        assert_eq!(
            c["resident_zero_tariff"]["goods"]
                .as_array()
                .expect("goods")
                .len(),
            5
        );
        let (_, old) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/categories?on=2021-03-02",
                Some(&admin),
                None,
                None,
            )
            .await;
        assert_eq!(old["pack_version"], "hainan/2020-07-01");
        assert_eq!(old["resident_zero_tariff"], Value::Null);
        let (s, _) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/categories?on=2021-13-02",
                Some(&admin),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

/// A traveller reads their own quotas without an account: no ban or listing in the answer, a
/// resident's birth date checked against the card, and a limit on look-ups from one address.
#[tokio::test]
async fn a_traveller_reads_their_own_allowance_without_an_account() {
    for app in apps().await {
        let be = app.backend.clone();
        let adult = hainan_resident("46010019900501123");
        let ask = |birth: &str| json!({ "document": { "kind": "resident_id", "number": adult }, "birth_date": birth, "departure_on": "2026-12-31" });
        let path = "/api/v1/travellers/allowance";
        let (s, a) = app
            .call(Method::POST, path, None, None, Some(&ask("1990-05-01")))
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {a}");
        assert_eq!(a["remaining"], "100000.00", "{be}: {a}");
        assert_eq!(a["banned_until"], Value::Null);
        assert_eq!(
            a["departure_on_record"],
            Value::Null,
            "{be}: no travel days to strangers"
        );
        assert_eq!(a["dishonest_until"], Value::Null);
        assert_eq!(
            a["resident_zero_tariff"]["remaining"], "10000.00",
            "{be}: {a}"
        );
        let (s, e) = app
            .call(Method::POST, path, None, None, Some(&ask("1990-05-02")))
            .await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("birth_date")),
            "{be}: {e}"
        );
        let limit = freeport_server::TRAVELLER_LOOKUPS_PER_MINUTE;
        let mut statuses = Vec::new();
        // Every look-up counts, a refused one too: two so far.
        for _ in 3..=limit {
            statuses.push(
                app.call(Method::POST, path, None, None, Some(&ask("1990-05-01")))
                    .await
                    .0,
            );
        }
        assert!(
            statuses.iter().all(|s| *s == StatusCode::OK),
            "{be}: {statuses:?}"
        );
        let (s, e) = app
            .call(Method::POST, path, None, None, Some(&ask("1990-05-01")))
            .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{be}: {e}");
    }
}
