-- The selectivity lane of each decided declaration and the risk assessment behind it (rules that
-- fired, score, the draw, the reason), as it was when the lane was chosen.
ALTER TABLE declarations ADD COLUMN lane TEXT;
ALTER TABLE declarations ADD COLUMN risk_json TEXT;
