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
