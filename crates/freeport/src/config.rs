//! One `Config`, passed explicitly: defaults, then a TOML file, then `FREEPORT_*` variables.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Address the API listens on.
    pub(crate) listen: String,
    /// Where the embedded database and the generated audit key live.
    pub(crate) data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; absent means SQLite in `data_dir`.
    pub(crate) database_url: Option<String>,
    pub(crate) max_connections: u32,
    /// Key of the audit chain's HMAC; absent means a key generated once into `data_dir/audit.key`.
    pub(crate) audit_key: Option<String>,
    /// Password of the administrator created on first start; absent means a random one, printed once.
    pub(crate) admin_password: Option<String>,
    /// NATS server for the outbox relay (JetStream stream `FREEPORT`, subjects `freeport.>`);
    /// absent means events go to in-process subscribers only.
    pub(crate) nats_url: Option<String>,
    /// Address of the separate metrics listener (`GET /metrics`, Prometheus format).
    pub(crate) metrics_listen: String,
    /// `text` for people, `json` for log collectors.
    pub(crate) log_format: String,
    /// Hours between retrainings of the risk model on new inspection results; 0 turns it off.
    pub(crate) retrain_every_hours: u32,
    /// Days of inspection results each retraining learns from.
    pub(crate) retrain_window_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("freeport-data"),
            database_url: None,
            max_connections: 8,
            audit_key: None,
            admin_password: None,
            nats_url: None,
            metrics_listen: "127.0.0.1:9464".to_owned(),
            log_format: "text".to_owned(),
            retrain_every_hours: 24,
            retrain_window_days: 365,
        }
    }
}

pub(crate) const EXAMPLE: &str = r#"# Freeport configuration. Every key is optional; the values shown are the defaults.
# Precedence: these defaults, then this file (--config FILE), then environment variables
# FREEPORT_<KEY> (e.g. FREEPORT_LISTEN, FREEPORT_DATABASE_URL).

# Address the HTTP API listens on.
listen = "127.0.0.1:8080"

# Folder for the embedded SQLite database and the generated audit key.
data_dir = "freeport-data"

# PostgreSQL for production, e.g. "postgres://freeport@db.internal/freeport".
# Without it, Freeport uses SQLite at <data_dir>/freeport.db.
# database_url = "postgres://postgres@127.0.0.1:5432/freeport"

# Connections in the pool.
max_connections = 8

# Secret key of the audit log's HMAC chain. Without it, a key is generated once into
# <data_dir>/audit.key: back that file up with the database, or `freeport audit verify` fails.
# audit_key = "…"

# Password of the administrator created on the first start (user "admin"). Without it, a random
# password is printed once on standard error.
# admin_password = "…"

# NATS server for the outbox relay: events are published to JetStream stream FREEPORT, subjects
# freeport.<topic>, each with Nats-Msg-Id "outbox-<id>" so that a re-sent event is dropped.
# Without it, events reach in-process subscribers only (they stay in the outbox table either way).
# nats_url = "nats://127.0.0.1:4222"

# The metrics listener (GET /metrics, Prometheus text format), kept apart from the API.
metrics_listen = "127.0.0.1:9464"

# Log format on standard error: "text" or "json". RUST_LOG sets the level (default info).
log_format = "text"

# The risk model retrains on the inspection results of the last retrain_window_days every
# retrain_every_hours, and replaces the active model when the results changed it (0 turns it off;
# analysts can always retrain through POST /api/v1/risk/models).
retrain_every_hours = 24
retrain_window_days = 365
"#;

/// The configuration's keys, taken from the struct itself so that every field can be set from the
/// environment; other `FREEPORT_*` variables (the pack folder, the test suite's database URL) belong
/// to other parts and are not configuration errors.
fn keys() -> Vec<String> {
    serde_json::to_value(Config::default())
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default()
}

pub(crate) fn load(file: Option<&Path>) -> Result<Config> {
    let keys = keys();
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(f) = file {
        figment = figment.merge(Toml::file_exact(f));
    }
    let config: Config = figment
        .merge(
            Env::prefixed("FREEPORT_")
                .filter(move |k| keys.iter().any(|key| k.as_str().eq_ignore_ascii_case(key))),
        )
        .extract()
        .context("reading the configuration")?;
    if !matches!(config.log_format.as_str(), "text" | "json") {
        anyhow::bail!("log_format must be text or json");
    }
    if config.max_connections == 0 || config.max_connections > 1000 {
        anyhow::bail!("max_connections must be between 1 and 1000");
    }
    Ok(config)
}

impl Config {
    pub(crate) fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("freeport.db").display()))
    }

    /// The audit key from the configuration, or the one generated into the data folder.
    pub(crate) fn audit_key(&self) -> Result<Vec<u8>> {
        if let Some(k) = &self.audit_key {
            return Ok(k.as_bytes().to_vec());
        }
        let path = self.data_dir.join("audit.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(existing.trim().as_bytes().to_vec());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(&path, &hex).with_context(|| format!("writing {}", path.display()))?;
        Ok(hex.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_documented_in_the_example_and_settable_from_the_environment() {
        let keys = keys();
        assert!(keys.len() >= 9, "{keys:?}");
        for key in &keys {
            assert!(
                EXAMPLE.contains(&format!("{key} =")),
                "`freeport config example` documents {key}"
            );
        }
        // The example itself is a valid configuration file.
        let parsed: toml::Table = toml::from_str(EXAMPLE).expect("the example parses");
        assert!(parsed.keys().all(|k| keys.contains(k)));
    }
}
