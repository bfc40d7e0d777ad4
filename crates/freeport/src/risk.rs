//! `freeport risk eval`: the learned risk model's evaluation on the Customs Import Declaration
//! data set. The files are read here; training and measuring happen in `freeport-risk`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use freeport_risk::platform_model::PlatformModel;
use freeport_risk::rules::{Evaluation, RuleSet, parse_rule_set};
use freeport_risk::selectivity;

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
    let report = freeport_risk::research::evaluate_protocol(
        &train?,
        &valid?,
        &test?,
        &seeds,
        &freeport_risk::research::PROTOCOL_RATES,
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

/// `freeport risk bench`: declarations per second on one core through the rules, the model and
/// both, on the data set's test declarations; the baseline, measured in the same run, is the
/// shipped rule file alone.
pub(crate) fn bench(data_dir: &Path, rule_count: usize, passes: usize) -> anyhow::Result<()> {
    let data = BenchData::read(data_dir)?;
    let params = freeport_risk::TrainingParams {
        threads: 1,
        ..freeport_risk::TrainingParams::default()
    };
    let engine = freeport_risk::research::RiskEngine::train(&data.train, &params)?;

    let shipped_text = std::fs::read_to_string("risk/hainan.rules").context("risk/hainan.rules")?;
    let shipped = parse_rule_set(&shipped_text)?;
    let generated = generated_rules(&shipped_text, rule_count)?;
    let many = parse_rule_set(&generated)?;
    let (baseline, baseline_hits) = data.time_rules(&shipped, passes);
    let (rules_rate, rule_hits) = data.time_rules(&many, passes);
    let research = data.time_research_model(&engine, &many, passes);
    let live = data.time_live_path(&generated, &many, passes)?;
    let n = data.test.len();
    let report = serde_json::json!({
        "declarations": n,
        "passes": passes,
        "platform_model_declarations_per_second": (n as f64 / live.platform_best).round(),
        "rules_and_platform_model_one_by_one_declarations_per_second": (n as f64 / live.live_best).round(),
        "lanes_one_by_one": live.lanes,
        "ratio_rules_and_platform_model_to_baseline": ((n as f64 / live.live_best) / baseline * 1000.0).round() / 1000.0,
        "platform_model_precision": data.precision_by_rate(&live.platform_scores),
        "rules": many.rules.len(),
        "baseline_rules": shipped.rules.len(),
        "baseline_declarations_per_second": baseline.round(),
        "rules_declarations_per_second": rules_rate.round(),
        "model_declarations_per_second": (n as f64 / research.model_best).round(),
        "rules_and_model_declarations_per_second": (n as f64 / research.combined_best).round(),
        "ratio_rules_and_model_to_baseline": ((n as f64 / research.combined_best) / baseline * 1000.0).round() / 1000.0,
        "rule_hits": rule_hits,
        "baseline_rule_hits": baseline_hits,
        "mean_score": research.scores.iter().sum::<f64>() / n.max(1) as f64,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// What the bench runs on: the training split to train the models and take value references
/// from, and the test split's declarations with their converted facts and whether inspection
/// found fraud (for the precision of the live features).
struct BenchData {
    train: Vec<freeport_risk::research::InspectedDeclaration>,
    test: Vec<freeport_risk::research::Declaration>,
    test_frauds: Vec<bool>,
    prepared: Vec<Prepared>,
    reference: std::collections::BTreeMap<String, rust_decimal::Decimal>,
}

/// The research engine's fastest passes: scoring alone, and scoring beside the rules, with the
/// last pass's scores.
struct ResearchModelTimes {
    model_best: f64,
    combined_best: f64,
    scores: Vec<f64>,
}

/// The live path's fastest passes: the platform model alone, and the server's lane choice
/// declaration by declaration, with the last pass's scores and lanes.
struct LivePathTimes {
    platform_best: f64,
    live_best: f64,
    platform_scores: Vec<f64>,
    lanes: std::collections::BTreeMap<&'static str, u64>,
}

impl BenchData {
    fn read(data_dir: &Path) -> anyhow::Result<BenchData> {
        let read = |name: &str| {
            let path = data_dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        };
        let train = freeport_risk::research::parse_inspected_declarations(&read(SPLITS[0])?)?;
        let test_rows = freeport_risk::research::parse_inspected_declarations(&read(SPLITS[2])?)?;
        let test_frauds = test_rows.iter().map(|d| d.outcome.is_fraud()).collect();
        let test: Vec<freeport_risk::research::Declaration> =
            test_rows.into_iter().map(|d| d.declaration).collect();
        let reference = value_references(&train);
        let prepared = prepare(&test);
        Ok(BenchData {
            train,
            test,
            test_frauds,
            prepared,
            reference,
        })
    }

    fn facts(&self, i: usize) -> freeport_risk::rules::Facts<'_> {
        facts_of(&self.test[i], &self.prepared[i], &self.reference)
    }

    /// Declarations per second through `set` in the fastest pass, and the hits of the last.
    fn time_rules(&self, set: &RuleSet, passes: usize) -> (f64, usize) {
        let n = self.test.len();
        let mut best = f64::INFINITY;
        let mut hits = 0usize;
        let mut out = Evaluation::default();
        for _ in 0..passes {
            let start = Instant::now();
            hits = 0;
            for i in 0..n {
                set.evaluate_into(&self.facts(i), &mut out);
                hits += out.hits.len();
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        (n as f64 / best, hits)
    }

    /// The research engine over the test declarations, alone and summed with `rules`' scores.
    fn time_research_model(
        &self,
        engine: &freeport_risk::research::RiskEngine,
        rules: &RuleSet,
        passes: usize,
    ) -> ResearchModelTimes {
        let mut model_best = f64::INFINITY;
        let mut combined_best = f64::INFINITY;
        let mut scores = Vec::new();
        for _ in 0..passes {
            let start = Instant::now();
            scores = engine.score(&self.test);
            model_best = model_best.min(start.elapsed().as_secs_f64());
            let start = Instant::now();
            let mut out = Evaluation::default();
            let model = engine.score(&self.test);
            let mut combined = 0.0;
            for (i, s) in model.iter().enumerate() {
                rules.evaluate_into(&self.facts(i), &mut out);
                combined += s + f64::try_from(out.score).unwrap_or(0.0);
            }
            combined_best = combined_best.min(start.elapsed().as_secs_f64());
            std::hint::black_box(combined);
        }
        ResearchModelTimes {
            model_best,
            combined_best,
            scores,
        }
    }

    /// The live path: the model the platform trains on its own inspection results, over the facts
    /// live declarations carry, here trained on the training split mapped to those facts; alone,
    /// and inside the server's lane choice.
    fn time_live_path(
        &self,
        generated: &str,
        rules: &RuleSet,
        passes: usize,
    ) -> anyhow::Result<LivePathTimes> {
        let platform = self.train_platform_model()?;
        let test_cases: Vec<_> = self
            .test
            .iter()
            .map(|d| platform_case(d, &self.reference))
            .collect();
        let (setup, live) = server_assessment(generated, rules, &platform)?;
        let line_facts = self.line_facts();
        let mut platform_best = f64::INFINITY;
        let mut live_best = f64::INFINITY;
        let mut platform_scores = Vec::new();
        let mut lanes = std::collections::BTreeMap::<&str, u64>::new();
        for _ in 0..passes {
            let start = Instant::now();
            platform_scores = platform.score(&test_cases);
            platform_best = platform_best.min(start.elapsed().as_secs_f64());
            // As the server does it: each declaration on its own through the one `lane_of`.
            let start = Instant::now();
            lanes.clear();
            for (i, f) in line_facts.iter().enumerate() {
                let lane = selectivity::lane_of(
                    &setup,
                    &live,
                    std::slice::from_ref(f),
                    "general",
                    &i.to_string(),
                );
                *lanes.entry(lane.as_str()).or_default() += 1;
            }
            live_best = live_best.min(start.elapsed().as_secs_f64());
        }
        Ok(LivePathTimes {
            platform_best,
            live_best,
            platform_scores,
            lanes,
        })
    }

    fn train_platform_model(&self) -> anyhow::Result<Arc<PlatformModel>> {
        let cases: Vec<_> = self
            .train
            .iter()
            .map(|t| platform_case(&t.declaration, &self.reference))
            .collect();
        let labels: Vec<bool> = self.train.iter().map(|t| t.outcome.is_fraud()).collect();
        Ok(Arc::new(PlatformModel::train(
            &cases,
            &labels,
            &freeport_risk::platform_model::platform_params(),
        )?))
    }

    /// The test declarations as the server holds a declaration line's facts.
    fn line_facts(&self) -> Vec<selectivity::LineFacts> {
        (0..self.test.len())
            .map(|i| {
                let f = self.facts(i);
                selectivity::LineFacts {
                    hs: f.hs.to_owned(),
                    origin: f.origin.to_owned(),
                    enterprise: f.enterprise.to_owned(),
                    credit_class: f.credit_class.to_owned(),
                    line: f.line.to_owned(),
                    flow: f.flow.to_owned(),
                    declared_on: f.declared_on,
                    value: f.value,
                    quantity: f.quantity,
                    unit: "kg".to_owned(),
                    reference_unit_value: f.reference_unit_value,
                    port: f.port.map(str::to_owned),
                }
            })
            .collect()
    }

    /// How well the live features find fraud on this data: precision at the data set's rates.
    fn precision_by_rate(&self, scores: &[f64]) -> serde_json::Value {
        let n = self.test.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        let precision_at = |share: f64| {
            let k = ((n as f64 * share).round() as usize).max(1);
            let hits = order[..k].iter().filter(|&&i| self.test_frauds[i]).count();
            (hits as f64 / k as f64 * 1000.0).round() / 1000.0
        };
        serde_json::json!({ "1%": precision_at(0.01), "5%": precision_at(0.05), "10%": precision_at(0.10) })
    }
}

/// A data-set declaration as the platform model's case: of general credit, a first-line import,
/// with the value reference of its HS6.
fn platform_case(
    d: &freeport_risk::research::Declaration,
    reference: &std::collections::BTreeMap<String, rust_decimal::Decimal>,
) -> freeport_risk::platform_model::Case {
    freeport_risk::platform_model::Case {
        hs: d.hs6.as_str().to_owned(),
        origin: d.origin_country.clone(),
        enterprise: d.importer.clone(),
        credit_class: "general".to_owned(),
        flow: "first_line_import".to_owned(),
        value: d.item_price_krw,
        quantity: d.net_mass_kg,
        reference_unit_value: reference
            .get(d.hs6.as_str())
            .copied()
            .and_then(|r| f64::try_from(r).ok()),
    }
}

/// The server's own assessment, lane and all: the generated rules and the platform model under
/// the bundled settings and the bundled pack's credit rates.
fn server_assessment(
    generated: &str,
    rules: &RuleSet,
    platform: &Arc<PlatformModel>,
) -> anyhow::Result<(selectivity::RiskSetup, selectivity::LiveRules)> {
    let pack = freeport_policy_fs::load_pack(&freeport_policy_fs::bundled_pack_dir())
        .context("loading the bundled policy pack")?;
    let setup = selectivity::RiskSetup::new(
        generated,
        selectivity::SelectivitySettings::parse(selectivity::BUNDLED_SETTINGS)?,
        &pack,
        0,
    )?;
    let live = selectivity::LiveRules {
        active: rules.clone(),
        active_sha256: None,
        shadow: None,
        model: Some((platform.clone(), "bench".to_owned())),
    };
    Ok((setup, live))
}

/// The shipped rules followed by generated ones up to `count`: prefix tests over many chapters,
/// list membership, value-reference ratios and date windows, the shapes analysts write.
fn generated_rules(shipped: &str, count: usize) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let have = freeport_risk::rules::parse_rule_set(shipped)?.rules.len();
    let mut text = shipped.to_owned();
    let origins = ["CN", "US", "VN", "DE", "JP", "KR", "TH", "IN", "IT", "FR"];
    for i in 0..count.saturating_sub(have) {
        let chapter = 1 + (i * 7) % 97;
        let heading = format!("{chapter:02}{:02}", 1 + i % 20);
        let a = origins[i % origins.len()];
        let b = origins[(i + 3) % origins.len()];
        let ratio = 0.2 + (i % 5) as f64 / 10.0;
        let condition = match i % 4 {
            0 => format!(
                "hs in prefix(\"{chapter:02}\") and unit_value < {ratio} * reference_unit_value"
            ),
            1 => format!(
                "hs in prefix(\"{heading}\", \"{chapter:02}99\") and origin in [\"{a}\", \"{b}\"]"
            ),
            2 => format!(
                "origin == \"{a}\" and departure != origin and value > {}",
                1_000_000 * (1 + i % 9)
            ),
            _ => format!(
                "hs in prefix(\"{heading}\") and tax_rate >= {} and declared_on >= 2021-0{}-01",
                i % 13,
                1 + i % 6
            ),
        };
        writeln!(
            text,
            "\nrule \"GEN-{i:03}\"\n  title \"generated {i}\"\n  owner \"bench\"\n  when {condition}\n  then score {}\nend",
            1 + i % 10
        )?;
    }
    Ok(text)
}

/// The median unit value (KRW per kg) per HS6 of the training declarations: the value reference
/// rules compare against.
fn value_references(
    train: &[freeport_risk::research::InspectedDeclaration],
) -> std::collections::BTreeMap<String, rust_decimal::Decimal> {
    let mut by_hs6: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for d in train {
        let d = &d.declaration;
        if d.net_mass_kg > 0.0 {
            by_hs6
                .entry(d.hs6.as_str().to_owned())
                .or_default()
                .push(d.item_price_krw / d.net_mass_kg);
        }
    }
    by_hs6
        .into_iter()
        .filter_map(|(k, mut v)| {
            v.sort_by(f64::total_cmp);
            Some((
                k,
                rust_decimal::Decimal::try_from(v[v.len() / 2])
                    .ok()?
                    .round_dp(4),
            ))
        })
        .collect()
}

/// `freeport risk rules backtest`: a rule file over every inspected declaration of the data set
/// (value references from the training split), per rule: hits, load, hit rate, yield proxy, and
/// the rules that fire without ever finding fraud.
pub(crate) fn backtest_rules(file: &Path, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    use freeport_risk::backtest::{HistoricalLine, backtest};
    use rust_decimal::Decimal;

    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let set = freeport_risk::rules::parse_rule_set(&text)
        .map_err(|e| anyhow::anyhow!("{}:{e}", file.display()))?;
    let read = |name: &str| {
        let path = data_dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let mut all = Vec::new();
    for split in SPLITS {
        all.extend(freeport_risk::research::parse_inspected_declarations(
            &read(split)?,
        )?);
    }
    let train_rows = freeport_risk::research::parse_inspected_declarations(&read(SPLITS[0])?)?;
    let reference = value_references(&train_rows);
    let declarations: Vec<freeport_risk::research::Declaration> =
        all.iter().map(|d| d.declaration.clone()).collect();
    let prepared = prepare(&declarations);
    let history = all
        .iter()
        .zip(&prepared)
        .map(|(row, (day, value, mass, rate))| {
            let d = &row.declaration;
            HistoricalLine {
                facts: facts_of(d, &(*day, *value, *mass, *rate), &reference),
                fraud: row.outcome.is_fraud(),
                // Duty on the declared value: a proxy, as the data carries no assessed revenue.
                revenue_proxy: (*value * rate.unwrap_or_default() / Decimal::ONE_HUNDRED)
                    .round_dp(0),
            }
        });
    let report = backtest(&set, history);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} version {} over {} inspected declarations ({} frauds): rules fired on {}, catching {} frauds ({:.1} % of all)",
        report.rule_set,
        report.version,
        report.lines,
        report.frauds,
        report.hit_lines,
        report.hit_frauds,
        report.fraud_recall.unwrap_or(0.0) * 100.0
    );
    println!("\n| rule | owner | hits | load | hit rate | yield proxy (KRW duty) | |");
    println!("|---|---|---:|---:|---:|---:|---|");
    for r in &report.rules {
        println!(
            "| {} | {} | {} | {:.2} % | {} | {} | {} |",
            r.rule,
            r.owner,
            r.hits,
            r.load * 100.0,
            r.hit_rate.map_or("—".to_owned(), |h| format!("{:.3}", h)),
            r.yield_proxy,
            if r.no_yield {
                "no yield: review for retirement"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Per declaration, the rule facts that need converting: the date, the value and mass as decimals,
/// and the duty rate.
type Prepared = (
    time::Date,
    rust_decimal::Decimal,
    rust_decimal::Decimal,
    Option<rust_decimal::Decimal>,
);

fn prepare(declarations: &[freeport_risk::research::Declaration]) -> Vec<Prepared> {
    use rust_decimal::Decimal;
    declarations
        .iter()
        .map(|d| {
            (
                time::Date::from_calendar_date(
                    i32::from(d.date.year),
                    time::Month::try_from(d.date.month).unwrap_or(time::Month::January),
                    d.date.day,
                )
                .unwrap_or(time::Date::MIN),
                Decimal::try_from(d.item_price_krw).unwrap_or_default(),
                Decimal::try_from(d.net_mass_kg).unwrap_or_default(),
                Decimal::try_from(d.tax_rate).ok(),
            )
        })
        .collect()
}

/// `freeport risk train`: trains the engine (features and trees) on the training split with one
/// seed, writes its bytes to `out`, and prints the model's version (the SHA-256 of those bytes:
/// the same data and seed give the same model, so the same version) with its validation precision.
pub(crate) fn train(data_dir: &Path, seed: u64, out: &Path) -> anyhow::Result<()> {
    let read = |name: &str| {
        let path = data_dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let train = freeport_risk::research::parse_inspected_declarations(&read(SPLITS[0])?)?;
    let valid = freeport_risk::research::parse_inspected_declarations(&read(SPLITS[1])?)?;
    let params = freeport_risk::TrainingParams {
        seed,
        ..freeport_risk::TrainingParams::default()
    };
    let engine: freeport_risk::research::RiskEngine =
        freeport_risk::research::RiskEngine::train(&train, &params)?;
    let bytes = engine.to_bytes()?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    let declarations: Vec<freeport_risk::research::Declaration> =
        valid.iter().map(|d| d.declaration.clone()).collect();
    let outcomes: Vec<freeport_risk::research::InspectionOutcome> =
        valid.iter().map(|d| d.outcome).collect();
    let scores = engine.score(&declarations);
    let mut validation = serde_json::Map::new();
    for rate in freeport_risk::research::PROTOCOL_RATES {
        let at = freeport_risk::research::inspect_top(&scores, &outcomes, rate)?;
        validation.insert(
            format!("{}%", rate * 100.0),
            serde_json::json!(at.precision),
        );
    }
    let version = freeport_store::sha256_hex(&bytes);
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "version": version,
            "file": out.display().to_string(),
            "bytes": bytes.len(),
            "seed": seed,
            "trained_on": train.len(),
            "validation_precision": validation,
        }))?
    );
    Ok(())
}

/// A data-set declaration as rule facts: a first-line import by its importer, of general credit
/// (the data set has no credit classes), with the value reference of its HS6.
fn facts_of<'a>(
    d: &'a freeport_risk::research::Declaration,
    prepared: &Prepared,
    reference: &std::collections::BTreeMap<String, rust_decimal::Decimal>,
) -> freeport_risk::rules::Facts<'a> {
    let (declared_on, value, quantity, tax_rate) = *prepared;
    freeport_risk::rules::Facts {
        hs: d.hs6.as_str(),
        origin: &d.origin_country,
        departure: Some(&d.departure_country),
        enterprise: &d.importer,
        declarant: Some(&d.declarant),
        seller: d.seller.as_deref(),
        credit_class: "general",
        line: "first",
        flow: "first_line_import",
        port: Some(&d.office),
        declared_on,
        value,
        quantity,
        reference_unit_value: reference.get(d.hs6.as_str()).copied(),
        tax_rate,
    }
}
