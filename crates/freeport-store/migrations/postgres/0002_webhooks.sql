-- Webhooks: where an enterprise wants the status changes of its declarations pushed, and the
-- deliveries owed to it. A delivery row is written in the same transaction as the event it carries,
-- so an acknowledged change is never left unannounced.

CREATE TABLE webhooks (
    enterprise TEXT PRIMARY KEY REFERENCES enterprises (credit_code),
    url TEXT NOT NULL,
    -- Kept in clear: signing needs it. Rotated by setting the webhook again.
    secret TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    event_id BIGINT NOT NULL REFERENCES outbox (id),
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    delivered_at_ms BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at_ms);
CREATE INDEX webhook_deliveries_by_enterprise ON webhook_deliveries (enterprise, id);
