//! How analysts govern risk: a rule set's life (proposed, back-tested, possibly run in shadow
//! beside the active set, activated, retired) and an alert's (open, analysed, disposed,
//! evaluated), with the actions a disposal may take. Each move is recorded with who and why.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSetState {
    Proposed,
    /// Evaluated on every declaration and recorded, never obeyed.
    Shadow,
    /// Decides lanes; at most one set at a time.
    Active,
    Retired,
}

impl RuleSetState {
    pub const ALL: [RuleSetState; 4] = [
        RuleSetState::Proposed,
        RuleSetState::Shadow,
        RuleSetState::Active,
        RuleSetState::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleSetState::Proposed => "proposed",
            RuleSetState::Shadow => "shadow",
            RuleSetState::Active => "active",
            RuleSetState::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<RuleSetState> {
        RuleSetState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The states a set may reach `to` from: shadow from proposed; active from proposed or shadow
    /// (the set in force moves aside); retired from any but retired.
    pub fn reachable_from(to: RuleSetState) -> &'static [RuleSetState] {
        use RuleSetState::*;
        match to {
            Proposed => &[],
            Shadow => &[Proposed],
            Active => &[Proposed, Shadow],
            Retired => &[Proposed, Shadow, Active],
        }
    }

    /// Whether at most one set holds this state, so that entering it retires the set that held it.
    pub fn is_held_by_one(self) -> bool {
        matches!(self, RuleSetState::Active | RuleSetState::Shadow)
    }

    /// Whether a move needs the set back-tested first: only activation does.
    pub fn needs_backtest(to: RuleSetState) -> bool {
        to == RuleSetState::Active
    }
}

/// Where an alert stands in the queue; each state is reached from the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Open,
    Analysed,
    Disposed,
    Evaluated,
}

impl AlertState {
    pub const ALL: [AlertState; 4] = [
        AlertState::Open,
        AlertState::Analysed,
        AlertState::Disposed,
        AlertState::Evaluated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Analysed => "analysed",
            AlertState::Disposed => "disposed",
            AlertState::Evaluated => "evaluated",
        }
    }

    pub fn parse(text: &str) -> Option<AlertState> {
        AlertState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The state an alert must be in to take the step that leads to `self`.
    pub fn previous(self) -> Option<AlertState> {
        match self {
            AlertState::Open => None,
            AlertState::Analysed => Some(AlertState::Open),
            AlertState::Disposed => Some(AlertState::Analysed),
            AlertState::Evaluated => Some(AlertState::Disposed),
        }
    }
}

/// What a disposal does about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Send the alert's declaration to physical inspection (red lane).
    Inspect,
    /// Hold the alert's declaration.
    Hold,
    /// An administrative penalty on the enterprise: a violation on its credit record.
    Penalise,
    /// Downgrade the enterprise's credit while the record counts.
    DowngradeCredit,
    /// No offshore duty-free for the alert's person for the pack's ban years (R4.6).
    BanDutyFree,
    NoAction,
}

impl AlertAction {
    pub const ALL: [AlertAction; 6] = [
        AlertAction::Inspect,
        AlertAction::Hold,
        AlertAction::Penalise,
        AlertAction::DowngradeCredit,
        AlertAction::BanDutyFree,
        AlertAction::NoAction,
    ];

    pub const NAMES: [&'static str; 6] = [
        "inspect",
        "hold",
        "penalise",
        "downgrade_credit",
        "ban_duty_free",
        "no_action",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Inspect => "inspect",
            AlertAction::Hold => "hold",
            AlertAction::Penalise => "penalise",
            AlertAction::DowngradeCredit => "downgrade_credit",
            AlertAction::BanDutyFree => "ban_duty_free",
            AlertAction::NoAction => "no_action",
        }
    }

    pub fn parse(text: &str) -> Option<AlertAction> {
        AlertAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_states_and_actions_read_back() {
        for s in AlertState::ALL {
            assert_eq!(AlertState::parse(s.as_str()), Some(s));
        }
        for (a, name) in AlertAction::ALL.iter().zip(AlertAction::NAMES) {
            assert_eq!(a.as_str(), name);
            assert_eq!(AlertAction::parse(name), Some(*a));
        }
        assert_eq!(AlertState::Evaluated.previous(), Some(AlertState::Disposed));
        assert_eq!(AlertState::Open.previous(), None);
    }

    #[test]
    fn states_read_back_and_only_the_documented_moves_exist() {
        for s in RuleSetState::ALL {
            assert_eq!(RuleSetState::parse(s.as_str()), Some(s));
        }
        let moves: Vec<(&str, &str)> = RuleSetState::ALL
            .iter()
            .flat_map(|to| {
                RuleSetState::reachable_from(*to)
                    .iter()
                    .map(move |from| (from.as_str(), to.as_str()))
            })
            .collect();
        assert_eq!(
            moves,
            [
                ("proposed", "shadow"),
                ("proposed", "active"),
                ("shadow", "active"),
                ("proposed", "retired"),
                ("shadow", "retired"),
                ("active", "retired"),
            ]
        );
    }
}
