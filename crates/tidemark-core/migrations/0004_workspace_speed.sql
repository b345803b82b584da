-- Tidemark case file, schema 4: what the investigator workspace needs to stay fast at 10 million events.
--
-- 1. `action:` and `source:` get indexes. Each is (value, id), and id is the time key, so "events with
--    this action, in time order" is a walk along one index and a count reads the index alone. Without
--    them a count scanned every event (2.6 s for `action:rule` at 10 M), and a small source among large
--    ones (legacy Activities beside the audit log) was found by scanning. Workload and client family
--    got none: their few values each match much of a case, so pages find them at once, and their two
--    NOCASE indexes cost 9 % of import speed (scripts/bench, 1 M records).
-- 2. Rollups: how many events carry each facet value per UTC day, and how many events of each action
--    fall in each 15-minute block. The whole case, and any time range, is then counted from a few
--    thousand rows instead of by reading every event (7.8 s at 10 M). The event writer adds to them in
--    the same transaction as the events (rollup.rs), so they are exactly as derived as the events are:
--    rebuilt from them at this migration, and checked against them by the tests.
--    Time is that of the event's key (`id >> 20` + 2000-01-01), which is what time ranges select on.
CREATE INDEX event_action ON event (action);
CREATE INDEX event_source ON event (source);

-- field: the facet's event column name; value '' counts events where the field is empty or missing.
CREATE TABLE rollup_day_value (
    field TEXT    NOT NULL,
    value TEXT    NOT NULL,
    day   INTEGER NOT NULL,   -- UTC day number since 1970-01-01
    count INTEGER NOT NULL,
    PRIMARY KEY (field, value, day)
) WITHOUT ROWID;

CREATE TABLE rollup_block_action (
    block  INTEGER NOT NULL,  -- 15-minute block number since 1970-01-01T00:00Z
    action TEXT    NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (block, action)
) WITHOUT ROWID;

-- Existing events are counted into both rollups by rollup::rebuild, in the same transaction (one pass
-- over the events in Rust: SQL would sort nine copies of every row).
