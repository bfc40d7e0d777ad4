//! Live selectivity: the lane a decided declaration takes, and the record that explains it.
//!
//! One assessment serves every caller: the server on each declaration, the back-test replaying
//! history under a proposed rule set, and `freeport risk bench`. It is pure: the caller reads the
//! line facts' inputs (credit class, value references, flow history) before it decides, and
//! passes them in.
//!
//! The active rule set is the store's (activated by an analyst) or, before any, the bundled file.
//! A rule set in shadow is evaluated beside it on every declaration and recorded, never obeyed.
//! Once an analyst has trained a model on the platform's own inspection results, its probability
//! for the riskiest line adds to the rules' score and its largest feature contributions are kept
//! in the record.

mod alerts;
mod assess;
mod facts;
mod record;
mod settings;

use std::sync::Arc;

use freeport_core::pack::PolicyPack;
use rust_decimal::Decimal;

use crate::lanes::{Calibration, ClassRates, LanePolicy};
use crate::platform_model::PlatformModel;
use crate::rules::{RuleError, RuleSet, parse_rule_set};

pub use alerts::{RaisedAlert, rule_alerts, spike_alerts, spike_headings};
pub use assess::{Assessment, assess, lane_of};
pub use facts::{
    DeclaredHistory, LineFacts, ReferenceKey, line_facts, line_of, reference_keys,
    reference_unit_value, reference_window, wire_name,
};
pub use record::{Contribution, ModelOpinion, RiskRecord, RuleHit, ShadowOpinion};
pub use settings::{BUNDLED_SETTINGS, ProxyBuying, SelectivitySettings, SettingsError};

/// The rule file shipped with the Hainan pack, used when no other is configured.
pub const BUNDLED_RULES: &str = include_str!("../../../../risk/hainan.rules");

/// What selects lanes: the bundled rules, the expected rates, the thresholds, the draw's salt and
/// the settings they came from.
#[derive(Debug, Clone)]
pub struct RiskSetup {
    pub rules: RuleSet,
    pub policy: LanePolicy,
    pub calibration: Calibration,
    pub salt: u64,
    pub settings: SelectivitySettings,
}

/// A rule file or settings file that does not read.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl RiskSetup {
    /// The given rules with the settings' lane rates, scaled per credit class by the pack's credit
    /// rules (R6.1): advanced certified enterprises at half the pack's ceiling on their ratio to
    /// the regular rate, certified at the settings' factor, dishonest ones at no less than the
    /// pack's floor, seriously dishonest always. Until there is history to calibrate on, scores
    /// meet the settings' fixed thresholds.
    pub fn new(
        rules_text: &str,
        settings: SelectivitySettings,
        pack: &PolicyPack,
        salt: u64,
    ) -> Result<RiskSetup, SetupError> {
        let rules = parse_rule_set(rules_text)?;
        let credit = pack.versions.last().map(|v| &v.credit);
        let as_f64 = |d: Decimal| f64::try_from(d).unwrap_or(0.0);
        // A pack without credit rules leaves every class at the regular rates.
        let advanced = credit.map_or(1.0, |c| as_f64(c.advanced_ratio_max));
        let dishonest = credit.map_or(0.0, |c| as_f64(c.dishonest_rate_min));
        let class = |factor, red_floor| ClassRates { factor, red_floor };
        let r = &settings.rates;
        let policy = LanePolicy {
            random_red: r.random_red,
            red: r.red,
            yellow: r.yellow,
            blue: r.blue,
            classes: [
                ("advanced_certified", class(advanced / 2.0, 0.0)),
                ("certified", class(r.certified_factor, 0.0)),
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
            calibration: Calibration::fixed(settings.fixed_thresholds()),
            salt,
            settings,
        })
    }

    /// The bundled rules and settings.
    pub fn bundled(pack: &PolicyPack, salt: u64) -> Result<RiskSetup, SetupError> {
        RiskSetup::new(
            BUNDLED_RULES,
            SelectivitySettings::parse(BUNDLED_SETTINGS)?,
            pack,
            salt,
        )
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
    pub model: Option<(Arc<PlatformModel>, String)>,
}

impl LiveRules {
    /// The bundled rules alone: before the store has anything active.
    pub fn bundled(setup: &RiskSetup) -> LiveRules {
        LiveRules {
            active: setup.rules.clone(),
            active_sha256: None,
            shadow: None,
            model: None,
        }
    }
}
