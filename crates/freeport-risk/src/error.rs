//! The one error type of the crate.

use thiserror::Error;

/// What went wrong while reading declarations, fitting, scoring or evaluating.
#[derive(Debug, Error)]
pub enum RiskError {
    /// A declaration file lacks a column the model needs.
    #[error("declaration file has no column {column:?}")]
    MissingColumn {
        /// The column's header, as the data set spells it.
        column: &'static str,
    },
    /// One field of one declaration could not be read.
    #[error("line {line}, column {column:?}: {message}")]
    InvalidField {
        /// One-based line in the file, the header being line 1.
        line: u64,
        /// The column's header.
        column: &'static str,
        /// Why the value was refused, quoting it.
        message: String,
    },
    /// The CSV itself is malformed (e.g. a row with too few fields).
    #[error("malformed declaration file: {0}")]
    Csv(#[from] csv::Error),
    /// Training or evaluation was given no declarations.
    #[error("no declarations in the {0} set")]
    EmptySet(&'static str),
    /// Inputs that must be aligned row for row were not.
    #[error("{what}: expected {expected} rows, got {actual}")]
    LengthMismatch {
        /// Which input was misaligned.
        what: &'static str,
        /// Rows expected.
        expected: usize,
        /// Rows given.
        actual: usize,
    },
    /// An inspection rate outside (0, 1].
    #[error("inspection rate {0} is not in (0, 1]")]
    InvalidRate(f64),
    /// Evaluation needs at least one seed.
    #[error("no seeds given")]
    NoSeeds,
    /// The boosting library refused its parameters or data.
    #[error("model training failed: {0}")]
    Model(String),
    /// Saved model bytes could not be read back.
    #[error("invalid model bytes: {0}")]
    ModelBytes(String),
    /// A report or model could not be (de)serialised.
    #[error("serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
}
