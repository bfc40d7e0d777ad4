#!/usr/bin/env python3
"""One duty-free till's reserve and commit, statement for statement as freeport-store writes them
(crates/freeport-store/src/quota_ledger.rs: sale_steps with holding_steps, then settle_steps),
through SQLite itself: the baseline that `freeport bench-api --tills` measures the API against on
SQLite. The same statements as bench/till.pgbench, two transactions per till (the reservation and
the commit), with the store's connection settings (WAL, synchronous NORMAL, foreign keys on). The
shop SHOP-1 must exist. Python's standard sqlite3 module only.

    python3 bench/sqlite_till.py DB COUNT BUYERS DECISION_LEN RESPONSE_LEN 0 0

Prints {"transactions", "per_second", "p50_ms", "p99_ms"} as JSON, a transaction being one till.
"""

MAX = 9223372036854775807


def audited(cur, action, subject, payload_len, topic):
    seq, prev = cur.execute("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetchone()
    cur.execute(
        "INSERT INTO audit_log (seq, at_ms, actor, action, subject, payload, prev_hash, hash) VALUES (?, 1, 'bench', ?, ?, ?, ?, ?)",
        (seq, action, subject, "p" * payload_len, prev, "h" * 64),
    )
    cur.execute("UPDATE audit_head SET hash = ? WHERE id = 1", ("h" * 64,))
    cur.execute("INSERT INTO outbox (topic, payload, created_at_ms) VALUES (?, ?, 1) RETURNING id", (topic, "e" * payload_len)).fetchone()


def till(cur, i, buyers, lens):
    decision_len, response_len = lens[0], lens[1]
    sid, person = f"s-{i}", f"p{i % int(buyers)}"
    cur.execute("BEGIN IMMEDIATE")
    cur.execute(
        "INSERT INTO idempotency (user_id, key, request_sha256, status, response, created_at_ms) VALUES ('bench', ?, ?, 201, ?, 1) ON CONFLICT (user_id, key) DO NOTHING",
        (f"r-{i}", "a" * 64, "r" * response_len),
    )
    cur.execute(
        "INSERT INTO duty_free_sales (id, shop, person_code, departure_on, sold_on, accepted, total_fen, pack_version, decision_json, actor, at_ms, state, quota_year, expires_at_ms, settled_at_ms, scheme, updated_at_ms) VALUES (?, 'SHOP-1', ?, '2026-12-31', '2026-03-02', 1, 100000, 'hainan/2026-02-05', ?, 'bench', 1, 'pending', 2026, 900001, NULL, 'offshore', 1)",
        (sid, person, "d" * decision_len),
    )
    cur.execute(
        "INSERT INTO duty_free_sale_items (sale_id, line, category, description, unit_price_fen, quantity_milli, limit_quantity_milli) VALUES (?, 0, 'watches', 'watch', 100000, 1000, 1000)",
        (sid,),
    )
    cur.execute("INSERT INTO duty_free_quota (scheme, person_code, year, spent_fen, reserved_fen) VALUES ('offshore', ?, 2026, 0, 0) ON CONFLICT (scheme, person_code, year) DO NOTHING", (person,))
    held = cur.execute(
        "UPDATE duty_free_quota SET reserved_fen = reserved_fen + 100000 WHERE person_code = ? AND year = 2026 AND spent_fen + reserved_fen + 100000 <= 10000000 AND scheme = 'offshore'",
        (person,),
    ).rowcount
    if held != 1:
        raise SystemExit("a buyer's quota ran out: use more buyers")
    cur.execute(
        "INSERT INTO duty_free_allowances (person_code, departure_on, category, taken_milli) VALUES (?, '2026-12-31', 'watches', 0) ON CONFLICT (person_code, departure_on, category) DO NOTHING",
        (person,),
    )
    cur.execute(
        f"UPDATE duty_free_allowances SET taken_milli = taken_milli + 1000 WHERE person_code = ? AND departure_on = '2026-12-31' AND category = 'watches' AND taken_milli <= {MAX} - 1000",
        (person,),
    )
    audited(cur, "duty_free.sale", sid, 200, "duty_free.sale")
    cur.execute("COMMIT")
    cur.execute("BEGIN IMMEDIATE")
    cur.execute(
        "INSERT INTO idempotency (user_id, key, request_sha256, status, response, created_at_ms) VALUES ('bench', ?, ?, 200, ?, 1) ON CONFLICT (user_id, key) DO NOTHING",
        (f"c-{i}", "a" * 64, "r" * response_len),
    )
    cur.execute("UPDATE duty_free_sales SET state = 'committed', settled_at_ms = 2, updated_at_ms = 2 WHERE id = ? AND state = 'pending'", (sid,))
    cur.execute(
        "UPDATE duty_free_quota SET reserved_fen = reserved_fen - 100000, spent_fen = spent_fen + 100000 WHERE person_code = ? AND year = 2026 AND reserved_fen >= 100000 AND scheme = 'offshore'",
        (person,),
    )
    audited(cur, "duty_free.settled", sid, 80, "duty_free.settled")
    cur.execute("COMMIT")


if __name__ == "__main__":
    # The runner (arguments, pragmas, timing) is the first-line baseline's, so both time alike.
    from sqlite_declarations import run

    run(till)
