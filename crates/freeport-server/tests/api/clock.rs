//! Time is injected: what the platform records comes from its clock, not the machine's.

use std::sync::Arc;

use freeport_server::clock::{Clock, ManualClock};

use super::*;

/// A platform put on 16 March 2026: the declaration and its events carry the clock's times, a
/// credit assessment without a day is that day's, and moving the clock moves the next record.
#[tokio::test]
async fn records_carry_the_injected_clocks_time() {
    let clock = Arc::new(ManualClock::at_day(time::macros::date!(2026 - 03 - 16)));
    let start = clock.now_ms();
    for app in apps_on(Some(clock.clone())).await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let (s, d) = app
            .submit(
                &a,
                &format!("clock-{be}"),
                &declaration(
                    "CLOCK-1",
                    "first_line_import",
                    A,
                    vec![line("02023000", "AR", "10", "3560", "duty_paid")],
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
        assert_eq!(d["created_at_ms"].as_i64(), Some(clock.now_ms()), "{be}");
        let (s, credit) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/credit"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {credit}");
        assert_eq!(credit["assessment"]["on"], "2026-03-16", "{be}: {credit}");
        clock.advance(3_600_000);
        let id = d["id"].as_str().expect("id");
        let (s, cancelled) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/cancel"),
                Some(&a),
                Some(&format!("clock-cancel-{be}")),
                Some(&json!({ "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {cancelled}");
        assert_eq!(
            cancelled["updated_at_ms"].as_i64(),
            Some(clock.now_ms()),
            "{be}"
        );
        clock.set(start);
    }
}
