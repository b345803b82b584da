//! Tidemark's desktop app: the only crate that knows Tauri.
//!
//! Every command is a thin adapter: it takes the open case from [`Desk`], calls the engine
//! (`tidemark-core`) on a blocking thread so the window never stalls, and returns the engine's result
//! or its error as `{code, message, detail}` for the UI to branch on.

mod collecting;
mod desk;

use std::path::{Path, PathBuf};

use tauri::{Emitter, Manager, State};
use tidemark_core::facets::{FacetPrecision, DEFAULT_TOP};
use tidemark_core::model::{
    AppInfo, Bookmark, CaseSummary, EventAnnotations, EventDetail, Facets, Histogram, ImportReport, Note, Page,
    SavedSearch, SearchCount, SortOrder, Tag, TagChange,
};
use tidemark_core::model::{ExportOptions, ExportRequest, ExportResult};
use tidemark_core::{ErrorBody, TOOL_VERSION};

pub use collecting::Collecting;
pub use desk::Desk;

type Reply<T> = Result<T, ErrorBody>;

#[tauri::command]
async fn app_info(desk: State<'_, Desk>) -> Reply<AppInfo> {
    Ok(desk.app_info())
}

#[tauri::command]
async fn case_create(
    desk: State<'_, Desk>,
    collecting: State<'_, Collecting>,
    path: String,
    name: String,
) -> Reply<CaseSummary> {
    // Another case takes the window: a running collection stops after its page (Resume continues it).
    collecting.cancel();
    desk.run(move |d| d.create(PathBuf::from(path), &name)).await
}

#[tauri::command]
async fn case_open(desk: State<'_, Desk>, collecting: State<'_, Collecting>, path: String) -> Reply<CaseSummary> {
    // Another case takes the window: a running collection stops after its page (Resume continues it).
    collecting.cancel();
    desk.run(move |d| d.open(Path::new(&path))).await
}

#[tauri::command]
async fn case_summary(desk: State<'_, Desk>) -> Reply<CaseSummary> {
    desk.with_case(|c| c.summary()).await
}

#[tauri::command]
async fn case_close(desk: State<'_, Desk>, collecting: State<'_, Collecting>) -> Reply<()> {
    // Another case takes the window: a running collection stops after its page (Resume continues it).
    collecting.cancel();
    desk.close();
    Ok(())
}

#[tauri::command]
async fn import_files(
    app: tauri::AppHandle,
    desk: State<'_, Desk>,
    collecting: State<'_, Collecting>,
    paths: Vec<String>,
) -> Reply<ImportReport> {
    if collecting.is_running() {
        return Err(ErrorBody::from(&tidemark_core::Error::new(
            tidemark_core::ErrorCode::CaseBusy,
            "A collection is writing to this case, so nothing was imported. Import again when it has finished, or stop it first.",
        )));
    }
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

/// The page that starts at `position` of the result list: the timeline's random access.
#[tauri::command]
async fn search_page_at(
    desk: State<'_, Desk>,
    query: String,
    sort: SortOrder,
    position: u64,
    limit: usize,
) -> Reply<Page> {
    desk.with_case(move |c| c.page_at(&query, sort, position, limit)).await
}

#[tauri::command]
async fn event_detail(desk: State<'_, Desk>, id: String) -> Reply<EventDetail> {
    desk.with_case(move |c| c.event(&id)).await
}

#[tauri::command]
async fn accounts(desk: State<'_, Desk>) -> Reply<Vec<tidemark_core::accounts::AccountSummary>> {
    desk.with_case(move |c| c.accounts()).await
}

#[tauri::command]
async fn account_sessions(
    desk: State<'_, Desk>,
    account: String,
) -> Reply<Vec<tidemark_core::accounts::sessions::AccountSession>> {
    desk.with_case(move |c| c.account_sessions(&account)).await
}

#[tauri::command]
async fn ip_card(desk: State<'_, Desk>, ip: String) -> Reply<Option<tidemark_core::ipinfo::IpCard>> {
    desk.with_case(move |c| c.ip_card(&ip)).await
}

#[tauri::command]
async fn facets(desk: State<'_, Desk>, query: String, top: Option<usize>, exact: Option<bool>) -> Reply<Facets> {
    let precision = if exact == Some(true) { FacetPrecision::Exact } else { FacetPrecision::FAST };
    desk.with_case(move |c| c.facets(&query, top.unwrap_or(DEFAULT_TOP), precision)).await
}

#[tauri::command]
async fn histogram(
    desk: State<'_, Desk>,
    query: String,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
) -> Reply<Histogram> {
    desk.with_case(move |c| c.histogram(&query, start_ms, end_ms)).await
}

#[tauri::command]
async fn tag_list(desk: State<'_, Desk>) -> Reply<Vec<Tag>> {
    desk.with_case(|c| c.tags()).await
}

#[tauri::command]
async fn tag_create(desk: State<'_, Desk>, name: String, color: String) -> Reply<Tag> {
    desk.with_case(move |c| c.tag_create(&name, &color)).await
}

#[tauri::command]
async fn tag_rename(desk: State<'_, Desk>, tag_id: i64, name: String) -> Reply<Tag> {
    desk.with_case(move |c| c.tag_rename(tag_id, &name)).await
}

#[tauri::command]
async fn tag_recolor(desk: State<'_, Desk>, tag_id: i64, color: String) -> Reply<Tag> {
    desk.with_case(move |c| c.tag_recolor(tag_id, &color)).await
}

#[tauri::command]
async fn tag_delete(desk: State<'_, Desk>, tag_id: i64) -> Reply<i64> {
    desk.with_case(move |c| c.tag_delete(tag_id)).await
}

#[tauri::command]
async fn tag_events(desk: State<'_, Desk>, tag_id: i64, event_ids: Vec<String>) -> Reply<TagChange> {
    desk.with_case(move |c| c.tag_events(tag_id, &event_ids)).await
}

#[tauri::command]
async fn untag_events(desk: State<'_, Desk>, tag_id: i64, event_ids: Vec<String>) -> Reply<TagChange> {
    desk.with_case(move |c| c.untag_events(tag_id, &event_ids)).await
}

#[tauri::command]
async fn tag_query(desk: State<'_, Desk>, tag_id: i64, query: String) -> Reply<TagChange> {
    desk.with_case(move |c| c.tag_query(tag_id, &query)).await
}

#[tauri::command]
async fn untag_query(desk: State<'_, Desk>, tag_id: i64, query: String) -> Reply<TagChange> {
    desk.with_case(move |c| c.untag_query(tag_id, &query)).await
}

#[tauri::command]
async fn bookmark_toggle(desk: State<'_, Desk>, event_id: String) -> Reply<bool> {
    desk.with_case(move |c| c.bookmark_toggle(&event_id)).await
}

#[tauri::command]
async fn bookmark_list(desk: State<'_, Desk>) -> Reply<Vec<Bookmark>> {
    desk.with_case(|c| c.bookmarks()).await
}

#[tauri::command]
async fn note_list(desk: State<'_, Desk>) -> Reply<Vec<Note>> {
    desk.with_case(|c| c.notes()).await
}

#[tauri::command]
async fn note_create_event(desk: State<'_, Desk>, event_id: String, body: String) -> Reply<Note> {
    desk.with_case(move |c| c.note_event(&event_id, &body)).await
}

#[tauri::command]
async fn note_create_range(desk: State<'_, Desk>, start_ms: i64, end_ms: i64, body: String) -> Reply<Note> {
    desk.with_case(move |c| c.note_range(start_ms, end_ms, &body)).await
}

#[tauri::command]
async fn note_edit(desk: State<'_, Desk>, note_id: i64, body: String) -> Reply<Note> {
    desk.with_case(move |c| c.note_edit(note_id, &body)).await
}

#[tauri::command]
async fn note_delete(desk: State<'_, Desk>, note_id: i64) -> Reply<()> {
    desk.with_case(move |c| c.note_delete(note_id)).await
}

#[tauri::command]
async fn saved_search_list(desk: State<'_, Desk>) -> Reply<Vec<SavedSearch>> {
    desk.with_case(|c| c.saved_searches()).await
}

#[tauri::command]
async fn saved_search_create(desk: State<'_, Desk>, name: String, query: String) -> Reply<SavedSearch> {
    desk.with_case(move |c| c.saved_search_create(&name, &query)).await
}

#[tauri::command]
async fn saved_search_rename(desk: State<'_, Desk>, saved_search_id: i64, name: String) -> Reply<SavedSearch> {
    desk.with_case(move |c| c.saved_search_rename(saved_search_id, &name)).await
}

#[tauri::command]
async fn saved_search_delete(desk: State<'_, Desk>, saved_search_id: i64) -> Reply<()> {
    desk.with_case(move |c| c.saved_search_delete(saved_search_id)).await
}

#[tauri::command]
async fn event_annotations(desk: State<'_, Desk>, event_ids: Vec<String>) -> Reply<Vec<EventAnnotations>> {
    desk.with_case(move |c| c.event_annotations(&event_ids)).await
}

#[tauri::command]
async fn mailbox_page(
    desk: State<'_, Desk>,
    mailbox: String,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    limit: usize,
) -> Reply<tidemark_core::model::MailboxPage> {
    desk.with_case(move |c| c.mailbox_page(&mailbox, from.as_deref(), to.as_deref(), after.as_deref(), limit)).await
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
async fn mailbox_report(
    desk: State<'_, Desk>,
    mailbox: String,
    from: Option<String>,
    to: Option<String>,
    kind: tidemark_core::model::ReportKind,
    after: Option<String>,
    limit: usize,
) -> Reply<tidemark_core::model::MailboxReport> {
    desk.with_case(move |c| c.mailbox_report(&mailbox, from.as_deref(), to.as_deref(), kind, after.as_deref(), limit))
        .await
}

#[tauri::command]
async fn mailbox_report_csv(
    desk: State<'_, Desk>,
    mailbox: String,
    from: Option<String>,
    to: Option<String>,
    kind: tidemark_core::model::ReportKind,
    path: String,
) -> Reply<tidemark_core::model::ReportExport> {
    desk.with_case(move |c| c.mailbox_report_csv(&mailbox, from.as_deref(), to.as_deref(), kind, Path::new(&path)))
        .await
}

/// The case log (chain of custody), oldest first, with the entries that break its hash chain.
#[tauri::command]
async fn case_log(desk: State<'_, Desk>) -> Reply<tidemark_core::session::CaseLog> {
    desk.with_case(|c| c.case_log()).await
}

// ---- Export destination typed by hand (the export dialog's path field) ----

/// Checks a destination typed in the export dialog: a full path in a folder that exists; the format's
/// extension is added when missing. Says in words what is wrong (`export.invalid`), or where the file
/// will go and whether one is already there.
#[tauri::command]
async fn export_destination_check(
    path: String,
    format: tidemark_core::model::ExportFormat,
) -> Reply<tidemark_core::export::ExportDestination> {
    tidemark_core::export::check_destination(&path, format).map_err(|e| ErrorBody::from(&e))
}

// ---- live collection (thin adapters over tidemark-collect; see collecting.rs)

/// Clouds, sign-in methods (one sentence each on when to use it) and sources for the connect wizard.
#[tauri::command]
async fn connect_options() -> Reply<tidemark_collect::view::ConnectOptions> {
    Ok(tidemark_collect::view::connect_options())
}

#[tauri::command]
async fn profile_list(collecting: State<'_, Collecting>) -> Reply<Vec<tidemark_collect::view::ProfileView>> {
    let c = collecting.inner().clone();
    blocking(move || c.profiles()).await
}

/// Saves a connection; `secret` (client secret or PFX password) goes to the OS keychain only.
#[tauri::command]
async fn profile_save(
    collecting: State<'_, Collecting>,
    profile: tidemark_collect::Profile,
    secret: Option<String>,
) -> Reply<tidemark_collect::view::ProfileView> {
    let c = collecting.inner().clone();
    blocking(move || c.save(profile, secret)).await
}

#[tauri::command]
async fn profile_remove(collecting: State<'_, Collecting>, id: String) -> Reply<()> {
    let c = collecting.inner().clone();
    blocking(move || c.remove(&id)).await
}

/// Starts the simulated Microsoft 365 tenant inside the app (training, demos) and saves its profile.
#[tauri::command]
async fn simulated_tenant_start(
    collecting: State<'_, Collecting>,
    method: String,
) -> Reply<tidemark_collect::view::SimulatedTenant> {
    let c = collecting.inner().clone();
    blocking(move || c.start_sim(&method)).await
}

/// Signs in if needed (emitting `sign-in`) and checks each source: token, permission, auditing, subscription.
#[tauri::command]
async fn preflight(
    app: tauri::AppHandle,
    collecting: State<'_, Collecting>,
    profile_id: String,
    sources: Option<Vec<tidemark_collect::Source>>,
) -> Reply<Vec<tidemark_collect::preflight::Check>> {
    let c = collecting.inner().clone();
    c.preflight(app, profile_id, sources).await
}

#[tauri::command]
async fn sign_in_cancel(collecting: State<'_, Collecting>) -> Reply<()> {
    collecting.cancel_sign_in();
    Ok(())
}

#[tauri::command]
async fn collect_defaults(
    collecting: State<'_, Collecting>,
    profile_id: String,
) -> Reply<tidemark_collect::view::CollectDefaults> {
    let c = collecting.inner().clone();
    blocking(move || c.defaults(&profile_id)).await
}

/// Collects into the open case, emitting `collect-progress` after every page; resolves with the report.
#[tauri::command]
async fn collect_start(
    app: tauri::AppHandle,
    desk: State<'_, Desk>,
    collecting: State<'_, Collecting>,
    profile_id: String,
    from_ms: i64,
    to_ms: i64,
    sources: Vec<tidemark_collect::Source>,
) -> Reply<tidemark_collect::run::RunReport> {
    let (path, operator) = (desk.case_path()?, desk.operator());
    desk.refuse_while_importing()?;
    let c = collecting.inner().clone();
    let sources = if sources.is_empty() { None } else { Some(sources) };
    c.collect(app, path, operator, Some(profile_id), Some((from_ms, to_ms)), sources, false).await
}

/// Continues the open case's newest unfinished collection where it stopped.
#[tauri::command]
async fn collect_resume(
    app: tauri::AppHandle,
    desk: State<'_, Desk>,
    collecting: State<'_, Collecting>,
) -> Reply<tidemark_collect::run::RunReport> {
    let (path, operator) = (desk.case_path()?, desk.operator());
    desk.refuse_while_importing()?;
    let c = collecting.inner().clone();
    c.collect(app, path, operator, None, None, None, true).await
}

#[tauri::command]
async fn collect_cancel(collecting: State<'_, Collecting>) -> Reply<()> {
    collecting.cancel();
    Ok(())
}

/// The open case's collection runs, the newest run's coverage map, and whether it can be resumed.
#[tauri::command]
async fn collection_overview(
    desk: State<'_, Desk>,
    collecting: State<'_, Collecting>,
) -> Reply<tidemark_collect::view::CollectionOverview> {
    let path = desk.case_path()?;
    let c = collecting.inner().clone();
    blocking(move || c.overview(&path)).await
}

/// Shows a file the investigator made (an export, a report) in the system's file manager.
#[tauri::command]
async fn reveal_in_folder(app: tauri::AppHandle, path: String) -> Reply<()> {
    use tauri_plugin_opener::OpenerExt;
    let p = PathBuf::from(&path);
    if !p.exists() {
        return Err(ErrorBody::from(&tidemark_core::Error::new(
            tidemark_core::ErrorCode::Io,
            format!("{path} is not there any more (moved or deleted), so it cannot be shown."),
        )));
    }
    app.opener().reveal_item_in_dir(&p).map_err(|e| {
        ErrorBody::from(
            &tidemark_core::Error::new(
                tidemark_core::ErrorCode::Io,
                "The file manager could not be opened. The file is at the path shown.",
            )
            .with_detail(e.to_string()),
        )
    })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Reply<T> + Send + 'static) -> Reply<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| ErrorBody::from(&tidemark_core::Error::internal(format!("background task failed: {e}"))))?
}

/// WebKitGTK composites pages with OpenGL. On a Linux machine without a GPU (a forensic VM, a CI
/// runner) that is Mesa's software renderer, which `scripts/bench-ui` measured far slower than WebKit's
/// own CPU painting on a 10 M-event case (a scrollbar jump p95 188 vs 79 ms, a wheel step 96 vs 16 ms).
/// So where no GPU render node exists compositing is turned off, unless `WEBKIT_DISABLE_COMPOSITING_MODE`
/// was set by hand (`0` keeps it on). Windows (WebView2) and macOS (WKWebView) are not concerned.
///
/// One known quirk of that mode, for automation only: WebKitWebDriver takes a screenshot at the next
/// presented frame, so on a page where nothing repaints the screenshot waits; the E2E tests' `shot`
/// makes a frame first.
#[cfg(target_os = "linux")]
fn choose_linux_rendering() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let gpu = std::fs::read_dir("/dev/dri")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false);
    if !gpu {
        // Before any thread or the webview starts: nothing else reads the environment yet.
        std::env::set_var(VAR, "1");
    }
}

/// Starts the app. The first command-line argument, if any, is a case file to open.
pub fn run() {
    #[cfg(target_os = "linux")]
    choose_linux_rendering();
    let initial_case = std::env::args_os().nth(1).map(PathBuf::from);
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            let config_dir = match std::env::var_os("TIDEMARK_CONFIG_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => app.path().app_config_dir()?,
            };
            let demo_case = std::env::var_os("TIDEMARK_DEMO_CASE").map(PathBuf::from).filter(|p| p.exists());
            app.manage(Desk::new(&config_dir, demo_case, initial_case));
            app.manage(Collecting::new(&config_dir));
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
            search_page_at,
            event_detail,
            ip_card,
            accounts,
            account_sessions,
            facets,
            histogram,
            tag_list,
            tag_create,
            tag_rename,
            tag_recolor,
            tag_delete,
            tag_events,
            untag_events,
            tag_query,
            untag_query,
            bookmark_toggle,
            bookmark_list,
            note_list,
            note_create_event,
            note_create_range,
            note_edit,
            note_delete,
            saved_search_list,
            saved_search_create,
            saved_search_rename,
            saved_search_delete,
            event_annotations,
            mailbox_page,
            mailbox_report,
            mailbox_report_csv,
            case_log,
            export_destination_check,
            connect_options,
            profile_list,
            profile_save,
            profile_remove,
            simulated_tenant_start,
            preflight,
            sign_in_cancel,
            collect_defaults,
            collect_start,
            collect_resume,
            collect_cancel,
            collection_overview,
            reveal_in_folder
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Tidemark could not start its window: {e}");
            std::process::exit(1);
        });
}
