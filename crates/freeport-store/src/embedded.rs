//! The SQLite file the store owns, driven directly on the calling thread.
//!
//! sqlx's SQLite driver runs each connection on a thread of its own and hands every statement to
//! it through a channel, so each statement costs two thread switches; a declaration makes about
//! thirty, and on a two-core machine the switches took more time than SQLite itself
//! (`BENCHMARKS.md`). The declaration's straight line (the snapshot read and the one commit) runs
//! here instead, on the caller's thread: an embedded database answers in microseconds, and the
//! write runs only while the store's writer gate is held, so no task waits on SQLite's lock.
//! Everything else still goes through sqlx on the same file; WAL lets both read beside the writer.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::Result;

/// Read connections kept for reuse; more readers than this at once open their own.
const KEPT_READERS: usize = 4;

pub(crate) struct Embedded {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl Embedded {
    /// Opens the file behind a `sqlite://` URL, or `None` for a database that is not a file (an
    /// in-memory one lives inside sqlx's own connection and stays there).
    pub(crate) fn open(url: &str) -> Result<Option<Embedded>> {
        let Some(path) = file_of(url) else {
            return Ok(None);
        };
        let writer = connection(&path)?;
        Ok(Some(Embedded {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        }))
    }

    /// Runs `f` in one immediate transaction and commits it; an error rolls everything back.
    /// Call only while holding the store's writer gate.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a read connection of its own (WAL: it reads the last commit, beside the
    /// writer).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let kept = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match kept {
            Some(c) => c,
            None => connection(&self.path)?,
        };
        let out = f(&conn);
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < KEPT_READERS {
            readers.push(conn);
        }
        out
    }
}

/// The same pragmas as the sqlx pool's connections (`Store::connect`).
fn connection(path: &PathBuf) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The file path of a `sqlite://PATH[?options]` or `sqlite:PATH` URL; `None` for memory.
fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || options.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::file_of;

    #[test]
    fn a_url_names_its_file_and_memory_has_none() {
        assert_eq!(
            file_of("sqlite:///tmp/a b/freeport.db?mode=rwc").as_deref(),
            Some(std::path::Path::new("/tmp/a b/freeport.db"))
        );
        assert_eq!(
            file_of("sqlite://data/freeport.db").as_deref(),
            Some(std::path::Path::new("data/freeport.db"))
        );
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("sqlite://x.db?mode=memory&cache=shared"), None);
        assert_eq!(file_of("postgres://h/db"), None);
    }
}
