//! The `freeport` command line. A thin shell: it reads files and standard input, calls the core,
//! and prints JSON. Exit codes: 0 success, 1 failure of the tool or its data, 2 bad input.

#![forbid(unsafe_code)]

mod bench;
mod bench_api;
mod bench_tills;
mod commands;
mod config;
mod duty_free;
mod risk;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// glibc's allocator serialises the server's threads on its arena locks; measured in
/// BENCHMARKS.md (declarations end to end).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "freeport",
    version,
    about = "Customs supervision for two-line free zones: decisions, policy packs, quotes"
)]
struct Cli {
    /// The policy pack folder (holding zone.toml). Default: ./policy/hainan, else the bundled pack.
    #[arg(long, global = true, env = "FREEPORT_PACK")]
    pack: Option<PathBuf>,
    /// Configuration file (TOML); see `freeport config example`.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (SQLite in ./freeport-data by default, or PostgreSQL by URL).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the HTTP API's OpenAPI 3.1 document (also served at /api/openapi.json).
    Openapi,
    /// The risk engine: rule files and the learned model.
    Risk {
        #[command(subcommand)]
        command: RiskCommand,
    },
    /// Offshore duty-free: the proxy-buying detector on files, and its measurement.
    DutyFree {
        #[command(subcommand)]
        command: DutyFreeCommand,
    },
    /// Audit-log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Decide a declaration read as JSON (a file, or standard input) and print the decision as JSON.
    Quote {
        /// JSON file; `-` or absent reads standard input.
        file: Option<PathBuf>,
    },
    /// Processing value-added rate, whether it qualifies, and the tariff saved (JSON in, JSON out).
    ValueAdded { file: Option<PathBuf> },
    /// Declarations per second end to end (HTTP → decide → commit) beside the raw database.
    BenchApi {
        /// A PostgreSQL URL (…/DATABASE) to create the benchmark databases next to; SQLite if absent.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 5000)]
        declarations: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Green-lane second-line exits released at Xinhai instead of first-line imports.
        #[arg(long, conflicts_with = "tills")]
        second_line: bool,
        /// Duty-free tills instead: each reserves a basket on one node and commits it on another
        /// (two nodes on PostgreSQL); `--declarations` counts the tills.
        #[arg(long)]
        tills: bool,
    },
    /// Policy-pack tools.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Measure decide() throughput on generated declarations.
    Bench {
        #[arg(long, default_value_t = 100_000)]
        declarations: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Timed passes over the set; the fastest is reported.
        #[arg(long, default_value_t = 3)]
        passes: usize,
    },
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Train per seed and print precision, recall and critical recall at 1/2/5/10% inspection on
    /// the Customs Import Declaration data set (train on train, report on test).
    Eval {
        #[arg(long, default_value = "data/customs-import")]
        data: PathBuf,
        #[arg(long, default_value_t = 5)]
        seeds: u32,
        #[arg(long)]
        json: bool,
    },
    /// Train the model on the training split and write it to a file; prints its version (the
    /// SHA-256 of its bytes) and validation precision.
    Train {
        #[arg(long, default_value = "data/customs-import")]
        data: PathBuf,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Train the live model on the store's inspection results of a period (declaration days
    /// FROM to TO, YYYY-MM-DD) and make it the active one; prints its key and holdout figures.
    Retrain {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Declarations per second on one core through 200 rules, the trained model, and both.
    Bench {
        #[arg(long, default_value = "data/customs-import")]
        data: PathBuf,
        #[arg(long, default_value_t = 200)]
        rules: usize,
        #[arg(long, default_value_t = 5)]
        passes: usize,
    },
    /// Parse and type-check a rule file; exit 2 with the line and column of the first error.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Check a rule file and list its rules.
    Check { file: PathBuf },
    /// Back-test a rule file on the inspected history of the data set: per rule, hits, load, hit
    /// rate and yield, and the rules that never find fraud.
    Backtest {
        file: PathBuf,
        #[arg(long, default_value = "data/customs-import")]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DutyFreeCommand {
    /// Find proxy buyers and their rings in a sales file and a departures file (the CSV formats of
    /// docs/reference/proxy-buying.md); print them with their evidence as JSON.
    Detect {
        #[arg(long)]
        sales: PathBuf,
        #[arg(long)]
        departures: PathBuf,
        /// The day to judge from (departures overdue by then count as never made), YYYY-MM-DD;
        /// today when absent.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Write a generated island with injected rings of known shapes: sales.csv, departures.csv and
    /// truth.csv (each buyer's shape) in OUT.
    Generate {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 3000)]
        ordinary: usize,
        /// Rings of each shape (and five times as many never-departing buyers).
        #[arg(long, default_value_t = 20)]
        rings: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate an island, run the detector on it and score it per shape, beside the earlier rule
    /// and a random pick (JSON).
    Evaluate {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 3000)]
        ordinary: usize,
        #[arg(long, default_value_t = 20)]
        rings: usize,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit chain; exit 1 if any entry was edited, inserted or deleted.
    Verify,
    /// Retire the audit key for a new one (every node stopped): the chain records the change, and
    /// the old key is kept to verify the entries written under it.
    RotateKey {
        /// A file holding the new key; absent: a random key, written to the data folder's audit.key.
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration file.
    Example,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Parse and cross-check every version of the pack; list what needs an officer's confirmation.
    Validate {
        #[arg(long)]
        json: bool,
    },
    /// What changed from version A to version B (folder names, e.g. 2025-11-01 2025-12-18).
    Diff { a: String, b: String },
    /// Check a full tariff schedule in the documented CSV format and write it, normalised, to OUT.
    ImportSchedule {
        csv: PathBuf,
        /// Where to write the normalised schedule (e.g. policy/hainan/2026-01-01/tariff-schedule.csv).
        #[arg(long)]
        out: PathBuf,
        /// The version whose consumption-tax items the schedule may name.
        #[arg(long)]
        version: Option<String>,
    },
}

fn main() -> ExitCode {
    // Every HTTP client (webhooks, bench-api) needs the TLS provider chosen first.
    freeport_server::webhooks::install_tls_provider();
    let cli = Cli::parse();
    let pack_dir = cli.pack.clone().unwrap_or_else(commands::default_pack_dir);
    let config = || config::load(cli.config.as_deref());
    let result = match cli.command {
        Command::Serve => config().and_then(|c| serve::serve(&pack_dir, &c)),
        Command::Migrate => config().and_then(|c| serve::migrate(&c)),
        Command::Openapi => commands::openapi(),
        Command::DutyFree { command } => duty_free_command(command),
        Command::Risk {
            command: RiskCommand::Eval { data, seeds, json },
        } => risk::eval(&data, seeds, json).map(|()| ExitCode::SUCCESS),
        Command::Risk {
            command: RiskCommand::Train { data, seed, out },
        } => risk::train(&data, seed, &out).map(|()| ExitCode::SUCCESS),
        Command::Risk {
            command: RiskCommand::Retrain { from, to },
        } => config().and_then(|c| serve::retrain(&pack_dir, &c, &from, &to)),
        Command::Risk {
            command:
                RiskCommand::Bench {
                    data,
                    rules,
                    passes,
                },
        } => risk::bench(&data, rules, passes).map(|()| ExitCode::SUCCESS),
        Command::Risk {
            command:
                RiskCommand::Rules {
                    command: RulesCommand::Check { file },
                },
        } => risk::check_rules(&file),
        Command::Risk {
            command:
                RiskCommand::Rules {
                    command: RulesCommand::Backtest { file, data, json },
                },
        } => risk::backtest_rules(&file, &data, json).map(|()| ExitCode::SUCCESS),
        Command::Audit {
            command: AuditCommand::Verify,
        } => config().and_then(|c| serve::audit_verify(&c)),
        Command::Audit {
            command: AuditCommand::RotateKey { new_key_file },
        } => config().and_then(|c| serve::audit_rotate_key(&c, new_key_file.as_deref())),
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Quote { file } => commands::quote(&pack_dir, file.as_deref()),
        Command::ValueAdded { file } => commands::value_added(&pack_dir, file.as_deref()),
        Command::Policy {
            command: PolicyCommand::Validate { json },
        } => commands::validate(&pack_dir, json),
        Command::Policy {
            command: PolicyCommand::Diff { a, b },
        } => commands::diff(&pack_dir, &a, &b),
        Command::Policy {
            command: PolicyCommand::ImportSchedule { csv, out, version },
        } => commands::import_schedule(&pack_dir, &csv, &out, version.as_deref()),
        Command::BenchApi {
            postgres,
            declarations,
            concurrency,
            second_line,
            tills,
        } => {
            let load = bench_api::Load {
                count: declarations,
                concurrency,
                second_line,
            };
            if tills {
                bench_tills::run(&pack_dir, postgres.as_deref(), load)
            } else {
                bench_api::run(&pack_dir, postgres.as_deref(), load)
            }
        }
        Command::Bench {
            declarations,
            seed,
            passes,
        } => bench::run(&pack_dir, declarations, seed, passes),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("freeport: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn duty_free_command(command: DutyFreeCommand) -> anyhow::Result<ExitCode> {
    match command {
        DutyFreeCommand::Detect {
            sales,
            departures,
            as_of,
        } => duty_free::detect(&sales, &departures, as_of.as_deref()),
        DutyFreeCommand::Generate {
            seed,
            ordinary,
            rings,
            out,
        } => duty_free::generate(seed, ordinary, rings, &out),
        DutyFreeCommand::Evaluate {
            seed,
            ordinary,
            rings,
        } => duty_free::evaluate(seed, ordinary, rings),
    }
}
