-- Tidemark case file, schema 5: what the offline IP data said about every client address in the case.
--
-- Enrichment is per distinct address, not per event: a million events come from a few thousand
-- addresses, so import speed is unchanged and a newer data set re-answers in milliseconds. Both
-- tables are derived (rebuildable from the events and the data), never evidence; `ip_data` names the
-- data each answer came from, so a reader can tell which data said what.
CREATE TABLE ip_data (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    date    TEXT NOT NULL,             -- YYYY-MM-DD of the data
    licence TEXT NOT NULL,
    credit  TEXT NOT NULL,
    sha256  TEXT NOT NULL UNIQUE       -- of the compiled tables: the same value gives the same answers
);

-- One row per distinct event.client_ip. `key` is the address as 32 hex digits (IPv4 as IPv4-mapped
-- IPv6), so a CIDR block is one key range (`ip:203.0.113.0/24`); NULL when the value is not an address.
CREATE TABLE ip_info (
    ip      TEXT PRIMARY KEY,
    key     TEXT,
    country TEXT,                      -- ISO 3166 alpha-2, upper case
    asn     INTEGER,
    network TEXT,                      -- the network's owner as the data names it
    class   TEXT NOT NULL,             -- public, microsoft, hosting, vpn, private, reserved, not-an-address
    note    TEXT,
    data_id INTEGER NOT NULL REFERENCES ip_data (id)
) WITHOUT ROWID;
CREATE INDEX ip_info_key ON ip_info (key);
CREATE INDEX ip_info_country ON ip_info (country);
CREATE INDEX ip_info_asn ON ip_info (asn);
CREATE INDEX ip_info_class ON ip_info (class);
