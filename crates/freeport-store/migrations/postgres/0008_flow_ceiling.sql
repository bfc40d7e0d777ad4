-- Lines whose quantity or value no longer fit a day's BIGINT totals: counted apart instead of added,
-- so a hostile value can neither overflow the statistics nor turn them into floats.
ALTER TABLE flow_stats ADD COLUMN lines_beyond_ceiling BIGINT NOT NULL DEFAULT 0;
