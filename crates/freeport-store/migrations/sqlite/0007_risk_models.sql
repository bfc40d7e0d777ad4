-- Models the platform trained on its own inspection results. The newest trained is active; each
-- model's text (its feature header and trees, as JSON) is kept, so that any past lane can be
-- explained by the model that chose it.
CREATE TABLE risk_models (
    sha256 TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    trained_by TEXT NOT NULL,
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    cases BIGINT NOT NULL,
    violations BIGINT NOT NULL,
    metrics_json TEXT NOT NULL,
    model_text TEXT NOT NULL,
    trained_at_ms BIGINT NOT NULL
);
