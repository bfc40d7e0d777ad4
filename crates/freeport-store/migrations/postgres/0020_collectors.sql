-- Who took a piece at its hand-over, by person code, when not its buyer: one collector for many
-- buyers is a proxy-buying ring's mark (R4.8).
ALTER TABLE duty_free_items ADD COLUMN collected_by TEXT;
