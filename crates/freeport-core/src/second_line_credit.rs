//! Hainan's second-line credit (R6.2, from 2025-12-18): operators are advanced certified, on the
//! white list or on the key-concern list; individuals on the white list or the key-concern list;
//! everyone else unclassified. The class drives the second line: advanced certified and white-list
//! operators may ship in batches (R2.5) and are checked less, key-concern operators more; white-list
//! individuals are not inspected absent a risk alert, key-concern individuals are checked more.

use serde::Serialize;

use crate::credit::CreditClass;

/// The lists customs keeps at the second line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondLineList {
    WhiteList,
    KeyConcern,
}

impl SecondLineList {
    pub fn as_str(self) -> &'static str {
        match self {
            SecondLineList::WhiteList => "white_list",
            SecondLineList::KeyConcern => "key_concern",
        }
    }

    pub fn parse(text: &str) -> Option<SecondLineList> {
        match text {
            "white_list" => Some(SecondLineList::WhiteList),
            "key_concern" => Some(SecondLineList::KeyConcern),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondLineClass {
    AdvancedCertified,
    WhiteList,
    KeyConcern,
    Unclassified,
}

impl SecondLineClass {
    pub fn as_str(self) -> &'static str {
        match self {
            SecondLineClass::AdvancedCertified => "advanced_certified",
            SecondLineClass::WhiteList => "white_list",
            SecondLineClass::KeyConcern => "key_concern",
            SecondLineClass::Unclassified => "unclassified",
        }
    }

    /// Advanced certified and white-list operators may ship in batches (R2.5).
    pub fn may_ship_in_batches(self) -> bool {
        matches!(
            self,
            SecondLineClass::AdvancedCertified | SecondLineClass::WhiteList
        )
    }
}

/// An operator's class, from its national credit class (R6.1) and the list customs put it on.
/// Concern wins: a key-concern listing, or a dishonest national class, makes it key concern
/// whatever else holds.
pub fn operator_class(national: CreditClass, list: Option<SecondLineList>) -> SecondLineClass {
    match (national, list) {
        (_, Some(SecondLineList::KeyConcern))
        | (CreditClass::Dishonest | CreditClass::SeriouslyDishonest, _) => {
            SecondLineClass::KeyConcern
        }
        (CreditClass::AdvancedCertified, _) => SecondLineClass::AdvancedCertified,
        (_, Some(SecondLineList::WhiteList)) => SecondLineClass::WhiteList,
        _ => SecondLineClass::Unclassified,
    }
}

/// An individual's class: the list customs put the person on, if any.
pub fn individual_class(list: Option<SecondLineList>) -> SecondLineClass {
    match list {
        Some(SecondLineList::WhiteList) => SecondLineClass::WhiteList,
        Some(SecondLineList::KeyConcern) => SecondLineClass::KeyConcern,
        None => SecondLineClass::Unclassified,
    }
}

/// Whether a passenger is inspected at a second-line channel: a key-concern individual always, a
/// white-list one only on a risk alert, anyone else when the check found something.
pub fn inspect_passenger(class: SecondLineClass, alert: bool) -> bool {
    match class {
        SecondLineClass::KeyConcern => true,
        _ => alert,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concern_wins_and_certification_or_the_white_list_open_batch_exit() {
        use CreditClass::*;
        use SecondLineList::*;
        assert_eq!(
            operator_class(AdvancedCertified, Some(KeyConcern)),
            SecondLineClass::KeyConcern
        );
        assert_eq!(
            operator_class(Dishonest, Some(WhiteList)),
            SecondLineClass::KeyConcern
        );
        assert_eq!(
            operator_class(General, Some(WhiteList)),
            SecondLineClass::WhiteList
        );
        assert_eq!(operator_class(General, None), SecondLineClass::Unclassified);
        assert!(operator_class(General, Some(WhiteList)).may_ship_in_batches());
        assert!(!operator_class(Certified, None).may_ship_in_batches());
        assert!(inspect_passenger(individual_class(Some(KeyConcern)), false));
        assert!(!inspect_passenger(individual_class(Some(WhiteList)), false));
        assert!(inspect_passenger(individual_class(Some(WhiteList)), true));
    }
}
