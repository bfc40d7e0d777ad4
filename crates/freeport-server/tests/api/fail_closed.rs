//! Stored records a decision needs fail closed: a row made unreadable behind the platform's back
//! stops the decisions that need it with `stored_record_unreadable`, and nothing is decided
//! without it. (Before, an unreadable credit record or waiver lock was skipped and the decision
//! was made as if the enterprise had a clean record.)

use super::*;

async fn audit_entries(app: &App) -> i64 {
    app.state
        .store
        .verify_audit()
        .await
        .expect("verify")
        .entries
}

/// Submits under `key` and expects the unreadable-record refusal naming `what`, with nothing kept.
async fn refused_for(app: &App, token: &str, key: &str, body: &Value, what: &str) {
    let be = &app.backend;
    let before = audit_entries(app).await;
    let (s, b) = app.submit(token, key, body).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{be}: {b}");
    assert_eq!(b["code"], "stored_record_unreadable", "{be}: {b}");
    let message = b["message"].as_str().unwrap_or("");
    assert!(message.contains(what), "{be}: {message}");
    assert_eq!(audit_entries(app).await, before, "{be}: nothing is kept");
}

#[tokio::test]
async fn an_unreadable_stored_record_stops_the_decision_and_changes_nothing() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app
            .user(&admin, "officer-fc", "customs_officer", None)
            .await;
        let body = |reference: &str| {
            declaration(
                reference,
                "first_line_import",
                A,
                vec![line("02023000", "AR", "10", "1000", "duty_paid")],
            )
        };
        let (s, first) = app.submit(&a, "fc-1", &body("FC-1")).await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {first}");
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/enterprises/{A}/credit/records"),
                Some(&officer),
                Some("fc-smuggling"),
                Some(&json!({ "kind": "smuggling", "on": "2026-03-01", "reference": "CASE-FC" })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {r}");

        // The smuggling record's day is made unreadable: the declarant's credit class cannot be
        // known, so no declaration of it is decided (it must not pass as `general`).
        sqlx_exec(
            &app.state.store,
            "UPDATE credit_records SET on_day = '2026-02-30' WHERE reference = 'CASE-FC'",
        )
        .await;
        refused_for(&app, &a, "fc-2", &body("FC-2"), "credit record").await;
        let (s, b) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/credit"),
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{be}: {b}");
        assert_eq!(b["code"], "stored_record_unreadable", "{be}: {b}");

        // Once repaired, the same request with the same key is decided: a failure is not
        // remembered as the key's answer.
        sqlx_exec(
            &app.state.store,
            "UPDATE credit_records SET on_day = '2026-03-01' WHERE reference = 'CASE-FC'",
        )
        .await;
        let (s, b) = app.submit(&a, "fc-2", &body("FC-2")).await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {b}");

        // A waiver lock whose last day does not read: the waiver it locks cannot be checked.
        let id = first["id"].as_str().expect("id");
        sqlx_exec(
            &app.state.store,
            &format!("INSERT INTO waiver_locks (enterprise, kind_prefix, first_day, last_day, declaration_id) VALUES ('{A}', 'minimum_tax', '2026-01-01', 'someday', '{id}')"),
        )
        .await;
        refused_for(&app, &a, "fc-3", &body("FC-3"), "waiver lock").await;

        // An account-book balance under a code that no longer reads.
        sqlx_exec(&app.state.store, "DELETE FROM waiver_locks").await;
        sqlx_exec(
            &app.state.store,
            &format!("INSERT INTO balances (enterprise, hs_code, unit, quantity_milli) VALUES ('{A}', 'beef', 'kg', 1000)"),
        )
        .await;
        refused_for(&app, &a, "fc-4", &body("FC-4"), "balance").await;
    }
}

/// Reads the declaration `id` as `token` sees it.
async fn read_declaration(app: &App, token: &str, id: &str) -> (StatusCode, Value) {
    app.call(
        Method::GET,
        &format!("/api/v1/declarations/{id}"),
        Some(token),
        None,
        None,
    )
    .await
}

#[tokio::test]
async fn a_declaration_whose_status_or_risk_record_does_not_read_is_neither_shown_nor_moved() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app
            .user(&admin, "officer-fs", "customs_officer", None)
            .await;
        let body = declaration(
            "FS-1",
            "first_line_import",
            A,
            vec![line("02023000", "AR", "10", "1000", "duty_paid")],
        );
        let (s, d) = app.submit(&a, "fs-1", &body).await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        let id = d["id"].as_str().expect("id").to_owned();
        let unreadable = |what: &'static str| {
            move |(s, b): (StatusCode, Value)| {
                assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {b}");
                assert_eq!(b["code"], "stored_record_unreadable", "{what}: {b}");
                let message = b["message"].as_str().unwrap_or("");
                assert!(message.contains(what), "{what}: {message}");
            }
        };

        // A status the lifecycle does not know: the officer cannot move it from a state nobody
        // handles, and nothing is written.
        sqlx_exec(
            &app.state.store,
            &format!("UPDATE declarations SET status = 'approved' WHERE id = '{id}'"),
        )
        .await;
        unreadable("status")(read_declaration(&app, &a, &id).await);
        let before = audit_entries(&app).await;
        let moved = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/status"),
                Some(&officer),
                Some("fs-move"),
                Some(&json!({ "to": "released", "revision": 1 })),
            )
            .await;
        unreadable("status")(moved);
        assert_eq!(audit_entries(&app).await, before, "{be}: nothing is kept");

        // A risk record that does not read: the lane's explanation is not shown as missing.
        sqlx_exec(
            &app.state.store,
            &format!("UPDATE declarations SET status = 'decided', risk_json = '{{\"lane\": 7}}' WHERE id = '{id}'"),
        )
        .await;
        unreadable("risk_json")(read_declaration(&app, &a, &id).await);
        // Nor is a model trained on the history around it.
        let analyst = app.user(&admin, "analyst-fs", "risk_analyst", None).await;
        let trained = app
            .call(
                Method::POST,
                "/api/v1/risk/models",
                Some(&analyst),
                Some("fs-train"),
                Some(&json!({ "from": "2026-01-01", "to": "2026-12-31" })),
            )
            .await;
        unreadable("risk_json")(trained);
    }
}
