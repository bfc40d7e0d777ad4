-- What a duty-free sale was made with besides the buyer's document (R4.8): a phone, a payment
-- account, a delivery address, a device, each only as a keyed hash of its normalised form (the
-- link code), never in clear. Buyers who share them are linked: the ground proxy-buying rings are
-- found on.
CREATE TABLE duty_free_sale_links (
    sale_id TEXT NOT NULL REFERENCES duty_free_sales (id),
    kind TEXT NOT NULL,
    link_code TEXT NOT NULL,
    PRIMARY KEY (sale_id, kind)
);
CREATE INDEX duty_free_sale_links_by_code ON duty_free_sale_links (kind, link_code);
