//! Webhooks: signed, retried deliveries of an enterprise's declaration events.

use super::*;

/// A tiny receiver: records every delivery; answers 500 to the first `failures`, then 204.
async fn receiver(
    failures: usize,
) -> (
    String,
    Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
) {
    let seen: Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let mut seen = log.lock().expect("lock");
                seen.push((headers, body));
                if seen.len() <= failures {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test]
async fn status_changes_reach_the_enterprise_by_signed_retried_webhooks() {
    use freeport_server::webhooks::{RetryPolicy, client, deliver_due, signature};
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let (url, seen) = receiver(2).await;
        let put = json!({ "url": url });
        let path = format!("/api/v1/enterprises/{A}/webhook");
        let (s, set) = app
            .call(Method::PUT, &path, Some(&a), Some("wh-1"), Some(&put))
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {set}");
        let secret = set["secret"].as_str().expect("secret").to_owned();
        assert_eq!(secret.len(), 64);
        // A retried PUT replays the same secret; reading the webhook never shows it.
        let (_, again) = app
            .call(Method::PUT, &path, Some(&a), Some("wh-1"), Some(&put))
            .await;
        assert_eq!(again["secret"], set["secret"], "{be}");
        let (_, read) = app.call(Method::GET, &path, Some(&a), None, None).await;
        assert_eq!(read["url"], json!(url));
        assert!(read.get("secret").is_none(), "{be}: {read}");
        // C's webhook points at a closed port.
        let (s, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/enterprises/{C}/webhook"),
                Some(&c),
                Some("wh-c"),
                Some(&json!({ "url": "http://127.0.0.1:1/hook" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("wh-d"),
                Some(&declaration(
                    "WH-1",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        let id = d["id"].as_str().expect("id").to_owned();
        let (_, dc) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&c),
                Some("wh-dc"),
                Some(&declaration(
                    "WH-C",
                    "first_line_import",
                    C,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        assert!(dc["id"].is_string(), "{be}: {dc}");

        let policy = RetryPolicy {
            max_attempts: 3,
            first_backoff_ms: 1000,
            max_backoff_ms: 60_000,
            timeout_ms: 2000,
        };
        let http = client(&policy);
        let store = &app.state.store;
        let t0 = 1_900_000_000_000;
        // First attempt of both: A's receiver answers 500, C's port is closed.
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0)
                .await
                .expect("round"),
            2
        );
        // Nothing is due again until the backoff has passed.
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 999)
                .await
                .expect("round"),
            0
        );
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 1000)
                .await
                .expect("round"),
            2
        );
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 2999)
                .await
                .expect("round"),
            0
        );
        // The third attempt reaches A; C has had its three attempts and fails.
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 3000)
                .await
                .expect("round"),
            2
        );
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t0 + 999_999)
                .await
                .expect("round"),
            0
        );

        let deliveries = seen.lock().expect("lock").clone();
        assert_eq!(deliveries.len(), 3, "{be}");
        let body = deliveries[0].1.clone();
        for (n, (headers, b)) in deliveries.iter().enumerate() {
            assert_eq!(b, &body, "{be}: the same bytes on every attempt");
            let attempt = headers["freeport-delivery-attempt"]
                .to_str()
                .expect("ascii");
            assert_eq!(attempt, (n + 1).to_string());
            let sig = headers["freeport-signature"].to_str().expect("ascii");
            let t: i64 = sig
                .trim_start_matches("t=")
                .split(',')
                .next()
                .and_then(|t| t.parse().ok())
                .expect("t");
            assert_eq!(
                sig,
                signature(&secret, t, b),
                "{be}: signed with the secret"
            );
            assert_ne!(sig, signature("another secret", t, b));
        }
        let event: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(event["topic"], "declaration.decided");
        assert_eq!(event["data"]["id"], json!(id));
        assert_eq!(event["data"]["status"], "decided");
        assert_eq!(event["enterprise"], A);

        // A status change is pushed too; the receiver now answers at once.
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/status"),
                Some(&officer),
                Some("wh-s"),
                Some(&json!({ "to": "released", "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let t1 = t0 + 2_000_000;
        assert_eq!(
            deliver_due(store, &http, &policy, 10, t1)
                .await
                .expect("round"),
            1
        );
        let last: Value =
            serde_json::from_str(&seen.lock().expect("lock").last().expect("one").1).expect("json");
        assert_eq!(last["topic"], "declaration.status");
        assert_eq!(last["data"]["status"], "released");
        assert!(last["event_id"].as_i64() > event["event_id"].as_i64());

        let (_, page) = app
            .call(
                Method::GET,
                &format!("{path}/deliveries"),
                Some(&a),
                None,
                None,
            )
            .await;
        let states: Vec<(String, i64)> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| {
                (
                    d["state"].as_str().unwrap_or("").to_owned(),
                    d["attempts"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            states,
            vec![("delivered".to_owned(), 1), ("delivered".to_owned(), 3)],
            "{be}: newest first"
        );
        let (_, page_c) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{C}/webhook/deliveries"),
                Some(&c),
                None,
                None,
            )
            .await;
        let failed = &page_c["items"][0];
        assert_eq!(failed["state"], "failed", "{be}: {page_c}");
        assert_eq!(failed["attempts"], 3);
        assert!(
            failed["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("not delivered"))
        );
        // A's deliveries are not C's to read.
        let (s, _) = app
            .call(
                Method::GET,
                &format!("{path}/deliveries"),
                Some(&c),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // A bad URL is refused and changes nothing.
        for (n, bad) in ["ftp://x/y", "not a url", "http://user:pw@host/x"]
            .iter()
            .enumerate()
        {
            let (s, e) = app
                .call(
                    Method::PUT,
                    &path,
                    Some(&a),
                    Some(&format!("bad-url-{n}")),
                    Some(&json!({ "url": bad })),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {bad}");
            assert_eq!(e["details"]["field"], "url");
        }
        let (_, still) = app.call(Method::GET, &path, Some(&a), None, None).await;
        assert_eq!(still["url"], json!(url));
    }
}
