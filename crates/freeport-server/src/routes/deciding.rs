//! What every decided declaration shares: the snapshot a decision reads, the decision
//! itself, its postings and supervised items, the reversal of postings, and the lane.

use super::*;

/// The state a decision reads, from the store: the parties' standing, the declarant's account book,
/// and the exchange rate of the rate day.
/// Also answers the declarant's credit class (`general` when it is not registered), read with its
/// standing, for the lane.
/// An enterprise's credit on `on`: the registered class and its credit records through the core's
/// assessment (R6.1).
pub(crate) async fn credit_assessment(
    state: &AppState,
    e: &Enterprise,
    on: time::Date,
) -> ApiResult<CreditAssessment> {
    let records = state.store.credit_history(&e.credit_code).await?;
    assess_credit_with(state, e, &records, on).await
}

/// The assessment over `records` (the stored ones, or with a record about to be kept).
pub(crate) async fn assess_credit_with(
    state: &AppState,
    e: &Enterprise,
    records: &[CreditRecord],
    on: time::Date,
) -> ApiResult<CreditAssessment> {
    // The prior year's declarations are the base of the violation share, which only violations
    // can cross: without any, the count is not needed.
    let prior = if records
        .iter()
        .any(|r| matches!(r.kind, CreditRecordKind::Violation { .. }))
    {
        let n = state
            .store
            .declarations_in_year(&e.credit_code, on.year() - 1)
            .await?;
        Some(u64::try_from(n).unwrap_or(0))
    } else {
        None
    };
    let version = state
        .pack
        .version_on(on)
        .or_else(|| state.pack.versions.first())
        .ok_or_else(|| ApiError::new(Code::Internal, "the pack has no version"))?;
    Ok(assess_credit(
        version,
        &CreditStanding {
            registered: freeport_store::domain::registered_class(e)?,
            records,
            prior_year_declarations: prior,
        },
        on,
    ))
}

pub(super) async fn snapshot_for(
    state: &AppState,
    d: &Declaration,
) -> ApiResult<(Snapshot, String)> {
    let mut declarant_class = "general".to_owned();
    let mut snapshot = Snapshot {
        enforce_balances: true,
        ..Snapshot::default()
    };
    let mut parties = vec![d.declarant];
    if let Some(Counterparty::Enterprise(c)) = &d.counterparty {
        parties.push(*c);
    }
    for code in parties {
        if let Some(e) = state.store.enterprise(code.as_str()).await? {
            if code == d.declarant {
                declarant_class = credit_assessment(state, &e, d.declared_on)
                    .await?
                    .class
                    .as_str()
                    .to_owned();
            }
            snapshot
                .enterprises
                .insert(code, state.store.standing(&e).await?);
        }
    }
    snapshot
        .balances
        .extend(state.store.book(d.declarant).await?);
    if d.currency != Currency::CNY
        && let Some(v) = state.pack.version_on(d.declared_on)
    {
        let day = customs_rate_date(d.declared_on, &v.holidays);
        if let Some(rate) = state
            .store
            .exchange_rate_on(d.currency.as_str(), day)
            .await?
        {
            snapshot.exchange_rates.insert(day, d.currency, rate);
        }
    }
    Ok((snapshot, declarant_class))
}

pub(super) fn decide<'p>(
    state: &'p AppState,
    d: &Declaration,
    snapshot: &Snapshot,
) -> ApiResult<Decision<'p>> {
    freeport_core::decide(d, &state.pack, snapshot).map_err(|e| {
        FieldError {
            field: format!("declaration.{}", e.field),
            ..e
        }
        .into()
    })
}

/// The decision's postings as store rows: quantities in thousandths, which must be whole.
pub(super) fn postings_of(decision: &Decision<'_>) -> ApiResult<Vec<NewPosting>> {
    decision
        .postings
        .iter()
        .map(|p| {
            let milli = p.quantity.value * Decimal::ONE_THOUSAND;
            if milli.fract() != Decimal::ZERO {
                return Err(FieldError::new(
                    format!("declaration.lines[{}].quantities[0].value", p.line),
                    FieldErrorKind::OutOfRange,
                    "account-book quantities have at most three decimals",
                )
                .into());
            }
            let quantity_milli = i64::try_from(milli).map_err(|_| {
                ApiError::from(FieldError::new(
                    format!("declaration.lines[{}].quantities[0].value", p.line),
                    FieldErrorKind::OutOfRange,
                    "too large",
                ))
            })?;
            Ok(NewPosting {
                enterprise: p.enterprise.as_str().to_owned(),
                hs_code: p.hs_code.as_str().to_owned(),
                unit: p.quantity.unit.code().to_owned(),
                quantity_milli,
                value_fen: p.value.fen(),
                movement: crate::wire_name(p.movement),
                line: i64::try_from(p.line).ok(),
                note: String::new(),
            })
        })
        .collect()
}

/// The goods the decision put under supervision (R3.4), one item per line, with the quantity and
/// value its first-line entry posted.
pub(super) fn supervised_of(
    decision: &Decision<'_>,
    d: &Declaration,
) -> ApiResult<Vec<NewSupervisedItem>> {
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
            quantity_milli: i64::try_from(quantity_milli.trunc()).map_err(|_| {
                ApiError::new(
                    Code::InvalidInput,
                    "quantity too large for the account book",
                )
            })?,
            customs_value_fen: posting.value.fen(),
        });
    }
    Ok(out)
}

/// Postings that undo a declaration's effect on the books: one per book entry, netting everything
/// the declaration posted there (an amended declaration has posted, reversed and posted again).
/// Entries that come back into a book go first, so no book passes through a negative balance.
pub(super) fn reversals(rows: &[PostingRow]) -> Vec<NewPosting> {
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

/// The lane of an accepted declaration, against the declarant's credit class on the declaration
/// day, with the facts the rules saw and the alerts it raises; refused and not-required
/// declarations take none. Pure: every input was read before the declaration was decided.
pub(super) fn assess_lane(
    state: &AppState,
    d: &Declaration,
    decision: &Decision<'_>,
    class: &str,
    inputs: &crate::risk::RiskInputs,
    id: &str,
) -> Option<(Assessment, Vec<LineFacts>, Vec<RaisedAlert>)> {
    if decision.outcome != Outcome::Accepted {
        return None;
    }
    let facts = selectivity::line_facts(d, decision, class, &inputs.references);
    let live = state.live_rules();
    let assessment = selectivity::assess(&state.risk, &live, &facts, class, id);
    let mut alerts = selectivity::rule_alerts(&assessment, d.declarant.as_str(), id, d.declared_on);
    alerts.extend(selectivity::spike_alerts(
        &state.risk.settings,
        &facts,
        &inputs.spike_counts,
        id,
        d.declared_on,
    ));
    Some((assessment, facts, alerts))
}

pub(super) fn status_after(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Accepted => "decided",
        Outcome::Rejected => "rejected",
        Outcome::NotRequired => "not_required",
    }
}
