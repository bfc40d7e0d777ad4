//! Lanes: the rules' floor, the random sample and the score, with their reasons.

use super::*;

/// Accepted declarations take a lane: the rules' floor (a dishonest enterprise's rule asks for
/// red), the random sample, or the score; the record names the rule set, the rules that fired and
/// the draw, and amending cannot re-roll the draw.
#[tokio::test]
async fn accepted_declarations_take_a_lane_with_its_reasons() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let (s, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/enterprises/{C}"),
                Some(&admin),
                Some("dishonest"),
                Some(
                    &json!({ "name": "Firm C", "beneficiary": true, "credit_class": "dishonest" }),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let laptops = |reference: &str, who: &str| {
            declaration(
                reference,
                "first_line_import",
                who,
                vec![line("84713000", "CN", "2", "9000", "duty_paid")],
            )
        };
        let (s, dc) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&c),
                Some("lane-c"),
                Some(&laptops("L-C", C)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {dc}");
        assert_eq!(dc["lane"], "red", "{be}: {dc}");
        assert_eq!(dc["risk"]["credit_class"], "dishonest");
        assert_eq!(dc["risk"]["rule_set"], "hainan");
        assert!(
            dc["risk"]["hits"]
                .as_array()
                .expect("hits")
                .iter()
                .any(|h| h["rule"] == "CRD-001"),
            "{be}: {dc}"
        );
        let (s, da) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("lane-a"),
                Some(&laptops("L-A", A)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        // No rule fires on ordinary goods of a general enterprise: green, unless the draw took it
        // into the 0.5 % random sample.
        let lane = da["lane"].as_str().expect("lane").to_owned();
        let reason = da["risk"]["reason"].as_str().expect("reason").to_owned();
        assert!(
            (lane == "green" && reason == "score") || (lane == "red" && reason == "random"),
            "{be}: {da}"
        );
        assert_eq!(da["risk"]["hits"].as_array().map(Vec::len), Some(0));
        let id = da["id"].as_str().expect("id").to_owned();
        let (_, read) = app
            .call(
                Method::GET,
                &format!("/api/v1/declarations/{id}"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(read["lane"], da["lane"], "{be}: the lane is stored");
        let (_, amended) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/amend"),
                Some(&a),
                Some("lane-amend"),
                Some(&json!({ "revision": 1, "declaration": laptops("L-A", A) })),
            )
            .await;
        assert_eq!(
            amended["risk"]["draw"], da["risk"]["draw"],
            "{be}: {amended}"
        );
        // A refused declaration takes no lane.
        let (_, refused) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("lane-refused"),
                Some(&declaration(
                    "L-R",
                    "second_line_exit",
                    A,
                    vec![line("02023000", "AR", "999999", "1000", "zero_tariff")],
                )),
            )
            .await;
        assert_eq!(refused["status"], "rejected", "{be}: {refused}");
        assert!(refused["lane"].is_null());
    }
}
