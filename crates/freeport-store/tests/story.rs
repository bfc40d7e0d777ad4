//! The store's conformance story, run against SQLite on every build and against PostgreSQL
//! whenever `FREEPORT_TEST_POSTGRES_URL` is set (CI sets it to the machine's PostgreSQL).

use std::sync::atomic::{AtomicU32, Ordering};

use freeport_core::lifecycle::DeclarationStatus;
use freeport_store::*;
use sqlx::Row;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, migrated store per test: a new SQLite file, or a new PostgreSQL database.
async fn stores() -> Vec<(String, Store)> {
    stores_with_urls()
        .await
        .into_iter()
        .map(|(name, store, _)| (name, store))
        .collect()
}

/// The same, with each store's URL, for tests that connect again with other keys.
async fn stores_with_urls() -> Vec<(String, Store, String)> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let postgres = std::env::var("FREEPORT_TEST_POSTGRES_URL").ok();
    if postgres.is_none() {
        eprintln!("note: FREEPORT_TEST_POSTGRES_URL is not set; the story runs on SQLite only");
    }
    let mut out = Vec::new();
    for (backend, admin) in [("sqlite", None), ("postgres", postgres.as_deref())] {
        if backend == "postgres" && admin.is_none() {
            continue;
        }
        let name = format!("freeport_story_{}_{n}", std::process::id());
        let url = fresh::fresh_database(admin, &name)
            .await
            .expect("a fresh database");
        let store = Store::connect(&url, 4, b"test-key").await.expect("connect");
        store.migrate().await.expect("migrate");
        out.push((backend.to_owned(), store, url));
    }
    out
}

fn enterprise(code: &str) -> Enterprise {
    Enterprise {
        credit_code: code.to_owned(),
        name: format!("Firm {code}"),
        beneficiary: true,
        encouraged_industry_filed: false,
        encouraged_revenue_share: None,
        credit_class: "general".to_owned(),
    }
}

fn posting(e: &str, hs: &str, qty_milli: i64, movement: &str) -> NewPosting {
    NewPosting {
        enterprise: e.to_owned(),
        hs_code: hs.to_owned(),
        unit: "kg".to_owned(),
        quantity_milli: qty_milli,
        value_fen: 100,
        movement: movement.to_owned(),
        line: Some(0),
        note: String::new(),
    }
}

fn declaration(id: &str, e: &str, postings: Vec<NewPosting>, key: Option<&str>) -> NewDeclaration {
    NewDeclaration {
        id: id.to_owned(),
        enterprise: e.to_owned(),
        reference: format!("REF-{id}"),
        flow: "first_line_import".to_owned(),
        status: DeclarationStatus::Released,
        declared_on: "2026-03-02".to_owned(),
        pack_version: "hainan/2026-02-05".to_owned(),
        outcome: "accepted".to_owned(),
        payable_total_fen: 0,
        request_json: "{}".to_owned(),
        decision_json: format!("{{\"id\":\"{id}\"}}"),
        flow_lines: vec![],
        alerts: vec![],
        postings,
        supervised: vec![],
        lane: None,
        risk: None,
        port: None,
        at_port: None,
        admission: None,
        port_mode: None,
        mode_at: None,
        batch_month: None,
        waiver_locks: vec![],
        actor: "user-1".to_owned(),
        event_topic: "declaration.decided".to_owned(),
        event_payload: format!("{{\"id\":\"{id}\"}}"),
        idempotency: key.map(|k| IdempotencyRecord {
            user_id: "user-1".to_owned(),
            key: k.to_owned(),
            request_sha256: "abc".to_owned(),
            status: 201,
            response: format!("{{\"id\":\"{id}\"}}"),
        }),
        now_ms: 1_000,
    }
}

const A: &str = "91460000MA5T00001F";
const B: &str = "91460000MA5T00004Q";

#[tokio::test]
async fn a_decision_commits_everything_or_nothing() {
    for (backend, store) in stores().await {
        store
            .put_enterprise(&enterprise(A), "admin", 1, None)
            .await
            .expect("enterprise");
        store
            .commit_declaration(&declaration(
                "d1",
                A,
                vec![posting(A, "02023000", 1_000_000, "first_line_entry")],
                Some("k1"),
            ))
            .await
            .expect("commit");
        assert_eq!(
            store.balances(A).await.expect("balances"),
            vec![Balance {
                hs_code: "02023000".into(),
                unit: "kg".into(),
                quantity_milli: 1_000_000
            }],
            "{backend}"
        );

        // An outflow beyond the book fails, and nothing of that declaration is left behind.
        let too_much = declaration(
            "d2",
            A,
            vec![posting(A, "02023000", -1_500_000, "second_line_exit")],
            Some("k2"),
        );
        assert!(
            matches!(
                store.commit_declaration(&too_much).await,
                Err(StoreError::InsufficientBalance { .. })
            ),
            "{backend}"
        );
        assert!(
            store.declaration("d2").await.expect("read").is_none(),
            "{backend}: no declaration row"
        );
        assert!(
            store
                .idempotent_result("user-1", "k2")
                .await
                .expect("read")
                .is_none(),
            "{backend}: no idempotency record"
        );
        assert_eq!(
            store.balances(A).await.expect("balances")[0].quantity_milli,
            1_000_000,
            "{backend}"
        );
        let postings = store.postings(A, 0, 100).await.expect("postings");
        assert_eq!(
            postings.len(),
            1,
            "{backend}: the failed posting rolled back"
        );

        // An outflow within the book commits; the balance is the sum of the postings.
        store
            .commit_declaration(&declaration(
                "d3",
                A,
                vec![posting(A, "02023000", -400_000, "second_line_exit")],
                Some("k3"),
            ))
            .await
            .expect("commit");
        let sum: i64 = store
            .postings(A, 0, 100)
            .await
            .expect("postings")
            .iter()
            .map(|p| p.quantity_milli)
            .sum();
        assert_eq!(
            sum,
            store.balances(A).await.expect("balances")[0].quantity_milli,
            "{backend}"
        );
        assert_eq!(sum, 600_000, "{backend}");

        // The outbox holds one event per committed decision (and one for the registry entry).
        assert_eq!(
            store
                .unpublished_events(0, 10)
                .await
                .expect("outbox")
                .iter()
                .filter(|e| e.topic == "declaration.decided")
                .count(),
            2,
            "{backend}"
        );
        assert!(
            store.verify_audit().await.expect("verify").intact,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_idempotency_key_commits_once() {
    for (backend, store) in stores().await {
        store
            .put_enterprise(&enterprise(A), "admin", 1, None)
            .await
            .expect("enterprise");
        store
            .commit_declaration(&declaration("d1", A, vec![], Some("same")))
            .await
            .expect("first");
        let again = store
            .commit_declaration(&declaration("d9", A, vec![], Some("same")))
            .await;
        assert!(
            matches!(again, Err(StoreError::IdempotencyKeyTaken(_))),
            "{backend}"
        );
        assert!(
            store.declaration("d9").await.expect("read").is_none(),
            "{backend}"
        );
        let stored = store
            .idempotent_result("user-1", "same")
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(
            (stored.status, stored.response.as_str()),
            (201, "{\"id\":\"d1\"}"),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn transitions_are_conditional_on_status_and_revision() {
    for (backend, store) in stores().await {
        store
            .put_enterprise(&enterprise(A), "admin", 1, None)
            .await
            .expect("enterprise");
        store
            .commit_declaration(&declaration("d1", A, vec![], None))
            .await
            .expect("commit");
        let t = |to: &str, from: &[&str], rev: i64| Transition {
            declaration_id: "d1".into(),
            from: from
                .iter()
                .map(|s| DeclarationStatus::parse(s).expect("a status"))
                .collect(),
            to: DeclarationStatus::parse(to).expect("a status"),
            expected_revision: rev,
            actor: "officer".into(),
            note: String::new(),
            replace: None,
            lane: None,
            supervised: None,
            inspection: None,
            postings: vec![],
            event_topic: "declaration.status".into(),
            event_payload: "{}".into(),
            idempotency: None,
            now_ms: 2_000,
        };
        let held = store
            .transition(&t("held", &["released"], 1))
            .await
            .expect("hold");
        assert_eq!(
            (held.status.as_str(), held.revision),
            ("held", 2),
            "{backend}"
        );
        assert!(
            matches!(
                store.transition(&t("closed", &["released"], 2)).await,
                Err(StoreError::Conflict(_))
            ),
            "{backend}: wrong status"
        );
        assert!(
            matches!(
                store.transition(&t("closed", &["held"], 1)).await,
                Err(StoreError::Conflict(_))
            ),
            "{backend}: stale revision"
        );
        assert!(
            matches!(
                store
                    .transition(&Transition {
                        declaration_id: "nope".into(),
                        ..t("held", &["released"], 1)
                    })
                    .await,
                Err(StoreError::NotFound(_))
            ),
            "{backend}"
        );
        let events = store.declaration_events("d1").await.expect("events");
        assert_eq!(
            events.iter().map(|e| e.status.as_str()).collect::<Vec<_>>(),
            vec!["released", "held"],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn audit_verify_detects_edits_deletions_and_insertions() {
    for (backend, store) in stores().await {
        store
            .put_enterprise(&enterprise(A), "admin", 1, None)
            .await
            .expect("a");
        store
            .put_enterprise(&enterprise(B), "admin", 2, None)
            .await
            .expect("b");
        store
            .commit_declaration(&declaration("d1", A, vec![], None))
            .await
            .expect("d1");
        store
            .commit_declaration(&declaration("d2", B, vec![], None))
            .await
            .expect("d2");
        let report = store.verify_audit().await.expect("verify");
        assert_eq!((report.entries, report.intact), (4, true), "{backend}");

        let pool = store.pool();
        // Edit: change who did something.
        sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
            .execute(pool)
            .await
            .expect("edit");
        let r = store.verify_audit().await.expect("verify");
        assert!(
            !r.intact && r.problem.as_deref().is_some_and(|p| p.contains("entry 2")),
            "{backend}: edit detected: {r:?}"
        );
        sqlx::query("UPDATE audit_log SET actor = 'admin' WHERE seq = 2")
            .execute(pool)
            .await
            .expect("undo");
        assert!(
            store.verify_audit().await.expect("verify").intact,
            "{backend}: restored"
        );

        // Delete the newest entry: the head gives it away.
        let last = sqlx::query("SELECT seq, at_ms, actor, action, subject, payload, prev_hash, hash FROM audit_log WHERE seq = 4").fetch_one(pool).await.expect("row");
        sqlx::query("DELETE FROM audit_log WHERE seq = 4")
            .execute(pool)
            .await
            .expect("delete");
        assert!(
            !store.verify_audit().await.expect("verify").intact,
            "{backend}: deletion at the end detected"
        );
        // Delete one in the middle.
        sqlx::query("DELETE FROM audit_log WHERE seq = 2")
            .execute(pool)
            .await
            .expect("delete");
        assert!(
            !store.verify_audit().await.expect("verify").intact,
            "{backend}: deletion in the middle detected"
        );

        // Insert a forged entry at the end with a plausible (but unkeyed) hash.
        let prev: String = last.try_get("prev_hash").expect("prev");
        sqlx::query("INSERT INTO audit_log (seq, at_ms, actor, action, subject, payload, prev_hash, hash) VALUES (5, 9, 'forger', 'x', 'y', 'z', $1, $2)")
            .bind(&prev)
            .bind(sha256_hex(b"forged"))
            .execute(pool)
            .await
            .expect("insert");
        assert!(
            !store.verify_audit().await.expect("verify").intact,
            "{backend}: insertion detected"
        );
    }
}

#[tokio::test]
async fn concurrent_outflows_never_overdraw_a_book() {
    for (backend, store) in stores().await {
        store
            .put_enterprise(&enterprise(A), "admin", 1, None)
            .await
            .expect("a");
        store
            .commit_declaration(&declaration(
                "d0",
                A,
                vec![posting(A, "84713000", 10_000, "first_line_entry")],
                None,
            ))
            .await
            .expect("entry");
        let mut tasks = Vec::new();
        for i in 0..16 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.commit_declaration(&declaration(
                    &format!("x{i}"),
                    A,
                    vec![posting(A, "84713000", -1_000, "second_line_exit")],
                    None,
                ))
                .await
                .is_ok()
            }));
        }
        let mut committed = 0;
        for t in tasks {
            if t.await.expect("join") {
                committed += 1;
            }
        }
        assert_eq!(
            committed, 10,
            "{backend}: exactly the ten units the book held left it"
        );
        assert_eq!(
            store.balances(A).await.expect("balances")[0].quantity_milli,
            0,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn concurrent_declarations_touching_the_same_rows_in_any_order_do_not_deadlock() {
    for (backend, store) in stores().await {
        store
            .put_enterprise(&enterprise(A), "admin", 1, None)
            .await
            .expect("a");
        let mut tasks = Vec::new();
        for i in 0..24 {
            let s = store.clone();
            // Half the declarations list beef first, half laptops first.
            let (first, second) = if i % 2 == 0 {
                ("02023000", "84713000")
            } else {
                ("84713000", "02023000")
            };
            tasks.push(tokio::spawn(async move {
                s.commit_declaration(&declaration(
                    &format!("o{i}"),
                    A,
                    vec![
                        posting(A, first, 1_000, "first_line_entry"),
                        posting(A, second, 1_000, "first_line_entry"),
                    ],
                    None,
                ))
                .await
            }));
        }
        for t in tasks {
            t.await
                .expect("join")
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
        }
        let balances = store.balances(A).await.expect("balances");
        assert!(
            balances.iter().all(|b| b.quantity_milli == 24_000),
            "{backend}: {balances:?}"
        );
    }
}

/// Hardening defect 5: a node whose person-code or audit key differs from the database's is
/// refused by name; the audit key rotates with the chain still verifying under both keys.
#[tokio::test]
async fn keys_are_checked_and_the_audit_key_rotates() {
    let user = |i: u32| User {
        id: format!("k{i}"),
        username: format!("keys-{i}"),
        role: "risk_analyst".to_owned(),
        enterprise: None,
    };
    let node = |url: &str, audit: &'static [u8], person: &'static [u8]| {
        let url = url.to_owned();
        async move {
            Store::connect(&url, 2, audit)
                .await
                .expect("connect")
                .with_person_code_key(person)
        }
    };
    for (backend, first, url) in stores_with_urls().await {
        let a = first.with_person_code_key(b"person-key");
        a.check_keys()
            .await
            .expect("the first node records its keys");
        for i in 0..2 {
            a.create_user(&user(i), "hash", "test", 1, None)
                .await
                .expect("user");
        }
        let other_person = node(&url, b"test-key", b"another-person-key").await;
        assert!(
            matches!(
                other_person.check_keys().await,
                Err(StoreError::KeyMismatch(KeyName::PersonCode))
            ),
            "{backend}: another person-code key is refused"
        );
        let other_audit = node(&url, b"another-audit-key", b"person-key").await;
        assert!(
            matches!(
                other_audit.check_keys().await,
                Err(StoreError::KeyMismatch(KeyName::Audit))
            ),
            "{backend}: another audit key is refused"
        );
        assert!(
            !other_audit
                .audit_key_verifies_the_head()
                .await
                .expect("head")
        );

        a.rotate_audit_key(b"the-new-audit-key", "test", 2)
            .await
            .expect("rotate");
        let b = node(&url, b"the-new-audit-key", b"person-key")
            .await
            .with_previous_audit_keys(vec![b"test-key".to_vec()]);
        b.check_keys().await.expect("the new key is the database's");
        assert!(
            b.audit_key_verifies_the_head().await.expect("head"),
            "{backend}: right after the rotation"
        );
        b.create_user(&user(2), "hash", "test", 3, None)
            .await
            .expect("user");
        let report = b.verify_audit().await.expect("verify");
        assert_eq!(
            (report.intact, report.entries),
            (true, 4),
            "{backend}: {report:?}"
        );
        assert!(
            matches!(
                a.check_keys().await,
                Err(StoreError::KeyMismatch(KeyName::Audit))
            ),
            "{backend}: the retired key no longer starts a node"
        );
        let forgetful = node(&url, b"the-new-audit-key", b"person-key").await;
        let report = forgetful.verify_audit().await.expect("verify");
        assert!(
            !report.intact
                && report
                    .problem
                    .as_deref()
                    .is_some_and(|p| p.contains("audit_previous_keys")),
            "{backend}: without the retired key the old entries cannot be verified: {report:?}"
        );
        b.raw_execute("UPDATE audit_log SET payload = '{}' WHERE seq = 1")
            .await
            .expect("tamper");
        assert!(
            !b.verify_audit().await.expect("verify").intact,
            "{backend}: tampering before the rotation shows"
        );
    }
}
