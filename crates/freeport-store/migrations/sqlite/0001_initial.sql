-- Freeport schema, first migration. Shipped migrations are never edited: add a new file.
-- Integers are BIGINT (whole fen, milli-units, Unix milliseconds); JSON and decimals are TEXT.

CREATE TABLE enterprises (
    credit_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    beneficiary BIGINT NOT NULL DEFAULT 0 CHECK (beneficiary IN (0, 1)),
    encouraged_industry_filed BIGINT NOT NULL DEFAULT 0 CHECK (encouraged_industry_filed IN (0, 1)),
    encouraged_revenue_share TEXT,
    credit_class TEXT NOT NULL DEFAULT 'general',
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    enterprise TEXT REFERENCES enterprises (credit_code),
    created_at_ms BIGINT NOT NULL
);

-- Only the SHA-256 of a token is stored: a leaked table grants nothing.
CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE declarations (
    id TEXT PRIMARY KEY,
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    reference TEXT NOT NULL,
    flow TEXT NOT NULL,
    status TEXT NOT NULL,
    declared_on TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    outcome TEXT NOT NULL,
    payable_total_fen BIGINT NOT NULL,
    request_json TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX declarations_by_enterprise ON declarations (enterprise, id);

CREATE TABLE declaration_events (
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (declaration_id, seq)
);

CREATE TABLE postings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    hs_code TEXT NOT NULL,
    unit TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    value_fen BIGINT NOT NULL,
    movement TEXT NOT NULL,
    declaration_id TEXT REFERENCES declarations (id),
    line BIGINT,
    note TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX postings_by_enterprise ON postings (enterprise, id);

-- The balance is the sum of the postings; the CHECK is the database's half of the pair of
-- assertions that a book never goes negative (the core refuses such outflows first).
CREATE TABLE balances (
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    hs_code TEXT NOT NULL,
    unit TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL CHECK (quantity_milli >= 0),
    PRIMARY KEY (enterprise, hs_code, unit)
);

CREATE TABLE waiver_locks (
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    kind_prefix TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    declaration_id TEXT NOT NULL REFERENCES declarations (id)
);
CREATE INDEX waiver_locks_by_enterprise ON waiver_locks (enterprise);

-- Append-only; each entry's hash is an HMAC over the previous hash and the entry.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- The chain's head, updated in the same transaction as each entry, so that deleting the newest
-- entries is detected too.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, 'genesis');

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    published_at_ms BIGINT
);
CREATE INDEX outbox_unpublished ON outbox (published_at_ms, id);

-- A stored result per (user, key): same key and body replays it, another body is refused.
CREATE TABLE idempotency (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Benchmark exchange rates recorded by officers (R8.5); enterprises never supply their own.
CREATE TABLE exchange_rates (
    currency TEXT NOT NULL,
    day TEXT NOT NULL,
    cny_per_unit TEXT NOT NULL,
    set_by TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (currency, day)
);
