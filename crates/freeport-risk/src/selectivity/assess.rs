//! The lane under the active rule set and model, with the shadow set's opinion beside it.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::lanes::{LaneChoice, choose_lane, draw};
use crate::platform_model::{Case, PlatformModel};
use crate::rules::{Evaluation, Lane, RuleSet};

use super::{LineFacts, LiveRules, RiskSetup};

/// A lane chosen, with the record that explains it and the alerts the rules raised.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub lane: Lane,
    pub record: Value,
    pub alerts: Vec<String>,
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

/// The lane alone, as `assess` would choose it, without the record: for replaying history and
/// for the benchmark.
pub fn lane_of(
    setup: &RiskSetup,
    live: &LiveRules,
    facts: &[LineFacts],
    credit_class: &str,
    declaration_id: &str,
) -> Lane {
    let mut verdict = evaluate(&live.active, facts);
    if let Some((model, _)) = &live.model {
        let cases: Vec<Case> = facts.iter().map(LineFacts::case).collect();
        verdict.score +=
            riskiest_line(model, &cases).map_or(Decimal::ZERO, |(_, p)| points(setup, p));
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
pub fn assess(
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
        .map(|(m, sha)| model_opinion(setup, m, sha, facts));
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

/// Points a violation probability adds to the rules' score, at the settings' weight.
fn points(setup: &RiskSetup, probability: Decimal) -> Decimal {
    (probability * Decimal::from(setup.settings.model.points_per_probability)).round_dp(1)
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
fn model_opinion(
    setup: &RiskSetup,
    model: &PlatformModel,
    sha: &str,
    facts: &[LineFacts],
) -> (Decimal, Value) {
    let cases: Vec<Case> = facts.iter().map(LineFacts::case).collect();
    let Some((line, probability)) = riskiest_line(model, &cases) else {
        return (Decimal::ZERO, Value::Null);
    };
    let points = points(setup, probability);
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
pub fn hit_rules(record: &Value) -> Vec<String> {
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

/// The line facts a risk record kept. A record whose facts do not read is an error, never an
/// empty list: training or a back-test without them would quietly see less than happened.
pub fn recorded_facts(record: &Value) -> Result<Vec<LineFacts>, serde_json::Error> {
    serde_json::from_value(record["facts"].clone())
}
