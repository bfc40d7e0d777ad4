//! The alert queue: raised, analysed, disposed of and evaluated.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_raised_analysed_disposed_and_evaluated() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        // Zero-tariff computers enter; then a spike of second-line exits of their heading: ten in
        // a day against a quiet month.
        let (s, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("zt"),
                Some(&declaration(
                    "ZT",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "20", "90000", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        for n in 0..10 {
            let (s, d) = app
                .call(
                    Method::POST,
                    "/api/v1/declarations",
                    Some(&a),
                    Some(&format!("exit-{n}")),
                    Some(&declaration(
                        &format!("EXIT-{n}"),
                        "second_line_exit",
                        A,
                        vec![line("84713000", "CN", "1", "4500", "zero_tariff")],
                    )),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
            assert_eq!(d["outcome"], "accepted", "{be}: {d}");
            let spikes = app
                .state
                .store
                .alerts(Some(freeport_risk::governance::AlertState::Open), "", 10)
                .await
                .expect("alerts")
                .len();
            assert_eq!(
                spikes,
                usize::from(n == 9),
                "{be}: the tenth exit crosses the floor of ten"
            );
        }
        let (_, q) = app
            .call(
                Method::GET,
                "/api/v1/alerts?state=open",
                Some(&analyst),
                None,
                None,
            )
            .await;
        let spikes: Vec<&Value> = q["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|x| x["kind"] == "flow_spike")
            .collect();
        assert_eq!(spikes.len(), 1, "{be}: {q}");
        assert_eq!(spikes[0]["details"]["heading"], "8471", "{be}");
        assert_eq!(spikes[0]["details"]["spike"]["today"], 10, "{be}");
        // An eleventh the same day is the same warning, not a second alert.
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("exit-10"),
                Some(&declaration(
                    "EXIT-10",
                    "second_line_exit",
                    A,
                    vec![line("84713000", "CN", "1", "4500", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(
            app.state
                .store
                .alerts(None, "", 10)
                .await
                .expect("alerts")
                .len(),
            1,
            "{be}"
        );

        // A stock-take short of the book: zero-tariff goods left without a declaration.
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/enterprises/{A}/account-book/adjustments"), Some(&officer), Some("count"), Some(&json!({ "kind": "stock_take", "items": [{ "hs_code": "84713000", "unit": "kg", "quantity": "6" }] })))
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (_, q) = app
            .call(
                Method::GET,
                "/api/v1/alerts?state=open",
                Some(&analyst),
                None,
                None,
            )
            .await;
        let outflow = q["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|x| x["kind"] == "unexplained_outflow")
            .expect("outflow alert")
            .clone();
        assert_eq!(
            (
                outflow["enterprise"].as_str(),
                outflow["details"]["shortfall"].as_str()
            ),
            (Some(A), Some("3")),
            "{be}: {outflow}"
        );

        // The spike's declaration is held on disposal; steps go in order.
        let id = spikes[0]["id"].as_str().expect("id").to_owned();
        let declaration_id = spikes[0]["declaration_id"]
            .as_str()
            .expect("declaration")
            .to_owned();
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{id}/disposal"),
                Some(&officer),
                Some("d0"),
                Some(&json!({ "action": "hold", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: analysis comes first: {r}");
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/alerts/{id}/analysis"), Some(&analyst), Some("an"), Some(&json!({ "conclusion": "confirmed", "notes": "one dealer, new buyers", "revision": 1 })))
            .await;
        assert_eq!(
            (s, r["state"].as_str()),
            (StatusCode::OK, Some("analysed")),
            "{be}: {r}"
        );
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{id}/disposal"),
                Some(&officer),
                Some("d1"),
                Some(&json!({ "action": "hold", "notes": "hold the car", "revision": 2 })),
            )
            .await;
        assert_eq!(
            (s, r["state"].as_str()),
            (StatusCode::OK, Some("disposed")),
            "{be}: {r}"
        );
        let (_, d) = app
            .call(
                Method::GET,
                &format!("/api/v1/declarations/{declaration_id}"),
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(
            (d["status"].as_str(), d["lane"].as_str()),
            (Some("held"), Some("hold")),
            "{be}: {d}"
        );
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/alerts/{id}/evaluation"), Some(&analyst), Some("ev"), Some(&json!({ "effective": true, "revenue_found": "45000", "notes": "resale confirmed", "revision": 3 })))
            .await;
        assert_eq!(
            (s, r["state"].as_str()),
            (StatusCode::OK, Some("evaluated")),
            "{be}: {r}"
        );
        assert_eq!(r["evaluation"]["revenue_found"], "45000.00", "{be}: {r}");

        // Downgrading on the outflow alert makes the enterprise dishonest, visibly.
        let oid = outflow["id"].as_str().expect("id");
        app.call(Method::POST, &format!("/api/v1/alerts/{oid}/analysis"), Some(&analyst), Some("an2"), Some(&json!({ "conclusion": "confirmed", "notes": "sold on the island without a declaration", "revision": 1 }))).await;
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/alerts/{oid}/disposal"),
                Some(&officer),
                Some("d2"),
                Some(&json!({ "action": "downgrade_credit", "notes": "repeated", "revision": 2 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (_, v) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/credit"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(v["assessment"]["class"], "dishonest", "{be}: {v}");
    }
}
