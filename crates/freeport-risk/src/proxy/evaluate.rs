//! The detector measured on a generated island: per injected shape, recall (of its buyers, how many
//! are flagged) and precision (of the buyers flagged with that shape's signal, how many truly are of
//! it), and the false-positive rate over ordinary buyers; beside the platform's earlier rule (one
//! buyer buying for three departures within 30 days) and a random pick flagging as many.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::generate::{Island, Shape};
use super::{Findings, RingSettings, Sale};

#[derive(Debug, Clone, Serialize)]
pub struct ShapeScore {
    pub shape: &'static str,
    pub buyers: usize,
    pub recall: f64,
    pub precision: f64,
    /// The earlier rule's recall on this shape.
    pub baseline_recall: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub buyers: usize,
    pub ordinary: usize,
    pub flagged: usize,
    pub rings: usize,
    pub false_positive_rate: f64,
    pub shapes: Vec<ShapeScore>,
    /// The earlier rule: flagged share of ordinary buyers.
    pub baseline_false_positive_rate: f64,
    /// A random pick flagging as many buyers as the detector: its expected recall on any shape.
    pub random_recall: f64,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        return 0.0;
    }
    ((a as f64 / b as f64) * 1000.0).round() / 1000.0
}

/// The rule the platform had before: a buyer who bought for `departures` distinct departure days
/// within `window_days`.
pub fn baseline(sales: &[Sale], departures: usize, window_days: i64) -> BTreeSet<String> {
    let mut by: BTreeMap<&str, Vec<time::Date>> = BTreeMap::new();
    for s in sales {
        by.entry(&s.person).or_default().push(s.departure_on);
    }
    by.into_iter()
        .filter_map(|(person, mut days)| {
            days.sort_unstable();
            days.dedup();
            let most = (0..days.len())
                .map(|i| {
                    days[i..]
                        .iter()
                        .take_while(|d| (**d - days[i]).whole_days() < window_days)
                        .count()
                })
                .max()
                .unwrap_or(0);
            (most >= departures).then(|| person.to_owned())
        })
        .collect()
}

pub fn score(island: &Island, findings: &Findings, s: &RingSettings) -> Score {
    let flagged: BTreeMap<&str, BTreeSet<&str>> = findings
        .flagged
        .iter()
        .map(|f| {
            (
                f.person.as_str(),
                f.evidence.iter().map(|e| e.name()).collect(),
            )
        })
        .collect();
    let base = baseline(&island.sales, s.round_trips, s.window_days);
    let of = |shape: Shape| -> Vec<&str> {
        island
            .truth
            .iter()
            .filter(|(_, t)| **t == shape)
            .map(|(p, _)| p.as_str())
            .collect()
    };
    let ordinary = of(Shape::Ordinary);
    let shapes = Shape::INJECTED
        .iter()
        .map(|shape| {
            let truth = of(*shape);
            let found = truth.iter().filter(|p| flagged.contains_key(**p)).count();
            let with_signal: Vec<&str> = flagged
                .iter()
                .filter(|(_, signals)| signals.contains(shape.as_str()))
                .map(|(p, _)| *p)
                .collect();
            let right = with_signal
                .iter()
                .filter(|p| island.truth.get(**p) == Some(shape))
                .count();
            ShapeScore {
                shape: shape.as_str(),
                buyers: truth.len(),
                recall: ratio(found, truth.len()),
                precision: ratio(right, with_signal.len()),
                baseline_recall: ratio(
                    truth.iter().filter(|p| base.contains(**p)).count(),
                    truth.len(),
                ),
            }
        })
        .collect();
    let everyone = island.truth.len();
    Score {
        buyers: everyone,
        ordinary: ordinary.len(),
        flagged: flagged.len(),
        rings: findings.rings.len(),
        false_positive_rate: ratio(
            ordinary
                .iter()
                .filter(|p| flagged.contains_key(**p))
                .count(),
            ordinary.len(),
        ),
        shapes,
        baseline_false_positive_rate: ratio(
            ordinary.iter().filter(|p| base.contains(**p)).count(),
            ordinary.len(),
        ),
        random_recall: ratio(flagged.len(), everyone),
    }
}
