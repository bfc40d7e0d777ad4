//! Supervised goods: per-item supervision and early disposal with back taxes.

use super::*;

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
