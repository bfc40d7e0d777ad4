//! `freeport bench-api --tills`: duty-free tills per second end to end, each reserving a basket
//! through one node and committing it through another (HTTP → decide → conditional updates of the
//! buyer's quota and allowance → commit), with p50 and p99 latency of the pair, beside the
//! database's own tool writing the same statements in two transactions per till, at the same
//! concurrency, in the same run: `pgbench` with `bench/till.pgbench` on PostgreSQL (two nodes on
//! one database), `bench/sqlite_till.py` on SQLite (one node: the embedded store is one node's).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use freeport_server::AppState;
use freeport_store::Store;
use serde_json::{Value, json};

use crate::bench_api::{
    ENTERPRISE, Load, Measured, bench_enterprise, drop_database, fresh_store, measured,
    pgbench_with, python_sqlite_with, run_workers, serve_with_administrator,
};

/// Baskets a buyer takes in a run at most, so that no quota runs out: a basket is 1 000 CNY of a
/// 100 000 CNY quota.
const BASKETS_PER_BUYER: usize = 10;

fn buyers(count: usize) -> usize {
    count.div_ceil(BASKETS_PER_BUYER).max(1)
}

fn basket(i: usize, count: usize) -> String {
    json!({
        "document": { "kind": "passport", "number": format!("E{:08}", i % buyers(count)), "issuing_country": "GB" },
        "birth_date": "1990-05-01", "departure_on": "2026-12-31", "sold_on": "2026-03-02",
        "items": [{ "category": "watches", "description": "watch", "unit_price": "1000", "quantity": "1" }],
    })
    .to_string()
}

pub(crate) fn run(pack_dir: &Path, postgres: Option<&str>, load: Load) -> Result<ExitCode> {
    if load.count == 0 || load.concurrency == 0 || load.concurrency > 256 {
        bail!("--declarations must be positive and --concurrency between 1 and 256");
    }
    let pack = Arc::new(
        freeport_policy_fs::load_pack(pack_dir)
            .with_context(|| format!("loading {}", pack_dir.display()))?,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (api, lengths) = measure_api(postgres, pack, load).await?;
        let tool = measure_tool(postgres, load, lengths).await?;
        let ratio = tool
            .as_ref()
            .map(|t| ((api.per_second / t.per_second) * 100.0).round() / 100.0);
        let round = |x: f64| (x * 100.0).round() / 100.0;
        let report = json!({
            "backend": if postgres.is_some() { "postgresql" } else { "sqlite" },
            "workload": "duty-free tills: reserve a basket, then commit it",
            "nodes": if postgres.is_some() { 2 } else { 1 },
            "tills": load.count,
            "buyers": buyers(load.count),
            "concurrency": load.concurrency,
            "api_tills_per_second": api.per_second.round(),
            "api_latency_ms_p50": round(api.p50_ms),
            "api_latency_ms_p99": round(api.p99_ms),
            "database_tool": if postgres.is_some() { "pgbench -M prepared -f bench/till.pgbench" } else { "python3 bench/sqlite_till.py" },
            "tool_tills_per_second": tool.as_ref().map(|t| t.per_second.round()),
            "tool_latency_ms_p50": tool.as_ref().map(|t| round(t.p50_ms)),
            "tool_latency_ms_p99": tool.as_ref().map(|t| round(t.p99_ms)),
            "ratio_api_to_tool": ratio,
            "text_lengths": { "decision": lengths.0, "response": lengths.1 },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(ExitCode::SUCCESS)
    })
}

/// The tills through the API: on PostgreSQL, a second node on the same database takes every
/// commit of a reservation the first took, and the other way round. The mean lengths of the
/// decision and the answer the API stored, for the tool to write as much.
async fn measure_api(
    postgres: Option<&str>,
    pack: Arc<freeport_core::pack::PolicyPack>,
    load: Load,
) -> Result<(Measured, (usize, usize))> {
    let (store, created, url) = fresh_store(postgres, "tills", load.connections()).await?;
    let (a, server_a) = serve_with_administrator(&store, pack.clone()).await?;
    let second = if postgres.is_some() {
        let store_b = Store::connect(&url, load.connections(), b"bench").await?;
        let (b, server_b) = freeport_server::spawn(AppState::new(store_b.clone(), pack)).await?;
        Some((b, server_b, store_b))
    } else {
        None
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(load.concurrency)
        .build()?;
    let bases: Arc<Vec<String>> = Arc::new(
        std::iter::once(a)
            .chain(second.as_ref().map(|(b, _, _)| *b))
            .map(|addr| format!("http://{addr}"))
            .collect(),
    );
    let token = Arc::new(operator(&http, &bases[0], buyers(load.count)).await?);
    let sample: Arc<std::sync::Mutex<Vec<(usize, usize)>>> = Arc::default();
    let (latencies, seconds) = {
        let (http, bases, token, sample) = (http.clone(), bases.clone(), token, sample.clone());
        let count = load.count;
        run_workers(count, load.concurrency, move |i| {
            let (http, bases, token, sample) =
                (http.clone(), bases.clone(), token.clone(), sample.clone());
            async move {
                let (reserve_at, commit_at) =
                    (&bases[i % bases.len()], &bases[(i + 1) % bases.len()]);
                let reserved = post(
                    &http,
                    &format!("{reserve_at}/api/v1/duty-free/shops/SHOP-1/reservations"),
                    &token,
                    &format!("r-{i}"),
                    Some(basket(i, count)),
                )
                .await?;
                let v: Value = serde_json::from_str(&reserved)?;
                if v["state"] != "pending" {
                    bail!("till {i}: {reserved}");
                }
                let id = v["id"].as_str().context("a sale id")?;
                post(
                    &http,
                    &format!("{commit_at}/api/v1/duty-free/shops/SHOP-1/sales/{id}/commit"),
                    &token,
                    &format!("c-{i}"),
                    None,
                )
                .await?;
                if i % 50 == 0 {
                    sample
                        .lock()
                        .map_err(|_| anyhow::anyhow!("lock"))?
                        .push((v["decision"].to_string().len(), reserved.len()));
                }
                Ok(())
            }
        })
        .await?
    };
    let api = measured(latencies, seconds);
    server_a.abort();
    if let Some((_, server_b, store_b)) = second {
        server_b.abort();
        store_b.close().await;
    }
    store.close().await;
    drop_database(created).await;
    let samples = sample.lock().map_err(|_| anyhow::anyhow!("lock"))?.clone();
    let n = samples.len().max(1);
    let lengths = (
        samples.iter().map(|s| s.0).sum::<usize>() / n,
        samples.iter().map(|s| s.1).sum::<usize>() / n,
    );
    Ok((api, lengths))
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    key: &str,
    body: Option<String>,
) -> Result<String> {
    let mut req = http
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", key);
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("{url}: {status} {text}");
    }
    Ok(text)
}

/// As the administrator: the bench enterprise, its shop, a duty-free operator and a port officer,
/// who records each of the `buyers`' departures; the operator's token.
async fn operator(http: &reqwest::Client, base: &str, buyers: usize) -> Result<String> {
    let login = |user: &'static str, password: &'static str| async move {
        let v: Value = http
            .post(format!("{base}/api/v1/sessions"))
            .body(json!({ "username": user, "password": password }).to_string())
            .send()
            .await?
            .json()
            .await?;
        v["token"]
            .as_str()
            .map(str::to_owned)
            .context("login failed")
    };
    let admin = login("admin", "bench-admin-password").await?;
    for (method, path, key, body) in [
        (
            reqwest::Method::PUT,
            format!("/api/v1/enterprises/{ENTERPRISE}"),
            "enterprise",
            json!({ "name": "Bench Co", "beneficiary": false }),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/duty-free/shops/SHOP-1".to_owned(),
            "shop",
            json!({ "operator": ENTERPRISE, "name": "Bench shop", "location": "Sanya" }),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/users".to_owned(),
            "till",
            json!({ "username": "till", "password": "bench-user-password", "role": "duty_free_operator", "enterprise": ENTERPRISE }),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/users".to_owned(),
            "port",
            json!({ "username": "port", "password": "bench-user-password", "role": "customs_officer" }),
        ),
    ] {
        http.request(method, format!("{base}{path}"))
            .bearer_auth(&admin)
            .header("Idempotency-Key", key)
            .body(body.to_string())
            .send()
            .await?
            .error_for_status()?;
    }
    // Every buyer leaves on the departure the baskets name (R4.3), recorded by the port.
    let port = login("port", "bench-user-password").await?;
    for buyer in 0..buyers {
        let basket: Value = serde_json::from_str(&basket(buyer, buyers * BASKETS_PER_BUYER))?;
        http.post(format!("{base}/api/v1/departures"))
            .bearer_auth(&port)
            .header("Idempotency-Key", format!("departure-{buyer}"))
            .body(json!({ "document": basket["document"], "kind": "flight", "means": "HU7181", "port": "haikou-meilan", "departs_at": "2026-12-31T10:00:00+08:00" }).to_string())
            .send()
            .await?
            .error_for_status()?;
    }
    login("till", "bench-user-password").await
}

/// The database's tool on a fresh database holding the shop.
async fn measure_tool(
    postgres: Option<&str>,
    load: Load,
    (decision, response): (usize, usize),
) -> Result<Option<Measured>> {
    let (tool_store, created, url) = fresh_store(postgres, "tilltool", 2).await?;
    tool_store
        .put_enterprise(&bench_enterprise(), "bench", 1, None)
        .await?;
    let shop = freeport_store::Shop {
        id: "SHOP-1".into(),
        operator: ENTERPRISE.into(),
        name: "Bench shop".into(),
        location: "Sanya".into(),
        resident_zero_tariff: false,
    };
    tool_store.put_shop(&shop, "bench", 1, None).await?;
    tool_store.close().await;
    let is_postgres = postgres.is_some();
    let tool = tokio::task::spawn_blocking(move || {
        let root = std::env::current_dir()?;
        let buyers = buyers(load.count).to_string();
        if is_postgres {
            pgbench_tills(
                &root.join("bench/till.pgbench"),
                &url,
                load,
                &buyers,
                (decision, response),
            )
        } else {
            sqlite_tills(
                &root.join("bench/sqlite_till.py"),
                &url,
                load.count,
                &buyers,
                (decision, response),
            )
        }
    })
    .await??;
    drop_database(created).await;
    Ok(tool)
}

fn sqlite_tills(
    script: &Path,
    url: &str,
    count: usize,
    buyers: &str,
    (decision, response): (usize, usize),
) -> Result<Option<Measured>> {
    let args = [
        buyers.to_owned(),
        decision.to_string(),
        response.to_string(),
        "0".to_owned(),
        "0".to_owned(),
    ];
    python_sqlite_with(script, url, count, &args)
}

fn pgbench_tills(
    script: &Path,
    url: &str,
    load: Load,
    buyers: &str,
    (decision, response): (usize, usize),
) -> Result<Option<Measured>> {
    let defines = [
        ("buyers", buyers.to_owned()),
        ("decision_len", decision.to_string()),
        ("response_len", response.to_string()),
    ];
    pgbench_with(script, url, (load.count, load.concurrency), &defines)
}
