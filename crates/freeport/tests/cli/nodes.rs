//! Nodes as an operator runs them: key files, several `freeport serve` processes on one database,
//! and what the repository ships beside the code.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::*;

const AUDIT_KEY: &str = "nodes-test-audit-key-0001";
const PERSON_KEY: &str = "nodes-test-person-code-key-0001";

pub(super) fn fresh_dir(name: &str) -> PathBuf {
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

pub(super) fn free_port() -> u16 {
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

/// `freeport serve` processes sharing one database; killed when dropped.
pub(super) struct Nodes {
    pub(super) ports: Vec<u16>,
    children: Vec<std::process::Child>,
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `n` `serve` processes at once on `database` (None: SQLite in `dir`) and waits for all to
/// answer; returns what each printed when one did not.
fn node_log(dir: &Path, port: u16) -> PathBuf {
    dir.join(format!("node-{port}.log"))
}

pub(super) fn start_nodes(dir: &Path, database: Option<&str>, n: usize) -> Result<Nodes, String> {
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let children: Vec<std::process::Child> = ports
        .iter()
        .map(|port| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_freeport"));
            cmd.arg("serve")
                .current_dir(root())
                .env("FREEPORT_DATA_DIR", dir)
                .env("FREEPORT_LISTEN", format!("127.0.0.1:{port}"))
                .env("FREEPORT_METRICS_LISTEN", "127.0.0.1:0")
                .env("FREEPORT_ADMIN_PASSWORD", ADMIN_PASSWORD)
                .env("FREEPORT_RETRAIN_EVERY_HOURS", "0")
                .env("FREEPORT_AUDIT_KEY", AUDIT_KEY)
                .env("FREEPORT_PERSON_CODE_KEY", PERSON_KEY)
                .env_remove("FREEPORT_DATABASE_URL")
                .stdout(Stdio::null())
                // A file, not a pipe: a node logs every request, and a pipe nobody reads would
                // fill and stop it.
                .stderr(std::fs::File::create(node_log(dir, *port)).expect("a log file"));
            if let Some(url) = database {
                cmd.env("FREEPORT_DATABASE_URL", url);
            }
            cmd.spawn().expect("serve starts")
        })
        .collect();
    let mut nodes = Nodes { ports, children };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if nodes.ports.iter().all(|p| healthy(*p)) {
            return Ok(nodes);
        }
        let exited: Vec<usize> = nodes
            .children
            .iter_mut()
            .enumerate()
            .filter_map(|(i, c)| c.try_wait().ok().flatten().map(|_| i))
            .collect();
        if !exited.is_empty() || Instant::now() > deadline {
            let why = format!("nodes {exited:?} exited or did not answer in time");
            for c in &mut nodes.children {
                let _ = c.kill();
            }
            for c in &mut nodes.children {
                let _ = c.wait();
            }
            let printed: Vec<String> = nodes
                .ports
                .iter()
                .map(|p| std::fs::read_to_string(node_log(dir, *p)).unwrap_or_default())
                .collect();
            return Err(format!("{why}: {printed:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start_two(dir: &Path, database: Option<&str>) -> Result<(), String> {
    start_nodes(dir, database, 2).map(drop)
}

pub(super) const ADMIN_PASSWORD: &str = "nodes-admin-password";

/// One HTTP/1.1 request to the node on `port`: the status and the JSON body (null when empty).
pub(super) fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(k) = key {
        request.push_str(&format!("Idempotency-Key: {k}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).expect("writes");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("reads");
    let answer = String::from_utf8_lossy(&answer);
    let (head, rest) = answer.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let text = if chunked {
        unchunk(rest)
    } else {
        rest.to_owned()
    };
    (status, serde_json::from_str(&text).unwrap_or_default())
}

fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

pub(super) fn login(port: u16, username: &str, password: &str) -> String {
    let (s, b) = http(
        port,
        "POST",
        "/api/v1/sessions",
        None,
        None,
        Some(&serde_json::json!({ "username": username, "password": password })),
    );
    assert_eq!(s, 201, "login {username}: {b}");
    b["token"].as_str().expect("token").to_owned()
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

pub(super) const E: &str = "91460000MA5T00001F";

/// A rule set that sends every first-line line to red: its effect on a lane is unmistakable.
const RED_RULES: &str = r#"ruleset "nodes" version 1

rule "NOD-001"
  title "Everything to red, to see the set in force"
  owner "risk.test"
  when line == "first"
  then score 50, lane red
end
"#;

/// Submits a declaration through `port`; the lane and the rule set the risk record names.
fn submit(port: u16, token: &str, n: usize) -> (String, String) {
    let body = serde_json::json!({
        "id": format!("NODE-{n}"), "flow": "first_line_import", "declared_on": "2026-03-16",
        "declarant": E, "currency": "CNY",
        "lines": [{ "hs_code": "84713000", "origin": "CN", "quantities": [{ "value": "2", "unit": "kg" }], "value": "9000", "goods_status": "duty_paid" }]
    });
    let (s, b) = http(
        port,
        "POST",
        "/api/v1/declarations",
        Some(token),
        Some(&format!("node-{n}")),
        Some(&body),
    );
    assert_eq!(s, 201, "{b}");
    (
        b["lane"].as_str().unwrap_or("").to_owned(),
        b["risk"]["rule_set"].as_str().unwrap_or("").to_owned(),
    )
}

/// Issue 10: a rule set activated through node A changes the lane node B assigns within 2 s, with
/// no request to B in between but declarations.
fn activation_reaches_the_other_node(dir: &Path, database: Option<&str>) -> Duration {
    let nodes = start_nodes(dir, database, 2).unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (nodes.ports[0], nodes.ports[1]);
    let admin = login(a, "admin", ADMIN_PASSWORD);
    let (s, r) = http(
        a,
        "PUT",
        &format!("/api/v1/enterprises/{E}"),
        Some(&admin),
        Some("put-e"),
        Some(
            &serde_json::json!({ "name": "Firm E", "beneficiary": false, "encouraged_industry_filed": false }),
        ),
    );
    assert_eq!(s, 200, "{r}");
    for (name, role, enterprise) in [
        ("user-e", "enterprise_user", Some(E)),
        ("analyst", "risk_analyst", None),
    ] {
        let mut body = serde_json::json!({ "username": name, "password": "a-long-enough-password", "role": role });
        if let Some(e) = enterprise {
            body["enterprise"] = serde_json::json!(e);
        }
        let (s, r) = http(
            a,
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(name),
            Some(&body),
        );
        assert_eq!(s, 201, "{r}");
    }
    let user = login(b, "user-e", "a-long-enough-password");
    let analyst = login(a, "analyst", "a-long-enough-password");

    // Before: node B decides under the bundled rules.
    let before: Vec<(String, String)> = (0..3).map(|n| submit(b, &user, n)).collect();
    assert!(before.iter().all(|(_, set)| set == "hainan"), "{before:?}");
    assert!(before.iter().any(|(lane, _)| lane != "red"), "{before:?}");

    let (s, set) = http(
        a,
        "POST",
        "/api/v1/risk/rule-sets",
        Some(&analyst),
        Some("propose"),
        Some(&serde_json::json!({ "source": RED_RULES })),
    );
    assert_eq!(s, 201, "{set}");
    let sha = set["sha256"].as_str().expect("sha").to_owned();
    let (s, r) = http(
        a,
        "POST",
        &format!("/api/v1/risk/rule-sets/{sha}/backtest"),
        Some(&analyst),
        Some("backtest"),
        Some(&serde_json::json!({ "from": "2026-01-01", "to": "2026-12-31", "revision": 1 })),
    );
    assert_eq!(s, 200, "{r}");
    let (s, r) = http(
        a,
        "POST",
        &format!("/api/v1/risk/rule-sets/{sha}/activate"),
        Some(&analyst),
        Some("activate"),
        Some(&serde_json::json!({ "reason": "nodes test", "revision": 2 })),
    );
    assert_eq!(s, 200, "{r}");
    let activated = Instant::now();

    // Node A has it at once; node B within 2 s.
    assert_eq!(submit(a, &user, 100).1, "nodes");
    let mut n = 200;
    loop {
        let (lane, set) = submit(b, &user, n);
        if set == "nodes" {
            assert_eq!(lane, "red");
            return activated.elapsed();
        }
        assert!(
            activated.elapsed() < Duration::from_secs(2),
            "node B still decides under {set} after {:?}",
            activated.elapsed()
        );
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_rule_set_activated_on_one_node_changes_the_lane_on_another_within_two_seconds() {
    let dir = fresh_dir("propagation");
    std::fs::create_dir_all(&dir).expect("dir");
    let took = activation_reaches_the_other_node(&dir, None);
    eprintln!("SQLite: node B changed lanes {took:?} after the activation on node A");
    let _ = std::fs::remove_dir_all(&dir);
    let Ok(admin_url) = std::env::var("FREEPORT_TEST_POSTGRES_URL") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let name = format!("freeport_propagation_{}", std::process::id());
    let url = rt
        .block_on(freeport_store::fresh::fresh_database(
            Some(&admin_url),
            &name,
        ))
        .expect("a fresh database");
    let dir = fresh_dir("propagation-pg");
    std::fs::create_dir_all(&dir).expect("dir");
    let took = activation_reaches_the_other_node(&dir, Some(&url));
    eprintln!("PostgreSQL: node B changed lanes {took:?} after the activation on node A");
    let _ = std::fs::remove_dir_all(&dir);
    rt.block_on(freeport_store::fresh::drop_fresh_database(
        Some(&admin_url),
        &name,
    ));
}
