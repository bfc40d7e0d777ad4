//! What inspections taught: per rule and per period, how often it selected, how many of its
//! selections were inspected, what those found and what revenue they recovered; and the rules
//! that cost inspections and find nothing, flagged for retirement.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

/// One assessed declaration and what became of it.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// The period it counts in (e.g. `2026-03`).
    pub period: &'a str,
    /// Rules that fired on it.
    pub rules: &'a [String],
    pub inspected: bool,
    pub violation: bool,
    pub revenue_found: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RulePeriod {
    pub period: String,
    /// Declarations the rule fired on.
    pub hits: u64,
    /// Of those, inspected: the load the rule put on inspectors.
    pub inspections: u64,
    /// Its share of every inspection in the period.
    pub load: f64,
    /// Inspections that found a violation, and that share of its inspections.
    pub findings: u64,
    pub hit_rate: Option<f64>,
    pub revenue_found: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePerformance {
    pub rule: String,
    pub periods: Vec<RulePeriod>,
    pub total: RulePeriod,
    /// Why the rule should be retired, when it should.
    pub retire: Option<String>,
}

/// Per rule, period by period. A rule is flagged for retirement once at least `min_inspections`
/// of its hits were inspected and together recovered no revenue.
pub fn rule_performance<'a>(
    outcomes: impl IntoIterator<Item = Outcome<'a>>,
    min_inspections: u64,
) -> Vec<RulePerformance> {
    let mut inspections_in: BTreeMap<String, u64> = BTreeMap::new();
    let mut cells: BTreeMap<String, BTreeMap<String, RulePeriod>> = BTreeMap::new();
    for o in outcomes {
        *inspections_in.entry(o.period.to_owned()).or_default() += u64::from(o.inspected);
        for rule in o.rules {
            let cell = cells
                .entry(rule.clone())
                .or_default()
                .entry(o.period.to_owned())
                .or_insert_with(|| RulePeriod {
                    period: o.period.to_owned(),
                    ..RulePeriod::default()
                });
            cell.hits += 1;
            if o.inspected {
                cell.inspections += 1;
                cell.findings += u64::from(o.violation);
                cell.revenue_found += o.revenue_found;
            }
        }
    }
    let all_inspections: u64 = inspections_in.values().sum();
    cells
        .into_iter()
        .map(|(rule, periods)| {
            let mut total = RulePeriod {
                period: "total".to_owned(),
                ..RulePeriod::default()
            };
            let periods: Vec<RulePeriod> = periods
                .into_values()
                .map(|mut p| {
                    total.hits += p.hits;
                    total.inspections += p.inspections;
                    total.findings += p.findings;
                    total.revenue_found += p.revenue_found;
                    p.load = share(p.inspections, inspections_in[&p.period]).unwrap_or(0.0);
                    p.hit_rate = share(p.findings, p.inspections);
                    p
                })
                .collect();
            total.load = share(total.inspections, all_inspections).unwrap_or(0.0);
            total.hit_rate = share(total.findings, total.inspections);
            let retire = (total.inspections >= min_inspections && total.revenue_found.is_zero())
                .then(|| {
                    format!(
                        "{} inspections of its hits recovered no revenue ({} findings)",
                        total.inspections, total.findings
                    )
                });
            RulePerformance {
                rule,
                periods,
                total,
                retire,
            }
        })
        .collect()
}

fn share(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn counts_per_rule_and_period_with_load_against_all_inspections() {
        let a = rules(&["VAL-001"]);
        let ab = rules(&["VAL-001", "SEC-001"]);
        let none = rules(&[]);
        let outcomes = vec![
            Outcome {
                period: "2026-01",
                rules: &a,
                inspected: true,
                violation: true,
                revenue_found: Decimal::from(500),
            },
            Outcome {
                period: "2026-01",
                rules: &ab,
                inspected: true,
                violation: false,
                revenue_found: Decimal::ZERO,
            },
            Outcome {
                period: "2026-01",
                rules: &none,
                inspected: true,
                violation: false,
                revenue_found: Decimal::ZERO,
            },
            Outcome {
                period: "2026-01",
                rules: &a,
                inspected: false,
                violation: false,
                revenue_found: Decimal::ZERO,
            },
            Outcome {
                period: "2026-02",
                rules: &ab,
                inspected: true,
                violation: false,
                revenue_found: Decimal::ZERO,
            },
        ];
        let report = rule_performance(outcomes, 2);
        let val = report
            .iter()
            .find(|r| r.rule == "VAL-001")
            .expect("VAL-001");
        let jan = &val.periods[0];
        assert_eq!((jan.hits, jan.inspections, jan.findings), (3, 2, 1));
        assert_eq!(jan.load, 2.0 / 3.0, "two of January's three inspections");
        assert_eq!(jan.hit_rate, Some(0.5));
        assert_eq!(jan.revenue_found, Decimal::from(500));
        assert_eq!(val.total.inspections, 3);
        assert_eq!(val.total.load, 3.0 / 4.0);
        assert_eq!(val.retire, None);
        let sec = report
            .iter()
            .find(|r| r.rule == "SEC-001")
            .expect("SEC-001");
        assert_eq!(sec.periods.len(), 2);
        assert_eq!(sec.total.hit_rate, Some(0.0));
        assert!(
            sec.retire
                .as_deref()
                .is_some_and(|r| r.starts_with("2 inspections"))
        );
    }

    #[test]
    fn too_few_inspections_never_retire_a_rule() {
        let a = rules(&["NEW-001"]);
        let outcomes = vec![Outcome {
            period: "2026-03",
            rules: &a,
            inspected: true,
            violation: false,
            revenue_found: Decimal::ZERO,
        }];
        assert_eq!(rule_performance(outcomes, 2)[0].retire, None);
    }
}
