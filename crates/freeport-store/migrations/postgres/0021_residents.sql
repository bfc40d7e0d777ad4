-- Residents' rules: the ledger keeps one quota a person, scheme and calendar year (offshore
-- duty-free R4.2, residents' zero-tariff consumer imports R4.11); customs designates the stores
-- that sell zero-tariff goods; the serious-dishonesty list (R4.7) is kept by person code.
CREATE TABLE duty_free_quota_by_scheme (
    scheme TEXT NOT NULL CHECK (scheme IN ('offshore', 'resident_zero_tariff')),
    person_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    spent_fen BIGINT NOT NULL CHECK (spent_fen >= 0),
    reserved_fen BIGINT NOT NULL DEFAULT 0 CHECK (reserved_fen >= 0),
    PRIMARY KEY (scheme, person_code, year)
);
INSERT INTO duty_free_quota_by_scheme (scheme, person_code, year, spent_fen, reserved_fen)
    SELECT 'offshore', person_code, year, spent_fen, reserved_fen FROM duty_free_quota;
DROP TABLE duty_free_quota;
ALTER TABLE duty_free_quota_by_scheme RENAME TO duty_free_quota;

ALTER TABLE duty_free_sales ADD COLUMN scheme TEXT NOT NULL DEFAULT 'offshore';
ALTER TABLE duty_free_shops ADD COLUMN resident_zero_tariff BIGINT NOT NULL DEFAULT 0;

CREATE TABLE duty_free_dishonesty (
    id TEXT PRIMARY KEY,
    person_code TEXT NOT NULL,
    listed_on TEXT NOT NULL,
    until TEXT NOT NULL,
    ground TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX duty_free_dishonesty_by_person ON duty_free_dishonesty (person_code, until);
