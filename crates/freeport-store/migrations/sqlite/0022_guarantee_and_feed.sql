-- R4.5(4): when a sale's guarantee went back to the buyer (every piece taken against it departed
-- or returned); when a sale last changed (recorded, settled, returned, its guarantee released),
-- for a shop's live feed.
ALTER TABLE duty_free_sales ADD COLUMN guarantee_released_at_ms BIGINT;
ALTER TABLE duty_free_sales ADD COLUMN updated_at_ms BIGINT NOT NULL DEFAULT 0;
UPDATE duty_free_sales SET updated_at_ms = COALESCE(settled_at_ms, at_ms);
CREATE INDEX duty_free_sales_by_shop_change ON duty_free_sales (shop, updated_at_ms);
