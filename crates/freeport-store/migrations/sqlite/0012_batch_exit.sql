-- Batch exit, centralised declaration (R2.5): the month a batch shipment belongs to, and the
-- consolidated declaration that covers it.
ALTER TABLE declarations ADD COLUMN batch_month TEXT;
CREATE INDEX declarations_by_batch_month ON declarations (enterprise, batch_month);

-- One consolidated declaration per enterprise and month: its taxes (the shipments' assessed taxes
-- added up, the minimum-tax rule applied once), when it was filed and whether it was late.
CREATE TABLE consolidations (
    id TEXT PRIMARY KEY,
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    month TEXT NOT NULL,
    filed_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    late BIGINT NOT NULL CHECK (late IN (0, 1)),
    shipments BIGINT NOT NULL,
    tariff_fen BIGINT NOT NULL,
    consumption_tax_fen BIGINT NOT NULL,
    vat_fen BIGINT NOT NULL,
    payable_total_fen BIGINT NOT NULL,
    pack_version TEXT NOT NULL,
    explanation_json TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    UNIQUE (enterprise, month)
);

-- Enterprises whose batch exit customs suspended (a late consolidation, the class lost), until
-- reinstated on application.
CREATE TABLE batch_exit_suspensions (
    enterprise TEXT PRIMARY KEY REFERENCES enterprises (credit_code),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    since_ms BIGINT NOT NULL
);
