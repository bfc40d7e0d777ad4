//! Training and scoring: labels never reach scoring, seeds reproduce, bytes round-trip.
#![allow(clippy::unwrap_used)]

mod common;

use freeport_risk::research::features::{FEATURE_NAMES, FeatureBuilder};
use freeport_risk::research::{Declaration, InspectedDeclaration, InspectionOutcome, RiskEngine};
use freeport_risk::{ForustRiskModel, RiskModel, TrainingParams};

/// Small enough to train in a moment in the debug profile.
fn quick(seed: u64) -> TrainingParams {
    TrainingParams {
        seed,
        iterations: 40,
        max_depth: 6,
        ..TrainingParams::default()
    }
}

fn small_sets() -> (Vec<InspectedDeclaration>, Vec<InspectedDeclaration>) {
    let mut train = common::split("train").unwrap();
    train.truncate(6_000);
    let mut test = common::split("test").unwrap();
    test.truncate(1_500);
    (train, test)
}

fn declarations(rows: &[InspectedDeclaration]) -> Vec<Declaration> {
    rows.iter().map(|r| r.declaration.clone()).collect()
}

/// A deterministic shuffle of the outcomes, keeping the declarations in place.
fn shuffled_outcomes(rows: &[InspectedDeclaration]) -> Vec<InspectedDeclaration> {
    let n = rows.len();
    rows.iter()
        .enumerate()
        .map(|(i, r)| InspectedDeclaration {
            declaration: r.declaration.clone(),
            outcome: rows[(i * 7919 + 13) % n].outcome,
        })
        .collect()
}

#[test]
fn scores_ignore_the_labels_of_scored_declarations() {
    let (train, test) = small_sets();
    let engine = RiskEngine::<ForustRiskModel>::train(&train, &quick(1)).unwrap();
    let relabelled = shuffled_outcomes(&test);
    assert_ne!(
        test.iter().map(|r| r.outcome).collect::<Vec<_>>(),
        relabelled.iter().map(|r| r.outcome).collect::<Vec<_>>()
    );
    assert_eq!(
        engine.score(&declarations(&test)),
        engine.score(&declarations(&relabelled))
    );
    // Nor does fitting the features read outcomes, so training labels cannot leak into them.
    let relabelled_train = shuffled_outcomes(&train);
    assert_eq!(
        FeatureBuilder::fit(&declarations(&train)),
        FeatureBuilder::fit(&declarations(&relabelled_train))
    );
}

#[test]
fn the_same_seed_gives_the_same_scores() {
    let (train, test) = small_sets();
    let test = declarations(&test);
    let score = |seed| {
        RiskEngine::<ForustRiskModel>::train(&train, &quick(seed))
            .unwrap()
            .score(&test)
    };
    let first = score(7);
    assert_eq!(first, score(7));
    assert_ne!(first, score(8), "the seed drives row and feature sampling");
}

#[test]
fn stored_engines_score_and_explain_alike() {
    let (train, test) = small_sets();
    let test = declarations(&test);
    let engine = RiskEngine::<ForustRiskModel>::train(&train, &quick(3)).unwrap();
    let bytes = engine.to_bytes().unwrap();
    let restored = RiskEngine::<ForustRiskModel>::from_bytes(&bytes).unwrap();
    assert_eq!(engine.score(&test), restored.score(&test));
    assert!(RiskEngine::<ForustRiskModel>::from_bytes(b"not a model").is_err());

    let explained = restored.explain(&test[0]);
    assert_eq!(explained.len(), FEATURE_NAMES.len());
    let pushes: Vec<f64> = explained.iter().map(|c| c.contribution.abs()).collect();
    assert!(
        pushes.windows(2).all(|w| w[0] >= w[1]),
        "largest push first"
    );
    // Shapley contributions plus the bias add up to the score's log-odds.
    let matrix = restored.features().transform(&test[..20]);
    let scores = restored.model().score(&matrix);
    for (row, p) in restored.model().contributions(&matrix).iter().zip(scores) {
        assert_eq!(row.len(), FEATURE_NAMES.len() + 1);
        let log_odds = (p / (1.0 - p)).ln();
        assert!(
            (row.iter().sum::<f64>() - log_odds).abs() < 1e-6,
            "{row:?} vs {p}"
        );
    }
}

#[test]
fn a_model_ranks_fraud_above_chance_on_held_out_declarations() {
    let (train, test) = small_sets();
    let engine = RiskEngine::<ForustRiskModel>::train(&train, &quick(0)).unwrap();
    let scores = engine.score(&declarations(&test));
    let outcomes: Vec<InspectionOutcome> = test.iter().map(|r| r.outcome).collect();
    let at5 = freeport_risk::research::inspect_top(&scores, &outcomes, 0.05).unwrap();
    // About 22% of declarations are frauds; the test trains on two months only.
    assert!(at5.precision.unwrap() > 0.35, "{at5:?}");
}
