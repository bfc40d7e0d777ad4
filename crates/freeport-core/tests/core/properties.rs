//! Properties of `decide` and the tax arithmetic over generated inputs.

use freeport_core::decide;
use freeport_core::decision::Treatment;
use freeport_core::declaration::*;
use freeport_core::money::{Cny, Rate};
use freeport_core::pack::TariffLine;
use freeport_core::tax::{Exemptions, TaxBasis, compute};
use freeport_core::unit::{Quantity, Unit};
use freeport_core::value_added::{CountingRules, stage_rate};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use time::Date;
use time::macros::date;

use super::support::*;

fn schedule() -> Vec<&'static TariffLine> {
    pack()
        .version_on(date!(2026 - 03 - 02))
        .expect("version")
        .schedule
        .sorted()
}

/// Quantities for every unit a tariff line's specific rates may need.
fn quantities_for(tl: &TariffLine, amount: u32) -> Vec<Quantity> {
    let mut units = vec![tl.first_unit];
    units.extend(tl.specific_duty.as_ref().map(|s| s.per.unit));
    units.extend(
        tl.consumption_tax
            .iter()
            .filter_map(|c| c.specific.as_ref().map(|s| s.per.unit)),
    );
    units.dedup();
    units
        .into_iter()
        .map(|unit| Quantity {
            value: Decimal::from(amount),
            unit,
        })
        .collect()
}

fn goods_line(tl: &TariffLine, value_fen: i64, amount: u32, status: GoodsStatus) -> Line {
    let mut l = line(&tl.line, "DE", "0", quantities_for(tl, amount), status);
    l.value = Cny::from_fen(value_fen).amount();
    l.consumption_tax_item = tl.consumption_tax_items.first().cloned();
    l.licence = Some("LIC-1".to_owned());
    l
}

prop_compose! {
    fn any_declaration(flows: Vec<Flow>, days: Vec<Date>)(
        picks in prop::collection::vec((0usize..1000, 0i64..5_000_000_000, 1u32..100_000), 1..20),
        flow in prop::sample::select(flows),
        day in prop::sample::select(days),
        beneficiary in any::<bool>(),
        recipient_beneficiary in any::<bool>(),
        option in prop::sample::select(vec![PaymentOption::ZeroTariff, PaymentOption::PayVatAndConsumptionTax, PaymentOption::PayAllTaxes]),
    ) -> (Declaration, freeport_core::snapshot::Snapshot) {
        let lines = schedule();
        let status = if flow == Flow::FirstLineImport { GoodsStatus::DutyPaid } else { GoodsStatus::ZeroTariff };
        let goods = picks.iter().map(|(i, v, q)| goods_line(lines[i % lines.len()], *v, *q, status)).collect();
        let mut d = declaration(flow, day, enterprise(1), goods);
        d.payment_option = option;
        d.counterparty = Some(Counterparty::Enterprise(enterprise(2)));
        let mut who = Vec::new();
        if beneficiary { who.push(enterprise(1)); }
        if recipient_beneficiary { who.push(enterprise(2)); }
        (d, snapshot(&who))
    }
}

fn all_flows() -> Vec<Flow> {
    vec![
        Flow::FirstLineImport,
        Flow::FirstLineExport,
        Flow::SecondLineExit,
        Flow::SecondLineEntry,
        Flow::IslandTransfer,
    ]
}

fn some_days() -> Vec<Date> {
    vec![
        date!(2025 - 06 - 01),
        date!(2025 - 12 - 17),
        date!(2025 - 12 - 18),
        date!(2026 - 03 - 02),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn taxes_are_never_negative((d, s) in any_declaration(all_flows(), some_days())) {
        let decision = decide(&d, pack(), &s).expect("generated input is valid");
        for l in &decision.lines {
            for amount in [l.taxes.tariff, l.taxes.consumption_tax, l.taxes.vat, l.export_duty, l.exempted.tariff, l.exempted.consumption_tax, l.exempted.vat] {
                prop_assert!(!amount.is_negative(), "line {} has {amount}", l.line);
            }
        }
        let t = &decision.totals;
        for amount in [t.payable.tariff, t.payable.consumption_tax, t.payable.vat, t.payable_export_duty, t.payable_total] {
            prop_assert!(!amount.is_negative());
        }
    }

    #[test]
    fn declaration_totals_equal_the_sum_of_lines((d, s) in any_declaration(all_flows(), some_days())) {
        let decision = decide(&d, pack(), &s).expect("valid");
        let sum = |f: fn(&freeport_core::decision::LineDecision) -> Cny| decision.lines.iter().map(f).sum::<Cny>();
        prop_assert_eq!(decision.totals.assessed.tariff, sum(|l| l.taxes.tariff));
        prop_assert_eq!(decision.totals.assessed.consumption_tax, sum(|l| l.taxes.consumption_tax));
        prop_assert_eq!(decision.totals.assessed.vat, sum(|l| l.taxes.vat));
        prop_assert_eq!(decision.totals.assessed_export_duty, sum(|l| l.export_duty));
        if decision.outcome != freeport_core::decision::Outcome::Rejected {
            let t = &decision.totals;
            prop_assert_eq!(t.payable.total() + t.waived.total(), t.assessed.total());
            prop_assert_eq!(t.payable_total, t.payable.total() + t.payable_export_duty);
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_decision((d, s) in any_declaration(all_flows(), some_days())) {
        let a = serde_json::to_string(&decide(&d, pack(), &s).expect("valid")).expect("json");
        let b = serde_json::to_string(&decide(&d, pack(), &s).expect("valid")).expect("json");
        prop_assert_eq!(a, b);
    }

    /// R8.4: each tax is the exact formula on the previous taxes' rounded amounts, rounded once,
    /// half-up, to the fen. The oracle below writes the rule book's formula out independently.
    #[test]
    fn each_tax_is_rounded_once_at_its_own_step(
        cv_fen in 0i64..100_000_000_000,
        t_bp in 0u32..10_000, c_bp in 1u32..6_000, v in prop::sample::select(vec!["9", "13"]),
    ) {
        let version = pack().version_on(date!(2026 - 03 - 02)).expect("version");
        let mut item = version.consumption_tax.get("02.5").expect("other alcohol").clone();
        let c = Rate::from_percent("c", &(Decimal::from(c_bp) / Decimal::from(100)).to_string()).expect("rate");
        item.ad_valorem_rate = Some(c);
        let t = Rate::from_percent("t", &(Decimal::from(t_bp) / Decimal::from(100)).to_string()).expect("rate");
        let vat = Rate::from_percent("v", v).expect("rate");
        let cv = Cny::from_fen(cv_fen);
        let basis = TaxBasis { customs_value: cv, quantities: &[], duty_rate: t, duty_column: freeport_core::pack::DutyColumn::Mfn, specific_duty: None, consumption_tax: Some(&item), vat_rate: vat };
        let got = compute(version, &basis, Exemptions::NONE, &mut Vec::new()).expect("no specific rates");

        let half_up = |d: Decimal| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let tariff = half_up(cv.amount() * t.fraction());
        let ct = half_up((cv.amount() + tariff) / (Decimal::ONE - c.fraction()) * c.fraction());
        let vat_amount = half_up((cv.amount() + tariff + ct) * vat.fraction());
        prop_assert_eq!(got.tariff.amount(), tariff);
        prop_assert_eq!(got.consumption_tax.amount(), ct);
        prop_assert_eq!(got.vat.amount(), vat_amount);
        for a in [got.tariff, got.consumption_tax, got.vat] {
            prop_assert_eq!(a.amount().scale(), 2, "every amount is exact to the fen");
        }
    }

    /// The regime switches at midnight on 18 December 2025: a beneficiary importing beef (on no
    /// pre-closure positive list, outside the post-closure catalogue) pays on the 17th, not on the 18th.
    #[test]
    fn the_day_before_and_the_day_of_closure_are_judged_under_two_regimes(value_fen in 1i64..1_000_000_000, amount in 1u32..100_000) {
        let firm = enterprise(1);
        let beef = goods_line(schedule().into_iter().find(|l| l.line == "02023000").expect("beef"), value_fen, amount, GoodsStatus::DutyPaid);
        let before = decide(&declaration(Flow::FirstLineImport, date!(2025 - 12 - 17), firm, vec![beef.clone()]), pack(), &snapshot(&[firm])).expect("valid");
        let after = decide(&declaration(Flow::FirstLineImport, date!(2025 - 12 - 18), firm, vec![beef]), pack(), &snapshot(&[firm])).expect("valid");
        prop_assert_eq!(before.pack.id.as_str(), "hainan/2025-11-01");
        prop_assert_eq!(after.pack.id.as_str(), "hainan/2025-12-18");
        prop_assert_eq!(before.lines[0].treatment, Treatment::Taxed);
        prop_assert_eq!(after.lines[0].treatment, Treatment::ZeroTariff);
    }

    #[test]
    fn any_declaration_is_judged_by_the_version_in_force_on_its_day((d, s) in any_declaration(all_flows(), some_days())) {
        let decision = decide(&d, pack(), &s).expect("valid");
        let expected = if d.declared_on < date!(2022 - 01 - 01) { "hainan/2020-07-01" } else if d.declared_on < date!(2025 - 11 - 01) { "hainan/2022-01-01" } else if d.declared_on < date!(2025 - 12 - 18) { "hainan/2025-11-01" } else if d.declared_on < date!(2026 - 02 - 05) { "hainan/2025-12-18" } else { "hainan/2026-02-05" };
        prop_assert_eq!(decision.pack.id.as_str(), expected);
    }

    #[test]
    fn the_value_added_rate_is_monotone_in_the_sale_price(
        imported in 1i64..10_000_000_000, domestic in 0i64..10_000_000_000, hainan in 0i64..1_000_000_000,
        p1 in 0i64..50_000_000_000, extra in 0i64..10_000_000_000, deduct in any::<bool>(),
    ) {
        let rules = CountingRules { threshold: dec("0.30"), deduct_hainan_produced: deduct };
        let dom = [DomesticPurchase { value: Cny::from_fen(domestic), hainan_produced: false }, DomesticPurchase { value: Cny::from_fen(hainan), hainan_produced: true }];
        let low = stage_rate(Cny::from_fen(p1), &[Cny::from_fen(imported)], &dom, rules);
        let high = stage_rate(Cny::from_fen(p1 + extra), &[Cny::from_fen(imported)], &dom, rules);
        prop_assert!(low.rate <= high.rate);
        prop_assert!(!low.qualifies || high.qualifies);
    }
}

#[test]
fn a_specific_duty_uses_the_declared_quantity() {
    // Whole frozen chickens: 1.3 CNY per kg (specific), VAT 9 %.
    let d = declaration(
        Flow::FirstLineImport,
        date!(2026 - 03 - 02),
        enterprise(5),
        vec![line(
            "02071200",
            "BR",
            "10000",
            vec![Quantity {
                value: dec("2000"),
                unit: Unit::Kilogram,
            }],
            GoodsStatus::DutyPaid,
        )],
    );
    let decision = decide(&d, pack(), &snapshot(&[])).expect("valid");
    assert_eq!(decision.lines[0].taxes.tariff, Cny::from_fen(260_000));
    assert_eq!(decision.lines[0].taxes.vat, Cny::from_fen(113_400));
}
