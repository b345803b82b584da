//! Tidemark's desktop app: the only crate that knows Tauri.
//!
//! Every command is a thin adapter: it takes the open case from [`Desk`], calls the engine
//! (`tidemark-core`) on a blocking thread so the window never stalls, and returns the engine's result
//! or its error as `{code, message, detail}` for the UI to branch on.

mod desk;

use std::path::{Path, PathBuf};

use tauri::{Emitter, Manager, State};
use tidemark_core::model::{AppInfo, CaseSummary, EventDetail, ImportReport, Page, SearchCount, SortOrder};
use tidemark_core::model::{ExportOptions, ExportRequest, ExportResult};
use tidemark_core::{ErrorBody, TOOL_VERSION};

pub use desk::Desk;

type Reply<T> = Result<T, ErrorBody>;

#[tauri::command]
async fn app_info(desk: State<'_, Desk>) -> Reply<AppInfo> {
    Ok(desk.app_info())
}

#[tauri::command]
async fn case_create(desk: State<'_, Desk>, path: String, name: String) -> Reply<CaseSummary> {
    desk.run(move |d| d.create(PathBuf::from(path), &name)).await
}

#[tauri::command]
async fn case_open(desk: State<'_, Desk>, path: String) -> Reply<CaseSummary> {
    desk.run(move |d| d.open(Path::new(&path))).await
}

#[tauri::command]
async fn case_summary(desk: State<'_, Desk>) -> Reply<CaseSummary> {
    desk.with_case(|c| c.summary()).await
}

#[tauri::command]
async fn case_close(desk: State<'_, Desk>) -> Reply<()> {
    desk.close();
    Ok(())
}

#[tauri::command]
async fn import_files(app: tauri::AppHandle, desk: State<'_, Desk>, paths: Vec<String>) -> Reply<ImportReport> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    desk.with_case(move |c| c.import(&paths, &mut |p| drop(app.emit("import-progress", p)))).await
}

#[tauri::command]
async fn import_cancel(desk: State<'_, Desk>) -> Reply<()> {
    desk.with_case(|c| {
        c.cancel_import();
        Ok(())
    })
    .await
}

/// Exports a scope (query, selection, bookmarks, tag) as CSV, JSONL, XLSX or an HTML report, emitting
/// `export-progress` ([`tidemark_core::model::ExportProgress`]) as rows are written.
#[tauri::command]
async fn export_events(app: tauri::AppHandle, desk: State<'_, Desk>, request: ExportRequest) -> Reply<ExportResult> {
    desk.with_case(move |c| c.export(&request, &mut |p| drop(app.emit("export-progress", p)))).await
}

#[tauri::command]
async fn export_cancel(desk: State<'_, Desk>) -> Reply<()> {
    desk.with_case(|c| {
        c.cancel_export();
        Ok(())
    })
    .await
}

/// Columns, presets and formats for the export dialog.
#[tauri::command]
async fn export_options() -> Reply<ExportOptions> {
    Ok(tidemark_core::export::export_options())
}

#[tauri::command]
async fn search_count(desk: State<'_, Desk>, query: String) -> Reply<SearchCount> {
    desk.with_case(move |c| c.count(&query)).await
}

#[tauri::command]
async fn search_page(
    desk: State<'_, Desk>,
    query: String,
    sort: SortOrder,
    after: Option<String>,
    limit: usize,
) -> Reply<Page> {
    desk.with_case(move |c| c.page(&query, sort, after.as_deref(), limit)).await
}

#[tauri::command]
async fn event_detail(desk: State<'_, Desk>, id: String) -> Reply<EventDetail> {
    desk.with_case(move |c| c.event(&id)).await
}

/// Starts the app. The first command-line argument, if any, is a case file to open.
pub fn run() {
    let initial_case = std::env::args_os().nth(1).map(PathBuf::from);
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            let config_dir = match std::env::var_os("TIDEMARK_CONFIG_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => app.path().app_config_dir()?,
            };
            let demo_case = std::env::var_os("TIDEMARK_DEMO_CASE").map(PathBuf::from).filter(|p| p.exists());
            app.manage(Desk::new(&config_dir, demo_case, initial_case));
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.set_title(&format!("Tidemark {TOOL_VERSION}"));
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            case_create,
            case_open,
            case_summary,
            case_close,
            import_files,
            import_cancel,
            export_events,
            export_cancel,
            export_options,
            search_count,
            search_page,
            event_detail
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Tidemark could not start its window: {e}");
            std::process::exit(1);
        });
}
