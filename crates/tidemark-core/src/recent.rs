//! The list of recently opened cases, kept as a small JSON file in the app's config folder.
//!
//! Only paths, names and counts are stored there: never case content and never secrets.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::RecentCase;
use crate::time::iso_ms;

/// How many cases the list keeps.
pub const MAX_RECENT: usize = 12;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    cases: Vec<RecentCase>,
}

/// Recently opened cases, stored at a path the caller chooses.
#[derive(Debug)]
pub struct RecentCases {
    path: PathBuf,
    stored: Stored,
}

impl RecentCases {
    /// Loads the list; a missing or unreadable file is an empty list.
    pub fn load(path: &Path) -> Self {
        let stored = std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        Self { path: path.to_path_buf(), stored }
    }

    /// The list, newest first, with `exists` refreshed.
    pub fn list(&self) -> Vec<RecentCase> {
        self.stored.cases.iter().map(|c| RecentCase { exists: Path::new(&c.path).exists(), ..c.clone() }).collect()
    }

    /// Moves a case to the top of the list and saves it.
    pub fn touch(&mut self, case_path: &Path, name: &str, events: i64, now_ms: i64) -> std::io::Result<()> {
        let key = case_path.display().to_string();
        self.stored.cases.retain(|c| c.path != key);
        self.stored.cases.insert(
            0,
            RecentCase { path: key, name: name.to_owned(), events, last_opened: iso_ms(now_ms), exists: true },
        );
        self.stored.cases.truncate(MAX_RECENT);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.stored)?)?;
        std::fs::rename(tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_without_duplicates_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("config/recent-cases.json");
        let mut r = RecentCases::load(&store);
        assert!(r.list().is_empty());
        let existing = dir.path().join("a.tidemark");
        std::fs::write(&existing, b"x").unwrap();
        r.touch(&existing, "A", 10, 1_000).unwrap();
        for i in 0..MAX_RECENT + 3 {
            r.touch(&dir.path().join(format!("gone{i}.tidemark")), "gone", 0, 2_000 + i as i64).unwrap();
        }
        r.touch(&existing, "A again", 11, 9_000).unwrap();
        let list = RecentCases::load(&store).list();
        assert_eq!(list.len(), MAX_RECENT);
        assert_eq!((list[0].name.as_str(), list[0].events, list[0].exists), ("A again", 11, true));
        assert_eq!(list[0].last_opened, "1970-01-01T00:00:09.000Z");
        assert!(!list[1].exists);
        assert_eq!(list.iter().filter(|c| c.path == existing.display().to_string()).count(), 1);
    }
}
