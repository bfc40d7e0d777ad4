//! Measuring a ranking the way an inspection service uses it: inspect the top share of
//! declarations by score and count what was caught.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::RiskError;
use crate::model::{ForustRiskModel, TrainingParams};
use crate::research::dataset::{Declaration, InspectedDeclaration, InspectionOutcome};
use crate::research::engine::RiskEngine;

/// What inspecting the top share of declarations by score finds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionResult {
    /// Inspection rate: share of declarations inspected.
    pub rate: f64,
    /// Declarations inspected: `floor(rate x declarations)`.
    pub inspected: usize,
    /// Share of inspected declarations found fraudulent (precision at rate); `None` when
    /// nothing is inspected.
    pub precision: Option<f64>,
    /// Share of all frauds that inspection caught (recall at rate); `None` without frauds.
    pub recall: Option<f64>,
    /// Share of all critical frauds caught; `None` without critical frauds.
    pub critical_recall: Option<f64>,
}

/// Declarations in inspection order: highest score first, ties in input order so that the
/// result does not depend on the sort.
pub fn inspection_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        let (sa, sb) = (scores.get(a).copied(), scores.get(b).copied());
        sb.unwrap_or(f64::NAN)
            .total_cmp(&sa.unwrap_or(f64::NAN))
            .then(a.cmp(&b))
    });
    order
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Inspects the top `rate` share of declarations by score and measures what was found.
pub fn inspect_top(
    scores: &[f64],
    outcomes: &[InspectionOutcome],
    rate: f64,
) -> Result<InspectionResult, RiskError> {
    if !(rate > 0.0 && rate <= 1.0) {
        return Err(RiskError::InvalidRate(rate));
    }
    if scores.len() != outcomes.len() {
        return Err(RiskError::LengthMismatch {
            what: "scores",
            expected: outcomes.len(),
            actual: scores.len(),
        });
    }
    let inspected = ((rate * outcomes.len() as f64).floor() as usize).min(outcomes.len());
    let caught: Vec<InspectionOutcome> = inspection_order(scores)
        .into_iter()
        .take(inspected)
        .filter_map(|i| outcomes.get(i).copied())
        .collect();
    let frauds = outcomes.iter().filter(|o| o.is_fraud()).count();
    let critical = outcomes.iter().filter(|o| o.is_critical()).count();
    let caught_frauds = caught.iter().filter(|o| o.is_fraud()).count();
    let caught_critical = caught.iter().filter(|o| o.is_critical()).count();
    Ok(InspectionResult {
        rate,
        inspected,
        precision: share(caught_frauds, inspected),
        recall: share(caught_frauds, frauds),
        critical_recall: share(caught_critical, critical),
    })
}

/// Mean and sample standard deviation of a measure over runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean over runs.
    pub mean: f64,
    /// Sample standard deviation over runs (n - 1 denominator; 0 for a single run).
    pub std: f64,
}

/// Mean and sample standard deviation; `None` for no values.
pub fn spread(values: &[f64]) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some(Spread { mean, std })
}

/// One inspection rate summarised over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateSummary {
    /// Inspection rate.
    pub rate: f64,
    /// Declarations inspected.
    pub inspected: usize,
    /// Precision at rate over seeds.
    pub precision: Option<Spread>,
    /// Recall at rate over seeds.
    pub recall: Option<Spread>,
    /// Critical-fraud recall at rate over seeds.
    pub critical_recall: Option<Spread>,
}

/// Summarises per-seed results for one rate; a measure undefined in any run stays undefined.
fn summarise(runs: &[&InspectionResult], rate: f64) -> RateSummary {
    let over = |get: fn(&InspectionResult) -> Option<f64>| {
        let values: Option<Vec<f64>> = runs.iter().map(|r| get(r)).collect();
        values.and_then(|v| spread(&v))
    };
    RateSummary {
        rate,
        inspected: runs.first().map_or(0, |r| r.inspected),
        precision: over(|r| r.precision),
        recall: over(|r| r.recall),
        critical_recall: over(|r| r.critical_recall),
    }
}

/// Size and labels of a set of declarations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetSize {
    /// Declarations.
    pub declarations: usize,
    /// Of which inspection found fraud.
    pub frauds: usize,
    /// Of which inspection found critical fraud.
    pub critical_frauds: usize,
}

impl SetSize {
    fn of(rows: &[InspectedDeclaration]) -> Self {
        Self {
            declarations: rows.len(),
            frauds: rows.iter().filter(|r| r.outcome.is_fraud()).count(),
            critical_frauds: rows.iter().filter(|r| r.outcome.is_critical()).count(),
        }
    }
}

/// Results on one set of declarations, over all seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetResults {
    /// The set's size.
    pub size: SetSize,
    /// One summary per inspection rate.
    pub rates: Vec<RateSummary>,
    /// Per seed, one result per inspection rate.
    pub runs: Vec<Vec<InspectionResult>>,
}

/// The outcome of [`evaluate_protocol`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    /// Seeds trained with, one model each.
    pub seeds: Vec<u64>,
    /// Model settings shared by all seeds (the seed field is the first seed).
    pub params: TrainingParams,
    /// The training set.
    pub train: SetSize,
    /// The validation set (used to choose the settings).
    pub validation: SetResults,
    /// The test set: the protocol's headline.
    pub test: SetResults,
    /// Test declarations whose (HS code, net mass, item price) never occurs in training:
    /// how the model does on goods it has not seen declared exactly so before.
    pub test_unseen_values: SetResults,
}

/// Runs the data set's protocol on its three CSV files: train on `train`, report on `valid`
/// (used to choose [`TrainingParams::default`]) and on `test`, once per seed.
pub fn evaluate_protocol(
    train: &str,
    valid: &str,
    test: &str,
    seeds: &[u64],
    rates: &[f64],
) -> Result<EvaluationReport, RiskError> {
    let train = crate::research::parse_inspected_declarations(train)?;
    let valid = crate::research::parse_inspected_declarations(valid)?;
    let test = crate::research::parse_inspected_declarations(test)?;
    evaluate_declarations(
        &train,
        &valid,
        &test,
        seeds,
        rates,
        &TrainingParams::default(),
    )
}

type ValueKey = (String, u64, u64);

fn value_key(d: &Declaration) -> ValueKey {
    (
        d.hs6.as_str().to_owned(),
        d.net_mass_kg.to_bits(),
        d.item_price_krw.to_bits(),
    )
}

/// As [`evaluate_protocol`], on parsed declarations and with explicit settings.
pub fn evaluate_declarations(
    train: &[InspectedDeclaration],
    valid: &[InspectedDeclaration],
    test: &[InspectedDeclaration],
    seeds: &[u64],
    rates: &[f64],
    params: &TrainingParams,
) -> Result<EvaluationReport, RiskError> {
    let first_seed = *seeds.first().ok_or(RiskError::NoSeeds)?;
    for (set, name) in [(train, "training"), (valid, "validation"), (test, "test")] {
        if set.is_empty() {
            return Err(RiskError::EmptySet(name));
        }
    }
    let seen: HashSet<ValueKey> = train.iter().map(|t| value_key(&t.declaration)).collect();
    let unseen: Vec<usize> = (0..test.len())
        .filter(|&i| {
            test.get(i)
                .is_some_and(|t| !seen.contains(&value_key(&t.declaration)))
        })
        .collect();
    let unseen_rows: Vec<InspectedDeclaration> = unseen
        .iter()
        .filter_map(|&i| test.get(i).cloned())
        .collect();
    let decls = |rows: &[InspectedDeclaration]| -> Vec<Declaration> {
        rows.iter().map(|r| r.declaration.clone()).collect()
    };
    let outcomes = |rows: &[InspectedDeclaration]| -> Vec<InspectionOutcome> {
        rows.iter().map(|r| r.outcome).collect()
    };
    let (valid_decls, test_decls) = (decls(valid), decls(test));
    let (valid_out, test_out, unseen_out) =
        (outcomes(valid), outcomes(test), outcomes(&unseen_rows));
    let at_rates = |scores: &[f64], outcomes: &[InspectionOutcome]| {
        rates
            .iter()
            .map(|&rate| inspect_top(scores, outcomes, rate))
            .collect::<Result<Vec<_>, _>>()
    };
    let (mut valid_runs, mut test_runs, mut unseen_runs) = (Vec::new(), Vec::new(), Vec::new());
    for &seed in seeds {
        let params = TrainingParams {
            seed,
            ..params.clone()
        };
        let engine = RiskEngine::<ForustRiskModel>::train(train, &params)?;
        let test_scores = engine.score(&test_decls);
        let unseen_scores: Vec<f64> = unseen
            .iter()
            .filter_map(|&i| test_scores.get(i).copied())
            .collect();
        valid_runs.push(at_rates(&engine.score(&valid_decls), &valid_out)?);
        test_runs.push(at_rates(&test_scores, &test_out)?);
        unseen_runs.push(at_rates(&unseen_scores, &unseen_out)?);
    }
    let results = |size: SetSize, runs: Vec<Vec<InspectionResult>>| {
        let rates = rates
            .iter()
            .enumerate()
            .map(|(k, &rate)| {
                let at: Vec<&InspectionResult> = runs.iter().filter_map(|r| r.get(k)).collect();
                summarise(&at, rate)
            })
            .collect();
        SetResults { size, rates, runs }
    };
    Ok(EvaluationReport {
        seeds: seeds.to_vec(),
        params: TrainingParams {
            seed: first_seed,
            ..params.clone()
        },
        train: SetSize::of(train),
        validation: results(SetSize::of(valid), valid_runs),
        test: results(SetSize::of(test), test_runs),
        test_unseen_values: results(SetSize::of(&unseen_rows), unseen_runs),
    })
}

fn cell(value: Option<Spread>) -> String {
    value.map_or_else(
        || "n/a".to_owned(),
        |s| format!("{:.3} ± {:.3}", s.mean, s.std),
    )
}

impl SetResults {
    fn write_table(&self, out: &mut String, title: &str) {
        let s = &self.size;
        let _ = writeln!(
            out,
            "\n### {title}: {} declarations, {} frauds, {} critical\n",
            s.declarations, s.frauds, s.critical_frauds
        );
        out.push_str("| inspection rate | inspected | precision | recall | critical recall |\n");
        out.push_str("|---:|---:|---:|---:|---:|\n");
        for r in &self.rates {
            let _ = writeln!(
                out,
                "| {:.0}% | {} | {} | {} | {} |",
                r.rate * 100.0,
                r.inspected,
                cell(r.precision),
                cell(r.recall),
                cell(r.critical_recall)
            );
        }
    }
}

impl EvaluationReport {
    /// The report as Markdown tables (mean ± sample standard deviation over seeds).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "## Risk model evaluation: {} seeds ({:?}), trained on {} declarations",
            self.seeds.len(),
            self.seeds,
            self.train.declarations
        );
        self.test.write_table(&mut out, "Test");
        self.validation.write_table(&mut out, "Validation");
        self.test_unseen_values.write_table(
            &mut out,
            "Test declarations whose (HS6, net mass, item price) never occurs in training",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InspectionOutcome::{Clean, CriticalFraud, Fraud};

    #[test]
    fn order_is_by_score_then_position() {
        assert_eq!(inspection_order(&[0.1, 0.9, 0.5, 0.9]), vec![1, 3, 2, 0]);
    }

    #[test]
    fn inspecting_the_top_counts_what_is_caught() -> Result<(), RiskError> {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
        let outcomes = [
            Fraud,
            Clean,
            CriticalFraud,
            Clean,
            Clean,
            Fraud,
            Clean,
            Clean,
            CriticalFraud,
            Clean,
        ];
        let r = inspect_top(&scores, &outcomes, 0.3)?;
        assert_eq!(r.inspected, 3);
        assert_eq!(r.precision, Some(2.0 / 3.0));
        assert_eq!(r.recall, Some(2.0 / 4.0));
        assert_eq!(r.critical_recall, Some(0.5));
        // 25% of 10 declarations is 2.5: the protocol rounds down.
        assert_eq!(inspect_top(&scores, &outcomes, 0.25)?.inspected, 2);
        let all = inspect_top(&scores, &outcomes, 1.0)?;
        assert_eq!((all.precision, all.recall), (Some(0.4), Some(1.0)));
        Ok(())
    }

    #[test]
    fn undefined_measures_are_none() -> Result<(), RiskError> {
        let r = inspect_top(&[0.5, 0.4], &[Clean, Clean], 0.4)?;
        assert_eq!(
            (r.inspected, r.precision, r.recall, r.critical_recall),
            (0, None, None, None)
        );
        Ok(())
    }

    #[test]
    fn bad_rates_and_lengths_are_refused() {
        assert!(matches!(
            inspect_top(&[1.0], &[Clean], 0.0),
            Err(RiskError::InvalidRate(_))
        ));
        assert!(matches!(
            inspect_top(&[1.0], &[Clean], 1.5),
            Err(RiskError::InvalidRate(_))
        ));
        assert!(matches!(
            inspect_top(&[1.0, 2.0], &[Clean], 0.5),
            Err(RiskError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn spread_is_mean_and_sample_deviation() {
        let s = spread(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        let s = s.map(|s| (s.mean, (s.std * 1e6).round() / 1e6));
        assert_eq!(s, Some((5.0, 2.13809)));
        assert_eq!(
            spread(&[3.0]),
            Some(Spread {
                mean: 3.0,
                std: 0.0
            })
        );
        assert_eq!(spread(&[]), None);
    }
}
