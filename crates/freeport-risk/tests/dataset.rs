//! Reading the data set: typed rows, and errors that name the line and column.
#![allow(clippy::unwrap_used)]

mod common;

use freeport_risk::RiskError;
use freeport_risk::research::{InspectionOutcome, parse_inspected_declarations};

const HEADER: &str = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,\
Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,\
Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,\
Item Price,Fraud,Critical Fraud";

const ROW: &str =
    "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,,,71080,BE,BE,0.0,FEU1,G,108.0,372254.4";

fn csv(rows: &[String]) -> String {
    format!("{HEADER}\n{}\n", rows.join("\n"))
}

#[test]
fn a_row_is_read_into_a_typed_declaration() {
    let rows = parse_inspected_declarations(&csv(&[format!("{ROW},1,2")])).unwrap();
    let d = &rows[0].declaration;
    assert_eq!(
        d.hs6.as_str(),
        "071080",
        "HS6 codes are left-padded to six digits"
    );
    assert_eq!(d.hs6.heading(), "0710");
    assert_eq!((d.seller.as_deref(), d.courier.as_deref()), (None, None));
    assert_eq!((d.net_mass_kg, d.item_price_krw), (108.0, 372_254.4));
    assert_eq!((d.date.year, d.date.month, d.date.day), (2020, 1, 1));
    assert_eq!(rows[0].outcome, InspectionOutcome::CriticalFraud);
}

#[test]
fn errors_name_the_line_and_column() {
    let good = format!("{ROW},0,0");
    let cases = [
        (ROW.replace("108.0", "-3"), "Net Mass"),
        (ROW.replace(",71080,", ",7108a,"), "HS6 Code"),
        (ROW.replace("2020-01-01", "2020-13-01"), "Date"),
        (ROW.replace("FEU1", ""), "Tax Type"),
    ];
    for (bad, column) in cases {
        let text = csv(&[good.clone(), good.clone(), format!("{bad},0,0")]);
        match parse_inspected_declarations(&text) {
            Err(RiskError::InvalidField {
                line, column: c, ..
            }) => {
                assert_eq!((line, c), (4, column));
            }
            other => panic!("{column}: expected an invalid field, got {other:?}"),
        }
    }
    let contradictory = csv(&[format!("{ROW},0,2")]);
    let err = parse_inspected_declarations(&contradictory).unwrap_err();
    assert!(
        err.to_string().starts_with("line 2, column \"Fraud\""),
        "{err}"
    );
}

#[test]
fn a_missing_column_is_named() {
    let text = csv(&[format!("{ROW},0,0")]).replacen("Net Mass", "Mass", 1);
    assert!(matches!(
        parse_inspected_declarations(&text),
        Err(RiskError::MissingColumn { column: "Net Mass" })
    ));
}

#[test]
fn the_shipped_splits_match_their_readme() {
    for (name, rows, frauds, critical) in [
        ("train", 37_385, 8_114, 394),
        ("valid", 8_134, 1_704, 78),
        ("test", 8_481, 1_835, 73),
    ] {
        let set = common::split(name).unwrap();
        assert_eq!(set.len(), rows, "{name}");
        assert_eq!(
            set.iter().filter(|r| r.outcome.is_fraud()).count(),
            frauds,
            "{name}"
        );
        assert_eq!(
            set.iter().filter(|r| r.outcome.is_critical()).count(),
            critical,
            "{name}"
        );
        assert!(set.iter().all(|r| r.declaration.hs6.as_str().len() == 6));
    }
}
