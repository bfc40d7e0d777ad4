//! The one error shape for bad input: which field, what kind of problem, and why in words.
//!
//! Parsing at the edge turns wire input into domain types; anything that does not parse becomes a
//! `FieldError`. A rejected declaration is *not* an error: it is a `Decision` with reason codes.

use serde::Serialize;

/// A stable, machine-readable class of input problem. Serialized in snake_case; documented in
/// `docs/reference/errors.md`, so variants are only ever added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorKind {
    /// The field is absent but required.
    Missing,
    /// The text does not have the required shape (length, alphabet, syntax).
    Malformed,
    /// The shape is right but a check character or check digit does not match.
    BadCheckCharacter,
    /// A code of the right shape that the reference list does not know (HS code, country, currency).
    Unknown,
    /// A number outside its allowed range (negative quantity, rate above 100 %).
    OutOfRange,
    /// Values that contradict each other (two regimes claimed, duplicate ids).
    Inconsistent,
}

/// Bad input, naming the field by its path in the request (`lines[2].hs_code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub kind: FieldErrorKind,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, kind: FieldErrorKind, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            kind,
            reason: reason.into(),
        }
    }

    /// Places the error under an enclosing field: `hs_code` inside `lines[2]` becomes
    /// `lines[2].hs_code`. Parsers of small types name only their own field; callers add the path.
    #[must_use]
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

/// Shorthand for a parser result.
pub type FieldResult<T> = Result<T, FieldError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_builds_a_field_path() {
        let e = FieldError::new("hs_code", FieldErrorKind::Unknown, "not in HS 2022")
            .within("lines[2]");
        assert_eq!(e.field, "lines[2].hs_code");
        let e = FieldError::new("", FieldErrorKind::Missing, "required").within("currency");
        assert_eq!(e.field, "currency");
        let e = FieldError::new("[0]", FieldErrorKind::Missing, "x").within("lines");
        assert_eq!(e.field, "lines[0]");
        assert_eq!(e.to_string(), "lines[0]: x");
    }
}
