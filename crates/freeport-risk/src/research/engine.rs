//! Features and model together: what a caller trains, stores, and asks for scores and reasons.

use serde::{Deserialize, Serialize};

use crate::RiskError;
use crate::model::{ForustRiskModel, RiskModel, TrainingParams};
use crate::research::dataset::{Declaration, InspectedDeclaration};
use crate::research::features::{FEATURE_NAMES, FeatureBuilder, FeatureMatrix};

/// A fitted feature builder and the model trained on its output.
#[derive(Debug)]
pub struct RiskEngine<M = ForustRiskModel> {
    features: FeatureBuilder,
    model: M,
}

/// One feature's part in a declaration's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureContribution {
    /// The feature, as named in [`FEATURE_NAMES`].
    pub feature: String,
    /// The declaration's value of it (NaN when missing or unseen in training).
    pub value: f64,
    /// Its push on the log-odds of fraud; positive raises the risk.
    pub contribution: f64,
}

/// The first row's contributions under `names`, largest push first.
pub(crate) fn ranked_contributions(
    model: &impl RiskModel,
    matrix: &FeatureMatrix,
    names: &[&str],
) -> Vec<FeatureContribution> {
    let values = matrix.row(0);
    let mut out: Vec<FeatureContribution> = model
        .contributions(matrix)
        .first()
        .into_iter()
        .flat_map(|row| row.iter().zip(names).zip(&values))
        .map(|((&contribution, feature), &value)| FeatureContribution {
            feature: (*feature).to_owned(),
            value,
            contribution,
        })
        .collect();
    out.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    out
}

/// A model stored with what its features learned: one JSON line of header, then the model's bytes.
pub(crate) fn frame(header: &impl Serialize, model: &impl RiskModel) -> Result<Vec<u8>, RiskError> {
    // Compact JSON escapes newlines inside strings, so the first newline ends the header.
    let mut bytes = serde_json::to_vec(header)?;
    bytes.push(b'\n');
    bytes.extend(model.to_bytes()?);
    Ok(bytes)
}

/// The header and the model's bytes of a [`frame`].
pub(crate) fn unframe<H: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<(H, &[u8]), RiskError> {
    let split = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| RiskError::ModelBytes("no feature header".to_owned()))?;
    let (head, model) = bytes.split_at(split);
    Ok((
        serde_json::from_slice(head)?,
        model.get(1..).unwrap_or_default(),
    ))
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    features: FeatureBuilder,
}

const FORMAT: u32 = 1;

impl<M: RiskModel> RiskEngine<M> {
    /// Fits the features on the training declarations, then the model on their outcomes.
    pub fn train(
        training: &[InspectedDeclaration],
        params: &TrainingParams,
    ) -> Result<Self, RiskError> {
        let declarations: Vec<Declaration> =
            training.iter().map(|t| t.declaration.clone()).collect();
        let frauds: Vec<bool> = training.iter().map(|t| t.outcome.is_fraud()).collect();
        let features = FeatureBuilder::fit(&declarations);
        let model = M::train(&features.transform(&declarations), &frauds, params)?;
        Ok(Self { features, model })
    }

    /// The fitted feature builder.
    pub fn features(&self) -> &FeatureBuilder {
        &self.features
    }

    /// The trained model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Estimated probability of fraud per declaration; only the declarations are read.
    pub fn score(&self, declarations: &[Declaration]) -> Vec<f64> {
        self.model.score(&self.features.transform(declarations))
    }

    /// Why a declaration scored as it did: every feature's contribution, largest push first.
    pub fn explain(&self, declaration: &Declaration) -> Vec<FeatureContribution> {
        let matrix = self.features.transform(std::slice::from_ref(declaration));
        ranked_contributions(&self.model, &matrix, &FEATURE_NAMES)
    }

    /// The engine as bytes: one JSON line for the features, then the model's own bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RiskError> {
        frame(
            &Header {
                format: FORMAT,
                features: self.features.clone(),
            },
            &self.model,
        )
    }

    /// Reads bytes written by [`RiskEngine::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RiskError> {
        let (header, model): (Header, _) = unframe(bytes)?;
        if header.format != FORMAT {
            return Err(RiskError::ModelBytes(format!(
                "format {} is not the supported {FORMAT}",
                header.format
            )));
        }
        let model = M::from_bytes(model)?;
        Ok(Self {
            features: header.features,
            model,
        })
    }
}
