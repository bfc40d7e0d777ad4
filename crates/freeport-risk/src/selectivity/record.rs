//! The risk record: what a lane was chosen from, kept with the declaration so that the choice can
//! be explained to the declarant, replayed by a back-test and learned from by the retrainer.
//!
//! It is stored as JSON and read back into this type; a record that does not read is an error for
//! whoever needs it (fail closed), never an empty record.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lanes::LaneReason;
use crate::rules::{Action, Lane};

use super::LineFacts;

/// The lane under the active rule set, the score and hits behind it, the model's opinion, the
/// shadow set's opinion beside it, and the line facts every rule saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskRecord {
    pub rule_set: String,
    pub rule_set_version: u32,
    /// None for the rule file bundled with the pack, before any set was activated.
    pub rule_set_sha256: Option<String>,
    pub credit_class: String,
    /// The rules' points plus the model's.
    pub score: Decimal,
    pub lane: Lane,
    pub reason: LaneReason,
    /// The declaration's uniform draw in [0, 1), compared with `random_share`.
    pub draw: f64,
    pub random_share: f64,
    pub hits: Vec<RuleHit>,
    pub alerts: Vec<String>,
    pub model: Option<ModelOpinion>,
    pub shadow: Option<ShadowOpinion>,
    pub facts: Vec<LineFacts>,
}

/// A rule that fired on one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleHit {
    /// The line's index in the declaration.
    pub line: usize,
    pub rule: String,
    pub title: String,
    pub owner: String,
    pub actions: Vec<Action>,
}

/// The learned model's view of the riskiest line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelOpinion {
    pub model_sha256: String,
    pub line: usize,
    /// The probability of a violation, to four decimals.
    pub probability: Decimal,
    /// What the probability added to the score.
    pub points: Decimal,
    /// The features that pushed the probability most, largest first.
    pub contributions: Vec<Contribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: String,
    /// The line's value of the feature; none where it is missing.
    pub value: Option<f64>,
    /// Its push on the log-odds of a violation, to four decimals.
    pub contribution: f64,
}

/// What the rule set in shadow would have chosen, recorded and never obeyed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowOpinion {
    pub rule_set: String,
    pub rule_set_version: u32,
    pub rule_set_sha256: String,
    pub score: Decimal,
    pub lane: Lane,
    pub reason: LaneReason,
    pub hits: Vec<RuleHit>,
}

impl RiskRecord {
    /// The rule ids the active set fired, once each.
    pub fn active_rules(&self) -> Vec<String> {
        rule_ids(&self.hits)
    }

    /// The rule ids the shadow set fired, once each; none without a shadow set.
    pub fn shadow_rules(&self) -> Vec<String> {
        self.shadow
            .as_ref()
            .map_or_else(Vec::new, |s| rule_ids(&s.hits))
    }
}

fn rule_ids(hits: &[RuleHit]) -> Vec<String> {
    let mut ids: Vec<String> = hits.iter().map(|h| h.rule.clone()).collect();
    ids.sort();
    ids.dedup();
    ids
}
