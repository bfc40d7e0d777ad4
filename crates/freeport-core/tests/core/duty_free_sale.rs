//! Offshore duty-free sales (R4.2–R4.5): decided as a whole against age, the departure's category
//! limits and the annual quota.

use freeport_core::duty_free::{
    BasketItem, PickupMode, SaleLine, SaleRefusal, TravellerRecord, decide_sale,
};
use freeport_core::money::Cny;
use time::macros::date;

use crate::support::*;

fn cny(s: &str) -> Cny {
    Cny::round_fen(dec(s))
}

fn adult(spent: &str, earlier: Vec<BasketItem>) -> TravellerRecord {
    TravellerRecord {
        birth_date: date!(1990 - 05 - 01),
        spent_this_year: cny(spent),
        bought_this_departure: earlier,
        banned_until: None,
        departure: Some(departure()),
        resident: false,
        departed_this_year: false,
        dishonest_until: None,
    }
}

fn departure() -> freeport_core::departure::Departure {
    freeport_core::departure::Departure {
        id: "dep-1".into(),
        kind: freeport_core::departure::DepartureKind::Flight,
        means: "HU7181".into(),
        port: "haikou-meilan".into(),
        departs_at_ms: 0,
        departure_on: date!(2026 - 03 - 05),
        leaves_country: false,
    }
}

fn item(category: &str, price: &str, n: &str, limit_n: &str) -> SaleLine {
    SaleLine {
        category: category.to_owned(),
        unit_price: cny(price),
        quantity: dec(n),
        limit_quantity: dec(limit_n),
        pickup: PickupMode::Departure,
        trace_codes: vec![],
    }
}

fn refusals(d: &freeport_core::duty_free::SaleDecision<'_>) -> Vec<SaleRefusal> {
    d.refusals.iter().map(|r| r.code).collect()
}

#[test]
fn the_quota_is_spent_to_the_fen_and_not_beyond() {
    let day = date!(2026 - 03 - 02);
    let exact = decide_sale(
        pack(),
        day,
        &[item("watches", "5000", "1", "1")],
        &adult("95000", vec![]),
    )
    .expect("decides");
    assert!(exact.accepted);
    assert_eq!(exact.total, cny("5000"));
    assert_eq!(exact.quota.remaining_after, Cny::ZERO);
    assert_eq!(exact.pack.id, "hainan/2026-02-05");
    let over = decide_sale(
        pack(),
        day,
        &[item("watches", "5000.01", "1", "1")],
        &adult("95000", vec![]),
    )
    .expect("decides");
    assert!(!over.accepted);
    assert_eq!(refusals(&over), vec![SaleRefusal::QuotaExceeded]);
    assert_eq!(over.refusals[0].explanation.rule.id, "R4.2");
    assert_eq!(over.quota.over_quota, cny("0.01"));
}

#[test]
fn category_limits_count_the_whole_departure() {
    let day = date!(2026 - 03 - 02);
    let earlier = vec![BasketItem {
        category: "cosmetics".to_owned(),
        quantity: dec("25"),
    }];
    let five = decide_sale(
        pack(),
        day,
        &[item("cosmetics", "300", "5", "5")],
        &adult("0", earlier.clone()),
    )
    .expect("decides");
    assert!(five.accepted, "{:?}", refusals(&five));
    let six = decide_sale(
        pack(),
        day,
        &[item("cosmetics", "300", "6", "6")],
        &adult("0", earlier),
    )
    .expect("decides");
    assert_eq!(refusals(&six), vec![SaleRefusal::DepartureLimitExceeded]);
    assert!(
        six.refusals[0]
            .explanation
            .detail
            .text()
            .contains("31 this departure against a limit of 30")
    );
    // Alcohol counts in millilitres: two 750 ml bottles reach the 1 500 ml limit, three pass it.
    let two = decide_sale(
        pack(),
        day,
        &[item("alcohol", "800", "2", "1500")],
        &adult("0", vec![]),
    )
    .expect("decides");
    assert!(two.accepted);
    let three = decide_sale(
        pack(),
        day,
        &[item("alcohol", "800", "3", "2250")],
        &adult("0", vec![]),
    )
    .expect("decides");
    assert_eq!(refusals(&three), vec![SaleRefusal::DepartureLimitExceeded]);
}

#[test]
fn a_buyer_under_age_is_refused_and_every_reason_is_given() {
    let day = date!(2026 - 03 - 02);
    let v = pack().version_on(day).expect("version");
    let minimum = i32::from(v.duty_free.minimum_age);
    let young = TravellerRecord {
        birth_date: date!(2026 - 03 - 03)
            .replace_year(2026 - minimum)
            .expect("date"),
        spent_this_year: cny("99999"),
        bought_this_departure: vec![],
        banned_until: None,
        departure: None,
        resident: false,
        departed_this_year: false,
        dishonest_until: None,
    };
    let d = decide_sale(
        pack(),
        day,
        &[item("mobile_phones", "6000", "5", "5")],
        &young,
    )
    .expect("decides");
    assert_eq!(
        refusals(&d),
        vec![
            SaleRefusal::Underage,
            SaleRefusal::NoDeparture,
            SaleRefusal::DepartureLimitExceeded,
            SaleRefusal::QuotaExceeded
        ]
    );
    // The day of the birthday makes the buyer eligible, with a departure on record.
    let of_age = TravellerRecord {
        birth_date: date!(2026 - 03 - 02)
            .replace_year(2026 - minimum)
            .expect("date"),
        departure: Some(departure()),
        ..young
    };
    let d = decide_sale(
        pack(),
        day,
        &[item("mobile_phones", "1", "1", "1")],
        &of_age,
    )
    .expect("decides");
    assert!(d.accepted);
}

#[test]
fn pickup_modes_follow_the_price_and_unknown_categories_are_input_errors() {
    let day = date!(2026 - 03 - 02);
    let d = decide_sale(
        pack(),
        day,
        &[
            item("cosmetics", "100", "1", "1"),
            item("watches", "60000", "1", "1"),
        ],
        &adult("0", vec![]),
    )
    .expect("decides");
    assert!(d.pickup[0].contains(&PickupMode::BuyAndTake));
    assert!(d.pickup[1].contains(&PickupMode::GuaranteeAndTake));
    assert_eq!(d.leave_island_by, Some(date!(2026 - 04 - 01)));
    let e = decide_sale(
        pack(),
        day,
        &[item("spaceships", "1", "1", "1")],
        &adult("0", vec![]),
    )
    .expect_err("unknown");
    assert_eq!(e.field, "items[0].category");
}

#[test]
fn a_banned_buyer_is_refused_until_the_ban_ends() {
    let mut traveller = adult("0", vec![]);
    traveller.banned_until = Some(date!(2029 - 03 - 01));
    let lines = [item("cosmetics", "300", "1", "1")];
    let refused = decide_sale(pack(), date!(2026 - 03 - 02), &lines, &traveller).expect("decides");
    assert!(!refused.accepted);
    assert_eq!(refused.refusals[0].code, SaleRefusal::Banned);
    assert_eq!(refused.refusals[0].explanation.rule.id, "R4.6");
    let after = decide_sale(pack(), date!(2029 - 03 - 02), &lines, &traveller).expect("decides");
    assert!(after.accepted, "the day after the ban ends");
}

/// R4.5: the mode the till chooses must be open to the item and the buyer; a guarantee-and-take
/// line lodges the inbound-articles tax on it (R8.9); traceability numbers come one per piece.
#[test]
fn the_chosen_pickup_mode_must_be_open_and_a_guarantee_is_the_articles_tax() {
    let day = date!(2026 - 03 - 02);
    let v = pack().version_on(day).expect("version");
    let with = |mode: PickupMode, line: SaleLine| SaleLine {
        pickup: mode,
        ..line
    };
    let visitor = adult("0", vec![]);
    let resident = TravellerRecord {
        resident: true,
        ..adult("0", vec![])
    };
    let mail = with(PickupMode::Mail, item("watches", "1000", "1", "1"));
    assert!(
        decide_sale(pack(), day, &[mail], &visitor)
            .expect("decides")
            .accepted
    );
    let home = with(
        PickupMode::ReturnToIsland,
        item("watches", "1000", "1", "1"),
    );
    let e = decide_sale(pack(), day, std::slice::from_ref(&home), &visitor)
        .expect_err("not a resident");
    assert_eq!(e.field, "items[0].pickup");
    assert!(
        decide_sale(pack(), day, &[home], &resident)
            .expect("decides")
            .accepted
    );
    let phones = with(
        PickupMode::BuyAndTake,
        item("mobile_phones", "5000", "1", "1"),
    );
    let e = decide_sale(pack(), day, &[phones], &visitor).expect_err("phones are not on the list");
    assert!(e.reason.contains("departure"), "{}", e.reason);
    let watches = with(
        PickupMode::GuaranteeAndTake,
        item("watches", "60000", "2", "2"),
    );
    let e = decide_sale(pack(), day, std::slice::from_ref(&watches), &visitor)
        .expect_err("a guarantee follows numbered pieces");
    assert_eq!(e.field, "items[0].trace_codes");
    let watches = SaleLine {
        trace_codes: vec!["1000000000000001".into(), "1000000000000002".into()],
        ..watches
    };
    let d = decide_sale(pack(), day, &[watches], &visitor).expect("decides");
    let each =
        freeport_core::duty_free::guarantee_amount(v, "watches", cny("60000")).expect("a class");
    assert_eq!(d.guarantee, Cny::round_fen(each.amount() * dec("2")));
    assert!(d.guarantee > Cny::ZERO);
    let traced = SaleLine {
        trace_codes: vec!["1234567890123456".into()],
        ..item("cosmetics", "100", "2", "2")
    };
    let e = decide_sale(pack(), day, &[traced], &visitor).expect_err("two pieces, one number");
    assert_eq!(e.field, "items[0].trace_codes");
}
