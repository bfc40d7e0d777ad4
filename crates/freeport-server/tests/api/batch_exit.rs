//! Batch exit, centralised declaration (R2.5): an advanced certified enterprise ships in batches,
//! consolidates the month by the 25th of the next with the taxes added up exactly, and is
//! suspended when late until customs reinstates it.

use std::sync::Arc;

use freeport_server::clock::{Clock, ManualClock};

use super::*;

fn batch(reference: &str, declarant: &str, on: &str) -> Value {
    let mut d = declaration(
        reference,
        "second_line_exit",
        declarant,
        vec![line("02023000", "AR", "10", "3560", "zero_tariff")],
    );
    d["declared_on"] = json!(on);
    d["batch_exit"] = json!(true);
    d
}

fn fen(text: &Value) -> i64 {
    let t = text.as_str().expect("an amount");
    let (yuan, cents) = t.split_once('.').expect("two decimals");
    yuan.parse::<i64>().expect("yuan") * 100 + cents.parse::<i64>().expect("fen")
}

#[tokio::test]
async fn a_months_batches_are_consolidated_by_the_deadline_and_a_late_month_suspends() {
    let clock = Arc::new(ManualClock::new(0));
    for app in apps_on(Some(clock.clone())).await {
        let be = app.backend.clone();
        let day = |d: time::Date| clock.set(ManualClock::at_day(d).now_ms());
        // Moving the clock by days outlives sessions: each step logs in again.
        let login = |name: String| {
            let app = &app;
            async move { app.login(&name, "a-long-enough-password").await }
        };
        day(time::macros::date!(2026 - 03 - 03));
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        app.user(&admin, "officer", "customs_officer", None).await;
        super::second_line::beef_in_the_book(&app, &a, A).await;
        let (s, _) = app
            .call(Method::PUT, &format!("/api/v1/enterprises/{A}"), Some(&admin), Some("aeo"), Some(&json!({ "name": "Firm A", "beneficiary": true, "credit_class": "advanced_certified" })))
            .await;
        assert_eq!(s, StatusCode::OK);
        // A general enterprise may not ship in batches.
        let (s, e) = app
            .submit(&c, "c-batch", &batch("C-B", C, "2026-03-03"))
            .await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("declaration.batch_exit")
            ),
            "{be}: {e}"
        );

        // TV-16: batches on 3, 12 and 27 March 2026, consolidated once, due 25 April 2026.
        let mut assessed = [0i64; 3];
        for (n, d) in [
            time::macros::date!(2026 - 03 - 03),
            time::macros::date!(2026 - 03 - 12),
            time::macros::date!(2026 - 03 - 27),
        ]
        .into_iter()
        .enumerate()
        {
            day(d);
            let a = login(format!("user-{A}")).await;
            let (s, r) = app
                .submit(
                    &a,
                    &format!("b-{n}"),
                    &batch(&format!("B-{n}"), A, &d.to_string()),
                )
                .await;
            assert_eq!(
                (s, r["outcome"].as_str()),
                (StatusCode::CREATED, Some("accepted")),
                "{be}: {r}"
            );
            let totals = &r["decision"]["totals"]["assessed"];
            for (i, tax) in ["tariff", "consumption_tax", "vat"].into_iter().enumerate() {
                assessed[i] += fen(&totals[tax]);
            }
        }
        let consolidate = |key: &'static str, month: &'static str| {
            let app = &app;
            async move {
                let a = app
                    .login(&format!("user-{A}"), "a-long-enough-password")
                    .await;
                app.call(
                    Method::POST,
                    &format!("/api/v1/enterprises/{A}/batch-exit/consolidations"),
                    Some(&a),
                    Some(key),
                    Some(&json!({ "month": month })),
                )
                .await
            }
        };
        // Not before the month is over.
        let (s, e) = consolidate("early", "2026-03").await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("month")),
            "{be}: {e}"
        );
        day(time::macros::date!(2026 - 04 - 02));
        let (s, march) = consolidate("march", "2026-03").await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {march}");
        assert_eq!(
            (
                march["due_on"].as_str(),
                march["late"].as_bool(),
                march["shipments"].as_i64()
            ),
            (Some("2026-04-25"), Some(false), Some(3)),
            "{be}: {march}"
        );
        assert!(
            assessed.iter().all(|&t| t == 0 || t > 5_000),
            "{be}: no tax under the 50 CNY waiver here: {assessed:?}"
        );
        assert_eq!(
            [
                fen(&march["tariff"]),
                fen(&march["consumption_tax"]),
                fen(&march["vat"]),
                fen(&march["total"])
            ],
            [assessed[0], assessed[1], assessed[2], assessed.iter().sum()],
            "{be}: the shipments' taxes, added up to the fen"
        );
        let (s, _) = consolidate("march-again", "2026-03").await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: one consolidation a month");

        // April's batch is consolidated late: refused shipments meanwhile, then suspended.
        day(time::macros::date!(2026 - 04 - 10));
        let a = login(format!("user-{A}")).await;
        let (s, _) = app
            .submit(&a, "april", &batch("B-APR", A, "2026-04-10"))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}");
        day(time::macros::date!(2026 - 05 - 27));
        let a = login(format!("user-{A}")).await;
        let officer = login("officer".to_owned()).await;
        let (s, e) = app
            .submit(&a, "may-overdue", &batch("B-MAY", A, "2026-05-27"))
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{be}: April is overdue: {e}"
        );
        assert!(
            e["details"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("2026-05-25")),
            "{be}: {e}"
        );
        let (s, april) = consolidate("april-consolidated", "2026-04").await;
        assert_eq!(
            (s, april["late"].as_bool()),
            (StatusCode::CREATED, Some(true)),
            "{be}: {april}"
        );
        let (_, standing) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/batch-exit"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert!(
            standing["suspended"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("2026-04")),
            "{be}: {standing}"
        );
        assert_eq!(
            standing["consolidations"].as_array().map(Vec::len),
            Some(2),
            "{be}"
        );
        let (s, _) = app
            .submit(&a, "may-suspended", &batch("B-MAY2", A, "2026-05-27"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: suspended");

        // Reinstated on application: batches again.
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/enterprises/{A}/batch-exit/reinstatement"),
                Some(&officer),
                Some("reinstate"),
                Some(&json!({ "reason": "controls corrected, application approved" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (s, r) = app
            .submit(&a, "may-ok", &batch("B-MAY3", A, "2026-05-27"))
            .await;
        assert_eq!(
            (s, r["outcome"].as_str()),
            (StatusCode::CREATED, Some("accepted")),
            "{be}: {r}"
        );
        let trail = app.state.store.audit_trail(A).await.expect("audit");
        let actions: Vec<&str> = trail
            .iter()
            .map(|(a, _, _, _)| a.as_str())
            .filter(|a| a.starts_with("batch_exit"))
            .collect();
        assert_eq!(
            actions,
            [
                "batch_exit.consolidate",
                "batch_exit.consolidate",
                "batch_exit.suspend",
                "batch_exit.reinstate"
            ],
            "{be}"
        );
    }
}
