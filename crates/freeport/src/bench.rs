//! `freeport bench`: decide() throughput on a generated, seeded workload.
//!
//! The baseline, measured in the same run on the same declarations, is the edge work every decision
//! needs anyway: decoding the JSON request and parsing it into domain types. The ratio says how the
//! decision compares with merely reading its input.

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use freeport_api::parse_quote_request;
use freeport_core::identity::check_character;
use freeport_core::pack::{PackVersion, TariffLine};
use freeport_core::{decide, unit::Unit};
use serde_json::{Value, json};

/// SplitMix64: a tiny seeded generator, so the workload is the same for a seed on every machine.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn credit_code(n: u64) -> String {
    let first17 = format!("91460000MA5T{:05}", n % 100_000);
    format!("{first17}{}", check_character(&first17).unwrap_or('0'))
}

fn quantities(line: &TariffLine, v: &PackVersion, rng: &mut SplitMix) -> Value {
    let mut units: Vec<Unit> = vec![line.first_unit];
    if let Some(s) = &line.specific_duty {
        units.push(s.per.unit);
    }
    for item in &line.consumption_tax_items {
        if let Some(sp) = v
            .consumption_tax
            .get(item)
            .and_then(|c| c.specific.as_ref())
        {
            units.push(sp.per.unit);
        }
    }
    units.dedup();
    Value::Array(
        units
            .into_iter()
            .map(|u| json!({ "value": format!("{}", 1 + rng.below(5000)), "unit": u.to_string() }))
            .collect(),
    )
}

/// One generated quote request as JSON text.
fn declaration(i: usize, v: &PackVersion, lines: &[&TariffLine], rng: &mut SplitMix) -> String {
    let flows = [
        "first_line_import",
        "first_line_import",
        "first_line_import",
        "second_line_exit",
        "island_transfer",
        "first_line_export",
    ];
    let flow = flows[rng.below(flows.len() as u64) as usize];
    let declarant = credit_code(rng.below(1000));
    let n = 1 + rng.below(20) as usize;
    let status = if flow == "first_line_import" {
        "duty_paid"
    } else {
        "zero_tariff"
    };
    let goods: Vec<Value> = (0..n)
        .map(|_| {
            let tl = lines[rng.below(lines.len() as u64) as usize];
            let origin = ["AR", "AU", "DE", "FR", "JP", "US", "VN"][rng.below(7) as usize];
            let mut line = json!({
                "hs_code": tl.line,
                "origin": origin,
                "quantities": quantities(tl, v, rng),
                "value": format!("{}.{:02}", 100 + rng.below(2_000_000), rng.below(100)),
                "goods_status": status,
                "licence": "L-2026-0001",
            });
            if let Some(first) = tl.consumption_tax_items.first() {
                line["consumption_tax_item"] = json!(first);
            }
            line
        })
        .collect();
    let currency = if rng.below(2) == 0 { "CNY" } else { "USD" };
    let request = json!({
        "declaration": {
            "id": format!("BENCH-{i}"),
            "flow": flow,
            "declared_on": "2026-03-16",
            "declarant": declarant,
            "counterparty": { "kind": "enterprise", "credit_code": credit_code(rng.below(1000)) },
            "currency": currency,
            "lines": goods,
        },
        "snapshot": {
            "enterprises": [ { "credit_code": declarant, "beneficiary": rng.below(4) != 0, "encouraged_industry_filed": true } ],
            "exchange_rates": [ { "currency": "USD", "date": "2026-02-25", "cny_per_unit": "7.1000" } ],
        },
    });
    request.to_string()
}

pub(crate) fn run(pack_dir: &Path, count: usize, seed: u64, passes: usize) -> Result<ExitCode> {
    let pack = freeport_policy_fs::load_pack(pack_dir)
        .with_context(|| format!("loading {}", pack_dir.display()))?;
    let day = time::macros::date!(2026 - 03 - 16);
    let v = pack
        .version_on(day)
        .context("no version in force on the bench date")?;
    let lines: Vec<&TariffLine> = v.schedule.sorted();
    let mut rng = SplitMix(seed);
    let requests: Vec<String> = (0..count)
        .map(|i| declaration(i, v, &lines, &mut rng))
        .collect();

    let started = Instant::now();
    let mut parsed = Vec::with_capacity(count);
    for text in &requests {
        let request = parse_quote_request(text)
            .map_err(|e| anyhow::anyhow!("generated request invalid: {e}"))?;
        parsed.push(
            request
                .into_domain(&pack.nomenclature)
                .map_err(|e| anyhow::anyhow!("generated request invalid: {e}"))?,
        );
    }
    let parse_s = started.elapsed().as_secs_f64();

    let total_lines: usize = parsed.iter().map(|(d, _)| d.lines.len()).sum();
    // Decide every declaration several times and keep the fastest pass, to damp noise from the
    // other core and the allocator's first touches.
    let mut best = f64::MAX;
    let mut checksum: i64 = 0;
    for _ in 0..passes.max(1) {
        let started = Instant::now();
        let mut sum = 0i64;
        for (declaration, snapshot) in &parsed {
            let decision = decide(declaration, &pack, snapshot)
                .map_err(|e| anyhow::anyhow!("decide failed: {e}"))?;
            sum = sum.wrapping_add(black_box(decision.totals.payable_total.fen()));
        }
        best = best.min(started.elapsed().as_secs_f64());
        checksum = sum;
    }
    let decide_rate = count as f64 / best;
    let parse_rate = count as f64 / parse_s;
    let report = json!({
        "declarations": count,
        "lines": total_lines,
        "seed": seed,
        "pack_version": v.id,
        "decide_seconds": best,
        "decide_declarations_per_second": decide_rate.round(),
        "decide_lines_per_second": (total_lines as f64 / best).round(),
        "baseline_json_parse_seconds": parse_s,
        "baseline_json_parse_declarations_per_second": parse_rate.round(),
        "ratio_decide_to_parse": (decide_rate / parse_rate * 100.0).round() / 100.0,
        "payable_total_fen_checksum": checksum,
        "passes": passes.max(1),
        "threads": 1,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
