// The case's annotations (tags, bookmarks, notes, saved searches) as one reactive store, shared by the
// annotations panel, the detail pane and the export dialog. Every change goes through the engine
// (which writes the case log); the store then reloads what changed.

import type { Bookmark, ErrorBody, Note, SavedSearch, Tag } from "./bindings";
import * as backend from "./backend";

export class AnnotationStore {
  tags = $state<Tag[]>([]);
  bookmarks = $state<Bookmark[]>([]);
  notes = $state<Note[]>([]);
  saved = $state<SavedSearch[]>([]);
  loaded = $state(false);
  error = $state<ErrorBody | null>(null);
  /** Bumped after every change, so views of one event's annotations reload. */
  revision = $state(0);

  async refresh(): Promise<void> {
    try {
      const [tags, bookmarks, notes, saved] = await Promise.all([backend.tagList(), backend.bookmarkList(), backend.noteList(), backend.savedSearchList()]);
      this.tags = tags;
      this.bookmarks = bookmarks;
      this.notes = notes;
      this.saved = saved;
      this.loaded = true;
      this.error = null;
    } catch (e) {
      this.error = backend.toErrorBody(e);
    }
  }

  async refreshTags(): Promise<void> {
    this.tags = await backend.tagList();
  }

  tagById(id: number): Tag | undefined {
    return this.tags.find((t) => t.id === id);
  }

  /** Runs a change, then reloads the lists it touches. Rejects with an ErrorBody. */
  async change<T>(op: () => Promise<T>, reload: ("tags" | "bookmarks" | "notes" | "saved")[]): Promise<T> {
    let out: T;
    try {
      out = await op();
    } catch (e) {
      throw backend.toErrorBody(e);
    }
    this.revision++;
    try {
      await Promise.all(
        reload.map(async (what) => {
          if (what === "tags") this.tags = await backend.tagList();
          else if (what === "bookmarks") this.bookmarks = await backend.bookmarkList();
          else if (what === "notes") this.notes = await backend.noteList();
          else this.saved = await backend.savedSearchList();
        }),
      );
    } catch (e) {
      this.error = backend.toErrorBody(e);
    }
    return out;
  }
}
