-- Emergency modes in force at ports: which (a mode of the pack), since when, who and why, and the
-- port to cross at instead when the port is closed. The row goes when the port returns to normal.
CREATE TABLE port_modes (
    port TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    reroute_to TEXT,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    since_ms BIGINT NOT NULL
);

-- The emergency mode a declaration was decided in, so that returning to normal lists what must be
-- regularised.
ALTER TABLE declarations ADD COLUMN port_mode TEXT;
CREATE INDEX declarations_by_port_mode ON declarations (port, port_mode, created_at_ms);
