//! Freeport's decision core.
//!
//! Every decision the platform makes is a pure function of (request, policy pack in force, state
//! snapshot, time given as a parameter). This crate holds those functions and the domain types they
//! speak. It does no I/O, has no async, and reads no clock, random source or environment: the test
//! `tests/purity.rs` enforces that.

#![forbid(unsafe_code)]

pub mod account_book;
pub mod batch_exit;
pub mod buyer_links;
pub mod calendar;
pub mod country;
pub mod credit;
pub mod currency;
pub mod decide;
pub mod decision;
pub mod declaration;
pub mod departure;
pub mod duty_free;
pub mod error;
pub mod explain;
pub mod fasthash;
pub mod hs;
pub mod identity;
pub mod lifecycle;
pub mod limits;
pub mod money;
pub mod pack;
pub mod passenger;
pub mod port;
pub mod quota_ledger;
pub mod registry;
pub mod resident_zero_tariff;
pub mod second_line_credit;
pub mod snapshot;
pub mod supervision;
pub mod tax;
pub mod time_release;
pub mod trace;
pub mod unit;
pub mod value_added;

pub use decide::{decide, decide_under};
pub use error::{FieldError, FieldErrorKind, FieldResult};
