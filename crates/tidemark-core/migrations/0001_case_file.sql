-- Tidemark case file, schema 1.
-- Raw evidence (raw_record, acquired_file, raw_dict) is append-only: triggers refuse UPDATE of evidence
-- columns and DELETE. Events and the FTS indexes are derived from raw records and can be rebuilt.

CREATE TABLE case_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Every import or collection run.
CREATE TABLE acquisition (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('import', 'collection')),
    source        TEXT    NOT NULL,           -- format id (imports) or API source (collections)
    parameters    TEXT    NOT NULL,           -- JSON; never secrets
    operator      TEXT    NOT NULL,
    tool_version  TEXT    NOT NULL,
    started_ms    INTEGER NOT NULL,
    finished_ms   INTEGER,
    status        TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    records_read  INTEGER NOT NULL DEFAULT 0,
    events_new    INTEGER NOT NULL DEFAULT 0,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    malformed     INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);

-- Input files of an import, hashed as a whole.
CREATE TABLE acquired_file (
    id             INTEGER PRIMARY KEY,
    acquisition_id INTEGER NOT NULL REFERENCES acquisition (id),
    path           TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    sha256         BLOB    NOT NULL,
    format         TEXT    NOT NULL
);
CREATE INDEX acquired_file_acquisition ON acquired_file (acquisition_id);

-- zstd dictionaries that raw records were compressed with (one per input file or page series).
CREATE TABLE raw_dict (
    id             INTEGER PRIMARY KEY,
    acquisition_id INTEGER NOT NULL REFERENCES acquisition (id),
    dict           BLOB    NOT NULL,
    sha256         BLOB    NOT NULL
);

-- Every record exactly as received. `sha256` and `size` are of the original bytes; `data` holds them
-- as stored (codec 0 = verbatim, 1 = zstd, with `dict_id` if a dictionary was used).
-- `event_id` links to the normalized event; it is derived, so it may be rewritten by a rebuild.
-- `error` says why a record could not be normalized (it is then kept with no event).
CREATE TABLE raw_record (
    id             INTEGER PRIMARY KEY,
    acquisition_id INTEGER NOT NULL REFERENCES acquisition (id),
    file_id        INTEGER REFERENCES acquired_file (id),
    line           INTEGER,
    byte_offset    INTEGER,
    url            TEXT,
    page           INTEGER,
    received_ms    INTEGER NOT NULL,
    sha256         BLOB    NOT NULL,
    size           INTEGER NOT NULL,
    codec          INTEGER NOT NULL,
    dict_id        INTEGER REFERENCES raw_dict (id),
    data           BLOB    NOT NULL,
    event_id       INTEGER,
    error          TEXT
);
CREATE INDEX raw_record_event ON raw_record (event_id);

CREATE TRIGGER raw_record_immutable BEFORE UPDATE OF
    id, acquisition_id, file_id, line, byte_offset, url, page, received_ms, sha256, size, codec, dict_id, data
ON raw_record BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;
CREATE TRIGGER raw_record_no_delete BEFORE DELETE ON raw_record BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;
CREATE TRIGGER acquired_file_immutable BEFORE UPDATE ON acquired_file BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;
CREATE TRIGGER acquired_file_no_delete BEFORE DELETE ON acquired_file BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;
CREATE TRIGGER raw_dict_immutable BEFORE UPDATE ON raw_dict BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;
CREATE TRIGGER raw_dict_no_delete BEFORE DELETE ON raw_dict BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;

-- Normalized events. `id` is a time key: ((time_ms - 2000-01-01) << 20) | sequence, so id order is
-- time order, also in the FTS index below. `record_key` is the de-duplication key (e.g. the UAL Id).
CREATE TABLE event (
    id           INTEGER PRIMARY KEY,
    raw_id       INTEGER NOT NULL,
    record_key   TEXT    NOT NULL,
    time_ms      INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    workload     TEXT,
    record_type  TEXT,
    operation    TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    actor        TEXT,
    mailbox      TEXT,
    client_ip    TEXT,
    client_port  INTEGER,
    client_app   TEXT,
    user_agent   TEXT,
    app_id       TEXT,
    session_id   TEXT,
    result       TEXT,
    subject      TEXT,
    folders      TEXT,
    message_ids  TEXT,
    item_count   INTEGER,
    object       TEXT,
    details      TEXT    NOT NULL
);

-- Full-text index over the text fields (external content: the text lives in `event` only).
CREATE VIRTUAL TABLE event_fts USING fts5(
    operation, action, actor, mailbox, client_ip, client_app, user_agent, app_id, session_id,
    subject, folders, object, source,
    content = 'event', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Import speed: a 64 MiB in-memory hash before FTS5 flushes a segment (default 1 MiB), and fewer,
-- larger merges. Measured in shared/docs/ingest-performance.md §2b–3.
INSERT INTO event_fts (event_fts, rank) VALUES ('hashsize', 67108864);
INSERT INTO event_fts (event_fts, rank) VALUES ('automerge', 16);

-- Message ids get their own index in which a whole id is one token (they are looked up exactly,
-- and one token per id costs a fifth of what unicode61's split would).
CREATE VIRTUAL TABLE msgid_fts USING fts5(
    message_ids,
    content = 'event', content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 0 tokenchars '.@-_$+=%!#&*/?^`{|}~'"
);
INSERT INTO msgid_fts (msgid_fts, rank) VALUES ('hashsize', 16777216);
INSERT INTO msgid_fts (msgid_fts, rank) VALUES ('automerge', 16);

-- Annotations (used by the investigator workspace).
CREATE TABLE tag (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    color      TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE event_tag (
    event_id   INTEGER NOT NULL,
    tag_id     INTEGER NOT NULL REFERENCES tag (id),
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (tag_id, event_id)
) WITHOUT ROWID;
CREATE INDEX event_tag_event ON event_tag (event_id);
CREATE TABLE bookmark (
    event_id   INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL
);
CREATE TABLE note (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER,
    start_ms   INTEGER,
    end_ms     INTEGER,
    body       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    CHECK (event_id IS NOT NULL OR (start_ms IS NOT NULL AND end_ms IS NOT NULL))
);
CREATE INDEX note_event ON note (event_id);
CREATE TABLE saved_search (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    query      TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);

-- Chain of custody. Each entry's hash covers the previous entry's hash, so a removed or edited entry
-- breaks the chain (`tidemark verify` checks it). Append-only.
CREATE TABLE case_log (
    id         INTEGER PRIMARY KEY,
    time_ms    INTEGER NOT NULL,
    operator   TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    details    TEXT    NOT NULL,      -- JSON
    sha256     BLOB,                  -- hash of what the entry is about (input file, export, manifest)
    prev_hash  BLOB    NOT NULL,
    entry_hash BLOB    NOT NULL
);
CREATE TRIGGER case_log_immutable BEFORE UPDATE ON case_log BEGIN
    SELECT RAISE(ABORT, 'the case log is append-only');
END;
CREATE TRIGGER case_log_no_delete BEFORE DELETE ON case_log BEGIN
    SELECT RAISE(ABORT, 'the case log is append-only');
END;
