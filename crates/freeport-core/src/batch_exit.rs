//! Batch exit, centralised declaration (R2.5): an advanced certified (or second-line white-list)
//! enterprise ships goods to the mainland in batches, each against its account book and released
//! at the port, and declares the month's batches in one consolidated declaration by the pack's due
//! day of the following month, paying the taxes then. A consolidation covers one calendar month,
//! so it never spans two years. The facility is suspended when the class is lost or a deadline is
//! missed, and reinstated on application.

use serde::Serialize;
use time::{Date, Month};

use crate::error::{FieldError, FieldErrorKind};
use crate::explain::{Detail, Step};
use crate::money::Cny;
use crate::pack::PackVersion;
use crate::second_line_credit::SecondLineClass;
use crate::tax::TaxAmounts;

/// A calendar month, `YYYY-MM` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BatchMonth {
    pub year: i32,
    pub month: Month,
}

impl BatchMonth {
    pub fn of(day: Date) -> BatchMonth {
        BatchMonth {
            year: day.year(),
            month: day.month(),
        }
    }

    /// `YYYY-MM`, or an error naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<BatchMonth, FieldError> {
        let bad = || FieldError::new(field, FieldErrorKind::Malformed, "YYYY-MM");
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        let month = Month::try_from(month).map_err(|_| bad())?;
        if !(1900..=9998).contains(&year) {
            return Err(FieldError::new(
                field,
                FieldErrorKind::OutOfRange,
                "a year from 1900 to 9998",
            ));
        }
        Ok(BatchMonth { year, month })
    }

    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).expect("the first of a month exists")
    }

    /// The first day of the following month.
    pub fn next_first_day(self) -> Date {
        let (year, month) = match self.month {
            Month::December => (self.year + 1, Month::January),
            m => (self.year, m.next()),
        };
        Date::from_calendar_date(year, month, 1).expect("the first of a month exists")
    }

    /// The day the month's consolidated declaration is due: `due_day` of the following month.
    pub fn due_on(self, due_day: u8) -> Date {
        let next = self.next_first_day();
        let last = next.month().length(next.year());
        Date::from_calendar_date(next.year(), next.month(), due_day.clamp(1, last))
            .expect("a day within the month")
    }
}

impl std::fmt::Display for BatchMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

/// A batch shipment's explanation (R2.5): a second-line exit whose taxes go on the month's
/// consolidated declaration. Who may ship in batches is the application's check, against the store.
pub fn shipment_step<'p>(
    v: &'p PackVersion,
    flow: crate::declaration::Flow,
) -> Result<Step<'p>, FieldError> {
    if flow != crate::declaration::Flow::SecondLineExit {
        return Err(FieldError::new(
            "batch_exit",
            FieldErrorKind::Inconsistent,
            "only goods leaving for the mainland exit in batches",
        ));
    }
    Ok(Step {
        rule: v.rule(&v.second_line.centralised_rule),
        detail: Detail::Finding(
            "batch exit: released against the account book now, the taxes declared and paid on the month's consolidated declaration",
        ),
    })
}

/// Why an enterprise may not ship in batches now, or `None` when it may (R2.5).
pub fn refusal(
    class: SecondLineClass,
    suspended: bool,
    overdue: Option<(BatchMonth, Date)>,
) -> Option<String> {
    if !class.may_ship_in_batches() {
        return Some(format!(
            "batch exit is for advanced certified and white-list enterprises; the enterprise is {} at the second line",
            class.as_str()
        ));
    }
    if let Some((month, due)) = overdue {
        return Some(format!(
            "the batches of {month} were not consolidated by {due}: batch exit is suspended"
        ));
    }
    if suspended {
        return Some("batch exit is suspended until customs reinstates it".to_owned());
    }
    None
}

/// The first month whose batches are still not consolidated after their due day, if any.
pub fn overdue(
    unconsolidated: &[BatchMonth],
    today: Date,
    due_day: u8,
) -> Option<(BatchMonth, Date)> {
    unconsolidated
        .iter()
        .map(|m| (*m, m.due_on(due_day)))
        .filter(|(_, due)| today > *due)
        .min()
}

/// A month's consolidated declaration.
#[derive(Debug, Clone, Serialize)]
pub struct Consolidated<'p> {
    pub month: BatchMonth,
    pub filed_on: Date,
    pub due_on: Date,
    /// Filed after the due day: the facility is suspended.
    pub late: bool,
    pub shipments: usize,
    /// The shipments' assessed taxes, added up exactly.
    pub assessed: TaxAmounts,
    /// What the minimum-tax rule waives on the consolidated declaration, one consignment (R8.6).
    pub waived: TaxAmounts,
    pub payable: TaxAmounts,
    pub payable_total: Cny,
    pub explanation: Vec<Step<'p>>,
}

/// Consolidates the month's batch shipments, each given by its assessed taxes, into one
/// declaration filed on `filed_on`. The month must be over.
pub fn consolidate<'p>(
    v: &'p PackVersion,
    month: BatchMonth,
    filed_on: Date,
    shipments: &[TaxAmounts],
) -> Result<Consolidated<'p>, FieldError> {
    if filed_on < month.next_first_day() {
        return Err(FieldError::new(
            "month",
            FieldErrorKind::Inconsistent,
            format!(
                "{month} is not over: its batches are consolidated from the 1st of the next month"
            ),
        ));
    }
    if shipments.is_empty() {
        return Err(FieldError::new(
            "month",
            FieldErrorKind::Inconsistent,
            format!("no batch exit in {month} to consolidate"),
        ));
    }
    let due_on = month.due_on(v.second_line.centralised_due_day);
    let mut assessed = TaxAmounts::default();
    for s in shipments {
        assessed.add(s);
    }
    let mut explanation = vec![Step {
        rule: v.rule(&v.second_line.centralised_rule),
        detail: Detail::Finding(
            "the month's batch exits are declared together, due by the pack's day of the next month",
        ),
    }];
    let threshold = v.tax.minimum_tax;
    let mut waive = |name: &'static str, amount: Cny| {
        if amount > Cny::ZERO && amount <= threshold {
            explanation.push(Step {
                rule: v.rule(&v.tax.minimum_tax_rule),
                detail: Detail::MinimumTax {
                    tax: name,
                    amount,
                    threshold,
                },
            });
            amount
        } else {
            Cny::ZERO
        }
    };
    let waived = TaxAmounts {
        tariff: waive("tariff", assessed.tariff),
        consumption_tax: waive("consumption tax", assessed.consumption_tax),
        vat: waive("import VAT", assessed.vat),
    };
    let payable = assessed.minus(&waived);
    Ok(Consolidated {
        month,
        filed_on,
        due_on,
        late: filed_on > due_on,
        shipments: shipments.len(),
        payable_total: payable.total(),
        assessed,
        waived,
        payable,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_month_is_due_on_the_25th_of_the_next_and_december_in_january() {
        let march = BatchMonth::parse("month", "2026-03").expect("month");
        // TV-16: batches of 3, 12 and 27 March 2026 -> due 25 April 2026.
        assert_eq!(march.due_on(25), date!(2026 - 04 - 25));
        for day in [
            date!(2026 - 03 - 03),
            date!(2026 - 03 - 12),
            date!(2026 - 03 - 27),
        ] {
            assert_eq!(BatchMonth::of(day), march);
        }
        let december = BatchMonth::parse("month", "2026-12").expect("month");
        assert_eq!(december.due_on(25), date!(2027 - 01 - 25));
        // December and January are two months, so two consolidations: never across a year.
        assert_ne!(
            BatchMonth::of(date!(2026 - 12 - 30)),
            BatchMonth::of(date!(2027 - 01 - 02))
        );
        assert_eq!(march.to_string(), "2026-03");
        for bad in ["2026-13", "2026-3", "26-03", "2026/03", "x"] {
            assert!(BatchMonth::parse("month", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_advanced_certified_or_white_listed_enterprises_ship_in_batches() {
        use SecondLineClass::*;
        assert!(refusal(AdvancedCertified, false, None).is_none());
        assert!(refusal(WhiteList, false, None).is_none());
        assert!(refusal(Unclassified, false, None).is_some());
        assert!(refusal(KeyConcern, false, None).is_some());
        assert!(refusal(AdvancedCertified, true, None).is_some());
        let march = BatchMonth::parse("month", "2026-03").expect("month");
        let overdue_now = overdue(&[march], date!(2026 - 04 - 26), 25);
        assert_eq!(overdue_now, Some((march, date!(2026 - 04 - 25))));
        assert_eq!(overdue(&[march], date!(2026 - 04 - 25), 25), None);
        assert!(
            refusal(AdvancedCertified, false, overdue_now)
                .is_some_and(|r| r.contains("2026-04-25"))
        );
    }
}
