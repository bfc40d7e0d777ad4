//! Reading the Customs Import Declaration data set (Korea Customs Service, synthetic) into typed
//! declarations and inspection outcomes.

use serde::{Deserialize, Serialize};

use crate::RiskError;

/// The date a declaration was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeclarationDate {
    /// Calendar year.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
}

/// A six-digit Harmonized System subheading, kept as text so that leading zeros survive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hs6(String);

impl Hs6 {
    /// Reads a subheading, restoring the leading zeros that spreadsheet exports drop
    /// (`71080` is `071080`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self(format!("{text:0>6}")))
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The chapter (first two digits).
    pub fn chapter(&self) -> &str {
        &self.0[..2]
    }

    /// The heading (first four digits).
    pub fn heading(&self) -> &str {
        &self.0[..4]
    }
}

/// One import declaration (one goods line) as the risk model sees it: everything known before
/// inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declaration {
    /// Unique declaration number.
    pub id: u64,
    /// Date reported.
    pub date: DeclarationDate,
    /// Receiving customs office.
    pub office: String,
    /// Declaration process (e.g. paperless).
    pub process_type: String,
    /// Import type (e.g. OEM import, e-commerce).
    pub import_type: String,
    /// Import use (e.g. raw material for domestic use).
    pub import_use: String,
    /// Tariff payment type.
    pub payment_type: String,
    /// Mode of transport (KCS trade code).
    pub transport_mode: String,
    /// Customs broker or declarant.
    pub declarant: String,
    /// Importer.
    pub importer: String,
    /// Overseas supplier, when declared.
    pub seller: Option<String>,
    /// Express carrier, when one carried the goods.
    pub courier: Option<String>,
    /// Tariff classification.
    pub hs6: Hs6,
    /// Country of departure (ISO 3166 alpha-2).
    pub departure_country: String,
    /// Country of origin (ISO 3166 alpha-2).
    pub origin_country: String,
    /// Duty rate applied, in percent.
    pub tax_rate: f64,
    /// Tariff type (e.g. an FTA preferential rate).
    pub tax_type: String,
    /// How origin is marked on the goods.
    pub origin_indicator: String,
    /// Net mass in kilograms.
    pub net_mass_kg: f64,
    /// Assessed value in Korean won.
    pub item_price_krw: f64,
}

/// What physical inspection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InspectionOutcome {
    /// No attempt to reduce duty was found.
    Clean,
    /// An attempt to reduce duty was found.
    Fraud,
    /// Fraud that also threatened public safety.
    CriticalFraud,
}

impl InspectionOutcome {
    /// Whether inspection found fraud of either kind.
    pub fn is_fraud(self) -> bool {
        !matches!(self, Self::Clean)
    }

    /// Whether inspection found critical fraud.
    pub fn is_critical(self) -> bool {
        matches!(self, Self::CriticalFraud)
    }
}

/// A declaration together with the outcome of its inspection: a training or evaluation example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectedDeclaration {
    /// What was declared.
    pub declaration: Declaration,
    /// What inspection found.
    pub outcome: InspectionOutcome,
}

const COLUMNS: [&str; 22] = [
    "Declaration ID",
    "Date",
    "Office ID",
    "Process Type",
    "Import Type",
    "Import Use",
    "Payment Type",
    "Mode of Transport",
    "Declarant ID",
    "Importer ID",
    "Seller ID",
    "Courier ID",
    "HS6 Code",
    "Country of Departure",
    "Country of Origin",
    "Tax Rate",
    "Tax Type",
    "Country of Origin Indicator",
    "Net Mass",
    "Item Price",
    "Fraud",
    "Critical Fraud",
];

/// Reads the data set's CSV (header line, 22 named columns in any order) into inspected
/// declarations, in file order.
pub fn parse_inspected_declarations(
    csv_text: &str,
) -> Result<Vec<InspectedDeclaration>, RiskError> {
    parse_reader(csv_text.as_bytes())
}

/// As [`parse_inspected_declarations`], from a reader the caller opened.
pub fn parse_reader<R: std::io::Read>(reader: R) -> Result<Vec<InspectedDeclaration>, RiskError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = reader.headers()?.clone();
    let mut index = [0_usize; COLUMNS.len()];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim() == column)
            .ok_or(RiskError::MissingColumn { column })?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, csv::Position::line);
        let row = Row {
            record: &record,
            index: &index,
            line,
        };
        rows.push(row.inspected_declaration()?);
    }
    Ok(rows)
}

struct Row<'a> {
    record: &'a csv::StringRecord,
    index: &'a [usize; COLUMNS.len()],
    line: u64,
}

impl Row<'_> {
    fn field(&self, column: usize) -> &str {
        self.index
            .get(column)
            .and_then(|&i| self.record.get(i))
            .map_or("", str::trim)
    }

    fn invalid(&self, column: usize, message: String) -> RiskError {
        RiskError::InvalidField {
            line: self.line,
            column: COLUMNS.get(column).copied().unwrap_or("?"),
            message,
        }
    }

    fn required(&self, column: usize) -> Result<String, RiskError> {
        let value = self.field(column);
        if value.is_empty() {
            return Err(self.invalid(column, "is empty".to_owned()));
        }
        Ok(value.to_owned())
    }

    fn optional(&self, column: usize) -> Option<String> {
        let value = self.field(column);
        (!value.is_empty()).then(|| value.to_owned())
    }

    fn amount(&self, column: usize) -> Result<f64, RiskError> {
        let text = self.field(column);
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(self.invalid(column, format!("{text:?} is not a non-negative number"))),
        }
    }

    fn date(&self, column: usize) -> Result<DeclarationDate, RiskError> {
        let text = self.field(column);
        let bad = || self.invalid(column, format!("{text:?} is not a YYYY-MM-DD date"));
        let mut parts = text.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let (Ok(year), Ok(month), Ok(day)) = (y.parse(), m.parse(), d.parse()) else {
            return Err(bad());
        };
        if y.len() != 4 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(bad());
        }
        Ok(DeclarationDate { year, month, day })
    }

    fn outcome(&self) -> Result<InspectionOutcome, RiskError> {
        let (fraud, critical) = (self.field(20), self.field(21));
        let outcome = match critical {
            "0" => InspectionOutcome::Clean,
            "1" => InspectionOutcome::Fraud,
            "2" => InspectionOutcome::CriticalFraud,
            _ => return Err(self.invalid(21, format!("{critical:?} is not 0, 1 or 2"))),
        };
        let expected = if outcome.is_fraud() { "1" } else { "0" };
        if fraud != expected {
            return Err(self.invalid(
                20,
                format!("{fraud:?} contradicts Critical Fraud {critical}; expected {expected}"),
            ));
        }
        Ok(outcome)
    }

    fn inspected_declaration(&self) -> Result<InspectedDeclaration, RiskError> {
        let id_text = self.field(0);
        let id = id_text
            .parse()
            .map_err(|_| self.invalid(0, format!("{id_text:?} is not an unsigned integer")))?;
        let hs_text = self.field(12);
        let hs6 = Hs6::parse(hs_text)
            .ok_or_else(|| self.invalid(12, format!("{hs_text:?} is not 1 to 6 digits")))?;
        let declaration = Declaration {
            id,
            date: self.date(1)?,
            office: self.required(2)?,
            process_type: self.required(3)?,
            import_type: self.required(4)?,
            import_use: self.required(5)?,
            payment_type: self.required(6)?,
            transport_mode: self.required(7)?,
            declarant: self.required(8)?,
            importer: self.required(9)?,
            seller: self.optional(10),
            courier: self.optional(11),
            hs6,
            departure_country: self.required(13)?,
            origin_country: self.required(14)?,
            tax_rate: self.amount(15)?,
            tax_type: self.required(16)?,
            origin_indicator: self.required(17)?,
            net_mass_kg: self.amount(18)?,
            item_price_krw: self.amount(19)?,
        };
        Ok(InspectedDeclaration {
            declaration,
            outcome: self.outcome()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs6_keeps_leading_zeros() {
        assert_eq!(Hs6::parse("71080").map(|h| h.0), Some("071080".to_owned()));
        assert_eq!(Hs6::parse("123").map(|h| h.0), Some("000123".to_owned()));
        assert!(Hs6::parse("1234567").is_none());
        assert!(Hs6::parse("12a4").is_none());
        assert!(Hs6::parse("").is_none());
    }
}
