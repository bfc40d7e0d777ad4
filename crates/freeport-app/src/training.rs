//! The platform model: trained on the inspection results the store holds, over the line facts each
//! risk record kept; activated on every node; retrained on a schedule.

use freeport_core::{FieldError, FieldErrorKind};
use freeport_risk::platform_model::{PlatformModel, platform_params};
use freeport_store::{IdempotencyRecord, RiskModelRow, StoreError};
use time::Date;

use crate::{AppError, AppResult, Platform};

/// Training needs at least this many inspected lines, violations and compliant results.
const MIN_CASES: usize = 40;
const MIN_EACH_CLASS: usize = 4;
/// Declarations a training reads at most.
const TRAINING_LIMIT: i64 = 200_000;

/// Trains a model on the inspection results of the declarations declared from `from` to `to`
/// and measures it on the latest fifth; nothing is written. Too few results is a `FieldError` on
/// `to` saying what training needs.
pub async fn prepare_model(
    platform: &Platform,
    from: Date,
    to: Date,
    actor: &str,
) -> AppResult<RiskModelRow> {
    let history = platform
        .store
        .assessed_declarations(&from.to_string(), &to.to_string(), TRAINING_LIMIT)
        .await?;
    let (mut cases, mut labels) = (Vec::new(), Vec::new());
    for h in history.iter().filter(|h| h.result.is_some()) {
        for f in &h.risk.facts {
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
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let internal = AppError::Internal;
    Ok(RiskModelRow {
        sha256: freeport_store::sha256_hex(&bytes),
        state: "active".to_owned(),
        trained_by: actor.to_owned(),
        from_day: from.to_string(),
        to_day: to.to_string(),
        cases: i64::try_from(n).unwrap_or(i64::MAX),
        violations: i64::try_from(violations).unwrap_or(i64::MAX),
        metrics_json: serde_json::to_string(&holdout).map_err(|e| internal(e.to_string()))?,
        model_text: String::from_utf8(bytes).map_err(|e| internal(e.to_string()))?,
        trained_at_ms: platform.now_ms(),
    })
}

/// An analyst trains a model on a period's inspection results and puts it in the decision path at
/// once; `answer` gives the edge's answer to keep with the activation, so a retry replays it.
pub async fn train(
    platform: &Platform,
    actor: &crate::Actor,
    (from, to): (Date, Date),
    answer: impl FnOnce(&RiskModelRow) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<RiskModelRow> {
    actor.require(crate::Permission::GovernRisk)?;
    let row = prepare_model(platform, from, to, &actor.user_id).await?;
    let record = answer(&row)?;
    activate_model(platform, &row, record.as_ref()).await?;
    Ok(row)
}

/// Trains on a period's inspection results and makes the model active at once, without an
/// idempotency record: for `freeport risk retrain` at the shell. The error says what training needs.
pub async fn train_and_activate(
    platform: &Platform,
    from: Date,
    to: Date,
    actor: &str,
) -> AppResult<RiskModelRow> {
    let row = prepare_model(platform, from, to, actor).await?;
    activate_model(platform, &row, None).await?;
    Ok(row)
}

/// Keeps a trained model as the active one and puts it in this server's decision path.
pub async fn activate_model(
    platform: &Platform,
    row: &RiskModelRow,
    idempotency: Option<&IdempotencyRecord>,
) -> Result<(), StoreError> {
    platform
        .store
        .activate_trained_model(row, idempotency, row.trained_at_ms)
        .await?;
    platform.reload_rules().await
}

/// Retrains the model every `every` on the inspection results of the last `window_days`, and
/// activates the result when it differs from the active model (new outcomes make a new model;
/// the same outcomes, the same one). Periods with too few results are skipped.
pub fn spawn_retrainer(
    platform: Platform,
    every: std::time::Duration,
    window_days: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let to = platform.today();
            let from = to - time::Duration::days(window_days);
            let Ok(row) = prepare_model(&platform, from, to, "system:retrainer").await else {
                continue;
            };
            let active = platform.store.active_model().await.ok().flatten();
            if active.is_some_and(|a| a.sha256 == row.sha256) {
                continue;
            }
            match activate_model(&platform, &row, None).await {
                Ok(()) => {
                    tracing::info!(model = %row.sha256, cases = row.cases, "retrained the risk model");
                }
                Err(e) => tracing::warn!(error = %e, "retraining the risk model failed"),
            }
        }
    })
}

/// The models trained so far, newest first: customs only.
pub async fn models(platform: &Platform, actor: &crate::Actor) -> AppResult<Vec<RiskModelRow>> {
    actor.require(crate::Permission::ReadRisk)?;
    Ok(platform.store.risk_models().await?)
}
