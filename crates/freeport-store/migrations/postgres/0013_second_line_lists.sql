-- Hainan's second-line credit lists (R6.2): operators (by credit code) and individuals (by person
-- code, never the document number) on the white list or the key-concern list, who put them there,
-- why and since when.
CREATE TABLE second_line_lists (
    party TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('operator', 'individual')),
    list TEXT NOT NULL CHECK (list IN ('white_list', 'key_concern')),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    since_ms BIGINT NOT NULL
);
