//! The core is pure: no I/O, no async, no clock, no randomness, no environment (DESIGN.md,
//! STYLE rule 1). This test reads the crate's own sources and manifest and fails on any breach.

use std::fs;
use std::path::{Path, PathBuf};

const FORBIDDEN: &[(&str, &str)] = &[
    ("std::fs", "file-system I/O"),
    ("std::io", "I/O"),
    ("std::net", "network I/O"),
    ("std::env", "the environment"),
    ("std::process", "processes"),
    ("std::thread", "threads"),
    ("std::time", "the clock"),
    ("SystemTime", "the clock"),
    ("Instant::now", "the clock"),
    ("now_utc", "the clock"),
    ("now_local", "the clock"),
    ("OffsetDateTime::now", "the clock"),
    ("async fn", "async"),
    (".await", "async"),
    ("tokio", "an async runtime"),
    ("rand::", "randomness"),
    ("thread_rng", "randomness"),
    ("getrandom", "randomness"),
    ("println!", "printing (I/O)"),
    ("eprintln!", "printing (I/O)"),
    (
        "include_str!",
        "compiling data in (packs are data, loaded by the shell)",
    ),
];

/// The crates the core may depend on (DESIGN.md: std, serde, rust_decimal, time, thiserror; STYLE
/// adds csv and toml for the pure pack parser).
const ALLOWED_DEPENDENCIES: &[&str] =
    &["rust_decimal", "serde", "csv", "toml", "time", "thiserror"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_core_does_no_io_async_clock_or_randomness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    assert!(files.len() > 10, "found the core's sources");
    let mut breaches = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("source readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (pattern, what) in FORBIDDEN {
                if code.contains(pattern) {
                    breaches.push(format!("{}:{}: {pattern} ({what})", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "the core must stay pure:\n{}",
        breaches.join("\n")
    );
}

#[test]
fn the_core_depends_only_on_the_allowed_crates() {
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .expect("manifest");
    let table: toml::Table = toml::from_str(&manifest).expect("manifest parses");
    let deps = table
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .expect("[dependencies]");
    for name in deps.keys() {
        assert!(
            ALLOWED_DEPENDENCIES.contains(&name.as_str()),
            "freeport-core may not depend on {name}"
        );
    }
}

#[test]
fn the_purity_scan_would_catch_a_clock_read() {
    // A check that cannot fail is a defect: make sure the patterns match what they are for.
    let offending = "let now = time::OffsetDateTime::now_utc();";
    assert!(FORBIDDEN.iter().any(|(p, _)| offending.contains(p)));
    let offending = "let f = std::fs::read_to_string(path);";
    assert!(FORBIDDEN.iter().any(|(p, _)| offending.contains(p)));
}
