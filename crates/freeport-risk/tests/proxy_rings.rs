//! The proxy-buying detector on generated islands: every injected shape found (recall at least
//! 0.9) with few ordinary buyers flagged (at most 0.1), on several seeds; the files it reads
//! written and read back unchanged.

use freeport_risk::proxy::generate::{Scale, island};
use freeport_risk::proxy::{detect, evaluate, files};
use freeport_risk::selectivity::{BUNDLED_SETTINGS, SelectivitySettings};

fn settings() -> freeport_risk::proxy::RingSettings {
    let s: SelectivitySettings = toml::from_str(BUNDLED_SETTINGS).expect("settings");
    s.proxy_buying.rings
}

#[test]
fn every_injected_shape_is_found_with_few_ordinary_buyers_flagged() {
    let s = settings();
    for seed in 1..=3 {
        let isl = island(
            seed,
            Scale {
                ordinary: 1500,
                rings_per_shape: 10,
            },
        );
        let found = detect(&isl.sales, &isl.departures, isl.as_of, &s);
        let score = evaluate::score(&isl, &found, &s);
        eprintln!(
            "seed {seed}: {}",
            serde_json::to_string(&score).expect("json")
        );
        assert!(score.false_positive_rate <= 0.1, "seed {seed}: {score:?}");
        for shape in &score.shapes {
            assert!(shape.recall >= 0.9, "seed {seed}: {shape:?}");
        }
        // Every flagged buyer says why.
        assert!(found.flagged.iter().all(|f| !f.evidence.is_empty()));
    }
}

#[test]
fn the_files_read_back_what_was_written() {
    let isl = island(
        7,
        Scale {
            ordinary: 50,
            rings_per_shape: 2,
        },
    );
    let sales = files::read_sales(&files::write_sales(&isl.sales)).expect("sales");
    let departures =
        files::read_departures(&files::write_departures(&isl.departures)).expect("departures");
    assert_eq!(sales, isl.sales);
    assert_eq!(departures, isl.departures);
    let bad = files::read_departures("person,departed_on,means\nP1,2026-13-01,HU1\n")
        .expect_err("a bad day");
    assert_eq!((bad.file, bad.line), ("departures.csv", 2));
}
