//! The API as a client meets it: metrics and request ids, log-in answers, the OpenAPI document.

use super::*;

#[tokio::test]
async fn metrics_label_routes_by_pattern_and_every_response_has_a_request_id() {
    for app in apps().await {
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let (_, d) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some("mx-1"),
                Some(&declaration(
                    "MX-1",
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        let id = d["id"].as_str().expect("id").to_owned();
        let resp = app
            .http
            .get(format!("{}/api/v1/declarations/{id}", app.base))
            .bearer_auth(&a)
            .header("x-request-id", "trace-me-42")
            .send()
            .await
            .expect("get");
        assert_eq!(
            resp.headers()["x-request-id"],
            "trace-me-42",
            "a caller's request id is kept"
        );
        let resp = app
            .http
            .get(format!("{}/health", app.base))
            .send()
            .await
            .expect("health");
        assert!(
            resp.headers()
                .get("x-request-id")
                .is_some_and(|v| !v.is_empty()),
            "one is made when absent"
        );

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, freeport_server::observe::metrics_router()).await;
        });
        let text = app
            .http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        assert!(text.contains("http_request_duration_seconds"), "{text}");
        assert!(
            text.contains("route=\"/api/v1/declarations/{id}\""),
            "labelled by pattern: {text}"
        );
        assert!(!text.contains(&id), "never by a raw id");
        assert!(
            text.contains("decisions_total{") && text.contains("ledger_postings_total{"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_failed_login_does_not_tell_unknown_users_from_wrong_passwords() {
    for app in apps().await {
        let unknown = app
            .call(
                Method::POST,
                "/api/v1/sessions",
                None,
                None,
                Some(&json!({ "username": "nobody", "password": "whatever-it-is" })),
            )
            .await;
        let wrong = app
            .call(
                Method::POST,
                "/api/v1/sessions",
                None,
                None,
                Some(&json!({ "username": "admin", "password": "not-the-password" })),
            )
            .await;
        assert_eq!(unknown, wrong, "{}", app.backend);
        assert_eq!(unknown.0, StatusCode::UNAUTHORIZED, "{}", app.backend);
        // A revoked session stops working at once.
        let token = app.admin().await;
        assert_eq!(
            app.call(Method::GET, "/api/v1/me", Some(&token), None, None)
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            app.call(Method::DELETE, "/api/v1/sessions", Some(&token), None, None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.call(Method::GET, "/api/v1/me", Some(&token), None, None)
                .await
                .0,
            StatusCode::UNAUTHORIZED,
            "{}",
            app.backend
        );
    }
}

/// The document and a browsable Swagger UI are served from the binary, with nothing fetched from
/// elsewhere.
#[tokio::test]
async fn the_api_describes_itself_and_swagger_ui_is_served_from_the_binary() {
    let app = apps().await.remove(0);
    let (status, doc) = app
        .call(Method::GET, "/api/openapi.json", None, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/declarations"]["post"].is_object());
    let page = app
        .http
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page loads nothing from elsewhere: {html}"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let r = app
            .http
            .get(format!("{}/docs/{asset}", app.base))
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        assert!(r.bytes().await.expect("bytes").len() > 100, "{asset}");
    }
    let init = app
        .http
        .get(format!("{}/docs/swagger-initializer.js", app.base))
        .send()
        .await
        .expect("init")
        .text()
        .await
        .expect("text");
    assert!(init.contains("/api/openapi.json"), "{init}");
}
