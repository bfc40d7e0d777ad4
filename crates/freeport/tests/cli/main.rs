//! The command line, run as a user runs it: the built binary, real files, standard input, exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod architecture;
mod nodes;
mod privacy;
mod tills;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn freeport(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_freeport"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("the binary finishes")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

const GOOD: &str = r#"{"declaration":{"id":"T1","flow":"first_line_import","declared_on":"2026-03-02","declarant":"91460000MA5T00002J","currency":"CNY",
  "lines":[{"hs_code":"84713000","origin":"CN","quantities":[{"value":"1","unit":"piece"}],"value":"400","goods_status":"duty_paid"}]}}"#;

/// A bad input exits 2 and names the field; the cases are the issue's own list.
#[test]
fn bad_input_names_the_field_and_exits_2() {
    let cases: &[(&str, String, &str, &str)] = &[
        (
            "malformed JSON",
            r#"{"declaration": {"id": "T1", "#.to_owned(),
            "",
            "malformed",
        ),
        (
            "unknown HS code",
            GOOD.replace("84713000", "99887766"),
            "declaration.lines[0].hs_code",
            "unknown",
        ),
        (
            "bad check character",
            GOOD.replace("91460000MA5T00002J", "91460000MA5T00002K"),
            "declaration.declarant",
            "bad_check_character",
        ),
        (
            "negative quantity",
            GOOD.replace(r#""value":"1","unit""#, r#""value":"-1","unit""#),
            "declaration.lines[0].quantities[0].value",
            "out_of_range",
        ),
        (
            "unknown currency",
            GOOD.replace(r#""currency":"CNY""#, r#""currency":"XYZ""#),
            "declaration.currency",
            "unknown",
        ),
        (
            "missing field",
            GOOD.replace(r#""origin":"CN","#, ""),
            "declaration.lines[0]",
            "missing",
        ),
        (
            "negative value",
            GOOD.replace(r#""value":"400""#, r#""value":"-400""#),
            "declaration.lines[0].value",
            "out_of_range",
        ),
        (
            "tariff line not in the schedule",
            GOOD.replace("84713000", "84715000"),
            "declaration.lines[0].hs_code",
            "unknown",
        ),
    ];
    for (what, input, field, kind) in cases {
        let out = freeport(&["quote"], Some(input));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: exit code; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let body = json(&out);
        assert_eq!(body["error"]["code"], "invalid_input", "{what}");
        assert!(
            body["error"]["field"]
                .as_str()
                .is_some_and(|f| f.starts_with(field)),
            "{what}: field {} should start with {field}",
            body["error"]["field"]
        );
        assert_eq!(
            body["error"]["kind"], *kind,
            "{what}: {}",
            body["error"]["reason"]
        );
    }
}

#[test]
fn quote_reads_stdin_and_files_and_prints_an_explained_decision() {
    let out = freeport(&["quote"], Some(GOOD));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = json(&out);
    assert_eq!(d["totals"]["payable"]["vat"], "52.00");
    // Dates on the wire are days, never the `[year, ordinal]` pairs they once were.
    assert_eq!(d["declared_on"], "2026-03-02");
    assert_eq!(d["pack_version"], "hainan/2026-02-05");

    let out = freeport(&["quote", "examples/quote/yacht-tv05.json"], None);
    assert_eq!(out.status.code(), Some(0));
    let d = json(&out);
    assert_eq!(d["totals"]["payable_total"], "3811111.11");
    let steps = d["lines"][0]["explanation"]
        .as_array()
        .expect("explanation");
    assert!(steps.iter().any(|s| {
        s["rule"] == "R8.2"
            && s["finding"]
                .as_str()
                .is_some_and(|f| f.contains("1222222.22"))
    }));
}

#[test]
fn every_bundled_example_decides() {
    for entry in std::fs::read_dir(root().join("examples/quote")).expect("examples") {
        let path = entry.expect("entry").path();
        let out = freeport(&["quote", path.to_str().expect("utf-8 path")], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(json(&out)["outcome"], "accepted", "{}", path.display());
    }
}

#[test]
fn value_added_command_reproduces_tv01_and_tv04() {
    let out = freeport(
        &["value-added", "examples/value-added/beef-jerky-tv01.json"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = json(&out);
    assert_eq!(a["rate_percent_display"], "40.449");
    assert_eq!(a["qualifies"], true);
    assert_eq!(a["tariff_saved"], "42720.00");

    let out = freeport(
        &["value-added", "examples/value-added/chain-tv04.json"],
        None,
    );
    let a = json(&out);
    assert_eq!(a["accumulated"], true);
    assert_eq!(a["rate_percent_display"], "33.333");
    assert_eq!(a["rule"], "R2.9");
}

#[test]
fn policy_validate_and_diff() {
    let out = freeport(&["policy", "validate"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("valid: 5 versions"), "{text}");
    assert!(
        text.contains("unverified: rule R8.4"),
        "rules of confidence L/U are listed: {text}"
    );

    let out = freeport(&["policy", "diff", "2025-11-01", "2025-12-18"], None);
    assert_eq!(out.status.code(), Some(0));
    let changes = json(&out)["changes"].as_array().expect("changes").clone();
    let scope = changes
        .iter()
        .find(|c| c["what"] == "zero_tariff.scope")
        .expect("the scope changed");
    assert_eq!(
        (scope["before"].as_str(), scope["after"].as_str()),
        (Some("positive_lists"), Some("negative_list"))
    );
    assert!(changes.iter().any(|c| {
        c["change"] == "added"
            && c["what"]
                .as_str()
                .is_some_and(|w| w.starts_with("taxable_catalogue 2402"))
    }));

    let out = freeport(&["policy", "diff", "2025-11-01", "1999-01-01"], None);
    assert_eq!(out.status.code(), Some(1), "an unknown version is an error");
}

#[test]
fn a_broken_pack_fails_validation_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("freeport-pack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("policy/hainan"), &dir);
    let zone = std::fs::read_to_string(dir.join("zone.toml")).expect("zone");
    let nomenclature = root().join("data/hs-2022/harmonized-system.csv");
    std::fs::write(
        dir.join("zone.toml"),
        zone.replace(
            "../../data/hs-2022/harmonized-system.csv",
            nomenclature.to_str().expect("utf-8"),
        ),
    )
    .expect("write");
    let schedule = dir.join("2020-07-01/tariff-schedule.csv");
    let text = std::fs::read_to_string(&schedule).expect("schedule");
    std::fs::write(&schedule, text.replacen(",12,,70,", ",-12,,70,", 1)).expect("write");
    let out = freeport(
        &["--pack", dir.to_str().expect("utf-8"), "policy", "validate"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2020-07-01/tariff-schedule.csv:2"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_schedule_normalises_a_good_file_and_lists_every_bad_row() {
    let dir = std::env::temp_dir().join(format!("freeport-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("good.csv");
    let header = "tariff_line,description,first_unit,second_unit,mfn_rate,provisional_rate,general_rate,specific_duty_cny,specific_duty_unit,export_duty_rate,vat_rate,consumption_tax_items,source,confidence\n";
    std::fs::write(&good, format!("{header}84713000,Laptops,piece,kg,0,,70,,,,13,,Test schedule,H\n02023000,Frozen boneless beef,kg,,12,,70,,,,9,,Test schedule,H\n")).expect("write");
    let out_file = dir.join("out.csv");
    let out = freeport(
        &[
            "policy",
            "import-schedule",
            good.to_str().expect("utf-8"),
            "--out",
            out_file.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&out_file).expect("written");
    assert!(
        written
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("02023000")),
        "sorted: {written}"
    );

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, format!("{header}84713000,Laptops,piece,,zero,,,,,,13,,S,H\n99999999,Nothing,kg,,1,,,,,,13,,S,H\n02023000,Beef,kg,,12,,,,,,9,99.9,S,H\n")).expect("write");
    let out = freeport(
        &[
            "policy",
            "import-schedule",
            bad.to_str().expect("utf-8"),
            "--out",
            dir.join("no.csv").to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for line in [":2:", ":3:", ":4:"] {
        assert!(err.contains(line), "row {line} reported: {err}");
    }
    assert!(!dir.join("no.csv").exists(), "nothing written on error");
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Runs the binary with its embedded store in `dir`.
fn with_store(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freeport"))
        .args(args)
        .current_dir(root())
        .env("FREEPORT_DATA_DIR", dir)
        .env("FREEPORT_AUDIT_KEY", "cli-test-audit-key-0001")
        .output()
        .expect("runs")
}

/// `freeport audit verify` on a real database: intact, then edited, then with a row deleted, then
/// with a forged row inserted.
#[test]
fn audit_verify_fails_on_a_tampered_database() {
    let dir = std::env::temp_dir().join(format!("freeport-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |args: &[&str]| with_store(&dir, args);
    assert_eq!(run(&["migrate"]).status.code(), Some(0));
    let url = format!("sqlite://{}", dir.join("freeport.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = rt
        .block_on(freeport_store::Store::connect(
            &url,
            1,
            b"cli-test-audit-key-0001",
        ))
        .expect("connect");
    for (i, name) in ["ana", "bo", "chen"].iter().enumerate() {
        let user = freeport_store::User {
            id: format!("u{i}"),
            username: (*name).to_owned(),
            role: "risk_analyst".to_owned(),
            enterprise: None,
        };
        rt.block_on(store.create_user(&user, "not-a-real-hash", "test", 1, None))
            .expect("user");
    }
    let verify = || {
        let out = run(&["audit", "verify"]);
        (out.status.code(), json(&out))
    };
    let (code, report) = verify();
    assert_eq!(
        (code, report["intact"].as_bool(), report["entries"].as_i64()),
        (Some(0), Some(true), Some(3)),
        "{report}"
    );

    for (tamper, undo) in [
        ("UPDATE audit_log SET payload = '{}' WHERE seq = 2", None),
        ("DELETE FROM audit_log WHERE seq = 3", None),
        (
            "INSERT INTO audit_log (seq, at_ms, actor, action, subject, payload, prev_hash, hash) VALUES (9, 1, 'x', 'y', 'z', '{}', 'p', 'h')",
            Some("DELETE FROM audit_log WHERE seq = 9"),
        ),
    ] {
        rt.block_on(store.raw_execute(tamper)).expect("tamper");
        let (code, report) = verify();
        assert_eq!(
            (code, report["intact"].as_bool()),
            (Some(1), Some(false)),
            "after {tamper}: {report}"
        );
        if let Some(undo) = undo {
            rt.block_on(store.raw_execute(undo)).expect("undo");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `freeport risk eval` on the shipped data, as CI runs it: precision at the protocol's inspection
/// rates stays above floors set about 0.02 below the first measured means over the same five seeds
/// (1.000 at 1 %, 0.992 at 5 %, 0.984 at 10 %; the issue's targets were 0.93, 0.82 and 0.73).
#[test]
fn risk_eval_on_the_shipped_data_stays_above_its_floors() {
    let out = freeport(&["risk", "eval", "--seeds", "5", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["seeds"].as_array().map(Vec::len), Some(5));
    for (rate, floor) in [(0.01, 0.98), (0.05, 0.97), (0.10, 0.96)] {
        let at = report["test"]["rates"]
            .as_array()
            .expect("rates")
            .iter()
            .find(|r| r["rate"].as_f64() == Some(rate))
            .expect("rate reported");
        let precision = at["precision"]["mean"].as_f64().expect("precision");
        assert!(
            precision >= floor,
            "precision at {rate}: {precision} < {floor}"
        );
    }
    // The declarations never seen in training are reported apart, so the headline cannot hide them.
    assert!(report["test_unseen_values"]["rates"].is_array());
}

#[test]
fn risk_rules_check_names_the_line_and_column_of_an_error() {
    let ok = freeport(&["risk", "rules", "check", "risk/hainan.rules"], None);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("VAL-001"));
    let dir = std::env::temp_dir().join(format!("freeport-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.rules");
    std::fs::write(
        &bad,
        "ruleset \"x\" version 1\nrule \"A\" title \"t\" owner \"o\"\n  when origni == \"AR\" then score 1 end\n",
    )
    .expect("write");
    let out = freeport(
        &["risk", "rules", "check", bad.to_str().expect("utf-8")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.rules:3:8: unknown field `origni`"),
        "{err}"
    );
}

#[test]
fn a_rule_file_is_back_tested_on_the_whole_inspected_history() {
    let out = freeport(
        &["risk", "rules", "backtest", "risk/hainan.rules", "--json"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // The data set's README: 37 385 + 8 134 + 8 481 declarations, 8 114 + 1 704 + 1 835 frauds.
    assert_eq!(r["lines"], 54_000);
    assert_eq!(r["frauds"], 11_653);
    let rules = r["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 8);
    for rule in rules {
        let (hits, frauds) = (
            rule["hits"].as_u64().expect("hits"),
            rule["frauds"].as_u64().expect("frauds"),
        );
        assert!(frauds <= hits);
        assert_eq!(rule["no_yield"], serde_json::json!(hits > 0 && frauds == 0));
    }
    assert!(r["hit_frauds"].as_u64() <= r["frauds"].as_u64());
}

/// A trained model is versioned by its content: the same data and seed give the same bytes, and so
/// the same version; another seed gives another.
#[test]
fn risk_train_writes_a_model_versioned_by_its_bytes() {
    let dir = std::env::temp_dir().join(format!("freeport-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let train = |seed: &str, file: &str| {
        let path = dir.join(file);
        let out = freeport(
            &[
                "risk",
                "train",
                "--seed",
                seed,
                "--out",
                path.to_str().expect("utf-8"),
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        (summary, std::fs::read(&path).expect("model file"))
    };
    let (a, bytes_a) = train("0", "a.model");
    let (b, bytes_b) = train("0", "b.model");
    assert_eq!(bytes_a, bytes_b);
    assert_eq!(a["version"], b["version"]);
    assert_eq!(a["bytes"].as_u64(), Some(bytes_a.len() as u64));
    assert!(a["validation_precision"]["10%"].as_f64() > Some(0.9), "{a}");
    let (c, _) = train("1", "c.model");
    assert_ne!(c["version"], a["version"]);
}

/// `freeport risk retrain` on a store with no inspection results: refused with exit 2, saying what
/// training needs, and no model is kept.
#[test]
fn risk_retrain_refuses_a_period_without_enough_inspection_results() {
    let dir = std::env::temp_dir().join(format!("freeport-retrain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |args: &[&str]| with_store(&dir, args);
    assert_eq!(run(&["migrate"]).status.code(), Some(0));
    let out = run(&[
        "risk",
        "retrain",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("training needs 40 lines"), "{err}");
    let out = run(&[
        "risk",
        "retrain",
        "--from",
        "2026-13-01",
        "--to",
        "2026-12-31",
    ]);
    assert_ne!(out.status.code(), Some(0), "a bad day is refused");
    let url = format!("sqlite://{}", dir.join("freeport.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = rt
        .block_on(freeport_store::Store::connect(
            &url,
            1,
            b"cli-test-audit-key-0001",
        ))
        .expect("connect");
    assert!(rt.block_on(store.risk_models()).expect("models").is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `freeport duty-free generate` writes an island, `detect` finds its rings on the files alone with
/// their evidence, `evaluate` scores it per shape; a malformed file is refused naming its line.
#[test]
fn duty_free_detect_finds_the_rings_of_a_generated_island_from_its_files() {
    let dir = std::env::temp_dir().join(format!("freeport-detect-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_string_lossy().into_owned();
    let made = freeport(
        &[
            "duty-free",
            "generate",
            "--seed",
            "5",
            "--ordinary",
            "300",
            "--rings",
            "3",
            "--out",
            &out,
        ],
        None,
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let truth = std::fs::read_to_string(dir.join("truth.csv")).expect("truth");
    let sales = dir.join("sales.csv").to_string_lossy().into_owned();
    let departures = dir.join("departures.csv").to_string_lossy().into_owned();
    let found = freeport(
        &[
            "duty-free",
            "detect",
            "--sales",
            &sales,
            "--departures",
            &departures,
            "--as-of",
            "2026-03-31",
        ],
        None,
    );
    assert!(
        found.status.success(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );
    let v = json(&found);
    let flagged: std::collections::BTreeSet<&str> = v["flagged"]
        .as_array()
        .expect("flagged")
        .iter()
        .filter_map(|f| f["person"].as_str())
        .collect();
    // Nearly every member of an injected shape is flagged (the generator lets one in twenty
    // evade), and few ordinary buyers are.
    let (mut injected, mut caught, mut ordinary, mut wrong) = (0, 0, 0, 0);
    for line in truth.lines().skip(1) {
        let (person, shape) = line.split_once(',').expect("person,shape");
        let hit = usize::from(flagged.contains(person));
        if shape == "ordinary" {
            (ordinary, wrong) = (ordinary + 1, wrong + hit);
        } else {
            (injected, caught) = (injected + 1, caught + hit);
        }
    }
    assert!(caught * 10 >= injected * 9, "{caught} of {injected}");
    assert!(wrong * 10 <= ordinary, "{wrong} of {ordinary}");
    assert!(
        v["rings"].as_array().is_some_and(|r| r.len() >= 9),
        "{}",
        v["rings"]
    );
    let scored = freeport(
        &[
            "duty-free",
            "evaluate",
            "--seed",
            "5",
            "--ordinary",
            "300",
            "--rings",
            "3",
        ],
        None,
    );
    assert!(scored.status.success());
    assert_eq!(
        json(&scored)["score"]["shapes"].as_array().map(Vec::len),
        Some(4)
    );
    std::fs::write(
        dir.join("bad.csv"),
        "person,departed_on,means\nP1,31/03/2026,HU1\n",
    )
    .expect("write");
    let bad = dir.join("bad.csv").to_string_lossy().into_owned();
    let refused = freeport(
        &[
            "duty-free",
            "detect",
            "--sales",
            &sales,
            "--departures",
            &bad,
        ],
        None,
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("departures.csv line 2"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
