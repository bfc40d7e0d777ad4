//! The learned model: a small trait, so that the boosting library can be swapped, and its
//! implementation with `forust-ml` gradient-boosted trees.

use forust_ml::gradientbooster::{ContributionsMethod, GrowPolicy};
use forust_ml::objective::ObjectiveType;
use forust_ml::sampler::SampleMethod;
use forust_ml::{GradientBooster, Matrix};
use serde::{Deserialize, Serialize};

use crate::RiskError;
use crate::research::features::FeatureMatrix;

/// How to grow the trees. The defaults were chosen on the validation split
/// (see the crate documentation); only `seed` is meant to vary between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingParams {
    /// Seeds the row and feature sampling; the same seed and data give the same model.
    pub seed: u64,
    /// Number of trees.
    pub iterations: usize,
    /// Shrinkage applied to each tree.
    pub learning_rate: f32,
    /// Depth of each tree.
    pub max_depth: usize,
    /// Share of declarations each tree sees.
    pub subsample: f32,
    /// Share of features each tree may split on.
    pub colsample: f64,
    /// Least hessian mass in a leaf; with log loss, about a quarter of the rows it holds.
    pub min_leaf_weight: f32,
    /// Worker threads; pinned, because results are reproducible only for a fixed count.
    pub threads: usize,
}

impl Default for TrainingParams {
    fn default() -> Self {
        Self {
            seed: 0,
            iterations: 300,
            learning_rate: 0.1,
            max_depth: 12,
            subsample: 0.9,
            colsample: 0.9,
            min_leaf_weight: 1.0,
            threads: 2,
        }
    }
}

/// A binary fraud model over [`FeatureMatrix`] rows.
pub trait RiskModel: Sized {
    /// Fits the model; `frauds[i]` is whether inspection of row `i` found fraud.
    fn train(
        features: &FeatureMatrix,
        frauds: &[bool],
        params: &TrainingParams,
    ) -> Result<Self, RiskError>;

    /// Estimated probability of fraud for each row.
    fn score(&self, features: &FeatureMatrix) -> Vec<f64>;

    /// Per row, each feature's contribution to the log-odds of fraud, followed by the bias;
    /// they add up to the row's log-odds.
    fn contributions(&self, features: &FeatureMatrix) -> Vec<Vec<f64>>;

    /// The fitted model as bytes, for storage.
    fn to_bytes(&self) -> Result<Vec<u8>, RiskError>;

    /// Reads bytes written by [`RiskModel::to_bytes`].
    fn from_bytes(bytes: &[u8]) -> Result<Self, RiskError>;
}

/// Gradient-boosted trees from `forust-ml`.
pub struct ForustRiskModel {
    booster: GradientBooster,
}

impl std::fmt::Debug for ForustRiskModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForustRiskModel")
            .field("trees", &self.booster.trees.len())
            .finish_non_exhaustive()
    }
}

fn matrix(features: &FeatureMatrix) -> Matrix<'_, f64> {
    Matrix::new(features.column_major(), features.rows(), features.cols())
}

fn logistic(log_odds: f64) -> f64 {
    1.0 / (1.0 + (-log_odds).exp())
}

impl ForustRiskModel {
    fn parallel(&self) -> bool {
        self.booster.num_threads.is_some_and(|n| n > 1)
    }
}

impl RiskModel for ForustRiskModel {
    fn train(
        features: &FeatureMatrix,
        frauds: &[bool],
        params: &TrainingParams,
    ) -> Result<Self, RiskError> {
        if frauds.len() != features.rows() {
            return Err(RiskError::LengthMismatch {
                what: "fraud labels",
                expected: features.rows(),
                actual: frauds.len(),
            });
        }
        if features.rows() == 0 {
            return Err(RiskError::EmptySet("training"));
        }
        let y: Vec<f64> = frauds.iter().map(|&f| if f { 1.0 } else { 0.0 }).collect();
        let sampled = params.subsample < 1.0;
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::LogLoss)
            .set_iterations(params.iterations)
            .set_learning_rate(params.learning_rate)
            .set_max_depth(params.max_depth)
            .set_min_leaf_weight(params.min_leaf_weight)
            .set_sample_method(if sampled {
                SampleMethod::Random
            } else {
                SampleMethod::None
            })
            .set_subsample(params.subsample)
            .set_colsample_bytree(params.colsample)
            .set_seed(params.seed)
            .set_parallel(params.threads > 1)
            .set_num_threads(Some(params.threads.max(1)))
            // Row-wise histograms are faster here and add up the same way for any thread count.
            .set_tiled_histograms(true);
        booster.grow_policy = GrowPolicy::DepthWise;
        booster
            .fit_unweighted(&matrix(features), &y, None)
            .map_err(|e| RiskError::Model(e.to_string()))?;
        Ok(Self { booster })
    }

    fn score(&self, features: &FeatureMatrix) -> Vec<f64> {
        let parallel = self.parallel();
        self.booster
            .predict(&matrix(features), parallel)
            .into_iter()
            .map(logistic)
            .collect()
    }

    fn contributions(&self, features: &FeatureMatrix) -> Vec<Vec<f64>> {
        let flat = self.booster.predict_contributions(
            &matrix(features),
            ContributionsMethod::Shapley,
            self.parallel(),
        );
        flat.chunks(features.cols() + 1)
            .map(<[f64]>::to_vec)
            .collect()
    }

    fn to_bytes(&self) -> Result<Vec<u8>, RiskError> {
        self.booster
            .json_dump()
            .map(String::into_bytes)
            .map_err(|e| RiskError::ModelBytes(e.to_string()))
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, RiskError> {
        let text = std::str::from_utf8(bytes).map_err(|e| RiskError::ModelBytes(e.to_string()))?;
        let booster =
            GradientBooster::from_json(text).map_err(|e| RiskError::ModelBytes(e.to_string()))?;
        Ok(Self { booster })
    }
}
