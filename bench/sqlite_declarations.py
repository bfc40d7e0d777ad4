#!/usr/bin/env python3
"""One submitted declaration's writes, statement for statement as freeport-store commits them
(crates/freeport-store/src/records.rs, commit_declaration), through SQLite itself: the baseline that
`freeport bench-api` measures the API against on SQLite. The same statements as
bench/declaration.pgbench, one transaction per declaration, with the store's connection settings
(WAL, synchronous NORMAL, foreign keys on). Lines 1 to 5 (by declaration number) of the same goods in
the same order as the API's benchmark declarations. Python's standard sqlite3 module only.

    python3 bench/sqlite_declarations.py DB COUNT ENTERPRISE REQUEST_LEN DECISION_LEN RISK_LEN RESPONSE_LEN

Prints {"transactions", "per_second", "p50_ms", "p99_ms"} as JSON.
"""

import json
import sqlite3
import sys
import time

GOODS = [("02023000", "kg"), ("84713000", "piece"), ("85171300", "piece"), ("09011100", "kg"), ("15111000", "kg")]
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
        "INSERT INTO declarations (id, enterprise, reference, flow, status, declared_on, pack_version, outcome, payable_total_fen, request_json, decision_json, lane, risk_json, revision, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'first_line_import', 'decided', '2026-03-16', 'hainan/2025-12-18', 'accepted', 0, ?, ?, 'green', ?, 1, 1, 1)",
        (did, enterprise, f"BENCH-{i}", "q" * request_len, "d" * decision_len, "k" * risk_len),
    )
    cur.execute(
        "INSERT INTO declaration_events (declaration_id, seq, status, actor, note, at_ms) VALUES (?, 1, 'decided', 'bench', 'submitted', 1)",
        (did,),
    )
    for line in range(1 + i % 5):
        hs, unit = GOODS[line]
        cur.execute(
            "INSERT INTO postings (enterprise, hs_code, unit, quantity_milli, value_fen, movement, declaration_id, line, note, at_ms) VALUES (?, ?, ?, 1000, 100000, 'first_line_import', ?, ?, '', 1)",
            (enterprise, hs, unit, did, line),
        )
        if hs[:2] in ("84", "85"):
            cur.execute(
                "INSERT INTO supervised_items (id, enterprise, declaration_id, line, hs_code, origin, consumption_tax_item, kind, years, released_on, supervised_until, unit, quantity_milli, customs_value_fen, state, revision, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'CN', NULL, 'equipment', 3, '2026-03-16', '2029-03-16', ?, 1000, 100000, 'supervised', 1, 1, 1)",
                (f"s-{i}-{line}", enterprise, did, line, hs, unit),
            )
        cur.execute(
            f"INSERT INTO balances (enterprise, hs_code, unit, quantity_milli) VALUES (?, ?, ?, 1000) ON CONFLICT (enterprise, hs_code, unit) DO UPDATE SET quantity_milli = balances.quantity_milli + excluded.quantity_milli WHERE balances.quantity_milli <= {MAX} - excluded.quantity_milli",
            (enterprise, hs, unit),
        )
        cur.execute(
            f"INSERT INTO flow_stats (flow, hs_code, unit, day, declarations, quantity_milli, value_fen) VALUES ('first_line_import', ?, ?, '2026-03-16', 1, 1000, 100000) ON CONFLICT (flow, hs_code, unit, day) DO UPDATE SET declarations = flow_stats.declarations + 1, quantity_milli = flow_stats.quantity_milli + excluded.quantity_milli, value_fen = flow_stats.value_fen + excluded.value_fen WHERE flow_stats.quantity_milli <= {MAX} - excluded.quantity_milli AND flow_stats.value_fen <= {MAX} - excluded.value_fen AND flow_stats.declarations < {MAX}",
            (hs, unit),
        )
    seq, prev = cur.execute("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetchone()
    cur.execute(
        "INSERT INTO audit_log (seq, at_ms, actor, action, subject, payload, prev_hash, hash) VALUES (?, 1, 'bench', 'declaration.submit', ?, ?, ?, ?)",
        (seq, did, "p" * 150, prev, "h" * 64),
    )
    cur.execute("UPDATE audit_head SET hash = ? WHERE id = 1", ("h" * 64,))
    (event_id,) = cur.execute(
        "INSERT INTO outbox (topic, payload, created_at_ms) VALUES ('declaration.decided', ?, 1) RETURNING id", ("e" * 120,)
    ).fetchone()
    cur.execute(
        "INSERT INTO webhook_deliveries (enterprise, event_id, topic, payload, next_attempt_at_ms, created_at_ms) SELECT w.enterprise, ?, 'declaration.decided', ?, 1, 1 FROM webhooks w WHERE w.enterprise = (SELECT enterprise FROM declarations WHERE id = ?)",
        (event_id, "e" * 120, did),
    )
    cur.execute("COMMIT")


def run(declaration):
    """Runs `declaration` COUNT times from the command line's arguments and prints the figures."""
    db, count, enterprise = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    lens = tuple(int(x) for x in sys.argv[4:8])
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode = WAL", "busy_timeout = 10000", "foreign_keys = ON", "synchronous = NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    cur = conn.cursor()
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        declaration(cur, i, enterprise, lens)
        latencies.append((time.perf_counter() - t) * 1000.0)
    seconds = time.perf_counter() - started
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]
    print(json.dumps({"transactions": count, "per_second": count / seconds, "p50_ms": pick(50), "p99_ms": pick(99)}))


if __name__ == "__main__":
    run(declaration)
