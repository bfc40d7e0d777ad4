//! Who may do what: one table for every edge. Each use case checks its permission itself, so the
//! API, the console and the drill cannot disagree; the HTTP edge checks the same permission
//! before it looks for an idempotent replay, so a forbidden caller learns nothing from one.
//!
//! Which records a permitted actor then sees is the tenant rule of [`crate::Actor::may_see`]:
//! an enterprise user sees its own enterprise, an operator its own shops, customs everything.

use crate::users::Role::{self, *};

/// A thing an actor may ask the platform to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read declarations and their history.
    ReadDeclarations,
    /// Decide a declaration without committing it.
    Quote,
    /// Submit, amend or cancel a declaration (the declarant's own).
    Declare,
    /// Move a declaration along its lifecycle, or record an inspection's result.
    Examine,
    ReadAccountBook,
    /// A stock-take or write-off.
    AdjustAccountBook,
    ReadSupervisedGoods,
    /// Transfer, release early or divert supervised goods.
    DisposeSupervisedGoods,
    /// Duty-free shops and their sales.
    ReadShops,
    RegisterShop,
    Sell,
    ReadWebhook,
    SetWebhook,
    ReadCredit,
    /// Keep a credit record, or grant credit repair.
    KeepCreditRecords,
    /// The alert queue, rule sets, their performance, and the models.
    ReadRisk,
    /// Propose, back-test, shadow, activate and retire rule sets; train models.
    GovernRisk,
    /// Analyse an alert, and evaluate what its disposal found.
    AnalyseAlerts,
    DisposeAlerts,
    /// The whole registry.
    ReadRegistry,
    /// Register enterprises and keep exchange rates.
    Register,
    CreateUsers,
    VerifyAudit,
    /// A port's inspection load: capacity, admitted, overflow, the scan queue.
    ReadPortLoad,
    /// Set a port's daily inspection capacity.
    SetPortCapacity,
    /// Put a port in an emergency mode, or return it to normal.
    SetPortMode,
    /// Record a traveller's departure from the island.
    RecordDeparture,
    /// Put a person on the duty-free serious-dishonesty list (R4.7).
    ListDishonest,
    /// The pack's duty-free categories, limits and lists: what every till and traveller may know.
    ReadDutyFreeRules,
}

const CUSTOMS: &[Role] = &[CustomsOfficer, RiskAnalyst, Administrator];
const CUSTOMS_AND_ENTERPRISE: &[Role] =
    &[EnterpriseUser, CustomsOfficer, RiskAnalyst, Administrator];
const CUSTOMS_AND_OPERATOR: &[Role] =
    &[DutyFreeOperator, CustomsOfficer, RiskAnalyst, Administrator];

impl Permission {
    /// The roles that hold this permission.
    pub fn roles(self) -> &'static [Role] {
        use Permission::*;
        match self {
            ReadDeclarations | Quote | ReadAccountBook | ReadSupervisedGoods | ReadCredit => {
                CUSTOMS_AND_ENTERPRISE
            }
            Declare | DisposeSupervisedGoods => &[EnterpriseUser],
            Examine | AdjustAccountBook | KeepCreditRecords | DisposeAlerts => &[CustomsOfficer],
            ReadShops => CUSTOMS_AND_OPERATOR,
            RegisterShop | Register => &[CustomsOfficer, Administrator],
            Sell => &[DutyFreeOperator],
            ReadWebhook => &[EnterpriseUser, CustomsOfficer, Administrator],
            SetWebhook => &[EnterpriseUser, Administrator],
            ReadRisk | ReadRegistry | ReadPortLoad => CUSTOMS,
            GovernRisk | AnalyseAlerts => &[RiskAnalyst],
            CreateUsers | VerifyAudit | SetPortCapacity | SetPortMode => &[Administrator],
            RecordDeparture => &[Carrier, CustomsOfficer],
            ListDishonest => &[CustomsOfficer],
            ReadDutyFreeRules => &Role::ALL,
        }
    }
}

/// Customs sees every enterprise's records.
pub(crate) fn sees_every_enterprise(role: Role) -> bool {
    CUSTOMS.contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enterprise_user_declares_and_customs_examines_but_neither_does_the_other() {
        assert_eq!(Permission::Declare.roles(), &[EnterpriseUser]);
        assert!(!Permission::Examine.roles().contains(&EnterpriseUser));
        assert!(!Permission::Sell.roles().contains(&CustomsOfficer));
    }

    #[test]
    fn only_customs_sees_every_enterprise() {
        assert!(sees_every_enterprise(RiskAnalyst));
        assert!(!sees_every_enterprise(EnterpriseUser));
        assert!(!sees_every_enterprise(DutyFreeOperator));
    }
}
