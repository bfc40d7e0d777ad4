//! A declaration from entry to the mainland with its books, cancellation and amendment.

use super::*;

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
