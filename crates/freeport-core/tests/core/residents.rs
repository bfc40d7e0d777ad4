//! Residents' rules at the till: zero-tariff consumer imports as a second quota (R4.11, TV-13),
//! buy-and-take without a ticket in a year with a departure (R4.5(6)), the serious-dishonesty
//! list (R4.7), and limits the sources do not give shown as unverified.

use freeport_core::duty_free::{
    PickupMode, SaleLine, SaleOrder, SaleRefusal, TravellerRecord, decide_order,
};
use freeport_core::explain::Detail;
use freeport_core::identity::PersonDocument;
use freeport_core::money::Cny;
use freeport_core::quota_ledger::Scheme;
use time::Date;
use time::macros::date;

use crate::support::*;

fn cny(s: &str) -> Cny {
    Cny::round_fen(dec(s))
}

fn resident(spent: &str) -> TravellerRecord {
    TravellerRecord {
        birth_date: date!(2020 - 01 - 01),
        spent_this_year: cny(spent),
        bought_this_departure: vec![],
        banned_until: None,
        departure: None,
        resident: true,
        departed_this_year: false,
        dishonest_until: None,
    }
}

fn line(category: &str, price: &str, n: &str, pickup: PickupMode) -> SaleLine {
    SaleLine {
        category: category.to_owned(),
        unit_price: cny(price),
        quantity: dec(n),
        limit_quantity: dec(n),
        pickup,
        trace_codes: vec![],
    }
}

fn order(scheme: Scheme, sold_on: Date, lines: Vec<SaleLine>) -> SaleOrder {
    SaleOrder {
        scheme,
        document: PersonDocument::parse("passport", "E12345678", Some("FR")).expect("passport"),
        birth_date: date!(2020 - 01 - 01),
        departure_on: None,
        sold_on,
        descriptions: lines.iter().map(|_| String::new()).collect(),
        lines,
        links: vec![],
    }
}

fn codes(d: &freeport_core::duty_free::SaleDecision<'_>) -> Vec<SaleRefusal> {
    d.refusals.iter().map(|r| r.code).collect()
}

fn texts(d: &freeport_core::duty_free::SaleDecision<'_>) -> Vec<String> {
    d.steps
        .iter()
        .chain(d.refusals.iter().map(|r| &r.explanation))
        .map(|s| format!("{} {}", s.rule.id, s.detail.text()))
        .collect()
}

/// TV-13: one resident with 9 800 used and a basket of 300: only 200 within the quota, so the
/// basket is refused naming the 100 short; 200 goes through. A child has a quota of its own.
#[test]
fn the_residents_quota_is_its_own_and_names_the_shortfall() {
    let day = date!(2026 - 03 - 02);
    let basket = |price| {
        order(
            Scheme::ResidentZeroTariff,
            day,
            vec![line("food", price, "1", PickupMode::OnSite)],
        )
    };
    let over = decide_order(pack(), &basket("300"), &resident("9800"), true).expect("decides");
    assert_eq!(codes(&over), vec![SaleRefusal::QuotaExceeded]);
    let why = over.refusals[0].explanation.detail.text();
    assert!(
        why.contains("200.00 CNY left") && why.contains("100.00 CNY short"),
        "{why}"
    );
    assert_eq!(over.refusals[0].explanation.rule.id, "R4.11");
    let exact = decide_order(pack(), &basket("200"), &resident("9800"), true).expect("decides");
    assert!(exact.accepted, "{:?}", texts(&exact));
    assert_eq!(exact.scheme, Scheme::ResidentZeroTariff);
    assert_eq!(exact.quota.remaining_after, Cny::ZERO);
    assert_eq!(exact.leave_island_by, None);
    assert!(texts(&exact).iter().any(|t| t.contains("domestic VAT")));
    // The list's groups are the notice's headings: the decision says the 202 lines are unverified.
    assert!(texts(&exact).iter().any(|t| t.contains("unverified")));
}

#[test]
fn only_residents_in_designated_stores_on_the_list_after_the_notice() {
    let day = date!(2026 - 03 - 02);
    let food = vec![line("food", "50", "2", PickupMode::OnSite)];
    let visitor = TravellerRecord {
        resident: false,
        ..resident("0")
    };
    let d = decide_order(
        pack(),
        &order(Scheme::ResidentZeroTariff, day, food.clone()),
        &visitor,
        true,
    )
    .expect("decides");
    assert_eq!(codes(&d), vec![SaleRefusal::NotResident]);
    let e = decide_order(
        pack(),
        &order(Scheme::ResidentZeroTariff, day, food.clone()),
        &resident("0"),
        false,
    )
    .expect_err("not designated");
    assert_eq!(e.field, "scheme");
    let e = decide_order(
        pack(),
        &order(Scheme::ResidentZeroTariff, date!(2026 - 02 - 04), food),
        &resident("0"),
        true,
    )
    .expect_err("before Caiguanshui [2026] No. 6");
    assert_eq!(e.field, "scheme");
    let watches = vec![line("watches", "50", "1", PickupMode::OnSite)];
    let e = decide_order(
        pack(),
        &order(Scheme::ResidentZeroTariff, day, watches),
        &resident("0"),
        true,
    )
    .expect_err("off the list");
    assert_eq!(e.field, "items[0].category");
    let posted = vec![line("food", "50", "1", PickupMode::Mail)];
    let e = decide_order(
        pack(),
        &order(Scheme::ResidentZeroTariff, day, posted),
        &resident("0"),
        true,
    )
    .expect_err("taken in the store");
    assert_eq!(e.field, "items[0].pickup");
}

/// R4.5(6): without a ticket, a resident who left the island this year buys-and-takes; the
/// goods do not oblige a departure within 30 days.
#[test]
fn a_resident_who_left_this_year_buys_and_takes_without_a_departure() {
    let day = date!(2026 - 03 - 02);
    let adult = TravellerRecord {
        birth_date: date!(1990 - 01 - 01),
        departed_this_year: true,
        ..resident("0")
    };
    let take = vec![line("cosmetics", "300", "2", PickupMode::BuyAndTake)];
    let d = decide_order(
        pack(),
        &order(Scheme::Offshore, day, take.clone()),
        &adult,
        false,
    )
    .expect("decides");
    assert!(d.accepted, "{:?}", texts(&d));
    assert_eq!(d.leave_island_by, None);
    assert!(texts(&d).iter().any(|t| t.starts_with("R4.5(6)")));
    // The buy-and-take limits of 1 to 5 pieces are not in the sources: shown, not enforced.
    assert!(d.steps.iter().any(|s| matches!(
        s.detail,
        Detail::Unverified {
            limit: "buy-and-take limit",
            ..
        }
    )));
    let stayed = TravellerRecord {
        departed_this_year: false,
        ..adult.clone()
    };
    let d = decide_order(
        pack(),
        &order(Scheme::Offshore, day, take.clone()),
        &stayed,
        false,
    )
    .expect("decides");
    assert_eq!(codes(&d), vec![SaleRefusal::NoDeparture]);
    assert_eq!(d.refusals[0].explanation.rule.id, "R4.5(6)");
    let visitor = TravellerRecord {
        resident: false,
        ..adult.clone()
    };
    let d = decide_order(
        pack(),
        &order(Scheme::Offshore, day, take.clone()),
        &visitor,
        false,
    )
    .expect("decides");
    assert_eq!(codes(&d), vec![SaleRefusal::NoDeparture]);
    let at_departure = vec![line("watches", "3000", "1", PickupMode::Departure)];
    let d = decide_order(
        pack(),
        &order(Scheme::Offshore, day, at_departure),
        &adult,
        false,
    )
    .expect("decides");
    assert_eq!(codes(&d), vec![SaleRefusal::NoDeparture]);
    // Before Announcement 2025 No. 9 a sale always names its departure.
    let d = decide_order(
        pack(),
        &order(Scheme::Offshore, date!(2025 - 10 - 31), take),
        &adult,
        false,
    )
    .expect("decides");
    assert_eq!(codes(&d), vec![SaleRefusal::NoDeparture]);
    assert_eq!(d.refusals[0].explanation.rule.id, "R4.3");
}

/// R4.7: listed persons may not shop duty-free or zero-tariff while the listing lasts.
#[test]
fn the_serious_dishonesty_list_is_enforced_at_the_till() {
    let listed = TravellerRecord {
        birth_date: date!(1990 - 01 - 01),
        departed_this_year: true,
        dishonest_until: Some(date!(2028 - 06 - 30)),
        ..resident("0")
    };
    let take = vec![line("cosmetics", "300", "1", PickupMode::BuyAndTake)];
    let d = decide_order(
        pack(),
        &order(Scheme::Offshore, date!(2026 - 03 - 02), take.clone()),
        &listed,
        false,
    )
    .expect("decides");
    assert_eq!(codes(&d), vec![SaleRefusal::SeriousDishonesty]);
    assert_eq!(d.refusals[0].explanation.rule.id, "R4.7");
    let food = vec![line("food", "30", "1", PickupMode::OnSite)];
    let d = decide_order(
        pack(),
        &order(Scheme::ResidentZeroTariff, date!(2026 - 03 - 02), food),
        &listed,
        true,
    )
    .expect("decides");
    assert_eq!(codes(&d), vec![SaleRefusal::SeriousDishonesty]);
    let d = decide_order(
        pack(),
        &order(Scheme::Offshore, date!(2028 - 07 - 01), take),
        &listed,
        false,
    )
    .expect("decides");
    assert!(d.accepted, "the day after the listing ends");
}

/// R4.4: the 2025 list's new and renamed categories have no limit read in a source.
#[test]
fn limits_the_sources_do_not_give_are_flagged_unverified() {
    let v = pack().version_on(date!(2026 - 03 - 02)).expect("version");
    let pets = &v.duty_free.categories["pet_supplies"];
    assert_eq!(
        pets.limit_status,
        freeport_core::pack::model::LimitStatus::Unverified
    );
    let phones = &v.duty_free.categories["mobile_phones"];
    assert_eq!(
        phones.limit_status,
        freeport_core::pack::model::LimitStatus::Verified
    );
    let cosmetics = &v.duty_free.categories["cosmetics"];
    assert_eq!(
        cosmetics.buy_and_take_limit_status,
        freeport_core::pack::model::LimitStatus::Unverified
    );
    let old = pack().version_on(date!(2024 - 03 - 02)).expect("version");
    assert_eq!(old.id, "hainan/2022-01-01");
    assert!(old.duty_free.dishonesty_rule.is_some());
}
