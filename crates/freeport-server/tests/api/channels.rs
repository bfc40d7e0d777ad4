//! A port's cargo channels: each with its own inspection capacity and its own emergency mode, for
//! the trucks booked through it (R2.2, R2.4).

use super::second_line::{beef_in_the_book, exit_via, red_by_quantity};
use super::*;

/// An exit of `kg` kilograms (its risk score under `red_by_quantity`) booked through `channel`.
fn booked(reference: &str, kg: u32, channel: Option<&str>) -> Value {
    let mut d = exit_via(reference, A, "xinhai");
    d["lines"][0]["quantities"][0]["value"] = json!(kg.to_string());
    if let Some(c) = channel {
        d["transport"]["channel"] = json!(c);
    }
    d
}

async fn load(app: &App, officer: &str) -> Value {
    let (s, l) = app
        .call(
            Method::GET,
            "/api/v1/ports/xinhai/load",
            Some(officer),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    l
}

fn channel<'v>(load: &'v Value, id: &str) -> &'v Value {
    load["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .find(|c| c["channel"] == id)
        .expect("channel")
}

/// A channel set to inspect one truck a day takes the riskiest truck booked through it and turns
/// the rest to documentary check, while the port's other channels still have room; the port's
/// capacity is the sum of its channels'.
#[tokio::test]
async fn a_booked_channel_bounds_its_own_red_lane() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        beef_in_the_book(&app, &a, A).await;
        red_by_quantity(&app, &analyst).await;
        let before = load(&app, &officer).await;
        let (s, r) = app
            .call(
                Method::PUT,
                "/api/v1/ports/xinhai/capacity",
                Some(&admin),
                Some("ch-cap"),
                Some(&json!({ "channel": "xinhai-cargo-01", "daily_inspection_capacity": 1 })),
            )
            .await;
        assert_eq!(
            (s, r["channel"].as_str()),
            (StatusCode::OK, Some("xinhai-cargo-01")),
            "{be}: {r}"
        );
        let mut ids = std::collections::BTreeMap::new();
        for (kg, at) in [
            (5, Some("xinhai-cargo-01")),
            (3, Some("xinhai-cargo-01")),
            (9, Some("xinhai-cargo-01")),
            (1, None),
        ] {
            let (s, d) = app
                .submit(
                    &a,
                    &format!("ch-{kg}"),
                    &booked(&format!("CH-{kg}"), kg, at),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{be}: {d}");
            ids.insert(kg, (d["id"].as_str().expect("id").to_owned(), d));
        }
        let status = |kg: u32| {
            let d = &ids[&kg].1;
            (
                d["status"].as_str().map(str::to_owned),
                d["lane"].as_str().map(str::to_owned),
            )
        };
        let scan = (Some("awaiting_scan".to_owned()), Some("red".to_owned()));
        let documents = (Some("decided".to_owned()), Some("yellow".to_owned()));
        // 3 kg found the channel full of a riskier truck; 9 kg took the 5 kg truck's place; the
        // unbooked 1 kg truck went to the port's room.
        assert_eq!(status(3), documents, "{be}");
        assert_eq!(status(9), scan, "{be}");
        assert_eq!(status(1), scan, "{be}");
        let (_, five) = app
            .call(
                Method::GET,
                &format!("/api/v1/declarations/{}", ids[&5].0),
                Some(&a),
                None,
                None,
            )
            .await;
        assert_eq!(
            (five["status"].as_str(), five["lane"].as_str()),
            (Some("decided"), Some("yellow")),
            "{be}: displaced: {five}"
        );

        let l = load(&app, &officer).await;
        let one = channel(&l, "xinhai-cargo-01");
        assert_eq!(
            (
                one["daily_inspection_capacity"].as_i64(),
                one["capacity_source"].as_str(),
                one["admitted"].as_i64(),
                one["overflow"].as_i64()
            ),
            (Some(1), Some("set"), Some(1), Some(2)),
            "{be}: {l}"
        );
        let pack_capacity = before["daily_inspection_capacity"]
            .as_i64()
            .expect("capacity");
        let pack_one = channel(&before, "xinhai-cargo-01")["daily_inspection_capacity"]
            .as_i64()
            .expect("channel capacity");
        assert_eq!(
            (
                l["daily_inspection_capacity"].as_i64(),
                l["capacity_source"].as_str(),
                l["admitted"].as_i64(),
                l["overflow"].as_i64()
            ),
            (
                Some(pack_capacity - pack_one + 1),
                Some("channels"),
                Some(2),
                Some(2)
            ),
            "{be}: the port is the sum of its channels: {l}"
        );
        let waiting: Vec<(&str, Option<&str>)> = l["waiting"]
            .as_array()
            .expect("waiting")
            .iter()
            .map(|w| {
                (
                    w["declaration_id"].as_str().expect("id"),
                    w["channel"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            waiting,
            [
                (ids[&9].0.as_str(), Some("xinhai-cargo-01")),
                (ids[&1].0.as_str(), None)
            ],
            "{be}: {l}"
        );

        // A channel that is not the port's, or not a cargo channel, is refused by name.
        for (key, body, field) in [
            (
                "ch-bad-1",
                booked("CH-BAD", 2, Some("nangang-cargo-01")),
                "declaration.transport.channel",
            ),
            (
                "ch-bad-2",
                booked("CH-BAD", 2, Some("xinhai-passenger-01")),
                "declaration.transport.channel",
            ),
        ] {
            let (s, e) = app.submit(&a, key, &body).await;
            assert_eq!(
                (s, e["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{be}: {e}"
            );
        }
        let (s, e) = app
            .call(
                Method::PUT,
                "/api/v1/ports/xinhai/capacity",
                Some(&admin),
                Some("ch-cap-bad"),
                Some(&json!({ "channel": "xinhai-passenger-01", "daily_inspection_capacity": 1 })),
            )
            .await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("channel")),
            "{be}: {e}"
        );
    }
}

/// Scanners down at one channel send the red lane of the trucks booked through it to manual
/// inspection, leave the port's other channels scanning, and take the channel's capacity out of
/// the port's; returning it to normal lists what it decided; a closed channel names the channel to
/// cross at instead. Every change is audited under the channel.
#[tokio::test]
async fn a_channel_in_an_emergency_mode_changes_only_its_own_trucks() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        beef_in_the_book(&app, &a, A).await;
        red_by_quantity(&app, &analyst).await;
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
        let before = load(&app, &officer).await;
        let (s, m) = mode(
            "chm-1",
            json!({ "channel": "xinhai-cargo-02", "mode": "scanners_down", "reason": "H986 of lane 2 down" }),
        )
        .await;
        assert_eq!(
            (s, m["channel"].as_str(), m["mode"].as_str()),
            (
                StatusCode::OK,
                Some("xinhai-cargo-02"),
                Some("scanners_down")
            ),
            "{be}: {m}"
        );
        let l = load(&app, &officer).await;
        assert_eq!(
            (
                l["daily_inspection_capacity"].as_i64(),
                channel(&l, "xinhai-cargo-02")["mode"].as_str()
            ),
            (
                Some(
                    before["daily_inspection_capacity"].as_i64().expect("cap")
                        - channel(&before, "xinhai-cargo-02")["daily_inspection_capacity"]
                            .as_i64()
                            .expect("cap")
                ),
                Some("scanners_down")
            ),
            "{be}: {l}"
        );
        let (_, ports) = app
            .call(Method::GET, "/api/v1/ports", Some(&admin), None, None)
            .await;
        let xinhai = ports["items"]
            .as_array()
            .expect("ports")
            .iter()
            .find(|p| p["code"] == "xinhai")
            .expect("xinhai");
        let channel_mode = |id: &str| {
            xinhai["channels"]
                .as_array()
                .expect("channels")
                .iter()
                .find(|c| c["id"] == id)
                .map(|c| c["mode"]["mode"].clone())
        };
        assert_eq!(
            (
                xinhai["mode"].clone(),
                channel_mode("xinhai-cargo-02"),
                channel_mode("xinhai-cargo-03")
            ),
            (Value::Null, Some(json!("scanners_down")), Some(Value::Null)),
            "{be}: {xinhai}"
        );

        let (_, down) = app
            .submit(&a, "chm-d1", &booked("CHM-1", 4, Some("xinhai-cargo-02")))
            .await;
        assert_eq!(
            (down["lane"].as_str(), down["status"].as_str()),
            (Some("red"), Some("under_inspection")),
            "{be}: {down}"
        );
        assert!(
            down["decision"]["explanation"]
                .to_string()
                .contains("H986 scanners out of service"),
            "{be}: the mode is explained: {down}"
        );
        for (key, at) in [("chm-d2", Some("xinhai-cargo-03")), ("chm-d3", None)] {
            let (_, other) = app.submit(&a, key, &booked(key, 4, at)).await;
            assert_eq!(
                other["status"], "awaiting_scan",
                "{be}: {at:?} still scans: {other}"
            );
        }

        // The port itself can go into a mode of its own meanwhile, and back, without touching
        // the channel's.
        let (s, back) = mode(
            "chm-2",
            json!({ "channel": "xinhai-cargo-02", "mode": "normal", "reason": "scanner repaired" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}: {back}");
        let listed: Vec<&str> = back["to_regularise"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|d| d["id"].as_str())
            .collect();
        assert_eq!(listed, [down["id"].as_str().expect("id")], "{be}: {back}");
        let trail = app
            .state
            .store
            .audit_trail("xinhai-cargo-02")
            .await
            .expect("audit");
        assert_eq!(
            trail.iter().map(|(a, ..)| a.as_str()).collect::<Vec<_>>(),
            ["port.mode", "port.mode"],
            "{be}: {trail:?}"
        );

        // A closed channel names another cargo channel of the port.
        for (key, body, field) in [
            (
                "chm-3",
                json!({ "channel": "xinhai-cargo-04", "mode": "port_closed", "reason": "x", "reroute_to": "xinhai-passenger-01" }),
                "reroute_to",
            ),
            (
                "chm-4",
                json!({ "channel": "xinhai-cargo-04", "mode": "port_closed", "reason": "x", "reroute_to": "xinhai-cargo-04" }),
                "reroute_to",
            ),
            (
                "chm-5",
                json!({ "channel": "nangang-cargo-01", "mode": "scanners_down", "reason": "x" }),
                "channel",
            ),
        ] {
            let (s, e) = mode(key, body).await;
            assert_eq!(
                (s, e["details"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{be}: {key}: {e}"
            );
        }
        let (s, _) = mode(
            "chm-6",
            json!({ "channel": "xinhai-cargo-04", "mode": "port_closed", "reason": "lane flooded", "reroute_to": "xinhai-cargo-05" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{be}");
        let (s, e) = app
            .submit(&a, "chm-d4", &booked("CHM-4", 4, Some("xinhai-cargo-04")))
            .await;
        assert_eq!(
            (s, e["details"]["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("declaration.transport.channel")
            ),
            "{be}: {e}"
        );
        assert!(
            e["details"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("xinhai-cargo-05")),
            "{be}: {e}"
        );
        let (_, elsewhere) = app
            .submit(&a, "chm-d5", &booked("CHM-5", 4, Some("xinhai-cargo-05")))
            .await;
        assert_eq!(elsewhere["status"], "awaiting_scan", "{be}: {elsewhere}");
    }
}
