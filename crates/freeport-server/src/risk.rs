//! The selectivity lane of a decided declaration: the active rule set over its lines, the
//! declarant's credit class, and a draw derived from the declaration.
//!
//! The learned model is not in this path yet: it is trained on the Korean data set's fields, which
//! live declarations do not carry, so live scores are the rules' until a model is trained on the
//! platform's own inspection results.

use freeport_core::decision::Decision;
use freeport_core::declaration::{Declaration, Flow};
use freeport_core::pack::PolicyPack;
use freeport_risk::lanes::{
    Calibration, ClassRates, LaneChoice, LanePolicy, Thresholds, choose_lane, draw,
};
use freeport_risk::rules::{Evaluation, Facts, Lane, RuleError, RuleSet, parse_rule_set};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The rule file shipped with the binary, used when no other is configured.
pub const BUNDLED_RULES: &str = include_str!("../../../risk/hainan.rules");

/// What selects lanes: the active rules, the expected rates, the thresholds and the draw's salt.
#[derive(Debug, Clone)]
pub struct RiskSetup {
    pub rules: RuleSet,
    pub policy: LanePolicy,
    pub calibration: Calibration,
    pub salt: u64,
}

impl RiskSetup {
    /// The given rules with lane rates from the pack's credit rules (R6.1): advanced certified
    /// enterprises at half the pack's ceiling on their ratio to the regular rate, certified at half
    /// the regular rate, dishonest ones at no less than the pack's floor, seriously dishonest always.
    /// Until there is history to calibrate on, rule scores meet fixed thresholds.
    pub fn new(rules_text: &str, pack: &PolicyPack, salt: u64) -> Result<RiskSetup, RuleError> {
        let rules = parse_rule_set(rules_text)?;
        let credit = pack.versions.last().map(|v| &v.credit);
        let as_f64 = |d: Decimal| f64::try_from(d).unwrap_or(0.0);
        let advanced = credit.map_or(0.2, |c| as_f64(c.advanced_ratio_max));
        let dishonest = credit.map_or(0.8, |c| as_f64(c.dishonest_rate_min));
        let class = |factor, red_floor| ClassRates { factor, red_floor };
        let policy = LanePolicy {
            random_red: 0.005,
            red: 0.03,
            yellow: 0.05,
            blue: 0.02,
            classes: [
                ("advanced_certified", class(advanced / 2.0, 0.0)),
                ("certified", class(0.5, 0.0)),
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
            calibration: Calibration::fixed(Thresholds {
                red: 40.0,
                yellow: 20.0,
                blue: 10.0,
            }),
            salt,
        })
    }
}

/// A lane chosen, with the record that explains it.
pub(crate) struct Assessment {
    pub(crate) lane: Lane,
    pub(crate) record: Value,
}

fn line_of(flow: Flow) -> &'static str {
    match flow {
        Flow::FirstLineImport | Flow::FirstLineExport => "first",
        Flow::SecondLineExit | Flow::SecondLineEntry => "second",
        Flow::IslandTransfer | Flow::Processing => "island",
    }
}

/// Evaluates the rules over every line; the declaration takes its riskiest line's score and the
/// most intrusive lane any rule asked for.
pub(crate) fn assess(
    setup: &RiskSetup,
    d: &Declaration,
    decision: &Decision<'_>,
    credit_class: &str,
    declaration_id: &str,
) -> Assessment {
    let flow = crate::wire_name(d.flow);
    let mut score = Decimal::ZERO;
    let mut floor: Option<Lane> = None;
    let mut hits = Vec::new();
    let mut alerts = Vec::new();
    let mut out = Evaluation::default();
    for (i, line) in d.lines.iter().enumerate() {
        let facts = Facts {
            hs: line.hs_code.as_str(),
            origin: line.origin.as_str(),
            departure: None,
            enterprise: d.declarant.as_str(),
            declarant: None,
            seller: None,
            credit_class,
            line: line_of(d.flow),
            flow: &flow,
            port: None,
            declared_on: d.declared_on,
            value: decision
                .lines
                .get(i)
                .map_or(Decimal::ZERO, |l| l.customs_value.amount()),
            quantity: line.quantities.first().map_or(Decimal::ZERO, |q| q.value),
            reference_unit_value: None,
            tax_rate: None,
        };
        setup.rules.evaluate_into(&facts, &mut out);
        score = score.max(out.score);
        floor = floor.max(out.lane);
        for r in &out.hits {
            let rule = &setup.rules.rules[*r];
            hits.push(json!({ "line": i, "rule": rule.id, "title": rule.title, "owner": rule.owner, "actions": rule.actions }));
        }
        alerts.extend(out.alerts.iter().cloned());
    }
    let drawn = draw(declaration_id, setup.salt);
    let LaneChoice { lane, reason } = choose_lane(
        &setup.policy,
        &setup.calibration,
        credit_class,
        f64::try_from(score).unwrap_or(0.0),
        floor,
        drawn,
    );
    Assessment {
        lane,
        record: json!({
            "rule_set": setup.rules.name,
            "rule_set_version": setup.rules.version,
            "credit_class": credit_class,
            "score": score.to_string(),
            "lane": lane,
            "reason": reason,
            "draw": drawn,
            "random_share": setup.policy.random_share(credit_class),
            "hits": hits,
            "alerts": alerts,
        }),
    }
}
