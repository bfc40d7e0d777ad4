//! Nodes as an operator runs them: key files, several `freeport serve` processes on one database,
//! and what the repository ships beside the code.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::*;

const AUDIT_KEY: &str = "nodes-test-audit-key-0001";
const PERSON_KEY: &str = "nodes-test-person-code-key-0001";

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("freeport-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the binary on the data folder `dir` with extra environment variables.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_freeport"));
    cmd.args(args)
        .current_dir(root())
        .env("FREEPORT_DATA_DIR", dir)
        .env_remove("FREEPORT_AUDIT_KEY")
        .env_remove("FREEPORT_PERSON_CODE_KEY")
        .env_remove("FREEPORT_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("the key file")
        .permissions()
        .mode()
        & 0o777
}

/// Defect 5: keys are explicit. `audit verify` never creates one; generated key files are private;
/// the person-code key is its own file; a node with another key than the database's refuses to
/// start, naming the key, and a wrong audit key is not reported as tampering.
#[test]
fn keys_are_private_never_created_by_verify_and_checked_at_start() {
    let dir = fresh_dir("keys");
    let verify = run_in(&dir, &["audit", "verify"], &[]);
    assert_eq!(verify.status.code(), Some(1), "{}", stderr(&verify));
    assert!(!dir.join("audit.key").exists(), "verify created no key");

    let first = run_in(&dir, &["migrate"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let (audit, person) = (dir.join("audit.key"), dir.join("person-code.key"));
    #[cfg(unix)]
    assert_eq!((mode(&audit), mode(&person)), (0o600, 0o600));
    let audit_key = std::fs::read_to_string(&audit).expect("audit key");
    let person_key = std::fs::read_to_string(&person).expect("person-code key");
    assert_ne!(audit_key, person_key, "two separate keys");
    assert_eq!(
        run_in(&dir, &["audit", "verify"], &[]).status.code(),
        Some(0)
    );

    // A key file gone: verify says so and writes none.
    std::fs::remove_file(&person).expect("remove");
    let out = run_in(&dir, &["audit", "verify"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no person-code key"),
        "{}",
        stderr(&out)
    );
    assert!(!person.exists(), "verify created no key");
    std::fs::write(&person, &person_key).expect("restore");

    // A second node with its own person-code key, or its own audit key, is refused.
    for (var, name) in [
        ("FREEPORT_PERSON_CODE_KEY", "person_code"),
        ("FREEPORT_AUDIT_KEY", "audit"),
    ] {
        let out = run_in(&dir, &["migrate"], &[(var, "another-nodes-own-key-0001")]);
        assert_eq!(out.status.code(), Some(1), "{var}");
        assert!(
            stderr(&out).contains(&format!("configured {name} key is not the one")),
            "{var}: {}",
            stderr(&out)
        );
        let verify = run_in(
            &dir,
            &["audit", "verify"],
            &[(var, "another-nodes-own-key-0001")],
        );
        assert_eq!(verify.status.code(), Some(1));
        assert!(
            verify.stdout.is_empty() && stderr(&verify).contains("key is not the one"),
            "a wrong key is not reported as tampering: {}",
            stderr(&verify)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `GET /health` answered 200 on `port`.
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Starts two `serve` processes at once on `database` (None: SQLite in `dir`) and waits for both to
/// answer; returns what each printed when one did not.
fn start_two(dir: &Path, database: Option<&str>) -> Result<(), String> {
    let ports = [free_port(), free_port()];
    let mut children: Vec<std::process::Child> = ports
        .iter()
        .map(|port| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_freeport"));
            cmd.arg("serve")
                .current_dir(root())
                .env("FREEPORT_DATA_DIR", dir)
                .env("FREEPORT_LISTEN", format!("127.0.0.1:{port}"))
                .env("FREEPORT_METRICS_LISTEN", "127.0.0.1:0")
                .env("FREEPORT_ADMIN_PASSWORD", "nodes-admin-password")
                .env("FREEPORT_RETRAIN_EVERY_HOURS", "0")
                .env("FREEPORT_AUDIT_KEY", AUDIT_KEY)
                .env("FREEPORT_PERSON_CODE_KEY", PERSON_KEY)
                .env_remove("FREEPORT_DATABASE_URL")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            if let Some(url) = database {
                cmd.env("FREEPORT_DATABASE_URL", url);
            }
            cmd.spawn().expect("serve starts")
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut result = Ok(());
    loop {
        if ports.iter().all(|p| healthy(*p)) {
            break;
        }
        let exited: Vec<usize> = children
            .iter_mut()
            .enumerate()
            .filter_map(|(i, c)| c.try_wait().ok().flatten().map(|_| i))
            .collect();
        if !exited.is_empty() || Instant::now() > deadline {
            result = Err(format!("nodes {exited:?} exited or did not answer in time"));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for c in &mut children {
        let _ = c.kill();
    }
    if let Err(why) = result {
        let printed: Vec<String> = children
            .into_iter()
            .map(|c| {
                let out = c.wait_with_output().expect("waits");
                stderr(&out)
            })
            .collect();
        return Err(format!("{why}: {printed:?}"));
    }
    for c in children {
        let _ = c.wait_with_output();
    }
    Ok(())
}

/// Defect 6: two nodes started at the same moment on a new database both come up (migrations and
/// the first administrator are idempotent under concurrency), on SQLite and on PostgreSQL.
#[test]
fn two_nodes_started_at_once_on_a_new_database_both_serve() {
    for attempt in 0..5 {
        let dir = fresh_dir(&format!("two-nodes-{attempt}"));
        std::fs::create_dir_all(&dir).expect("dir");
        start_two(&dir, None).unwrap_or_else(|e| panic!("SQLite, attempt {attempt}: {e}"));
        let _ = std::fs::remove_dir_all(&dir);
    }
    let Ok(admin_url) = std::env::var("FREEPORT_TEST_POSTGRES_URL") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for attempt in 0..5 {
        let name = format!("freeport_nodes_{}_{attempt}", std::process::id());
        let url = rt
            .block_on(freeport_store::fresh::fresh_database(
                Some(&admin_url),
                &name,
            ))
            .expect("a fresh database");
        let dir = fresh_dir(&format!("two-nodes-pg-{attempt}"));
        std::fs::create_dir_all(&dir).expect("dir");
        start_two(&dir, Some(&url))
            .unwrap_or_else(|e| panic!("PostgreSQL, attempt {attempt}: {e}"));
        let _ = std::fs::remove_dir_all(&dir);
        rt.block_on(freeport_store::fresh::drop_fresh_database(
            Some(&admin_url),
            &name,
        ));
    }
}

/// Defect 11: the licence the workspace declares ships with it, and every bundled data set states
/// its own.
#[test]
fn the_repository_ships_its_licence_and_every_data_sets() {
    let licence = std::fs::read_to_string(root().join("LICENSE")).expect("LICENSE");
    assert!(licence.contains("Apache License") && licence.contains("Version 2.0"));
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("license = \"Apache-2.0\""));
    let index = std::fs::read_to_string(root().join("data/README.md")).expect("data/README.md");
    for entry in std::fs::read_dir(root().join("data")).expect("data") {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let readme = std::fs::read_to_string(path.join("README.md"))
            .unwrap_or_else(|_| panic!("data/{name} has a README"));
        assert!(
            readme.contains("## Licence") || path.join("LICENSE").exists(),
            "data/{name} states its licence"
        );
        assert!(
            index.contains(&format!("`{name}/`")),
            "data/README.md lists {name}"
        );
    }
}

/// The audit key rotates from the command line: the old key moves to `audit-previous.keys`, the
/// chain records the change and still verifies, entries under either key included; without the
/// retired key `audit verify` says which key is missing rather than passing.
#[test]
fn the_audit_key_rotates_and_the_old_entries_still_verify() {
    let dir = fresh_dir("rotate");
    assert_eq!(run_in(&dir, &["migrate"], &[]).status.code(), Some(0));
    let key_file = dir.join("audit.key");
    let old_key = std::fs::read_to_string(&key_file).expect("audit key");
    let url = format!("sqlite://{}", dir.join("freeport.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let add_user = |key: &str, name: &str| {
        let store = rt
            .block_on(freeport_store::Store::connect(
                &url,
                1,
                key.trim().as_bytes(),
            ))
            .expect("connect");
        let user = freeport_store::User {
            id: name.to_owned(),
            username: name.to_owned(),
            role: "risk_analyst".to_owned(),
            enterprise: None,
        };
        rt.block_on(store.create_user(&user, "hash", "test", 1, None))
            .expect("user");
        rt.block_on(store.close());
    };
    add_user(&old_key, "before");
    let out = run_in(&dir, &["audit", "rotate-key"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let new_key = std::fs::read_to_string(&key_file).expect("new key");
    assert_ne!(new_key.trim(), old_key.trim());
    let previous = dir.join("audit-previous.keys");
    assert_eq!(
        std::fs::read_to_string(&previous)
            .expect("previous keys")
            .trim(),
        old_key.trim()
    );
    #[cfg(unix)]
    assert_eq!((mode(&key_file), mode(&previous)), (0o600, 0o600));
    add_user(&new_key, "after");
    let verify = run_in(&dir, &["audit", "verify"], &[]);
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));
    assert_eq!(json(&verify)["entries"], 3, "two users and the rotation");
    // A node starts with the new key.
    assert_eq!(run_in(&dir, &["migrate"], &[]).status.code(), Some(0));

    std::fs::rename(&previous, dir.join("kept-elsewhere")).expect("move");
    let verify = run_in(&dir, &["audit", "verify"], &[]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(
        json(&verify)["problem"]
            .as_str()
            .is_some_and(|p| p.contains("audit_previous_keys")),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
