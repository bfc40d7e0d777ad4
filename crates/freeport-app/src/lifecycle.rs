//! A declaration's life after its decision: an officer's status change, an inspection's result,
//! the enterprise's cancellation and amendment. Each reads the declaration (and, for an amendment,
//! the snapshot) first, checks the move against the core's state machine, and commits one
//! transition; the transition's revision check refuses a change that lost a race.

use freeport_core::FieldError;
use freeport_core::FieldErrorKind;
use freeport_core::declaration::Declaration;
use freeport_core::hs::HsCode;
use freeport_core::identity::CreditCode;
use freeport_core::lifecycle::DeclarationStatus;
use freeport_core::money::Cny;
use freeport_core::snapshot::BalanceKey;
use freeport_core::unit::Unit;
use freeport_store::{
    DeclarationRow, IdempotencyRecord, NewCreditRecord, NewInspection, PostingRow, StoreError,
    Transition,
};
use rust_decimal::Decimal;
use serde_json::json;
use time::Date;

use crate::deciding::{assess_lane, decide, postings_of, reversals, supervised_of};
use crate::{Actor, AppError, AppResult, Platform, wire_name};

/// A transition committed: the declaration as it was read, and what changed.
#[derive(Debug, Clone)]
pub struct Transitioned {
    pub before: DeclarationRow,
    pub transition: Transition,
}

/// The edge's answer to keep with a transition, so a retry replays it.
pub type Answer<'a> =
    Box<dyn FnOnce(&Transitioned) -> AppResult<Option<IdempotencyRecord>> + Send + 'a>;

/// What an inspection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectionResult {
    Compliant,
    /// What was found (at least one kind) and the revenue recovered.
    Violation {
        findings: Vec<String>,
        revenue: Cny,
    },
}

/// A declaration `actor` may see.
pub async fn visible_declaration(
    platform: &Platform,
    actor: &Actor,
    id: &str,
) -> AppResult<DeclarationRow> {
    let absent = || AppError::NotFound("no such resource".into());
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(absent());
    }
    let row = platform.store.declaration(id).await?.ok_or_else(absent)?;
    if !actor.may_see(&row.enterprise) {
        return Err(absent());
    }
    Ok(row)
}

pub(crate) fn refused(status: DeclarationStatus, what: &str) -> AppError {
    AppError::InvalidTransition(format!("a declaration {status} {what}"))
}

/// A transition from the declaration's current status, with nothing else changed.
pub(crate) fn plain(
    platform: &Platform,
    actor: &Actor,
    row: &DeclarationRow,
    from: DeclarationStatus,
    to: DeclarationStatus,
    revision: i64,
    note: String,
) -> Transition {
    Transition {
        declaration_id: row.id.clone(),
        from: vec![from],
        to,
        expected_revision: revision,
        actor: actor.user_id.clone(),
        note,
        replace: None,
        lane: None,
        postings: Vec::new(),
        supervised: None,
        inspection: None,
        event_topic: "declaration.status".to_owned(),
        event_payload: json!({ "id": row.id, "enterprise": row.enterprise, "status": to.as_str() })
            .to_string(),
        idempotency: None,
        now_ms: platform.now_ms(),
    }
}

pub(crate) async fn commit(
    platform: &Platform,
    before: DeclarationRow,
    transition: Transition,
    answer: Answer<'_>,
) -> AppResult<Transitioned> {
    let mut done = Transitioned { before, transition };
    done.transition.idempotency = answer(&done)?;
    platform.store.transition(&done.transition).await?;
    Ok(done)
}

/// An officer moves a declaration along its lifecycle (release, inspect, hold, close).
pub async fn change_status(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    to: DeclarationStatus,
    revision: i64,
    note: String,
    answer: Answer<'_>,
) -> AppResult<Transitioned> {
    actor.require(crate::Permission::Examine)?;
    let row = visible_declaration(platform, actor, id).await?;
    let from = row.status;
    if !from.officer_may_move_to(to) {
        return Err(refused(from, &format!("cannot become {to}")));
    }
    let t = plain(platform, actor, &row, from, to, revision, note);
    commit(platform, row, t, answer).await
}

/// An officer records what an inspection found: compliant goods are released, a violation holds
/// them and adds an inspection finding to the enterprise's credit record.
#[allow(clippy::too_many_arguments)]
pub async fn record_inspection(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    result: InspectionResult,
    inspected_on: Option<Date>,
    revision: i64,
    note: &str,
    answer: Answer<'_>,
) -> AppResult<Transitioned> {
    actor.require(crate::Permission::Examine)?;
    let row = visible_declaration(platform, actor, id).await?;
    let from = row.status;
    if from != DeclarationStatus::UnderInspection {
        return Err(refused(from, "has no inspection to record"));
    }
    let inspected_on = inspected_on.unwrap_or_else(|| platform.today());
    let (violation, findings, revenue) = match &result {
        InspectionResult::Compliant => (false, Vec::new(), Cny::ZERO),
        InspectionResult::Violation { findings, revenue } => (true, findings.clone(), *revenue),
    };
    let verdict = if violation { "violation" } else { "compliant" };
    let credit_record = violation.then(|| NewCreditRecord {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise: row.enterprise.clone(),
        on_day: inspected_on.to_string(),
        reference: id.to_owned(),
        kind: "inspection_finding".to_owned(),
        amount_fen: Some(revenue.fen()),
        due_on: None,
        note: findings.join(", "),
        actor: actor.user_id.clone(),
    });
    let to = DeclarationStatus::after_inspection(violation);
    let mut t = plain(
        platform,
        actor,
        &row,
        from,
        to,
        revision,
        format!("inspection {verdict}: {note}"),
    );
    t.inspection = Some(NewInspection {
        enterprise: row.enterprise.clone(),
        inspected_on: inspected_on.to_string(),
        result: verdict.to_owned(),
        revenue_found_fen: revenue.fen(),
        findings_json: json!(findings).to_string(),
        credit_record,
    });
    commit(platform, row, t, answer).await
}

/// The enterprise withdraws a declaration; its postings are reversed and its supervised items
/// withdrawn in the same transaction.
pub async fn cancel(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    revision: i64,
    note: String,
    answer: Answer<'_>,
) -> AppResult<Transitioned> {
    actor.require(crate::Permission::Declare)?;
    let row = visible_declaration(platform, actor, id).await?;
    let from = row.status;
    if !from.may_cancel() {
        return Err(refused(from, "cannot be cancelled"));
    }
    let postings = reversals(&platform.store.declaration_postings(id).await?);
    let mut t = plain(
        platform,
        actor,
        &row,
        from,
        DeclarationStatus::Cancelled,
        revision,
        note,
    );
    t.postings = postings;
    t.supervised = Some(Vec::new());
    commit(platform, row, t, answer).await
}

/// The book as it would be without the declaration's own postings, for deciding it again.
fn without_own_postings(
    snapshot: &mut freeport_core::snapshot::Snapshot,
    declarant: CreditCode,
    id: &str,
    old: &[PostingRow],
) -> AppResult<()> {
    for p in old {
        let unreadable = || StoreError::Corrupt(format!("posting {} of declaration {id}", p.id));
        let code = CreditCode::parse(&p.enterprise).map_err(|_| unreadable())?;
        if code != declarant {
            continue;
        }
        let key = BalanceKey {
            enterprise: code,
            hs_code: HsCode::parse_shape("hs", &p.hs_code).map_err(|_| unreadable())?,
            unit: Unit::parse("unit", &p.unit).map_err(|_| unreadable())?,
        };
        *snapshot.balances.entry(key).or_default() -= Decimal::new(p.quantity_milli, 3);
    }
    Ok(())
}

/// The enterprise amends a decided declaration: it is decided again against the book without its
/// own postings, its postings and supervised items are replaced, and its lane chosen again with
/// the same draw (amending cannot re-roll the random sample).
pub async fn amend(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    d: Declaration,
    request_json: &str,
    revision: i64,
    answer: Answer<'_>,
) -> AppResult<Transitioned> {
    actor.require(crate::Permission::Declare)?;
    let row = visible_declaration(platform, actor, id).await?;
    let from = row.status;
    if !from.may_amend() {
        return Err(refused(from, "cannot be amended"));
    }
    if d.declarant.as_str() != row.enterprise {
        return Err(FieldError::new(
            "declaration.declarant",
            FieldErrorKind::Inconsistent,
            "an amendment keeps the declarant",
        )
        .into());
    }
    // Release at a port and batch exit are decided with the port's load, mode and capacity and
    // the month's consolidation: such a declaration is cancelled and lodged again, not amended.
    if row.port.is_some() || d.transport.is_some() || d.batch_exit {
        return Err(refused(
            from,
            "crossing at a port or in a batch exit cannot be amended: cancel it and lodge it again",
        ));
    }
    let old = platform.store.declaration_postings(id).await?;
    let mut inputs = platform.declaration_inputs(&d).await?;
    without_own_postings(&mut inputs.snapshot, d.declarant, id, &old)?;
    let decision = decide(&platform.pack, &d, &inputs.snapshot)?;
    let mut postings = reversals(&old);
    postings.extend(postings_of(&decision)?);
    let supervised = supervised_of(&decision, &d)?;
    let assessment = assess_lane(
        &platform.risk,
        &platform.live_rules(),
        &d,
        &decision,
        &inputs.credit_class,
        &inputs.risk,
        id,
    )
    .map(|a| a.assessment);
    let decision_json =
        serde_json::to_string(&decision).map_err(|e| AppError::Internal(e.to_string()))?;
    let to = DeclarationStatus::after(decision.outcome);
    let mut t = plain(
        platform,
        actor,
        &row,
        from,
        to,
        revision,
        "amended".to_owned(),
    );
    t.replace = Some((
        json!({ "declaration_json": request_json }).to_string(),
        decision_json,
        wire_name(decision.outcome),
        decision.totals.payable_total.fen(),
    ));
    t.postings = postings;
    t.supervised = Some(supervised);
    t.lane = Some((
        assessment.as_ref().map(|a| a.lane.as_str().to_owned()),
        assessment.map(|a| a.record),
    ));
    commit(platform, row, t, answer).await
}
