//! Reading policy packs from disk.
//!
//! The core parses packs from text in memory and never touches the file system; this crate is the
//! thin shell that gathers that text: `zone.toml`, the nomenclature it names, and every version
//! folder (named by its effective date) with its files.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use freeport_core::pack::{PackError, PackSources, PolicyPack, parse_pack};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Pack(#[from] PackError),
    #[error("{path}: {reason}")]
    Layout { path: PathBuf, reason: String },
}

/// Files above this size are refused: a pack is reference data, and an unbounded read is a
/// denial-of-service door.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
const MAX_VERSIONS: usize = 500;

fn read(path: &Path) -> Result<String, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let len = fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(LoadError::Layout {
            path: path.to_owned(),
            reason: format!("{len} bytes is over the {MAX_FILE_BYTES}-byte limit"),
        });
    }
    fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })
}

fn is_version_folder(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Reads the text of the pack at `dir` (a folder holding `zone.toml`).
pub fn read_sources(dir: &Path) -> Result<PackSources, LoadError> {
    let zone_path = dir.join("zone.toml");
    let zone_toml = read(&zone_path)?;
    let zone: toml::Table = toml::from_str(&zone_toml).map_err(|e| LoadError::Layout {
        path: zone_path.clone(),
        reason: e.to_string(),
    })?;
    let nomenclature = zone
        .get("nomenclature")
        .and_then(toml::Value::as_str)
        .ok_or_else(|| LoadError::Layout {
            path: zone_path.clone(),
            reason: "zone.toml names no nomenclature file".to_owned(),
        })?;
    let nomenclature_csv = read(&dir.join(nomenclature))?;
    let mut versions = BTreeMap::new();
    let entries = fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_dir() || !is_version_folder(&name) {
            continue;
        }
        if versions.len() >= MAX_VERSIONS {
            return Err(LoadError::Layout {
                path: dir.to_owned(),
                reason: format!("more than {MAX_VERSIONS} versions"),
            });
        }
        let mut files = BTreeMap::new();
        for file in fs::read_dir(entry.path()).map_err(|source| LoadError::Io {
            path: entry.path(),
            source,
        })? {
            let file = file.map_err(|source| LoadError::Io {
                path: entry.path(),
                source,
            })?;
            let file_name = file.file_name().to_string_lossy().into_owned();
            if file.path().is_file()
                && (file_name.ends_with(".csv") || file_name.ends_with(".toml"))
            {
                files.insert(file_name, read(&file.path())?);
            }
        }
        versions.insert(name, files);
    }
    Ok(PackSources {
        zone_toml,
        nomenclature_csv,
        versions,
    })
}

/// Reads and parses the pack at `dir`.
pub fn load_pack(dir: &Path) -> Result<PolicyPack, LoadError> {
    Ok(parse_pack(&read_sources(dir)?)?)
}

/// The repository's own pack folder, for tests and the default configuration: `policy/hainan`
/// under the workspace root.
pub fn bundled_pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/hainan")
}
