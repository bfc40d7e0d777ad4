//! Back-testing a rule set on inspected history: what each rule would have sent to inspection,
//! what that inspection would have found, and which rules find nothing.
//!
//! The yield is a proxy, as the data carries no assessed revenue: the duty on the declared value of
//! the frauds a rule hits (value × duty rate). The report says so.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::rules::{Evaluation, Facts, RuleSet};

/// One inspected line of history: its facts, whether inspection found fraud, and the revenue
/// proxy it stands for.
pub struct HistoricalLine<'a> {
    pub facts: Facts<'a>,
    pub fraud: bool,
    pub revenue_proxy: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleBacktest {
    pub rule: String,
    pub owner: String,
    /// Lines the rule fired on, and that share of all lines (the inspection load it adds).
    pub hits: u64,
    pub load: f64,
    /// Of its hits, the frauds: the rule's hit rate.
    pub frauds: u64,
    pub hit_rate: Option<f64>,
    pub yield_proxy: Decimal,
    /// Fired, but never on a fraud: a candidate for retirement.
    pub no_yield: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    pub rule_set: String,
    pub version: u32,
    pub lines: u64,
    pub frauds: u64,
    /// Lines any rule fired on, the frauds among them, and that share of all frauds.
    pub hit_lines: u64,
    pub hit_frauds: u64,
    pub fraud_recall: Option<f64>,
    pub rules: Vec<RuleBacktest>,
}

/// Runs every rule over the history.
pub fn backtest<'a>(
    set: &RuleSet,
    history: impl IntoIterator<Item = HistoricalLine<'a>>,
) -> BacktestReport {
    let mut per_rule = vec![(0u64, 0u64, Decimal::ZERO); set.rules.len()];
    let (mut lines, mut frauds, mut hit_lines, mut hit_frauds) = (0u64, 0u64, 0u64, 0u64);
    let mut out = Evaluation::default();
    for h in history {
        lines += 1;
        frauds += u64::from(h.fraud);
        set.evaluate_into(&h.facts, &mut out);
        if !out.hits.is_empty() {
            hit_lines += 1;
            hit_frauds += u64::from(h.fraud);
        }
        for &r in &out.hits {
            let entry = &mut per_rule[r];
            entry.0 += 1;
            if h.fraud {
                entry.1 += 1;
                entry.2 += h.revenue_proxy;
            }
        }
    }
    let share = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    BacktestReport {
        rule_set: set.name.clone(),
        version: set.version,
        lines,
        frauds,
        hit_lines,
        hit_frauds,
        fraud_recall: share(hit_frauds, frauds),
        rules: set
            .rules
            .iter()
            .zip(per_rule)
            .map(|(rule, (hits, f, y))| RuleBacktest {
                rule: rule.id.clone(),
                owner: rule.owner.clone(),
                hits,
                load: share(hits, lines).unwrap_or(0.0),
                frauds: f,
                hit_rate: share(f, hits),
                yield_proxy: y,
                no_yield: hits > 0 && f == 0,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::rules::parse_rule_set;

    fn line(hs: &'static str, fraud: bool) -> HistoricalLine<'static> {
        HistoricalLine {
            facts: Facts {
                hs,
                origin: "CN",
                departure: None,
                enterprise: "E",
                declarant: None,
                seller: None,
                credit_class: "general",
                line: "first",
                flow: "first_line_import",
                port: None,
                declared_on: date!(2026 - 01 - 05),
                value: Decimal::from(100),
                quantity: Decimal::ONE,
                reference_unit_value: None,
                tax_rate: None,
            },
            fraud,
            revenue_proxy: Decimal::from(10),
        }
    }

    #[test]
    fn hits_hit_rates_yield_and_the_rules_that_find_nothing() {
        let set = parse_rule_set(
            "ruleset \"b\" version 1
             rule \"FINDS\" title \"t\" owner \"a\" when hs in prefix(\"02\") then score 1 end
             rule \"NOTHING\" title \"t\" owner \"b\" when hs in prefix(\"84\") then score 1 end
             rule \"SILENT\" title \"t\" owner \"c\" when hs in prefix(\"99\") then score 1 end",
        )
        .expect("parses");
        let history = vec![
            line("0202", true),
            line("0202", true),
            line("0201", false),
            line("8471", false),
            line("8517", true),
        ];
        let r = backtest(&set, history);
        assert_eq!((r.lines, r.frauds, r.hit_lines, r.hit_frauds), (5, 3, 4, 2));
        assert_eq!(r.fraud_recall, Some(2.0 / 3.0));
        let finds = &r.rules[0];
        assert_eq!((finds.hits, finds.frauds), (3, 2));
        assert_eq!(finds.hit_rate, Some(2.0 / 3.0));
        assert_eq!(finds.yield_proxy, Decimal::from(20));
        assert!(!finds.no_yield);
        assert!(r.rules[1].no_yield, "fired once, found nothing");
        assert!(!r.rules[2].no_yield, "never fired: no evidence either way");
        assert_eq!(r.rules[2].hit_rate, None);
    }
}
