//! R6.1: downgrade triggers, their ageing out of the record window, and the repair path, over the
//! Hainan pack's credit parameters (24-month window, 1 per mille and 1 000 000 CNY, 3 months of
//! unpaid tax, 2 findings for a certified enterprise, repair after 12 months).

use freeport_core::credit::{
    CreditClass, CreditRecord, CreditRecordKind, CreditStanding, RepairRefusal, assess_credit,
    decide_repair,
};
use freeport_core::money::Cny;
use freeport_core::pack::PackVersion;
use time::Date;
use time::macros::date;

use crate::support::*;

fn version() -> &'static PackVersion {
    pack()
        .version_on(date!(2026 - 06 - 01))
        .expect("a version is in force")
}

fn record(on: Date, reference: &str, kind: CreditRecordKind) -> CreditRecord {
    CreditRecord {
        on,
        reference: reference.to_owned(),
        kind,
    }
}

fn cny(s: &str) -> Cny {
    Cny::round_fen(dec(s))
}

fn standing(registered: CreditClass, records: &[CreditRecord], prior: u64) -> CreditStanding<'_> {
    CreditStanding {
        registered,
        records,
        prior_year_declarations: Some(prior),
    }
}

fn component<'a>(
    a: &'a freeport_core::credit::CreditAssessment,
    name: &str,
) -> &'a freeport_core::credit::CreditComponent {
    a.components
        .iter()
        .find(|c| c.name == name)
        .expect("component present")
}

#[test]
fn a_clean_record_keeps_the_registered_class_and_names_the_rule() {
    let a = assess_credit(
        version(),
        &standing(CreditClass::AdvancedCertified, &[], 5000),
        date!(2026 - 06 - 01),
    );
    assert_eq!(a.class, CreditClass::AdvancedCertified);
    assert!(a.components.iter().all(|c| !c.crossed));
    assert_eq!(a.repair, None);
    assert_eq!(a.rule, "R6.1");
    assert!(a.pack_version.starts_with("hainan/"));
    assert!(!a.source.is_empty());
}

#[test]
fn smuggling_makes_any_class_dishonest_until_it_leaves_the_window() {
    let records = [record(
        date!(2026 - 03 - 10),
        "penalty-1",
        CreditRecordKind::Smuggling,
    )];
    let s = standing(CreditClass::AdvancedCertified, &records, 5000);
    let before = assess_credit(version(), &s, date!(2026 - 03 - 09));
    assert_eq!(
        before.class,
        CreditClass::AdvancedCertified,
        "a record counts from its day"
    );
    let after = assess_credit(version(), &s, date!(2026 - 03 - 10));
    assert_eq!(after.class, CreditClass::Dishonest);
    assert_eq!(
        component(&after, "smuggling_offences").references,
        ["penalty-1"]
    );
    let path = after
        .repair
        .clone()
        .expect("a demoted enterprise has a repair path");
    assert_eq!(path.eligible_from, date!(2027 - 03 - 10));
    assert_eq!(path.restored_without_repair_on, Some(date!(2028 - 03 - 10)));
    assert!(!path.eligible_now);
    // The window is 24 months: on the second anniversary the record no longer counts.
    assert_eq!(
        assess_credit(version(), &s, date!(2028 - 03 - 09)).class,
        CreditClass::Dishonest
    );
    assert_eq!(
        assess_credit(version(), &s, date!(2028 - 03 - 10)).class,
        CreditClass::AdvancedCertified
    );
}

#[test]
fn violations_need_both_the_share_and_the_penalty_total() {
    // 2 000 declarations the prior year: the share limit is 2 violations.
    let three_small: Vec<CreditRecord> = (1..=3)
        .map(|i| {
            record(
                date!(2026 - 02 - 01),
                &format!("v{i}"),
                CreditRecordKind::Violation {
                    penalty: cny("300000"),
                },
            )
        })
        .collect();
    let on = date!(2026 - 06 - 01);
    // Three violations (over the share) but 900 000 CNY (not over 1 000 000): no downgrade.
    let a = assess_credit(
        version(),
        &standing(CreditClass::General, &three_small, 2000),
        on,
    );
    assert_eq!(a.class, CreditClass::General);
    assert!(!component(&a, "violations").crossed);
    // A fourth brings the total over 1 000 000 CNY.
    let mut four = three_small.clone();
    four.push(record(
        date!(2026 - 04 - 01),
        "v4",
        CreditRecordKind::Violation {
            penalty: cny("100000.01"),
        },
    ));
    let a = assess_credit(version(), &standing(CreditClass::General, &four, 2000), on);
    assert_eq!(a.class, CreditClass::Dishonest);
    // The same four against 5 000 declarations (limit 5) stay under the share.
    let a = assess_credit(version(), &standing(CreditClass::General, &four, 5000), on);
    assert_eq!(a.class, CreditClass::General);
}

#[test]
fn unpaid_tax_demotes_three_months_after_due_and_blocks_repair_until_paid() {
    let due = record(
        date!(2026 - 01 - 15),
        "tax-7",
        CreditRecordKind::TaxDue {
            due_on: date!(2026 - 01 - 15),
            amount: cny("52000"),
        },
    );
    let s_records = [due.clone()];
    let s = standing(CreditClass::Certified, &s_records, 100);
    assert_eq!(
        assess_credit(version(), &s, date!(2026 - 04 - 15)).class,
        CreditClass::Certified,
        "exactly three months after due is not more than three"
    );
    let late = assess_credit(version(), &s, date!(2026 - 04 - 16));
    assert_eq!(late.class, CreditClass::Dishonest);
    let path = late.repair.clone().expect("repair path");
    assert_eq!(path.unpaid_taxes, ["tax-7"]);
    assert_eq!(
        path.restored_without_repair_on, None,
        "unpaid tax never ages out"
    );
    let years_later = assess_credit(version(), &s, date!(2028 - 01 - 01));
    assert_eq!(years_later.class, CreditClass::Dishonest);
    assert_eq!(
        decide_repair(&years_later),
        Err(RepairRefusal::UnpaidTaxes {
            references: vec!["tax-7".to_owned()]
        })
    );
    // Paying restores the class at once: the trigger is the debt, not the lateness.
    let paid = [
        due,
        record(date!(2026 - 05 - 02), "tax-7", CreditRecordKind::TaxPaid),
    ];
    let s = standing(CreditClass::Certified, &paid, 100);
    assert_eq!(
        assess_credit(version(), &s, date!(2026 - 05 - 02)).class,
        CreditClass::Certified
    );
}

#[test]
fn inspection_findings_cost_a_certified_enterprise_its_certification_only() {
    let findings = [
        record(
            date!(2026 - 01 - 05),
            "decl-a",
            CreditRecordKind::InspectionFinding {
                revenue_found: cny("1200"),
            },
        ),
        record(
            date!(2026 - 02 - 05),
            "decl-b",
            CreditRecordKind::InspectionFinding {
                revenue_found: cny("0"),
            },
        ),
    ];
    let on = date!(2026 - 03 - 01);
    let one = assess_credit(
        version(),
        &standing(CreditClass::AdvancedCertified, &findings[..1], 100),
        on,
    );
    assert_eq!(one.class, CreditClass::AdvancedCertified);
    let two = assess_credit(
        version(),
        &standing(CreditClass::AdvancedCertified, &findings, 100),
        on,
    );
    assert_eq!(two.class, CreditClass::General);
    assert_eq!(two.repair, None, "losing certification is not dishonesty");
    let general = assess_credit(
        version(),
        &standing(CreditClass::General, &findings, 100),
        on,
    );
    assert_eq!(general.class, CreditClass::General);
    assert!(!component(&general, "inspection_findings").crossed);
}

#[test]
fn a_granted_repair_clears_earlier_triggers_and_is_refused_too_early() {
    let mut records = vec![record(
        date!(2026 - 01 - 20),
        "penalty-9",
        CreditRecordKind::Smuggling,
    )];
    let early = assess_credit(
        version(),
        &standing(CreditClass::General, &records, 100),
        date!(2026 - 07 - 01),
    );
    assert_eq!(
        decide_repair(&early),
        Err(RepairRefusal::TooEarly {
            eligible_from: date!(2027 - 01 - 20)
        })
    );
    // A record within the window that is not dishonest is refused as such.
    let clean = assess_credit(
        version(),
        &standing(CreditClass::General, &[], 100),
        date!(2026 - 07 - 01),
    );
    assert_eq!(
        decide_repair(&clean),
        Err(RepairRefusal::NotDishonest {
            class: CreditClass::General
        })
    );
    // The wait runs from the latest trigger: a second one later in the year moves it.
    records.push(record(
        date!(2026 - 06 - 01),
        "penalty-10",
        CreditRecordKind::Smuggling,
    ));
    let s = standing(CreditClass::General, &records, 100);
    let a = assess_credit(version(), &s, date!(2027 - 01 - 25));
    assert_eq!(a.class, CreditClass::Dishonest);
    assert_eq!(
        a.repair.as_ref().map(|r| r.eligible_from),
        Some(date!(2027 - 06 - 01)),
        "the wait runs from the latest trigger"
    );
    let due = assess_credit(version(), &s, date!(2027 - 06 - 01));
    assert_eq!(decide_repair(&due), Ok(()));
    records.push(record(
        date!(2027 - 06 - 01),
        "repair-1",
        CreditRecordKind::Repair,
    ));
    let s = standing(CreditClass::General, &records, 100);
    assert_eq!(
        assess_credit(version(), &s, date!(2027 - 06 - 01)).class,
        CreditClass::General
    );
}

#[test]
fn a_registered_dishonest_class_is_not_lifted_by_a_clean_record() {
    let a = assess_credit(
        version(),
        &standing(CreditClass::SeriouslyDishonest, &[], 100),
        date!(2026 - 06 - 01),
    );
    assert_eq!(a.class, CreditClass::SeriouslyDishonest);
    assert_eq!(a.repair, None);
}
