//! The application layer of Freeport: the platform's use cases, one function each, shared by the
//! HTTP API, the CLI, the console and the drill.
//!
//! A use case takes parsed domain values, the actor, and the [`Platform`] (store, pack, risk setup,
//! clock). It reads everything it needs first (one snapshot), calls the pure core (`decide`) and the
//! pure risk assessment, and commits once. No HTTP type crosses into it; each edge maps
//! [`AppError`] to its own words.
//!
//! - [`account_books`]: an officer's stock-take or write-off, with shortfall alerts.
//! - [`alerts`]: the alert queue's steps (analysis, disposal, evaluation) and their consequences.
//! - [`credit`]: credit records and repair, answered with the assessment.
//! - [`declarations`]: submit a declaration, the straight line edge -> parse -> snapshot -> decide
//!   -> assess -> commit.
//! - [`snapshot`]: what a decision and its assessment read, in core types, before deciding.
//! - [`deciding`]: the pure steps after `decide`: postings, supervised items, reversals, the lane.
//! - [`duty_free`]: a duty-free sale decided and recorded, with proxy-buying alerts; shops
//!   registered.
//! - [`lifecycle`]: a declaration's status changes, inspection results, cancellation, amendment.
//! - [`second_line`]: the ports, a red-lane declaration's scan, crossings at a channel.
//! - [`second_line_credit`]: the second-line white and key-concern lists, an operator's class.
//! - [`passengers`]: a traveller's carried duty-free goods checked at a second-line channel.
//! - [`batch_exit`]: who may ship in batches, the month's consolidated declaration, reinstatement.
//! - [`supervision`]: disposals of supervised goods and their back taxes.
//! - [`registry`]: enterprises registered, exchange rates kept.
//! - [`users`]: roles, users created, password hashes.
//! - [`sessions`]: log-in (the same work for an unknown user as for a wrong password), the
//!   token's user, log-out.
//! - [`webhooks`]: an enterprise's webhook set (with a new signing secret) or removed.
//! - [`rule_sets`]: propose, back-test, shadow, activate and retire rule sets.
//! - [`live`]: the rule sets and model in force, kept in step with the store on every node.
//! - [`training`]: the platform model trained on stored inspection results, and the retrainer.
//! - [`permissions`]: who may do what, one table checked by every use case.
//! - [`clock`]: where every recorded time comes from.
#![forbid(unsafe_code)]

pub mod account_books;
pub mod alerts;
pub mod batch_exit;
pub mod categories;
pub mod clock;
pub mod credit;
pub mod deciding;
pub mod declarations;
pub mod departures;
pub mod dishonesty;
pub mod duty_free;
mod error;
pub mod lifecycle;
pub mod live;
pub mod passengers;
pub mod permissions;
pub mod pickup;
pub mod proxy_rings;
pub mod registry;
pub mod rule_sets;
pub mod second_line;
pub mod second_line_credit;
pub mod sessions;
pub mod snapshot;
pub mod supervision;
pub mod throttle;
pub mod trace;
pub mod training;
pub mod users;
pub mod webhooks;

use std::sync::{Arc, RwLock};

use freeport_core::pack::PolicyPack;
use freeport_risk::selectivity::{LiveRules, RiskSetup};
use freeport_store::Store;

pub use error::{AppError, AppResult};
pub use freeport_risk::selectivity::wire_name;
pub use permissions::Permission;

/// Everything a use case works with: the store, the policy pack, what selects lanes, and the clock.
/// Cheap to clone.
#[derive(Clone)]
pub struct Platform {
    pub store: Store,
    pub pack: Arc<PolicyPack>,
    /// The bundled rule set, the lane settings and the draw's salt.
    pub risk: Arc<RiskSetup>,
    /// The rule sets and model in force, swapped whole when an analyst activates or shadows one.
    pub live_rules: Arc<RwLock<Arc<LiveRules>>>,
    /// Where every recorded time comes from.
    pub clock: Arc<dyn clock::Clock>,
}

impl Platform {
    /// The platform with the bundled rule and settings files, on the system clock. The draw's salt
    /// is keyed by the store's secret, so nobody without it can tell which declarations the random
    /// sample will take.
    pub fn new(store: Store, pack: Arc<PolicyPack>) -> Platform {
        let salt = u64::from_str_radix(&store.person_code("risk draw salt")[..16], 16).unwrap_or(0);
        let risk = RiskSetup::bundled(&pack, salt)
            .expect("the bundled rule and settings files parse (tested)");
        let live = LiveRules::bundled(&risk);
        Platform {
            risk: Arc::new(risk),
            live_rules: Arc::new(RwLock::new(Arc::new(live))),
            store,
            pack,
            clock: Arc::new(clock::SystemClock),
        }
    }

    /// Now, by the platform's clock, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Today in the zone's time (UTC+8), by the platform's clock.
    pub fn today(&self) -> time::Date {
        clock::zone_day(self.now_ms())
    }
}

/// The user a use case acts for: who is recorded, in which role, and the enterprise the user is
/// bound to (an enterprise user's own, or the duty-free operator whose shops the user sells in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: users::Role,
    pub enterprise: Option<String>,
}

impl Actor {
    /// Customs sees every enterprise's records; other users see their own.
    pub fn sees_every_enterprise(&self) -> bool {
        permissions::sees_every_enterprise(self.role)
    }

    /// May this actor see or act on `enterprise`'s records? A foreign tenant's record is reported
    /// absent (`NotFound`), so its existence does not leak.
    pub fn may_see(&self, enterprise: &str) -> bool {
        self.sees_every_enterprise()
            || (self.role == users::Role::EnterpriseUser
                && self.enterprise.as_deref() == Some(enterprise))
    }

    /// May this actor see or act on a duty-free shop run by `operator`?
    pub fn may_see_shop(&self, operator: &str) -> bool {
        self.sees_every_enterprise()
            || (self.role == users::Role::DutyFreeOperator
                && self.enterprise.as_deref() == Some(operator))
    }

    /// `Forbidden` unless the actor's role holds `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if permission.roles().contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "the {} role may not do this",
                self.role.as_str()
            )))
        }
    }

    /// `NotFound` unless the actor may see `enterprise`'s records.
    pub fn require_enterprise(&self, enterprise: &str) -> AppResult<()> {
        if self.may_see(enterprise) {
            Ok(())
        } else {
            Err(AppError::NotFound("no such resource".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use users::Role;

    fn actor(role: Role, enterprise: Option<&str>) -> Actor {
        Actor {
            user_id: "u".into(),
            role,
            enterprise: enterprise.map(str::to_owned),
        }
    }

    #[test]
    fn an_enterprise_user_sees_its_own_enterprise_and_no_shop() {
        let a = actor(Role::EnterpriseUser, Some("A"));
        assert!(a.may_see("A"));
        assert!(!a.may_see("B"));
        assert!(!a.may_see_shop("A"));
    }

    #[test]
    fn an_operator_sees_its_own_shops_and_no_enterprise_records() {
        let a = actor(Role::DutyFreeOperator, Some("OP"));
        assert!(a.may_see_shop("OP"));
        assert!(!a.may_see_shop("OTHER"));
        assert!(!a.may_see("OP"));
    }

    #[test]
    fn customs_sees_everything_and_a_refusal_names_the_role() {
        let a = actor(Role::RiskAnalyst, None);
        assert!(a.may_see("A") && a.may_see_shop("OP"));
        let refused = a
            .require(Permission::Examine)
            .expect_err("an analyst does not examine");
        assert_eq!(refused.to_string(), "the risk_analyst role may not do this");
    }
}
