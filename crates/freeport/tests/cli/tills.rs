//! Issue 12: duty-free tills on two `freeport serve` processes sharing one database, hundreds of
//! clients at once spending the same few buyers' quotas: nothing overspent, every acknowledged sale
//! present, every refusal explained.

use std::time::Instant;

use super::nodes::{ADMIN_PASSWORD, E, fresh_dir, http, login, start_nodes};

/// Buyers the clients share, and each basket's price (yuan).
const BUYERS: usize = 3;
const PRICE: i64 = 7_000;

fn basket(buyer: usize) -> serde_json::Value {
    serde_json::json!({
        "document": { "kind": "passport", "number": format!("E1000000{buyer}"), "issuing_country": "GB" },
        "birth_date": "1990-05-01", "departure_on": "2026-12-31", "sold_on": "2026-03-02",
        "items": [{ "category": "watches", "description": "watch", "unit_price": PRICE.to_string(), "quantity": "1" }],
    })
}

/// What one client's till did: reserved and committed (the sale id), or refused with its reasons.
enum Outcome {
    Sold(String, usize),
    Refused(Vec<String>),
}

/// One client: reserve through one node, commit through the other. A lost race is the server's to
/// decide again, never the client's to see.
fn till(ports: (u16, u16), token: &str, n: usize) -> Outcome {
    let buyer = n % BUYERS;
    let key = format!("till-{n}");
    let path = "/api/v1/duty-free/shops/SHOP-1/reservations";
    let body = basket(buyer);
    let mut tries = 0;
    let reserved = loop {
        let (s, b) = http(ports.0, "POST", path, Some(token), Some(&key), Some(&body));
        tries += 1;
        match s {
            201 => break b,
            429 | 503 if tries < 200 => std::thread::sleep(std::time::Duration::from_millis(5)),
            _ => panic!("client {n}: {s} {b}"),
        }
    };
    if reserved["state"] == "refused" {
        let codes = reserved["decision"]["refusals"]
            .as_array()
            .expect("refusals")
            .iter()
            .map(|r| r["code"].as_str().unwrap_or("").to_owned())
            .collect();
        return Outcome::Refused(codes);
    }
    assert_eq!(reserved["state"], "pending", "client {n}: {reserved}");
    let id = reserved["id"].as_str().expect("id").to_owned();
    let commit = format!("/api/v1/duty-free/shops/SHOP-1/sales/{id}/commit");
    let mut tries = 0;
    loop {
        let (s, b) = http(
            ports.1,
            "POST",
            &commit,
            Some(token),
            Some(&format!("commit-{n}")),
            None,
        );
        tries += 1;
        match s {
            200 => {
                assert_eq!(b["state"], "committed", "client {n}: {b}");
                return Outcome::Sold(id, buyer);
            }
            429 | 503 if tries < 200 => std::thread::sleep(std::time::Duration::from_millis(5)),
            _ => panic!("client {n} committing: {s} {b}"),
        }
    }
}

fn run(database: Option<&str>, label: &str, (nodes, clients): (usize, usize)) {
    let dir = fresh_dir(&format!("tills-{label}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let nodes = start_nodes(&dir, database, nodes).unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (nodes.ports[0], nodes.ports[nodes.ports.len() - 1]);
    let admin = login(a, "admin", ADMIN_PASSWORD);
    let (s, r) = http(
        a,
        "PUT",
        &format!("/api/v1/enterprises/{E}"),
        Some(&admin),
        Some("put-e"),
        Some(&serde_json::json!({ "name": "Operator E", "beneficiary": false })),
    );
    assert_eq!(s, 200, "{r}");
    let (s, r) = http(
        a,
        "PUT",
        "/api/v1/duty-free/shops/SHOP-1",
        Some(&admin),
        Some("shop"),
        Some(&serde_json::json!({ "operator": E, "name": "Shop 1", "location": "Sanya" })),
    );
    assert_eq!(s, 200, "{r}");
    let (s, r) = http(
        a,
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some("op"),
        Some(
            &serde_json::json!({ "username": "op", "password": "a-long-enough-password", "role": "duty_free_operator", "enterprise": E }),
        ),
    );
    assert_eq!(s, 201, "{r}");
    let token = login(a, "op", "a-long-enough-password");
    let (s, r) = http(
        a,
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some("officer"),
        Some(
            &serde_json::json!({ "username": "officer", "password": "a-long-enough-password", "role": "customs_officer" }),
        ),
    );
    assert_eq!(s, 201, "{r}");
    let officer = login(a, "officer", "a-long-enough-password");
    // Each buyer leaves on the departure the baskets name (R4.3).
    for buyer in 0..BUYERS {
        let departure = serde_json::json!({ "document": basket(buyer)["document"], "kind": "flight", "means": "HU7181", "port": "haikou-meilan", "departs_at": "2026-12-31T10:00:00+08:00" });
        let (s, r) = http(
            b,
            "POST",
            "/api/v1/departures",
            Some(&officer),
            Some(&format!("dep-{buyer}")),
            Some(&departure),
        );
        assert_eq!(s, 201, "{r}");
    }

    let started = Instant::now();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|n| {
                let token = token.clone();
                let ports = if n % 2 == 0 { (a, b) } else { (b, a) };
                scope.spawn(move || till(ports, &token, n))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect()
    });
    let took = started.elapsed();

    // Zero overspend, and no quota left unspent that a refused basket could have used: each buyer
    // holds exactly as many baskets as the quota takes.
    let fit = usize::try_from(100_000 / PRICE).expect("small");
    let mut sold = [0usize; BUYERS];
    let mut refused = 0;
    for o in &outcomes {
        match o {
            Outcome::Sold(id, buyer) => {
                sold[*buyer] += 1;
                // Every acknowledged sale is there, committed, on either node.
                let (s, v) = http(
                    b,
                    "GET",
                    &format!("/api/v1/duty-free/shops/SHOP-1/sales/{id}"),
                    Some(&token),
                    None,
                    None,
                );
                assert_eq!(
                    (s, v["sale"]["state"].as_str()),
                    (200, Some("committed")),
                    "{v}"
                );
            }
            Outcome::Refused(codes) => {
                refused += 1;
                assert_eq!(codes, &["quota_exceeded"], "every refusal is explained");
            }
        }
    }
    assert_eq!(sold, [fit; BUYERS], "{label}: baskets sold per buyer");
    assert_eq!(refused, clients - fit * BUYERS, "{label}");
    eprintln!(
        "{label}: {clients} clients on {} node(s), {} sold, {refused} refused, in {took:?}",
        nodes.ports.len(),
        fit * BUYERS
    );
    drop(nodes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hundreds_of_tills_on_two_nodes_never_overspend_a_quota() {
    // The embedded store is one node's (several nodes share PostgreSQL): one node, its clients
    // all at once.
    if std::env::var("TILLS_SKIP_SQLITE").is_err() {
        run(None, "sqlite", (1, 120));
    }
    let Ok(admin_url) = std::env::var("FREEPORT_TEST_POSTGRES_URL") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let name = format!("freeport_tills_{}", std::process::id());
    let url = rt
        .block_on(freeport_store::fresh::fresh_database(
            Some(&admin_url),
            &name,
        ))
        .expect("a fresh database");
    run(Some(&url), "postgres", (2, 300));
    rt.block_on(freeport_store::fresh::drop_fresh_database(
        Some(&admin_url),
        &name,
    ));
}
