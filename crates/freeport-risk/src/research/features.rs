//! Turning declarations into the numeric features the trees split on.
//!
//! Everything learned here comes from the training declarations alone, and never from inspection
//! outcomes: [`FeatureBuilder::fit`] takes [`Declaration`]s, which carry no label, so a row's
//! features cannot depend on its own or any other row's outcome.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::research::dataset::Declaration;

/// The features, in column order. Code-like fields become their frequency rank in training
/// (most frequent = 0), which keeps the trees' splits meaningful without one-hot columns.
pub const FEATURE_NAMES: [&str; 22] = [
    "office",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "hs6_rank",
    "departure_country",
    "origin_country",
    "tax_type",
    "origin_indicator",
    "tax_rate",
    "net_mass_kg",
    "item_price_krw",
    "log_unit_value",
    "hs_chapter",
    "hs_heading",
    "hs6_number",
    "unit_value_vs_hs6_median",
    "unit_value_hs6_robust_z",
    "unit_value_vs_heading_median",
    "unit_value_heading_robust_z",
];

/// Code-like fields, in the order of the first columns of [`FEATURE_NAMES`].
const CODE_FIELDS: usize = 11;

fn codes(d: &Declaration) -> [&str; CODE_FIELDS] {
    [
        &d.office,
        &d.process_type,
        &d.import_type,
        &d.import_use,
        &d.payment_type,
        &d.transport_mode,
        d.hs6.as_str(),
        &d.departure_country,
        &d.origin_country,
        &d.tax_type,
        &d.origin_indicator,
    ]
}

/// Log of value per kilogram; the +1 keeps zero masses and prices finite.
fn log_unit_value(d: &Declaration) -> f64 {
    d.item_price_krw.ln_1p() - d.net_mass_kg.ln_1p()
}

/// The usual unit value of one tariff line in training: median and interquartile range of the
/// log unit value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueReference {
    /// Median log unit value.
    pub median: f64,
    /// Interquartile range of the log unit value.
    pub iqr: f64,
}

/// Keeps a robust z finite for lines whose training values were all alike.
const IQR_FLOOR: f64 = 0.1;

impl ValueReference {
    fn from_values(mut values: Vec<f64>) -> Option<Self> {
        values.sort_by(f64::total_cmp);
        let median = quantile(&values, 0.5)?;
        let iqr = quantile(&values, 0.75)? - quantile(&values, 0.25)?;
        Some(Self { median, iqr })
    }

    /// Deviation from the median, and the same in interquartile ranges.
    fn deviation(&self, log_unit_value: f64) -> (f64, f64) {
        let dev = log_unit_value - self.median;
        (dev, dev / (self.iqr + IQR_FLOOR))
    }
}

/// Linear-interpolated quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q * last as f64;
    let lower = pos.floor() as usize;
    let upper = (lower + 1).min(last);
    let (a, b) = (*sorted.get(lower)?, *sorted.get(upper)?);
    let frac = pos - lower as f64;
    Some(a + (b - a) * frac)
}

fn value_references<'a>(
    rows: &'a [Declaration],
    key: impl Fn(&'a Declaration) -> &'a str,
) -> BTreeMap<String, ValueReference> {
    let mut groups: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for d in rows {
        groups.entry(key(d)).or_default().push(log_unit_value(d));
    }
    groups
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), ValueReference::from_values(v)?)))
        .collect()
}

/// Feature builder fitted on training declarations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureBuilder {
    /// Per code-like field, each training value's frequency rank.
    code_ranks: Vec<BTreeMap<String, u32>>,
    /// Usual unit value per HS subheading.
    hs6_values: BTreeMap<String, ValueReference>,
    /// Usual unit value per HS heading, for subheadings rare or new in training.
    heading_values: BTreeMap<String, ValueReference>,
}

/// Features of a batch of declarations, column-major as the trees expect.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    values: Vec<f64>,
    rows: usize,
    cols: usize,
}

impl FeatureMatrix {
    /// Number of declarations.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of features.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// A matrix of `rows` rows from its columns, each `rows` long (shorter ones are padded with
    /// missing values).
    pub fn from_columns(columns: &[Vec<f64>], rows: usize) -> FeatureMatrix {
        let mut values = Vec::with_capacity(columns.len() * rows);
        for c in columns {
            values.extend((0..rows).map(|r| c.get(r).copied().unwrap_or(f64::NAN)));
        }
        FeatureMatrix {
            values,
            rows,
            cols: columns.len(),
        }
    }

    /// All values, one column after another.
    pub fn column_major(&self) -> &[f64] {
        &self.values
    }

    /// One row's features, in column order.
    pub fn row(&self, row: usize) -> Vec<f64> {
        (0..self.cols())
            .filter_map(|c| self.values.get(c * self.rows + row).copied())
            .collect()
    }
}

impl FeatureBuilder {
    /// Learns code frequencies and per-tariff-line value references from training declarations.
    pub fn fit(training: &[Declaration]) -> Self {
        let mut counts: Vec<BTreeMap<&str, u32>> = vec![BTreeMap::new(); CODE_FIELDS];
        for d in training {
            for (field, value) in counts.iter_mut().zip(codes(d)) {
                *field.entry(value).or_default() += 1;
            }
        }
        let code_ranks = counts
            .into_iter()
            .map(|field| {
                let mut by_count: Vec<(&str, u32)> = field.into_iter().collect();
                // Ties broken by the value itself, so the ranks do not depend on row order.
                by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                (0_u32..)
                    .zip(by_count)
                    .map(|(rank, (value, _))| (value.to_owned(), rank))
                    .collect()
            })
            .collect();
        Self {
            code_ranks,
            hs6_values: value_references(training, |d| d.hs6.as_str()),
            heading_values: value_references(training, |d| d.hs6.heading()),
        }
    }

    /// Features of each declaration; values unseen in training become missing (NaN).
    pub fn transform(&self, declarations: &[Declaration]) -> FeatureMatrix {
        let rows = declarations.len();
        let mut values = vec![f64::NAN; rows * FEATURE_NAMES.len()];
        for (r, d) in declarations.iter().enumerate() {
            for (c, value) in self.row_features(d).into_iter().enumerate() {
                if let Some(slot) = values.get_mut(c * rows + r) {
                    *slot = value;
                }
            }
        }
        FeatureMatrix {
            values,
            rows,
            cols: FEATURE_NAMES.len(),
        }
    }

    fn row_features(&self, d: &Declaration) -> [f64; FEATURE_NAMES.len()] {
        let mut out = [f64::NAN; FEATURE_NAMES.len()];
        for ((slot, ranks), value) in out.iter_mut().zip(&self.code_ranks).zip(codes(d)) {
            if let Some(&rank) = ranks.get(value) {
                *slot = f64::from(rank);
            }
        }
        let luv = log_unit_value(d);
        let number = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
        let (hs6_dev, hs6_z) = self
            .hs6_values
            .get(d.hs6.as_str())
            .map_or((f64::NAN, f64::NAN), |r| r.deviation(luv));
        let (heading_dev, heading_z) = self
            .heading_values
            .get(d.hs6.heading())
            .map_or((f64::NAN, f64::NAN), |r| r.deviation(luv));
        let tail = [
            d.tax_rate,
            d.net_mass_kg,
            d.item_price_krw,
            luv,
            number(d.hs6.chapter()),
            number(d.hs6.heading()),
            number(d.hs6.as_str()),
            hs6_dev,
            hs6_z,
            heading_dev,
            heading_z,
        ];
        for (slot, value) in out.iter_mut().skip(CODE_FIELDS).zip(tail) {
            *slot = value;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_the_usual_definition() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&[7.0], 0.75), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
