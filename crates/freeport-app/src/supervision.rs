//! Supervised goods (R3.4): a zero-tariff import stays under supervision for its period; a
//! transfer or early release before its end pays back taxes at the disposal day's rates (R8.10),
//! and a diversion to another use pays them for the days diverted.

use freeport_core::country::Country;
use freeport_core::hs::HsCode;
use freeport_core::identity::CreditCode;
use freeport_core::money::Cny;
use freeport_core::supervision::{
    Disposal, DisposalOrder, SupervisedItem, SupervisedState, assess_disposal,
};
use freeport_core::tax::TaxAmounts;
use freeport_core::unit::{Quantity, Unit};
use freeport_store::{IdempotencyRecord, NewDisposal, NewPosting, StoreError, SupervisedItemRow};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::{Actor, AppError, AppResult, Platform};

/// A disposal recorded: what was stored, the taxes and explanation, and the item after it.
#[derive(Debug, Clone)]
pub struct Disposed {
    pub disposal: NewDisposal,
    pub taxes: TaxAmounts,
    pub explanation: Value,
    pub item_after: SupervisedItemRow,
}

/// A supervised item of `enterprise` that `actor` may see.
pub async fn supervised_item(
    platform: &Platform,
    actor: &Actor,
    enterprise: CreditCode,
    id: &str,
) -> AppResult<SupervisedItemRow> {
    let absent = || AppError::NotFound("no such resource".into());
    if !actor.may_see(enterprise.as_str()) || uuid::Uuid::parse_str(id).is_err() {
        return Err(absent());
    }
    match platform.store.supervised_item(id).await? {
        Some(item) if item.enterprise == enterprise.as_str() => Ok(item),
        _ => Err(absent()),
    }
}

/// The stored item in the core's terms; a field that does not read fails closed.
fn item_of(platform: &Platform, row: &SupervisedItemRow) -> AppResult<SupervisedItem> {
    let corrupt = |field: &str| {
        AppError::Store(StoreError::Corrupt(format!(
            "supervised item {}: {field}",
            row.id
        )))
    };
    Ok(SupervisedItem {
        hs_code: HsCode::parse("hs_code", &row.hs_code, &platform.pack.nomenclature)
            .map_err(|_| corrupt("hs_code"))?,
        origin: Country::parse(&row.origin).map_err(|_| corrupt("origin"))?,
        consumption_tax_item: row.consumption_tax_item.clone(),
        years: u32::try_from(row.years).map_err(|_| corrupt("years"))?,
        released_on: freeport_core::calendar::parse_day("released_on", &row.released_on)
            .map_err(|_| corrupt("released_on"))?,
        quantity: Quantity {
            value: Decimal::new(row.quantity_milli, 3),
            unit: Unit::parse("unit", &row.unit).map_err(|_| corrupt("unit"))?,
        },
        customs_value: Cny::from_fen(row.customs_value_fen),
    })
}

/// The holder disposes of (part of) a supervised item: the back taxes are assessed at the
/// disposal day's rates and recorded with the disposal; goods that leave supervision leave the
/// account book in the same transaction.
pub async fn dispose(
    platform: &Platform,
    actor: &Actor,
    row: SupervisedItemRow,
    order: DisposalOrder,
    revision: i64,
    answer: impl FnOnce(&Disposed) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Disposed> {
    actor.require(crate::Permission::DisposeSupervisedGoods)?;
    let state = row.state;
    if state != SupervisedState::Supervised {
        return Err(AppError::InvalidTransition(format!(
            "the item is {}, no longer supervised",
            state.as_str()
        )));
    }
    let item = item_of(platform, &row)?;
    let quantity = order.quantity.unwrap_or(item.quantity.value);
    let quantity_milli = freeport_core::limits::to_milli("quantity", quantity)?;
    let assessment = assess_disposal(
        &platform.pack,
        &item,
        &Disposal {
            kind: order.kind,
            on: order.on,
            quantity,
        },
    )?;
    let leaves = order.kind.ends_supervision();
    let (remaining_quantity_milli, remaining_value_fen) = if leaves {
        (
            row.quantity_milli - quantity_milli,
            row.customs_value_fen - assessment.disposed_value.fen(),
        )
    } else {
        (row.quantity_milli, row.customs_value_fen)
    };
    let explanation =
        serde_json::to_value(&assessment.steps).map_err(|e| AppError::Internal(e.to_string()))?;
    let after_state = if remaining_quantity_milli == 0 {
        SupervisedState::Disposed
    } else {
        SupervisedState::Supervised
    };
    let kind = order.kind.as_str();
    let days_diverted = match order.kind {
        freeport_core::supervision::DisposalKind::Diversion { days } => Some(i64::from(days)),
        _ => None,
    };
    let mut disposed = Disposed {
        disposal: NewDisposal {
            id: uuid::Uuid::now_v7().to_string(),
            item_id: row.id.clone(),
            expected_revision: revision,
            enterprise: row.enterprise.clone(),
            kind: kind.to_owned(),
            on_day: order.on.to_string(),
            days_diverted,
            quantity_milli,
            disposed_value_fen: assessment.disposed_value.fen(),
            back_tax_value_fen: assessment.back_tax_value.fen(),
            tariff_fen: assessment.taxes.tariff.fen(),
            consumption_tax_fen: assessment.taxes.consumption_tax.fen(),
            vat_fen: assessment.taxes.vat.fen(),
            pack_version: assessment.pack.id.clone(),
            assessment_json: explanation.to_string(),
            posting: leaves.then(|| NewPosting {
                enterprise: row.enterprise.clone(),
                hs_code: row.hs_code.clone(),
                unit: row.unit.clone(),
                quantity_milli: -quantity_milli,
                value_fen: assessment.disposed_value.fen(),
                movement: "early_disposal".to_owned(),
                line: None,
                note: format!("{kind} of supervised item {}", row.id),
            }),
            remaining_quantity_milli,
            remaining_value_fen,
            actor: actor.user_id.clone(),
            idempotency: None,
            now_ms: platform.now_ms(),
        },
        taxes: assessment.taxes,
        explanation,
        item_after: SupervisedItemRow {
            quantity_milli: remaining_quantity_milli,
            customs_value_fen: remaining_value_fen,
            state: after_state,
            revision: row.revision + 1,
            ..row
        },
    };
    disposed.disposal.idempotency = answer(&disposed)?;
    platform.store.dispose(&disposed.disposal).await?;
    Ok(disposed)
}

/// A page of the goods `enterprise` holds under supervision, after id `after`: customs, and the
/// enterprise's own users.
pub async fn supervised_items(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
    after: &str,
    limit: i64,
) -> AppResult<Vec<SupervisedItemRow>> {
    actor.require(crate::Permission::ReadSupervisedGoods)?;
    actor.require_enterprise(enterprise.as_str())?;
    Ok(platform
        .store
        .supervised_items(enterprise.as_str(), after, limit)
        .await?)
}

/// One supervised item with its disposals.
pub async fn item_with_disposals(
    platform: &Platform,
    actor: &Actor,
    enterprise: CreditCode,
    id: &str,
) -> AppResult<(SupervisedItemRow, Vec<freeport_store::DisposalRow>)> {
    actor.require(crate::Permission::ReadSupervisedGoods)?;
    let item = supervised_item(platform, actor, enterprise, id).await?;
    let disposals = platform.store.disposals(&item.id).await?;
    Ok((item, disposals))
}
