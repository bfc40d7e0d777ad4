//! The server's side of selectivity: reading what the pure assessment in
//! `freeport_risk::selectivity` needs from the store (before the declaration is decided), turning
//! its alerts and line facts into store rows, keeping the live rule sets in step with the store,
//! and training the platform model on stored inspection results.

use freeport_core::declaration::Declaration;
use freeport_risk::platform_model::{PlatformModel, platform_params};
use freeport_risk::rules::parse_rule_set;
use freeport_risk::selectivity::{
    DeclaredHistory, LineFacts, LiveRules, RaisedAlert, recorded_facts, reference_keys,
    reference_unit_value, reference_window, spike_headings,
};
use freeport_store::{FlowLine, NewAlert};
use rust_decimal::Decimal;
use serde_json::Value;
use time::Date;

use crate::AppState;
use crate::error::{ApiError, ApiResult, Code};
use freeport_core::{FieldError, FieldErrorKind};

pub use freeport_risk::selectivity::RiskSetup;

impl AppState {
    pub fn live_rules(&self) -> std::sync::Arc<LiveRules> {
        self.live_rules
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Loads the active and shadow rule sets and the active model from the store; the bundled set
    /// stays active while the store has none. A stored set or model that no longer parses is an
    /// error and leaves the sets in force as they were: a node never falls back to looser rules.
    pub async fn reload_rules(&self) -> Result<(), freeport_store::StoreError> {
        let corrupt = |what: &str, sha: &str, e: String| {
            freeport_store::StoreError::Corrupt(format!("{what} {sha} does not read: {e}"))
        };
        let parse = |row: freeport_store::RuleSetRow| {
            parse_rule_set(&row.source)
                .map(|set| (set, row.sha256.clone()))
                .map_err(|e| corrupt("rule set", &row.sha256, e.to_string()))
        };
        let active = self
            .store
            .rule_set_in("active")
            .await?
            .map(parse)
            .transpose()?;
        let shadow = self
            .store
            .rule_set_in("shadow")
            .await?
            .map(parse)
            .transpose()?;
        let model = match self.store.active_model().await? {
            Some(m) => Some(
                PlatformModel::from_bytes(m.model_text.as_bytes())
                    .map(|model| (std::sync::Arc::new(model), m.sha256.clone()))
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
        *slot = std::sync::Arc::new(live);
        Ok(())
    }
}

/// What the assessment of a declaration reads from the store, read before it is decided: the
/// value reference of each line, and the flow history of each heading a watched flow declares.
pub(crate) struct RiskInputs {
    pub(crate) references: Vec<Option<Decimal>>,
    pub(crate) spike_counts: Vec<(String, Vec<(Date, u64)>)>,
}

pub(crate) async fn risk_inputs(state: &AppState, d: &Declaration) -> ApiResult<RiskInputs> {
    let settings = &state.risk.settings;
    let (from, to) = reference_window(d.declared_on, &settings.value_reference);
    let mut references = Vec::with_capacity(d.lines.len());
    for key in reference_keys(d) {
        let totals = state
            .store
            .declared_totals(&key.hs_code, &key.unit, &from.to_string(), &to.to_string())
            .await?;
        let history = DeclaredHistory {
            lines: totals.declarations,
            value_fen: totals.value_fen,
            quantity_milli: totals.quantity_milli,
        };
        references.push(reference_unit_value(history, &settings.value_reference));
    }
    let day = d.declared_on;
    let first = day - time::Duration::days(i64::from(settings.flow_spike.baseline_days));
    let mut spike_counts = Vec::new();
    for heading in spike_headings(settings, d) {
        let flow = freeport_risk::selectivity::wire_name(d.flow);
        let rows = state
            .store
            .flow_by_day(&flow, &heading, &first.to_string(), &day.to_string())
            .await?;
        let mut counts = Vec::with_capacity(rows.len());
        for (text, n) in rows {
            let on = crate::stored_day(&text).ok_or_else(|| {
                freeport_store::StoreError::Corrupt(format!("flow statistics day {text:?}"))
            })?;
            counts.push((on, u64::try_from(n).unwrap_or(0)));
        }
        spike_counts.push((heading, counts));
    }
    Ok(RiskInputs {
        references,
        spike_counts,
    })
}

/// The alerts an assessment raised, as store rows.
pub(crate) fn alert_rows(raised: Vec<RaisedAlert>) -> Vec<NewAlert> {
    raised
        .into_iter()
        .map(|a| NewAlert {
            id: uuid::Uuid::now_v7().to_string(),
            dedupe_key: a.dedupe_key,
            kind: a.kind.to_owned(),
            subject: a.subject,
            enterprise: a.enterprise,
            declaration_id: Some(a.declaration_id),
            person_code: None,
            raised_on: a.raised_on.to_string(),
            details_json: a.details.to_string(),
        })
        .collect()
}

/// The lines an accepted declaration adds to the flow statistics.
pub(crate) fn flow_lines(facts: &[LineFacts]) -> Vec<FlowLine> {
    facts
        .iter()
        .map(|f| FlowLine {
            flow: f.flow.clone(),
            hs_code: f.hs.clone(),
            unit: f.unit.clone(),
            day: f.declared_on.to_string(),
            quantity_milli: (f.quantity * Decimal::ONE_THOUSAND)
                .round()
                .try_into()
                .unwrap_or(i64::MAX),
            value_fen: (f.value * Decimal::ONE_HUNDRED)
                .round()
                .try_into()
                .unwrap_or(i64::MAX),
        })
        .collect()
}

/// Training needs at least this many inspected lines, violations and compliant results.
const MIN_CASES: usize = 40;
const MIN_EACH_CLASS: usize = 4;
/// Declarations a training reads at most.
const TRAINING_LIMIT: i64 = 200_000;

/// Trains a model on the inspection results of the declarations declared from `from` to `to`
/// and measures it on the latest fifth; nothing is written. Too few results is a `FieldError` on
/// `to` saying what training needs.
pub(crate) async fn prepare_model(
    state: &AppState,
    from: Date,
    to: Date,
    actor: &str,
) -> ApiResult<freeport_store::RiskModelRow> {
    let history = state
        .store
        .assessed_declarations(&from.to_string(), &to.to_string(), TRAINING_LIMIT)
        .await?;
    let (mut cases, mut labels) = (Vec::new(), Vec::new());
    for h in history.iter().filter(|h| h.result.is_some()) {
        let record: Value =
            serde_json::from_str(&h.risk_json).map_err(|e| stored_record_error(&h.id, &e))?;
        for f in recorded_facts(&record).map_err(|e| stored_record_error(&h.id, &e))? {
            cases.push(f.case());
            labels.push(h.result.as_deref() == Some("violation"));
        }
    }
    let violations = labels.iter().filter(|&&v| v).count();
    if cases.len() < MIN_CASES
        || violations < MIN_EACH_CLASS
        || cases.len() - violations < MIN_EACH_CLASS
    {
        return Err(FieldError::new(
            "to",
            FieldErrorKind::OutOfRange,
            format!(
                "the period holds {} inspected lines, {violations} of them violations; training needs {MIN_CASES} lines with {MIN_EACH_CLASS} of each result",
                cases.len()
            ),
        )
        .into());
    }
    let n = cases.len();
    // Training is CPU work: off the request threads.
    let (holdout, bytes) = tokio::task::spawn_blocking(move || {
        let params = platform_params();
        let holdout = PlatformModel::holdout(&cases, &labels, &params)?;
        let model = PlatformModel::train(&cases, &labels, &params)?;
        Ok::<_, freeport_risk::RiskError>((holdout, model.to_bytes()?))
    })
    .await
    .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?
    .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    let internal = |e: String| ApiError::new(Code::Internal, e);
    Ok(freeport_store::RiskModelRow {
        sha256: freeport_store::sha256_hex(&bytes),
        state: "active".to_owned(),
        trained_by: actor.to_owned(),
        from_day: from.to_string(),
        to_day: to.to_string(),
        cases: i64::try_from(n).unwrap_or(i64::MAX),
        violations: i64::try_from(violations).unwrap_or(i64::MAX),
        metrics_json: serde_json::to_string(&holdout).map_err(|e| internal(e.to_string()))?,
        model_text: String::from_utf8(bytes).map_err(|e| internal(e.to_string()))?,
        trained_at_ms: state.now_ms(),
    })
}

/// Trains on a period's inspection results and makes the model active at once, without an
/// idempotency record: for `freeport risk retrain` at the shell. The error says what training needs.
pub async fn train_and_activate(
    state: &AppState,
    from: Date,
    to: Date,
    actor: &str,
) -> Result<freeport_store::RiskModelRow, ApiError> {
    let row = prepare_model(state, from, to, actor).await?;
    activate_model(state, &row, None).await?;
    Ok(row)
}

/// Keeps a trained model as the active one and puts it in this server's decision path.
pub(crate) async fn activate_model(
    state: &AppState,
    row: &freeport_store::RiskModelRow,
    idempotency: Option<&freeport_store::IdempotencyRecord>,
) -> Result<(), freeport_store::StoreError> {
    state
        .store
        .activate_trained_model(row, idempotency, row.trained_at_ms)
        .await?;
    state.reload_rules().await
}

/// Retrains the model every `every` on the inspection results of the last `window_days`, and
/// activates the result when it differs from the active model (new outcomes make a new model;
/// the same outcomes, the same one). Periods with too few results are skipped.
pub fn spawn_retrainer(
    state: AppState,
    every: std::time::Duration,
    window_days: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let to = state.today();
            let from = to - time::Duration::days(window_days);
            let Ok(row) = prepare_model(&state, from, to, "system:retrainer").await else {
                continue;
            };
            let active = state.store.active_model().await.ok().flatten();
            if active.is_some_and(|a| a.sha256 == row.sha256) {
                continue;
            }
            match activate_model(&state, &row, None).await {
                Ok(()) => {
                    tracing::info!(model = %row.sha256, cases = row.cases, "retrained the risk model");
                }
                Err(e) => tracing::warn!(error = %e, "retraining the risk model failed"),
            }
        }
    })
}

/// A stored risk record that does not read: the store is damaged, and nothing is trained or
/// replayed on part of the history.
pub(crate) fn stored_record_error(declaration_id: &str, e: &serde_json::Error) -> ApiError {
    freeport_store::StoreError::Corrupt(format!(
        "the risk record of declaration {declaration_id} does not read: {e}"
    ))
    .into()
}

/// Keeps this node's rule sets and model in step with the store, whichever node changed them:
/// every `every`, reads the keys of what is active and in shadow (one small query) and reloads
/// when they differ from the ones in use. An activation through another node reaches this one
/// within `every` plus the reload.
pub fn spawn_live_watcher(
    state: AppState,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let stored = match state.store.live_keys().await {
                Ok(keys) => keys,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the live rule keys failed");
                    continue;
                }
            };
            let live = state.live_rules();
            let in_use = freeport_store::LiveKeys {
                active: live.active_sha256.clone(),
                shadow: live.shadow.as_ref().map(|(_, sha)| sha.clone()),
                model: live.model.as_ref().map(|(_, sha)| sha.clone()),
            };
            if stored == in_use {
                continue;
            }
            match state.reload_rules().await {
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

/// How often a node checks the store for rule sets and models other nodes activated.
pub const LIVE_WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
