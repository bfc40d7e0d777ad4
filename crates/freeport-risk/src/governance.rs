//! A rule set's life: proposed by an analyst, back-tested on history, possibly run in shadow beside
//! the active set, activated, and retired. Each move is recorded with who and why.

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

    /// Whether a move needs the set back-tested first: only activation does.
    pub fn needs_backtest(to: RuleSetState) -> bool {
        to == RuleSetState::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
