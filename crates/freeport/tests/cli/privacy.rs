//! Issue 12: no identity number, phone, payment account or address in clear. A served node goes
//! through a whole duty-free flow with them (reservations, commits, a sale at once, a return, a
//! passenger at a channel, the reads), then its answers, its log and its database files are
//! searched for every one of them, as given and as normalised.

use super::nodes::{ADMIN_PASSWORD, E, fresh_dir, http, login, start_nodes};

#[test]
fn no_identity_number_phone_account_or_address_is_kept_or_shown_in_clear() {
    let first17 = "46010019900501123";
    let check = freeport_core::identity::resident_id_check_digit(first17).expect("a check digit");
    let resident = format!("{first17}{check}");
    let passport = "E87654321";
    let (phone, phone_n) = ("+86 138-0013-8000", "8613800138000");
    let (account, account_n) = ("6222 0200 1234 5678", "6222020012345678");
    let (address, address_n) = ("8 Jiefang Road, Haikou", "8 jiefang road, haikou");
    let device = "device-ABC-123";
    let secrets = [
        resident.as_str(),
        passport,
        phone,
        phone_n,
        "13800138000",
        account,
        account_n,
        address,
        address_n,
        device,
    ];

    let dir = fresh_dir("privacy");
    std::fs::create_dir_all(&dir).expect("dir");
    let nodes = start_nodes(&dir, None, 1).unwrap_or_else(|e| panic!("{e}"));
    let port = nodes.ports[0];
    let mut answers: Vec<String> = Vec::new();
    let mut call = |method: &str,
                    path: &str,
                    token: &str,
                    key: Option<&str>,
                    body: Option<serde_json::Value>|
     -> serde_json::Value {
        let (s, b) = http(port, method, path, Some(token), key, body.as_ref());
        assert!((200..300).contains(&s), "{method} {path}: {s} {b}");
        answers.push(b.to_string());
        b
    };
    let admin = login(port, "admin", ADMIN_PASSWORD);
    call(
        "PUT",
        &format!("/api/v1/enterprises/{E}"),
        &admin,
        Some("e"),
        Some(serde_json::json!({ "name": "Operator", "beneficiary": false })),
    );
    call(
        "PUT",
        "/api/v1/duty-free/shops/SHOP-1",
        &admin,
        Some("shop"),
        Some(
            serde_json::json!({ "operator": E, "name": "Shop", "location": "Sanya", "resident_zero_tariff": true }),
        ),
    );
    for (name, role, enterprise) in [
        ("op", "duty_free_operator", Some(E)),
        ("officer", "customs_officer", None),
    ] {
        let mut body = serde_json::json!({ "username": name, "password": "a-long-enough-password", "role": role });
        if let Some(e) = enterprise {
            body["enterprise"] = serde_json::json!(e);
        }
        call("POST", "/api/v1/users", &admin, Some(name), Some(body));
    }
    let op = login(port, "op", "a-long-enough-password");
    let officer = login(port, "officer", "a-long-enough-password");
    let sale = |document: serde_json::Value| {
        serde_json::json!({
            "document": document, "birth_date": "1990-05-01", "departure_on": "2026-12-31", "sold_on": "2026-03-02",
            "items": [{ "category": "cosmetics", "description": "lipstick", "unit_price": "300", "quantity": "3" }],
            "links": { "phone": phone, "payment_account": account, "delivery_address": address, "device": device },
        })
    };
    let card = serde_json::json!({ "kind": "resident_id", "number": resident });
    let pass =
        serde_json::json!({ "kind": "passport", "number": passport, "issuing_country": "GB" });
    for (n, document) in [&card, &pass].into_iter().enumerate() {
        call(
            "POST",
            "/api/v1/departures",
            &officer,
            Some(&format!("dep-{n}")),
            Some(
                serde_json::json!({ "document": document, "kind": "flight", "means": "HU7181", "port": "haikou-meilan", "departs_at": "2026-12-31T10:00:00+08:00" }),
            ),
        );
    }
    let held = call(
        "POST",
        "/api/v1/duty-free/shops/SHOP-1/reservations",
        &op,
        Some("r-1"),
        Some(sale(card.clone())),
    );
    let id = held["id"].as_str().expect("sale id").to_owned();
    call(
        "POST",
        &format!("/api/v1/duty-free/shops/SHOP-1/sales/{id}/commit"),
        &op,
        Some("c-1"),
        None,
    );
    call(
        "POST",
        &format!("/api/v1/duty-free/shops/SHOP-1/sales/{id}/returns"),
        &op,
        Some("ret-1"),
        Some(serde_json::json!({ "items": [{ "line": 0, "quantity": "1" }], "reason": "shade" })),
    );
    call(
        "POST",
        "/api/v1/duty-free/shops/SHOP-1/sales",
        &op,
        Some("s-2"),
        Some(sale(pass.clone())),
    );
    call(
        "POST",
        "/api/v1/ports/boao/channels/boao-passenger-01/passengers",
        &officer,
        Some("p-1"),
        Some(
            serde_json::json!({ "document": pass, "departure_on": "2026-12-31", "carried": [{ "category": "cosmetics", "unit_price": "300", "quantity": "5" }] }),
        ),
    );
    // A resident's zero-tariff goods (R4.11), the serious-dishonesty list (R4.7), the reads.
    call(
        "POST",
        "/api/v1/duty-free/shops/SHOP-1/sales",
        &op,
        Some("zt-1"),
        Some(serde_json::json!({
            "scheme": "resident_zero_tariff", "document": card, "birth_date": "1990-05-01", "sold_on": "2026-03-02",
            "items": [{ "category": "food", "description": "olive oil", "unit_price": "80", "quantity": "1" }],
            "links": { "phone": phone, "payment_account": account },
        })),
    );
    call(
        "POST",
        "/api/v1/duty-free/dishonesty-list",
        &officer,
        Some("l-1"),
        Some(
            serde_json::json!({ "document": pass, "ground": "serious_penalty", "listed_on": "2026-03-01", "reason": "penalty decision" }),
        ),
    );
    call(
        "GET",
        "/api/v1/duty-free/dishonesty-list",
        &officer,
        None,
        None,
    );
    call(
        "POST",
        "/api/v1/duty-free/allowance",
        &op,
        None,
        Some(serde_json::json!({ "document": card, "departure_on": "2026-12-31" })),
    );
    call(
        "GET",
        "/api/v1/duty-free/shops/SHOP-1/sales",
        &op,
        None,
        None,
    );
    call(
        "GET",
        &format!("/api/v1/duty-free/shops/SHOP-1/sales/{id}"),
        &officer,
        None,
        None,
    );
    call("GET", "/api/v1/alerts", &officer, None, None);
    drop(nodes);

    let mut places: Vec<(String, Vec<u8>)> = answers
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("answer {i}"), a.clone().into_bytes()))
        .collect();
    for entry in std::fs::read_dir(&dir)
        .expect("the data directory")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("freeport.db") || name.ends_with(".log") {
            places.push((name, std::fs::read(entry.path()).expect("readable")));
        }
    }
    assert!(
        places.iter().any(|(n, _)| n == "freeport.db"),
        "{:?}",
        places.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    assert!(
        places
            .iter()
            .any(|(n, b)| n.ends_with(".log") && !b.is_empty()),
        "the node logged"
    );
    for (name, bytes) in &places {
        for secret in secrets {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|w| w.eq_ignore_ascii_case(secret.as_bytes())),
                "{secret:?} is in clear in {name}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
