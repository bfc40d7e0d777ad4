use rust_decimal::Decimal;
use time::macros::date;

use super::*;

const GOLDEN: &str = r#"
ruleset "golden" version 2

# Origins whose beef is often undervalued.
list beef_origins = ["AR", "BR", "UY"]
list watched = ["91460000MA5T00009X"]

rule "R-001"
  title "Beef far below the value reference"
  owner "risk.analyst.wang"
  valid 2026-01-01 .. 2026-12-31
  when hs in prefix("0201", "0202") and origin in beef_origins
       and unit_value < 0.6 * reference_unit_value
  then score 40, lane red, alert "beef undervaluation"
end

rule "R-002"
  title "Watched enterprise, any goods"
  owner "risk.analyst.li"
  when enterprise in watched
  then lane yellow, score 10
end

rule "R-003"
  title "Weekend second-line exits of high value"
  owner "risk.analyst.li"
  valid 2026-03-01 ..
  when line == "second" and weekday >= 6 and value > 100000
  then score 25, lane blue
end

rule "R-004"
  title "Dishonest enterprises are always held"
  owner "risk.analyst.wang"
  when credit_class == "dishonest" and not (origin in ["CN"])
  then lane hold
end
"#;

fn facts() -> Facts<'static> {
    Facts {
        hs: "02023000",
        origin: "AR",
        departure: Some("AR"),
        enterprise: "91460000MA5T00001F",
        declarant: None,
        seller: None,
        credit_class: "general",
        line: "first",
        flow: "first_line_import",
        port: Some("HAIKOU"),
        declared_on: date!(2026 - 03 - 16),
        value: Decimal::from(3560),
        quantity: Decimal::from(10),
        reference_unit_value: Some(Decimal::from(1000)),
        tax_rate: Some(Decimal::from(12)),
    }
}

fn ids(set: &RuleSet, e: &Evaluation) -> Vec<String> {
    e.hits.iter().map(|i| set.rules[*i].id.clone()).collect()
}

#[test]
fn the_golden_file_parses_with_its_metadata() {
    let set = parse_rule_set(GOLDEN).expect("parses");
    assert_eq!((set.name.as_str(), set.version), ("golden", 2));
    assert_eq!(set.rules.len(), 4);
    let r = &set.rules[0];
    assert_eq!(r.id, "R-001");
    assert_eq!(r.owner, "risk.analyst.wang");
    assert_eq!(r.valid_from, Some(date!(2026 - 01 - 01)));
    assert_eq!(r.valid_until, Some(date!(2026 - 12 - 31)));
    assert_eq!(r.line, 8);
    assert_eq!(
        r.actions,
        vec![
            Action::Score {
                points: Decimal::from(40)
            },
            Action::Lane { lane: Lane::Red },
            Action::Alert {
                text: "beef undervaluation".into()
            }
        ]
    );
    assert_eq!(set.rules[2].valid_until, None);
}

#[test]
fn rules_fire_on_the_facts_they_name_and_actions_combine() {
    let set = parse_rule_set(GOLDEN).expect("parses");
    // 356 per kg against a reference of 1 000: below 60 %.
    let e = set.evaluate(&facts());
    assert_eq!(ids(&set, &e), vec!["R-001"]);
    assert_eq!(e.score, Decimal::from(40));
    assert_eq!(e.lane, Some(Lane::Red));
    assert_eq!(e.alerts, vec!["beef undervaluation".to_owned()]);
    // At 60 % exactly, not below: no hit.
    let at_reference = Facts {
        value: Decimal::from(6000),
        ..facts()
    };
    assert!(set.evaluate(&at_reference).hits.is_empty());
    // Another origin, or another chapter: no hit.
    assert!(
        set.evaluate(&Facts {
            origin: "AU",
            ..facts()
        })
        .hits
        .is_empty()
    );
    assert!(
        set.evaluate(&Facts {
            hs: "02071200",
            ..facts()
        })
        .hits
        .is_empty()
    );
    // The most intrusive lane wins and scores add.
    let watched = Facts {
        enterprise: "91460000MA5T00009X",
        ..facts()
    };
    let e = set.evaluate(&watched);
    assert_eq!(ids(&set, &e), vec!["R-001", "R-002"]);
    assert_eq!(e.score, Decimal::from(50));
    assert_eq!(e.lane, Some(Lane::Red));
    let held = Facts {
        credit_class: "dishonest",
        ..facts()
    };
    assert_eq!(set.evaluate(&held).lane, Some(Lane::Hold));
    assert!(
        set.evaluate(&Facts {
            origin: "CN",
            ..held
        })
        .lane
        .is_none()
    );
}

#[test]
fn missing_facts_never_satisfy_a_comparison_and_validity_is_respected() {
    let set = parse_rule_set(GOLDEN).expect("parses");
    let no_reference = Facts {
        reference_unit_value: None,
        ..facts()
    };
    assert!(set.evaluate(&no_reference).hits.is_empty());
    let zero_quantity = Facts {
        quantity: Decimal::ZERO,
        ..facts()
    };
    assert!(set.evaluate(&zero_quantity).hits.is_empty());
    // R-001 ends with 2026; R-003 starts in March 2026.
    assert!(
        set.evaluate(&Facts {
            declared_on: date!(2027 - 01 - 01),
            ..facts()
        })
        .hits
        .is_empty()
    );
    let weekend = Facts {
        line: "second",
        origin: "CN",
        value: Decimal::from(200_000),
        declared_on: date!(2026 - 03 - 14),
        ..facts()
    };
    let e = set.evaluate(&weekend);
    assert_eq!(ids(&set, &e), vec!["R-003"]);
    assert_eq!(e.lane, Some(Lane::Blue));
    let before = Facts {
        declared_on: date!(2026 - 02 - 28),
        ..weekend
    };
    assert!(set.evaluate(&before).hits.is_empty());
}

fn error(text: &str) -> RuleError {
    parse_rule_set(text).expect_err("malformed")
}

/// Line and column (1-based) of the first occurrence of `marker` in `text`.
fn position_of(text: &str, marker: &str) -> (u32, u32) {
    let at = text.find(marker).expect("marker in text");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line as u32, column as u32)
}

#[test]
fn malformed_rules_fail_with_line_and_column() {
    let head = "ruleset \"t\" version 1\n";
    let rule = |when: &str, then: &str| {
        format!("rule \"A\" title \"t\" owner \"o\" when {when} then {then} end")
    };
    // (the file's body, the text the error must point at, words the message must contain)
    let cases: Vec<(String, &str, &str)> = vec![
        (rule("origni == \"AR\"", "score 1"), "origni", "unknown field `origni`"),
        (rule("value > \"AR\"", "score 1"), "> \"AR\"", "cannot compare a number with text"),
        (rule("value + 1", "score 1"), "value + 1", "a condition is needed here, not a number"),
        (rule("origin in nowhere", "score 1"), "nowhere", "no list named `nowhere`"),
        (rule("hs in prefix(\"0x\")", "score 1"), "\"0x\"", "\"0x\" is not a code prefix"),
        (rule("hs == \"1\"", "lane purple"), "purple", "`purple` is not a lane"),
        (rule("hs == \"1\" and", "score 1"), "then", "expected a field, a number, text or a date, found `then`"),
        (rule("(hs == \"1\"", "score 1"), "then", "expected `)`"),
        (rule("hs == \"1\"", "score"), "end", "expected the points of the score, found `end`"),
        (
            "rule \"A\" title \"t\" owner \"o\" valid 2026-02-30 .. when hs == \"1\" then score 1 end".into(),
            "2026-02-30",
            "2026-02-30 is not a date",
        ),
        ("rule \"A\" title \"t\" when hs == \"1\" then score 1 end".into(), "rule \"A\"", "rule \"A\" has no `owner`"),
        (format!("{}\n{}", rule("hs == \"1\"", "score 1"), "rule \"A\" title \"t\" owner \"o\" when hs == \"2\" then score 1 end"), "rule \"A\" title \"t\" owner \"o\" when hs == \"2\"", "defined twice"),
        ("rule \"A\" title \"unclosed\n".into(), "\"unclosed", "this string is not closed"),
        ("list x = [\"a\" \"b\"]".into(), "\"b\"", "expected `,` or `]`"),
        ("rule \"A\" title \"t\" owner \"o\" when hs == \"1\" then score 1 end ;".into(), ";", "unexpected character ';'"),
    ];
    for (body, marker, message) in cases {
        let text = format!("{head}{body}");
        let e = error(&text);
        assert_eq!(
            (e.line, e.column),
            position_of(&text, marker),
            "{body}: {e}"
        );
        assert!(e.message.contains(message), "{body}: {e}");
        // The display form leads with the position, as editors expect.
        assert!(
            e.to_string()
                .starts_with(&format!("{}:{}: ", e.line, e.column))
        );
    }
    let e = error(&format!(
        "{head}rule \"A\" title \"t\" owner \"o\" when hs == \"1\" then score 1\n"
    ));
    assert_eq!((e.line, e.column), (3, 1), "the end of the file: {e}");
    assert_eq!(
        error("rule \"A\"").message,
        "expected `ruleset`, found `rule`"
    );
}

#[test]
fn the_shipped_hainan_rules_parse() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../risk/hainan.rules"
    ))
    .expect("file");
    let set = parse_rule_set(&text).expect("parses");
    assert_eq!(set.name, "hainan");
    assert!(set.rules.len() >= 8);
}
