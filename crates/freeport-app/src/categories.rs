//! What the pack in force on a day says a till may sell: the duty-free categories with their
//! limits (each marked verified or unverified), the pick-up thresholds, and the residents'
//! zero-tariff positive list when in force.

use freeport_core::pack::PackVersion;
use freeport_core::{FieldError, FieldErrorKind};
use time::Date;

use crate::{Actor, AppResult, Platform};

/// The version in force on `on`, for its duty-free rules.
pub fn in_force<'p>(platform: &'p Platform, actor: &Actor, on: Date) -> AppResult<&'p PackVersion> {
    actor.require(crate::Permission::ReadDutyFreeRules)?;
    platform.pack.version_on(on).ok_or_else(|| {
        FieldError::new(
            "on",
            FieldErrorKind::OutOfRange,
            format!("no pack version is in force on {on}"),
        )
        .into()
    })
}
