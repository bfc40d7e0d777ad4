//! The model the platform learns from its own inspection results, over the facts every live
//! declaration line carries (the Korean data set's model needs fields live declarations do not
//! have).
//!
//! Features: the goods code as chapter and heading numbers, the value and unit value (log), the
//! unit value against the value reference, the credit class and flow as ranks, the origin's
//! frequency, and target-encoded history: the violation rate of the enterprise, of the six-digit
//! code and of the origin, smoothed towards the overall rate. Training rows get their encodings
//! out of fold (each fold encoded from the others), so a row never sees its own label.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::RiskError;
use crate::model::{ForustRiskModel, RiskModel, TrainingParams};
use crate::research::engine::{FeatureContribution, frame, ranked_contributions, unframe};
use crate::research::features::FeatureMatrix;

pub const PLATFORM_FEATURES: [&str; 11] = [
    "hs_chapter",
    "hs_heading",
    "log_value",
    "log_unit_value",
    "unit_value_to_reference",
    "credit_class",
    "flow",
    "origin_frequency",
    "enterprise_violation_rate",
    "hs6_violation_rate",
    "origin_violation_rate",
];

/// One declaration line as the model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub hs: String,
    pub origin: String,
    pub enterprise: String,
    pub credit_class: String,
    pub flow: String,
    pub value: f64,
    pub quantity: f64,
    pub reference_unit_value: Option<f64>,
}

/// Smoothing weight: a key with this many cases sits halfway between its own rate and the prior.
const SMOOTHING: f64 = 10.0;
const FOLDS: usize = 5;
const CLASSES: [&str; 5] = [
    "advanced_certified",
    "certified",
    "general",
    "dishonest",
    "seriously_dishonest",
];
const FLOWS: [&str; 6] = [
    "first_line_import",
    "first_line_export",
    "second_line_exit",
    "second_line_entry",
    "island_transfer",
    "processing",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Rates {
    /// Key → (cases, violations).
    counts: BTreeMap<String, (u32, u32)>,
}

impl Rates {
    fn fit<'a>(keys: impl Iterator<Item = &'a str>, labels: &[bool]) -> Rates {
        let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for (k, &y) in keys.zip(labels) {
            let e = counts.entry(k.to_owned()).or_default();
            e.0 += 1;
            e.1 += u32::from(y);
        }
        Rates { counts }
    }

    fn rate(&self, key: &str, prior: f64) -> f64 {
        let (n, v) = self.counts.get(key).copied().unwrap_or((0, 0));
        (f64::from(v) + SMOOTHING * prior) / (f64::from(n) + SMOOTHING)
    }
}

/// What the features learned from the training cases.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformFeatures {
    prior: f64,
    origin_frequency: BTreeMap<String, f64>,
    enterprise: Rates,
    hs6: Rates,
    origin: Rates,
}

fn hs6(hs: &str) -> &str {
    &hs[..hs.len().min(6)]
}

fn digits(hs: &str, n: usize) -> f64 {
    hs.get(..n)
        .and_then(|d| d.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

fn rank(list: &[&str], value: &str) -> f64 {
    list.iter()
        .position(|x| *x == value)
        .map_or(f64::NAN, |p| p as f64)
}

impl PlatformFeatures {
    fn fit(cases: &[Case], labels: &[bool]) -> PlatformFeatures {
        let n = cases.len().max(1) as f64;
        let prior = labels.iter().filter(|&&y| y).count() as f64 / n;
        let mut origin_frequency: BTreeMap<String, f64> = BTreeMap::new();
        for c in cases {
            *origin_frequency.entry(c.origin.clone()).or_default() += 1.0 / n;
        }
        PlatformFeatures {
            prior,
            origin_frequency,
            enterprise: Rates::fit(cases.iter().map(|c| c.enterprise.as_str()), labels),
            hs6: Rates::fit(cases.iter().map(|c| hs6(&c.hs)), labels),
            origin: Rates::fit(cases.iter().map(|c| c.origin.as_str()), labels),
        }
    }

    fn row(&self, c: &Case, rates: (&Rates, &Rates, &Rates)) -> [f64; 11] {
        let unit_value = (c.quantity > 0.0).then(|| c.value / c.quantity);
        [
            digits(&c.hs, 2),
            digits(&c.hs, 4),
            (c.value.max(0.0) + 1.0).ln(),
            unit_value.map_or(f64::NAN, |u| (u + 1.0).ln()),
            match (unit_value, c.reference_unit_value) {
                (Some(u), Some(r)) if r > 0.0 => u / r,
                _ => f64::NAN,
            },
            rank(&CLASSES, &c.credit_class),
            rank(&FLOWS, &c.flow),
            self.origin_frequency.get(&c.origin).copied().unwrap_or(0.0),
            rates.0.rate(&c.enterprise, self.prior),
            rates.1.rate(hs6(&c.hs), self.prior),
            rates.2.rate(&c.origin, self.prior),
        ]
    }

    fn matrix(&self, rows: Vec<[f64; 11]>) -> FeatureMatrix {
        let columns: Vec<Vec<f64>> = (0..PLATFORM_FEATURES.len())
            .map(|c| rows.iter().map(|r| r[c]).collect())
            .collect();
        FeatureMatrix::from_columns(&columns, rows.len())
    }

    /// Features of new cases, encoded with everything training saw.
    pub fn transform(&self, cases: &[Case]) -> FeatureMatrix {
        let rates = (&self.enterprise, &self.hs6, &self.origin);
        self.matrix(cases.iter().map(|c| self.row(c, rates)).collect())
    }

    /// Features of the training cases, each fold's rates fitted on the other folds.
    fn transform_out_of_fold(&self, cases: &[Case], labels: &[bool]) -> FeatureMatrix {
        let mut rows = vec![[f64::NAN; 11]; cases.len()];
        for fold in 0..FOLDS {
            let (mut rest, mut rest_labels) = (Vec::new(), Vec::new());
            for (i, (c, &y)) in cases.iter().zip(labels).enumerate() {
                if i % FOLDS != fold {
                    rest.push(c);
                    rest_labels.push(y);
                }
            }
            let enterprise = Rates::fit(rest.iter().map(|c| c.enterprise.as_str()), &rest_labels);
            let hs = Rates::fit(rest.iter().map(|c| hs6(&c.hs)), &rest_labels);
            let origin = Rates::fit(rest.iter().map(|c| c.origin.as_str()), &rest_labels);
            for (i, c) in cases.iter().enumerate().filter(|(i, _)| i % FOLDS == fold) {
                rows[i] = self.row(c, (&enterprise, &hs, &origin));
            }
        }
        self.matrix(rows)
    }
}

/// The parameters for the platform's data: far fewer rows than the customs data set, so shallow
/// trees.
pub fn platform_params() -> TrainingParams {
    TrainingParams {
        seed: 0,
        iterations: 120,
        learning_rate: 0.1,
        max_depth: 4,
        subsample: 1.0,
        colsample: 1.0,
        min_leaf_weight: 0.5,
        threads: 1,
    }
}

/// How a model did on the latest fifth of its cases, trained on the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Holdout {
    pub cases: usize,
    pub violations: usize,
    /// Area under the ROC curve (none when the holdout has one class only).
    pub auc: Option<f64>,
    /// Of the top tenth by score, the share that were violations, and the share of all violations
    /// found there.
    pub precision_at_10pct: Option<f64>,
    pub recall_at_10pct: Option<f64>,
}

#[derive(Debug)]
pub struct PlatformModel {
    features: PlatformFeatures,
    model: ForustRiskModel,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    features: PlatformFeatures,
}

impl PlatformModel {
    /// Trains on cases in time order; `violations[i]` is whether inspecting case `i` found one.
    pub fn train(
        cases: &[Case],
        violations: &[bool],
        params: &TrainingParams,
    ) -> Result<PlatformModel, RiskError> {
        if cases.len() != violations.len() {
            return Err(RiskError::LengthMismatch {
                what: "violation labels",
                expected: cases.len(),
                actual: violations.len(),
            });
        }
        let features = PlatformFeatures::fit(cases, violations);
        let matrix = features.transform_out_of_fold(cases, violations);
        let model = ForustRiskModel::train(&matrix, violations, params)?;
        Ok(PlatformModel { features, model })
    }

    /// Trains on the first four fifths and measures on the last fifth (the cases are in time
    /// order, so this is how the model would have done on what came next).
    pub fn holdout(
        cases: &[Case],
        violations: &[bool],
        params: &TrainingParams,
    ) -> Result<Holdout, RiskError> {
        let cut = cases.len() * 4 / 5;
        let model = PlatformModel::train(&cases[..cut], &violations[..cut], params)?;
        let scores = model.score(&cases[cut..]);
        Ok(holdout_metrics(&scores, &violations[cut..]))
    }

    pub fn score(&self, cases: &[Case]) -> Vec<f64> {
        self.model.score(&self.features.transform(cases))
    }

    /// Every feature's push on the log-odds of one case, largest first.
    pub fn explain(&self, case: &Case) -> Vec<FeatureContribution> {
        let matrix = self.features.transform(std::slice::from_ref(case));
        ranked_contributions(&self.model, &matrix, &PLATFORM_FEATURES)
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, RiskError> {
        frame(
            &Header {
                format: 1,
                features: self.features.clone(),
            },
            &self.model,
        )
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PlatformModel, RiskError> {
        let (header, model): (Header, _) = unframe(bytes)?;
        if header.format != 1 {
            return Err(RiskError::ModelBytes(format!(
                "format {} is not the supported 1",
                header.format
            )));
        }
        Ok(PlatformModel {
            features: header.features,
            model: ForustRiskModel::from_bytes(model)?,
        })
    }
}

fn holdout_metrics(scores: &[f64], violations: &[bool]) -> Holdout {
    let positives = violations.iter().filter(|&&v| v).count();
    let negatives = violations.len() - positives;
    // AUC as the share of (violation, compliant) pairs ordered right, ties counting half.
    let auc = (positives > 0 && negatives > 0).then(|| {
        let mut right = 0.0;
        for (i, _) in violations.iter().enumerate().filter(|(_, v)| **v) {
            for (j, _) in violations.iter().enumerate().filter(|(_, v)| !**v) {
                right += match scores[i].total_cmp(&scores[j]) {
                    std::cmp::Ordering::Greater => 1.0,
                    std::cmp::Ordering::Equal => 0.5,
                    std::cmp::Ordering::Less => 0.0,
                };
            }
        }
        right / (positives * negatives) as f64
    });
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let top = scores.len().div_ceil(10);
    let found = order[..top].iter().filter(|&&i| violations[i]).count();
    Holdout {
        cases: scores.len(),
        violations: positives,
        auc,
        precision_at_10pct: (top > 0).then(|| found as f64 / top as f64),
        recall_at_10pct: (positives > 0).then(|| found as f64 / positives as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Enterprise "X" undervalues computers; everyone else is compliant.
    fn history(n: usize) -> (Vec<Case>, Vec<bool>) {
        let mut cases = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let bad = i % 4 == 0;
            cases.push(Case {
                hs: if bad { "84713000" } else { "02023000" }.to_owned(),
                origin: if i % 3 == 0 { "CN" } else { "AR" }.to_owned(),
                enterprise: if bad {
                    "X".to_owned()
                } else {
                    format!("E{}", i % 7)
                },
                credit_class: "general".to_owned(),
                flow: "first_line_import".to_owned(),
                value: if bad { 1000.0 } else { 9000.0 + i as f64 },
                quantity: 2.0,
                reference_unit_value: Some(4500.0),
            });
            labels.push(bad);
        }
        (cases, labels)
    }

    #[test]
    fn learns_a_pattern_and_explains_it() {
        let (cases, labels) = history(200);
        let model = PlatformModel::train(&cases, &labels, &platform_params()).expect("trains");
        let scores = model.score(&cases[..8]);
        assert!(scores[0] > 0.8 && scores[1] < 0.2, "{scores:?}");
        let why = model.explain(&cases[0]);
        assert_eq!(why.len(), PLATFORM_FEATURES.len());
        assert!(why[0].contribution > 0.0, "{why:?}");
        let holdout = PlatformModel::holdout(&cases, &labels, &platform_params()).expect("holdout");
        assert_eq!((holdout.cases, holdout.violations), (40, 10));
        assert_eq!(holdout.auc, Some(1.0));
    }

    #[test]
    fn bytes_round_trip_to_the_same_scores() {
        let (cases, labels) = history(100);
        let model = PlatformModel::train(&cases, &labels, &platform_params()).expect("trains");
        let bytes = model.to_bytes().expect("bytes");
        let back = PlatformModel::from_bytes(&bytes).expect("reads");
        assert_eq!(model.score(&cases), back.score(&cases));
        assert_eq!(
            back.to_bytes().expect("bytes"),
            bytes,
            "same data and seed, same bytes"
        );
    }

    #[test]
    fn out_of_fold_encoding_keeps_a_row_from_seeing_its_own_label() {
        // One enterprise with one case: its own encoding must be the prior, not its label.
        let (mut cases, mut labels) = history(50);
        cases.push(Case {
            enterprise: "LONE".to_owned(),
            ..cases[1].clone()
        });
        labels.push(true);
        let f = PlatformFeatures::fit(&cases, &labels);
        let m = f.transform_out_of_fold(&cases, &labels);
        let row = m.row(cases.len() - 1);
        let enterprise_rate = row[8];
        assert!(
            (enterprise_rate - f.prior).abs() < 0.05,
            "{enterprise_rate} vs {}",
            f.prior
        );
    }
}
