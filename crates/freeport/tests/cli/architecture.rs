//! ARCHITECTURE.md is the newcomer's map: every crate, module and file it names must exist, and
//! every crate must be on it. A rename that forgets the map fails here.

use super::*;

fn architecture() -> String {
    std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md")
}

/// The texts between backticks on a line.
fn quoted(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// A module of a crate: `name.rs`, `name/mod.rs`, or a folder `name/`.
fn module_exists(src: &Path, name: &str) -> bool {
    if let Some(dir) = name.strip_suffix('/') {
        return src.join(dir).is_dir();
    }
    if name.ends_with(".rs") {
        return src.join(name).is_file();
    }
    src.join(format!("{name}.rs")).is_file() || src.join(name).join("mod.rs").is_file()
}

#[test]
fn every_crate_module_and_file_the_architecture_names_exists() {
    let text = architecture();
    let crates_dir = root().join("crates");
    let mut on_disk: Vec<String> = std::fs::read_dir(&crates_dir)
        .expect("crates/")
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| format!("crates/{}", e.file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    let mut files = Vec::new();
    files_under(&crates_dir, &mut files);
    let files: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().replace('\\', "/"))
        .collect();

    let mut missing = Vec::new();
    let mut in_codemap = Vec::new();
    let mut inside: Option<String> = None;
    let mut modules_checked = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Inside `") {
            inside = rest.split('`').next().map(str::to_owned);
            continue;
        }
        if line.starts_with('#') {
            inside = None;
        }
        // Every path a line names, anywhere.
        for q in quoted(line) {
            if q.starts_with("crates/") && !root().join(q).exists() {
                missing.push(format!("path {q}"));
            }
            let is_file = q.ends_with(".rs") && !q.contains(' ');
            if is_file && !files.iter().any(|f| f.ends_with(&format!("/{q}"))) {
                missing.push(format!("file {q}"));
            }
        }
        let Some(first_cell) = line.strip_prefix("| ").and_then(|l| l.split(" |").next()) else {
            continue;
        };
        if first_cell.starts_with("`crates/") {
            in_codemap.extend(quoted(first_cell).iter().map(|q| (*q).to_owned()));
            continue;
        }
        if let Some(krate) = &inside {
            let src = root().join(krate).join("src");
            for name in quoted(first_cell) {
                modules_checked += 1;
                if !module_exists(&src, name) {
                    missing.push(format!("module {name} of {krate}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what is not there: {missing:?}"
    );
    in_codemap.sort();
    assert_eq!(
        in_codemap, on_disk,
        "the codemap lists every crate, and only those"
    );
    assert!(
        modules_checked >= 30,
        "the module tables were read ({modules_checked} names)"
    );
}
