//! The outbox: events reach in-process subscribers and JetStream once, in order.

use super::*;

/// Registers an enterprise and commits three declarations, leaving four outbox events.
async fn three_events(app: &App) {
    let admin = app.admin().await;
    let a = app.enterprise(&admin, A, true).await;
    for i in 0..3 {
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/declarations",
                Some(&a),
                Some(&format!("ev-{i}")),
                Some(&declaration(
                    &format!("EV-{i}"),
                    "first_line_import",
                    A,
                    vec![line("84713000", "CN", "1", "100", "duty_paid")],
                )),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn the_outbox_reaches_in_process_subscribers_in_order_and_once() {
    for app in apps().await {
        three_events(&app).await;
        let (tx, mut rx) = tokio::sync::broadcast::channel(64);
        let sink = freeport_server::events::Sink::InProcess(tx);
        let n = freeport_server::events::relay_once(&app.state.store, &sink, 100, 1)
            .await
            .expect("relay");
        // The registry entry and the three declarations each left one event (users are audited,
        // not published).
        assert_eq!(n, 4, "{}", app.backend);
        let mut topics = Vec::new();
        let mut last = 0;
        while let Ok(e) = rx.try_recv() {
            assert!(e.id > last, "{}: in outbox order", app.backend);
            last = e.id;
            topics.push(e.topic);
        }
        assert_eq!(
            topics
                .iter()
                .filter(|t| *t == "declaration.decided")
                .count(),
            3,
            "{}: {topics:?}",
            app.backend
        );
        assert_eq!(
            freeport_server::events::relay_once(&app.state.store, &sink, 100, 2)
                .await
                .expect("relay"),
            0,
            "{}: nothing twice",
            app.backend
        );
    }
}

#[tokio::test]
async fn the_outbox_reaches_jetstream_exactly_once_even_after_a_crash_before_marking() {
    let Ok(url) = std::env::var("FREEPORT_TEST_NATS_URL") else {
        eprintln!(
            "note: FREEPORT_TEST_NATS_URL is not set; the JetStream relay test needs a NATS server"
        );
        return;
    };
    for app in apps().await {
        three_events(&app).await;
        let tag = format!(
            "{}{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let (stream_name, prefix) = (format!("FREEPORT_TEST_{tag}"), format!("fptest{tag}"));
        let sink = freeport_server::events::Sink::jetstream(&url, &stream_name, &prefix)
            .await
            .expect("jetstream");
        assert_eq!(
            freeport_server::events::relay_once(&app.state.store, &sink, 100, 1)
                .await
                .expect("relay"),
            4
        );
        // A crash after publishing but before marking: the relay publishes everything again.
        app.state
            .store
            .raw_execute("UPDATE outbox SET published_at_ms = NULL")
            .await
            .expect("unmark");
        assert_eq!(
            freeport_server::events::relay_once(&app.state.store, &sink, 100, 2)
                .await
                .expect("relay"),
            4
        );
        let js = async_nats::jetstream::new(async_nats::connect(&url).await.expect("connect"));
        let mut stream = js.get_stream(&stream_name).await.expect("stream");
        let messages = stream.info().await.expect("info").state.messages;
        assert_eq!(
            messages, 4,
            "{}: JetStream kept each event once",
            app.backend
        );
        js.delete_stream(&stream_name).await.expect("cleanup");
    }
}
