//! `freeport bench-api`: declarations per second end to end (HTTP → decide → commit), with p50
//! and p99 latency, beside the database's own tool writing the same statements, one transaction per
//! declaration, at the same concurrency, in the same run: `pgbench` with `bench/declaration.pgbench`
//! on PostgreSQL, `bench/sqlite_declarations.py` (Python's own sqlite3) on SQLite. The same rows
//! written through our store are reported beside them, to tell the store's cost from the API's.
//!
//! With `--second-line`, the declarations are green-lane second-line exits of zero-tariff beef
//! released at Xinhai the moment they are decided (R2.4): the release decisions per second, beside
//! `bench/second_line.pgbench` and `bench/sqlite_second_line.py` writing the same rows.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use freeport_risk::selectivity::RiskRecord;
use freeport_server::AppState;
use freeport_store::{NewDeclaration, NewPosting, Store};
use serde_json::{Value, json};

pub(crate) const ENTERPRISE: &str = "91460000MA5T00001F";

/// A fresh database: a temporary SQLite file, or a new PostgreSQL database next to `admin_url`.
pub(crate) async fn fresh_store(
    postgres_admin: Option<&str>,
    tag: &str,
    connections: u32,
) -> Result<(Store, Option<(String, String)>, String)> {
    let name = format!("freeport_bench_{}_{tag}", std::process::id());
    let url = freeport_store::fresh::fresh_database(postgres_admin, &name).await?;
    let store = Store::connect(&url, connections, b"bench").await?;
    store.migrate().await?;
    Ok((
        store,
        postgres_admin.map(|admin| (admin.to_owned(), name)),
        url,
    ))
}

/// Mean lengths of the text the API stored per declaration: request, decision, risk record, and
/// the idempotency record's answer; the database tools write text as long.
#[derive(Debug, Clone, Copy)]
struct TextLengths {
    request: usize,
    decision: usize,
    risk: usize,
    response: usize,
}

fn text_lengths(bodies: &[String], responses: &[String]) -> TextLengths {
    let mean = |sum: usize, n: usize| sum / n.max(1);
    let parsed: Vec<Value> = responses
        .iter()
        .filter_map(|r| serde_json::from_str(r).ok())
        .collect();
    TextLengths {
        request: mean(bodies.iter().map(String::len).sum(), bodies.len()),
        decision: mean(
            parsed.iter().map(|v| v["decision"].to_string().len()).sum(),
            parsed.len(),
        ),
        risk: mean(
            parsed.iter().map(|v| v["risk"].to_string().len()).sum(),
            parsed.len(),
        ),
        response: mean(responses.iter().map(String::len).sum(), responses.len()),
    }
}

/// The database's own tool writing what `count` declarations write, on the fresh database at
/// `url`; `None` when the tool is not installed.
fn database_tool(
    postgres: bool,
    url: &str,
    load: Load,
    lengths: TextLengths,
) -> Result<Option<Measured>> {
    let root = std::env::current_dir()?;
    let (sqlite_script, pgbench_script) = if load.second_line {
        ("bench/sqlite_second_line.py", "bench/second_line.pgbench")
    } else {
        ("bench/sqlite_declarations.py", "bench/declaration.pgbench")
    };
    if !postgres {
        return python_sqlite(&root.join(sqlite_script), url, load.count, lengths);
    }
    pgbench(
        &root.join(pgbench_script),
        url,
        load.count,
        load.concurrency,
        lengths,
    )
}

/// `bench/sqlite_declarations.py`, which times itself and prints its figures as JSON.
fn python_sqlite(
    script: &Path,
    url: &str,
    count: usize,
    lengths: TextLengths,
) -> Result<Option<Measured>> {
    let TextLengths {
        request,
        decision,
        risk,
        response,
    } = lengths;
    let mut args = vec![ENTERPRISE.to_owned()];
    args.extend([request, decision, risk, response].map(|n| n.to_string()));
    python_sqlite_with(script, url, count, &args)
}

/// A SQLite baseline script, run on the database at `url` for `count` transactions with `args`
/// after them; it times itself and prints its figures as JSON. `None` without `python3`.
pub(crate) fn python_sqlite_with(
    script: &Path,
    url: &str,
    count: usize,
    args: &[String],
) -> Result<Option<Measured>> {
    let path = url.trim_start_matches("sqlite://");
    let out = match std::process::Command::new("python3")
        .arg(script)
        .args([path, &count.to_string()])
        .args(args)
        .output()
    {
        Ok(out) => out,
        Err(_) => return Ok(None),
    };
    if !out.status.success() {
        bail!("sqlite baseline: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok(Some(Measured {
        per_second: f("per_second"),
        p50_ms: f("p50_ms"),
        p99_ms: f("p99_ms"),
    }))
}

/// `pgbench` with `bench/declaration.pgbench`: its throughput from what it prints, its latencies
/// from its per-transaction log.
fn pgbench(
    script: &Path,
    url: &str,
    count: usize,
    concurrency: usize,
    lengths: TextLengths,
) -> Result<Option<Measured>> {
    let TextLengths {
        request,
        decision,
        risk,
        response,
    } = lengths;
    let defines = [
        ("enterprise", ENTERPRISE.to_owned()),
        ("request_len", request.to_string()),
        ("decision_len", decision.to_string()),
        ("risk_len", risk.to_string()),
        ("response_len", response.to_string()),
    ];
    pgbench_with(script, url, (count, concurrency), &defines)
}

/// `pgbench -M prepared` with `script` and its `-D` variables, `count` scripts on `concurrency`
/// clients: its throughput from what it prints, its latencies from its per-transaction log. `None`
/// without `pgbench`.
pub(crate) fn pgbench_with(
    script: &Path,
    url: &str,
    (count, concurrency): (usize, usize),
    defines: &[(&str, String)],
) -> Result<Option<Measured>> {
    let logs = std::env::temp_dir().join(format!("freeport_pgbench_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs)?;
    let per_client = count.div_ceil(concurrency);
    let mut cmd = std::process::Command::new("pgbench");
    cmd.args(["-n", "-M", "prepared", "-f"]).arg(script).args([
        "-c",
        &concurrency.to_string(),
        "-j",
        "2",
        "-t",
        &per_client.to_string(),
    ]);
    for (k, v) in defines {
        cmd.args(["-D".to_owned(), format!("{k}={v}")]);
    }
    cmd.arg("--log")
        .arg(format!("--log-prefix={}", logs.join("tx").display()))
        .arg(url);
    let out = match cmd.output() {
        Ok(out) => out,
        Err(_) => return Ok(None),
    };
    if !out.status.success() {
        bail!("pgbench: {}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .context("pgbench printed no tps")?;
    let mut latencies = pgbench_latencies(&logs)?;
    let _ = std::fs::remove_dir_all(&logs);
    latencies.sort_by(f64::total_cmp);
    Ok(Some(Measured {
        per_second: tps,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
    }))
}

/// Every transaction's latency in milliseconds, from pgbench's logs in `logs`.
fn pgbench_latencies(logs: &Path) -> Result<Vec<f64>> {
    // Each log line: client, transaction, latency in µs, script, epoch, µs.
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(logs)?.flatten() {
        for line in std::fs::read_to_string(entry.path())?.lines() {
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|t| t.parse::<f64>().ok())
            {
                latencies.push(us / 1000.0);
            }
        }
    }
    Ok(latencies)
}

pub(crate) async fn drop_database(created: Option<(String, String)>) {
    if let Some((admin, name)) = created {
        freeport_store::fresh::drop_fresh_database(Some(&admin), &name).await;
    }
}

fn declaration(i: usize) -> Value {
    // 1 to 5 lines of goods the pack carries; a zero-tariff beneficiary, so every line posts.
    let goods = [
        ("02023000", "kg", "AR"),
        ("84713000", "piece", "CN"),
        ("85171300", "piece", "VN"),
        ("09011100", "kg", "BR"),
        ("15111000", "kg", "MY"),
    ];
    let n = 1 + i % 5;
    let lines: Vec<Value> = (0..n)
        .map(|k| {
            // Line k is the same goods in every declaration, as the database tools write them.
            let (hs, unit, origin) = goods[k];
            json!({ "hs_code": hs, "origin": origin, "quantities": [{ "value": format!("{}", 1 + (i * 7 + k) % 500), "unit": unit }], "value": format!("{}.00", 1000 + (i * 13 + k) % 90_000), "goods_status": "duty_paid" })
        })
        .collect();
    json!({ "id": format!("BENCH-{i}"), "flow": "first_line_import", "declared_on": "2026-03-16", "declarant": ENTERPRISE, "currency": "CNY", "lines": lines })
}

/// Exit `i`: 1 kg of the zero-tariff beef in the bench enterprise's book, to the mainland through
/// Xinhai on a truck.
fn exit(i: usize) -> Value {
    json!({ "id": format!("EXIT-{i}"), "flow": "second_line_exit", "declared_on": "2026-03-16", "declarant": ENTERPRISE, "currency": "CNY", "transport": { "port": "xinhai", "mode": "sea", "means": format!("琼A{:05}", i % 100_000) }, "lines": [{ "hs_code": "02023000", "origin": "AR", "quantities": [{ "value": "1", "unit": "kg" }], "value": "356.00", "goods_status": "zero_tariff" }] })
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub(crate) struct Measured {
    pub(crate) per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

pub(crate) fn measured(mut latencies: Vec<f64>, seconds: f64) -> Measured {
    latencies.sort_by(f64::total_cmp);
    Measured {
        per_second: latencies.len() as f64 / seconds,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
    }
}

/// Runs `count` jobs on `concurrency` workers, timing each.
pub(crate) async fn run_workers<F, Fut>(
    count: usize,
    concurrency: usize,
    job: F,
) -> Result<(Vec<f64>, f64)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (job, next) = (job.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t = Instant::now();
                job(i).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::with_capacity(count);
    for w in workers {
        all.extend(w.await??);
    }
    Ok((all, started.elapsed().as_secs_f64()))
}

/// Measures the API, the database's tool and our store in turn, each on a fresh database, and
/// prints the figures as JSON.
pub(crate) fn run(pack_dir: &Path, postgres: Option<&str>, load: Load) -> Result<ExitCode> {
    let Load {
        count, concurrency, ..
    } = load;
    if count == 0 || concurrency == 0 || concurrency > 256 {
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
        let bodies: Arc<Vec<String>> = Arc::new(
            (0..count)
                .map(|i| {
                    if load.second_line {
                        exit(i).to_string()
                    } else {
                        declaration(i).to_string()
                    }
                })
                .collect(),
        );
        let (api, lengths, risk) = measure_api(postgres, pack, bodies.clone(), load).await?;
        let tool = measure_database_tool(postgres, load, lengths).await?;
        // The store's own path is measured for the first-line declarations it was written for.
        let raw = if load.second_line {
            None
        } else {
            Some(measure_store(postgres, bodies, load, lengths, risk).await?)
        };
        let report = report(
            postgres.is_some(),
            load,
            &api,
            tool.as_ref(),
            lengths,
            raw.as_ref(),
        );
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(ExitCode::SUCCESS)
    })
}

/// How many declarations a run writes, how many at once, and which.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    pub(crate) count: usize,
    pub(crate) concurrency: usize,
    /// Green-lane second-line exits at Xinhai rather than first-line imports.
    pub(crate) second_line: bool,
}

impl Load {
    /// Room in the pool for every worker, and two more.
    pub(crate) fn connections(self) -> u32 {
        u32::try_from(self.concurrency).unwrap_or(8) + 2
    }
}

/// End to end: HTTP on loopback → authenticate → parse → snapshot → decide → commit; with the
/// lengths of the text the API stored, for the database tool to write as much, and one risk record
/// it kept, for our store to write.
async fn measure_api(
    postgres: Option<&str>,
    pack: Arc<freeport_core::pack::PolicyPack>,
    bodies: Arc<Vec<String>>,
    load: Load,
) -> Result<(Measured, TextLengths, Option<RiskRecord>)> {
    let (store, created, _) = fresh_store(postgres, "api", load.connections()).await?;
    let (addr, server) = serve_with_administrator(&store, pack).await?;
    let client = ApiClient {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(load.concurrency)
            .build()?,
        base: format!("http://{addr}"),
    };
    let token = Arc::new(client.enterprise_user().await?);
    if load.second_line {
        // The book the exits take from: 1 kg of beef for each, entered zero-tariff.
        let seed = json!({ "id": "SEED", "flow": "first_line_import", "declared_on": "2026-03-16", "declarant": ENTERPRISE, "currency": "CNY", "lines": [{ "hs_code": "02023000", "origin": "AR", "quantities": [{ "value": (load.count + 10).to_string(), "unit": "kg" }], "value": "1000.00", "goods_status": "duty_paid" }] });
        client
            .declare(&token, usize::MAX, &seed.to_string())
            .await?;
    }
    // Every 50th answer, kept to size the database tools' text columns after the timing.
    let sample_response: Arc<std::sync::Mutex<Vec<String>>> =
        Arc::new(std::sync::Mutex::new(Vec::new()));
    let (latencies, seconds) = {
        let (bodies, sample) = (bodies.clone(), sample_response.clone());
        run_workers(load.count, load.concurrency, move |i| {
            let (client, bodies, token, sample) = (
                client.clone(),
                bodies.clone(),
                token.clone(),
                sample.clone(),
            );
            async move {
                let text = client.declare(&token, i, &bodies[i]).await?;
                if i % 50 == 0 {
                    sample
                        .lock()
                        .map_err(|_| anyhow::anyhow!("lock"))?
                        .push(text);
                }
                Ok(())
            }
        })
        .await?
    };
    let api = measured(latencies, seconds);
    server.abort();
    store.close().await;
    drop_database(created).await;

    let samples = sample_response
        .lock()
        .map_err(|_| anyhow::anyhow!("lock"))?
        .clone();
    let risk = samples.iter().find_map(|text| {
        let answer: Value = serde_json::from_str(text).ok()?;
        serde_json::from_value(answer["risk"].clone()).ok()
    });
    Ok((api, text_lengths(&bodies, &samples), risk))
}

/// The API served on loopback over `store`, which holds one user: the administrator.
pub(crate) async fn serve_with_administrator(
    store: &Store,
    pack: Arc<freeport_core::pack::PolicyPack>,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    freeport_app::users::first_administrator(store, "bench-admin-password", "bench", 1).await?;
    let state = AppState::new(store.clone(), pack);
    Ok(freeport_server::spawn(state).await?)
}

/// The API on loopback, as a client sees it.
#[derive(Clone)]
struct ApiClient {
    http: reqwest::Client,
    base: String,
}

impl ApiClient {
    async fn login(&self, user: &str, password: &str) -> Result<String> {
        let base = &self.base;
        let v: Value = self
            .http
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
    }

    /// As the administrator, registers the bench enterprise as a beneficiary and a user of it;
    /// the user's token.
    async fn enterprise_user(&self) -> Result<String> {
        let base = &self.base;
        let admin = self.login("admin", "bench-admin-password").await?;
        self.http
            .put(format!("{base}/api/v1/enterprises/{ENTERPRISE}"))
            .bearer_auth(&admin)
            .header("Idempotency-Key", "e")
            .body(json!({ "name": "Bench Co", "beneficiary": true }).to_string())
            .send()
            .await?
            .error_for_status()?;
        self.http
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(&admin)
            .header("Idempotency-Key", "u")
            .body(json!({ "username": "bench", "password": "bench-user-password", "role": "enterprise_user", "enterprise": ENTERPRISE }).to_string())
            .send()
            .await?
            .error_for_status()?;
        self.login("bench", "bench-user-password").await
    }

    /// Submits declaration `i`; the answer's text.
    async fn declare(&self, token: &str, i: usize, body: &str) -> Result<String> {
        let base = &self.base;
        let resp = self
            .http
            .post(format!("{base}/api/v1/declarations"))
            .bearer_auth(token)
            .header("Idempotency-Key", format!("bench-{i}"))
            .body(body.to_owned())
            .send()
            .await?;
        if resp.status() != reqwest::StatusCode::CREATED {
            bail!(
                "declaration {i}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(resp.text().await?)
    }
}

/// The bench enterprise as the store holds it: a zero-tariff beneficiary of general credit.
pub(crate) fn bench_enterprise() -> freeport_store::Enterprise {
    freeport_store::Enterprise {
        credit_code: ENTERPRISE.into(),
        name: "Bench Co".into(),
        beneficiary: true,
        encouraged_industry_filed: false,
        encouraged_revenue_share: None,
        credit_class: "general".into(),
    }
}

/// The database's own tool, the same statements, on a fresh database with the schema.
async fn measure_database_tool(
    postgres: Option<&str>,
    load: Load,
    lengths: TextLengths,
) -> Result<Option<Measured>> {
    let postgres_url_given = postgres.is_some();
    let (tool_store, created, url) = fresh_store(postgres, "tool", 2).await?;
    tool_store
        .put_enterprise(&bench_enterprise(), "bench", 1, None)
        .await?;
    if load.second_line {
        // The book the exits take from, as the API's was seeded.
        tool_store
            .raw_execute(&format!("INSERT INTO balances (enterprise, hs_code, unit, quantity_milli) VALUES ('{ENTERPRISE}', '02023000', 'kg', {})", (load.count as i64 + 10) * 1000))
            .await?;
    }
    tool_store.close().await;
    let tool =
        tokio::task::spawn_blocking(move || database_tool(postgres_url_given, &url, load, lengths))
            .await??;
    drop_database(created).await;
    Ok(tool)
}

/// Through our store: the same rows (declaration, event, postings and balances, supervised
/// items, flow statistics, audit entry, outbox event, idempotency record), one transaction each.
async fn measure_store(
    postgres: Option<&str>,
    bodies: Arc<Vec<String>>,
    load: Load,
    lengths: TextLengths,
    risk: Option<RiskRecord>,
) -> Result<Measured> {
    let (raw_store, created, _) = fresh_store(postgres, "raw", load.connections()).await?;
    raw_store
        .put_enterprise(&bench_enterprise(), "bench", 1, None)
        .await?;
    let texts = Arc::new(StoredTexts {
        decision: "d".repeat(lengths.decision),
        risk,
        response: "r".repeat(lengths.response),
    });
    let (latencies, seconds) = {
        let store = raw_store.clone();
        run_workers(load.count, load.concurrency, move |i| {
            let (store, bodies, texts) = (store.clone(), bodies.clone(), texts.clone());
            async move {
                store
                    .commit_declaration(&stored_declaration(i, &bodies[i], &texts))
                    .await?;
                Ok(())
            }
        })
        .await?
    };
    let raw = measured(latencies, seconds);
    raw_store.close().await;
    drop_database(created).await;
    Ok(raw)
}

/// Stand-ins as long as the decision and idempotency answer the API stored, and a risk record it
/// kept.
struct StoredTexts {
    decision: String,
    risk: Option<RiskRecord>,
    response: String,
}

/// Declaration `i` as the API commits it once decided: accepted on the green lane, every line
/// posted and counted, its equipment supervised.
fn stored_declaration(i: usize, request: &str, texts: &StoredTexts) -> NewDeclaration {
    let lines = 1 + i % 5;
    let postings = (0..lines)
        .map(|k| NewPosting {
            enterprise: ENTERPRISE.into(),
            hs_code: format!("0202300{k}"),
            unit: "kg".into(),
            quantity_milli: 1000,
            value_fen: 100_000,
            movement: "first_line_entry".into(),
            line: Some(k as i64),
            note: String::new(),
        })
        .collect();
    let id = uuid::Uuid::now_v7().to_string();
    NewDeclaration {
        id: id.clone(),
        enterprise: ENTERPRISE.into(),
        reference: format!("BENCH-{i}"),
        flow: "first_line_import".into(),
        status: freeport_core::lifecycle::DeclarationStatus::Decided,
        declared_on: "2026-03-16".into(),
        pack_version: "hainan/2026-02-05".into(),
        outcome: "accepted".into(),
        payable_total_fen: 0,
        request_json: request.to_owned(),
        decision_json: texts.decision.clone(),
        flow_lines: flow_lines(lines),
        alerts: vec![],
        postings,
        waiver_locks: vec![],
        lane: Some("green".into()),
        risk: texts.risk.clone(),
        port: None,
        at_port: None,
        admission: None,
        port_mode: None,
        mode_at: None,
        batch_month: None,
        supervised: supervised_items(lines),
        actor: "bench".into(),
        event_topic: "declaration.decided".into(),
        event_payload: json!({ "id": id }).to_string(),
        idempotency: Some(freeport_store::IdempotencyRecord {
            user_id: "bench".into(),
            key: format!("raw-{i}"),
            request_sha256: "x".into(),
            status: 201,
            response: texts.response.clone(),
        }),
        now_ms: freeport_server::now_ms(),
    }
}

/// The API adds each accepted line to the day's flow statistics.
fn flow_lines(lines: usize) -> Vec<freeport_store::FlowLine> {
    (0..lines)
        .map(|k| freeport_store::FlowLine {
            flow: "first_line_import".into(),
            hs_code: format!("0202300{k}"),
            unit: "kg".into(),
            day: "2026-03-16".into(),
            quantity_milli: 1000,
            value_fen: 100_000,
        })
        .collect()
}

/// The API records a supervised item for each line of equipment (84, 85).
fn supervised_items(lines: usize) -> Vec<freeport_store::NewSupervisedItem> {
    (0..lines)
        .filter(|k| matches!(k, 1 | 2))
        .map(|k| freeport_store::NewSupervisedItem {
            id: uuid::Uuid::now_v7().to_string(),
            enterprise: ENTERPRISE.into(),
            line: k as i64,
            hs_code: "84713000".into(),
            origin: "CN".into(),
            consumption_tax_item: None,
            kind: "equipment".into(),
            years: 3,
            released_on: "2026-03-16".into(),
            supervised_until: "2029-03-16".into(),
            unit: "piece".into(),
            quantity_milli: 1000,
            customs_value_fen: 100_000,
        })
        .collect()
}

/// The figures, rounded for reading: the API, the database's tool and our store side by side.
fn report(
    postgres: bool,
    load: Load,
    api: &Measured,
    tool: Option<&Measured>,
    lengths: TextLengths,
    raw: Option<&Measured>,
) -> Value {
    let tool_name = match (postgres, load.second_line) {
        (true, false) => "pgbench -M prepared -f bench/declaration.pgbench",
        (true, true) => "pgbench -M prepared -f bench/second_line.pgbench",
        (false, false) => "python3 bench/sqlite_declarations.py",
        (false, true) => "python3 bench/sqlite_second_line.py",
    };
    json!({
        "backend": if postgres { "postgresql" } else { "sqlite" },
        "workload": if load.second_line { "green-lane second-line exits released at Xinhai" } else { "first-line imports" },
        "declarations": load.count,
        "concurrency": load.concurrency,
        "api_declarations_per_second": api.per_second.round(),
        "api_latency_ms_p50": (api.p50_ms * 100.0).round() / 100.0,
        "api_latency_ms_p99": (api.p99_ms * 100.0).round() / 100.0,
        "database_tool": tool_name,
        "tool_declarations_per_second": tool.map(|t| t.per_second.round()),
        "tool_latency_ms_p50": tool.map(|t| (t.p50_ms * 100.0).round() / 100.0),
        "tool_latency_ms_p99": tool.map(|t| (t.p99_ms * 100.0).round() / 100.0),
        "ratio_api_to_tool": tool.map(|t| ((api.per_second / t.per_second) * 100.0).round() / 100.0),
        "text_lengths": { "request": lengths.request, "decision": lengths.decision, "risk": lengths.risk, "response": lengths.response },
        "store_declarations_per_second": raw.map(|r| r.per_second.round()),
        "store_latency_ms_p50": raw.map(|r| (r.p50_ms * 100.0).round() / 100.0),
        "store_latency_ms_p99": raw.map(|r| (r.p99_ms * 100.0).round() / 100.0),
        "ratio_api_to_store": raw.map(|r| ((api.per_second / r.per_second) * 100.0).round() / 100.0),
    })
}
