//! Declarations: submit one, in a straight line. Edge -> parse (done by the caller) -> one snapshot
//! read -> `decide` -> risk `assess` -> one commit (with its outbox event). Nothing is read from the
//! store after the decision.

use freeport_core::FieldError;
use freeport_core::FieldErrorKind;
use freeport_core::declaration::Declaration;
use freeport_core::lifecycle::DeclarationStatus;
use freeport_store::{IdempotencyRecord, NewDeclaration};
use serde_json::{Value, json};

use crate::deciding::{
    alert_rows, assess_lane, decide, flow_lines, postings_of, supervised_of, waiver_locks_of,
};
use crate::{Actor, AppError, AppResult, Platform, wire_name};

/// A declaration decided and committed: the stored record, the decision and the risk record.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub record: NewDeclaration,
    pub decision: Value,
}

/// Decides a declaration and commits the decision, its postings, supervised items, waiver locks,
/// flow statistics, alerts, the lane's step at a second-line port, audit entries and events in one
/// transaction. `answer` gives the edge's answer to keep with the commit (the idempotency record),
/// so a retry replays it.
///
/// A red lane at a second-line port takes a place in the port's daily inspection capacity, read
/// before deciding; a concurrent declaration may take it first, and the commit then refuses. The
/// whole line is then run again on a fresh read, a few times at most.
pub async fn submit(
    platform: &Platform,
    actor: &Actor,
    d: Declaration,
    request_json: String,
    mut answer: impl FnMut(&Submitted) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Submitted> {
    actor.require(crate::Permission::Declare)?;
    if actor.role != crate::users::Role::EnterpriseUser
        || actor.enterprise.as_deref() != Some(d.declarant.as_str())
    {
        return Err(AppError::Forbidden(
            "an enterprise user declares for its own enterprise only".into(),
        ));
    }
    const ATTEMPTS: usize = 5;
    for attempt in 1..=ATTEMPTS {
        let mut submitted = decided(platform, actor, &d, &request_json).await?;
        // 3. Commit once, with the answer.
        submitted.record.idempotency = answer(&submitted)?;
        match platform.store.commit_declaration(&submitted.record).await {
            Ok(()) => return Ok(submitted),
            Err(freeport_store::StoreError::Conflict(_))
                if attempt < ATTEMPTS
                    && (submitted.record.admission.is_some()
                        || submitted.record.port_mode.is_some()) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "the port's inspection capacity kept changing; try again".into(),
    ))
}

/// Steps 1 and 2 of the straight line: read everything, then decide and assess purely.
async fn decided(
    platform: &Platform,
    actor: &Actor,
    d: &Declaration,
    request_json: &str,
) -> AppResult<Submitted> {
    // 1. Read: the snapshot has read the registry, so a declarant absent from it is not
    //    registered; the load of the port the goods cross at is read with it.
    let mut inputs = platform.declaration_inputs(d).await?;
    if inputs.snapshot.standing(&d.declarant).is_none() {
        return Err(FieldError::new(
            "declaration.declarant",
            FieldErrorKind::Unknown,
            "not in the enterprise registry",
        )
        .into());
    }
    let load = port_load(platform, d, &inputs.credit_class).await?;
    if let Some(l) = &load {
        inputs
            .snapshot
            .port_modes
            .extend(crate::deciding::active_modes(&l.row));
    }
    may_ship_in_batches(platform, d).await?;
    // 2. Decide and assess, purely.
    let decision = decide(&platform.pack, d, &inputs.snapshot)?;
    let id = uuid::Uuid::now_v7().to_string();
    let live = platform.live_rules();
    let assessed = assess_lane(
        &platform.risk,
        &live,
        d,
        &decision,
        &inputs.credit_class,
        &inputs.risk,
        &id,
    );
    let status = DeclarationStatus::after(decision.outcome);
    let at_port = crate::deciding::at_port(d, &decision, assessed.as_ref(), &id, load.as_ref());
    let lane = at_port.lane.clone();
    let decision_json =
        serde_json::to_value(&decision).map_err(|e| AppError::Internal(e.to_string()))?;
    let record = NewDeclaration {
        id: id.clone(),
        enterprise: d.declarant.as_str().to_owned(),
        reference: d.id.clone(),
        flow: wire_name(d.flow),
        status,
        declared_on: d.declared_on.to_string(),
        pack_version: decision.pack.id.clone(),
        outcome: wire_name(decision.outcome),
        payable_total_fen: decision.totals.payable_total.fen(),
        request_json: request_json.to_owned(),
        decision_json: decision_json.to_string(),
        lane: lane.clone(),
        risk: assessed.as_ref().map(|a| a.assessment.record.clone()),
        port: d.transport.as_ref().map(|t| t.port.clone()),
        at_port: at_port.step,
        admission: at_port.admission,
        port_mode: at_port.mode.as_ref().map(|(mode, _)| mode.clone()),
        mode_at: at_port.mode.map(|(_, place)| place),
        // The month the goods leave in, by the platform's clock, whatever day the declaration
        // names: a past month may already be consolidated.
        batch_month: d
            .batch_exit
            .then(|| freeport_core::batch_exit::BatchMonth::of(platform.today()).to_string()),
        postings: postings_of(&decision)?,
        supervised: supervised_of(&decision, d)?,
        waiver_locks: waiver_locks_of(&decision),
        flow_lines: assessed
            .as_ref()
            .map_or_else(Vec::new, |a| flow_lines(&a.facts)),
        alerts: assessed
            .as_ref()
            .map_or_else(Vec::new, |a| alert_rows(&a.alerts)),
        actor: actor.user_id.clone(),
        event_topic: "declaration.decided".to_owned(),
        event_payload: json!({
            "id": id,
            "enterprise": d.declarant.as_str(),
            "status": status,
            "lane": lane,
        })
        .to_string(),
        idempotency: None,
        now_ms: platform.now_ms(),
    };
    Ok(Submitted {
        record,
        decision: decision_json,
    })
}

/// A batch exit only from an enterprise that may ship in batches now (R2.5): the refusal names
/// `declaration.batch_exit` and says why.
async fn may_ship_in_batches(platform: &Platform, d: &Declaration) -> AppResult<()> {
    if !d.batch_exit {
        return Ok(());
    }
    // Eligibility is today's, whatever day the declaration names.
    let e = crate::credit::registered(platform, d.declarant.as_str()).await?;
    let today = platform.credit_assessment(&e, platform.today()).await?;
    let class = crate::wire_name(today.class);
    match crate::batch_exit::refused_because(platform, d.declarant.as_str(), &class).await? {
        Some(why) => {
            Err(FieldError::new("declaration.batch_exit", FieldErrorKind::Inconsistent, why).into())
        }
        None => Ok(()),
    }
}

/// The load of the port the goods cross at, on the zone's today: capacity, queue, mode in force.
async fn port_load(
    platform: &Platform,
    d: &Declaration,
    class: &str,
) -> AppResult<Option<crate::deciding::PortLoad>> {
    let Some(t) = &d.transport else {
        return Ok(None);
    };
    let day = platform.today().to_string();
    let operator =
        crate::second_line_credit::operator_credit(platform, d.declarant.as_str(), class).await?;
    let Some(port) = platform
        .pack
        .version_on(d.declared_on)
        .and_then(|v| v.ports.port(&t.port))
    else {
        // Not a port of the pack: the decision refuses it.
        return Ok(None);
    };
    Ok(Some(crate::deciding::PortLoad {
        row: crate::second_line::day_of(platform, port, &day).await?,
        day,
        operator: operator.class,
    }))
}

/// A page of declarations in submission order, after id `after`: an enterprise user sees its
/// own enterprise's, customs every one.
pub async fn declarations(
    platform: &Platform,
    actor: &Actor,
    after: &str,
    limit: i64,
) -> AppResult<Vec<freeport_store::DeclarationRow>> {
    actor.require(crate::Permission::ReadDeclarations)?;
    let only = (!actor.sees_every_enterprise()).then(|| actor.enterprise.as_deref().unwrap_or(""));
    Ok(platform.store.list_declarations(only, after, limit).await?)
}

/// A declaration `actor` may see, with its status history.
pub async fn declaration_with_history(
    platform: &Platform,
    actor: &Actor,
    id: &str,
) -> AppResult<(
    freeport_store::DeclarationRow,
    Vec<freeport_store::DeclarationEvent>,
)> {
    actor.require(crate::Permission::ReadDeclarations)?;
    let row = crate::lifecycle::visible_declaration(platform, actor, id).await?;
    let events = platform.store.declaration_events(&row.id).await?;
    Ok((row, events))
}

/// A declaration decided without committing anything: against `what_if` when the actor supplies
/// a snapshot, else against the store's. A quote against the store reads the declarant's account
/// book, so an enterprise user may quote only for its own enterprise (or a refusal would tell it
/// what another enterprise holds).
pub async fn quote<'p>(
    platform: &'p Platform,
    actor: &Actor,
    d: &Declaration,
    what_if: Option<freeport_core::snapshot::Snapshot>,
) -> AppResult<freeport_core::decision::Decision<'p>> {
    actor.require(crate::Permission::Quote)?;
    actor.require_enterprise(d.declarant.as_str())?;
    let snapshot = match what_if {
        Some(s) => s,
        None => platform.snapshot_for(d).await?.0,
    };
    crate::deciding::decide(&platform.pack, d, &snapshot)
}
