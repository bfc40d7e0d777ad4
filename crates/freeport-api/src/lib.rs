//! Wire types: what the JSON of a quote request looks like, and its conversion into core types.
//!
//! Only this crate knows the wire shape. Every value is parsed once here into a domain type; an
//! input that does not parse becomes a `FieldError` naming its JSON path
//! (`declaration.lines[2].hs_code`). Decimals travel as strings, never as JSON numbers.

#![forbid(unsafe_code)]

pub mod duty_free;
pub mod platform;
pub mod quote;
pub mod requests;
pub mod second_line;
pub mod value_added;

pub use quote::{QuoteRequest, parse_quote_request};

/// Decodes a request from JSON text; errors name the JSON path (`declaration.lines[0].value`).
pub fn decode_json<T: serde::de::DeserializeOwned>(json: &str) -> freeport_core::FieldResult<T> {
    quote::decode_json_with_paths(json)
}
