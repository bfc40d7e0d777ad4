#!/usr/bin/env python3
"""One green-lane second-line exit's writes, statement for statement as freeport-store commits them
(crates/freeport-store/src/declarations.rs, declaration_steps with the port step), through SQLite
itself: the baseline that `freeport bench-api --second-line` measures the API against on SQLite. A
zero-tariff good leaves the account book at Xinhai and is released at once: the declaration, its
decided and released events, the posting out of the book (checked against the balance), the flow
statistics, two audit entries and two events. The same statements as bench/second_line.pgbench, one
transaction per exit, with the store's connection settings (WAL, synchronous NORMAL, foreign keys
on). The book must hold 1 kg of beef (02023000) per exit. Python's standard sqlite3 module only.

    python3 bench/sqlite_second_line.py DB COUNT ENTERPRISE REQUEST_LEN DECISION_LEN RISK_LEN RESPONSE_LEN

Prints {"transactions", "per_second", "p50_ms", "p99_ms"} as JSON.
"""


MAX = 9223372036854775807


def declaration(cur, i, enterprise, lens):
    request_len, decision_len, risk_len, response_len = lens
    did = f"d-{i}"
    cur.execute("BEGIN IMMEDIATE")
    cur.execute(
        "INSERT INTO idempotency (user_id, key, request_sha256, status, response, created_at_ms) VALUES (?, ?, ?, 201, ?, 1) ON CONFLICT (user_id, key) DO NOTHING",
        ("bench", f"k-{i}", "a" * 64, "r" * response_len),
    )
    cur.execute(
        "INSERT INTO declarations (id, enterprise, reference, flow, status, declared_on, pack_version, outcome, payable_total_fen, request_json, decision_json, lane, risk_json, revision, created_at_ms, updated_at_ms, port, port_mode, batch_month) VALUES (?, ?, ?, 'second_line_exit', 'released', '2026-03-16', 'hainan/2026-02-05', 'accepted', 7476, ?, ?, 'green', ?, 1, 1, 1, 'xinhai', NULL, NULL)",
        (did, enterprise, f"EXIT-{i}", "q" * request_len, "d" * decision_len, "k" * risk_len),
    )
    cur.execute(
        "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) VALUES (?, 1, 'decided', 'bench', 'submitted', 1)",
        (did,),
    )
    cur.execute(
        "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) VALUES (?, 2, 'released', 'system:release', ?, 1)",
        (did, "n" * 70),
    )
    cur.execute(
        "INSERT INTO postings (enterprise, hs_code, unit, quantity_milli, value_fen, movement, declaration_id, line, note, at_ms) VALUES (?, '02023000', 'kg', -1000, 35600, 'second_line_exit', ?, 0, '', 1)",
        (enterprise, did),
    )
    changed = cur.execute(
        "UPDATE balances SET quantity_milli = quantity_milli - 1000 WHERE enterprise = ? AND hs_code = '02023000' AND unit = 'kg' AND quantity_milli >= 1000",
        (enterprise,),
    ).rowcount
    if changed != 1:
        raise SystemExit("the book ran out: seed it with more")
    cur.execute(
        f"INSERT INTO flow_stats (flow, hs_code, unit, day, declarations, quantity_milli, value_fen) VALUES ('second_line_exit', '02023000', 'kg', '2026-03-16', 1, 1000, 35600) ON CONFLICT (flow, hs_code, unit, day) DO UPDATE SET declarations = flow_stats.declarations + 1, quantity_milli = flow_stats.quantity_milli + excluded.quantity_milli, value_fen = flow_stats.value_fen + excluded.value_fen WHERE flow_stats.quantity_milli <= {MAX} - excluded.quantity_milli AND flow_stats.value_fen <= {MAX} - excluded.value_fen AND flow_stats.declarations < {MAX}",
    )
    for action, topic in (("declaration.submit", "declaration.decided"), ("declaration.transition", "declaration.status")):
        seq, prev = cur.execute("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetchone()
        cur.execute(
            "INSERT INTO audit_log (seq, at_ms, actor, action, subject, payload, prev_hash, hash) VALUES (?, 1, 'bench', ?, ?, ?, ?, ?)",
            (seq, action, did, "p" * 150, prev, "h" * 64),
        )
        cur.execute("UPDATE audit_head SET hash = ? WHERE id = 1", ("h" * 64,))
        (event_id,) = cur.execute(
            "INSERT INTO outbox (topic, payload, created_at_ms) VALUES (?, ?, 1) RETURNING id", (topic, "e" * 120)
        ).fetchone()
        cur.execute(
            "INSERT INTO webhook_deliveries (enterprise, event_id, topic, payload, next_attempt_at_ms, created_at_ms) SELECT w.enterprise, ?, ?, ?, 1, 1 FROM webhooks w WHERE w.enterprise = (SELECT enterprise FROM declarations WHERE id = ?)",
            (event_id, topic, "e" * 120, did),
        )
    cur.execute("COMMIT")


if __name__ == "__main__":
    # The runner (arguments, pragmas, timing) is the first-line baseline's, so both time alike.
    from sqlite_declarations import run

    run(declaration)
