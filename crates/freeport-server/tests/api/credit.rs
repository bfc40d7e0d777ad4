//! Enterprise credit from its records, and inspection results feeding rule performance and credit.

use super::*;

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
