//! The alert queue: an analyst analyses an open alert (confirmed or unfounded), an officer disposes
//! of it (inspect or hold its declaration, penalise or downgrade the enterprise, ban the person
//! from duty-free, or nothing), and an analyst evaluates what the disposal found. Each step checks
//! the alert's state and revision and commits with its consequences.

use freeport_core::lifecycle::DeclarationStatus::{self, Decided, Held, UnderInspection};
use freeport_core::money::Cny;
use freeport_core::{FieldError, FieldErrorKind};
use freeport_risk::governance::{AlertAction, AlertState};
use freeport_store::{
    AlertRow, AlertStep, DeclarationChange, IdempotencyRecord, NewCreditRecord, StoreError,
};
use serde_json::{Value, json};

use crate::{Actor, AppError, AppResult, Platform};

pub type Answer<'a> =
    Box<dyn FnOnce(&AlertRow) -> AppResult<Option<IdempotencyRecord>> + Send + 'a>;

/// A stored alert, or `NotFound`.
pub async fn alert(platform: &Platform, id: &str) -> AppResult<AlertRow> {
    platform
        .store
        .alert(id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such resource".into()))
}

/// The alert, checked to be where the step `to` starts and at the revision the actor read.
async fn ready(
    platform: &Platform,
    id: &str,
    to: AlertState,
    revision: i64,
) -> AppResult<AlertRow> {
    let row = alert(platform, id).await?;
    let state = row.state;
    if Some(state) != to.previous() {
        let step = match to {
            AlertState::Analysed => "an analysis",
            AlertState::Disposed => "a disposal",
            _ => "an evaluation",
        };
        return Err(AppError::InvalidTransition(format!(
            "an {} alert cannot take {step}",
            state.as_str()
        )));
    }
    if row.revision != revision {
        return Err(AppError::Conflict(format!(
            "the alert is at revision {}",
            row.revision
        )));
    }
    Ok(row)
}

/// What a step commits beside the alert's own record.
#[derive(Default)]
struct Consequences {
    credit_record: Option<NewCreditRecord>,
    declaration_change: Option<DeclarationChange>,
    duty_free_bans: Vec<(String, String, String)>,
    /// R4.7: how long a listing lasts that a second ban brings.
    dishonesty_until: Option<String>,
}

async fn step(
    platform: &Platform,
    actor: &Actor,
    row: AlertRow,
    to: AlertState,
    record: Value,
    consequences: Consequences,
    answer: Answer<'_>,
) -> AppResult<AlertRow> {
    let now = platform.now_ms();
    let text = Some(record.to_string());
    let mut next = row.clone();
    next.state = to;
    next.revision += 1;
    next.updated_at_ms = now;
    match to {
        AlertState::Analysed => next.analysis_json = text,
        AlertState::Disposed => next.disposal_json = text,
        _ => next.evaluation_json = text,
    }
    let idempotency = answer(&next)?;
    platform
        .store
        .advance_alert(&AlertStep {
            alert_id: row.id.clone(),
            expected_revision: row.revision,
            from_state: row.state,
            to_state: to,
            record_json: record.to_string(),
            credit_record: consequences.credit_record,
            declaration_change: consequences.declaration_change,
            duty_free_bans: consequences.duty_free_bans,
            dishonesty_until: consequences.dishonesty_until,
            actor: actor.user_id.clone(),
            idempotency,
            now_ms: now,
        })
        .await?;
    Ok(next)
}

/// An analyst concludes on an open alert: `confirmed` as a risk to dispose of, or `unfounded`.
pub async fn analyse(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    confirmed: bool,
    notes: &str,
    revision: i64,
    answer: Answer<'_>,
) -> AppResult<AlertRow> {
    actor.require(crate::Permission::AnalyseAlerts)?;
    let row = ready(platform, id, AlertState::Analysed, revision).await?;
    let conclusion = if confirmed { "confirmed" } else { "unfounded" };
    let record = json!({ "conclusion": conclusion, "notes": notes, "analyst": actor.user_id });
    step(
        platform,
        actor,
        row,
        AlertState::Analysed,
        record,
        Consequences::default(),
        answer,
    )
    .await
}

/// What a disposal action changes beside the alert: its declaration, the enterprise's credit
/// record, or the person's duty-free ban.
fn consequences_of(
    platform: &Platform,
    actor: &Actor,
    row: &AlertRow,
    action: AlertAction,
    penalty: Option<Cny>,
    notes: &str,
    on: time::Date,
) -> AppResult<Consequences> {
    let id = &row.id;
    let needs = |what: Option<&String>, field: &str| -> AppResult<String> {
        what.cloned().ok_or_else(|| {
            FieldError::new(
                field,
                FieldErrorKind::Inconsistent,
                format!("this alert names no {field}"),
            )
            .into()
        })
    };
    let credit = |kind: &str, amount: Option<Cny>| -> AppResult<NewCreditRecord> {
        Ok(NewCreditRecord {
            id: uuid::Uuid::now_v7().to_string(),
            enterprise: needs(row.enterprise.as_ref(), "enterprise")?,
            on_day: on.to_string(),
            reference: format!("alert-{id}"),
            kind: kind.to_owned(),
            amount_fen: amount.map(Cny::fen),
            due_on: None,
            note: notes.to_owned(),
            actor: actor.user_id.clone(),
        })
    };
    let declaration = |from: &[DeclarationStatus],
                       to: DeclarationStatus,
                       lane: &str|
     -> AppResult<DeclarationChange> {
        Ok(DeclarationChange {
            declaration_id: needs(row.declaration_id.as_ref(), "declaration")?,
            from: from.to_vec(),
            to,
            lane: lane.to_owned(),
        })
    };
    let mut consequences = Consequences::default();
    match action {
        AlertAction::Inspect => {
            consequences.declaration_change =
                Some(declaration(&[Decided], UnderInspection, "red")?);
        }
        AlertAction::Hold => {
            consequences.declaration_change =
                Some(declaration(&[Decided, UnderInspection], Held, "hold")?);
        }
        AlertAction::Penalise => consequences.credit_record = Some(credit("violation", penalty)?),
        AlertAction::DowngradeCredit => {
            consequences.credit_record = Some(credit("downgrade", None)?);
        }
        AlertAction::BanDutyFree => ban_consequences(platform, row, on, &mut consequences)?,
        AlertAction::NoAction => {}
    }
    Ok(consequences)
}

/// R4.6: no offshore duty-free for the pack's ban years from the customs decision; a confirmed
/// ring bans every member. R4.7(b): a second penalty lists the person as seriously dishonest.
fn ban_consequences(
    platform: &Platform,
    row: &AlertRow,
    on: time::Date,
    consequences: &mut Consequences,
) -> AppResult<()> {
    let id = &row.id;
    let person = row.person_code.clone().ok_or_else(|| {
        FieldError::new(
            "person_code",
            FieldErrorKind::Inconsistent,
            "this alert names no person_code",
        )
    })?;
    let mut persons = vec![person];
    if row.kind == crate::proxy_rings::ALERT_KIND {
        let details: Value = serde_json::from_str(&row.details_json)
            .map_err(|e| StoreError::Corrupt(format!("details of alert {id}: {e}")))?;
        persons = details["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or(persons);
    }
    let version = platform.pack.version_on(on).ok_or_else(|| {
        FieldError::new(
            "action",
            FieldErrorKind::OutOfRange,
            format!("no pack version is in force on {on}"),
        )
    })?;
    let until = freeport_core::calendar::last_day_of_years(on, version.duty_free.ban_years);
    consequences.duty_free_bans = persons
        .into_iter()
        .map(|p| (p, on.to_string(), until.to_string()))
        .collect();
    consequences.dishonesty_until = version
        .duty_free
        .dishonesty_years
        .map(|years| freeport_core::calendar::last_day_of_years(on, years).to_string());
    Ok(())
}

/// An officer disposes of an analysed alert. An unfounded alert takes no action; the penalty is
/// stated for `penalise` and only for it (checked at parsing).
#[allow(clippy::too_many_arguments)]
pub async fn dispose(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    action: AlertAction,
    penalty: Option<Cny>,
    notes: &str,
    revision: i64,
    answer: Answer<'_>,
) -> AppResult<AlertRow> {
    actor.require(crate::Permission::DisposeAlerts)?;
    let row = ready(platform, id, AlertState::Disposed, revision).await?;
    let analysis: Value = match row.analysis_json.as_deref() {
        Some(a) => serde_json::from_str(a)
            .map_err(|e| StoreError::Corrupt(format!("analysis of alert {id}: {e}")))?,
        None => Value::Null,
    };
    if analysis["conclusion"] == "unfounded" && action != AlertAction::NoAction {
        return Err(AppError::InvalidTransition(
            "the analysis found the alert unfounded: dispose of it with no_action".into(),
        ));
    }
    let on = platform.today();
    let consequences = consequences_of(platform, actor, &row, action, penalty, notes, on)?;
    let record = json!({ "action": action.as_str(), "penalty": penalty.map(|p| p.to_string()), "notes": notes, "officer": actor.user_id, "on": on.to_string() });
    step(
        platform,
        actor,
        row,
        AlertState::Disposed,
        record,
        consequences,
        answer,
    )
    .await
}

/// An analyst evaluates a disposed alert: did the disposal find what the alert suspected, and
/// what did it recover. Evaluations are what the alert thresholds are tuned on.
#[allow(clippy::too_many_arguments)]
pub async fn evaluate(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    effective: bool,
    revenue: Cny,
    notes: &str,
    revision: i64,
    answer: Answer<'_>,
) -> AppResult<AlertRow> {
    actor.require(crate::Permission::AnalyseAlerts)?;
    let row = ready(platform, id, AlertState::Evaluated, revision).await?;
    let record = json!({ "effective": effective, "revenue_found": revenue.to_string(), "notes": notes, "analyst": actor.user_id });
    step(
        platform,
        actor,
        row,
        AlertState::Evaluated,
        record,
        Consequences::default(),
        answer,
    )
    .await
}

/// The alert queue, oldest first, after id `after`, in state `wanted` or all: customs only.
pub async fn alerts(
    platform: &Platform,
    actor: &Actor,
    wanted: Option<AlertState>,
    after: &str,
    limit: i64,
) -> AppResult<Vec<AlertRow>> {
    actor.require(crate::Permission::ReadRisk)?;
    Ok(platform.store.alerts(wanted, after, limit).await?)
}

/// One alert with its analysis, disposal and evaluation: customs only.
pub async fn read_alert(platform: &Platform, actor: &Actor, id: &str) -> AppResult<AlertRow> {
    actor.require(crate::Permission::ReadRisk)?;
    alert(platform, id).await
}
