//! Offline research on the Customs Import Declaration data set: its declarations (not the
//! platform's — see `freeport_core::declaration`), the features and boosted trees fitted on them,
//! and the data set's own evaluation protocol. Nothing here is in a live decision's path; live
//! selectivity is `crate::selectivity`, and the model the platform trains on its own inspection
//! results is `crate::platform_model`.
//!
//! - [`dataset`] reads the data set into typed declarations.
//! - [`features`] turns declarations into numbers, fitted on training declarations only.
//! - [`engine`] ties features and model together for training, scoring, explaining, storing.
//! - [`evaluate`] measures precision and recall at inspection rates, over seeds.

pub mod dataset;
pub mod engine;
pub mod evaluate;
pub mod features;

pub use dataset::{
    Declaration, Hs6, InspectedDeclaration, InspectionOutcome, parse_inspected_declarations,
};
pub use engine::{FeatureContribution, RiskEngine};
pub use evaluate::{EvaluationReport, evaluate_declarations, evaluate_protocol, inspect_top};

/// The inspection rates the data set's protocol reports.
pub const PROTOCOL_RATES: [f64; 4] = [0.01, 0.02, 0.05, 0.10];
