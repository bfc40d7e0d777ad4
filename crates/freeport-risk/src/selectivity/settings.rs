//! The selectivity settings a zone chooses: lane rates, fixed score thresholds, how much the learned
//! model counts, the value reference's window and the flow-spike bars. Data, read from a TOML file
//! beside the rule file (`risk/lanes.toml`), never literals in the code that uses them.

use serde::Deserialize;

use crate::early_warning::SpikeThreshold;
use crate::lanes::Thresholds;

/// The file shipped with the Hainan pack.
pub const BUNDLED_SETTINGS: &str = include_str!("../../../../risk/lanes.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectivitySettings {
    pub rates: Rates,
    pub thresholds: ScoreThresholds,
    pub model: ModelWeight,
    pub value_reference: ValueReference,
    pub flow_spike: FlowSpike,
    pub proxy_buying: ProxyBuying,
}

/// When duty-free buying looks like buying for others (R4.8).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyBuying {
    /// Distinct departures one buyer bought for within the window, this sale's included.
    pub departures: u16,
    pub window_days: u16,
    /// The ring detector's thresholds.
    pub rings: crate::proxy::RingSettings,
}

/// Expected lane shares for an enterprise under regular measures, and the certified factor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    pub random_red: f64,
    pub red: f64,
    pub yellow: f64,
    pub blue: f64,
    /// The factor on the regular shares for `certified` enterprises.
    pub certified_factor: f64,
}

/// Rule-and-model score thresholds used until there is history to calibrate on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreThresholds {
    pub red: f64,
    pub yellow: f64,
    pub blue: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelWeight {
    /// Score points per unit of violation probability.
    pub points_per_probability: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueReference {
    /// Days before the declaration day the mean unit value is taken over.
    pub window_days: u16,
    /// Lines of the same code and unit needed before the reference exists.
    pub min_lines: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpike {
    /// Flows watched, by their wire names (`second_line_exit`, ...).
    pub watched_flows: Vec<String>,
    pub baseline_days: u16,
    pub sigmas: f64,
    pub min_count: u64,
    pub min_ratio: f64,
}

/// A settings file that does not read: what is wrong, for the operator.
#[derive(Debug, thiserror::Error)]
#[error("selectivity settings: {0}")]
pub struct SettingsError(String);

impl SelectivitySettings {
    /// Reads and checks a settings file: every share a fraction, the shares not over one, the
    /// thresholds descending.
    pub fn parse(text: &str) -> Result<SelectivitySettings, SettingsError> {
        let s: SelectivitySettings =
            toml::from_str(text).map_err(|e| SettingsError(e.to_string()))?;
        let r = &s.rates;
        let shares = [r.random_red, r.red, r.yellow, r.blue, r.certified_factor];
        if shares.iter().any(|x| !(0.0..=1.0).contains(x)) {
            return Err(SettingsError("every rate is between 0 and 1".into()));
        }
        if r.red + r.yellow + r.blue > 1.0 || r.random_red > r.red {
            return Err(SettingsError(
                "red, yellow and blue add up to at most 1, and the random share lies within red"
                    .into(),
            ));
        }
        let t = &s.thresholds;
        if !(t.red >= t.yellow && t.yellow >= t.blue && t.blue >= 0.0) {
            return Err(SettingsError(
                "thresholds descend: red ≥ yellow ≥ blue ≥ 0".into(),
            ));
        }
        if s.flow_spike.baseline_days == 0
            || s.value_reference.window_days == 0
            || s.proxy_buying.window_days == 0
            || s.proxy_buying.departures < 2
        {
            return Err(SettingsError(
                "windows are at least one day, and proxy buying needs two departures or more"
                    .into(),
            ));
        }
        Ok(s)
    }

    pub fn fixed_thresholds(&self) -> Thresholds {
        Thresholds {
            red: self.thresholds.red,
            yellow: self.thresholds.yellow,
            blue: self.thresholds.blue,
        }
    }

    pub fn spike_threshold(&self) -> SpikeThreshold {
        let f = &self.flow_spike;
        SpikeThreshold {
            baseline_days: usize::from(f.baseline_days),
            sigmas: f.sigmas,
            min_count: f.min_count,
            min_ratio: f.min_ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_settings_read_and_bad_ones_are_refused() {
        let s = SelectivitySettings::parse(BUNDLED_SETTINGS).expect("the bundled settings read");
        assert_eq!(s.flow_spike.watched_flows, ["second_line_exit"]);
        assert_eq!(s.model.points_per_probability, 100);
        let swapped = BUNDLED_SETTINGS.replace("red = 40", "red = 5");
        assert!(SelectivitySettings::parse(&swapped).is_err());
        let too_much = BUNDLED_SETTINGS.replace("yellow = 0.05", "yellow = 0.99");
        assert!(SelectivitySettings::parse(&too_much).is_err());
        let unknown = format!("{BUNDLED_SETTINGS}\n[extra]\nx = 1\n");
        assert!(SelectivitySettings::parse(&unknown).is_err());
    }
}
