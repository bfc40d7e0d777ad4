-- Supervised items (R3.4): what remains under supervision of each duty-exempt goods line that
-- entered an account book, and the disposals that paid back taxes on it (R8.10).

CREATE TABLE supervised_items (
    id TEXT PRIMARY KEY,
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    line BIGINT NOT NULL,
    hs_code TEXT NOT NULL,
    origin TEXT NOT NULL,
    consumption_tax_item TEXT,
    kind TEXT NOT NULL,
    years BIGINT NOT NULL,
    released_on TEXT NOT NULL,
    supervised_until TEXT NOT NULL,
    unit TEXT NOT NULL,
    -- What is still supervised: quantity in thousandths and its customs value in fen.
    quantity_milli BIGINT NOT NULL CHECK (quantity_milli >= 0),
    customs_value_fen BIGINT NOT NULL CHECK (customs_value_fen >= 0),
    -- supervised; disposed (nothing left); withdrawn (its declaration was cancelled or amended).
    state TEXT NOT NULL CHECK (state IN ('supervised', 'disposed', 'withdrawn')),
    revision BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX supervised_items_by_enterprise ON supervised_items (enterprise, id);
CREATE INDEX supervised_items_by_declaration ON supervised_items (declaration_id);

CREATE TABLE disposals (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES supervised_items (id),
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    kind TEXT NOT NULL,
    on_day TEXT NOT NULL,
    days_diverted BIGINT,
    quantity_milli BIGINT NOT NULL,
    disposed_value_fen BIGINT NOT NULL,
    back_tax_value_fen BIGINT NOT NULL,
    tariff_fen BIGINT NOT NULL,
    consumption_tax_fen BIGINT NOT NULL,
    vat_fen BIGINT NOT NULL,
    pack_version TEXT NOT NULL,
    assessment_json TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX disposals_by_item ON disposals (item_id);
