//! The steps around `decide` that every decided declaration shares, all pure: the decision with
//! its field paths under `declaration.`, its postings and supervised items as store rows, the
//! reversal of earlier postings, and the lane with its facts and alerts.

use freeport_core::FieldError;
use freeport_core::FieldErrorKind;
use freeport_core::decision::{Decision, Effect, Outcome};
use freeport_core::declaration::{Declaration, Flow};
use freeport_core::lifecycle::DeclarationStatus;
use freeport_core::pack::PolicyPack;
use freeport_core::snapshot::Snapshot;
use freeport_risk::rules::Lane;
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

/// What happens at a second-line port the moment a declaration is decided (R2.4): the lane's
/// step, what the port's inspection capacity did with a red lane, and the lane that stands.
#[derive(Debug, Clone, Default)]
pub struct AtPort {
    pub step: Option<freeport_store::PortStep>,
    pub admission: Option<freeport_store::NewAdmission>,
    /// The lane after capacity: a red lane over the day's capacity becomes yellow.
    pub lane: Option<String>,
    /// The emergency mode that changed the lane's step, if one did, and where it is in force (the
    /// port or the channel): the declaration is then among those to regularise when that place
    /// returns to normal.
    pub mode: Option<(String, String)>,
}

/// A port's load on the zone's day, as read before deciding.
#[derive(Debug, Clone)]
pub struct PortLoad {
    pub day: String,
    pub row: freeport_store::PortDayRow,
    /// The declarant's second-line class (R6.2).
    pub operator: freeport_core::second_line_credit::SecondLineClass,
}

/// At a second-line port, the lane's first step (R2.4): green and blue are released
/// automatically, yellow waits for an officer's documentary check (no step), hold is held, and red
/// goes to its scan within the port's daily inspection capacity, the riskiest first: over it, the
/// declaration (or a less risky one waiting) goes to documentary check and counts as overflow.
/// Nothing for a declaration that crosses at no second-line port, or that was not accepted.
pub fn at_port(
    d: &Declaration,
    decision: &Decision<'_>,
    assessed: Option<&Assessed>,
    id: &str,
    load: Option<&PortLoad>,
) -> AtPort {
    use freeport_core::port::Release;
    let mut out = AtPort {
        lane: assessed.map(|a| a.assessment.lane.as_str().to_owned()),
        ..AtPort::default()
    };
    let (Some(a), Some(transport)) = (assessed, d.transport.as_ref()) else {
        return out;
    };
    let Some(port) = decision.pack.ports.port(&transport.port) else {
        return out;
    };
    if !(port.second_line && matches!(d.flow, Flow::SecondLineExit | Flow::SecondLineEntry)) {
        return out;
    }
    let rule = decision
        .pack
        .ports
        .release_rule
        .as_ref()
        .map(|r| decision.pack.rule(r).id.clone())
        .unwrap_or_default();
    let lane = a.assessment.lane;
    let step = |status: DeclarationStatus, what: &str| freeport_store::PortStep {
        status,
        actor: "system:release".to_owned(),
        note: format!("{} lane at {}: {what} ({rule})", lane.as_str(), port.name),
        event_payload: serde_json::json!({
            "id": id,
            "enterprise": d.declarant.as_str(),
            "status": status,
            "port": port.code,
        })
        .to_string(),
    };
    let channel = transport.channel.as_deref();
    let active = load.map(|l| active_modes(&l.row)).unwrap_or_default();
    let in_force = freeport_core::port::mode_in_force(&decision.pack.ports, port, channel, &active);
    if let Some(m) = in_force
        && let Some((status, what)) = in_emergency_mode(lane, m.mode)
    {
        out.step = Some(step(status, &what));
        out.mode = Some((m.mode.code.clone(), m.place.to_owned()));
        return out;
    }
    // R6.2: a key-concern operator is checked more often: no release without a document check.
    let key_concern = load.is_some_and(|l| {
        l.operator == freeport_core::second_line_credit::SecondLineClass::KeyConcern
    });
    if key_concern && matches!(lane, Lane::Green | Lane::Blue) {
        out.lane = Some(Lane::Yellow.as_str().to_owned());
        return out;
    }
    let (release, what) = match lane {
        Lane::Green | Lane::Blue => (Release::Automatic, "released automatically"),
        Lane::Yellow => return out,
        Lane::Hold => (Release::Hold, "held"),
        Lane::Red => (Release::Scan, "to the H986 scan"),
    };
    if release != Release::Scan {
        out.step = Some(step(DeclarationStatus::at_port(release), what));
        return out;
    }
    if let Some(load) = load {
        // Scores wait in the queue in thousandths: compare like with like.
        let score = a.assessment.record.score.round_dp(3);
        let red = red_lane_at_port(port, channel, score, load, &active);
        out.step = Some(step(red.status, red.what.unwrap_or(what)));
        out.admission = Some(red.admission);
        if red.overflow {
            out.lane = Some(Lane::Yellow.as_str().to_owned());
        }
    }
    out
}

/// What an emergency mode at the port does with a lane, if it changes it: with the scanners down
/// the red lane goes to manual inspection; with the systems down everything but a hold is released
/// on guarantee, to be regularised. A closed port has refused the declaration already (`decide`).
fn in_emergency_mode(
    lane: Lane,
    mode: &freeport_core::port::EmergencyMode,
) -> Option<(DeclarationStatus, String)> {
    use freeport_core::port::ModeEffect;
    match (mode.effect, lane) {
        (ModeEffect::RedToManualInspection, Lane::Red) => Some((
            DeclarationStatus::UnderInspection,
            format!("to manual inspection, {} ({})", mode.title, mode.code),
        )),
        (ModeEffect::ReleaseOnGuarantee, l) if l != Lane::Hold => Some((
            DeclarationStatus::Released,
            format!(
                "released on guarantee, to be regularised: {} ({})",
                mode.title, mode.code
            ),
        )),
        _ => None,
    }
}

/// What the port's inspection capacity makes of a red lane.
struct RedLane {
    status: DeclarationStatus,
    /// The step's words, when they are not the lane's own.
    what: Option<&'static str>,
    admission: freeport_store::NewAdmission,
    overflow: bool,
}

/// The modes in force at a port and its channels, as the core reads them.
pub fn active_modes(
    row: &freeport_store::PortDayRow,
) -> std::collections::BTreeMap<String, freeport_core::port::ActiveMode> {
    row.modes
        .iter()
        .map(|(place, m)| {
            (
                place.clone(),
                freeport_core::port::ActiveMode {
                    mode: m.mode.clone(),
                    reroute_to: m.reroute_to.clone(),
                },
            )
        })
        .collect()
}

/// A red lane within the port's daily inspection capacity, and its booked channel's, the riskiest
/// first (`port::admit`): admitted to the scan (perhaps in the place of a less risky declaration
/// still waiting), or over the capacity to documentary check.
fn red_lane_at_port(
    port: &freeport_core::port::Port,
    channel: Option<&str>,
    score: Decimal,
    load: &PortLoad,
    modes: &std::collections::BTreeMap<String, freeport_core::port::ActiveMode>,
) -> RedLane {
    use freeport_core::port::{Admission, ChannelDay, PortDay, Waiting, admit};
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let capacity = freeport_core::port::port_capacity(port, &load.row.capacity_set, modes);
    let day = PortDay {
        capacity: count(capacity),
        admitted: count(load.row.admitted),
        waiting: load
            .row
            .waiting
            .iter()
            .map(|q| Waiting {
                declaration_id: q.declaration_id.clone(),
                score: Decimal::new(q.score_milli, 3),
                channel: q.channel.clone(),
            })
            .collect(),
    };
    let booked = channel.and_then(|id| port.channel(id)).map(|c| {
        let capacity = freeport_core::port::channel_capacity(c, &load.row.capacity_set);
        let admitted = load.row.channels.get(&c.id).map_or(0, |(a, _)| *a);
        (c.id.as_str(), capacity, admitted)
    });
    let channel_day = booked.map(|(id, capacity, admitted)| ChannelDay {
        id,
        capacity: count(capacity),
        admitted: count(admitted),
    });
    let admission = |step| freeport_store::NewAdmission {
        port: port.code.clone(),
        day: load.day.clone(),
        capacity,
        channel: booked.map(|(id, capacity, _)| (id.to_owned(), capacity)),
        score_milli: (score * Decimal::ONE_THOUSAND)
            .round()
            .try_into()
            .unwrap_or(i64::MAX),
        step,
    };
    let (status, what, step, overflow) = match admit(&day, channel_day.as_ref(), score) {
        Admission::Admit => (
            DeclarationStatus::AwaitingScan,
            None,
            freeport_store::AdmissionStep::Admit,
            false,
        ),
        Admission::Displace(displaced) => {
            let note = format!(
                "displaced at {} by a riskier declaration over the day's inspection capacity: documentary check",
                port.name
            );
            let event_payload = serde_json::json!({
                "id": displaced,
                "status": DeclarationStatus::Decided,
                "lane": "yellow",
                "port": port.code,
            })
            .to_string();
            (
                DeclarationStatus::AwaitingScan,
                None,
                freeport_store::AdmissionStep::Displace {
                    channel: day
                        .waiting
                        .iter()
                        .find(|w| w.declaration_id == displaced)
                        .and_then(|w| w.channel.clone()),
                    declaration_id: displaced,
                    note,
                    event_payload,
                },
                false,
            )
        }
        Admission::Overflow => (
            DeclarationStatus::Decided,
            Some("over the day's inspection capacity: documentary check"),
            freeport_store::AdmissionStep::Overflow,
            true,
        ),
    };
    RedLane {
        status,
        what,
        admission: admission(step),
        overflow,
    }
}
