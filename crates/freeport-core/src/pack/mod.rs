//! Policy packs: a zone's rules as data, versioned by the day they take effect.
//!
//! A pack is a folder `policy/<zone>/` with `zone.toml` and one sub-folder per version named by its
//! effective date. A version's `manifest.toml` may name a `base` version: it then inherits the base's
//! manifest (section by section, key by key) and every data file it does not ship itself, so an
//! amendment carries only what it changes. This module parses packs from text held in memory; the
//! shell reads the files.

mod csvtable;
pub mod diff;
mod duty_free;
pub mod model;
mod parse;
mod ports;
pub mod prefix;
pub mod report;
pub mod schedule;

use std::collections::BTreeMap;

pub use model::*;
pub use parse::parse_pack;

/// The text of a pack as read from disk: `zone.toml`, the nomenclature it names, and each version
/// folder's files by name.
#[derive(Debug, Clone, Default)]
pub struct PackSources {
    pub zone_toml: String,
    pub nomenclature_csv: String,
    pub versions: BTreeMap<String, BTreeMap<String, String>>,
}

/// A pack that does not parse, located to the file and line where possible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct PackError {
    pub file: String,
    pub line: Option<u64>,
    pub reason: String,
}

impl PackError {
    pub fn new(file: &str, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            reason: reason.into(),
        }
    }

    pub fn at(file: &str, line: u64, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: Some(line),
            reason: reason.into(),
        }
    }
}
