//! A shop's live sales feed (server-sent events): sales arrive as they are reserved and
//! committed, a reconnect resumes from the last event, and another operator's shop stays closed.

use super::*;

/// Reads the stream until `done` holds for what came so far, or it ends, or ten seconds pass.
async fn read_until(resp: &mut reqwest::Response, done: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done(&text) {
        let next = tokio::time::timeout_at(deadline, resp.chunk()).await;
        match next {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    text
}

/// The `data:` lines of `sale` events, parsed.
fn sales(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter(|e| e.lines().any(|l| l == "event: sale"))
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

#[tokio::test]
async fn a_shops_sales_arrive_live_as_they_change() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let _ = app.enterprise(&admin, C, false).await;
        let _ = app.enterprise(&admin, A, false).await;
        let op = app
            .user(&admin, "op-c", "duty_free_operator", Some(C))
            .await;
        let other = app
            .user(&admin, "op-a", "duty_free_operator", Some(A))
            .await;
        let (s, _) = app
            .call(
                Method::PUT,
                "/api/v1/duty-free/shops/LIVE-1",
                Some(&admin),
                Some("shop"),
                Some(&json!({ "operator": C, "name": "Live", "location": "Sanya" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let live = format!(
            "{}/api/v1/duty-free/shops/LIVE-1/sales/live?max_seconds=8",
            app.base
        );
        let (s, _) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/shops/LIVE-1/sales/live?max_seconds=1",
                Some(&other),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{be}: another operator's shop");
        let (s, e) = app
            .call(
                Method::GET,
                "/api/v1/duty-free/shops/LIVE-1/sales/live?max_seconds=61",
                Some(&op),
                None,
                None,
            )
            .await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("max_seconds")),
            "{be}: {e}"
        );
        let mut resp = app
            .http
            .get(&live)
            .bearer_auth(&op)
            .send()
            .await
            .expect("the feed opens");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/event-stream"),
            "{be}"
        );
        let body = sale(
            "passport",
            "E12345678",
            Some("GB"),
            "1990-05-01",
            "2026-03-05",
            "watches",
            "3000",
            "1",
        );
        app.departs(&body).await;
        let (s, r) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/shops/LIVE-1/reservations",
                Some(&op),
                Some("r-1"),
                Some(&body),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {r}");
        let id = r["id"].as_str().expect("id").to_owned();
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/duty-free/shops/LIVE-1/sales/{id}/commit"),
                Some(&op),
                Some("c-1"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let text = read_until(&mut resp, |t| {
            sales(t)
                .iter()
                .any(|v| v["id"] == id.as_str() && v["state"] == "committed")
        })
        .await;
        let seen: Vec<(String, String)> = sales(&text)
            .iter()
            .map(|v| {
                (
                    v["id"].as_str().unwrap_or("").to_owned(),
                    v["state"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert!(
            seen.contains(&(id.clone(), "committed".to_owned())),
            "{be}: {text}"
        );
        // A reconnect from the first event's id gets the committed sale again: at least once.
        let first_id = text
            .lines()
            .find_map(|l| l.strip_prefix("id: "))
            .expect("an event id")
            .to_owned();
        let mut again = app
            .http
            .get(&live)
            .bearer_auth(&op)
            .header("Last-Event-ID", &first_id)
            .send()
            .await
            .expect("reconnects");
        let text = read_until(&mut again, |t| {
            sales(t).iter().any(|v| v["id"] == id.as_str())
        })
        .await;
        assert!(
            sales(&text)
                .iter()
                .any(|v| v["id"] == id.as_str() && v["state"] == "committed"),
            "{be}: {text}"
        );
        assert!(
            !text.contains("E12345678"),
            "{be}: the document is never in clear"
        );
    }
}
