//! Rule sets: back-tested, shadowed and activated, with who and why.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_sets_are_back_tested_shadowed_and_activated_with_who_and_why() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        // A malformed file is refused with its line and column.
        let (s, r) = app
            .call(Method::POST, "/api/v1/risk/rule-sets", Some(&analyst), Some("bad"), Some(&json!({ "source": "ruleset \"x\" version 1\n\nrule \"R\"\n  when hs in prefix(\"84\"\n  then score 1\nend\n" })))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {r}");
        assert!(r.to_string().contains("line 5, column"), "{be}: {r}");

        let (s, set) = app
            .call(
                Method::POST,
                "/api/v1/risk/rule-sets",
                Some(&analyst),
                Some("p"),
                Some(&json!({ "source": ALERTING_RULES })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {set}");
        assert_eq!(
            (set["state"].as_str(), set["rules"].as_u64()),
            (Some("proposed"), Some(1))
        );
        let sha = set["sha256"].as_str().expect("sha").to_owned();
        let post = |path: String, key: &'static str, body: Value| {
            let (app, analyst) = (&app, analyst.clone());
            async move {
                app.call(Method::POST, &path, Some(&analyst), Some(key), Some(&body))
                    .await
            }
        };
        // Activation needs a back-test.
        let (s, r) = post(
            format!("/api/v1/risk/rule-sets/{sha}/activate"),
            "a0",
            json!({ "reason": "now", "revision": 1 }),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: {r}");

        // History: two computer entries under the bundled set, one inspected with a finding.
        let mut first = String::new();
        for n in 0..2 {
            let (s, d) = app
                .call(
                    Method::POST,
                    "/api/v1/declarations",
                    Some(&a),
                    Some(&format!("h-{n}")),
                    Some(&declaration(
                        &format!("H-{n}"),
                        "first_line_import",
                        A,
                        vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                    )),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
            assert!(d["risk"]["shadow"].is_null());
            if n == 0 {
                first = d["id"].as_str().expect("id").to_owned();
            }
        }
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        app.call(
            Method::POST,
            &format!("/api/v1/declarations/{first}/status"),
            Some(&officer),
            Some("s"),
            Some(&json!({ "to": "under_inspection", "revision": 1 })),
        )
        .await;
        let (s, _) = app
            .call(Method::POST, &format!("/api/v1/declarations/{first}/inspection-result"), Some(&officer), Some("r"), Some(&json!({ "result": "violation", "findings": ["misclassification"], "revenue_found": "300", "revision": 2 })))
            .await;
        assert_eq!(s, StatusCode::OK);

        let (s, bt) = post(
            format!("/api/v1/risk/rule-sets/{sha}/backtest"),
            "bt",
            json!({ "from": "2026-03-01", "to": "2026-03-31", "revision": 1 }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}: {bt}");
        let proposed = &bt["backtest"]["proposed"];
        assert_eq!(bt["backtest"]["declarations"], 2, "{be}: {bt}");
        assert_eq!(
            (
                proposed["lines_hit"].as_u64(),
                proposed["rules"][0]["findings"].as_u64()
            ),
            (Some(2), Some(1)),
            "{be}: {bt}"
        );
        assert_eq!(
            proposed["rules"][0]["revenue_found"], "300.00",
            "{be}: {bt}"
        );
        assert_eq!(
            bt["backtest"]["active"]["rule_set"], "hainan",
            "{be}: compared with the active set"
        );

        // In shadow it is evaluated and recorded beside the active set, not obeyed.
        let (s, sh) = post(
            format!("/api/v1/risk/rule-sets/{sha}/shadow"),
            "sh",
            json!({ "reason": "watch it for a week", "revision": 2 }),
        )
        .await;
        assert_eq!(
            (s, sh["state"].as_str()),
            (StatusCode::OK, Some("shadow")),
            "{be}: {sh}"
        );
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("h-s"),
                Some(&declaration(
                    "H-S",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(d["risk"]["rule_set"], "hainan", "{be}: {d}");
        assert_eq!(
            d["risk"]["shadow"]["rule_set_sha256"],
            sha.as_str(),
            "{be}: {d}"
        );
        assert_eq!(
            d["risk"]["shadow"]["hits"][0]["rule"], "ADP-001",
            "{be}: {d}"
        );
        let (_, p) = app
            .call(
                Method::GET,
                "/api/v1/risk/rules/performance?from=2026-03-01&to=2026-03-31",
                Some(&analyst),
                None,
                None,
            )
            .await;
        assert_eq!(p["shadow_rules"][0]["total"]["hits"], 1, "{be}: {p}");

        // Activated with the analyst's reason; the next declaration's lane is its.
        let (s, act) = post(
            format!("/api/v1/risk/rule-sets/{sha}/activate"),
            "act",
            json!({ "reason": "computers are being undervalued", "revision": 3 }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}: {act}");
        let changes = act["changes"].as_array().expect("changes");
        let last = changes.last().expect("a change");
        assert_eq!(
            (
                last["from"].as_str(),
                last["to"].as_str(),
                last["reason"].as_str()
            ),
            (
                Some("shadow"),
                Some("active"),
                Some("computers are being undervalued")
            ),
            "{be}: {act}"
        );
        assert!(last["analyst"].as_str().is_some_and(|x| !x.is_empty()));
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("h-a"),
                Some(&declaration(
                    "H-A",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "2", "9000", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(d["risk"]["rule_set_sha256"], sha.as_str(), "{be}: {d}");
        assert!(
            d["risk"]["shadow"].is_null(),
            "{be}: the shadow set became the active one"
        );
        // A restarted server reads the active set back from the store.
        let fresh = AppState::new(app.state.store.clone(), pack());
        fresh.reload_rules().await.expect("reload");
        assert_eq!(
            fresh.live_rules().active_sha256.as_deref(),
            Some(sha.as_str()),
            "{be}"
        );
        // Retiring it returns selection to the bundled set.
        let (s, _) = post(
            format!("/api/v1/risk/rule-sets/{sha}/retire"),
            "ret",
            json!({ "reason": "done", "revision": 4 }),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(app.state.live_rules().active_sha256, None, "{be}");
    }
}
