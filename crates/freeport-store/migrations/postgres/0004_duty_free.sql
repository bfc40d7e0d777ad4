-- Offshore duty-free: shops and their operators, sales, and each person's annual quota.
-- Buyers are known only by their person code, an HMAC of the identity document: one code per
-- person across all shops, and no document number stored.

CREATE TABLE duty_free_shops (
    id TEXT PRIMARY KEY,
    operator TEXT NOT NULL REFERENCES enterprises (credit_code),
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX duty_free_shops_by_operator ON duty_free_shops (operator, id);

-- The quota spent per person and calendar year, reserved with a conditional update in the sale's
-- transaction: two shops selling at once cannot both spend the last of it.
CREATE TABLE duty_free_quota (
    person_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    spent_fen BIGINT NOT NULL CHECK (spent_fen >= 0),
    PRIMARY KEY (person_code, year)
);

CREATE TABLE duty_free_sales (
    id TEXT PRIMARY KEY,
    shop TEXT NOT NULL REFERENCES duty_free_shops (id),
    person_code TEXT NOT NULL,
    departure_on TEXT NOT NULL,
    sold_on TEXT NOT NULL,
    accepted BIGINT NOT NULL CHECK (accepted IN (0, 1)),
    total_fen BIGINT NOT NULL,
    pack_version TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX duty_free_sales_by_shop ON duty_free_sales (shop, id);
CREATE INDEX duty_free_sales_by_person ON duty_free_sales (person_code, departure_on);

-- Item by item, for traceability and for the per-departure category limits.
CREATE TABLE duty_free_sale_items (
    sale_id TEXT NOT NULL REFERENCES duty_free_sales (id),
    line BIGINT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    limit_quantity_milli BIGINT NOT NULL,
    PRIMARY KEY (sale_id, line)
);
