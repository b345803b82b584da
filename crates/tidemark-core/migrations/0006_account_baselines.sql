-- Tidemark case file, schema 6: what is usual for each account, so that what is new stands out.
--
-- `account` spans each account's events (the actor, lower-cased); `account_first` keeps, per account and
-- per kind of value (country, network, ip, client, agent, app), the first event that carried each
-- value and how many events did. "New for this user at that time" is then one index lookup: an
-- event is the first from a network for its account when it is that row's `first_id`. Both tables are
-- derived: the event writer adds each batch to them in the batch's transaction (first ids only move
-- earlier, counts add up), and they are rebuilt from the events at this migration.
CREATE TABLE account (
    account  TEXT PRIMARY KEY,
    first_ms INTEGER NOT NULL,
    last_ms  INTEGER NOT NULL,
    events   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE account_first (
    account  TEXT    NOT NULL,
    kind     TEXT    NOT NULL,   -- country, network, ip, client, agent, app
    value    TEXT    NOT NULL,
    first_id INTEGER NOT NULL,   -- the event that carried the value first (a time key)
    first_ms INTEGER NOT NULL,
    events   INTEGER NOT NULL,
    PRIMARY KEY (account, kind, value)
) WITHOUT ROWID;
CREATE INDEX account_first_event ON account_first (first_id);
