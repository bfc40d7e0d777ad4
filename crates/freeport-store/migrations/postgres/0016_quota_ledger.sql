-- The duty-free quota as a ledger with pending postings (R4.2, R4.4): a till reserves a basket,
-- then commits or voids it, or the reservation expires; committed items may be returned.
--
-- A person's year: spent (committed, less returns) and reserved (pending). Together they never
-- pass the annual quota: every change is a conditional update.
ALTER TABLE duty_free_quota ADD COLUMN reserved_fen BIGINT NOT NULL DEFAULT 0 CHECK (reserved_fen >= 0);

-- A sale's place in the ledger: pending, committed, voided, expired or refused.
ALTER TABLE duty_free_sales ADD COLUMN state TEXT NOT NULL DEFAULT 'committed';
UPDATE duty_free_sales SET state = 'refused' WHERE accepted = 0;
ALTER TABLE duty_free_sales ADD COLUMN quota_year BIGINT NOT NULL DEFAULT 0;
UPDATE duty_free_sales SET quota_year = CAST(SUBSTR(sold_on, 1, 4) AS BIGINT);
-- A pending reservation's deadline; when it was settled (committed, voided or expired).
ALTER TABLE duty_free_sales ADD COLUMN expires_at_ms BIGINT;
ALTER TABLE duty_free_sales ADD COLUMN settled_at_ms BIGINT;
-- What returns gave back of the sale's total.
ALTER TABLE duty_free_sales ADD COLUMN returned_fen BIGINT NOT NULL DEFAULT 0 CHECK (returned_fen >= 0);
CREATE INDEX duty_free_sales_pending ON duty_free_sales (state, expires_at_ms);
CREATE INDEX duty_free_sales_person_state ON duty_free_sales (person_code, state);

-- Per item, what was returned.
ALTER TABLE duty_free_sale_items ADD COLUMN returned_milli BIGINT NOT NULL DEFAULT 0 CHECK (returned_milli >= 0);

-- What a person's purchases for one departure hold of each category (committed and reserved), in
-- thousandths of the limit unit: the per-departure limits are conditional updates of this row.
CREATE TABLE duty_free_allowances (
    person_code TEXT NOT NULL,
    departure_on TEXT NOT NULL,
    category TEXT NOT NULL,
    taken_milli BIGINT NOT NULL CHECK (taken_milli >= 0),
    PRIMARY KEY (person_code, departure_on, category)
);
INSERT INTO duty_free_allowances (person_code, departure_on, category, taken_milli)
SELECT s.person_code, s.departure_on, i.category, SUM(i.limit_quantity_milli)
FROM duty_free_sale_items i JOIN duty_free_sales s ON s.id = i.sale_id
WHERE s.accepted = 1
GROUP BY s.person_code, s.departure_on, i.category;

-- Every return of committed goods, line by line.
CREATE TABLE duty_free_returns (
    id TEXT NOT NULL,
    sale_id TEXT NOT NULL REFERENCES duty_free_sales (id),
    line BIGINT NOT NULL,
    quantity_milli BIGINT NOT NULL CHECK (quantity_milli > 0),
    refund_fen BIGINT NOT NULL CHECK (refund_fen >= 0),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (id, line)
);
CREATE INDEX duty_free_returns_by_sale ON duty_free_returns (sale_id);
