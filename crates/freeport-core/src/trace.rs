//! One item, one code (R4.9): where a sold piece is, followed by its 16-digit traceability number.

use serde::Serialize;

/// A piece's state, from the till to the buyer's departure or its return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// In a pending reservation: its number is held, not yet sold.
    Reserved,
    Sold,
    /// Handed over at the pick-up point.
    HandedOver,
    /// Gone with its buyer through a port's passenger channel.
    Departed,
    Returned,
}

impl ItemState {
    pub const ALL: [ItemState; 5] = [
        ItemState::Reserved,
        ItemState::Sold,
        ItemState::HandedOver,
        ItemState::Departed,
        ItemState::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Reserved => "reserved",
            ItemState::Sold => "sold",
            ItemState::HandedOver => "handed_over",
            ItemState::Departed => "departed",
            ItemState::Returned => "returned",
        }
    }

    pub fn parse(text: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a piece in this state may be handed over at the pick-up point.
    pub fn may_hand_over(self) -> bool {
        self == ItemState::Sold
    }

    /// Whether a piece in this state may leave with its buyer.
    pub fn may_depart(self) -> bool {
        matches!(self, ItemState::Sold | ItemState::HandedOver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_and_only_pieces_in_hand_move_on() {
        for s in ItemState::ALL {
            assert_eq!(ItemState::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            ItemState::ALL.map(ItemState::may_depart),
            [false, true, true, false, false]
        );
        assert_eq!(
            ItemState::ALL.map(ItemState::may_hand_over),
            [false, true, false, false, false]
        );
    }
}
