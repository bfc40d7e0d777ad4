//! Account books: stock-takes and the CSV export.

use super::*;

#[tokio::test]
async fn stock_take_reconciles_and_the_book_exports_to_csv() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        app.call(
            Method::POST,
            "/api/v1/declarations",
            Some(&a),
            Some("s-1"),
            Some(&declaration(
                "S-1",
                "first_line_import",
                A,
                vec![line("02023000", "AR", "1000", "356000", "duty_paid")],
            )),
        )
        .await;
        let (s, r) = app.call(Method::POST, &format!("/api/v1/enterprises/{A}/account-book/adjustments"), Some(&officer), Some("st"), Some(&json!({ "kind": "stock_take", "items": [{ "hs_code": "02023000", "unit": "kg", "quantity": "985.5", "note": "counted 2026-03-20" }] }))).await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        assert_eq!(
            (
                r["items"][0]["booked"].as_str(),
                r["items"][0]["adjustment"].as_str()
            ),
            (Some("1000"), Some("-14.5")),
            "{be}"
        );
        assert_eq!(
            app.balances(&a, A).await,
            bal(&[("02023000", "985.5")]),
            "{be}"
        );
        let resp = app
            .http
            .get(format!(
                "{}/api/v1/enterprises/{A}/account-book.csv",
                app.base
            ))
            .bearer_auth(&a)
            .send()
            .await
            .expect("csv");
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = resp.text().await.expect("text");
        assert_eq!(
            csv.lines().count(),
            3,
            "{be}: header and two postings: {csv}"
        );
        assert!(csv.contains("stock_take") && csv.contains("-14.5"), "{be}");
        // Enterprises may not adjust their own books.
        let (s, _) = app.call(Method::POST, &format!("/api/v1/enterprises/{A}/account-book/adjustments"), Some(&a), Some("st2"), Some(&json!({ "kind": "write_off", "items": [{ "hs_code": "02023000", "unit": "kg", "quantity": "1" }] }))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{be}");
    }
}
