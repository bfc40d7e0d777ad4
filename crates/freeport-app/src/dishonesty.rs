//! The duty-free shopping serious-dishonesty list (R4.7): customs lists a person by document (kept
//! only as the person code) on a ground the provisions name; the listing lasts the pack's years
//! from its day, and every till refuses the person meanwhile. A second ban lists the person by
//! itself (`alerts`).

use freeport_core::identity::PersonDocument;
use freeport_core::{FieldError, FieldErrorKind};
use freeport_store::{DishonestyRow, IdempotencyRecord, NewDishonestyListing};
use time::Date;

use crate::{Actor, AppResult, Platform};

/// Why a person is listed (R4.7 (a)-(c)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ground {
    /// Convicted, or criminally liable though exempted from punishment.
    Conviction,
    /// An administrative penalty with serious circumstances.
    SeriousPenalty,
    /// Two or more administrative penalties.
    TwoOrMorePenalties,
    /// Other legal grounds.
    Other,
}

impl Ground {
    pub const ALL: [Ground; 4] = [
        Ground::Conviction,
        Ground::SeriousPenalty,
        Ground::TwoOrMorePenalties,
        Ground::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ground::Conviction => "conviction",
            Ground::SeriousPenalty => "serious_penalty",
            Ground::TwoOrMorePenalties => "two_or_more_penalties",
            Ground::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Ground> {
        Ground::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// A listing as customs asks for it, parsed.
#[derive(Debug, Clone)]
pub struct Listing {
    pub document: PersonDocument,
    pub ground: Ground,
    pub listed_on: Date,
    /// 1 to 300 characters: the decision or judgment it rests on.
    pub reason: String,
}

/// Lists a person from `listed_on` for the years the version in force that day gives.
pub async fn list(
    platform: &Platform,
    actor: &Actor,
    l: Listing,
    answer: impl FnOnce(&NewDishonestyListing) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<NewDishonestyListing> {
    actor.require(crate::Permission::ListDishonest)?;
    let today = platform.today();
    if l.listed_on > today {
        return Err(FieldError::new(
            "listed_on",
            FieldErrorKind::OutOfRange,
            format!("on or before today ({today})"),
        )
        .into());
    }
    let years = platform
        .pack
        .version_on(l.listed_on)
        .and_then(|v| v.duty_free.dishonesty_years)
        .ok_or_else(|| {
            FieldError::new(
                "listed_on",
                FieldErrorKind::OutOfRange,
                format!("no serious-dishonesty list is in force on {}", l.listed_on),
            )
        })?;
    let reason = l.reason.trim();
    if reason.is_empty() || reason.chars().count() > 300 {
        return Err(
            FieldError::new("reason", FieldErrorKind::OutOfRange, "1 to 300 characters").into(),
        );
    }
    let until = freeport_core::calendar::last_day_of_years(l.listed_on, years);
    let mut listing = NewDishonestyListing {
        id: uuid::Uuid::now_v7().to_string(),
        person_code: platform.store.person_code(&l.document.canonical_key()),
        listed_on: l.listed_on.to_string(),
        until: until.to_string(),
        ground: l.ground.as_str().to_owned(),
        reason: reason.to_owned(),
        actor: actor.user_id.clone(),
        idempotency: None,
        now_ms: platform.now_ms(),
    };
    listing.idempotency = answer(&listing)?;
    platform.store.list_dishonest(&listing).await?;
    Ok(listing)
}

/// Listings in force on `on`, or all, a page after id `after`.
pub async fn listings(
    platform: &Platform,
    actor: &Actor,
    on: Option<Date>,
    after: &str,
    limit: i64,
) -> AppResult<Vec<DishonestyRow>> {
    actor.require(crate::Permission::ReadRisk)?;
    let on = on.map(|d| d.to_string());
    Ok(platform
        .store
        .dishonesty_listings(on.as_deref(), after, limit)
        .await?)
}
