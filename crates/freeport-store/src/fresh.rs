//! New, empty databases for tests, benchmarks and drills: a SQLite file in a new temporary folder,
//! or a new database beside the one a PostgreSQL URL names. The one place that creates them.

use crate::{Result, Store, StoreError};

/// Creates an empty database called `name` (letters, digits and `_`) and answers its URL:
/// PostgreSQL beside `postgres_admin` when given, else SQLite in a new temporary folder.
/// An existing one of the same name is dropped first.
pub async fn fresh_database(postgres_admin: Option<&str>, name: &str) -> Result<String> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::UnsupportedUrl(format!(
            "{name}: a database name is letters, digits and _"
        )));
    }
    match postgres_admin {
        None => {
            let dir = std::env::temp_dir().join(name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)
                .map_err(|e| StoreError::UnsupportedUrl(format!("{}: {e}", dir.display())))?;
            Ok(format!("sqlite://{}", dir.join("freeport.db").display()))
        }
        Some(admin) => {
            let a = Store::connect(admin, 1, b"fresh").await?;
            a.raw_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            a.raw_execute(&format!("CREATE DATABASE {name}")).await?;
            a.close().await;
            let base = admin.rfind('/').map(|i| &admin[..i]).ok_or_else(|| {
                StoreError::UnsupportedUrl(format!("{admin}: end it in /DATABASE"))
            })?;
            Ok(format!("{base}/{name}"))
        }
    }
}

/// Removes what `fresh_database` created, if it can.
pub async fn drop_fresh_database(postgres_admin: Option<&str>, name: &str) {
    match postgres_admin {
        None => {
            let _ = std::fs::remove_dir_all(std::env::temp_dir().join(name));
        }
        Some(admin) => {
            if let Ok(a) = Store::connect(admin, 1, b"fresh").await {
                let _ = a
                    .raw_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                a.close().await;
            }
        }
    }
}
