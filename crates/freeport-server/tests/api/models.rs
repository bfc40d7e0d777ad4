//! The platform model: retrained on inspection results, joining the lane with its reasons.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_retrained_on_inspection_results_joins_the_lane_with_its_reasons() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let analyst = app.user(&admin, "analyst", "risk_analyst", None).await;
        let train = |key: &'static str, from: &'static str| {
            let (app, analyst) = (&app, analyst.clone());
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/risk/models",
                    Some(&analyst),
                    Some(key),
                    Some(&json!({ "from": from, "to": "2026-03-31" })),
                )
                .await
            }
        };
        // Nothing inspected yet: refused, saying what training needs.
        let (s, r) = train("t0", "2026-03-01").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{be}: {r}");
        assert_eq!(r["details"]["field"], "to", "{be}: {r}");

        inspected_history(&app, (&a, A), (&c, C), &officer, 50).await;
        let (s, m) = train("t1", "2026-03-01").await;
        assert_eq!(s, StatusCode::CREATED, "{be}: {m}");
        assert_eq!(
            (
                m["cases"].as_i64(),
                m["violations"].as_i64(),
                m["state"].as_str()
            ),
            (Some(50), Some(25), Some("active")),
            "{be}: {m}"
        );
        assert_eq!(m["holdout"]["cases"], 10, "{be}: {m}");
        assert!(
            m["holdout"]["auc"].as_f64().is_some_and(|auc| auc > 0.9),
            "{be}: {m}"
        );

        // In the decision path: A's cheese scores high, C's beef low, each with its reasons.
        let submit = |token: String,
                      key: &'static str,
                      code: &'static str,
                      hs: &'static str,
                      origin: &'static str| {
            let app = &app;
            async move {
                let (s, d) = app
                    .call(
                        Method::POST,
                        "/api/v1/declarations",
                        Some(&token),
                        Some(key),
                        Some(&declaration(
                            key,
                            "first_line_import",
                            code,
                            vec![line(hs, origin, "100", "3000", "duty_paid")],
                        )),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{d}");
                d
            }
        };
        let risky = submit(a.clone(), "NEW-A", A, "04069000", "CN").await;
        let model = &risky["risk"]["model"];
        assert_eq!(model["model_sha256"], m["sha256"], "{be}: {risky}");
        let p: f64 = model["probability"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .expect("probability");
        assert!(p > 0.5, "{be}: {model}");
        assert_eq!(
            risky["lane"], "red",
            "{be}: {p} × 100 points reach red: {risky}"
        );
        let reasons = model["contributions"].as_array().expect("contributions");
        assert_eq!(reasons.len(), 5, "{be}: {model}");
        assert!(
            reasons.iter().all(|r| r["feature"]
                .as_str()
                .is_some_and(|f| freeport_risk::platform_model::PLATFORM_FEATURES.contains(&f))),
            "{be}: {model}"
        );
        let safe = submit(c.clone(), "NEW-C", C, "02023000", "AR").await;
        let q: f64 = safe["risk"]["model"]["probability"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .expect("probability");
        assert!(q < 0.5 && q < p, "{be}: {safe}");

        // The same data trains the same model; a later period retires the earlier one.
        let (_, again) = train("t2", "2026-03-01").await;
        assert_eq!(again["sha256"], m["sha256"], "{be}: deterministic");
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/risk/models",
                Some(&officer),
                None,
                None,
            )
            .await;
        assert_eq!(
            list["items"].as_array().map(Vec::len),
            Some(1),
            "{be}: {list}"
        );
        assert_eq!(list["items"][0]["state"], "active");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_retrains_itself_when_new_inspection_results_arrive() {
    for app in apps().await {
        let be = app.backend.clone();
        let admin = app.admin().await;
        let a = app.enterprise(&admin, A, true).await;
        let c = app.enterprise(&admin, C, true).await;
        let officer = app.user(&admin, "officer", "customs_officer", None).await;
        let retrainer = freeport_app::training::spawn_retrainer(
            app.state.platform.clone(),
            std::time::Duration::from_millis(100),
            3650,
        );
        // Too few results: nothing is trained.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.state.store.active_model().await.expect("read"),
            None,
            "{be}"
        );
        inspected_history(&app, (&a, A), (&c, C), &officer, 44).await;
        // It trains as soon as there are enough results, and again as more arrive: the active
        // model ends up learned from all 44.
        let mut active = None;
        for _ in 0..100 {
            active = app.state.store.active_model().await.expect("read");
            if active.as_ref().is_some_and(|m| m.cases == 44) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let active = active.expect("the retrainer trained a model");
        assert_eq!(
            (active.cases, active.trained_by.as_str()),
            (44, "system:retrainer"),
            "{be}"
        );
        let models = app.state.store.risk_models().await.expect("models");
        assert_eq!(
            models.iter().filter(|m| m.state == "active").count(),
            1,
            "{be}"
        );
        // The live path uses it without a restart. (An earlier model, trained when the first
        // results arrived, may still be live for a moment: the store commits before the reload.)
        for _ in 0..50 {
            if app.state.live_rules().model.as_ref().map(|(_, sha)| sha) == Some(&active.sha256) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            app.state
                .live_rules()
                .model
                .as_ref()
                .map(|(_, sha)| sha.clone()),
            Some(active.sha256.clone()),
            "{be}"
        );
        retrainer.abort();
    }
}
