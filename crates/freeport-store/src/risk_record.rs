//! The risk record kept with a declaration, as JSON in its `risk_json` column and as
//! `freeport_risk`'s type everywhere else: a record that does not read back is a corrupt row.

use freeport_risk::selectivity::RiskRecord;

use crate::steps::Columns;
use crate::{Result, StoreError};

/// The record's stored text.
pub(crate) fn text_of(record: &RiskRecord) -> Result<String> {
    serde_json::to_string(record).map_err(|e| StoreError::Corrupt(format!("a risk record: {e}")))
}

/// The record in `column`, if the row has one.
pub(crate) fn read(row: &(impl Columns + ?Sized), column: &str) -> Result<Option<RiskRecord>> {
    row.opt_text(column)?
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("{column} does not read: {e}")))
        })
        .transpose()
}
