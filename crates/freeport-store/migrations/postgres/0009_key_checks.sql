-- A check value per secret key (an HMAC of a fixed label under the key), recorded on first use: a
-- node started with another key is refused instead of splitting person codes or the audit chain.
CREATE TABLE key_checks (
    name TEXT PRIMARY KEY,
    check_value TEXT NOT NULL
);
