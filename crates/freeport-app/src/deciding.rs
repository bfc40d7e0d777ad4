//! The steps around `decide` that every decided declaration shares, all pure: the decision with
//! its field paths under `declaration.`, its postings and supervised items as store rows, the
//! reversal of earlier postings, and the lane with its facts and alerts.

use freeport_core::FieldError;
use freeport_core::FieldErrorKind;
use freeport_core::decision::{Decision, Effect, Outcome};
use freeport_core::declaration::Declaration;
use freeport_core::pack::PolicyPack;
use freeport_core::snapshot::Snapshot;
use freeport_risk::selectivity::{
    self, Assessment, LineFacts, LiveRules, RaisedAlert, RiskSetup, wire_name,
};
use freeport_store::{
    FlowLine, NewAlert, NewPosting, NewSupervisedItem, NewWaiverLock, PostingRow,
};
use rust_decimal::Decimal;

use crate::AppResult;
use crate::snapshot::RiskInputs;

/// The core's decision, its errors' fields named from the request's root.
pub fn decide<'p>(
    pack: &'p PolicyPack,
    d: &Declaration,
    snapshot: &Snapshot,
) -> AppResult<Decision<'p>> {
    freeport_core::decide(d, pack, snapshot).map_err(|e| {
        FieldError {
            field: format!("declaration.{}", e.field),
            ..e
        }
        .into()
    })
}

fn quantity_error(line: usize, reason: &str) -> FieldError {
    FieldError::new(
        format!("declaration.lines[{line}].quantities[0].value"),
        FieldErrorKind::OutOfRange,
        reason,
    )
}

/// The decision's postings as store rows: quantities in thousandths, which must be whole.
pub fn postings_of(decision: &Decision<'_>) -> AppResult<Vec<NewPosting>> {
    decision
        .postings
        .iter()
        .map(|p| {
            let milli = p.quantity.value * Decimal::ONE_THOUSAND;
            if milli.fract() != Decimal::ZERO {
                return Err(quantity_error(
                    p.line,
                    "account-book quantities have at most three decimals",
                )
                .into());
            }
            let quantity_milli =
                i64::try_from(milli).map_err(|_| quantity_error(p.line, "too large"))?;
            Ok(NewPosting {
                enterprise: p.enterprise.as_str().to_owned(),
                hs_code: p.hs_code.as_str().to_owned(),
                unit: p.quantity.unit.code().to_owned(),
                quantity_milli,
                value_fen: p.value.fen(),
                movement: wire_name(p.movement),
                line: i64::try_from(p.line).ok(),
                note: String::new(),
            })
        })
        .collect()
}

/// The goods the decision put under supervision (R3.4), one item per line, with the quantity and
/// value its first-line entry posted.
pub fn supervised_of(
    decision: &Decision<'_>,
    d: &Declaration,
) -> AppResult<Vec<NewSupervisedItem>> {
    let mut out = Vec::new();
    for e in &decision.effects {
        let Effect::Supervised {
            enterprise,
            line,
            kind,
            years,
            from,
            until,
            ..
        } = e
        else {
            continue;
        };
        let (Some(posting), Some(declared)) = (
            decision
                .postings
                .iter()
                .find(|p| p.line == *line && p.enterprise == *enterprise),
            d.lines.get(*line),
        ) else {
            continue;
        };
        let quantity_milli = posting.quantity.value * Decimal::ONE_THOUSAND;
        out.push(NewSupervisedItem {
            id: uuid::Uuid::now_v7().to_string(),
            enterprise: enterprise.as_str().to_owned(),
            line: i64::try_from(*line).unwrap_or(i64::MAX),
            hs_code: posting.hs_code.as_str().to_owned(),
            origin: declared.origin.as_str().to_owned(),
            consumption_tax_item: declared.consumption_tax_item.clone(),
            kind: (*kind).to_owned(),
            years: i64::from(*years),
            released_on: from.to_string(),
            supervised_until: until.to_string(),
            unit: posting.quantity.unit.code().to_owned(),
            quantity_milli: i64::try_from(quantity_milli.trunc())
                .map_err(|_| quantity_error(*line, "too large for the account book"))?,
            customs_value_fen: posting.value.fen(),
        });
    }
    Ok(out)
}

/// The waiver locks the decision set (R1.5: a minimum-tax waiver locks the choice for a period).
pub fn waiver_locks_of(decision: &Decision<'_>) -> Vec<NewWaiverLock> {
    decision
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::WaiverLock {
                enterprise,
                kind_prefix,
                range,
                ..
            } => Some(NewWaiverLock {
                enterprise: enterprise.as_str().to_owned(),
                kind_prefix: kind_prefix.clone(),
                first_day: range.first.to_string(),
                last_day: range.last.to_string(),
            }),
            Effect::LedgerEntryDue { .. } | Effect::Supervised { .. } => None,
        })
        .collect()
}

/// Postings that undo a declaration's effect on the books: one per book entry, netting everything
/// the declaration posted there (an amended declaration has posted, reversed and posted again).
/// Entries that come back into a book go first, so no book passes through a negative balance.
pub fn reversals(rows: &[PostingRow]) -> Vec<NewPosting> {
    let mut net: std::collections::BTreeMap<(String, String, String), (i64, i64)> =
        std::collections::BTreeMap::new();
    for r in rows {
        let e = net
            .entry((r.enterprise.clone(), r.hs_code.clone(), r.unit.clone()))
            .or_default();
        e.0 += r.quantity_milli;
        e.1 += r.value_fen;
    }
    let mut out: Vec<NewPosting> = net
        .into_iter()
        .filter(|(_, (q, _))| *q != 0)
        .map(|((enterprise, hs_code, unit), (q, v))| NewPosting {
            enterprise,
            hs_code,
            unit,
            quantity_milli: -q,
            value_fen: -v,
            movement: "reversal".to_owned(),
            line: None,
            note: "reverses the declaration's postings".to_owned(),
        })
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.quantity_milli.signum()));
    out
}

/// A lane chosen for an accepted declaration, with the facts the rules saw and the alerts raised.
pub struct Assessed {
    pub assessment: Assessment,
    pub facts: Vec<LineFacts>,
    pub alerts: Vec<RaisedAlert>,
}

/// The lane of an accepted declaration, against the declarant's credit class on the declaration
/// day; refused and not-required declarations take none. Pure: every input was read before the
/// declaration was decided.
pub fn assess_lane(
    setup: &RiskSetup,
    live: &LiveRules,
    d: &Declaration,
    decision: &Decision<'_>,
    class: &str,
    inputs: &RiskInputs,
    id: &str,
) -> Option<Assessed> {
    if decision.outcome != Outcome::Accepted {
        return None;
    }
    let facts = selectivity::line_facts(d, decision, class, &inputs.references);
    let assessment = selectivity::assess(setup, live, &facts, class, id);
    let mut alerts = selectivity::rule_alerts(&assessment, d.declarant.as_str(), id, d.declared_on);
    alerts.extend(selectivity::spike_alerts(
        &setup.settings,
        &facts,
        &inputs.spike_counts,
        id,
        d.declared_on,
    ));
    Some(Assessed {
        assessment,
        facts,
        alerts,
    })
}

/// The lines an accepted declaration adds to the flow statistics.
pub fn flow_lines(facts: &[LineFacts]) -> Vec<FlowLine> {
    facts
        .iter()
        .map(|f| FlowLine {
            flow: f.flow.clone(),
            hs_code: f.hs.clone(),
            unit: f.unit.clone(),
            day: f.declared_on.to_string(),
            quantity_milli: (f.quantity * Decimal::ONE_THOUSAND)
                .round()
                .try_into()
                .unwrap_or(i64::MAX),
            value_fen: (f.value * Decimal::ONE_HUNDRED)
                .round()
                .try_into()
                .unwrap_or(i64::MAX),
        })
        .collect()
}

/// The alerts an assessment raised, as store rows.
pub fn alert_rows(raised: &[RaisedAlert]) -> Vec<NewAlert> {
    raised
        .iter()
        .map(|a| NewAlert {
            id: uuid::Uuid::now_v7().to_string(),
            dedupe_key: a.dedupe_key.clone(),
            kind: a.kind.to_owned(),
            subject: a.subject.clone(),
            enterprise: a.enterprise.clone(),
            declaration_id: Some(a.declaration_id.clone()),
            person_code: None,
            raised_on: a.raised_on.to_string(),
            details_json: a.details.to_string(),
        })
        .collect()
}
