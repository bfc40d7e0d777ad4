-- The port a declaration crosses at (R2.2): release at a second-line port follows the lane (R2.4),
-- and the port's figures (clearance time, inspections) are kept per port.
ALTER TABLE declarations ADD COLUMN port TEXT;
CREATE INDEX declarations_by_port ON declarations (port, created_at_ms);

-- Every crossing recorded at a port's channel (gate-out). A cleared crossing closes its released
-- declaration; one without a released declaration is kept all the same (the goods have crossed)
-- and raises an alert.
CREATE TABLE crossings (
    id TEXT PRIMARY KEY,
    port TEXT NOT NULL,
    channel TEXT NOT NULL,
    declaration_id TEXT REFERENCES declarations (id),
    means TEXT NOT NULL,
    cleared BIGINT NOT NULL CHECK (cleared IN (0, 1)),
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX crossings_by_port ON crossings (port, at_ms);
CREATE INDEX crossings_by_declaration ON crossings (declaration_id);

-- Each port's inspection load per day (the zone's day): red-lane declarations admitted within its
-- capacity, and those risk sent to red that capacity turned to documentary check (the overflow).
CREATE TABLE port_days (
    port TEXT NOT NULL,
    day TEXT NOT NULL,
    admitted BIGINT NOT NULL CHECK (admitted >= 0),
    overflow BIGINT NOT NULL CHECK (overflow >= 0),
    PRIMARY KEY (port, day)
);

-- Admitted red-lane declarations still waiting for their scan, with their risk score in
-- thousandths: a riskier declaration may displace the least risky of them.
CREATE TABLE port_queue (
    declaration_id TEXT PRIMARY KEY REFERENCES declarations (id),
    port TEXT NOT NULL,
    day TEXT NOT NULL,
    score_milli BIGINT NOT NULL,
    admitted_at_ms BIGINT NOT NULL
);
CREATE INDEX port_queue_by_day ON port_queue (port, day, score_milli);

-- What an administrator sets for a port beyond the pack: its daily inspection capacity.
CREATE TABLE port_settings (
    port TEXT PRIMARY KEY,
    daily_inspection_capacity BIGINT NOT NULL CHECK (daily_inspection_capacity >= 0),
    actor TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
