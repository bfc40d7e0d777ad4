//! The tariff schedule: its documented CSV format, the strict parser the pack uses, and the importer
//! a customs authority runs on a full national schedule (`freeport policy import-schedule`).
//!
//! Format (`docs/reference/tariff-schedule-csv.md`): one row per tariff line, header
//! `tariff_line,description,first_unit,second_unit,mfn_rate,provisional_rate,general_rate,
//! specific_duty_cny,specific_duty_unit,export_duty_rate,vat_rate,consumption_tax_items,source,
//! confidence`. Rates are percentages; `consumption_tax_items` are ids separated by `|`.

use super::PackError;
use super::csvtable::{CsvTable, Row};
use super::model::{Confidence, TariffLine, TariffSchedule};
use super::parse::{parse_confidence, row_rate, row_specific};
use crate::hs::Nomenclature;
use crate::unit::Unit;

pub const COLUMNS: [&str; 14] = [
    "tariff_line",
    "description",
    "first_unit",
    "second_unit",
    "mfn_rate",
    "provisional_rate",
    "general_rate",
    "specific_duty_cny",
    "specific_duty_unit",
    "export_duty_rate",
    "vat_rate",
    "consumption_tax_items",
    "source",
    "confidence",
];

fn parse_row(row: &Row<'_>, nomenclature: &Nomenclature) -> Result<TariffLine, PackError> {
    let line = row.require("tariff_line")?;
    if !matches!(line.len(), 8 | 10) || !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(row.error(format!("tariff_line {line:?} is not 8 or 10 digits")));
    }
    if !nomenclature.has_subheading(&line[..6]) {
        return Err(row.error(format!(
            "tariff_line {line}: subheading {} is not in {}",
            &line[..6],
            nomenclature.edition()
        )));
    }
    let unit = |column: &str| {
        row.opt(column)
            .map(|u| Unit::parse(column, u).map_err(|e| row.error(e.to_string())))
            .transpose()
    };
    let first_unit = unit("first_unit")?.ok_or_else(|| row.error("first_unit is empty"))?;
    let specific_duty = row_specific(row, "specific_duty_cny", "specific_duty_unit")?;
    // A purely specific line (frozen chicken: CNY per kg) has no ad valorem MFN rate.
    let mfn_rate = match (row_rate(row, "mfn_rate")?, &specific_duty) {
        (Some(r), _) => r,
        (None, Some(_)) => crate::money::Rate::ZERO,
        (None, None) => {
            return Err(row.error("mfn_rate is empty and the line has no specific duty"));
        }
    };
    let vat_rate = row_rate(row, "vat_rate")?.ok_or_else(|| row.error("vat_rate is empty"))?;
    let confidence = match row.opt("confidence") {
        None => Confidence::U,
        Some(c) => parse_confidence(c)
            .ok_or_else(|| row.error(format!("confidence {c:?} is not H, M, L or U")))?,
    };
    Ok(TariffLine {
        line: line.to_owned(),
        description: row.require("description")?.to_owned(),
        first_unit,
        second_unit: unit("second_unit")?,
        mfn_rate,
        provisional_rate: row_rate(row, "provisional_rate")?,
        general_rate: row_rate(row, "general_rate")?,
        specific_duty,
        export_duty_rate: row_rate(row, "export_duty_rate")?,
        vat_rate,
        consumption_tax_items: row
            .get("consumption_tax_items")
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        consumption_tax: Vec::new(),
        source: row.require("source")?.to_owned(),
        confidence,
    })
}

/// Strict parse, stopping at the first bad row: what a pack load does.
pub fn parse_schedule(
    file: &str,
    text: &str,
    nomenclature: &Nomenclature,
) -> Result<TariffSchedule, PackError> {
    let table = CsvTable::parse(file, text, &COLUMNS)?;
    let mut schedule = TariffSchedule::default();
    for row in table.rows() {
        let parsed = parse_row(&row, nomenclature)?;
        let line = parsed.line.clone();
        if !schedule.insert(parsed) {
            return Err(row.error(format!("duplicate tariff_line {line}")));
        }
    }
    Ok(schedule)
}

/// What an import run found: the good lines, and every bad row (not only the first), so that an
/// authority loading eight thousand lines fixes its file in one pass.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub schedule: TariffSchedule,
    pub errors: Vec<PackError>,
    pub rows_read: usize,
}

/// Lenient import of a full schedule: collects up to `max_errors` bad rows and keeps going.
pub fn import_schedule(
    file: &str,
    text: &str,
    nomenclature: &Nomenclature,
    known_ct_items: &dyn Fn(&str) -> bool,
    max_errors: usize,
) -> Result<ImportReport, PackError> {
    let table = CsvTable::parse(file, text, &COLUMNS)?;
    let mut report = ImportReport::default();
    for row in table.rows() {
        report.rows_read += 1;
        let outcome = parse_row(&row, nomenclature).and_then(|line| {
            if let Some(missing) = line
                .consumption_tax_items
                .iter()
                .find(|i| !known_ct_items(i))
            {
                return Err(row.error(format!(
                    "consumption-tax item {missing} is not defined in the pack"
                )));
            }
            if report.schedule.contains(&line.line) {
                return Err(row.error(format!("duplicate tariff_line {}", line.line)));
            }
            Ok(line)
        });
        match outcome {
            Ok(line) => {
                report.schedule.insert(line);
            }
            Err(e) if report.errors.len() < max_errors => report.errors.push(e),
            Err(_) => {}
        }
    }
    Ok(report)
}

/// Writes a schedule in the documented format, rows sorted by tariff line, so that an imported file
/// diffs cleanly against the next year's.
pub fn write_schedule_csv(schedule: &TariffSchedule) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(COLUMNS);
    let lines = schedule.sorted();
    let pct =
        |r: Option<crate::money::Rate>| r.map(|r| r.percent().to_string()).unwrap_or_default();
    for l in lines {
        let (amount, unit) = l
            .specific_duty
            .as_ref()
            .map(|s| (s.amount_cny.to_string(), s.per.to_string()))
            .unwrap_or_default();
        let _ = w.write_record([
            l.line.clone(),
            l.description.clone(),
            l.first_unit.to_string(),
            l.second_unit.map(|u| u.to_string()).unwrap_or_default(),
            pct(Some(l.mfn_rate)),
            pct(l.provisional_rate),
            pct(l.general_rate),
            amount,
            unit,
            pct(l.export_duty_rate),
            pct(Some(l.vat_rate)),
            l.consumption_tax_items.join("|"),
            l.source.clone(),
            format!("{:?}", l.confidence),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
