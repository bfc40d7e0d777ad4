//! The daily flow statistics that flow-spike alerts and value references read.

use crate::steps::{Step, statement};
use crate::{Result, Store, row_i64, row_string};

/// One accepted declaration line, added to the day's flow statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLine {
    pub flow: String,
    pub hs_code: String,
    pub unit: String,
    pub day: String,
    pub quantity_milli: i64,
    pub value_fen: i64,
}

/// Adds accepted lines to the day's flow statistics.
pub(crate) fn flow_line_steps(lines: &[FlowLine]) -> Vec<Step> {
    lines
        .iter()
        .map(|l| {
            // Checked arithmetic in SQL: a day's totals grow only while they stay within a BIGINT
            // (SQLite would otherwise turn the row into a float, PostgreSQL fail every later
            // declaration of the code). A line that no longer fits is counted apart, not added.
            Step::When {
                statement: statement!(
                    "INSERT INTO flow_stats (flow, hs_code, unit, day, declarations, quantity_milli, value_fen) VALUES ($1, $2, $3, $4, 1, $5, $6) \
                     ON CONFLICT (flow, hs_code, unit, day) DO UPDATE SET declarations = flow_stats.declarations + 1, quantity_milli = flow_stats.quantity_milli + excluded.quantity_milli, value_fen = flow_stats.value_fen + excluded.value_fen \
                     WHERE flow_stats.quantity_milli <= 9223372036854775807 - excluded.quantity_milli AND flow_stats.value_fen <= 9223372036854775807 - excluded.value_fen AND flow_stats.declarations < 9223372036854775807",
                    &l.flow,
                    &l.hs_code,
                    &l.unit,
                    &l.day,
                    l.quantity_milli,
                    l.value_fen
                ),
                rows: 0,
                then: vec![Step::Run(statement!(
                    "UPDATE flow_stats SET lines_beyond_ceiling = lines_beyond_ceiling + 1 WHERE flow = $1 AND hs_code = $2 AND unit = $3 AND day = $4 AND lines_beyond_ceiling < 9223372036854775807",
                    &l.flow,
                    &l.hs_code,
                    &l.unit,
                    &l.day
                ))],
            }
        })
        .collect()
}

/// What was declared of one goods code and unit over a period, in 128 bits: a year of daily
/// BIGINT totals cannot overflow it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeclaredTotals {
    pub declarations: i128,
    pub quantity_milli: i128,
    pub value_fen: i128,
}

impl Store {
    // ----- flow statistics ---------------------------------------------------------------------

    /// Declarations per day of `flow` for goods codes starting with `hs_prefix`, from `from` to
    /// `to` inclusive, as (day, declarations), days without any left out.
    pub async fn flow_by_day(
        &self,
        flow: &str,
        hs_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, i64)>> {
        let s = statement!(
            "SELECT day, CAST(SUM(declarations) AS BIGINT) AS n FROM flow_stats WHERE flow = $1 AND hs_code LIKE $2 AND day >= $3 AND day <= $4 GROUP BY day ORDER BY day",
            flow,
            format!("{hs_prefix}%").as_str(),
            from,
            to
        );
        self.fetch_all(&s, |r| Ok((row_string(r, "day")?, row_i64(r, "n")?)))
            .await
    }

    /// Declarations, quantity (thousandths) and value (fen) declared for a goods code and unit from
    /// `from` to `to`, over every flow: the base of its value reference.
    ///
    /// Summed here in 128 bits rather than by SQL's `SUM`, which overflows a BIGINT (an error on
    /// both backends) when a year of days holds large totals.
    pub async fn declared_totals(
        &self,
        hs_code: &str,
        unit: &str,
        from: &str,
        to: &str,
    ) -> Result<DeclaredTotals> {
        let s = statement!(
            "SELECT declarations, quantity_milli, value_fen FROM flow_stats WHERE hs_code = $1 AND unit = $2 AND day >= $3 AND day <= $4",
            hs_code,
            unit,
            from,
            to
        );
        let days = self
            .fetch_all(&s, |r| {
                Ok((
                    row_i64(r, "declarations")?,
                    row_i64(r, "quantity_milli")?,
                    row_i64(r, "value_fen")?,
                ))
            })
            .await?;
        let mut totals = DeclaredTotals::default();
        for (declarations, quantity_milli, value_fen) in days {
            totals.declarations += i128::from(declarations);
            totals.quantity_milli += i128::from(quantity_milli);
            totals.value_fen += i128::from(value_fen);
        }
        Ok(totals)
    }
}
