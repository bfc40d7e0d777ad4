//! The rule sets and model in force, and how every node keeps them in step with the store.

use std::sync::Arc;

use freeport_risk::governance::RuleSetState;
use freeport_risk::platform_model::PlatformModel;
use freeport_risk::rules::parse_rule_set;
use freeport_risk::selectivity::LiveRules;
use freeport_store::{LiveKeys, RuleSetRow, StoreError};

use crate::Platform;

/// How often a node checks the store for rule sets and models other nodes activated.
pub const LIVE_WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl Platform {
    pub fn live_rules(&self) -> Arc<LiveRules> {
        self.live_rules
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Loads the active and shadow rule sets and the active model from the store; the bundled set
    /// stays active while the store has none. A stored set or model that no longer parses is an
    /// error and leaves the sets in force as they were: a node never falls back to looser rules.
    pub async fn reload_rules(&self) -> Result<(), StoreError> {
        let corrupt =
            |what: &str, sha: &str, e: String| StoreError::Corrupt(format!("{what} {sha}: {e}"));
        let parse = |row: RuleSetRow| {
            parse_rule_set(&row.source)
                .map(|set| (set, row.sha256.clone()))
                .map_err(|e| corrupt("rule set", &row.sha256, e.to_string()))
        };
        let active = self
            .store
            .rule_set_in(RuleSetState::Active)
            .await?
            .map(parse)
            .transpose()?;
        let shadow = self
            .store
            .rule_set_in(RuleSetState::Shadow)
            .await?
            .map(parse)
            .transpose()?;
        let model = match self.store.active_model().await? {
            Some(m) => Some(
                PlatformModel::from_bytes(m.model_text.as_bytes())
                    .map(|model| (Arc::new(model), m.sha256.clone()))
                    .map_err(|e| corrupt("model", &m.sha256, e.to_string()))?,
            ),
            None => None,
        };
        let live = LiveRules {
            model,
            active_sha256: active.as_ref().map(|(_, sha)| sha.clone()),
            active: active.map_or_else(|| self.risk.rules.clone(), |(set, _)| set),
            shadow,
        };
        let mut slot = self
            .live_rules
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Arc::new(live);
        Ok(())
    }

    /// The store keys of the rule sets and model this node decides with now.
    fn live_keys_in_use(&self) -> LiveKeys {
        let live = self.live_rules();
        LiveKeys {
            active: live.active_sha256.clone(),
            shadow: live.shadow.as_ref().map(|(_, sha)| sha.clone()),
            model: live.model.as_ref().map(|(_, sha)| sha.clone()),
        }
    }
}

/// Keeps this node's rule sets and model in step with the store, whichever node changed them:
/// every `every`, reads the keys of what is active and in shadow (one small query) and reloads
/// when they differ from the ones in use. An activation through another node reaches this one
/// within `every` plus the reload.
pub fn spawn_live_watcher(
    platform: Platform,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let stored = match platform.store.live_keys().await {
                Ok(keys) => keys,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the live rule keys failed");
                    continue;
                }
            };
            if stored == platform.live_keys_in_use() {
                continue;
            }
            match platform.reload_rules().await {
                Ok(()) => tracing::info!(
                    active = ?stored.active,
                    shadow = ?stored.shadow,
                    model = ?stored.model,
                    "rule sets or model changed in the store; reloaded"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "reloading the live rules failed; the previous ones stay in force")
                }
            }
        }
    })
}
