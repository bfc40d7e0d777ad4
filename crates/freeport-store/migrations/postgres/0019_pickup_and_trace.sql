-- How each line of a sale is taken (R4.5): departure pick-up, mail, return-to-island, buy-and-take
-- or guarantee-and-take.
ALTER TABLE duty_free_sale_items ADD COLUMN pickup TEXT NOT NULL DEFAULT 'departure';
-- The guarantee a sale lodged for what was taken against one (R4.5(4)).
ALTER TABLE duty_free_sales ADD COLUMN guarantee_fen BIGINT NOT NULL DEFAULT 0 CHECK (guarantee_fen >= 0);

-- One item, one code (R4.9): every piece sold with its 16-digit traceability number, followed from
-- the sale to its hand-over at the pick-up point, the buyer's departure, or its return.
CREATE TABLE duty_free_items (
    trace_code TEXT PRIMARY KEY,
    sale_id TEXT NOT NULL REFERENCES duty_free_sales (id),
    line BIGINT NOT NULL,
    state TEXT NOT NULL,
    handed_over_at_ms BIGINT,
    departed_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX duty_free_items_by_sale ON duty_free_items (sale_id, line);
