//! `freeport serve`, `freeport migrate`, `freeport audit verify`: the commands that use the store.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use freeport_server::AppState;
use freeport_store::Store;

use crate::config::{Config, Create};

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Connects, migrates and checks that this node's keys are the database's.
async fn open(config: &Config, create: Create) -> Result<Store> {
    if config.database_url.is_none() {
        if create == Create::Never && !config.data_dir.join("freeport.db").exists() {
            anyhow::bail!(
                "no database at {}: start `freeport serve` or `freeport migrate` first",
                config.data_dir.join("freeport.db").display()
            );
        }
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    let keys = config.keys(create)?;
    let store = Store::connect(&config.database_url(), config.max_connections, &keys.audit)
        .await
        .context("connecting to the database")?
        .with_person_code_key(&keys.person_code)
        .with_previous_audit_keys(keys.audit_previous);
    store.migrate().await.context("applying migrations")?;
    store.check_keys().await.context("checking the keys")?;
    Ok(store)
}

/// On first start: an administrator, with the configured password or a random one printed once.
///
/// Several nodes may start at once on a new database: whichever creates the administrator first
/// wins, and the others carry on (the password is printed only by the node whose user stands).
async fn ensure_admin(store: &Store, config: &Config) -> Result<()> {
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => {
            let mut bytes = [0u8; 18];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            (bytes.iter().map(|b| format!("{b:02x}")).collect(), true)
        }
    };
    let made = freeport_app::users::first_administrator(
        store,
        &password,
        "system",
        freeport_server::now_ms(),
    )
    .await?;
    if made == freeport_app::users::FirstAdministrator::Created && generated {
        eprintln!(
            "freeport: first start: created user \"admin\" with password {password} (shown once; set FREEPORT_ADMIN_PASSWORD to choose it)"
        );
    }
    Ok(())
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests run several commands in one process) is not an error.
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub(crate) fn serve(pack_dir: &Path, config: &Config) -> Result<ExitCode> {
    init_logging(&config.log_format);
    let pack = freeport_policy_fs::load_pack(pack_dir)
        .with_context(|| format!("loading the policy pack at {}", pack_dir.display()))?;
    runtime()?.block_on(async {
        let store = open(config, Create::IfAbsent).await?;
        if !store.audit_key_verifies_the_head().await? {
            anyhow::bail!(
                "the audit key does not verify the audit chain's newest entry: a wrong key, or the entry was altered (run `freeport audit verify`)"
            );
        }
        ensure_admin(&store, config).await?;
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        eprintln!(
            "freeport: serving on http://{} (the console at /, the API under /api/) with {} and pack {} (versions {})",
            listener.local_addr()?,
            match store.backend() {
                freeport_store::Backend::Sqlite => "SQLite",
                freeport_store::Backend::Postgres => "PostgreSQL",
            },
            pack.zone,
            pack.versions
                .iter()
                .map(|v| v.directory.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let state = AppState::new(store, Arc::new(pack));
        // The rule sets an analyst activated or put in shadow outlive restarts.
        state.reload_rules().await?;
        let sink = match &config.nats_url {
            Some(url) => freeport_server::events::Sink::jetstream(url, "FREEPORT", "freeport")
                .await
                .with_context(|| format!("connecting to NATS at {url}"))?,
            None => freeport_server::events::Sink::InProcess(state.events.clone()),
        };
        let metrics_listener = tokio::net::TcpListener::bind(&config.metrics_listen)
            .await
            .with_context(|| format!("listening on {} for metrics", config.metrics_listen))?;
        eprintln!(
            "freeport: metrics on http://{}/metrics",
            metrics_listener.local_addr()?
        );
        let metrics = tokio::spawn(async move {
            let _ = axum::serve(metrics_listener, freeport_server::observe::metrics_router()).await;
        });
        let relay = freeport_server::events::spawn_relay(
            state.store.clone(),
            sink,
            std::time::Duration::from_millis(200),
        );
        let dispatcher = freeport_server::webhooks::spawn_dispatcher(
            state.store.clone(),
            freeport_server::webhooks::RetryPolicy::default(),
            std::time::Duration::from_secs(1),
        );
        // Rule sets and models activated through any node reach this one.
        let watcher = freeport_app::live::spawn_live_watcher(
            state.platform.clone(),
            freeport_app::live::LIVE_WATCH_EVERY,
        );
        let retrainer = (config.retrain_every_hours > 0).then(|| {
            freeport_app::training::spawn_retrainer(
                state.platform.clone(),
                std::time::Duration::from_secs(u64::from(config.retrain_every_hours) * 3600),
                i64::from(config.retrain_window_days),
            )
        });
        // A till's reservation that is neither committed nor voided gives its quota back.
        let expirer = freeport_app::duty_free::spawn_expirer(
            state.platform.clone(),
            std::time::Duration::from_secs(5),
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("freeport: shutting down");
        };
        // The monitoring centre's pages, at `/`, on the same platform and log-in throttle.
        let pages = freeport_console::router(freeport_console::Console {
            platform: state.platform.clone(),
            throttle: state.login_throttle.clone(),
        });
        freeport_server::serve_with_pages(listener, state, pages, shutdown)
            .await
            .context("serving")?;
        if let Some(r) = retrainer {
            r.abort();
        }
        relay.abort();
        expirer.abort();
        watcher.abort();
        dispatcher.abort();
        metrics.abort();
        Ok(ExitCode::SUCCESS)
    })
}

/// `freeport risk retrain`: the same training as `POST /api/v1/risk/models`, at the shell.
pub(crate) fn retrain(pack_dir: &Path, config: &Config, from: &str, to: &str) -> Result<ExitCode> {
    let day = |field: &str, text: &str| {
        freeport_core::calendar::parse_day(field, text)
            .map_err(|e| anyhow::anyhow!("--{field}: {}", e.reason))
    };
    let (from, to) = (day("from", from)?, day("to", to)?);
    let pack = freeport_policy_fs::load_pack(pack_dir)
        .with_context(|| format!("loading the policy pack at {}", pack_dir.display()))?;
    runtime()?.block_on(async {
        let store = open(config, Create::Never).await?;
        let platform = freeport_app::Platform::new(store, Arc::new(pack));
        match freeport_app::training::train_and_activate(&platform, from, to, "cli").await {
            Ok(m) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "sha256": m.sha256,
                        "cases": m.cases,
                        "violations": m.violations,
                        "holdout": serde_json::from_str::<serde_json::Value>(&m.metrics_json)?,
                    }))?
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("freeport: {e}");
                Ok(ExitCode::from(2))
            }
        }
    })
}

pub(crate) fn migrate(config: &Config) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open(config, Create::IfAbsent).await?;
        store.close().await;
        eprintln!(
            "freeport: migrations applied to {}",
            config
                .database_url()
                .split('@')
                .next_back()
                .unwrap_or_default()
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn audit_verify(config: &Config) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open(config, Create::Never).await?;
        let report = store.verify_audit().await?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(if report.intact {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// `freeport audit rotate-key`: retires the audit key for a new one, with every node stopped.
pub(crate) fn audit_rotate_key(config: &Config, new_key_file: Option<&Path>) -> Result<ExitCode> {
    let new_key = match new_key_file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))?
            .trim()
            .to_owned(),
        None if config.audit_key.is_none() => crate::config::new_key()?,
        None => anyhow::bail!(
            "the audit key is configured, not a file: give the new key with --new-key-file, then set audit_key to it and add the old one to audit_previous_keys"
        ),
    };
    if new_key.len() < 16 {
        anyhow::bail!("the new audit key must be at least 16 characters");
    }
    runtime()?.block_on(async {
        let store = open(config, Create::Never).await?;
        let report = store.verify_audit().await?;
        if !report.intact {
            println!("{}", serde_json::to_string_pretty(&report)?);
            anyhow::bail!("the audit chain does not verify; nothing was rotated");
        }
        let old = config.keys(Create::Never)?.audit;
        store
            .rotate_audit_key(new_key.as_bytes(), "cli", freeport_server::now_ms())
            .await?;
        store.close().await;
        if config.audit_key.is_none() {
            config.replace_audit_key_file(&old, &new_key)?;
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "rotated_after_entry": report.entries,
                "new_key": if config.audit_key.is_none() { "written to audit.key; the old one appended to audit-previous.keys" } else { "set audit_key to the new key and add the old one to audit_previous_keys on every node" },
            }))?
        );
        Ok(ExitCode::SUCCESS)
    })
}
