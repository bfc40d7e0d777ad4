//! `freeport risk eval`: the learned risk model's evaluation on the Customs Import Declaration
//! data set. The files are read here; training and measuring happen in `freeport-risk`.

use std::path::Path;

use anyhow::Context as _;

const SPLITS: [&str; 3] = [
    "df_syn_train_eng.csv",
    "df_syn_valid_eng.csv",
    "df_syn_test_eng.csv",
];

/// Trains one model per seed (seeds 0, 1, …) on the training split and prints precision, recall
/// and critical-fraud recall at 1, 2, 5 and 10% inspection rates, as Markdown or JSON.
pub(crate) fn eval(data_dir: &Path, seeds: u32, json: bool) -> anyhow::Result<()> {
    anyhow::ensure!(seeds > 0, "at least one seed is needed");
    let read = |name: &str| {
        let path = data_dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let [train, valid, test] = SPLITS.map(read);
    let seeds: Vec<u64> = (0..u64::from(seeds)).collect();
    let report = freeport_risk::evaluate_protocol(
        &train?,
        &valid?,
        &test?,
        &seeds,
        &freeport_risk::PROTOCOL_RATES,
    )
    .with_context(|| format!("evaluating on {}", data_dir.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_markdown());
    }
    Ok(())
}

/// Parses and type-checks a rule file; prints its rules, or the first error as `FILE:LINE:COL:
/// message` (the form editors jump to) and exits 2.
pub(crate) fn check_rules(file: &Path) -> anyhow::Result<std::process::ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match freeport_risk::rules::parse_rule_set(&text) {
        Ok(set) => {
            println!(
                "{} version {}: {} rules",
                set.name,
                set.version,
                set.rules.len()
            );
            for r in &set.rules {
                let valid = match (r.valid_from, r.valid_until) {
                    (None, None) => "always".to_owned(),
                    (from, until) => format!(
                        "{} .. {}",
                        from.map(|d| d.to_string()).unwrap_or_default(),
                        until.map(|d| d.to_string()).unwrap_or_default()
                    ),
                };
                println!("  {} ({}; {valid}): {}", r.id, r.owner, r.title);
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}:{e}", file.display());
            Ok(std::process::ExitCode::from(2))
        }
    }
}
