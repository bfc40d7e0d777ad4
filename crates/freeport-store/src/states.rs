//! Lifecycle states as the store keeps them: the domain's enum, by its wire name, in a text column.
//!
//! A row is read back into the enum here, at the store's edge, so no caller compares state names:
//! a name the domain does not know is a corrupt row (fail closed), never a state nobody handles.

use freeport_core::lifecycle::DeclarationStatus;
use freeport_core::supervision::SupervisedState;
use freeport_risk::governance::{AlertState, RuleSetState};

use crate::steps::Columns;
use crate::{Result, StoreError};

/// A domain state that has a stored name.
pub trait StoredState: Copy + Sized {
    /// What the state belongs to, for the error that names a row that does not read.
    const OF: &'static str;
    fn name(self) -> &'static str;
    fn from_name(name: &str) -> Option<Self>;
}

impl StoredState for DeclarationStatus {
    const OF: &'static str = "declaration status";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(name: &str) -> Option<Self> {
        DeclarationStatus::parse(name)
    }
}

impl StoredState for SupervisedState {
    const OF: &'static str = "supervised item state";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(name: &str) -> Option<Self> {
        SupervisedState::parse(name)
    }
}

impl StoredState for RuleSetState {
    const OF: &'static str = "rule set state";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(name: &str) -> Option<Self> {
        RuleSetState::parse(name)
    }
}

impl StoredState for AlertState {
    const OF: &'static str = "alert state";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(name: &str) -> Option<Self> {
        AlertState::parse(name)
    }
}

/// The state in `column`, or `Corrupt` naming the text that is no such state.
pub(crate) fn row_state<S: StoredState>(row: &(impl Columns + ?Sized), column: &str) -> Result<S> {
    let text = row.text(column)?;
    S::from_name(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?} is no {}", S::OF)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_stored_name() {
        for s in DeclarationStatus::ALL {
            assert_eq!(DeclarationStatus::from_name(s.name()), Some(s));
        }
        for s in [
            SupervisedState::Supervised,
            SupervisedState::Disposed,
            SupervisedState::Withdrawn,
        ] {
            assert_eq!(SupervisedState::from_name(s.name()), Some(s));
        }
        for s in [
            RuleSetState::Proposed,
            RuleSetState::Shadow,
            RuleSetState::Active,
            RuleSetState::Retired,
        ] {
            assert_eq!(RuleSetState::from_name(s.name()), Some(s));
        }
        for s in [
            AlertState::Open,
            AlertState::Analysed,
            AlertState::Disposed,
            AlertState::Evaluated,
        ] {
            assert_eq!(AlertState::from_name(s.name()), Some(s));
        }
        assert_eq!(DeclarationStatus::from_name("Decided"), None);
    }
}
