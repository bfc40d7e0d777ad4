//! `freeport duty-free`: the proxy-buying detector on files, so it can be run and measured on data
//! it has never seen, and the generated islands it is measured on.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use freeport_risk::proxy::generate::{Scale, island};
use freeport_risk::proxy::{RingSettings, detect as find, evaluate as score, files};
use freeport_risk::selectivity::{BUNDLED_SETTINGS, SelectivitySettings};

fn settings() -> Result<RingSettings> {
    Ok(SelectivitySettings::parse(BUNDLED_SETTINGS)?
        .proxy_buying
        .rings)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

pub(crate) fn detect(sales: &Path, departures: &Path, as_of: Option<&str>) -> Result<ExitCode> {
    let sales = files::read_sales(&read(sales)?)?;
    let departures = files::read_departures(&read(departures)?)?;
    let as_of = match as_of {
        Some(day) => freeport_core::calendar::parse_day("--as-of", day)?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let findings = find(&sales, &departures, as_of, &settings()?);
    println!("{}", serde_json::to_string_pretty(&findings)?);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn generate(seed: u64, ordinary: usize, rings: usize, out: &Path) -> Result<ExitCode> {
    let isl = island(
        seed,
        Scale {
            ordinary,
            rings_per_shape: rings,
        },
    );
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("sales.csv"), files::write_sales(&isl.sales))?;
    std::fs::write(
        out.join("departures.csv"),
        files::write_departures(&isl.departures),
    )?;
    let mut truth = String::from("person,shape\n");
    for (person, shape) in &isl.truth {
        truth.push_str(&format!("{person},{}\n", shape.as_str()));
    }
    std::fs::write(out.join("truth.csv"), truth)?;
    eprintln!(
        "{} sales of {} buyers, {} departures; judge as of {}",
        isl.sales.len(),
        isl.truth.len(),
        isl.departures.len(),
        isl.as_of
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn evaluate(seed: u64, ordinary: usize, rings: usize) -> Result<ExitCode> {
    let s = settings()?;
    let isl = island(
        seed,
        Scale {
            ordinary,
            rings_per_shape: rings,
        },
    );
    let findings = find(&isl.sales, &isl.departures, isl.as_of, &s);
    let report = serde_json::json!({ "seed": seed, "score": score::score(&isl, &findings, &s) });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
