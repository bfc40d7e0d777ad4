-- Travellers' departures from the island, as carriers and the port record them (R4.3): by person
-- code, never the document number. A duty-free sale needs one on its departure day.
CREATE TABLE departures (
    id TEXT PRIMARY KEY,
    person_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    means TEXT NOT NULL,
    port TEXT NOT NULL,
    departs_at_ms BIGINT NOT NULL,
    departure_on TEXT NOT NULL,
    leaves_country BIGINT NOT NULL CHECK (leaves_country IN (0, 1)),
    recorded_by TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX departures_by_person ON departures (person_code, departure_on);
