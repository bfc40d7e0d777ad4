//! Reading a pack's CSV files by column name, with line numbers in every error.

use super::PackError;

pub(crate) struct CsvTable {
    file: String,
    headers: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

pub(crate) struct Row<'a> {
    table: &'a CsvTable,
    pub(crate) line: u64,
    record: &'a csv::StringRecord,
}

impl CsvTable {
    pub(crate) fn parse(file: &str, text: &str, required: &[&str]) -> Result<CsvTable, PackError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| PackError::at(file, 1, e.to_string()))?
            .iter()
            .map(str::to_owned)
            .collect();
        for column in required {
            if !headers.iter().any(|h| h == column) {
                return Err(PackError::at(file, 1, format!("missing column {column:?}")));
            }
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let record = record.map_err(|e| PackError::at(file, line, e.to_string()))?;
            if record.iter().all(str::is_empty) {
                continue;
            }
            rows.push((line, record));
        }
        Ok(CsvTable {
            file: file.to_owned(),
            headers,
            rows,
        })
    }

    pub(crate) fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, record)| Row {
            table: self,
            line: *line,
            record,
        })
    }
}

impl Row<'_> {
    /// The trimmed cell of a column, empty when the column is absent or the cell is empty.
    pub(crate) fn get(&self, column: &str) -> &str {
        self.table
            .headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
            .unwrap_or("")
    }

    pub(crate) fn opt(&self, column: &str) -> Option<&str> {
        Some(self.get(column)).filter(|s| !s.is_empty())
    }

    pub(crate) fn require(&self, column: &str) -> Result<&str, PackError> {
        self.opt(column)
            .ok_or_else(|| self.error(format!("column {column:?} is empty")))
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> PackError {
        PackError::at(&self.table.file, self.line, reason)
    }
}
