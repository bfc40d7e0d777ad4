//! Selectivity: which lane a declaration takes.
//!
//! The lane combines four things. Rules that fired set a floor (a rule asking for `red` is never
//! overruled downwards). A random draw sends a fixed share to red whatever its score: the
//! unbiased sample that measures how much the scores miss, and that keeps the model learning.
//! The risk score, against thresholds calibrated per credit class on recent scores, fills each lane
//! to its expected rate, so the load matches the inspectors' capacity. And the credit class scales
//! the expected rates: advanced certified enterprises are inspected at under 20 % of the regular
//! rate, dishonest ones at 80 % or more (POLICY.md R6.1).
//!
//! Nothing here draws random numbers or reads a clock: the caller passes the draw, derived from the
//! declaration (see `draw`), so a decision can be replayed exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rules::Lane;

/// The share of declarations each lane should take, for enterprises under regular measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LanePolicy {
    /// Sent to red at random, whatever the score (the unbiased sample).
    pub random_red: f64,
    /// Expected shares for a `general` enterprise, random sample included in `red`.
    pub red: f64,
    pub yellow: f64,
    pub blue: f64,
    /// Per credit class: a factor on the expected shares and a floor on the red share.
    pub classes: BTreeMap<String, ClassRates>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassRates {
    pub factor: f64,
    /// The red share never goes below this (dishonest enterprises: 0.8).
    pub red_floor: f64,
}

impl LanePolicy {
    fn rates(&self, class: &str) -> ClassRates {
        self.classes.get(class).copied().unwrap_or(ClassRates {
            factor: 1.0,
            red_floor: 0.0,
        })
    }

    /// The share of a class sent to red by the draw alone: the unbiased sample, scaled by the
    /// class, and for a class with a red floor the floor itself (a dishonest enterprise is
    /// inspected at 80 % whatever any score says).
    pub fn random_share(&self, class: &str) -> f64 {
        let c = self.rates(class);
        (self.random_red * c.factor)
            .max(c.red_floor)
            .clamp(0.0, 1.0)
    }

    /// The expected (red, yellow, blue) shares of a class; an unknown class is treated as
    /// `general`.
    pub fn expected(&self, class: &str) -> (f64, f64, f64) {
        let c = self.rates(class);
        let red = (self.red * c.factor).max(c.red_floor).clamp(0.0, 1.0);
        let yellow = (self.yellow * c.factor).min(1.0 - red);
        let blue = (self.blue * c.factor).min(1.0 - red - yellow);
        (red, yellow, blue)
    }
}

/// Score thresholds of one class: at or above `red`, red; and so on down to green.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    pub red: f64,
    pub yellow: f64,
    pub blue: f64,
}

/// Per class thresholds, calibrated on recent scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub by_class: BTreeMap<String, Thresholds>,
    pub fallback: Thresholds,
}

/// The value at quantile `q` (0..1) of sorted scores: the score above which a share `1 − q` lies.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::INFINITY;
    }
    if q <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if q >= 1.0 {
        return f64::INFINITY;
    }
    let idx = ((sorted.len() as f64) * q).floor() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn thresholds(policy: &LanePolicy, class: &str, scores: &mut [f64]) -> Thresholds {
    scores.sort_by(f64::total_cmp);
    let (red, yellow, blue) = policy.expected(class);
    // The random sample takes part of the red share; scores fill the rest among the others.
    let random = policy.random_share(class);
    let rest = (1.0 - random).max(f64::MIN_POSITIVE);
    let by_score_red = ((red - random) / rest).max(0.0);
    let yellow = yellow / rest;
    let blue = blue / rest;
    Thresholds {
        red: quantile(scores, 1.0 - by_score_red),
        yellow: quantile(scores, 1.0 - by_score_red - yellow),
        blue: quantile(scores, 1.0 - by_score_red - yellow - blue),
    }
}

impl Calibration {
    /// Fixed thresholds for every class: before there is history to calibrate on.
    pub fn fixed(thresholds: Thresholds) -> Calibration {
        Calibration {
            by_class: BTreeMap::new(),
            fallback: thresholds,
        }
    }
}

/// Sets each class's thresholds so that its scores fill each lane to the expected share.
pub fn calibrate(policy: &LanePolicy, scores: &BTreeMap<String, Vec<f64>>) -> Calibration {
    let mut all: Vec<f64> = scores.values().flatten().copied().collect();
    Calibration {
        fallback: thresholds(policy, "general", &mut all),
        by_class: scores
            .iter()
            .map(|(class, s)| {
                let mut s = s.clone();
                (class.clone(), thresholds(policy, class, &mut s))
            })
            .collect(),
    }
}

/// A port's lanes calibrated on its history against its inspection capacity: the red share the
/// capacity allows on an average day, the share risk selected, and the thresholds that would fill
/// the red lane to the smaller of the policy's share and the capacity's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityCalibration {
    pub days: u32,
    pub declarations: usize,
    pub mean_per_day: f64,
    pub capacity_per_day: u32,
    /// `capacity / mean_per_day`, at most 1.
    pub capacity_share: f64,
    /// What the policy's rates expect of a `general` enterprise.
    pub policy_red_share: f64,
    /// What risk sent to red on the history (lanes as they were chosen).
    pub selected_red_share: f64,
    /// Red-lane declarations a day over the capacity at the selected share (the expected overflow).
    pub expected_overflow_per_day: f64,
    /// The policy with its red share lowered to the capacity's where that is smaller.
    pub red_share_used: f64,
    pub calibration: Calibration,
}

/// Calibrates a port's lanes on its history: `scores` by credit class, `selected_red` how many of
/// them risk sent to red, over `days` days, against `capacity` inspections a day.
pub fn calibrate_for_capacity(
    policy: &LanePolicy,
    scores: &BTreeMap<String, Vec<f64>>,
    selected_red: usize,
    days: u32,
    capacity: u32,
) -> CapacityCalibration {
    let declarations: usize = scores.values().map(Vec::len).sum();
    let mean_per_day = declarations as f64 / f64::from(days.max(1));
    let capacity_share = if mean_per_day > 0.0 {
        (f64::from(capacity) / mean_per_day).min(1.0)
    } else {
        1.0
    };
    let selected_red_share = if declarations > 0 {
        selected_red as f64 / declarations as f64
    } else {
        0.0
    };
    let red_share_used = policy.red.min(capacity_share);
    let bounded = LanePolicy {
        red: red_share_used,
        random_red: policy.random_red.min(red_share_used),
        ..policy.clone()
    };
    CapacityCalibration {
        days,
        declarations,
        mean_per_day,
        capacity_per_day: capacity,
        capacity_share,
        policy_red_share: policy.red,
        selected_red_share,
        expected_overflow_per_day: (selected_red_share * mean_per_day - f64::from(capacity))
            .max(0.0),
        red_share_used,
        calibration: calibrate(&bounded, scores),
    }
}

/// Why a declaration took its lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneReason {
    /// A rule asked for at least this lane.
    Rule,
    /// Drawn for the unbiased sample.
    Random,
    /// The risk score against the class's thresholds.
    Score,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LaneChoice {
    pub lane: Lane,
    pub reason: LaneReason,
}

/// The lane of one declaration: `score` from the model and rules, `rule_lane` the floor the rules
/// set, `draw` a uniform number in [0, 1) derived from the declaration.
pub fn choose_lane(
    policy: &LanePolicy,
    calibration: &Calibration,
    class: &str,
    score: f64,
    rule_lane: Option<Lane>,
    draw: f64,
) -> LaneChoice {
    let t = calibration
        .by_class
        .get(class)
        .unwrap_or(&calibration.fallback);
    let (lane, reason) = if draw < policy.random_share(class) {
        (Lane::Red, LaneReason::Random)
    } else if score >= t.red {
        (Lane::Red, LaneReason::Score)
    } else if score >= t.yellow {
        (Lane::Yellow, LaneReason::Score)
    } else if score >= t.blue {
        (Lane::Blue, LaneReason::Score)
    } else {
        (Lane::Green, LaneReason::Score)
    };
    match rule_lane {
        Some(floor) if floor > lane => LaneChoice {
            lane: floor,
            reason: LaneReason::Rule,
        },
        _ => LaneChoice { lane, reason },
    }
}

/// A uniform draw in [0, 1) from a declaration's id and a salt: the same declaration always
/// draws the same number, and nobody can steer it without the salt.
pub fn draw(declaration_id: &str, salt: u64) -> f64 {
    // FNV-1a, then a SplitMix64 finaliser for an even spread of the high bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in declaration_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// POLICY.md R6.1: advanced certified under 20 % of the regular rate, dishonest at least 80 %.
    fn policy() -> LanePolicy {
        let class = |factor, red_floor| ClassRates { factor, red_floor };
        LanePolicy {
            random_red: 0.005,
            red: 0.03,
            yellow: 0.05,
            blue: 0.02,
            classes: BTreeMap::from([
                ("advanced_certified".to_owned(), class(0.15, 0.0)),
                ("certified".to_owned(), class(0.5, 0.0)),
                ("general".to_owned(), class(1.0, 0.0)),
                ("dishonest".to_owned(), class(1.0, 0.8)),
            ]),
        }
    }

    /// A deterministic score for declaration `i` of a class: uniform, skewed upwards for riskier
    /// classes, so thresholds must differ by class to give each its rate.
    fn score(i: u64, class: usize) -> f64 {
        let u = draw(&i.to_string(), 77 + class as u64);
        u.powf(1.0 / (1.0 + class as f64))
    }

    const CLASSES: [&str; 4] = ["advanced_certified", "certified", "general", "dishonest"];

    #[test]
    fn realised_rates_match_the_expected_and_random_rates_per_credit_class() {
        let p = policy();
        // Calibrate on one period's scores, then select on the next period's.
        let mut history: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for i in 0..100_000u64 {
            let c = (i % 4) as usize;
            history
                .entry(CLASSES[c].to_owned())
                .or_default()
                .push(score(i, c));
        }
        let calibration = calibrate(&p, &history);
        let mut counts: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
        let mut random = 0u64;
        let n = 100_000u64;
        for i in n..2 * n {
            let c = (i % 4) as usize;
            let choice = choose_lane(
                &p,
                &calibration,
                CLASSES[c],
                score(i, c),
                None,
                draw(&format!("D{i}"), 1),
            );
            counts.entry(CLASSES[c]).or_default()[choice.lane as usize] += 1;
            random += u64::from(choice.reason == LaneReason::Random);
        }
        let per_class = (n / 4) as f64;
        for class in CLASSES {
            let (red, yellow, blue) = p.expected(class);
            let got = counts[class];
            let share = |lane: Lane| got[lane as usize] as f64 / per_class;
            // Binomial spread of a share over 25 000 declarations is at most 0.32 points; allow
            // three of it plus the quantile step.
            for (lane, expected) in [(Lane::Red, red), (Lane::Yellow, yellow), (Lane::Blue, blue)] {
                let tolerance = 3.0 * (expected * (1.0 - expected) / per_class).sqrt() + 0.001;
                assert!(
                    (share(lane) - expected).abs() <= tolerance,
                    "{class} {lane:?}: {} against {expected} ± {tolerance}",
                    share(lane)
                );
            }
        }
        // Drawn for the sample: the scaled random share of each class, and all of the dishonest
        // class's 80 % floor.
        let expected_random: f64 =
            CLASSES.iter().map(|c| p.random_share(c)).sum::<f64>() / CLASSES.len() as f64;
        let random_share = random as f64 / n as f64;
        assert!(
            (random_share - expected_random).abs() < 0.005,
            "random {random_share} against {expected_random}"
        );
        // The credit classes keep their order: advanced certified under 20 % of general,
        // dishonest at 80 % or more.
        let red = |c: &str| counts[c][Lane::Red as usize] as f64 / per_class;
        assert!(red("advanced_certified") < 0.2 * red("general"));
        assert!(red("dishonest") >= 0.8 - 0.01);
    }

    #[test]
    fn a_rule_lane_is_a_floor_and_the_random_draw_ignores_the_score() {
        let p = policy();
        let calibration = calibrate(
            &p,
            &BTreeMap::from([(
                "general".to_owned(),
                (0..1000).map(|i| i as f64 / 1000.0).collect(),
            )]),
        );
        let low = choose_lane(&p, &calibration, "general", 0.0, Some(Lane::Yellow), 0.9);
        assert_eq!(
            low,
            LaneChoice {
                lane: Lane::Yellow,
                reason: LaneReason::Rule
            }
        );
        let high = choose_lane(&p, &calibration, "general", 0.999, Some(Lane::Yellow), 0.9);
        assert_eq!(
            high,
            LaneChoice {
                lane: Lane::Red,
                reason: LaneReason::Score
            }
        );
        let drawn = choose_lane(&p, &calibration, "general", 0.0, None, 0.001);
        assert_eq!(
            drawn,
            LaneChoice {
                lane: Lane::Red,
                reason: LaneReason::Random
            }
        );
        assert_eq!(
            choose_lane(&p, &calibration, "general", 0.0, Some(Lane::Hold), 0.001).lane,
            Lane::Hold
        );
    }

    #[test]
    fn draws_are_uniform_and_repeatable() {
        assert_eq!(draw("X-1", 5), draw("X-1", 5));
        assert_ne!(draw("X-1", 5), draw("X-1", 6));
        let n = 100_000;
        let mut buckets = [0u32; 10];
        for i in 0..n {
            let d = draw(&format!("DECL-{i}"), 42);
            assert!((0.0..1.0).contains(&d));
            buckets[(d * 10.0) as usize] += 1;
        }
        for b in buckets {
            assert!((f64::from(b) - 10_000.0).abs() < 400.0, "{buckets:?}");
        }
    }

    #[test]
    fn a_port_over_capacity_lowers_its_red_share_to_what_it_can_inspect() {
        let p = policy();
        // 10 days of 100 declarations a day, scores 0..1000; risk sent 50 a day to red.
        let scores: BTreeMap<String, Vec<f64>> =
            [("general".to_owned(), (0..1000).map(f64::from).collect())].into();
        let c = calibrate_for_capacity(&p, &scores, 500, 10, 20);
        assert_eq!((c.declarations, c.mean_per_day), (1000, 100.0));
        assert!((c.capacity_share - 0.2).abs() < 1e-12);
        assert!((c.selected_red_share - 0.5).abs() < 1e-12);
        assert!((c.expected_overflow_per_day - 30.0).abs() < 1e-9);
        assert!(c.red_share_used <= p.red && c.red_share_used <= 0.2);
        // A port with room keeps the policy's share.
        let roomy = calibrate_for_capacity(&p, &scores, 10, 10, 1000);
        assert!((roomy.red_share_used - p.red).abs() < 1e-12);
        assert_eq!(roomy.expected_overflow_per_day, 0.0);
    }
}
