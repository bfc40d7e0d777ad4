//! The enterprise registry: what customs knows of an enterprise before any declaration — whether it
//! is a zero-tariff beneficiary, whether it filed as an encouraged industry and with what revenue
//! share (R1.2, R5.1), and its registered credit class (R6.1).

use rust_decimal::Decimal;

use crate::credit::CreditClass;
use crate::identity::CreditCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub code: CreditCode,
    /// 1 to 300 characters, trimmed.
    pub name: String,
    pub beneficiary: bool,
    pub encouraged_industry_filed: bool,
    /// Between 0 and 1.
    pub encouraged_revenue_share: Option<Decimal>,
    pub credit_class: CreditClass,
}
