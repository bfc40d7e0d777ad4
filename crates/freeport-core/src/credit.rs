//! Enterprise credit (R6.1): the class an enterprise stands in on a day, from the class customs
//! registered and the credit records since, with every component of the assessment shown to the
//! enterprise, and the path back for a dishonest one.
//!
//! Classification is dynamic: a trigger demotes an enterprise the day it is recorded, and ages out
//! of the record window on its own. A repair granted by customs clears the triggers recorded before
//! it; unpaid taxes are never cleared by repair, only by paying them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::add_months;
use crate::money::Cny;
use crate::pack::{CreditRules, PackVersion};

/// The five classes of Order 282, from the most to the least trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditClass {
    AdvancedCertified,
    Certified,
    General,
    Dishonest,
    SeriouslyDishonest,
}

impl CreditClass {
    pub const ALL: [CreditClass; 5] = [
        CreditClass::AdvancedCertified,
        CreditClass::Certified,
        CreditClass::General,
        CreditClass::Dishonest,
        CreditClass::SeriouslyDishonest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CreditClass::AdvancedCertified => "advanced_certified",
            CreditClass::Certified => "certified",
            CreditClass::General => "general",
            CreditClass::Dishonest => "dishonest",
            CreditClass::SeriouslyDishonest => "seriously_dishonest",
        }
    }

    pub fn parse(text: &str) -> Option<CreditClass> {
        CreditClass::ALL.into_iter().find(|c| c.as_str() == text)
    }

    fn is_certified(self) -> bool {
        self <= CreditClass::Certified
    }
}

/// One credit record. `reference` ties a tax due to its payment and a record to its source (a
/// penalty decision, a declaration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditRecord {
    pub on: Date,
    pub reference: String,
    pub kind: CreditRecordKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CreditRecordKind {
    /// An administrative penalty for a customs violation.
    Violation { penalty: Cny },
    /// A smuggling offence: dishonest on its own (Order 251).
    Smuggling,
    /// Taxes assessed, due on `due_on`.
    TaxDue { due_on: Date, amount: Cny },
    /// The tax due under the same reference was paid.
    TaxPaid,
    /// An inspection found a violation on one of the enterprise's declarations.
    InspectionFinding { revenue_found: Cny },
    /// Customs downgraded the enterprise on disposing of a risk alert: dishonest while it counts.
    Downgrade,
    /// Customs granted a credit repair: triggers recorded before it no longer count.
    Repair,
}

/// What the assessment looked at: the registered class and the records.
#[derive(Debug, Clone)]
pub struct CreditStanding<'a> {
    pub registered: CreditClass,
    pub records: &'a [CreditRecord],
    /// Declarations the enterprise filed in the prior calendar year (the base of the violation
    /// share); `None` when it was not counted because there are no violations to weigh.
    pub prior_year_declarations: Option<u64>,
}

/// One input of the assessment, as the enterprise sees it: its value, the limit it is held to and
/// what crossing the limit does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditComponent {
    pub name: &'static str,
    pub value: String,
    pub limit: String,
    pub crossed: bool,
    /// The class the enterprise falls to while the limit is crossed.
    pub demotes_to: CreditClass,
    /// The records behind the value.
    pub references: Vec<String>,
}

/// When and on what a dishonest enterprise may apply to have its credit repaired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairPath {
    /// The first day an application can be granted.
    pub eligible_from: Date,
    /// Taxes to pay first (their references); repair never clears them.
    pub unpaid_taxes: Vec<String>,
    /// Whether an application made on the assessment day would be granted.
    pub eligible_now: bool,
    /// The day the triggers age out of the window without any repair, if nothing new is recorded.
    pub restored_without_repair_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditAssessment {
    pub on: Date,
    pub registered: CreditClass,
    pub class: CreditClass,
    pub components: Vec<CreditComponent>,
    pub repair: Option<RepairPath>,
    pub rule: String,
    pub rule_title: String,
    pub source: String,
    pub pack_version: String,
}

/// The class of an enterprise on `on`, explained. Records dated after `on` are ignored, so an
/// assessment can be replayed for any past day.
pub fn assess_credit(
    version: &PackVersion,
    standing: &CreditStanding<'_>,
    on: Date,
) -> CreditAssessment {
    let rules = &version.credit;
    let window = RecordWindow::new(standing.records, rules, on);
    let smuggling = window.counting(|k| *k == CreditRecordKind::Smuggling);
    let downgrades = window.counting(|k| *k == CreditRecordKind::Downgrade);
    let violations = window.counting(|k| matches!(k, CreditRecordKind::Violation { .. }));
    let overdue = overdue_taxes(&window.records, rules, on);
    let findings = window.counting(|k| matches!(k, CreditRecordKind::InspectionFinding { .. }));
    let components = vec![
        trigger_component("smuggling_offences", &smuggling),
        trigger_component("downgrades_on_alerts", &downgrades),
        violations_component(rules, standing, &violations),
        overdue_taxes_component(rules, &overdue),
        inspection_findings_component(rules, standing, &findings),
    ];
    let class = credit_class(standing.registered, &components);
    let repair = (class == CreditClass::Dishonest && standing.registered < CreditClass::Dishonest)
        .then(|| repair_path(rules, &components, &window.records, &overdue, on));

    let rule = version.rule(&rules.rule);
    CreditAssessment {
        on,
        registered: standing.registered,
        class,
        components,
        repair,
        rule: rule.id.clone(),
        rule_title: rule.title.clone(),
        source: rule.source.clone(),
        pack_version: version.id.clone(),
    }
}

/// The records up to the assessment day, and the window within which they count.
struct RecordWindow<'a> {
    records: Vec<&'a CreditRecord>,
    start: Date,
    last_repair: Option<Date>,
}

impl<'a> RecordWindow<'a> {
    fn new(records: &'a [CreditRecord], rules: &CreditRules, on: Date) -> Self {
        let records: Vec<&CreditRecord> = records.iter().filter(|r| r.on <= on).collect();
        let last_repair = records
            .iter()
            .filter(|r| r.kind == CreditRecordKind::Repair)
            .map(|r| r.on)
            .max();
        RecordWindow {
            records,
            start: months_before(on, rules.record_window_months),
            last_repair,
        }
    }

    /// A record counts if it is inside the window and not cleared by a later repair.
    fn counts(&self, r: &CreditRecord) -> bool {
        r.on > self.start && self.last_repair.is_none_or(|rep| r.on > rep)
    }

    /// The records of a kind that count.
    fn counting(&self, kind: impl Fn(&CreditRecordKind) -> bool) -> Vec<&'a CreditRecord> {
        self.records
            .iter()
            .copied()
            .filter(|r| kind(&r.kind) && self.counts(r))
            .collect()
    }
}

/// A trigger that makes the enterprise dishonest on its own, however few.
fn trigger_component(name: &'static str, records: &[&CreditRecord]) -> CreditComponent {
    CreditComponent {
        name,
        value: records.len().to_string(),
        limit: "0".to_owned(),
        crossed: !records.is_empty(),
        demotes_to: CreditClass::Dishonest,
        references: references(records),
    }
}

/// Violations demote only when both their number passes the pack's share of the prior year's
/// declarations and their penalties pass the pack's amount.
fn violations_component(
    rules: &CreditRules,
    standing: &CreditStanding<'_>,
    violations: &[&CreditRecord],
) -> CreditComponent {
    let penalties: Decimal = violations
        .iter()
        .map(|r| match r.kind {
            CreditRecordKind::Violation { penalty } => penalty.amount(),
            _ => Decimal::ZERO,
        })
        .sum();
    let share_limit =
        rules.violation_share * Decimal::from(standing.prior_year_declarations.unwrap_or(0));
    let count = Decimal::from(violations.len());
    CreditComponent {
        name: "violations",
        value: format!(
            "{} violations, {} CNY in penalties",
            violations.len(),
            penalties
        ),
        limit: match standing.prior_year_declarations {
            Some(n) => format!(
                "more than {} violations ({} of {n} declarations the prior year) and more than {} CNY",
                share_limit.normalize(),
                rules.violation_share.normalize(),
                rules.violation_penalty_over
            ),
            None => format!(
                "more than {} of the prior year's declarations and more than {} CNY",
                rules.violation_share.normalize(),
                rules.violation_penalty_over
            ),
        },
        crossed: count > share_limit && penalties > rules.violation_penalty_over.amount(),
        demotes_to: CreditClass::Dishonest,
        references: references(violations),
    }
}

fn overdue_taxes_component(rules: &CreditRules, overdue: &[&CreditRecord]) -> CreditComponent {
    CreditComponent {
        name: "overdue_taxes",
        value: overdue.len().to_string(),
        limit: format!(
            "0 unpaid more than {} months after due",
            rules.unpaid_tax_months
        ),
        crossed: !overdue.is_empty(),
        demotes_to: CreditClass::Dishonest,
        references: references(overdue),
    }
}

/// Inspection findings weigh only on a certified enterprise, which falls to general.
fn inspection_findings_component(
    rules: &CreditRules,
    standing: &CreditStanding<'_>,
    findings: &[&CreditRecord],
) -> CreditComponent {
    CreditComponent {
        name: "inspection_findings",
        value: findings.len().to_string(),
        limit: format!("fewer than {}", rules.certified_findings_limit),
        crossed: standing.registered.is_certified()
            && findings.len() >= rules.certified_findings_limit as usize,
        demotes_to: CreditClass::General,
        references: references(findings),
    }
}

/// The registered class, or the least trusted class a crossed limit demotes to, if lower.
fn credit_class(registered: CreditClass, components: &[CreditComponent]) -> CreditClass {
    let demoted = components
        .iter()
        .filter(|c| c.crossed)
        .map(|c| c.demotes_to)
        .max();
    demoted.map_or(registered, |d| d.max(registered))
}

/// The way back for an enterprise its records made dishonest, counted from its latest trigger.
fn repair_path(
    rules: &CreditRules,
    components: &[CreditComponent],
    records: &[&CreditRecord],
    overdue: &[&CreditRecord],
    on: Date,
) -> RepairPath {
    let latest = components
        .iter()
        .filter(|c| c.crossed && c.demotes_to == CreditClass::Dishonest)
        .flat_map(|c| c.references.iter())
        .filter_map(|reference| records.iter().find(|r| &r.reference == reference))
        .map(|r| r.on)
        .max()
        .unwrap_or(on);
    let eligible_from = add_months(latest, rules.repair_after_months);
    let unpaid_taxes = references(overdue);
    // Overdue taxes never age out: without repair the class returns only once they are
    // paid and the other triggers have left the window.
    let restored_without_repair_on = overdue
        .is_empty()
        .then(|| add_months(latest, rules.record_window_months));
    RepairPath {
        eligible_from,
        eligible_now: on >= eligible_from && unpaid_taxes.is_empty(),
        unpaid_taxes,
        restored_without_repair_on,
    }
}

/// Taxes due more than the pack's months ago and not paid under the same reference.
fn overdue_taxes<'a>(
    records: &[&'a CreditRecord],
    rules: &CreditRules,
    on: Date,
) -> Vec<&'a CreditRecord> {
    records
        .iter()
        .copied()
        .filter(|r| match r.kind {
            CreditRecordKind::TaxDue { due_on, .. } => {
                add_months(due_on, rules.unpaid_tax_months) < on
                    && !records
                        .iter()
                        .any(|p| p.kind == CreditRecordKind::TaxPaid && p.reference == r.reference)
            }
            _ => false,
        })
        .collect()
}

fn references(records: &[&CreditRecord]) -> Vec<String> {
    records.iter().map(|r| r.reference.clone()).collect()
}

/// The day `months` before `on`, clamped to the month's end like `add_months`.
fn months_before(on: Date, months: u32) -> Date {
    let total = on.year() * 12 + i32::from(u8::from(on.month()) - 1) - months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = time::Month::try_from(month0 as u8 + 1).expect("month index 1..=12");
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, on.day().min(last)).expect("a clamped day is valid")
}

/// Whether an application for repair made on `on` is granted, and if not, why.
pub fn decide_repair(assessment: &CreditAssessment) -> Result<(), RepairRefusal> {
    match &assessment.repair {
        None => Err(RepairRefusal::NotDishonest {
            class: assessment.class,
        }),
        Some(path) if !path.unpaid_taxes.is_empty() => Err(RepairRefusal::UnpaidTaxes {
            references: path.unpaid_taxes.clone(),
        }),
        Some(path) if assessment.on < path.eligible_from => Err(RepairRefusal::TooEarly {
            eligible_from: path.eligible_from,
        }),
        Some(_) => Ok(()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairRefusal {
    #[error("only an enterprise demoted to dishonest by its records can be repaired; it is {}", class.as_str())]
    NotDishonest { class: CreditClass },
    #[error("taxes are unpaid: {}", references.join(", "))]
    UnpaidTaxes { references: Vec<String> },
    #[error("repair can be granted from {eligible_from}")]
    TooEarly { eligible_from: Date },
}
