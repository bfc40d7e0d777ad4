//! Shared helpers: the shipped data set copy in `data/customs-import`.
#![allow(dead_code, unreachable_pub)]

use freeport_risk::RiskError;
use freeport_risk::research::{InspectedDeclaration, parse_inspected_declarations};

pub fn read(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/customs-import")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn split(name: &str) -> Result<Vec<InspectedDeclaration>, RiskError> {
    parse_inspected_declarations(&read(&format!("df_syn_{name}_eng.csv")))
}
