//! R3.4 / R8.10: supervised goods tracked from a duty-exempt entry, and the back taxes of their
//! early disposal. Expected figures are worked by hand from the formulas in POLICY.md.

use freeport_core::decide::decide;
use freeport_core::decision::{Effect, Treatment};
use freeport_core::declaration::{Flow, GoodsStatus};
use freeport_core::money::Cny;
use freeport_core::supervision::{
    Disposal, DisposalKind, SupervisedItem, assess_disposal, supervision_ends,
};
use freeport_core::unit::Unit;
use time::macros::date;

use crate::support::*;

fn fen(s: &str) -> Cny {
    Cny::round_fen(dec(s))
}

/// Three ultrasound scanners (MFN 4 %, VAT 13 %) entered zero-tariff on 2026-01-10.
fn scanners() -> SupervisedItem {
    SupervisedItem {
        hs_code: code("90181210"),
        origin: country("DE"),
        consumption_tax_item: None,
        years: 3,
        released_on: date!(2026 - 01 - 10),
        quantity: qty("3", Unit::Piece),
        customs_value: fen("360000"),
    }
}

#[test]
fn a_zero_tariff_entry_of_equipment_starts_its_supervision_period_and_beef_does_not() {
    let firm = enterprise(41);
    let d = declaration(
        Flow::FirstLineImport,
        date!(2026 - 01 - 10),
        firm,
        vec![
            line(
                "90181210",
                "DE",
                "360000",
                vec![qty("3", Unit::Piece)],
                GoodsStatus::DutyPaid,
            ),
            line(
                "02023000",
                "AR",
                "3560",
                vec![qty("10", Unit::Kilogram)],
                GoodsStatus::DutyPaid,
            ),
        ],
    );
    let decision = decide(&d, pack(), &snapshot(&[firm])).expect("decides");
    assert_eq!(decision.lines[0].treatment, Treatment::ZeroTariff);
    let supervised: Vec<_> = decision
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Supervised {
                line,
                kind,
                years,
                from,
                until,
                explanation,
                ..
            } => Some((
                *line,
                *kind,
                *years,
                *from,
                *until,
                explanation.rule.id.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        supervised,
        vec![(
            0,
            "equipment",
            3,
            date!(2026 - 01 - 10),
            date!(2029 - 01 - 10),
            "R3.4".to_owned()
        )]
    );
    // Not a beneficiary: taxed in full, so nothing to supervise.
    let taxed = decide(&d, pack(), &snapshot(&[])).expect("decides");
    assert!(
        !taxed
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Supervised { .. }))
    );
}

#[test]
fn a_transfer_pays_on_the_unexpired_share_of_the_value() {
    let a = assess_disposal(
        pack(),
        &scanners(),
        &Disposal {
            kind: DisposalKind::Transfer,
            on: date!(2027 - 04 - 10),
            quantity: dec("3"),
        },
    )
    .expect("assessed");
    // 15 whole months of 36: 360 000 × 21/36 = 210 000.00.
    assert_eq!(a.back_tax_value, fen("210000"));
    // Tariff 4 % = 8 400.00; VAT 13 % × (210 000 + 8 400) = 28 392.00.
    assert_eq!(a.taxes.tariff, fen("8400"));
    assert_eq!(a.taxes.vat, fen("28392"));
    assert_eq!(a.taxes.total(), fen("36792"));
    assert_eq!(a.pack.id, "hainan/2026-02-05");
    assert_eq!(a.supervision_ends, date!(2029 - 01 - 10));
    let rules: Vec<&str> = a.steps.iter().map(|s| s.rule.id.as_str()).collect();
    assert_eq!(rules[0], "R8.10");
    assert!(
        a.steps[0]
            .detail
            .text()
            .contains("360000.00 × (1 − 15 / 36 months supervised) = 210000.00")
    );
    // One day short of the 16th month still counts 15.
    let day_before = assess_disposal(
        pack(),
        &scanners(),
        &Disposal {
            kind: DisposalKind::EarlyRelease,
            on: date!(2027 - 05 - 09),
            quantity: dec("3"),
        },
    )
    .expect("assessed");
    assert_eq!(day_before.back_tax_value, fen("210000"));
}

#[test]
fn a_part_carries_its_share_of_the_value_and_a_diversion_pays_by_the_day() {
    let one = assess_disposal(
        pack(),
        &scanners(),
        &Disposal {
            kind: DisposalKind::Transfer,
            on: date!(2027 - 04 - 10),
            quantity: dec("1"),
        },
    )
    .expect("assessed");
    assert_eq!(one.disposed_value, fen("120000"));
    assert_eq!(one.back_tax_value, fen("70000"));
    let diverted = assess_disposal(
        pack(),
        &scanners(),
        &Disposal {
            kind: DisposalKind::Diversion { days: 73 },
            on: date!(2026 - 06 - 01),
            quantity: dec("3"),
        },
    )
    .expect("assessed");
    // 360 000 × 73 / 1 095 = 24 000.00; tariff 960.00; VAT 13 % × 24 960 = 3 244.80.
    assert_eq!(diverted.back_tax_value, fen("24000"));
    assert_eq!(diverted.taxes.tariff, fen("960"));
    assert_eq!(diverted.taxes.vat, fen("3244.80"));
    assert!(!DisposalKind::Diversion { days: 1 }.ends_supervision());
}

#[test]
fn after_the_period_nothing_is_owed_and_impossible_disposals_are_refused() {
    let item = scanners();
    let end = supervision_ends(item.released_on, item.years);
    let free = assess_disposal(
        pack(),
        &item,
        &Disposal {
            kind: DisposalKind::Transfer,
            on: end,
            quantity: dec("3"),
        },
    )
    .expect("assessed");
    assert_eq!(free.taxes.total(), Cny::ZERO);
    assert_eq!(free.steps.len(), 1);
    assert_eq!(free.steps[0].rule.id, "R3.4");
    let refused = |on, quantity: &str, kind| {
        assess_disposal(
            pack(),
            &item,
            &Disposal {
                kind,
                on,
                quantity: dec(quantity),
            },
        )
        .expect_err("refused")
        .field
    };
    assert_eq!(
        refused(date!(2026 - 01 - 09), "1", DisposalKind::Transfer),
        "on"
    );
    assert_eq!(
        refused(date!(2026 - 06 - 01), "4", DisposalKind::Transfer),
        "quantity"
    );
    assert_eq!(
        refused(date!(2026 - 06 - 01), "0", DisposalKind::Transfer),
        "quantity"
    );
    assert_eq!(
        refused(
            date!(2026 - 06 - 01),
            "3",
            DisposalKind::Diversion { days: 0 }
        ),
        "days_diverted"
    );
}
