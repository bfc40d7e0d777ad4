-- Passengers checked at a second-line channel (R5): by person code (never the document number),
-- what they carried against their duty-free purchases, the articles tax on the excess, and whether
-- they were sent to inspection.
CREATE TABLE passenger_checks (
    id TEXT PRIMARY KEY,
    port TEXT NOT NULL,
    channel TEXT NOT NULL,
    person_code TEXT NOT NULL,
    departure_on TEXT NOT NULL,
    tax_fen BIGINT NOT NULL CHECK (tax_fen >= 0),
    inspect BIGINT NOT NULL CHECK (inspect IN (0, 1)),
    check_json TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX passenger_checks_by_person ON passenger_checks (person_code, at_ms);
