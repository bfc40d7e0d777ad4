//! Early warnings an accepted declaration raises: the rules' alert actions, and a spike of a
//! watched flow for a heading it declares.

use serde_json::{Value, json};
use time::Date;

use crate::early_warning::flow_spike;

use freeport_core::declaration::Declaration;

use super::{Assessment, LineFacts, SelectivitySettings, wire_name};

/// An alert to keep, before the store gives it an id; `dedupe_key` makes raising it twice keep one.
#[derive(Debug, Clone, PartialEq)]
pub struct RaisedAlert {
    pub dedupe_key: String,
    /// `rule` or `flow_spike`.
    pub kind: &'static str,
    pub subject: String,
    pub enterprise: Option<String>,
    pub declaration_id: String,
    pub raised_on: Date,
    pub details: Value,
}

/// One alert per alert action of a rule that fired.
pub fn rule_alerts(
    assessment: &Assessment,
    enterprise: &str,
    declaration_id: &str,
    day: Date,
) -> Vec<RaisedAlert> {
    assessment
        .alerts
        .iter()
        .enumerate()
        .map(|(i, text)| RaisedAlert {
            dedupe_key: format!("rule:{declaration_id}:{i}"),
            kind: "rule",
            subject: text.clone(),
            enterprise: Some(enterprise.to_owned()),
            declaration_id: declaration_id.to_owned(),
            raised_on: day,
            details: json!({ "text": text, "hits": assessment.record.hits }),
        })
        .collect()
}

/// The headings (HS4) a declaration's lines are counted under in its flow's statistics, once
/// each, when its flow is watched; none otherwise.
pub fn spike_headings(settings: &SelectivitySettings, d: &Declaration) -> Vec<String> {
    if !settings
        .flow_spike
        .watched_flows
        .contains(&wire_name(d.flow))
    {
        return Vec::new();
    }
    let mut headings: Vec<String> = d
        .lines
        .iter()
        .map(|l| {
            let hs = l.hs_code.as_str();
            hs[..4.min(hs.len())].to_owned()
        })
        .collect();
    headings.sort_unstable();
    headings.dedup();
    headings
}

/// A spike alert for each heading whose count on the declaration day, this declaration's own lines
/// included, reaches the spike bar against the days before. `counts` holds, per heading of
/// `spike_headings`, the stored count of each day from `baseline_days` before `day` up to `day`.
pub fn spike_alerts(
    settings: &SelectivitySettings,
    facts: &[LineFacts],
    counts: &[(String, Vec<(Date, u64)>)],
    declaration_id: &str,
    day: Date,
) -> Vec<RaisedAlert> {
    let threshold = settings.spike_threshold();
    let days = threshold.baseline_days;
    let mut out = Vec::new();
    for (heading, by_day) in counts {
        let mut history = vec![0u64; days];
        let mut today = 0u64;
        for &(d, n) in by_day {
            let back = (day - d).whole_days();
            if back == 0 {
                today = n;
            } else if (1..=days as i64).contains(&back) {
                history[days - back as usize] = n;
            }
        }
        let own = facts
            .iter()
            .filter(|f| f.hs.starts_with(heading.as_str()))
            .count() as u64;
        let Some(first) = facts.first() else {
            continue;
        };
        let flow = &first.flow;
        if let Some(spike) = flow_spike(&history, today + own, &threshold) {
            out.push(RaisedAlert {
                dedupe_key: format!("spike:{flow}:{heading}:{day}"),
                kind: "flow_spike",
                subject: format!("{flow} of heading {heading} on {day}"),
                enterprise: None,
                declaration_id: declaration_id.to_owned(),
                raised_on: day,
                details: json!({ "flow": flow, "heading": heading, "day": day.to_string(), "spike": spike, "threshold": threshold }),
            });
        }
    }
    out
}
