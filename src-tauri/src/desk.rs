//! The app's state: which case is open, the recent-cases list, and what the app was started with.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use tidemark_core::case::default_operator;
use tidemark_core::model::{AppInfo, CaseSummary};
use tidemark_core::recent::RecentCases;
use tidemark_core::{Clock, Error, ErrorBody, ErrorCode, OpenCase, SystemClock, TOOL_VERSION};

/// What the window is working on. Cheap to clone: clones share the same state.
#[derive(Debug, Clone)]
pub struct Desk(Arc<Inner>);

/// The shared state behind [`Desk`].
#[derive(Debug)]
pub struct Inner {
    current: RwLock<Option<Arc<OpenCase>>>,
    recent: Mutex<RecentCases>,
    demo_case: Option<PathBuf>,
    initial_case: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    operator: String,
}

fn body(e: &Error) -> ErrorBody {
    ErrorBody::from(e)
}

impl Desk {
    /// A desk with the recent-cases list in `config_dir`.
    pub fn new(config_dir: &Path, demo_case: Option<PathBuf>, initial_case: Option<PathBuf>) -> Self {
        Self(Arc::new(Inner {
            current: RwLock::new(None),
            recent: Mutex::new(RecentCases::load(&config_dir.join("recent-cases.json"))),
            demo_case,
            initial_case,
            clock: Arc::new(SystemClock),
            operator: default_operator(),
        }))
    }

    /// Start-up facts for the UI.
    pub fn app_info(&self) -> AppInfo {
        self.0.app_info()
    }

    /// Closes the current case.
    pub fn close(&self) {
        self.0.close();
    }

    /// The open case's file, for work that opens its own connection (collection).
    pub fn case_path(&self) -> Result<PathBuf, ErrorBody> {
        Ok(self.0.case()?.path().to_path_buf())
    }

    /// `case.busy` while an import writes to the open case (a collection would wait on it).
    pub fn refuse_while_importing(&self) -> Result<(), ErrorBody> {
        if self.0.case()?.writer_busy() {
            return Err(body(&Error::new(
                ErrorCode::CaseBusy,
                "An import is writing to this case, so the collection did not start. Start it again when the import has finished.",
            )));
        }
        Ok(())
    }

    /// Who the case log names as the operator.
    pub fn operator(&self) -> String {
        self.0.operator.clone()
    }

    /// Runs `f` with the desk on a blocking thread, so SQLite and file work never stall the window.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ErrorBody>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, Error> + Send + 'static,
    {
        let inner = self.0.clone();
        tauri::async_runtime::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| body(&Error::internal(format!("background task failed: {e}"))))?
            .map_err(|e| body(&e))
    }

    /// Runs `f` with the open case on a blocking thread.
    pub async fn with_case<T, F>(&self, f: F) -> Result<T, ErrorBody>
    where
        T: Send + 'static,
        F: FnOnce(&OpenCase) -> Result<T, Error> + Send + 'static,
    {
        let case = self.0.case()?;
        tauri::async_runtime::spawn_blocking(move || f(&case))
            .await
            .map_err(|e| body(&Error::internal(format!("background task failed: {e}"))))?
            .map_err(|e| body(&e))
    }
}

impl Inner {
    /// Start-up facts for the UI.
    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            version: TOOL_VERSION.to_owned(),
            demo_case: self.demo_case.as_ref().map(|p| p.display().to_string()),
            initial_case: self.initial_case.as_ref().map(|p| p.display().to_string()),
            recent: self.recent.lock().map(|r| r.list()).unwrap_or_default(),
        }
    }

    fn adopt(&self, case: OpenCase) -> Result<CaseSummary, Error> {
        let summary = case.summary()?;
        if let Ok(mut r) = self.recent.lock() {
            // The list is a convenience: failing to save it must not fail opening the case.
            let _ = r.touch(case.path(), &summary.name, summary.events, self.clock.now_ms());
        }
        if let Ok(mut cur) = self.current.write() {
            *cur = Some(Arc::new(case));
        }
        Ok(summary)
    }

    /// Creates a case and makes it current.
    pub fn create(&self, path: PathBuf, name: &str) -> Result<CaseSummary, Error> {
        let path = if path.extension().is_none() { path.with_extension("tidemark") } else { path };
        self.adopt(OpenCase::create(&path, name, self.clock.clone(), &self.operator)?)
    }

    /// Opens a case and makes it current.
    pub fn open(&self, path: &Path) -> Result<CaseSummary, Error> {
        self.adopt(OpenCase::open(path, self.clock.clone(), &self.operator)?)
    }

    /// Closes the current case.
    pub fn close(&self) {
        if let Ok(mut cur) = self.current.write() {
            *cur = None;
        }
    }

    fn case(&self) -> Result<Arc<OpenCase>, ErrorBody> {
        self.current
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(|| body(&Error::new(ErrorCode::CaseNoneOpen, "No case is open. Open or create a case first.")))
    }
}
