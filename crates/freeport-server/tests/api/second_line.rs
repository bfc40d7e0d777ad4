//! The second line in operation: release at the port by lane (R2.4), the red lane's scan and
//! inspection, the crossing at the channel and goods that cross without a released declaration.

use std::sync::Arc;

use freeport_server::clock::{Clock, ManualClock};

use super::*;

/// Beef to the mainland through Xinhai on a truck: a second-line exit of zero-tariff goods.
pub(crate) fn exit_via(reference: &str, declarant: &str, port: &str) -> Value {
    let mut d = declaration(
        reference,
        "second_line_exit",
        declarant,
        vec![line("02023000", "AR", "10", "3560", "zero_tariff")],
    );
    d["transport"] =
        json!({ "port": port, "mode": "sea", "means": "琼A12345", "document": "WB-1" });
    d
}

/// `declarant`'s book receives 1 000 kg of beef entered at zero tariff.
pub(crate) async fn beef_in_the_book(app: &App, token: &str, declarant: &str) {
    let (s, d) = app
        .submit(
            token,
            &format!("beef-{declarant}"),
            &declaration(
                &format!("BEEF-{declarant}"),
                "first_line_import",
                declarant,
                vec![line("02023000", "AR", "1000", "356000", "duty_paid")],
            ),
        )
        .await;
    assert_eq!(
        (s, d["outcome"].as_str()),
        (StatusCode::CREATED, Some("accepted")),
        "{d}"
    );
}

async fn events(app: &App, token: &str, id: &str) -> Vec<(String, String, i64)> {
    let (_, d) = app
        .call(
            Method::GET,
            &format!("/api/v1/declarations/{id}"),
            Some(token),
            None,
            None,
        )
        .await;
    d["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap_or_default().to_owned(),
                e["actor"].as_str().unwrap_or_default().to_owned(),
                e["at_ms"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

async fn cross(app: &App, officer: &str, key: &str, body: &Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/v1/ports/xinhai/channels/xinhai-cargo-01/crossings",
        Some(officer),
        Some(key),
        Some(body),
    )
    .await
}

/// A zero-tariff good leaves through Xinhai on the green lane: released automatically in the same
/// instant it is decided, with both events timestamped, explained by the port's rule; its crossing
/// at the channel closes it, and goods that cross again, or without a declaration, raise alerts.
#[tokio::test]
async fn a_green_lane_exit_at_xinhai_is_released_at_once_and_closed_at_the_channel() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        beef_in_the_book(&app, &a, A).await;
        // The random sample takes 0.5 % to red: the first green one of a few is the subject.
        let mut green = None;
        for n in 0..5 {
            let (s, d) = app
                .submit(
                    &a,
                    &format!("x-{n}"),
                    &exit_via(&format!("X-{n}"), A, "xinhai"),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
            if d["lane"] == "green" {
                green = Some(d);
                break;
            }
            assert_eq!(d["status"], "awaiting_scan", "{be}: a red lane waits: {d}");
        }
        let d = green.expect("a green lane in five");
        assert_eq!(
            (d["status"].as_str(), d["port"].as_str()),
            (Some("released"), Some("xinhai")),
            "{be}: {d}"
        );
        let explained = d["decision"]["explanation"]
            .as_array()
            .expect("explanation");
        assert!(
            explained
                .iter()
                .any(|s| s["rule"] == "R2.2" && s.to_string().contains("Haikou Xinhai Port")),
            "{be}: the port is explained: {explained:?}"
        );
        let id = d["id"].as_str().expect("id").to_owned();
        let history = events(&app, &a, &id).await;
        let stages: Vec<&str> = history.iter().map(|(s, _, _)| s.as_str()).collect();
        assert_eq!(stages, ["decided", "released"], "{be}: {history:?}");
        assert_eq!(
            history[1].1, "system:release",
            "{be}: released by the platform"
        );
        assert_eq!(
            history[0].2, history[1].2,
            "{be}: released in the instant it was decided"
        );

        // A declaration released at a port is not amended: cancelled and lodged again.
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/amend"),
                Some(&a),
                Some("x-amend"),
                Some(&json!({ "revision": 2, "declaration": exit_via("X-AMEND", A, "xinhai") })),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}");

        // The truck crosses at the channel on its released declaration: the declaration is done.
        let (s, x) = cross(
            &app,
            &officer,
            "cross-1",
            &json!({ "declaration_id": id, "means": "琼A12345" }),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {x}");
        assert_eq!(
            (x["cleared"].as_bool(), x["uncleared_because"].is_null()),
            (Some(true), true),
            "{be}: {x}"
        );
        let history = events(&app, &a, &id).await;
        assert_eq!(
            history.last().map(|e| e.0.as_str()),
            Some("exited"),
            "{be}: {history:?}"
        );

        // The same declaration shown again, and a truck with none: recorded, not cleared, alerted.
        let (s, again) = cross(
            &app,
            &officer,
            "cross-2",
            &json!({ "declaration_id": id, "means": "琼A12345" }),
        )
        .await;
        assert_eq!(
            (s, again["cleared"].as_bool()),
            (StatusCode::CREATED, Some(false)),
            "{be}: {again}"
        );
        assert!(
            again["uncleared_because"]
                .as_str()
                .is_some_and(|w| w.contains("exited")),
            "{be}: {again}"
        );
        let (s, none) = cross(&app, &officer, "cross-3", &json!({ "means": "琼B99999" })).await;
        assert_eq!(
            (s, none["cleared"].as_bool()),
            (StatusCode::CREATED, Some(false)),
            "{be}: {none}"
        );
        let (_, alerts) = app
            .call(Method::GET, "/api/v1/alerts", Some(&officer), None, None)
            .await;
        let uncleared = alerts["items"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter(|a| a["kind"] == "uncleared_crossing")
            .count();
        assert_eq!(uncleared, 2, "{be}: {alerts}");

        // A port or channel the pack does not list is absent; a declaration naming one is refused.
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/ports/atlantis/channels/a-1/crossings",
                Some(&officer),
                Some("cross-4"),
                Some(&json!({ "means": "x" })),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{be}");
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/ports/xinhai/channels/xinhai-cargo-99/crossings",
                Some(&officer),
                Some("cross-5"),
                Some(&json!({ "means": "x" })),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{be}");
        let (s, e) = app
            .submit(&a, "x-bad", &exit_via("X-BAD", A, "atlantis"))
            .await;
        assert_eq!(
            (
                s,
                e["details"]["field"].as_str(),
                e["details"]["kind"].as_str()
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("declaration.transport.port"),
                Some("unknown")
            ),
            "{be}: {e}"
        );
        let mut import = declaration(
            "I-X",
            "first_line_import",
            A,
            vec![line("02023000", "AR", "1", "356", "duty_paid")],
        );
        import["transport"] = json!({ "port": "xinhai", "mode": "sea", "means": "MV Ocean" });
        let (s, e) = app.submit(&a, "i-bad", &import).await;
        assert_eq!(
            (s, e["details"]["kind"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("inconsistent")),
            "{be}: Xinhai serves the second line only: {e}"
        );
        let mut bad_mode = exit_via("X-MODE", A, "xinhai");
        bad_mode["transport"]["mode"] = json!("teleport");
        let (s, e) = app.submit(&a, "m-bad", &bad_mode).await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("declaration.transport.mode")
            ),
            "{be}: {e}"
        );
        // The ports are listed with their channels and what the sources leave unconfirmed.
        let (_, ports) = app
            .call(Method::GET, "/api/v1/ports", Some(&a), None, None)
            .await;
        let items = ports["items"].as_array().expect("ports");
        assert_eq!(
            items.iter().filter(|p| p["second_line"] == true).count(),
            10,
            "{be}: R2.2"
        );
        let channels: usize = items
            .iter()
            .map(|p| p["channels"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(channels, 27, "{be}: R2.2");
    }
}

/// A dishonest enterprise's exit takes the red lane: it waits for its scan; a clear scan releases
/// it, an alerting one sends it to manual inspection, whose result releases it. Each stage carries
/// the clock's time.
#[tokio::test]
async fn a_red_lane_exit_is_scanned_and_inspected_only_when_the_scan_alerts() {
    let clock = Arc::new(ManualClock::at_day(time::macros::date!(2026 - 03 - 16)));
    for app in apps_on(Some(clock.clone())).await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        beef_in_the_book(&app, &c, C).await;
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
        let lodged = clock.now_ms();
        let (_, clear) = app
            .submit(&c, "red-1", &exit_via("RED-1", C, "xinhai"))
            .await;
        let (_, alerting) = app
            .submit(&c, "red-2", &exit_via("RED-2", C, "xinhai"))
            .await;
        for d in [&clear, &alerting] {
            assert_eq!(
                (d["lane"].as_str(), d["status"].as_str()),
                (Some("red"), Some("awaiting_scan")),
                "{be}: {d}"
            );
        }
        let scan = |id: &str, alerted: bool, key: &str| {
            let path = format!("/api/v1/declarations/{id}/scan-result");
            let key = key.to_owned();
            let officer = officer.clone();
            let app = &app;
            async move {
                app.call(
                    Method::POST,
                    &path,
                    Some(&officer),
                    Some(&key),
                    Some(&json!({ "alerted": alerted, "revision": 1 })),
                )
                .await
            }
        };
        clock.advance(95_000);
        let (s, d) = scan(clear["id"].as_str().expect("id"), false, "scan-1").await;
        assert_eq!(
            (s, d["status"].as_str()),
            (StatusCode::OK, Some("released")),
            "{be}: {d}"
        );
        let (s, d) = scan(alerting["id"].as_str().expect("id"), true, "scan-2").await;
        assert_eq!(
            (s, d["status"].as_str()),
            (StatusCode::OK, Some("under_inspection")),
            "{be}: {d}"
        );
        // A scan is recorded once: the declaration no longer awaits one.
        let (s, _) = scan(clear["id"].as_str().expect("id"), false, "scan-3").await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}");
        clock.advance(600_000);
        let id = alerting["id"].as_str().expect("id");
        let (s, d) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{id}/inspection-result"),
                Some(&officer),
                Some("inspect-2"),
                Some(&json!({ "result": "compliant", "revision": 2 })),
            )
            .await;
        assert_eq!(
            (s, d["status"].as_str()),
            (StatusCode::OK, Some("released")),
            "{be}: {d}"
        );
        let history = events(&app, &c, id).await;
        let stages: Vec<(&str, i64)> = history
            .iter()
            .map(|(s, _, at)| (s.as_str(), at - lodged))
            .collect();
        assert_eq!(
            stages,
            [
                ("decided", 0),
                ("awaiting_scan", 0),
                ("under_inspection", 95_000),
                ("released", 695_000)
            ],
            "{be}: each stage at the clock's time"
        );
        clock.advance(1_000);
    }
}

/// A rule set that sends every second-line exit to the red lane with a score of its quantity in
/// kilograms (one point per kilogram, up to 20).
fn scored_by_quantity() -> String {
    let mut text = String::from(
        "ruleset \"capacity\" version 1\n\nrule \"CAP-00\"\n  title \"Every exit to the scanner\"\n  owner \"risk.test\"\n  when flow == \"second_line_exit\"\n  then lane red\nend\n",
    );
    for k in 1..=20 {
        text.push_str(&format!(
            "\nrule \"CAP-{k:02}\"\n  title \"At least {k} kg\"\n  owner \"risk.test\"\n  when flow == \"second_line_exit\" and quantity >= {k}\n  then score 1\nend\n"
        ));
    }
    text
}

/// Every second-line exit goes to red, scored by its quantity: the rule set created, back-tested
/// and activated by `analyst`.
pub(crate) async fn red_by_quantity(app: &App, analyst: &str) {
    let be = &app.backend;
    let (s, set) = app
        .call(
            Method::POST,
            "/api/v1/risk/rule-sets",
            Some(analyst),
            Some("cap-rules"),
            Some(&json!({ "source": scored_by_quantity() })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{be}: {set}");
    let sha = set["sha256"].as_str().expect("sha").to_owned();
    for (step, body) in [
        (
            "backtest",
            json!({ "from": "2026-01-01", "to": "2026-12-31", "revision": 1 }),
        ),
        (
            "activate",
            json!({ "reason": "capacity drill", "revision": 2 }),
        ),
    ] {
        let (s, r) = app
            .call(
                Method::POST,
                &format!("/api/v1/risk/rule-sets/{sha}/{step}"),
                Some(analyst),
                Some(&format!("cap-{step}")),
                Some(&body),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {step}: {r}");
    }
}

/// With a capacity of C a day and 10 x C declarations risk sends to red, exactly C are admitted to
/// the scan, the riskiest C whatever their order of arrival, and the other 9 x C go to documentary
/// check and are counted as the day's overflow.
#[tokio::test]
async fn inspection_capacity_takes_the_riskiest_and_reports_the_overflow() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        beef_in_the_book(&app, &a, A).await;
        red_by_quantity(&app, &analyst).await;
        const C: u32 = 2;
        let (s, r) = app
            .call(
                Method::PUT,
                "/api/v1/ports/xinhai/capacity",
                Some(&admin),
                Some("cap-set"),
                Some(&json!({ "daily_inspection_capacity": C })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        // 20 exits of 1 to 20 kg, in a scrambled order: the two heaviest are the riskiest.
        let mut ids = std::collections::BTreeMap::new();
        for n in 0..(10 * C) {
            let kg = (n * 7) % (10 * C) + 1;
            let mut d = exit_via(&format!("CAP-{kg}"), A, "xinhai");
            d["lines"][0]["quantities"][0]["value"] = json!(kg.to_string());
            let (s, r) = app.submit(&a, &format!("cap-{kg}"), &d).await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {r}");
            ids.insert(kg, r["id"].as_str().expect("id").to_owned());
        }
        let (_, load) = app
            .call(
                Method::GET,
                "/api/v1/ports/xinhai/load",
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(
            (
                load["daily_inspection_capacity"].as_i64(),
                load["admitted"].as_i64(),
                load["overflow"].as_i64()
            ),
            (
                Some(i64::from(C)),
                Some(i64::from(C)),
                Some(i64::from(9 * C))
            ),
            "{be}: {load}"
        );
        let waiting: Vec<&str> = load["waiting"]
            .as_array()
            .expect("waiting")
            .iter()
            .filter_map(|w| w["declaration_id"].as_str())
            .collect();
        let mut expected = vec![ids[&19].as_str(), ids[&20].as_str()];
        let mut got = waiting.clone();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(
            got, expected,
            "{be}: the riskiest wait for the scan: {load}"
        );
        for (kg, id) in &ids {
            let (_, d) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/declarations/{id}"),
                    Some(&a),
                    None,
                    None,
                )
                .await;
            let (status, lane) = (d["status"].as_str(), d["lane"].as_str());
            if *kg > 18 {
                assert_eq!(
                    (status, lane),
                    (Some("awaiting_scan"), Some("red")),
                    "{be}: {kg} kg"
                );
            } else {
                assert_eq!(
                    (status, lane),
                    (Some("decided"), Some("yellow")),
                    "{be}: {kg} kg to documentary check"
                );
                assert_eq!(d["risk"]["lane"], "red", "{be}: risk's own choice is kept");
            }
        }
        // Calibrated on this history: 20 a day, all sent to red, against 2 a day: the thresholds
        // would fill a tenth, and 18 a day overflow at the share risk chose.
        let (s, cal) = app
            .call(
                Method::GET,
                "/api/v1/ports/xinhai/calibration?from=2026-03-16&to=2026-03-16",
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}: {cal}");
        assert_eq!(
            (
                cal["declarations"].as_u64(),
                cal["mean_per_day"].as_f64(),
                cal["capacity_share"].as_f64(),
                cal["selected_red_share"].as_f64(),
                cal["expected_overflow_per_day"].as_f64()
            ),
            (Some(20), Some(20.0), Some(0.1), Some(1.0), Some(18.0)),
            "{be}: {cal}"
        );
        assert!(
            cal["red_share_used"].as_f64().is_some_and(|r| r <= 0.1),
            "{be}: {cal}"
        );
        // A scanned declaration leaves the queue: nothing waiting can be displaced any more.
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/declarations/{}/scan-result", ids[&20]),
                Some(&officer),
                Some("cap-scan"),
                Some(&json!({ "alerted": false, "revision": 1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{be}");
        let (_, load) = app
            .call(
                Method::GET,
                "/api/v1/ports/xinhai/load",
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(
            load["waiting"].as_array().map(Vec::len),
            Some(1),
            "{be}: {load}"
        );
    }
}

/// The cumulative count of a clearance histogram's bucket at Nangang, from the metrics text.
fn nangang_bucket(metrics: &str, name: &str, lane: &str, le: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}_bucket{{")))
        .filter(|l| {
            l.contains("port=\"nangang\"")
                && l.contains(&format!("lane=\"{lane}\""))
                && l.contains(&format!("le=\"{le}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A scripted day at Nangang with known times: two green exits released at once and crossing after
/// 5 and 15 minutes, a red one scanned clear after 90 s and crossing 10 minutes later, a red one
/// whose scan alerts and is released after inspection at 1 900 s. The time-release figures are
/// exact, and the Prometheus histograms gain the same observations in the same buckets.
#[tokio::test]
async fn time_release_figures_are_exact_on_a_scripted_day() {
    let clock = Arc::new(ManualClock::new(0));
    for (n, app) in apps_on(Some(clock.clone())).await.into_iter().enumerate() {
        let be = app.backend.clone();
        let day = time::macros::date!(2026 - 03 - 16) + time::Duration::days(n as i64);
        clock.set(ManualClock::at_day(day).now_ms());
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        beef_in_the_book(&app, &a, A).await;
        beef_in_the_book(&app, &c, C).await;
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
        let before = freeport_server::observe::metrics_handle().render();
        let t0 = clock.now_ms();
        let at = |seconds: i64| clock.set(t0 + seconds * 1000);
        // A green exit; the 0.5 % random sample may send one to red, which stays unreleased.
        let green = |key: String| {
            let (app, a) = (&app, &a);
            async move {
                for attempt in 0..5 {
                    let (s, d) = app
                        .submit(
                            a,
                            &format!("{key}-{attempt}"),
                            &exit_via(&format!("{key}-{attempt}"), A, "nangang"),
                        )
                        .await;
                    assert_eq!(s, StatusCode::CREATED, "{d}");
                    if d["status"] == "released" {
                        return d["id"].as_str().expect("id").to_owned();
                    }
                }
                panic!("no green lane in five");
            }
        };
        at(0);
        let g1 = green("G1".into()).await;
        at(60);
        let g2 = green("G2".into()).await;
        at(120);
        let (_, r1) = app.submit(&c, "R1", &exit_via("R1", C, "nangang")).await;
        at(180);
        let (_, r2) = app.submit(&c, "R2", &exit_via("R2", C, "nangang")).await;
        let (r1, r2) = (
            r1["id"].as_str().expect("r1").to_owned(),
            r2["id"].as_str().expect("r2").to_owned(),
        );
        let post = |path: String, key: &'static str, body: Value| {
            let (app, officer) = (&app, &officer);
            async move {
                let (s, r) = app
                    .call(Method::POST, &path, Some(officer), Some(key), Some(&body))
                    .await;
                assert!(s.is_success(), "{path}: {s} {r}");
            }
        };
        let cross = |id: &str| json!({ "declaration_id": id, "means": "琼A12345" });
        let channel = "/api/v1/ports/nangang/channels/nangang-cargo-01/crossings".to_owned();
        at(210);
        post(
            format!("/api/v1/declarations/{r1}/scan-result"),
            "s1",
            json!({ "alerted": false, "revision": 1 }),
        )
        .await;
        at(280);
        post(
            format!("/api/v1/declarations/{r2}/scan-result"),
            "s2",
            json!({ "alerted": true, "revision": 1 }),
        )
        .await;
        at(300);
        post(channel.clone(), "c1", cross(&g1)).await;
        at(810);
        post(channel.clone(), "c2", cross(&r1)).await;
        at(960);
        post(channel.clone(), "c3", cross(&g2)).await;
        at(2080);
        post(
            format!("/api/v1/declarations/{r2}/inspection-result"),
            "i2",
            json!({ "result": "compliant", "revision": 2 }),
        )
        .await;

        let figures = |by: &'static str| {
            let (app, officer) = (&app, &officer);
            async move {
                let (s, f) = app
                    .call(
                        Method::GET,
                        &format!("/api/v1/time-release?from={day}&to={day}&by={by}"),
                        Some(officer),
                        None,
                        None,
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{f}");
                f
            }
        };
        let stage = |g: &Value, stage: &str| -> Vec<i64> {
            ["count", "mean_ms", "median_ms", "p90_ms", "max_ms"]
                .iter()
                .map(|k| g[stage][k].as_i64().unwrap_or(-1))
                .collect()
        };
        let by_lane = figures("lane").await;
        let group = |f: &Value, key: &str| {
            f["groups"]
                .as_array()
                .expect("groups")
                .iter()
                .find(|g| g["key"] == key)
                .cloned()
                .expect(key)
        };
        let g = group(&by_lane, "green");
        assert_eq!(g["lodged"], 2, "{be}: {g}");
        assert_eq!(stage(&g, "release"), [2, 0, 0, 0, 0], "{be}");
        assert_eq!(
            stage(&g, "exit"),
            [2, 600_000, 300_000, 900_000, 900_000],
            "{be}"
        );
        assert_eq!(
            stage(&g, "end_to_end"),
            [2, 600_000, 300_000, 900_000, 900_000],
            "{be}"
        );
        assert_eq!(
            (
                g["releases_with_target"].as_i64(),
                g["releases_within_target"].as_i64()
            ),
            (Some(2), Some(2)),
            "{be}"
        );
        let r = group(&by_lane, "red");
        assert_eq!(
            stage(&r, "release"),
            [2, 995_000, 90_000, 1_900_000, 1_900_000],
            "{be}: {r}"
        );
        assert_eq!(
            stage(&r, "exit"),
            [1, 600_000, 600_000, 600_000, 600_000],
            "{be}"
        );
        assert_eq!(
            stage(&r, "end_to_end"),
            [1, 690_000, 690_000, 690_000, 690_000],
            "{be}"
        );
        assert_eq!(
            (
                r["releases_with_target"].as_i64(),
                r["releases_within_target"].as_i64()
            ),
            (Some(1), Some(1)),
            "{be}: the inspected one has no target"
        );
        assert_eq!(by_lane["targets"]["unflagged_seconds"], 60, "{be}");
        let by_channel = figures("channel").await;
        assert_eq!(
            stage(&group(&by_channel, "nangang-cargo-01"), "end_to_end"),
            [3, 630_000, 690_000, 900_000, 900_000],
            "{be}"
        );

        // The histograms gained the same observations, in R2.4's buckets.
        let after = freeport_server::observe::metrics_handle().render();
        let delta = |name: &str, lane: &str, le: &str| {
            nangang_bucket(&after, name, lane, le) - nangang_bucket(&before, name, lane, le)
        };
        let release = "clearance_release_seconds";
        assert_eq!(
            (
                delta(release, "green", "30"),
                delta(release, "green", "+Inf")
            ),
            (2.0, 2.0),
            "{be}"
        );
        assert_eq!(
            ["60", "120", "1800", "3600"].map(|le| delta(release, "red", le)),
            [0.0, 1.0, 1.0, 2.0],
            "{be}: 90 s within the scanned target, 1 900 s after inspection"
        );
        let e2e = "clearance_end_to_end_seconds";
        assert_eq!(
            ["300", "600", "1800"].map(|le| delta(e2e, "green", le)),
            [1.0, 1.0, 2.0],
            "{be}"
        );
        assert_eq!(
            ["600", "1800"].map(|le| delta(e2e, "red", le)),
            [0.0, 1.0],
            "{be}"
        );
    }
}

/// Scanners down at Xinhai: the next red-lane declarations there go straight to manual inspection
/// with the mode in their explanation, those at Nangang still to the scan; returning to normal
/// lists what was decided in the mode; the switch, the declarations and the return are audited. A
/// closed port turns declarations to the port it names.
#[tokio::test]
async fn an_emergency_mode_changes_the_next_lanes_at_its_port_only_and_returning_lists_them() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let c = app.enterprise(&admin, C, true).await;
        beef_in_the_book(&app, &c, C).await;
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
        let mode = |key: &'static str, body: Value| {
            let (app, admin) = (&app, &admin);
            async move {
                app.call(
                    Method::PUT,
                    "/api/v1/ports/xinhai/mode",
                    Some(admin),
                    Some(key),
                    Some(&body),
                )
                .await
            }
        };
        let (s, m) = mode(
            "m1",
            json!({ "mode": "scanners_down", "reason": "H986 power failure, channel 3" }),
        )
        .await;
        assert_eq!(
            (s, m["mode"].as_str()),
            (StatusCode::OK, Some("scanners_down")),
            "{be}: {m}"
        );
        let (_, ports) = app
            .call(Method::GET, "/api/v1/ports", Some(&admin), None, None)
            .await;
        let mode_of = |code: &str| {
            ports["items"]
                .as_array()
                .expect("ports")
                .iter()
                .find(|p| p["code"] == code)
                .map(|p| p["mode"]["mode"].clone())
        };
        assert_eq!(
            (mode_of("xinhai"), mode_of("nangang")),
            (Some(json!("scanners_down")), Some(Value::Null)),
            "{be}"
        );

        // One mode at a time: another is refused until the port is back to normal.
        let (s, e) = mode(
            "m0",
            json!({ "mode": "port_closed", "reason": "x", "reroute_to": "nangang" }),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: {e}");
        let (_, during) = app.submit(&c, "em-1", &exit_via("EM-1", C, "xinhai")).await;
        assert_eq!(
            (during["lane"].as_str(), during["status"].as_str()),
            (Some("red"), Some("under_inspection")),
            "{be}: {during}"
        );
        assert!(
            during["decision"]["explanation"]
                .as_array()
                .expect("explanation")
                .iter()
                .any(|s| s.to_string().contains("H986 scanners out of service")),
            "{be}: the mode is explained: {during}"
        );
        let (_, elsewhere) = app
            .submit(&c, "em-2", &exit_via("EM-2", C, "nangang"))
            .await;
        assert_eq!(
            elsewhere["status"], "awaiting_scan",
            "{be}: Nangang's scanners work: {elsewhere}"
        );

        let (s, back) = mode(
            "m2",
            json!({ "mode": "normal", "reason": "scanner repaired" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}: {back}");
        assert_eq!(back["ended"]["mode"], "scanners_down", "{be}");
        let listed: Vec<&str> = back["to_regularise"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|d| d["id"].as_str())
            .collect();
        assert_eq!(listed, [during["id"].as_str().expect("id")], "{be}: {back}");
        let (_, after) = app.submit(&c, "em-3", &exit_via("EM-3", C, "xinhai")).await;
        assert_eq!(
            after["status"], "awaiting_scan",
            "{be}: normal again: {after}"
        );

        let trail = app.state.store.audit_trail("xinhai").await.expect("audit");
        let actions: Vec<(&str, bool)> = trail
            .iter()
            .map(|(action, _, payload, _)| (action.as_str(), payload.contains("scanners_down")))
            .collect();
        assert_eq!(
            actions,
            [("port.mode", true), ("port.mode", true)],
            "{be}: {trail:?}"
        );
        assert!(
            trail[1].2.contains(during["id"].as_str().expect("id")),
            "{be}: the return names what to regularise"
        );
        let declared = app
            .state
            .store
            .audit_trail(during["id"].as_str().expect("id"))
            .await
            .expect("audit");
        assert!(
            declared
                .iter()
                .any(|(a, _, p, _)| a == "declaration.transition" && p.contains("scanners_down")),
            "{be}: {declared:?}"
        );

        // Wrong requests change nothing.
        let (s, e) = mode("m3", json!({ "mode": "normal", "reason": "again" })).await;
        assert_eq!(s, StatusCode::CONFLICT, "{be}: {e}");
        let (s, e) = mode("m4", json!({ "mode": "flooded", "reason": "x" })).await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("mode")),
            "{be}: {e}"
        );
        let (s, e) = mode("m5", json!({ "mode": "port_closed", "reason": "typhoon" })).await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("reroute_to")),
            "{be}: {e}"
        );

        // A closed port sends declarations to the port it names.
        let (s, _) = mode(
            "m6",
            json!({ "mode": "port_closed", "reason": "typhoon", "reroute_to": "nangang" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}");
        let (s, e) = app.submit(&c, "em-4", &exit_via("EM-4", C, "xinhai")).await;
        assert_eq!(
            (
                s,
                e["details"]["field"].as_str(),
                e["details"]["kind"].as_str()
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("declaration.transport.port"),
                Some("inconsistent")
            ),
            "{be}: {e}"
        );
        assert!(
            e["details"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("nangang")),
            "{be}: {e}"
        );
        let (s, _) = mode(
            "m7",
            json!({ "mode": "normal", "reason": "typhoon passed" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}");
    }
}

/// A passenger at Xinhai's passenger channel carries more duty-free goods than the purchases on
/// record cover: 34 cosmetics against 30 bought (the departure's limit), and a watch bought
/// nowhere. The excess is taxed at the inbound-articles rate of its class (50 %), each line half up
/// to the fen: 4 x 450.00 = 1 800.00 -> 900.00, and 12 345.67 -> 6 172.835 -> 6 172.84; 7 072.84
/// in all. An unclassified passenger with an excess is inspected; a white-list one without is not;
/// a key-concern one always.
#[tokio::test]
async fn a_passenger_with_excess_duty_free_goods_is_taxed_to_the_fen() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        app.enterprise(&admin, C, true).await;
        let operator = app
            .user(&admin, "operator", "duty_free_operator", Some(C))
            .await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let (s, _) = app
            .call(
                Method::PUT,
                "/api/v1/duty-free/shops/HK-P",
                Some(&admin),
                Some("shop"),
                Some(&json!({ "operator": C, "name": "Haikou", "location": "Haikou" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        app.departs(&sale(
            "passport",
            "E12345678",
            Some("GB"),
            "1990-05-01",
            "2026-03-05",
            "cosmetics",
            "1",
            "1",
        ))
        .await;
        let (s, sold) = app
            .call(
                Method::POST,
                "/api/v1/duty-free/shops/HK-P/sales",
                Some(&operator),
                Some("sale-1"),
                Some(&sale(
                    "passport",
                    "E12345678",
                    Some("GB"),
                    "1990-05-01",
                    "2026-03-05",
                    "cosmetics",
                    "450",
                    "30",
                )),
            )
            .await;
        assert_eq!(
            (s, sold["accepted"].as_bool()),
            (StatusCode::CREATED, Some(true)),
            "{be}: {sold}"
        );
        let passenger = |carried: Value, key: &'static str| {
            let (app, officer) = (&app, &officer);
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/ports/xinhai/channels/xinhai-passenger-01/passengers",
                    Some(officer),
                    Some(key),
                    Some(&json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "departure_on": "2026-03-05", "carried": carried })),
                )
                .await
            }
        };
        let (s, c) = passenger(
            json!([
                { "category": "cosmetics", "unit_price": "450", "quantity": "34" },
                { "category": "watches", "unit_price": "12345.67", "quantity": "1" }
            ]),
            "p-1",
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {c}");
        let lines: Vec<(&str, &str, &str, &str)> = c["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| {
                (
                    l["covered"].as_str().unwrap_or(""),
                    l["excess"].as_str().unwrap_or(""),
                    l["taxed_value"].as_str().unwrap_or(""),
                    l["tax"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("30", "4", "1800.00", "900.00"),
                ("0", "1", "12345.67", "6172.84")
            ],
            "{be}: {c}"
        );
        assert_eq!(
            (
                c["tax"].as_str(),
                c["inspect"].as_bool(),
                c["class"].as_str()
            ),
            (Some("7072.84"), Some(true), Some("unclassified")),
            "{be}: {c}"
        );
        assert_eq!(
            c["explanation"].as_array().map(Vec::len),
            Some(2),
            "{be}: each taxed line explained"
        );
        assert_eq!(c["explanation"][0]["rule"], "R8.8", "{be}");

        // Within the records: nothing due; white-listed: not inspected; key concern: inspected.
        let within = json!([{ "category": "cosmetics", "unit_price": "450", "quantity": "30" }]);
        let list = |list: &'static str, key: &'static str| {
            let (app, officer) = (&app, &officer);
            async move {
                let (s, r) = app
                    .call(Method::PUT, "/api/v1/second-line-lists/individuals", Some(officer), Some(key), Some(&json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "list": list, "reason": "R6.2 classification" })))
                    .await;
                assert_eq!(s, StatusCode::OK, "{r}");
            }
        };
        list("white_list", "l-1").await;
        let (_, c) = passenger(within.clone(), "p-2").await;
        assert_eq!(
            (
                c["tax"].as_str(),
                c["inspect"].as_bool(),
                c["class"].as_str()
            ),
            (Some("0.00"), Some(false), Some("white_list")),
            "{be}: {c}"
        );
        list("key_concern", "l-2").await;
        let (_, c) = passenger(within, "p-3").await;
        assert_eq!(
            (c["inspect"].as_bool(), c["class"].as_str()),
            (Some(true), Some("key_concern")),
            "{be}: {c}"
        );
        // A cargo channel is not where passengers are checked.
        let (s, _) = app
            .call(Method::POST, "/api/v1/ports/xinhai/channels/xinhai-cargo-01/passengers", Some(&officer), Some("p-4"), Some(&json!({ "document": { "kind": "passport", "number": "E12345678", "issuing_country": "GB" }, "departure_on": "2026-03-05", "carried": [] })))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}");
    }
}

/// Second-line credit for operators (R6.2): a general enterprise on the white list may ship in
/// batches and sees its class with its components; on the key-concern list its green lanes at a
/// second-line port go to documentary check instead of release.
#[tokio::test]
async fn second_line_lists_open_batch_exit_and_key_concern_is_checked_more() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        beef_in_the_book(&app, &a, A).await;
        let listing = |list: &'static str, key: &'static str| {
            let (app, officer) = (&app, &officer);
            async move {
                app.call(
                    Method::PUT,
                    &format!("/api/v1/enterprises/{A}/second-line-list"),
                    Some(officer),
                    Some(key),
                    Some(&json!({ "list": list, "reason": "provincial classification" })),
                )
                .await
            }
        };
        let (s, r) = listing("white_list", "w").await;
        assert_eq!(s, StatusCode::OK, "{be}: {r}");
        let (_, credit) = app
            .call(
                Method::GET,
                &format!("/api/v1/enterprises/{A}/second-line-credit"),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(
            (
                credit["class"].as_str(),
                credit["national_class"].as_str(),
                credit["batch_exit"].as_bool(),
                credit["listed_by"].is_string()
            ),
            (Some("white_list"), Some("general"), Some(true), true),
            "{be}: {credit}"
        );
        let mut d = exit_via("WL-1", A, "xinhai");
        d["batch_exit"] = json!(true);
        let (s, r) = app.submit(&a, "wl-1", &d).await;
        assert_eq!(
            (s, r["outcome"].as_str()),
            (StatusCode::CREATED, Some("accepted")),
            "{be}: {r}"
        );

        let (s, _) = listing("key_concern", "k").await;
        assert_eq!(s, StatusCode::OK);
        for n in 0..3 {
            let (_, r) = app
                .submit(
                    &a,
                    &format!("kc-{n}"),
                    &exit_via(&format!("KC-{n}"), A, "xinhai"),
                )
                .await;
            let lane = r["lane"].as_str().unwrap_or_default().to_owned();
            assert!(
                lane == "yellow" || lane == "red",
                "{be}: a key-concern operator is not released unchecked: {r}"
            );
            assert_ne!(r["status"], "released", "{be}: {r}");
        }
        let (s, e) = listing("nobody_list", "x").await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("list")),
            "{be}"
        );
    }
}
