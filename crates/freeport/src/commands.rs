//! The commands other than `bench`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use freeport_api::parse_quote_request;
use freeport_api::value_added::parse_value_added_request;
use freeport_core::error::FieldError;
use freeport_core::pack::{PolicyPack, diff::diff as pack_diff, report::report, schedule};
use freeport_core::value_added::{PricedMaterial, assess};
use freeport_core::{FieldErrorKind, decide};
use serde_json::json;

/// Bad input exits with 2 (and a structured error on standard output), as documented.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;

pub(crate) fn default_pack_dir() -> PathBuf {
    let local = PathBuf::from("policy/hainan");
    if local.join("zone.toml").is_file() {
        local
    } else {
        freeport_policy_fs::bundled_pack_dir()
    }
}

fn load(pack_dir: &Path) -> Result<PolicyPack> {
    freeport_policy_fs::load_pack(pack_dir)
        .with_context(|| format!("loading the policy pack at {}", pack_dir.display()))
}

/// Input larger than this is refused before parsing (STYLE rule 12).
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

fn read_input(file: Option<&Path>) -> Result<String> {
    let mut text = String::new();
    match file {
        Some(p) if p != Path::new("-") => {
            std::fs::File::open(p)
                .with_context(|| format!("opening {}", p.display()))?
                .take(MAX_INPUT_BYTES + 1)
                .read_to_string(&mut text)
                .with_context(|| format!("reading {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_string(&mut text)
                .context("reading standard input")?;
        }
    }
    if text.len() as u64 > MAX_INPUT_BYTES {
        bail!("input exceeds {MAX_INPUT_BYTES} bytes");
    }
    Ok(text)
}

fn bad_input(e: &FieldError) -> ExitCode {
    let body = json!({ "error": { "code": "invalid_input", "field": e.field, "kind": e.kind, "reason": e.reason } });
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );
    eprintln!("freeport: invalid input: {e}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<ExitCode> {
    println!(
        "{}",
        serde_json::to_string_pretty(value).context("serialising the result")?
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn quote(pack_dir: &Path, file: Option<&Path>) -> Result<ExitCode> {
    let text = read_input(file)?;
    let request = match parse_quote_request(&text) {
        Ok(r) => r,
        Err(e) => return Ok(bad_input(&e)),
    };
    let pack = load(pack_dir)?;
    let (declaration, snapshot) = match request.into_domain(&pack.nomenclature) {
        Ok(x) => x,
        Err(e) => return Ok(bad_input(&e)),
    };
    match decide(&declaration, &pack, &snapshot) {
        Ok(decision) => print_json(&decision),
        Err(e) => Ok(bad_input(&FieldError {
            field: format!("declaration.{}", e.field),
            ..e
        })),
    }
}

pub(crate) fn value_added(pack_dir: &Path, file: Option<&Path>) -> Result<ExitCode> {
    let text = read_input(file)?;
    let request = match parse_value_added_request(&text) {
        Ok(r) => r,
        Err(e) => return Ok(bad_input(&e)),
    };
    let pack = load(pack_dir)?;
    let inputs = match request.into_domain(&pack.nomenclature) {
        Ok(x) => x,
        Err(e) => return Ok(bad_input(&e)),
    };
    let Some(version) = pack.version_on(inputs.declared_on) else {
        return Ok(bad_input(&FieldError::new(
            "declared_on",
            FieldErrorKind::OutOfRange,
            "before the first version of the pack",
        )));
    };
    let materials: Vec<PricedMaterial> = inputs
        .imported
        .iter()
        .map(|m| PricedMaterial {
            hs_code: m.hs_code,
            origin: m.origin,
            customs_value: m.customs_value,
        })
        .collect();
    match assess(
        version,
        inputs.sale_price,
        &materials,
        &inputs.domestic,
        &inputs.upstream,
    ) {
        Ok(a) => print_json(&a),
        Err(i) => Ok(bad_input(&FieldError::new(
            format!("imported[{i}].hs_code"),
            FieldErrorKind::Unknown,
            format!("tariff line not in the schedule of pack {}", version.id),
        ))),
    }
}

pub(crate) fn validate(pack_dir: &Path, as_json: bool) -> Result<ExitCode> {
    let pack = match freeport_policy_fs::load_pack(pack_dir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "freeport: the pack at {} is invalid: {e}",
                pack_dir.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let reports = report(&pack);
    if as_json {
        return print_json(&reports);
    }
    println!(
        "pack {} ({}), nomenclature {} with {} subheadings",
        pack.zone,
        pack.zone_name,
        pack.nomenclature.edition(),
        pack.nomenclature.subheading_count()
    );
    for r in &reports {
        println!(
            "\n{} — in force from {}: {}",
            r.version, r.effective_from, r.title
        );
        println!(
            "  {} rules, {} tariff lines ({} unverified), {} consumption-tax items, zero tariff by {} ({} entries), {} controls, {} restrictive entries, {} duty-free categories, {} holidays",
            r.rules,
            r.tariff_lines,
            r.tariff_lines_unverified,
            r.consumption_tax_items,
            r.zero_tariff_scope,
            r.zero_tariff_scope_entries,
            r.controls,
            r.restrictive_entries,
            r.duty_free_categories,
            r.holidays
        );
        for u in &r.unverified {
            println!("  unverified: {u}");
        }
        for w in &r.warnings {
            println!("  warning: {w}");
        }
    }
    println!("\nvalid: {} versions", reports.len());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn diff(pack_dir: &Path, a: &str, b: &str) -> Result<ExitCode> {
    let pack = load(pack_dir)?;
    let find = |id: &str| {
        pack.version(id).with_context(|| {
            format!(
                "no version {id} in the pack (versions: {})",
                pack.versions
                    .iter()
                    .map(|v| v.directory.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    };
    let changes = pack_diff(find(a)?, find(b)?);
    print_json(&json!({ "from": a, "to": b, "changes": changes }))
}

pub(crate) fn import_schedule(
    pack_dir: &Path,
    csv: &Path,
    out: &Path,
    version: Option<&str>,
) -> Result<ExitCode> {
    let pack = load(pack_dir)?;
    let v = match version {
        Some(id) => pack
            .version(id)
            .with_context(|| format!("no version {id} in the pack"))?,
        None => pack.versions.last().context("the pack has no versions")?,
    };
    let text =
        std::fs::read_to_string(csv).with_context(|| format!("reading {}", csv.display()))?;
    let known = |id: &str| v.consumption_tax.contains_key(id);
    let file = csv.display().to_string();
    let report = match schedule::import_schedule(&file, &text, &pack.nomenclature, &known, 200) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("freeport: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    if !report.errors.is_empty() {
        for e in &report.errors {
            eprintln!("{e}");
        }
        eprintln!(
            "freeport: {} of {} rows are invalid; nothing written",
            report.errors.len(),
            report.rows_read
        );
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    std::fs::write(out, schedule::write_schedule_csv(&report.schedule))
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "imported {} tariff lines into {}",
        report.schedule.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints the OpenAPI document, pretty, with a final newline (the form kept in docs/reference/).
pub(crate) fn openapi() -> anyhow::Result<std::process::ExitCode> {
    let doc = freeport_server::openapi::pretty();
    println!("{doc}");
    Ok(std::process::ExitCode::SUCCESS)
}
