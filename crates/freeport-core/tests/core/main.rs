//! The core's integration tests: the POLICY.md test vectors, property tests over `decide`, and the
//! purity check. One test binary for the crate (STYLE rule 10).

mod credit;
mod duty_free_sale;
mod properties;
mod purity;
mod residents;
mod supervision;
mod support;
mod vectors;
