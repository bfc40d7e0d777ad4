-- A port's channels have their own capacity and may be in their own emergency mode (R2.4). Their
-- figures live in the port tables under the channel's id (`<port>-cargo-01`), which the pack keeps
-- apart from every port's code.
--
-- The channel a red-lane declaration waiting for its scan was booked through, if any: a full
-- channel can only make room among its own.
ALTER TABLE port_queue ADD COLUMN channel TEXT;
-- A port's load reads its channels' days at once.
CREATE INDEX port_days_by_day ON port_days (day);
-- Where the emergency mode a declaration was decided in was in force: its port or its channel.
ALTER TABLE declarations ADD COLUMN mode_at TEXT;
UPDATE declarations SET mode_at = port WHERE port_mode IS NOT NULL;
CREATE INDEX declarations_by_mode_at ON declarations (mode_at, created_at_ms);
