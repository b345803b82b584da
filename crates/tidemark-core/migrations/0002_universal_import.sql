-- Tidemark case file, schema 2: the universal import.
--
-- Each input remembers how it was read: its text encoding, the context its format needs to read one
-- record again (a CSV header), and the archive it came out of. Per-file results are kept beside it.
-- An input's SHA-256 is computed while it streams, so a file row is created with an empty hash and
-- completed exactly once when the file has been read; after that the row is immutable as before.
ALTER TABLE acquired_file ADD COLUMN encoding TEXT NOT NULL DEFAULT 'utf-8';
ALTER TABLE acquired_file ADD COLUMN context BLOB NOT NULL DEFAULT X'';
ALTER TABLE acquired_file ADD COLUMN container TEXT;
ALTER TABLE acquired_file ADD COLUMN container_sha256 BLOB;
ALTER TABLE acquired_file ADD COLUMN records INTEGER;
ALTER TABLE acquired_file ADD COLUMN events_new INTEGER;
ALTER TABLE acquired_file ADD COLUMN duplicates INTEGER;
ALTER TABLE acquired_file ADD COLUMN malformed INTEGER;
ALTER TABLE acquired_file ADD COLUMN first_ms INTEGER;
ALTER TABLE acquired_file ADD COLUMN last_ms INTEGER;

DROP TRIGGER acquired_file_immutable;
CREATE TRIGGER acquired_file_immutable BEFORE UPDATE ON acquired_file
WHEN length(OLD.sha256) > 0
    OR NEW.id IS NOT OLD.id OR NEW.acquisition_id IS NOT OLD.acquisition_id OR NEW.path IS NOT OLD.path
    OR NEW.format IS NOT OLD.format OR NEW.encoding IS NOT OLD.encoding OR NEW.context IS NOT OLD.context
    OR NEW.container IS NOT OLD.container OR NEW.container_sha256 IS NOT OLD.container_sha256
BEGIN
    SELECT RAISE(ABORT, 'raw evidence is immutable');
END;

-- Flattened parameters (inbox rules, Set-Mailbox, permissions) as searchable `key=value` text.
ALTER TABLE event ADD COLUMN parameters TEXT;

-- The word index holds the fields people search with words. Low-cardinality fields (action, client
-- family, source) are filtered in SQL instead: they cost tokens on every event and say little. Import
-- speed is mostly FTS5 tokens (shared/docs/ingest-performance.md §2a), so every token must earn its place.
DROP TABLE event_fts;
CREATE VIRTUAL TABLE event_fts USING fts5(
    operation, actor, mailbox, user_agent, subject, folders, object, parameters,
    content = 'event', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO event_fts (event_fts, rank) VALUES ('hashsize', 67108864);
INSERT INTO event_fts (event_fts, rank) VALUES ('automerge', 16);
INSERT INTO event_fts (event_fts) VALUES ('rebuild');

-- Identifiers (message ids, client IPs, session and app ids) are looked up whole: one token each,
-- where the word tokenizer would cut a GUID into five and an IP into four.
DROP TABLE msgid_fts;
CREATE VIRTUAL TABLE ident_fts USING fts5(
    message_ids, client_ip, session_id, app_id,
    content = 'event', content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 0 tokenchars '.:@-_$+=%!#&*/?^`{|}~'"
);
INSERT INTO ident_fts (ident_fts, rank) VALUES ('hashsize', 16777216);
INSERT INTO ident_fts (ident_fts, rank) VALUES ('automerge', 16);
INSERT INTO ident_fts (ident_fts) VALUES ('rebuild');
