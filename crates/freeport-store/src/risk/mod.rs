//! Risk management's records, by room: credit records and inspections, rule sets, alerts, the
//! daily flow statistics, and trained models. States are read back as the domain's enums
//! (`states`).

mod alerts;
mod credit;
mod flow;
mod models;
mod rule_sets;

pub use alerts::*;
pub use credit::*;
pub use flow::*;
pub use models::*;
pub use rule_sets::*;
