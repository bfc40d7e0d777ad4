//! Proxy-buying rings among the platform's own sales: three buyers sharing one phone are found
//! with their evidence, raised once as an alert, and a confirmed ring banned member by member.

use super::*;

fn buyer(n: u32, phone: &str) -> Value {
    let mut b = sale(
        "passport",
        &format!("E7000000{n}"),
        Some("GB"),
        "1990-05-01",
        "2026-03-05",
        "cosmetics",
        "300",
        "30",
    );
    b["links"] = json!({ "phone": phone, "payment_account": format!("6222 0000 0000 000{n}") });
    b
}

#[tokio::test]
async fn buyers_sharing_a_phone_are_a_ring_raised_once_and_banned_together() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
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
        let bodies = [
            buyer(1, "+86 139 0000 0000"),
            buyer(2, "+86 139-0000-0000"),
            buyer(3, "+8613900000000"),
            buyer(9, "+86 137 1111 2222"),
        ];
        // The fourth buyer is on the same flight but buys a few lipsticks, not the limit: no tour
        // basket of the other three.
        let mut bodies = bodies;
        bodies[3]["items"][0]["quantity"] = json!("5");
        for (n, b) in bodies.iter().enumerate() {
            app.departs(b).await;
            let (s, r) = app
                .call(
                    Method::POST,
                    "/api/v1/duty-free/shops/HK-1/sales",
                    Some(&operator),
                    Some(&format!("s-{n}")),
                    Some(b),
                )
                .await;
            assert_eq!(
                (s, r["accepted"].as_bool()),
                (StatusCode::CREATED, Some(true)),
                "{be}: {r}"
            );
        }
        let rings = "/api/v1/duty-free/rings?from=2026-03-01&to=2026-03-31";
        let (s, found) = app
            .call(Method::GET, rings, Some(&analyst), None, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {found}");
        assert_eq!(
            (
                found["buyers"].as_u64(),
                found["rings"].as_array().map(Vec::len)
            ),
            (Some(4), Some(1)),
            "{be}: one phone written three ways is one link: {found}"
        );
        assert_eq!(
            found["rings"][0]["members"].as_array().map(Vec::len),
            Some(3),
            "{be}"
        );
        let flagged = found["flagged"].as_array().expect("flagged");
        assert_eq!(
            flagged.len(),
            3,
            "{be}: the fourth buyer is ordinary: {found}"
        );
        assert!(
            flagged
                .iter()
                .all(|f| f["evidence"][0]["signal"] == "shared_link"
                    && f["evidence"][0]["kind"] == "phone"),
            "{be}: {found}"
        );
        let (s, _) = app
            .call(Method::GET, rings, Some(&operator), None, None)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{be}: operators see no rings");

        // Raised once, however often the analysts look.
        for key in ["raise-1", "raise-2"] {
            let (s, r) = app
                .call(
                    Method::POST,
                    "/api/v1/duty-free/rings/alerts",
                    Some(&analyst),
                    Some(key),
                    Some(&json!({ "from": "2026-03-01", "to": "2026-03-31" })),
                )
                .await;
            assert_eq!(
                (s, r["rings"][0]["members"].as_u64()),
                (StatusCode::CREATED, Some(3)),
                "{be}: {r}"
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
        let raised: Vec<&Value> = q["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|a| a["kind"] == "proxy_ring")
            .collect();
        assert_eq!(raised.len(), 1, "{be}: {q}");
        let id = raised[0]["id"].as_str().expect("id").to_owned();
        assert_eq!(
            raised[0]["details"]["evidence"].as_array().map(Vec::len),
            Some(3),
            "{be}"
        );
        let (s, r) = app
            .call(Method::POST, &format!("/api/v1/alerts/{id}/analysis"), Some(&analyst), Some("an"), Some(&json!({ "conclusion": "confirmed", "notes": "one phone for three buyers", "revision": 1 })))
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

        // Every member is banned; the ordinary buyer is not.
        for (n, b) in bodies.iter().enumerate() {
            let mut again = b.clone();
            again["items"] = json!([{ "category": "watches", "description": "watch", "unit_price": "10", "quantity": "1" }]);
            let (_, r) = app
                .call(
                    Method::POST,
                    "/api/v1/duty-free/shops/HK-1/sales",
                    Some(&operator),
                    Some(&format!("again-{n}")),
                    Some(&again),
                )
                .await;
            let refused = r["decision"]["refusals"][0]["code"].as_str();
            if n < 3 {
                assert_eq!(refused, Some("banned"), "{be}: member {n}: {r}");
            } else {
                assert_eq!(r["accepted"], true, "{be}: {r}");
            }
        }
    }
}

/// One person taking the goods of three buyers at their hand-over is a ring with the collector in
/// it, found from the hand-over records.
#[tokio::test]
async fn one_collector_for_three_buyers_is_a_ring() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let operator = app
            .user(&admin, "operator", "duty_free_operator", Some(C))
            .await;
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
        for n in 1..=3u32 {
            let mut b = buyer(n, &format!("+86 139 0000 000{n}"));
            b["items"][0]["quantity"] = json!(n.to_string());
            let codes: Vec<String> = (0..n).map(|k| format!("80000000000{n}{k:04}")).collect();
            b["items"][0]["trace_codes"] = json!(codes);
            app.departs(&b).await;
            let (s, r) = app
                .call(
                    Method::POST,
                    "/api/v1/duty-free/shops/HK-1/sales",
                    Some(&operator),
                    Some(&format!("s-{n}")),
                    Some(&b),
                )
                .await;
            assert_eq!(
                (s, r["accepted"].as_bool()),
                (StatusCode::CREATED, Some(true)),
                "{be}: {r}"
            );
            let collector = json!({ "collector": { "kind": "passport", "number": "E88888888", "issuing_country": "GB" } });
            let (s, h) = app
                .call(
                    Method::POST,
                    &format!("/api/v1/duty-free/items/{}/hand-over", codes[0]),
                    Some(&operator),
                    Some(&format!("h-{n}")),
                    Some(&collector),
                )
                .await;
            assert_eq!(
                (s, h["state"].as_str()),
                (StatusCode::OK, Some("handed_over")),
                "{be}: {h}"
            );
            assert!(
                h["collected_by"].as_str().is_some_and(|p| p.len() == 64),
                "{be}: {h}"
            );
        }
        let (s, found) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/rings?from=2026-03-01&to=2026-03-31",
                Some(&analyst),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {found}");
        assert_eq!(
            found["rings"].as_array().map(Vec::len),
            Some(1),
            "{be}: {found}"
        );
        assert_eq!(
            found["rings"][0]["members"].as_array().map(Vec::len),
            Some(4),
            "{be}: the collector and three buyers: {found}"
        );
        assert!(
            found["flagged"]
                .as_array()
                .expect("flagged")
                .iter()
                .all(|f| f["evidence"][0]["signal"] == "collector"),
            "{be}: {found}"
        );
    }
}
