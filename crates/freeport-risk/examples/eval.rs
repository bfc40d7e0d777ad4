//! Development tool: runs the evaluation protocol on the shipped data and prints the report.
//!
//! `cargo run --release -p freeport-risk --example eval [seeds] [iterations] [depth]`

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/customs-import");
    let read = |name: &str| std::fs::read_to_string(dir.join(name));
    let (train, valid, test) = (
        read("df_syn_train_eng.csv")?,
        read("df_syn_valid_eng.csv")?,
        read("df_syn_test_eng.csv")?,
    );
    let mut args = std::env::args().skip(1).map(|a| a.parse::<f64>());
    let seeds = args.next().transpose()?.unwrap_or(5.0) as u64;
    let mut params = freeport_risk::TrainingParams::default();
    if let Some(v) = args.next().transpose()? {
        params.iterations = v as usize;
    }
    if let Some(v) = args.next().transpose()? {
        params.max_depth = v as usize;
    }
    if let Some(v) = args.next().transpose()? {
        params.subsample = v as f32;
    }
    if let Some(v) = args.next().transpose()? {
        params.colsample = v;
    }
    let started = Instant::now();
    let parse = freeport_risk::research::parse_inspected_declarations;
    let (train, valid, test) = (parse(&train)?, parse(&valid)?, parse(&test)?);
    let seeds: Vec<u64> = (0..seeds).collect();
    let report = freeport_risk::research::evaluate_declarations(
        &train,
        &valid,
        &test,
        &seeds,
        &freeport_risk::research::PROTOCOL_RATES,
        &params,
    )?;
    println!("{params:?}");
    println!("{}", report.to_markdown());
    println!("elapsed {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
