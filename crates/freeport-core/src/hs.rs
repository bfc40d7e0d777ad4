//! Harmonized System codes and the nomenclature they are checked against.
//!
//! China's tariff lines (税则号列) have 8 digits and its commodity codes 10; the first 6 are the
//! international HS subheading. A code is accepted only if its subheading exists in the loaded
//! nomenclature (HS 2022 for the Hainan pack), so a typo is caught at the edge, not in a tax step.

use std::collections::HashMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{FieldError, FieldErrorKind, FieldResult};

/// An HS-based goods code of 6, 8 or 10 digits, checked against a nomenclature.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HsCode {
    digits: [u8; 10],
    len: u8,
}

impl HsCode {
    /// Parses and checks `text` (dots and spaces allowed as separators: "0202.30.00").
    pub fn parse(field: &str, text: &str, nomenclature: &Nomenclature) -> FieldResult<HsCode> {
        let code = HsCode::parse_shape(field, text)?;
        if !nomenclature.has_subheading(code.subheading()) {
            return Err(FieldError::new(
                field,
                FieldErrorKind::Unknown,
                format!(
                    "{} is not a subheading of {}",
                    code.subheading(),
                    nomenclature.edition()
                ),
            ));
        }
        Ok(code)
    }

    /// Checks only the shape: 6, 8 or 10 digits. Used for list prefixes inside a pack, which the
    /// pack validator then checks against the nomenclature at its own level.
    pub fn parse_shape(field: &str, text: &str) -> FieldResult<HsCode> {
        let mut digits = [0u8; 10];
        let mut len = 0usize;
        for b in text.trim().bytes() {
            match b {
                b'0'..=b'9' if len < 10 => {
                    digits[len] = b;
                    len += 1;
                }
                b'0'..=b'9' => {
                    return Err(FieldError::new(
                        field,
                        FieldErrorKind::Malformed,
                        "an HS code has at most 10 digits",
                    ));
                }
                b'.' | b' ' => {}
                _ => {
                    return Err(FieldError::new(
                        field,
                        FieldErrorKind::Malformed,
                        format!("{text:?} contains a character other than digits and dots"),
                    ));
                }
            }
        }
        if !matches!(len, 6 | 8 | 10) {
            return Err(FieldError::new(
                field,
                FieldErrorKind::Malformed,
                format!(
                    "{text:?} has {len} digits; an HS code has 6, 8 (tariff line) or 10 (commodity code)"
                ),
            ));
        }
        Ok(HsCode {
            digits,
            len: len as u8,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.digits[..self.len as usize]).unwrap_or("")
    }

    pub fn subheading(&self) -> &str {
        &self.as_str()[..6]
    }

    pub fn heading(&self) -> &str {
        &self.as_str()[..4]
    }

    pub fn chapter(&self) -> &str {
        &self.as_str()[..2]
    }

    /// The 8-digit tariff line, when the code is that precise.
    pub fn tariff_line(&self) -> Option<&str> {
        (self.len >= 8).then(|| &self.as_str()[..8])
    }

    /// The packed key (`fasthash::digits_key`) of the first `len` digits, computed from the bytes
    /// without building a string: the hot path of every list lookup.
    pub fn prefix_key(&self, len: usize) -> Option<u64> {
        if len == 0 || len > self.len as usize {
            return None;
        }
        let value = self.digits[..len]
            .iter()
            .fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        Some((value << 4) | len as u64)
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn starts_with(&self, prefix: &str) -> bool {
        self.as_str().starts_with(prefix)
    }
}

impl fmt::Display for HsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HsCode({})", self.as_str())
    }
}

impl Serialize for HsCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The subheadings of one HS edition with their descriptions.
#[derive(Debug, Clone)]
pub struct Nomenclature {
    edition: String,
    /// Keyed by the code's digits: chapters (2), headings (4), subheadings (6).
    entries: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("nomenclature line {line}: {reason}")]
pub struct NomenclatureError {
    pub line: u64,
    pub reason: String,
}

impl Nomenclature {
    /// Reads the UN Comtrade HS CSV layout (`section,hscode,description,parent,level`), skipping
    /// Comtrade's reporting artefacts (section `TOTAL`: 99, 9999, 999999).
    pub fn from_csv(edition: &str, text: &str) -> Result<Nomenclature, NomenclatureError> {
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let mut entries = HashMap::new();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let r = record.map_err(|e| NomenclatureError {
                line,
                reason: e.to_string(),
            })?;
            let (section, code, description) = (
                r.get(0).unwrap_or(""),
                r.get(1).unwrap_or(""),
                r.get(2).unwrap_or(""),
            );
            if section == "TOTAL" {
                continue;
            }
            if !matches!(code.len(), 2 | 4 | 6) || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(NomenclatureError {
                    line,
                    reason: format!("code {code:?} is not 2, 4 or 6 digits"),
                });
            }
            entries.insert(code.to_owned(), description.to_owned());
        }
        if entries.is_empty() {
            return Err(NomenclatureError {
                line: 1,
                reason: "no codes".to_owned(),
            });
        }
        Ok(Nomenclature {
            edition: edition.to_owned(),
            entries,
        })
    }

    pub fn edition(&self) -> &str {
        &self.edition
    }

    pub fn has_subheading(&self, six: &str) -> bool {
        six.len() == 6 && self.entries.contains_key(six)
    }

    /// True for a chapter, heading or subheading the nomenclature knows, a one-dash level (3 or 5
    /// digits, such as 7218.9) that some subheading extends, or a national prefix of 7 to 10 digits
    /// whose subheading it knows. Lists use such prefixes; a scan is fine at pack-load time.
    pub fn knows_prefix(&self, prefix: &str) -> bool {
        match prefix.len() {
            2 | 4 | 6 => self.entries.contains_key(prefix),
            3 | 5 => self
                .entries
                .keys()
                .any(|k| k.len() == 6 && k.starts_with(prefix)),
            7..=10 => self.entries.contains_key(&prefix[..6]),
            _ => false,
        }
    }

    pub fn description(&self, code: &str) -> Option<&str> {
        self.entries.get(code).map(String::as_str)
    }

    pub fn subheading_count(&self) -> usize {
        self.entries.keys().filter(|k| k.len() == 6).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Nomenclature {
        let csv = "section,hscode,description,parent,level\nI,02,Meat,TOTAL,2\nI,0202,\"Meat of bovine animals; frozen\",02,4\nI,020230,\"Meat; bovine, boneless, frozen\",0202,6\nTOTAL,999999,Commodities not specified,9999,6\n";
        Nomenclature::from_csv("HS 2022", csv).expect("tiny nomenclature parses")
    }

    #[test]
    fn accepts_6_8_and_10_digit_codes_of_known_subheadings() {
        let n = tiny();
        for text in ["020230", "02023000", "0202.30.00", "0202300010"] {
            let code = HsCode::parse("hs_code", text, &n).expect(text);
            assert_eq!(code.subheading(), "020230");
        }
        assert_eq!(
            HsCode::parse("hs", "02023000", &n).map(|c| c.tariff_line().map(str::to_owned)),
            Ok(Some("02023000".to_owned()))
        );
    }

    #[test]
    fn rejects_unknown_and_malformed_codes() {
        let n = tiny();
        assert_eq!(
            HsCode::parse("hs_code", "999999", &n).map_err(|e| e.kind),
            Err(FieldErrorKind::Unknown)
        );
        assert_eq!(
            HsCode::parse("hs_code", "0202309", &n).map_err(|e| e.kind),
            Err(FieldErrorKind::Malformed)
        );
        assert_eq!(
            HsCode::parse("hs_code", "02023A", &n).map_err(|e| e.kind),
            Err(FieldErrorKind::Malformed)
        );
        assert_eq!(
            HsCode::parse("hs_code", "02023000001", &n).map_err(|e| e.kind),
            Err(FieldErrorKind::Malformed)
        );
    }

    #[test]
    fn knows_prefixes_at_every_level() {
        let n = tiny();
        assert!(n.knows_prefix("02") && n.knows_prefix("0202") && n.knows_prefix("02023000"));
        assert!(n.knows_prefix("02023") && n.knows_prefix("020"));
        assert!(!n.knows_prefix("0203") && !n.knows_prefix("02024") && !n.knows_prefix("0"));
    }
}
