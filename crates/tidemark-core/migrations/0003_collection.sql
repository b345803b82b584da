-- Tidemark case file, schema 3: live collection and its acquisition ledger.
--
-- A collection run plans windows per source (content type × 24 h for the Management API, one audit
-- query per window for Graph, mailbox × window for legacy Activities). Each window row is the ledger:
-- its status, what the server said it holds, what we received, stored new, recognised as duplicates or
-- could not read, the faults met on the way, and the cursor to continue from. Each page the server
-- sent is kept verbatim (zstd) with its URL (secrets removed), status, headers of interest and
-- SHA-256. A page, its records, its events and the window's new cursor are committed in one
-- transaction, so a process killed at any moment loses nothing and `resume` continues from the cursor.
CREATE TABLE collection_run (
    id             INTEGER PRIMARY KEY,
    acquisition_id INTEGER NOT NULL REFERENCES acquisition (id),  -- the run's first acquisition
    profile        TEXT    NOT NULL,                              -- JSON, never secrets
    from_ms        INTEGER NOT NULL,
    to_ms          INTEGER NOT NULL,
    sources        TEXT    NOT NULL,                              -- JSON list
    status         TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'incomplete', 'failed')),
    created_ms     INTEGER NOT NULL,
    finished_ms    INTEGER
);

CREATE TABLE collection_window (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES collection_run (id),
    source         TEXT    NOT NULL,            -- management | graph | activities
    scope          TEXT    NOT NULL,            -- content type, mailbox, or '' (Graph)
    start_ms       INTEGER NOT NULL,
    end_ms         INTEGER NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('planned', 'running', 'done', 'failed', 'skipped', 'split')),
    cursor         TEXT    NOT NULL DEFAULT '{}',   -- JSON: where to continue
    server_count   INTEGER,                     -- what the server said the window holds, where it says
    pages          INTEGER NOT NULL DEFAULT 0,
    records        INTEGER NOT NULL DEFAULT 0,
    new_events     INTEGER NOT NULL DEFAULT 0,
    duplicates     INTEGER NOT NULL DEFAULT 0,
    errors         INTEGER NOT NULL DEFAULT 0,
    throttled      INTEGER NOT NULL DEFAULT 0,  -- MailItemsAccessed records marked IsThrottled
    faults         TEXT    NOT NULL DEFAULT '{}',   -- JSON: fault → times met
    attempts       INTEGER NOT NULL DEFAULT 0,
    error_code     TEXT,
    error          TEXT,
    parent_id      INTEGER REFERENCES collection_window (id),   -- a window split from another
    updated_ms     INTEGER NOT NULL
);
CREATE INDEX collection_window_run ON collection_window (run_id, id);

CREATE TABLE collection_page (
    id             INTEGER PRIMARY KEY,
    window_id      INTEGER NOT NULL REFERENCES collection_window (id),
    acquisition_id INTEGER NOT NULL REFERENCES acquisition (id),
    file_id        INTEGER REFERENCES acquired_file (id),   -- set when the page held records
    kind           TEXT    NOT NULL,                        -- records | listing | query | error
    url            TEXT    NOT NULL,                        -- secrets removed
    status         INTEGER NOT NULL,
    headers        TEXT    NOT NULL,                        -- JSON: headers of interest
    received_ms    INTEGER NOT NULL,
    sha256         BLOB    NOT NULL,                        -- of the body as received
    size           INTEGER NOT NULL,
    codec          INTEGER NOT NULL,
    body           BLOB    NOT NULL,
    records        INTEGER NOT NULL DEFAULT 0,
    note           TEXT
);
CREATE INDEX collection_page_window ON collection_page (window_id);

CREATE TRIGGER collection_page_immutable BEFORE UPDATE ON collection_page BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;
CREATE TRIGGER collection_page_no_delete BEFORE DELETE ON collection_page BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;
