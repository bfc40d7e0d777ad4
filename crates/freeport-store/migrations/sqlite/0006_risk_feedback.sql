-- Risk management's memory: credit records, inspection results, rule sets with who activated them
-- and why, alerts through their lifecycle, and daily flow statistics for early warning and value
-- references.

-- Credit records (R6.1), dated by the day they count from. A tax due and its payment share a
-- reference.
CREATE TABLE credit_records (
    id TEXT PRIMARY KEY,
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    on_day TEXT NOT NULL,
    reference TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_fen BIGINT,
    due_on TEXT,
    note TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX credit_records_by_enterprise ON credit_records (enterprise, on_day);
-- The violation share counts an enterprise's declarations of the prior year.
CREATE INDEX declarations_by_enterprise_day ON declarations (enterprise, declared_on);

-- One row per inspected declaration: what the inspection found and the revenue it recovered. The
-- declaration's risk record says which rules selected it.
CREATE TABLE inspection_results (
    declaration_id TEXT PRIMARY KEY REFERENCES declarations (id),
    enterprise TEXT NOT NULL,
    inspected_on TEXT NOT NULL,
    result TEXT NOT NULL,
    revenue_found_fen BIGINT NOT NULL,
    findings TEXT NOT NULL,
    officer TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX inspection_results_by_day ON inspection_results (inspected_on);

-- Rule sets keyed by the SHA-256 of their text: proposed, back-tested, run in shadow, activated,
-- retired. At most one is active and at most one in shadow.
CREATE TABLE rule_sets (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    backtest_json TEXT,
    revision BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- Every change of a rule set's state, with the analyst and the reason.
CREATE TABLE rule_set_changes (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES rule_sets (sha256),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    analyst TEXT NOT NULL,
    reason TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX rule_set_changes_by_set ON rule_set_changes (sha256, at_ms);

-- Early warnings. `dedupe_key` makes raising the same warning twice (a spike seen again the same
-- day, a replayed submission) a no-op.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    enterprise TEXT,
    declaration_id TEXT,
    person_code TEXT,
    raised_on TEXT NOT NULL,
    details_json TEXT NOT NULL,
    state TEXT NOT NULL,
    analysis_json TEXT,
    disposal_json TEXT,
    evaluation_json TEXT,
    revision BIGINT NOT NULL,
    raised_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX alerts_by_state ON alerts (state, raised_at_ms);

-- Duty-free bans (R4.6), by person code, imposed on disposing of an alert.
CREATE TABLE duty_free_bans (
    person_code TEXT NOT NULL,
    banned_on TEXT NOT NULL,
    banned_until TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (person_code, alert_id)
);

-- Accepted declarations' lines summed per flow, goods code, unit and day: the history that flow
-- thresholds and value references are computed from.
CREATE TABLE flow_stats (
    flow TEXT NOT NULL,
    hs_code TEXT NOT NULL,
    unit TEXT NOT NULL,
    day TEXT NOT NULL,
    declarations BIGINT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    value_fen BIGINT NOT NULL,
    PRIMARY KEY (flow, hs_code, unit, day)
);
CREATE INDEX flow_stats_by_code ON flow_stats (hs_code, unit, day);
