//! Annotations: what the investigator adds to the evidence — tags with colours, bookmarks, notes on an
//! event or on a time range, and saved searches.
//!
//! Annotations are the investigator's work product, so they live in the case file beside the evidence
//! and every change is written to the hash-chained case log with what changed (a deleted note's text, a
//! renamed tag's old name, the query a tag was applied by): the log keeps the history even after the
//! annotation itself is gone. They never touch events or raw records; events may be rebuilt, so an
//! annotation refers to an event by its id and survives (as a dangling reference) if the event does not.
//!
//! Writes go through [`CaseWriter`] (one transaction per change, its clock for times), reads through
//! [`CaseReader`]. Tagging by query runs as one `INSERT … SELECT` over the same plan a search uses, so
//! tagging a million matching events is one statement in one transaction.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::case::{append_log, CaseReader, CaseWriter};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Bookmark, EventAnnotations, Note, SavedSearch, Tag, TagChange};
use crate::query::{rename_tag_in_query, Query};
use crate::search::{fts_error, plan, row_to_event_from, COLS};
use crate::time::{iso_ms, key_ms, MAX_MS, MIN_MS};

/// Longest tag or saved-search name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 100_000;
/// The colour a tag gets when none is given.
pub const DEFAULT_TAG_COLOR: &str = "#e8590c";

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::AnnotationInvalid, msg)
}

/// Checks a tag name: it is typed after `tag:`, so it must be searchable and quotable.
fn check_tag_name(name: &str) -> Result<&str> {
    let name = check_name(name, "tag")?;
    if name.contains('"') {
        return Err(invalid(
            "A tag name cannot contain a double quote (\"): it could not be searched with tag:. Use other characters.",
        ));
    }
    if !name.chars().any(char::is_alphanumeric) {
        return Err(invalid("A tag name needs at least one letter or digit, so it can be searched with tag:."));
    }
    Ok(name)
}

fn check_name<'a>(name: &'a str, what: &str) -> Result<&'a str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(format!("A {what} needs a name. Type one and try again.")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!("A {what} name can be at most {MAX_NAME_CHARS} characters. Shorten it.")));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!("A {what} name cannot contain line breaks or tabs. Use plain words.")));
    }
    Ok(name)
}

/// Checks and normalizes a colour to lowercase `#rrggbb`.
fn check_color(color: &str) -> Result<String> {
    let c = color.trim();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(invalid(format!(
            "\"{c}\" is not a colour Tidemark can store. Use # and six hex digits, like #e8590c."
        )));
    }
    Ok(c.to_ascii_lowercase())
}

fn check_body(body: &str) -> Result<&str> {
    if body.trim().is_empty() {
        return Err(invalid("A note needs some text. Type it and try again."));
    }
    if body.chars().count() > MAX_NOTE_CHARS {
        return Err(invalid(format!(
            "A note can be at most {MAX_NOTE_CHARS} characters. Split it into several notes."
        )));
    }
    Ok(body)
}

fn parse_event_id(id: &str) -> Result<i64> {
    id.trim().parse().map_err(|_| {
        Error::new(ErrorCode::EventNotFound, format!("\"{id}\" is not an event id. Pick the event from the timeline."))
    })
}

/// The event ids, each checked to be in the case (in order, duplicates kept once).
fn existing_events(conn: &Connection, ids: &[String]) -> Result<Vec<i64>> {
    let mut st = conn.prepare_cached("SELECT 1 FROM event WHERE id = ?1")?;
    let mut out = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    for text in ids {
        let id = parse_event_id(text)?;
        if !st.exists([id])? {
            return Err(Error::new(
                ErrorCode::EventNotFound,
                format!("There is no event {id} in this case, so nothing was changed. Search again and retry."),
            ));
        }
        if seen.insert(id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn load_tag(conn: &Connection, id: i64) -> Result<Tag> {
    conn.prepare_cached(
        "SELECT t.id, t.name, t.color, t.created_ms, (SELECT count(*) FROM event_tag WHERE tag_id = t.id) \
         FROM tag t WHERE t.id = ?1",
    )?
    .query_row([id], row_to_tag)
    .optional()?
    .ok_or_else(|| {
        Error::new(ErrorCode::TagNotFound, format!("There is no tag {id} in this case. It may have been deleted."))
    })
}

fn row_to_tag(r: &rusqlite::Row<'_>) -> rusqlite::Result<Tag> {
    Ok(Tag { id: r.get(0)?, name: r.get(1)?, color: r.get(2)?, created_at: iso_ms(r.get(3)?), events: r.get(4)? })
}

fn tag_name_taken(conn: &Connection, name: &str, except: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT name FROM tag WHERE name = ?1 COLLATE NOCASE AND id <> ?2")?
        .query_row(params![name, except], |r| r.get(0))
        .optional()?)
}

fn load_note(conn: &Connection, id: i64) -> Result<Note> {
    conn.prepare_cached("SELECT id, event_id, start_ms, end_ms, body, created_ms, updated_ms FROM note WHERE id = ?1")?
        .query_row([id], row_to_note)
        .optional()?
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoteNotFound,
                format!("There is no note {id} in this case. It may have been deleted."),
            )
        })
}

fn row_to_note(r: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    let start_ms: Option<i64> = r.get(2)?;
    let end_ms: Option<i64> = r.get(3)?;
    Ok(Note {
        id: r.get(0)?,
        event_id: r.get::<_, Option<i64>>(1)?.map(|id| id.to_string()),
        start: start_ms.map(iso_ms),
        end: end_ms.map(iso_ms),
        start_ms,
        end_ms,
        body: r.get(4)?,
        created_at: iso_ms(r.get(5)?),
        updated_at: iso_ms(r.get(6)?),
    })
}

/// Where a note sits on the timeline: its event's time, or the start of its range.
fn note_time(n: &Note) -> i64 {
    n.start_ms.or_else(|| n.event_id.as_deref().and_then(|id| id.parse().ok()).map(key_ms)).unwrap_or(i64::MIN)
}

fn load_saved_search(conn: &Connection, id: i64) -> Result<SavedSearch> {
    conn.prepare_cached("SELECT id, name, query, created_ms FROM saved_search WHERE id = ?1")?
        .query_row([id], row_to_saved_search)
        .optional()?
        .ok_or_else(|| {
            Error::new(
                ErrorCode::SavedSearchNotFound,
                format!("There is no saved search {id} in this case. It may have been deleted."),
            )
        })
}

fn row_to_saved_search(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedSearch> {
    Ok(SavedSearch { id: r.get(0)?, name: r.get(1)?, query: r.get(2)?, created_at: iso_ms(r.get(3)?) })
}

fn saved_search_name_taken(conn: &Connection, name: &str, except: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT name FROM saved_search WHERE name = ?1 COLLATE NOCASE AND id <> ?2")?
        .query_row(params![name, except], |r| r.get(0))
        .optional()?)
}

/// `name` as typed after `tag:` (quoted when it has spaces or ends like a prefix search).
fn tag_query_text(name: &str) -> String {
    if name.contains(char::is_whitespace) || name.ends_with('*') {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

fn tag_exists_error(name: &str) -> Error {
    Error::new(
        ErrorCode::TagExists,
        format!("There is already a tag named \"{name}\". Use that tag, or choose another name."),
    )
}

fn saved_search_exists_error(name: &str) -> Error {
    Error::new(
        ErrorCode::SavedSearchExists,
        format!("There is already a saved search named \"{name}\". Choose another name, or delete the old one first."),
    )
}

impl CaseWriter {
    /// Runs `f` in one transaction and appends one case-log entry describing it.
    fn annotate<T>(
        &mut self,
        f: impl FnOnce(&Connection, i64) -> Result<(T, &'static str, String, serde_json::Value)>,
    ) -> Result<T> {
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let (out, action, summary, details) = f(&tx, now)?;
        append_log(&tx, now, &self.operator, action, &summary, &details, None)?;
        tx.commit()?;
        Ok(out)
    }

    /// Creates a tag. Names are unique ignoring case.
    pub fn create_tag(&mut self, name: &str, color: &str) -> Result<Tag> {
        let name = check_tag_name(name)?.to_owned();
        let color = check_color(color)?;
        self.annotate(|tx, now| {
            if let Some(existing) = tag_name_taken(tx, &name, -1)? {
                return Err(tag_exists_error(&existing));
            }
            tx.execute("INSERT INTO tag (name, color, created_ms) VALUES (?1, ?2, ?3)", params![name, color, now])?;
            let tag = load_tag(tx, tx.last_insert_rowid())?;
            let details = serde_json::json!({ "tag_id": tag.id, "name": tag.name, "color": tag.color });
            Ok((tag, "tag.created", format!("Tag \"{name}\" created ({color})"), details))
        })
    }

    /// Renames a tag; `tag:` queries then use the new name, and saved searches that name the old one
    /// (`tag:old`, `tag:"old name"`, `-tag:old`, any case) are rewritten in the same transaction. The
    /// case-log entry lists each rewritten search with its old and new query.
    pub fn rename_tag(&mut self, id: i64, name: &str) -> Result<Tag> {
        let name = check_tag_name(name)?.to_owned();
        self.annotate(|tx, _| {
            let old = load_tag(tx, id)?;
            if let Some(existing) = tag_name_taken(tx, &name, id)? {
                return Err(tag_exists_error(&existing));
            }
            tx.execute("UPDATE tag SET name = ?1 WHERE id = ?2", params![name, id])?;
            let tag = load_tag(tx, id)?;
            let mut rewritten = Vec::new();
            {
                let mut st = tx.prepare_cached("SELECT id, name, query, created_ms FROM saved_search ORDER BY id")?;
                let saved = st.query_map([], row_to_saved_search)?.collect::<rusqlite::Result<Vec<_>>>()?;
                let mut update = tx.prepare_cached("UPDATE saved_search SET query = ?1 WHERE id = ?2")?;
                for s in saved {
                    if let Some(query) = rename_tag_in_query(&s.query, &old.name, &name) {
                        update.execute(params![query, s.id])?;
                        rewritten.push((s, query));
                    }
                }
            }
            let mut summary = format!("Tag \"{}\" renamed to \"{name}\"", old.name);
            if !rewritten.is_empty() {
                let names: Vec<String> = rewritten.iter().map(|(s, _)| format!("\"{}\"", s.name)).collect();
                summary.push_str(&format!(
                    "; saved {} {} now {} tag:{}",
                    if names.len() == 1 { "search" } else { "searches" },
                    names.join(", "),
                    if names.len() == 1 { "searches for" } else { "search for" },
                    tag_query_text(&name),
                ));
            }
            let searches: Vec<serde_json::Value> = rewritten
                .iter()
                .map(|(s, q)| serde_json::json!({ "saved_search_id": s.id, "name": s.name, "old_query": s.query, "query": q }))
                .collect();
            let details =
                serde_json::json!({ "tag_id": id, "old_name": old.name, "name": tag.name, "saved_searches": searches });
            Ok((tag, "tag.renamed", summary, details))
        })
    }

    /// Changes a tag's colour.
    pub fn recolor_tag(&mut self, id: i64, color: &str) -> Result<Tag> {
        let color = check_color(color)?;
        self.annotate(|tx, _| {
            let old = load_tag(tx, id)?;
            tx.execute("UPDATE tag SET color = ?1 WHERE id = ?2", params![color, id])?;
            let tag = load_tag(tx, id)?;
            let details =
                serde_json::json!({ "tag_id": id, "name": tag.name, "old_color": old.color, "color": tag.color });
            Ok((tag, "tag.recolored", format!("Tag \"{}\" recoloured {} → {color}", old.name, old.color), details))
        })
    }

    /// Deletes a tag and removes it from every event; returns how many events lost it. The case log keeps
    /// the tag's name, colour and that count.
    pub fn delete_tag(&mut self, id: i64) -> Result<i64> {
        self.annotate(|tx, _| {
            let old = load_tag(tx, id)?;
            let removed = tx.execute("DELETE FROM event_tag WHERE tag_id = ?1", [id])? as i64;
            tx.execute("DELETE FROM tag WHERE id = ?1", [id])?;
            let details =
                serde_json::json!({ "tag_id": id, "name": old.name, "color": old.color, "events_removed": removed });
            Ok((removed, "tag.deleted", format!("Tag \"{}\" deleted; it was on {removed} events", old.name), details))
        })
    }

    /// Puts a tag on the given events (all must exist; events that already carry it are unchanged).
    pub fn tag_events(&mut self, tag_id: i64, event_ids: &[String]) -> Result<TagChange> {
        self.change_events(tag_id, event_ids, true)
    }

    /// Takes a tag off the given events.
    pub fn untag_events(&mut self, tag_id: i64, event_ids: &[String]) -> Result<TagChange> {
        self.change_events(tag_id, event_ids, false)
    }

    fn change_events(&mut self, tag_id: i64, event_ids: &[String], add: bool) -> Result<TagChange> {
        self.annotate(|tx, now| {
            let name = load_tag(tx, tag_id)?.name;
            let ids = existing_events(tx, event_ids)?;
            let mut changed = 0i64;
            {
                let mut st = tx.prepare_cached(if add {
                    "INSERT OR IGNORE INTO event_tag (event_id, tag_id, created_ms) VALUES (?1, ?2, ?3)"
                } else {
                    "DELETE FROM event_tag WHERE event_id = ?1 AND tag_id = ?2 AND ?3 IS NOT NULL"
                })?;
                for id in &ids {
                    changed += st.execute(params![id, tag_id, now])? as i64;
                }
            }
            let tag = load_tag(tx, tag_id)?;
            let ids_text: Vec<String> = ids.iter().map(i64::to_string).collect();
            let details =
                serde_json::json!({ "tag_id": tag_id, "name": name, "event_ids": ids_text, "changed": changed });
            let (action, summary) = if add {
                ("tag.applied", format!("Tag \"{name}\" put on {changed} of {} selected events", ids.len()))
            } else {
                ("tag.removed", format!("Tag \"{name}\" taken off {changed} of {} selected events", ids.len()))
            };
            Ok((TagChange { tag, changed }, action, summary, details))
        })
    }

    /// Puts a tag on every event matching a query, in one statement and one transaction.
    /// `query_text` is what the investigator typed (for the case log); `query` is it parsed.
    pub fn tag_query(&mut self, tag_id: i64, query_text: &str, query: &Query) -> Result<TagChange> {
        self.change_query(tag_id, query_text, query, true)
    }

    /// Takes a tag off every event matching a query.
    pub fn untag_query(&mut self, tag_id: i64, query_text: &str, query: &Query) -> Result<TagChange> {
        self.change_query(tag_id, query_text, query, false)
    }

    fn change_query(&mut self, tag_id: i64, query_text: &str, query: &Query, add: bool) -> Result<TagChange> {
        self.annotate(|tx, now| {
            let name = load_tag(tx, tag_id)?.name;
            let p = plan(query);
            let where_ = if p.where_.is_empty() { String::new() } else { format!("WHERE {}", p.where_.join(" AND ")) };
            // The tag id and time come first in the statement text, so they are the first `?` values.
            let mut values = Vec::with_capacity(p.params.len() + 2);
            let sql = if add {
                values.extend([SqlValue::Integer(tag_id), SqlValue::Integer(now)]);
                format!(
                    "INSERT OR IGNORE INTO event_tag (event_id, tag_id, created_ms) SELECT {id}, ?, ? FROM {from} {where_} ORDER BY {id}",
                    id = p.id_col,
                    from = p.sql_from
                )
            } else {
                values.push(SqlValue::Integer(tag_id));
                format!(
                    "DELETE FROM event_tag WHERE tag_id = ? AND event_id IN (SELECT {id} FROM {from} {where_})",
                    id = p.id_col,
                    from = p.sql_from
                )
            };
            values.extend(p.params);
            let changed = tx.prepare(&sql)?.execute(params_from_iter(values.iter())).map_err(fts_error)?
                as i64;
            let tag = load_tag(tx, tag_id)?;
            let details = serde_json::json!({ "tag_id": tag_id, "name": name, "query": query_text, "changed": changed, "events_with_tag": tag.events });
            let shown = if query_text.trim().is_empty() { "all events".to_owned() } else { format!("events matching `{}`", query_text.trim()) };
            let (action, summary) = if add {
                ("tag.applied", format!("Tag \"{name}\" put on {changed} {shown}"))
            } else {
                ("tag.removed", format!("Tag \"{name}\" taken off {changed} {shown}"))
            };
            Ok((TagChange { tag, changed }, action, summary, details))
        })
    }

    /// Bookmarks an event, or removes its bookmark; returns whether it is bookmarked now.
    pub fn toggle_bookmark(&mut self, event_id: &str) -> Result<bool> {
        let id = parse_event_id(event_id)?;
        self.annotate(|tx, now| {
            let removed = tx.execute("DELETE FROM bookmark WHERE event_id = ?1", [id])? > 0;
            if removed {
                let details = serde_json::json!({ "event_id": id.to_string() });
                return Ok((false, "bookmark.removed", format!("Bookmark removed from event {id}"), details));
            }
            existing_events(tx, &[id.to_string()])?;
            tx.execute("INSERT INTO bookmark (event_id, created_ms) VALUES (?1, ?2)", params![id, now])?;
            let details = serde_json::json!({ "event_id": id.to_string(), "event_time": iso_ms(key_ms(id)) });
            Ok((true, "bookmark.added", format!("Event {id} bookmarked"), details))
        })
    }

    /// Writes a note on one event.
    pub fn add_event_note(&mut self, event_id: &str, body: &str) -> Result<Note> {
        let body = check_body(body)?.to_owned();
        self.annotate(|tx, now| {
            let id = existing_events(tx, &[event_id.to_owned()])?[0];
            tx.execute(
                "INSERT INTO note (event_id, body, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3)",
                params![id, body, now],
            )?;
            let note = load_note(tx, tx.last_insert_rowid())?;
            let details = serde_json::json!({ "note_id": note.id, "event_id": id.to_string(), "body": body });
            Ok((note, "note.created", format!("Note written on event {id}"), details))
        })
    }

    /// Writes a note on a time range (Unix ms, both ends inclusive).
    pub fn add_range_note(&mut self, start_ms: i64, end_ms: i64, body: &str) -> Result<Note> {
        let body = check_body(body)?.to_owned();
        if !(MIN_MS..=MAX_MS).contains(&start_ms) || !(MIN_MS..=MAX_MS).contains(&end_ms) {
            return Err(invalid("The time range is outside the years 1970–2200. Select a range on the timeline."));
        }
        if start_ms > end_ms {
            return Err(invalid("The time range ends before it starts. Select the range again."));
        }
        self.annotate(|tx, now| {
            tx.execute(
                "INSERT INTO note (start_ms, end_ms, body, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![start_ms, end_ms, body, now],
            )?;
            let note = load_note(tx, tx.last_insert_rowid())?;
            let (start, end) = (iso_ms(start_ms), iso_ms(end_ms));
            let details = serde_json::json!({ "note_id": note.id, "start": start, "end": end, "body": body });
            Ok((note, "note.created", format!("Note written on {start} – {end}"), details))
        })
    }

    /// Replaces a note's text. The case log keeps the old text.
    pub fn edit_note(&mut self, id: i64, body: &str) -> Result<Note> {
        let body = check_body(body)?.to_owned();
        self.annotate(|tx, now| {
            let old = load_note(tx, id)?;
            tx.execute("UPDATE note SET body = ?1, updated_ms = ?2 WHERE id = ?3", params![body, now, id])?;
            let note = load_note(tx, id)?;
            let details = serde_json::json!({ "note_id": id, "event_id": old.event_id, "start": old.start, "end": old.end, "old_body": old.body, "body": body });
            Ok((note, "note.edited", format!("Note {id} edited"), details))
        })
    }

    /// Deletes a note. The case log keeps its text.
    pub fn delete_note(&mut self, id: i64) -> Result<()> {
        self.annotate(|tx, _| {
            let old = load_note(tx, id)?;
            tx.execute("DELETE FROM note WHERE id = ?1", [id])?;
            let details = serde_json::json!({ "note_id": id, "event_id": old.event_id, "start": old.start, "end": old.end, "body": old.body });
            Ok(((), "note.deleted", format!("Note {id} deleted"), details))
        })
    }

    /// Saves a search under a name. The query must be one Tidemark understands.
    pub fn save_search(&mut self, name: &str, query_text: &str) -> Result<SavedSearch> {
        let name = check_name(name, "saved search")?.to_owned();
        Query::parse(query_text)?;
        let query_text = query_text.trim().to_owned();
        self.annotate(|tx, now| {
            if let Some(existing) = saved_search_name_taken(tx, &name, -1)? {
                return Err(saved_search_exists_error(&existing));
            }
            tx.execute(
                "INSERT INTO saved_search (name, query, created_ms) VALUES (?1, ?2, ?3)",
                params![name, query_text, now],
            )?;
            let saved = load_saved_search(tx, tx.last_insert_rowid())?;
            let details = serde_json::json!({ "saved_search_id": saved.id, "name": name, "query": query_text });
            Ok((saved, "saved_search.created", format!("Search saved as \"{name}\": `{query_text}`"), details))
        })
    }

    /// Renames a saved search.
    pub fn rename_saved_search(&mut self, id: i64, name: &str) -> Result<SavedSearch> {
        let name = check_name(name, "saved search")?.to_owned();
        self.annotate(|tx, _| {
            let old = load_saved_search(tx, id)?;
            if let Some(existing) = saved_search_name_taken(tx, &name, id)? {
                return Err(saved_search_exists_error(&existing));
            }
            tx.execute("UPDATE saved_search SET name = ?1 WHERE id = ?2", params![name, id])?;
            let saved = load_saved_search(tx, id)?;
            let details = serde_json::json!({ "saved_search_id": id, "old_name": old.name, "name": name });
            Ok((saved, "saved_search.renamed", format!("Saved search \"{}\" renamed to \"{name}\"", old.name), details))
        })
    }

    /// Deletes a saved search. The case log keeps its name and query.
    pub fn delete_saved_search(&mut self, id: i64) -> Result<()> {
        self.annotate(|tx, _| {
            let old = load_saved_search(tx, id)?;
            tx.execute("DELETE FROM saved_search WHERE id = ?1", [id])?;
            let details = serde_json::json!({ "saved_search_id": id, "name": old.name, "query": old.query });
            Ok(((), "saved_search.deleted", format!("Saved search \"{}\" deleted", old.name), details))
        })
    }
}

impl CaseReader {
    /// Every tag with its event count, by name (ignoring case).
    pub fn tags(&self) -> Result<Vec<Tag>> {
        let mut st = self.conn.prepare_cached(
            "SELECT t.id, t.name, t.color, t.created_ms, (SELECT count(*) FROM event_tag WHERE tag_id = t.id) \
             FROM tag t ORDER BY t.name COLLATE NOCASE, t.id",
        )?;
        let rows = st.query_map([], row_to_tag)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The tag with this name (ignoring case), if any.
    pub fn tag_by_name(&self, name: &str) -> Result<Option<Tag>> {
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM tag WHERE name = ?1 COLLATE NOCASE ORDER BY id LIMIT 1")?
            .query_row([name.trim()], |r| r.get(0))
            .optional()?;
        id.map(|id| load_tag(&self.conn, id)).transpose()
    }

    /// Every bookmark in time order, with its event.
    pub fn bookmarks(&self) -> Result<Vec<Bookmark>> {
        let sql = format!(
            "SELECT b.event_id, b.created_ms, e.id IS NOT NULL, {COLS} FROM bookmark b \
             LEFT JOIN event e ON e.id = b.event_id ORDER BY b.event_id"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map([], |r| {
                let event_id: i64 = r.get(0)?;
                let present: bool = r.get(2)?;
                Ok(Bookmark {
                    event_id: event_id.to_string(),
                    created_at: iso_ms(r.get(1)?),
                    event: if present { Some(row_to_event_from(r, 3)?) } else { None },
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Every note, in timeline order (an event note at its event's time, a range note at its start),
    /// then by number.
    pub fn notes(&self) -> Result<Vec<Note>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, event_id, start_ms, end_ms, body, created_ms, updated_ms FROM note ORDER BY id",
        )?;
        let mut notes: Vec<Note> = st.query_map([], row_to_note)?.collect::<rusqlite::Result<_>>()?;
        notes.sort_by_key(|n| (note_time(n), n.id));
        Ok(notes)
    }

    /// Every saved search, by name (ignoring case).
    pub fn saved_searches(&self) -> Result<Vec<SavedSearch>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, name, query, created_ms FROM saved_search ORDER BY name COLLATE NOCASE, id")?;
        let rows = st.query_map([], row_to_saved_search)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// What is attached to each of these events (tags, bookmark, notes), one entry per id in the order
    /// given. Ids that name no event get an empty entry.
    pub fn event_annotations(&self, event_ids: &[String]) -> Result<Vec<EventAnnotations>> {
        let mut tags_st =
            self.conn.prepare_cached("SELECT tag_id FROM event_tag WHERE event_id = ?1 ORDER BY tag_id")?;
        let mut mark_st = self.conn.prepare_cached("SELECT 1 FROM bookmark WHERE event_id = ?1")?;
        let mut notes_st = self.conn.prepare_cached(
            "SELECT id, event_id, start_ms, end_ms, body, created_ms, updated_ms FROM note WHERE event_id = ?1 ORDER BY id",
        )?;
        let mut out = Vec::with_capacity(event_ids.len());
        for text in event_ids {
            let Ok(id) = text.trim().parse::<i64>() else {
                out.push(EventAnnotations {
                    event_id: text.clone(),
                    tag_ids: Vec::new(),
                    bookmarked: false,
                    notes: Vec::new(),
                });
                continue;
            };
            out.push(EventAnnotations {
                event_id: id.to_string(),
                tag_ids: tags_st.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?,
                bookmarked: mark_st.exists([id])?,
                notes: notes_st.query_map([id], row_to_note)?.collect::<rusqlite::Result<_>>()?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use std::sync::Arc;

    fn case() -> (tempfile::TempDir, CaseWriter) {
        let dir = tempfile::tempdir().unwrap();
        let w = CaseWriter::create(&dir.path().join("a.tidemark"), "a", Arc::new(FixedClock(1_700_000_000_000)), "t")
            .unwrap();
        (dir, w)
    }

    #[test]
    fn names_and_colours_are_checked() {
        assert_eq!(check_color(" #AbCdEf ").unwrap(), "#abcdef");
        for bad in ["red", "#abc", "#abcdeg", "abcdef1"] {
            assert_eq!(check_color(bad).unwrap_err().code, ErrorCode::AnnotationInvalid, "{bad}");
        }
        assert_eq!(check_tag_name("  BEC wave ").unwrap(), "BEC wave");
        for bad in ["", "   ", "a\"b", "---", "a\nb", &"x".repeat(65)] {
            assert_eq!(check_tag_name(bad).unwrap_err().code, ErrorCode::AnnotationInvalid, "{bad:?}");
        }
    }

    #[test]
    fn tags_are_unique_ignoring_case_and_every_change_is_logged() {
        let (_dir, mut w) = case();
        let t = w.create_tag("Phish", "#FF0000").unwrap();
        assert_eq!((t.name.as_str(), t.color.as_str(), t.events), ("Phish", "#ff0000", 0));
        assert_eq!(w.create_tag("phish", "#00ff00").unwrap_err().code, ErrorCode::TagExists);
        let other = w.create_tag("Noise", DEFAULT_TAG_COLOR).unwrap();
        assert_eq!(w.rename_tag(other.id, "PHISH").unwrap_err().code, ErrorCode::TagExists);
        assert_eq!(w.rename_tag(t.id, "phish").unwrap().name, "phish", "a tag may change its own case");
        assert_eq!(w.recolor_tag(t.id, "#00ff00").unwrap().color, "#00ff00");
        assert_eq!(w.delete_tag(t.id).unwrap(), 0);
        assert_eq!(w.delete_tag(t.id).unwrap_err().code, ErrorCode::TagNotFound);
        let r = w.reader().unwrap();
        let names: Vec<String> = r.tags().unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names, vec!["Noise"]);
        let actions: Vec<String> = r.log_entries().unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            vec!["case.created", "tag.created", "tag.created", "tag.renamed", "tag.recolored", "tag.deleted"]
        );
        assert!(r.verify_log().unwrap().is_empty());
    }

    #[test]
    fn notes_and_saved_searches_validate_and_log_old_text() {
        let (_dir, mut w) = case();
        assert_eq!(w.add_range_note(10, 5, "x").unwrap_err().code, ErrorCode::AnnotationInvalid);
        assert_eq!(w.add_range_note(5, 10, " \n").unwrap_err().code, ErrorCode::AnnotationInvalid);
        assert_eq!(w.add_event_note("42", "x").unwrap_err().code, ErrorCode::EventNotFound);
        let n = w.add_range_note(1_000, 2_000, "first <b>text</b>").unwrap();
        assert_eq!((n.start_ms, n.end_ms, n.event_id.as_deref()), (Some(1_000), Some(2_000), None));
        let n2 = w.edit_note(n.id, "second").unwrap();
        assert_eq!(n2.body, "second");
        w.delete_note(n.id).unwrap();
        assert_eq!(w.delete_note(n.id).unwrap_err().code, ErrorCode::NoteNotFound);
        assert_eq!(w.save_search("x", "acter:bob").unwrap_err().code, ErrorCode::QueryInvalid);
        let s = w.save_search("Rules", " action:rule ").unwrap();
        assert_eq!(s.query, "action:rule");
        assert_eq!(w.save_search("RULES", "x").unwrap_err().code, ErrorCode::SavedSearchExists);
        assert_eq!(w.rename_saved_search(s.id, "Inbox rules").unwrap().name, "Inbox rules");
        w.delete_saved_search(s.id).unwrap();
        assert_eq!(w.delete_saved_search(s.id).unwrap_err().code, ErrorCode::SavedSearchNotFound);
        let log = w.reader().unwrap().log_entries().unwrap();
        let edited = log.iter().find(|e| e.action == "note.edited").unwrap();
        assert_eq!(edited.details["old_body"], "first <b>text</b>");
        let deleted = log.iter().find(|e| e.action == "note.deleted").unwrap();
        assert_eq!(deleted.details["body"], "second");
        let deleted = log.iter().find(|e| e.action == "saved_search.deleted").unwrap();
        assert_eq!(deleted.details["query"], "action:rule");
    }
}
