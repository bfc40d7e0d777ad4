//! The rule sets' lifecycle: an analyst proposes a set (parsed and type-checked), back-tests it on
//! the inspected history beside the active one, puts it in shadow, activates it, retires it. Each
//! move records who and why; activation needs a back-test; every node reloads what is in force.

use freeport_core::{FieldError, FieldErrorKind};
use freeport_risk::backtest::{HistoricalLine, backtest};
use freeport_risk::feedback::{Outcome, RulePerformance, rule_performance};
use freeport_risk::governance::RuleSetState;
use freeport_risk::rules::{Lane, RuleSet, parse_rule_set};
use freeport_risk::selectivity::{self, LineFacts, LiveRules, RiskSetup};
use freeport_store::{AssessedDeclaration, IdempotencyRecord, RuleSetChange, RuleSetRow};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::Date;

use crate::{Actor, AppError, AppResult, Platform};

/// Declarations a back-test reads at most.
pub const HISTORY_LIMIT: i64 = 200_000;

/// A rule set as it now stands, with its recorded moves.
#[derive(Debug, Clone)]
pub struct RuleSetNow {
    pub row: RuleSetRow,
    pub changes: Vec<RuleSetChange>,
}

pub type Answer<'a> =
    Box<dyn FnOnce(&RuleSetNow) -> AppResult<Option<IdempotencyRecord>> + Send + 'a>;

/// A stored rule set, or `NotFound`.
pub async fn rule_set(platform: &Platform, sha256: &str) -> AppResult<RuleSetRow> {
    platform
        .store
        .rule_set(sha256)
        .await?
        .ok_or_else(|| AppError::NotFound("no such resource".into()))
}

/// An analyst proposes a rule set: kept as `proposed` under the SHA-256 of its text; a malformed
/// file is refused with its line and column.
pub async fn propose(
    platform: &Platform,
    actor: &Actor,
    source: &str,
    answer: Answer<'_>,
) -> AppResult<RuleSetNow> {
    actor.require(crate::Permission::GovernRisk)?;
    let set = parse_rule_set(source).map_err(|e| {
        FieldError::new(
            "source",
            FieldErrorKind::Malformed,
            format!("line {}, column {}: {}", e.line, e.column, e.message),
        )
    })?;
    let now = platform.now_ms();
    let proposed = RuleSetNow {
        row: RuleSetRow {
            sha256: freeport_store::sha256_hex(source.as_bytes()),
            name: set.name.clone(),
            version: i64::from(set.version),
            source: source.to_owned(),
            state: RuleSetState::Proposed,
            proposed_by: actor.user_id.clone(),
            backtest_json: None,
            revision: 1,
            created_at_ms: now,
            updated_at_ms: now,
        },
        changes: Vec::new(),
    };
    let idempotency = answer(&proposed)?;
    let r = &proposed.row;
    platform
        .store
        .propose_rule_set(
            &r.sha256,
            &r.name,
            r.version,
            &r.source,
            &actor.user_id,
            idempotency.as_ref(),
            now,
        )
        .await?;
    Ok(proposed)
}

/// Back-tests a rule set on the declarations assessed from `from` to `to`, beside the active set,
/// and keeps the report with it.
pub async fn run_backtest(
    platform: &Platform,
    actor: &Actor,
    sha256: &str,
    (from, to): (Date, Date),
    revision: i64,
    answer: Answer<'_>,
) -> AppResult<RuleSetNow> {
    actor.require(crate::Permission::GovernRisk)?;
    let row = rule_set(platform, sha256).await?;
    // Stale before the replay, not after it.
    if revision != row.revision {
        return Err(AppError::Conflict(format!(
            "the rule set is at revision {}",
            row.revision
        )));
    }
    let proposed = parse_rule_set(&row.source)
        .map_err(|e| freeport_store::StoreError::Corrupt(format!("rule set {sha256}: {e}")))?;
    let live = platform.live_rules();
    let history = platform
        .store
        .assessed_declarations(&from.to_string(), &to.to_string(), HISTORY_LIMIT)
        .await?;
    let (with_proposed, with_active) = backtest_report(&platform.risk, &proposed, &live, &history)?;
    let report = json!({ "from": from.to_string(), "to": to.to_string(), "declarations": history.len(), "proposed": with_proposed, "active": with_active }).to_string();
    let now = platform.now_ms();
    let done = RuleSetNow {
        changes: platform.store.rule_set_changes(sha256).await?,
        row: RuleSetRow {
            backtest_json: Some(report.clone()),
            revision: row.revision + 1,
            updated_at_ms: now,
            ..row
        },
    };
    let idempotency = answer(&done)?;
    platform
        .store
        .save_backtest(
            sha256,
            revision,
            &report,
            &actor.user_id,
            idempotency.as_ref(),
            now,
        )
        .await?;
    Ok(done)
}

/// Moves a rule set to `to` (shadow, active, retired), recording who and why; the sets in force
/// are reloaded at once here and within the watcher's period on every other node.
pub async fn change_state(
    platform: &Platform,
    actor: &Actor,
    sha256: &str,
    to: RuleSetState,
    revision: i64,
    reason: &str,
    answer: Answer<'_>,
) -> AppResult<RuleSetNow> {
    actor.require(crate::Permission::GovernRisk)?;
    if reason.trim().is_empty() {
        return Err(FieldError::new("reason", FieldErrorKind::Missing, "say why").into());
    }
    let row = rule_set(platform, sha256).await?;
    let from = row.state;
    let allowed = RuleSetState::reachable_from(to);
    if !allowed.contains(&from) {
        return Err(AppError::InvalidTransition(format!(
            "a {} rule set cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    if RuleSetState::needs_backtest(to) && row.backtest_json.is_none() {
        return Err(AppError::InvalidTransition(
            "back-test the rule set before activating it".into(),
        ));
    }
    let now = platform.now_ms();
    let mut changes = platform.store.rule_set_changes(sha256).await?;
    changes.push(RuleSetChange {
        from_state: from,
        to_state: to,
        analyst: actor.user_id.clone(),
        reason: reason.to_owned(),
        at_ms: now,
    });
    let done = RuleSetNow {
        changes,
        row: RuleSetRow {
            state: to,
            revision: row.revision + 1,
            updated_at_ms: now,
            ..row
        },
    };
    let idempotency = answer(&done)?;
    platform
        .store
        .change_rule_set_state(
            sha256,
            revision,
            allowed,
            to,
            &actor.user_id,
            reason,
            idempotency.as_ref(),
            now,
        )
        .await?;
    platform.reload_rules().await?;
    Ok(done)
}

/// Both sets over the same recorded facts: per-rule hits, findings and revenue, and the lanes each
/// would choose with the same draws. Pure.
pub fn backtest_report(
    setup: &RiskSetup,
    proposed: &RuleSet,
    live: &LiveRules,
    history: &[AssessedDeclaration],
) -> AppResult<(Value, Value)> {
    let decoded: Vec<(&[LineFacts], &AssessedDeclaration)> = history
        .iter()
        .map(|h| (h.risk.facts.as_slice(), h))
        .collect();
    let run = |set: &RuleSet| {
        let lines = decoded.iter().flat_map(|(facts, h)| {
            facts.iter().map(move |f| HistoricalLine {
                facts: f.facts(),
                fraud: h.result.as_deref() == Some("violation"),
                revenue_proxy: Decimal::new(h.revenue_found_fen.unwrap_or(0), 2),
            })
        });
        let report = backtest(set, lines);
        // The lanes as they would have been with this set beside the live model.
        let with_set = LiveRules {
            active: set.clone(),
            active_sha256: None,
            shadow: None,
            model: live.model.clone(),
        };
        let mut lanes: std::collections::BTreeMap<&'static str, u64> = Default::default();
        let (mut caught, mut missed) = (0u64, 0u64);
        for (facts, h) in &decoded {
            let class = facts.first().map_or("general", |f| f.credit_class.as_str());
            let lane = selectivity::lane_of(setup, &with_set, facts, class, &h.id);
            *lanes.entry(lane.as_str()).or_default() += 1;
            if h.result.as_deref() == Some("violation") {
                if matches!(lane, Lane::Green | Lane::Blue) {
                    missed += 1;
                } else {
                    caught += 1;
                }
            }
        }
        json!({
            "rule_set": set.name,
            "version": set.version,
            "lines": report.lines,
            "lines_hit": report.hit_lines,
            "lanes": lanes,
            "violations_selected": caught,
            "violations_released": missed,
            "rules": report.rules.iter().map(|r| json!({
                "rule": r.rule,
                "owner": r.owner,
                "hits": r.hits,
                "load": r.load,
                "findings": r.frauds,
                "hit_rate": r.hit_rate,
                "revenue_found": r.yield_proxy.to_string(),
                "no_yield": r.no_yield,
            })).collect::<Vec<_>>(),
        })
    };
    Ok((run(proposed), run(&live.active)))
}

/// How the active and the shadow rule sets performed over a period, from inspection results.
#[derive(Debug, Clone)]
pub struct Performance {
    pub declarations: usize,
    pub inspections: usize,
    pub active: Vec<RulePerformance>,
    pub shadow: Vec<RulePerformance>,
}

/// Per rule and month, for the declarations between `from` and `to` (inclusive): hits,
/// inspections, findings and revenue recovered; rules whose inspections recovered nothing once
/// they have `min_inspections` are flagged for retirement.
pub async fn performance(
    platform: &Platform,
    actor: &Actor,
    from: Date,
    to: Date,
    min_inspections: u64,
) -> AppResult<Performance> {
    actor.require(crate::Permission::ReadRisk)?;
    let history = platform
        .store
        .assessed_declarations(&from.to_string(), &to.to_string(), HISTORY_LIMIT)
        .await?;
    Ok(performance_of(&history, min_inspections))
}

/// `performance` over history already read. Pure.
pub fn performance_of(history: &[AssessedDeclaration], min_inspections: u64) -> Performance {
    struct Row {
        month: String,
        active: Vec<String>,
        shadow: Vec<String>,
        inspected: bool,
        violation: bool,
        revenue: Decimal,
    }
    let rows: Vec<Row> = history
        .iter()
        .map(|h| Row {
            month: h.declared_on.get(..7).unwrap_or("").to_owned(),
            active: h.risk.active_rules(),
            shadow: h.risk.shadow_rules(),
            inspected: h.result.is_some(),
            violation: h.result.as_deref() == Some("violation"),
            revenue: Decimal::new(h.revenue_found_fen.unwrap_or(0), 2),
        })
        .collect();
    let outcomes = |shadow: bool| {
        rows.iter().map(move |r| Outcome {
            period: &r.month,
            rules: if shadow { &r.shadow } else { &r.active },
            inspected: r.inspected,
            violation: r.violation,
            revenue_found: r.revenue,
        })
    };
    Performance {
        declarations: rows.len(),
        inspections: rows.iter().filter(|r| r.inspected).count(),
        active: rule_performance(outcomes(false), min_inspections),
        shadow: rule_performance(outcomes(true), min_inspections),
    }
}

/// Every rule set, newest first, with its history of states: customs only.
pub async fn rule_sets(platform: &Platform, actor: &Actor) -> AppResult<Vec<RuleSetNow>> {
    actor.require(crate::Permission::ReadRisk)?;
    let mut out = Vec::new();
    for row in platform.store.rule_sets().await? {
        let changes = platform.store.rule_set_changes(&row.sha256).await?;
        out.push(RuleSetNow { row, changes });
    }
    Ok(out)
}

/// One rule set with its back-test and its history of states: customs only.
pub async fn read_rule_set(
    platform: &Platform,
    actor: &Actor,
    sha256: &str,
) -> AppResult<RuleSetNow> {
    actor.require(crate::Permission::ReadRisk)?;
    let row = platform
        .store
        .rule_set(sha256)
        .await?
        .ok_or_else(|| AppError::NotFound("no such resource".into()))?;
    let changes = platform.store.rule_set_changes(sha256).await?;
    Ok(RuleSetNow { row, changes })
}
