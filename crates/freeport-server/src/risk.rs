//! The selectivity lane of a decided declaration: the active rule set over its lines, the
//! declarant's credit class, and a draw derived from the declaration.
//!
//! The active rule set is the store's (activated by an analyst) or, before any, the bundled file.
//! A rule set in shadow is evaluated beside it on every declaration and recorded, never obeyed.
//! Each line's facts are kept in the risk record, so that a proposed set can be back-tested on
//! exactly what the active one saw.
//!
//! Once an analyst has trained a model on the platform's own inspection results, its probability
//! for the riskiest line adds to the rules' score and its largest feature contributions are kept in
//! the record. (The model evaluated on the Korean data set needs fields live declarations do not
//! carry, so it stays offline.)

use freeport_core::decision::Decision;
use freeport_core::declaration::{Declaration, Flow};
use freeport_core::pack::PolicyPack;
use freeport_risk::early_warning::{SpikeThreshold, flow_spike};
use freeport_risk::lanes::{
    Calibration, ClassRates, LaneChoice, LanePolicy, Thresholds, choose_lane, draw,
};
use freeport_risk::platform_model::{Case, PlatformModel, platform_params};
use freeport_risk::rules::{Evaluation, Facts, Lane, RuleError, RuleSet, parse_rule_set};
use freeport_store::{FlowLine, NewAlert};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::Date;

use crate::AppState;
use crate::error::{ApiError, ApiResult, Code};
use freeport_core::{FieldError, FieldErrorKind};

/// The rule file shipped with the binary, used when no other is configured.
pub const BUNDLED_RULES: &str = include_str!("../../../risk/hainan.rules");

/// What selects lanes: the active rules, the expected rates, the thresholds and the draw's salt.
#[derive(Debug, Clone)]
pub struct RiskSetup {
    pub rules: RuleSet,
    pub policy: LanePolicy,
    pub calibration: Calibration,
    pub salt: u64,
}

impl RiskSetup {
    /// The given rules with lane rates from the pack's credit rules (R6.1): advanced certified
    /// enterprises at half the pack's ceiling on their ratio to the regular rate, certified at half
    /// the regular rate, dishonest ones at no less than the pack's floor, seriously dishonest always.
    /// Until there is history to calibrate on, rule scores meet fixed thresholds.
    pub fn new(rules_text: &str, pack: &PolicyPack, salt: u64) -> Result<RiskSetup, RuleError> {
        let rules = parse_rule_set(rules_text)?;
        let credit = pack.versions.last().map(|v| &v.credit);
        let as_f64 = |d: Decimal| f64::try_from(d).unwrap_or(0.0);
        let advanced = credit.map_or(0.2, |c| as_f64(c.advanced_ratio_max));
        let dishonest = credit.map_or(0.8, |c| as_f64(c.dishonest_rate_min));
        let class = |factor, red_floor| ClassRates { factor, red_floor };
        let policy = LanePolicy {
            random_red: 0.005,
            red: 0.03,
            yellow: 0.05,
            blue: 0.02,
            classes: [
                ("advanced_certified", class(advanced / 2.0, 0.0)),
                ("certified", class(0.5, 0.0)),
                ("general", class(1.0, 0.0)),
                ("dishonest", class(1.0, dishonest)),
                ("seriously_dishonest", class(1.0, 1.0)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        };
        Ok(RiskSetup {
            rules,
            policy,
            calibration: Calibration::fixed(Thresholds {
                red: 40.0,
                yellow: 20.0,
                blue: 10.0,
            }),
            salt,
        })
    }
}

/// The rule sets in force: the active one, and one in shadow if an analyst put one there.
#[derive(Debug, Clone)]
pub struct LiveRules {
    pub active: RuleSet,
    /// The store's key of the active set; none while the bundled file is in force.
    pub active_sha256: Option<String>,
    pub shadow: Option<(RuleSet, String)>,
    /// The model trained on the platform's inspection results, with its store key; none before
    /// the first training.
    pub model: Option<(std::sync::Arc<PlatformModel>, String)>,
}

impl AppState {
    pub fn live_rules(&self) -> std::sync::Arc<LiveRules> {
        self.live_rules
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Loads the active and shadow rule sets from the store; the bundled set stays active while
    /// the store has none.
    pub async fn reload_rules(&self) -> Result<(), freeport_store::StoreError> {
        let parse = |row: freeport_store::RuleSetRow| {
            parse_rule_set(&row.source)
                .ok()
                .map(|set| (set, row.sha256))
        };
        let active = self.store.rule_set_in("active").await?.and_then(parse);
        let shadow = self.store.rule_set_in("shadow").await?.and_then(parse);
        let model = self.store.active_model().await?.and_then(|m| {
            PlatformModel::from_bytes(m.model_text.as_bytes())
                .ok()
                .map(|model| (std::sync::Arc::new(model), m.sha256))
        });
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

/// One line's facts as the rules saw them, owned, so the risk record can keep them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineFacts {
    pub hs: String,
    pub origin: String,
    pub enterprise: String,
    pub credit_class: String,
    pub line: String,
    pub flow: String,
    pub declared_on: Date,
    pub value: Decimal,
    pub quantity: Decimal,
    pub unit: String,
    pub reference_unit_value: Option<Decimal>,
}

impl LineFacts {
    /// The line as the learned model sees it.
    pub fn case(&self) -> Case {
        let f = |d: Decimal| f64::try_from(d).unwrap_or(f64::NAN);
        Case {
            hs: self.hs.clone(),
            origin: self.origin.clone(),
            enterprise: self.enterprise.clone(),
            credit_class: self.credit_class.clone(),
            flow: self.flow.clone(),
            value: f(self.value),
            quantity: f(self.quantity),
            reference_unit_value: self.reference_unit_value.map(f),
        }
    }

    pub fn facts(&self) -> Facts<'_> {
        Facts {
            hs: &self.hs,
            origin: &self.origin,
            departure: None,
            enterprise: &self.enterprise,
            declarant: None,
            seller: None,
            credit_class: &self.credit_class,
            line: &self.line,
            flow: &self.flow,
            port: None,
            declared_on: self.declared_on,
            value: self.value,
            quantity: self.quantity,
            reference_unit_value: self.reference_unit_value,
            tax_rate: None,
        }
    }
}

/// A value reference needs this many declared lines of the same code and unit in the past year;
/// below it, a rule comparing with the reference does not fire.
const REFERENCE_MIN_LINES: i64 = 5;

/// The facts of each line, with the value reference of its code and unit: the mean unit value
/// declared over the past 365 days, the declaration day excluded.
pub(crate) async fn line_facts(
    state: &AppState,
    d: &Declaration,
    decision: &Decision<'_>,
    credit_class: &str,
) -> ApiResult<Vec<LineFacts>> {
    let to = d.declared_on.previous_day().unwrap_or(d.declared_on);
    let from = d.declared_on - time::Duration::days(365);
    let mut out = Vec::with_capacity(d.lines.len());
    for (i, line) in d.lines.iter().enumerate() {
        let quantity = line.quantities.first();
        let unit = quantity
            .map(|q| crate::wire_name(q.unit))
            .unwrap_or_default();
        let totals = state
            .store
            .declared_totals(
                line.hs_code.as_str(),
                &unit,
                &from.to_string(),
                &to.to_string(),
            )
            .await?;
        let reference_unit_value = reference_unit_value(totals);
        out.push(LineFacts {
            hs: line.hs_code.as_str().to_owned(),
            origin: line.origin.as_str().to_owned(),
            enterprise: d.declarant.as_str().to_owned(),
            credit_class: credit_class.to_owned(),
            line: line_of(d.flow).to_owned(),
            flow: crate::wire_name(d.flow),
            declared_on: d.declared_on,
            value: decision
                .lines
                .get(i)
                .map_or(Decimal::ZERO, |l| l.customs_value.amount()),
            quantity: quantity.map_or(Decimal::ZERO, |q| q.value),
            unit,
            reference_unit_value,
        });
    }
    Ok(out)
}

/// The mean unit value of what was declared, once enough lines were; `None` below that.
fn reference_unit_value(totals: freeport_store::DeclaredTotals) -> Option<Decimal> {
    if totals.declarations < i128::from(REFERENCE_MIN_LINES) || totals.quantity_milli <= 0 {
        return None;
    }
    let value = Decimal::try_from_i128_with_scale(totals.value_fen, 2).ok()?;
    let quantity = Decimal::try_from_i128_with_scale(totals.quantity_milli, 3).ok()?;
    Some(value.checked_div(quantity)?.round_dp(4))
}

fn line_of(flow: Flow) -> &'static str {
    match flow {
        Flow::FirstLineImport | Flow::FirstLineExport => "first",
        Flow::SecondLineExit | Flow::SecondLineEntry => "second",
        Flow::IslandTransfer | Flow::Processing => "island",
    }
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

/// A lane chosen, with the record that explains it.
pub(crate) struct Assessment {
    pub(crate) lane: Lane,
    pub(crate) record: Value,
    pub(crate) alerts: Vec<String>,
}

struct SetVerdict {
    score: Decimal,
    floor: Option<Lane>,
    hits: Vec<Value>,
    alerts: Vec<String>,
}

/// The riskiest line's score, the most intrusive lane any rule asked for, and every hit.
fn evaluate(set: &RuleSet, facts: &[LineFacts]) -> SetVerdict {
    let mut v = SetVerdict {
        score: Decimal::ZERO,
        floor: None,
        hits: Vec::new(),
        alerts: Vec::new(),
    };
    let mut out = Evaluation::default();
    for (i, f) in facts.iter().enumerate() {
        set.evaluate_into(&f.facts(), &mut out);
        v.score = v.score.max(out.score);
        v.floor = v.floor.max(out.lane);
        for r in &out.hits {
            let rule = &set.rules[*r];
            v.hits.push(json!({ "line": i, "rule": rule.id, "title": rule.title, "owner": rule.owner, "actions": rule.actions }));
        }
        v.alerts.extend(out.alerts.iter().cloned());
    }
    v
}

fn choose(setup: &RiskSetup, credit_class: &str, drawn: f64, v: &SetVerdict) -> LaneChoice {
    choose_lane(
        &setup.policy,
        &setup.calibration,
        credit_class,
        f64::try_from(v.score).unwrap_or(0.0),
        v.floor,
        drawn,
    )
}

/// The lane alone, as `assess` would choose it, without the record: for replaying history.
pub(crate) fn lane_of(
    setup: &RiskSetup,
    live: &LiveRules,
    facts: &[LineFacts],
    credit_class: &str,
    declaration_id: &str,
) -> Lane {
    let mut verdict = evaluate(&live.active, facts);
    if let Some((model, _)) = &live.model {
        let cases: Vec<Case> = facts.iter().map(LineFacts::case).collect();
        verdict.score += riskiest_line(model, &cases).map_or(Decimal::ZERO, |(_, p)| points(p));
    }
    choose(
        setup,
        credit_class,
        draw(declaration_id, setup.salt),
        &verdict,
    )
    .lane
}

/// Chooses the lane under the active set; a set in shadow is evaluated too and recorded beside it.
pub(crate) fn assess(
    setup: &RiskSetup,
    live: &LiveRules,
    facts: &[LineFacts],
    credit_class: &str,
    declaration_id: &str,
) -> Assessment {
    let mut verdict = evaluate(&live.active, facts);
    let model = live
        .model
        .as_ref()
        .map(|(m, sha)| model_opinion(m, sha, facts));
    let model_points = model.as_ref().map_or(Decimal::ZERO, |(points, _)| *points);
    verdict.score += model_points;
    let drawn = draw(declaration_id, setup.salt);
    let LaneChoice { lane, reason } = choose(setup, credit_class, drawn, &verdict);
    let shadow = live.shadow.as_ref().map(|(set, sha)| {
        let mut v = evaluate(set, facts);
        v.score += model_points;
        let choice = choose(setup, credit_class, drawn, &v);
        json!({
            "rule_set": set.name,
            "rule_set_version": set.version,
            "rule_set_sha256": sha,
            "score": v.score.to_string(),
            "lane": choice.lane,
            "reason": choice.reason,
            "hits": v.hits,
        })
    });
    Assessment {
        lane,
        alerts: verdict.alerts.clone(),
        record: json!({
            "rule_set": live.active.name,
            "rule_set_version": live.active.version,
            "rule_set_sha256": live.active_sha256,
            "credit_class": credit_class,
            "score": verdict.score.to_string(),
            "lane": lane,
            "reason": reason,
            "draw": drawn,
            "random_share": setup.policy.random_share(credit_class),
            "hits": verdict.hits,
            "alerts": verdict.alerts,
            "model": model.map(|(_, record)| record),
            "shadow": shadow,
            "facts": facts,
        }),
    }
}

/// Points a violation probability adds to the rules' score: 100 × p, so that a line the model
/// thinks 40 % likely to be a violation reaches the red threshold on its own.
fn points(probability: Decimal) -> Decimal {
    (probability * Decimal::ONE_HUNDRED).round_dp(1)
}

/// The line the model thinks riskiest, and its probability of a violation (4 decimals).
fn riskiest_line(model: &PlatformModel, cases: &[Case]) -> Option<(usize, Decimal)> {
    let scores = model.score(cases);
    let (line, &p) = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    Some((
        line,
        Decimal::from_f64_retain(p)
            .unwrap_or(Decimal::ZERO)
            .round_dp(4),
    ))
}

/// The model's points for the riskiest line and the record explaining them: the probability and
/// the five features that pushed it most.
fn model_opinion(model: &PlatformModel, sha: &str, facts: &[LineFacts]) -> (Decimal, Value) {
    let cases: Vec<Case> = facts.iter().map(LineFacts::case).collect();
    let Some((line, probability)) = riskiest_line(model, &cases) else {
        return (Decimal::ZERO, Value::Null);
    };
    let points = points(probability);
    let why: Vec<Value> = model
        .explain(&cases[line])
        .into_iter()
        .take(5)
        .map(|c| json!({ "feature": c.feature, "value": c.value.is_finite().then_some(c.value), "contribution": (c.contribution * 1e4).round() / 1e4 }))
        .collect();
    (
        points,
        json!({ "model_sha256": sha, "line": line, "probability": probability.to_string(), "points": points.to_string(), "contributions": why }),
    )
}

/// The rule ids a risk record says fired, once each.
pub(crate) fn hit_rules(record: &Value) -> Vec<String> {
    let mut ids: Vec<String> = record["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["rule"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The line facts a risk record kept.
pub(crate) fn recorded_facts(record: &Value) -> Vec<LineFacts> {
    serde_json::from_value(record["facts"].clone()).unwrap_or_default()
}

/// Flows watched for spikes: second-line exits, where goods leave the zone's privileges.
const WATCHED_FLOWS: [Flow; 1] = [Flow::SecondLineExit];

/// Early warnings one accepted declaration raises: the rules' alert actions, and a spike of its
/// flow for any heading it declares (the declaration's own lines included in the day's count).
pub(crate) async fn alerts_for(
    state: &AppState,
    d: &Declaration,
    facts: &[LineFacts],
    assessment: &Assessment,
    declaration_id: &str,
) -> ApiResult<Vec<NewAlert>> {
    let day = d.declared_on;
    let mut out: Vec<NewAlert> = assessment
        .alerts
        .iter()
        .enumerate()
        .map(|(i, text)| NewAlert {
            id: uuid::Uuid::now_v7().to_string(),
            dedupe_key: format!("rule:{declaration_id}:{i}"),
            kind: "rule".to_owned(),
            subject: text.clone(),
            enterprise: Some(d.declarant.as_str().to_owned()),
            declaration_id: Some(declaration_id.to_owned()),
            person_code: None,
            raised_on: day.to_string(),
            details_json: json!({ "text": text, "hits": assessment.record["hits"] }).to_string(),
        })
        .collect();
    if !WATCHED_FLOWS.contains(&d.flow) {
        return Ok(out);
    }
    let threshold = SpikeThreshold::default();
    let flow = crate::wire_name(d.flow);
    let mut headings: Vec<&str> = facts.iter().map(|f| &f.hs[..4.min(f.hs.len())]).collect();
    headings.sort_unstable();
    headings.dedup();
    let first = day - time::Duration::days(threshold.baseline_days as i64);
    for heading in headings {
        let counts = state
            .store
            .flow_by_day(&flow, heading, &first.to_string(), &day.to_string())
            .await?;
        let mut history = vec![0u64; threshold.baseline_days];
        let mut today = 0u64;
        for (d_text, n) in counts {
            let n = u64::try_from(n).unwrap_or(0);
            if d_text == day.to_string() {
                today = n;
            } else if let Some(past) = crate::stored_day(&d_text) {
                let back = (day - past).whole_days();
                if (1..=threshold.baseline_days as i64).contains(&back) {
                    history[threshold.baseline_days - back as usize] = n;
                }
            }
        }
        let own = facts.iter().filter(|f| f.hs.starts_with(heading)).count() as u64;
        if let Some(spike) = flow_spike(&history, today + own, &threshold) {
            out.push(NewAlert {
                id: uuid::Uuid::now_v7().to_string(),
                dedupe_key: format!("spike:{flow}:{heading}:{day}"),
                kind: "flow_spike".to_owned(),
                subject: format!("{flow} of heading {heading} on {day}"),
                enterprise: None,
                declaration_id: Some(declaration_id.to_owned()),
                person_code: None,
                raised_on: day.to_string(),
                details_json: json!({ "flow": flow, "heading": heading, "day": day.to_string(), "spike": spike, "threshold": threshold }).to_string(),
            });
        }
    }
    Ok(out)
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
        let record: Value = serde_json::from_str(&h.risk_json).unwrap_or(Value::Null);
        for f in recorded_facts(&record) {
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
