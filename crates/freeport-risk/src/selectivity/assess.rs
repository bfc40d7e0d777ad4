//! The lane under the active rule set and model, with the shadow set's opinion beside it.

use rust_decimal::Decimal;

use crate::lanes::{LaneChoice, choose_lane, draw};
use crate::platform_model::{Case, PlatformModel};
use crate::rules::{Evaluation, Lane, RuleSet};

use super::record::{Contribution, ModelOpinion, RiskRecord, RuleHit, ShadowOpinion};
use super::{LineFacts, LiveRules, RiskSetup};

/// A lane chosen, with the record that explains it and the alerts the rules raised.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub lane: Lane,
    pub record: RiskRecord,
    pub alerts: Vec<String>,
}

struct SetVerdict {
    score: Decimal,
    floor: Option<Lane>,
    hits: Vec<RuleHit>,
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
            v.hits.push(RuleHit {
                line: i,
                rule: rule.id.clone(),
                title: rule.title.clone(),
                owner: rule.owner.clone(),
                actions: rule.actions.clone(),
            });
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
        .and_then(|(m, sha)| model_opinion(setup, m, sha, facts));
    let model_points = model.as_ref().map_or(Decimal::ZERO, |m| m.points);
    verdict.score += model_points;
    let drawn = draw(declaration_id, setup.salt);
    let LaneChoice { lane, reason } = choose(setup, credit_class, drawn, &verdict);
    let shadow = live.shadow.as_ref().map(|(set, sha)| {
        let mut v = evaluate(set, facts);
        v.score += model_points;
        let choice = choose(setup, credit_class, drawn, &v);
        ShadowOpinion {
            rule_set: set.name.clone(),
            rule_set_version: set.version,
            rule_set_sha256: sha.clone(),
            score: v.score,
            lane: choice.lane,
            reason: choice.reason,
            hits: v.hits,
        }
    });
    Assessment {
        lane,
        alerts: verdict.alerts.clone(),
        record: RiskRecord {
            rule_set: live.active.name.clone(),
            rule_set_version: live.active.version,
            rule_set_sha256: live.active_sha256.clone(),
            credit_class: credit_class.to_owned(),
            score: verdict.score,
            lane,
            reason,
            draw: drawn,
            random_share: setup.policy.random_share(credit_class),
            hits: verdict.hits,
            alerts: verdict.alerts,
            model,
            shadow,
            facts: facts.to_vec(),
        },
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

/// The model's opinion of the riskiest line: its probability, the points it adds, and the five
/// features that pushed it most. None for a declaration without lines.
fn model_opinion(
    setup: &RiskSetup,
    model: &PlatformModel,
    sha: &str,
    facts: &[LineFacts],
) -> Option<ModelOpinion> {
    let cases: Vec<Case> = facts.iter().map(LineFacts::case).collect();
    let (line, probability) = riskiest_line(model, &cases)?;
    let contributions = model
        .explain(&cases[line])
        .into_iter()
        .take(5)
        .map(|c| Contribution {
            feature: c.feature,
            value: c.value.is_finite().then_some(c.value),
            contribution: (c.contribution * 1e4).round() / 1e4,
        })
        .collect();
    Some(ModelOpinion {
        model_sha256: sha.to_owned(),
        line,
        probability,
        points: points(setup, probability),
        contributions,
    })
}
