//! Hainan's second-line credit (R6.2): officers put operators and individuals on the white list or
//! the key-concern list; an operator's class, with its components, is visible to it.

use freeport_core::credit::CreditClass;
use freeport_core::identity::{CreditCode, PersonDocument};
use freeport_core::second_line_credit::{
    SecondLineClass, SecondLineList, individual_class, operator_class,
};
use freeport_store::{IdempotencyRecord, ListingRow, StoreError};

use crate::{Actor, AppError, AppResult, Permission, Platform};

fn listed(row: Option<&ListingRow>) -> AppResult<Option<SecondLineList>> {
    row.map(|r| {
        SecondLineList::parse(&r.list).ok_or_else(|| {
            AppError::Store(StoreError::Corrupt(format!(
                "second-line listing of {}: {}",
                r.party, r.list
            )))
        })
    })
    .transpose()
}

/// An operator's second-line class and what it comes from.
#[derive(Debug, Clone)]
pub struct OperatorCredit {
    pub enterprise: String,
    pub class: SecondLineClass,
    /// Its national credit class today (R6.1).
    pub national: String,
    pub listing: Option<ListingRow>,
}

/// An operator's class from its national class today and its listing (read with it).
pub async fn operator_credit(
    platform: &Platform,
    enterprise: &str,
    national: &str,
) -> AppResult<OperatorCredit> {
    let listing = platform.store.second_line_listing(enterprise).await?;
    let class = operator_class(
        CreditClass::parse(national).unwrap_or(CreditClass::General),
        listed(listing.as_ref())?,
    );
    Ok(OperatorCredit {
        enterprise: enterprise.to_owned(),
        class,
        national: national.to_owned(),
        listing,
    })
}

/// An operator's second-line credit as it stands today: customs, and the enterprise's own users.
pub async fn operator_standing(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
) -> AppResult<OperatorCredit> {
    actor.require(Permission::ReadCredit)?;
    actor.require_enterprise(enterprise.as_str())?;
    let e = crate::credit::registered(platform, enterprise.as_str()).await?;
    let national = platform.credit_assessment(&e, platform.today()).await?;
    operator_credit(
        platform,
        enterprise.as_str(),
        freeport_risk::selectivity::wire_name(national.class).as_str(),
    )
    .await
}

/// An officer puts an operator on a list, or off every list (`None`), with a reason.
pub async fn list_operator(
    platform: &Platform,
    actor: &Actor,
    enterprise: &CreditCode,
    list: Option<SecondLineList>,
    reason: &str,
    idempotency: Option<IdempotencyRecord>,
) -> AppResult<()> {
    actor.require(Permission::KeepCreditRecords)?;
    crate::credit::registered(platform, enterprise.as_str()).await?;
    keep(
        platform,
        actor,
        enterprise.as_str(),
        "operator",
        list,
        reason,
        idempotency,
    )
    .await
}

/// An officer puts an individual (known by document, kept by person code) on a list, or off.
pub async fn list_individual(
    platform: &Platform,
    actor: &Actor,
    document: &PersonDocument,
    list: Option<SecondLineList>,
    reason: &str,
    idempotency: Option<IdempotencyRecord>,
) -> AppResult<String> {
    actor.require(Permission::KeepCreditRecords)?;
    let code = platform.store.person_code(&document.canonical_key());
    keep(
        platform,
        actor,
        &code,
        "individual",
        list,
        reason,
        idempotency,
    )
    .await?;
    Ok(code)
}

async fn keep(
    platform: &Platform,
    actor: &Actor,
    party: &str,
    kind: &str,
    list: Option<SecondLineList>,
    reason: &str,
    idempotency: Option<IdempotencyRecord>,
) -> AppResult<()> {
    if reason.trim().is_empty() {
        return Err(freeport_core::FieldError::new(
            "reason",
            freeport_core::FieldErrorKind::Missing,
            "say why",
        )
        .into());
    }
    platform
        .store
        .set_second_line_listing(
            freeport_store::NewListing {
                party,
                kind,
                list: list.map(SecondLineList::as_str),
                reason: reason.trim(),
                actor: &actor.user_id,
                now_ms: platform.now_ms(),
            },
            idempotency.as_ref(),
        )
        .await?;
    Ok(())
}

/// An individual's class, by person code.
pub async fn individual(platform: &Platform, person_code: &str) -> AppResult<SecondLineClass> {
    let listing = platform.store.second_line_listing(person_code).await?;
    Ok(individual_class(listed(listing.as_ref())?))
}
