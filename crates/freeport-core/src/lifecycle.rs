//! A declaration's life after its decision, as a state machine: which status a decision leaves it
//! in, and which moves officers, enterprises and inspections may make from each.

use serde::Serialize;

use crate::decision::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationStatus {
    /// Accepted and assessed; waiting for release, inspection or a hold.
    Decided,
    Rejected,
    NotRequired,
    Released,
    UnderInspection,
    Held,
    Cancelled,
    Closed,
    /// Red lane at a second-line port: waiting for its H986 scan (R2.4).
    AwaitingScan,
    /// Released goods recorded crossing at the port's channel (gate-out): the declaration is done.
    Exited,
}

impl DeclarationStatus {
    pub const ALL: [DeclarationStatus; 10] = [
        DeclarationStatus::Decided,
        DeclarationStatus::Rejected,
        DeclarationStatus::NotRequired,
        DeclarationStatus::Released,
        DeclarationStatus::UnderInspection,
        DeclarationStatus::Held,
        DeclarationStatus::Cancelled,
        DeclarationStatus::Closed,
        DeclarationStatus::AwaitingScan,
        DeclarationStatus::Exited,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclarationStatus::Decided => "decided",
            DeclarationStatus::Rejected => "rejected",
            DeclarationStatus::NotRequired => "not_required",
            DeclarationStatus::Released => "released",
            DeclarationStatus::UnderInspection => "under_inspection",
            DeclarationStatus::Held => "held",
            DeclarationStatus::Cancelled => "cancelled",
            DeclarationStatus::Closed => "closed",
            DeclarationStatus::AwaitingScan => "awaiting_scan",
            DeclarationStatus::Exited => "exited",
        }
    }

    pub fn parse(text: &str) -> Option<DeclarationStatus> {
        DeclarationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// The status a decision leaves a declaration in.
    pub fn after(outcome: Outcome) -> DeclarationStatus {
        match outcome {
            Outcome::Accepted => DeclarationStatus::Decided,
            Outcome::Rejected => DeclarationStatus::Rejected,
            Outcome::NotRequired => DeclarationStatus::NotRequired,
        }
    }

    /// The moves a customs officer makes by hand: release, inspect or hold a decided declaration
    /// (at a second-line port, the yellow lane's documentary check), hold one under inspection or
    /// awaiting its scan, release or close a held one, close a released one.
    pub fn officer_may_move_to(self, to: DeclarationStatus) -> bool {
        use DeclarationStatus::*;
        matches!(
            (self, to),
            (Decided, Released | UnderInspection | Held)
                | (UnderInspection | AwaitingScan, Held)
                | (Held, Released | Closed)
                | (Released, Closed)
        )
    }

    /// Where an accepted declaration at a second-line port goes on its lane (R2.4): green is
    /// released at once, yellow waits (decided) for the documentary check, red for its scan.
    pub fn at_port(release: crate::port::Release) -> DeclarationStatus {
        match release {
            crate::port::Release::Automatic => DeclarationStatus::Released,
            crate::port::Release::DocumentCheck => DeclarationStatus::Decided,
            crate::port::Release::Scan => DeclarationStatus::AwaitingScan,
            crate::port::Release::Hold => DeclarationStatus::Held,
        }
    }

    /// A scan's result: manual inspection only when the scan alerts, else released (R2.4).
    pub fn after_scan(alerted: bool) -> DeclarationStatus {
        if alerted {
            DeclarationStatus::UnderInspection
        } else {
            DeclarationStatus::Released
        }
    }

    /// Goods may cross the channel only on a released declaration.
    pub fn may_cross(self) -> bool {
        self == DeclarationStatus::Released
    }

    /// The enterprise may withdraw a declaration not yet released: decided, or held.
    pub fn may_cancel(self) -> bool {
        matches!(self, DeclarationStatus::Decided | DeclarationStatus::Held)
    }

    /// Only a decided declaration, not yet released, inspected or held, may be decided again.
    pub fn may_amend(self) -> bool {
        self == DeclarationStatus::Decided
    }

    /// An inspection's result: compliant goods are released, a violation holds them.
    pub fn after_inspection(violation: bool) -> DeclarationStatus {
        if violation {
            DeclarationStatus::Held
        } else {
            DeclarationStatus::Released
        }
    }
}

impl std::fmt::Display for DeclarationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_and_the_officer_moves_are_the_documented_ones() {
        for s in DeclarationStatus::ALL {
            assert_eq!(DeclarationStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeclarationStatus::parse("Decided"), None);
        let moves: Vec<(&str, &str)> = DeclarationStatus::ALL
            .iter()
            .flat_map(|a| {
                DeclarationStatus::ALL
                    .iter()
                    .filter(|b| a.officer_may_move_to(**b))
                    .map(|b| (a.as_str(), b.as_str()))
            })
            .collect();
        assert_eq!(
            moves,
            [
                ("decided", "released"),
                ("decided", "under_inspection"),
                ("decided", "held"),
                ("released", "closed"),
                ("under_inspection", "held"),
                ("held", "released"),
                ("held", "closed"),
                ("awaiting_scan", "held"),
            ]
        );
    }
}
