//! Adjustments an officer makes to an enterprise's account book (R3.3): a stock-take posts what
//! was counted minus what is booked; a write-off removes a stated quantity.

use serde::Serialize;

use crate::hs::HsCode;
use crate::unit::Unit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    StockTake,
    WriteOff,
}

impl AdjustmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustmentKind::StockTake => "stock_take",
            AdjustmentKind::WriteOff => "write_off",
        }
    }

    pub fn parse(text: &str) -> Option<AdjustmentKind> {
        match text {
            "stock_take" => Some(AdjustmentKind::StockTake),
            "write_off" => Some(AdjustmentKind::WriteOff),
            _ => None,
        }
    }

    /// The posting for one book entry: counted minus booked for a stock-take, minus the stated
    /// quantity for a write-off (thousandths).
    pub fn delta(self, stated_milli: i64, booked_milli: i64) -> i64 {
        match self {
            AdjustmentKind::StockTake => stated_milli - booked_milli,
            AdjustmentKind::WriteOff => -stated_milli,
        }
    }
}

/// One book entry adjusted: counted or removed quantity in thousandths, with the officer's note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustmentEntry {
    pub hs_code: HsCode,
    pub unit: Unit,
    pub quantity_milli: i64,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub kind: AdjustmentKind,
    pub entries: Vec<AdjustmentEntry>,
}
