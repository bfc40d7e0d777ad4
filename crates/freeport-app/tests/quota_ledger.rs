//! The duty-free quota ledger under interleaving: tills on several tasks reserve, commit, void and
//! return for the same few buyers while the clock moves and reservations expire, through the use
//! cases on a real store (SQLite, and PostgreSQL when `FREEPORT_TEST_POSTGRES_URL` is set). A
//! watcher checks the quota rows as they change; at the end an auditor recomputes every buyer's
//! spent, reserved and category allowance from the sales themselves and compares.

use std::sync::Arc;

use freeport_app::clock::ManualClock;
use freeport_app::duty_free::{Return, Taking};
use freeport_app::users::Role;
use freeport_app::{Actor, AppError, Platform};
use freeport_core::credit::CreditClass;
use freeport_core::duty_free::{SaleLine, SaleOrder};
use freeport_core::identity::{CreditCode, PersonDocument};
use freeport_core::money::Cny;
use freeport_core::quota_ledger::{SaleState, Settlement};
use freeport_core::registry::Registration;
use freeport_store::Store;
use rust_decimal::Decimal;

const OPERATOR: &str = "91460000MA5T00001F";
const BUYERS: [&str; 3] = ["E10000001", "E10000002", "E10000003"];
const QUOTA_FEN: i64 = 10_000_000;
const COSMETICS_LIMIT_MILLI: i64 = 30_000;
const DEPARTURE: time::Date = time::macros::date!(2026 - 03 - 05);

fn actor(role: Role) -> Actor {
    Actor {
        user_id: format!("{}-user", role.as_str()),
        role,
        enterprise: (role == Role::DutyFreeOperator).then(|| OPERATOR.to_owned()),
    }
}

async fn platform(admin_url: Option<&str>, tag: &str) -> (Platform, Arc<ManualClock>) {
    let name = format!("freeport_quota_ledger_{}_{tag}", std::process::id());
    let url = freeport_store::fresh::fresh_database(admin_url, &name)
        .await
        .expect("a fresh database");
    let store = Store::connect(&url, 8, b"k").await.expect("connect");
    store.migrate().await.expect("migrate");
    let pack =
        freeport_policy_fs::load_pack(&freeport_policy_fs::bundled_pack_dir()).expect("pack");
    let mut platform = Platform::new(store, Arc::new(pack));
    let clock = Arc::new(ManualClock::at_day(time::macros::date!(2026 - 03 - 02)));
    platform.clock = clock.clone();
    let admin = actor(Role::Administrator);
    let r = Registration {
        code: CreditCode::parse(OPERATOR).expect("code"),
        name: "Operator".into(),
        beneficiary: false,
        encouraged_industry_filed: false,
        encouraged_revenue_share: None,
        credit_class: CreditClass::General,
    };
    freeport_app::registry::register(&platform, &admin, r, |_| Ok(None))
        .await
        .expect("registered");
    let shop = freeport_app::duty_free::ShopRegistration {
        id: "SHOP-1".into(),
        operator: CreditCode::parse(OPERATOR).expect("code"),
        name: "Shop".into(),
        location: "Sanya".into(),
        resident_zero_tariff: false,
    };
    freeport_app::duty_free::register_shop(&platform, &admin, shop, |_| Ok(None))
        .await
        .expect("shop");
    // Each buyer leaves on the departure their baskets name (R4.3).
    for number in BUYERS {
        let report = freeport_app::departures::DepartureReport {
            document: PersonDocument::parse("passport", number, Some("GB")).expect("passport"),
            kind: freeport_core::departure::DepartureKind::Flight,
            means: "HU7181".into(),
            port: "haikou-meilan".into(),
            departs_at_ms: freeport_app::clock::zone_day_start_ms(DEPARTURE) + 36_000_000,
            leaves_country: false,
        };
        freeport_app::departures::record(&platform, &actor(Role::CustomsOfficer), report, |_| {
            Ok(None)
        })
        .await
        .expect("a departure");
    }
    (platform, clock)
}

/// A small deterministic generator, so a failing interleaving's seed says which ops ran.
struct Draw(u64);

impl Draw {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn order(buyer: usize, pieces: u64, price_yuan: u64) -> SaleOrder {
    SaleOrder {
        scheme: freeport_core::quota_ledger::Scheme::Offshore,
        document: PersonDocument::parse("passport", BUYERS[buyer], Some("GB")).expect("passport"),
        birth_date: time::macros::date!(1990 - 05 - 01),
        departure_on: Some(DEPARTURE),
        sold_on: time::macros::date!(2026 - 03 - 02),
        lines: vec![SaleLine {
            category: "cosmetics".into(),
            unit_price: Cny::from_fen(i64::try_from(price_yuan).expect("small") * 100),
            quantity: Decimal::from(pieces),
            limit_quantity: Decimal::from(pieces),
            pickup: freeport_core::duty_free::PickupMode::Departure,
            trace_codes: Vec::new(),
        }],
        descriptions: vec!["lipstick".into()],
        links: Vec::new(),
    }
}

/// One till: `ops` random steps on its own sales.
async fn till(platform: Platform, clock: Arc<ManualClock>, seed: u64, ops: usize) {
    let op = actor(Role::DutyFreeOperator);
    let shop = freeport_app::duty_free::visible_shop(&platform, &op, "SHOP-1")
        .await
        .expect("shop");
    let mut draw = Draw(seed.max(1));
    let mut mine: Vec<String> = Vec::new();
    for _ in 0..ops {
        let pick = |draw: &mut Draw, mine: &[String]| {
            (!mine.is_empty()).then(|| {
                mine[usize::try_from(draw.next(mine.len() as u64)).expect("index")].clone()
            })
        };
        match draw.next(10) {
            0..=3 => {
                let buyer = usize::try_from(draw.next(3)).expect("buyer");
                let o = order(buyer, 1 + draw.next(12), 500 + draw.next(20_000));
                let hold_ms = 60_000 + i64::try_from(draw.next(540)).expect("small") * 1000;
                let sold = freeport_app::duty_free::sell(
                    &platform,
                    &op,
                    &shop,
                    (o, Taking::Reserve { hold_ms }),
                    |_| Ok(None),
                )
                .await
                .expect("a reservation is decided");
                if sold.sale.state == SaleState::Pending {
                    mine.push(sold.sale.id);
                }
            }
            4..=5 => {
                if let Some(id) = pick(&mut draw, &mine) {
                    let how = if draw.next(3) == 0 {
                        Settlement::Void
                    } else {
                        Settlement::Commit
                    };
                    match freeport_app::duty_free::settle(
                        &platform,
                        &op,
                        ("SHOP-1", &id),
                        how,
                        |_| Ok(None),
                    )
                    .await
                    {
                        Ok(_) | Err(AppError::InvalidTransition(_)) => {}
                        Err(e) => panic!("settling {id}: {e}"),
                    }
                }
            }
            6..=7 => {
                if let Some(id) = pick(&mut draw, &mine) {
                    let pieces = Decimal::from(1 + draw.next(6));
                    let r = Return {
                        lines: vec![(0, pieces)],
                        reason: "changed mind".into(),
                    };
                    match freeport_app::duty_free::return_goods(
                        &platform,
                        &op,
                        ("SHOP-1", &id),
                        r,
                        |_| Ok(None),
                    )
                    .await
                    {
                        Ok(_) | Err(AppError::InvalidTransition(_) | AppError::Invalid(_)) => {}
                        Err(e) => panic!("returning {id}: {e}"),
                    }
                }
            }
            8 => clock.advance(i64::try_from(draw.next(300)).expect("small") * 1000),
            _ => {
                freeport_app::duty_free::expire_overdue(&platform, None)
                    .await
                    .expect("expiry");
            }
        }
    }
}

fn share(whole: i64, part: i64, of: i64) -> i64 {
    i64::try_from(i128::from(whole) * i128::from(part) / i128::from(of)).expect("fits")
}

/// Recomputes every buyer's ledger from the sales and compares it with the store's rows.
async fn audit(platform: &Platform) {
    let store = &platform.store;
    let sales = store.sales("SHOP-1", "", 100_000).await.expect("sales");
    for number in BUYERS {
        let doc = PersonDocument::parse("passport", number, Some("GB")).expect("passport");
        let person = store.person_code(&doc.canonical_key());
        let (mut spent, mut reserved, mut cosmetics) = (0, 0, 0);
        for s in &sales {
            let (row, record) = store.sale(&s.id).await.expect("read").expect("there");
            if record.person_code != person || !row.state.holds_quota() {
                continue;
            }
            match row.state {
                SaleState::Pending => reserved += row.total_fen,
                _ => spent += row.total_fen - row.returned_fen,
            }
            for i in &record.items {
                cosmetics += i.limit_quantity_milli
                    - share(i.limit_quantity_milli, i.returned_milli, i.quantity_milli);
            }
        }
        assert_eq!(
            store
                .quota_year(freeport_core::quota_ledger::Scheme::Offshore, &person, 2026)
                .await
                .expect("quota"),
            (spent, reserved),
            "{number}: the quota row is the sum of the sales"
        );
        assert!(
            spent + reserved <= QUOTA_FEN,
            "{number}: {spent} + {reserved}"
        );
        let held = store
            .allowances(&person, &DEPARTURE.to_string())
            .await
            .expect("allowances")
            .into_iter()
            .find(|(c, _)| c == "cosmetics")
            .map_or(0, |(_, m)| m);
        assert_eq!(
            held, cosmetics,
            "{number}: the allowance is the sum of the sales"
        );
        assert!(held <= COSMETICS_LIMIT_MILLI, "{number}: {held}");
    }
}

async fn interleave(platform: Platform, clock: Arc<ManualClock>, seed: u64) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The watcher: at no moment does a buyer's row pass the quota.
    let watcher = {
        let (platform, stop) = (platform.clone(), stop.clone());
        tokio::spawn(async move {
            let mut looks = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                for number in BUYERS {
                    let doc = PersonDocument::parse("passport", number, Some("GB")).expect("doc");
                    let person = platform.store.person_code(&doc.canonical_key());
                    let (spent, reserved) = platform
                        .store
                        .quota_year(freeport_core::quota_ledger::Scheme::Offshore, &person, 2026)
                        .await
                        .expect("quota");
                    assert!(spent >= 0 && reserved >= 0 && spent + reserved <= QUOTA_FEN);
                }
                looks += 1;
                tokio::task::yield_now().await;
            }
            looks
        })
    };
    let tills: Vec<_> = (0..6u64)
        .map(|t| {
            tokio::spawn(till(
                platform.clone(),
                clock.clone(),
                seed * 1_000 + t * 7 + 1,
                60,
            ))
        })
        .collect();
    for t in tills {
        t.await.expect("a till");
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(watcher.await.expect("watcher") > 0);
    audit(&platform).await;
    // Whatever is still pending expires once its deadline passes, and the ledger still adds up.
    clock.advance(3_600_000);
    freeport_app::duty_free::expire_overdue(&platform, None)
        .await
        .expect("expiry");
    audit(&platform).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_interleaving_of_tills_overspends_or_loses_a_fen() {
    for seed in 1..=3 {
        let (platform, clock) = platform(None, &format!("sqlite_{seed}")).await;
        interleave(platform, clock, seed).await;
    }
    if let Ok(url) = std::env::var("FREEPORT_TEST_POSTGRES_URL") {
        for seed in 1..=3 {
            let tag = format!("pg_{seed}");
            let (platform, clock) = platform(Some(&url), &tag).await;
            interleave(platform.clone(), clock, seed).await;
            platform.store.close().await;
            freeport_store::fresh::drop_fresh_database(
                Some(&url),
                &format!("freeport_quota_ledger_{}_{tag}", std::process::id()),
            )
            .await;
        }
    }
}
