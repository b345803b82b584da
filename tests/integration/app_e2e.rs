//! The real desktop app in a real webview: tauri-driver + WebKitWebDriver under Xvfb.
//!
//! A case is made with the CLI from a fixture, the app is started with the case path as its argument,
//! and each test drives it the way an investigator would, checking what the app shows against the
//! engine's own answers and the files on disk:
//! - search narrows the rows to exactly the engine's answer, a row opens its detail;
//! - search → facet → detail → pivot → tag → export of the tagged events to a typed path (the CSV, its
//!   row count and the manifest's SHA-256 checked on disk);
//! - the mailbox activity view over imported legacy Outlook Activities CSVs (sessions, typed searches,
//!   the legacy reports) and its "Show in timeline";
//! - HTML/script payloads in subjects, rule names and user agents stay text everywhere (nothing runs,
//!   no element from evidence), and the CSP in `tauri.conf.json` is strict.
//!
//! Screenshots go to `target/screenshots/e2e-*.png`. Needs a display (`xvfb-run`), `tauri-driver` and
//! `WebKitWebDriver`; skipped without a display unless `CI` is set, where it must run.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use sha2::{Digest, Sha256};
use tidemark_core::model::SortOrder;
use tidemark_core::{CaseReader, Query};
use tidemark_tests::{binary, fixture, repo_root};

/// tauri-driver, stopped when dropped (shared with `app_collect_e2e`).
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGTERM lets tauri-driver stop WebKitWebDriver too; SIGKILL would orphan it on the port.
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn screenshots_dir() -> PathBuf {
    let d = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Makes the page paint a few frames (a 1 px corner toggled for about two seconds). Without a GPU the
/// app paints without compositing (`choose_linux_rendering` in src-tauri), and there WebKitWebDriver
/// takes a screenshot at the next presented frame: on a page where nothing changes it would wait forever.
pub(crate) async fn make_frames(c: &Client) {
    const SCRIPT: &str = "let d = document.getElementById('e2e-frames'); \
        if (!d) { d = document.createElement('div'); d.id = 'e2e-frames'; \
          d.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;opacity:0.01'; \
          document.body.appendChild(d); } \
        let n = 0; const f = () => { d.style.background = n % 2 ? '#000' : '#fff'; if (++n < 120) requestAnimationFrame(f); }; \
        requestAnimationFrame(f); return 1;";
    let _ = c.execute(SCRIPT, vec![]).await;
}

pub(crate) async fn shot(c: &Client, name: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    make_frames(c).await;
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(screenshots_dir().join(format!("e2e-{name}.png")), png);
    }
}

async fn row_ids(c: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    if let Ok(rows) = c.find_all(Locator::Css("[data-testid=timeline-row]")).await {
        for r in rows {
            if let Ok(Some(id)) = r.attr("data-event-id").await {
                ids.push(id);
            }
        }
    }
    ids
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

fn make_case(dir: &Path) -> PathBuf {
    make_case_from(dir, "E2E demo", &["ual-demo.jsonl"])
}

/// A case named `name` with the fixtures imported by the CLI, as an investigator's colleague would.
fn make_case_from(dir: &Path, name: &str, fixtures: &[&str]) -> PathBuf {
    let case = dir.join("e2e.tidemark");
    let cli = binary("tidemark");
    let ok = Command::new(&cli)
        .args(["case", "new", case.to_str().unwrap(), "--name", name])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let mut import = Command::new(&cli);
    import.args(["import", case.to_str().unwrap()]);
    for f in fixtures {
        import.arg(fixture(f));
    }
    assert!(import.stdout(Stdio::null()).status().unwrap().success());
    case
}

/// Whether the real app can be driven here: a display is needed (CI must have one).
pub(crate) fn have_display() -> bool {
    if std::env::var_os("DISPLAY").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run this test under xvfb-run");
        eprintln!("SKIP: no DISPLAY (run under xvfb-run)");
        return false;
    }
    true
}

/// tauri-driver on a free port (stopped when dropped) and the port; the app it starts sees `env`.
pub(crate) fn start_driver(config_dir: &Path, env: &[(&str, &str)]) -> (Driver, u16) {
    let port = free_port();
    let native = free_port();
    let driver = Driver(
        Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("TIDEMARK_CONFIG_DIR", config_dir)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("tauri-driver is installed by scripts/setup"),
    );
    (driver, port)
}

/// A WebDriver session of the real app opened on `case`, once its case view is on screen.
pub(crate) async fn open_app(port: u16, case: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": binary("tidemark-app"), "args": [case.to_str().unwrap()] }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let c = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=case-view]"))
        .await
        .expect("case view");
    c
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

pub(crate) async fn el(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

pub(crate) async fn click(c: &Client, css: &str) {
    el(c, css).await.click().await.unwrap_or_else(|e| panic!("could not click {css}: {e}"));
}

/// The rendered text of the first element matching `css` ("" when there is none).
pub(crate) async fn text_of(c: &Client, css: &str) -> String {
    let script = format!("const e = document.querySelector({css:?}); return e ? e.innerText : '';");
    c.execute(&script, vec![]).await.ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Runs a script in the page and returns its JSON answer.
async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// The search box's text.
async fn search_text(c: &Client) -> String {
    js(c, "return document.querySelector('[data-testid=search-input]').value").await.as_str().unwrap_or("").to_owned()
}

/// Types a search and presses Enter.
async fn search(c: &Client, query: &str) {
    let input = el(c, "[data-testid=search-input]").await;
    input.click().await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(query).await.unwrap();
    input.send_keys("\u{E007}").await.unwrap(); // Enter
}

/// The number of matching events the status bar shows ("1,204 of 5,000 events" → 1204).
async fn status_matching(c: &Client) -> Option<i64> {
    let t = text_of(c, "[data-testid=status-count]").await;
    let digits: String = t.split(" of ").next().unwrap_or("").chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Waits until the status bar counts what the engine counts for the search box's query, and returns
/// the query and that count.
async fn wait_status_is_engine_count(c: &Client, reader: &CaseReader) -> (String, i64) {
    let mut last = (String::new(), -1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let q = search_text(c).await;
        let want = reader.count(&Query::parse(&q).unwrap()).unwrap().matching;
        if status_matching(c).await == Some(want) {
            return (q, want);
        }
        last = (q, want);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the status bar never showed the engine's count {} for {:?}", last.1, last.0);
}

/// Sets a `<select>` the way a person picking an option does (value, then `change`).
async fn choose_option(c: &Client, css: &str, value: &str) {
    let script = format!(
        "const s = document.querySelector({css:?}); s.value = {value:?}; s.dispatchEvent(new Event('change', {{ bubbles: true }})); return s.value;",
        css = css,
        value = value
    );
    assert_eq!(js(c, &script).await.as_str(), Some(value), "option {value} of {css}");
}

/// Records in a CSV file (quoted fields may hold line breaks), the header included.
fn csv_records(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let (mut records, mut quoted, mut in_record) = (0, false, false);
    for ch in text.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                in_record = true;
            }
            '\n' if !quoted => {
                if in_record {
                    records += 1;
                }
                in_record = false;
            }
            '\r' if !quoted => {}
            _ => in_record = true,
        }
    }
    records + usize::from(in_record)
}

#[test]
fn the_app_opens_a_case_narrows_rows_by_search_and_shows_detail() {
    if !have_display() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let case = make_case(dir.path());
    let reader = CaseReader::open(&case).unwrap();
    let query = "op:New-InboxRule";
    let q = Query::parse(query).unwrap();
    let expected: Vec<String> =
        reader.page(&q, SortOrder::Desc, None, 1000).unwrap().rows.into_iter().map(|r| r.id).collect();
    assert!(!expected.is_empty() && expected.len() < 40, "fixture should have a handful of rule events");
    let total = reader.count(&Query::all()).unwrap().matching;

    let (driver, port) = start_driver(&dir.path().join("config"), &[]);
    runtime().block_on(async {
        // The case passed on the command line opens straight into the timeline.
        let c = open_app(port, &case).await;
        wait_until("rows are shown", || async { !row_ids(&c).await.is_empty() }).await;
        let status = c.find(Locator::Css("[data-testid=status-count]")).await.unwrap();
        let total_text = format!("{total}");
        wait_until("the status bar shows the event count", || {
            let status = status.clone();
            let total_text = total_text.clone();
            async move {
                status
                    .text()
                    .await
                    .unwrap_or_default()
                    .replace([',', '.', ' ', '\u{a0}', '\u{202f}'], "")
                    .contains(&total_text)
            }
        })
        .await;
        shot(&c, "1-case-open").await;

        // Searching narrows the rows to exactly what the engine returns.
        let input = c.find(Locator::Css("[data-testid=search-input]")).await.unwrap();
        input.click().await.unwrap();
        input.send_keys(query).await.unwrap();
        input.send_keys("\u{E007}").await.unwrap(); // Enter
        let want: HashSet<String> = expected.iter().cloned().collect();
        wait_until("the rows are exactly the matching events", || {
            let want = want.clone();
            let c = &c;
            async move {
                let got: HashSet<String> = row_ids(c).await.into_iter().collect();
                got == want
            }
        })
        .await;
        shot(&c, "2-search").await;

        // Selecting a row shows its normalized fields and the original record as text.
        let first = c
            .find(Locator::Css(&format!("[data-testid=timeline-row][data-event-id=\"{}\"]", expected[0])))
            .await
            .unwrap();
        first.click().await.unwrap();
        let detail = reader.event(&expected[0]).unwrap();
        let pane = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("[data-testid=detail-pane]"))
            .await
            .unwrap();
        wait_until("the detail pane shows the record", || {
            let pane = pane.clone();
            let key = detail.record_key.clone();
            async move { pane.text().await.unwrap_or_default().contains(&key) }
        })
        .await;
        let raw = c.find(Locator::Css("[data-testid=detail-raw]")).await.unwrap();
        let raw_text = raw.text().await.unwrap();
        assert!(raw_text.contains("\"Operation\": \"New-InboxRule\""), "{raw_text}");
        // Markup in the evidence is text, never elements.
        let injected =
            c.find_all(Locator::Css("[data-testid=detail-pane] img, [data-testid=timeline] img")).await.unwrap();
        assert!(injected.is_empty(), "evidence text was rendered as HTML");
        shot(&c, "3-detail").await;
        c.close().await.unwrap();
    });
    drop(driver);
}

/// The investigator's main path: search, narrow by a facet, open an event, pivot to its IP address, tag
/// what the pivot found, and export the tagged events as CSV to a path typed in the export dialog. The
/// file on disk has one row per tagged event and the manifest beside it has the file's SHA-256.
#[test]
fn search_facet_detail_pivot_tag_and_export_the_tagged_events_to_a_typed_path() {
    if !have_display() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let case = make_case(dir.path());
    let reader = CaseReader::open(&case).unwrap();
    let out_dir = dir.path().join("exports");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("attacker ip.csv");
    let (driver, port) = start_driver(&dir.path().join("config"), &[]);
    runtime().block_on(async {
        let c = open_app(port, &case).await;
        wait_until("rows are shown", || async { !row_ids(&c).await.is_empty() }).await;

        // 1. Search, then click the most frequent IP address in the facets.
        search(&c, "op:MailItemsAccessed").await;
        let (_, reads) = wait_status_is_engine_count(&c, &reader).await;
        assert!(reads > 20, "the demo case has many reads ({reads})");
        let facets_for = format!("Top values of the {reads} matching");
        wait_until("the facets are those of the search", || async {
            let text = text_of(&c, "[data-testid=facets-panel]").await.replace([',', '.', '\u{a0}', '\u{202f}'], "");
            text.contains(&facets_for)
                && js(&c, "return document.querySelector('.fields.stale') === null").await == true
        })
        .await;
        let value = el(&c, "[data-testid=facet][data-field=client_ip] [data-testid=facet-value]").await;
        let filter = value.attr("data-filter").await.unwrap().expect("a facet value carries its filter");
        value.click().await.unwrap();
        wait_until("the facet's filter is in the search", || {
            let c = &c;
            let filter = filter.clone();
            async move { search_text(c).await.contains(&filter) }
        })
        .await;
        let (faceted, n) = wait_status_is_engine_count(&c, &reader).await;
        assert!(n > 0 && n < reads, "{faceted}: {n} of {reads}");
        assert_eq!(faceted, format!("op:MailItemsAccessed {filter}"));
        shot(&c, "a1-facet").await;

        // 2. Open the first event's details.
        wait_until("rows of the facet's search are shown", || async { !row_ids(&c).await.is_empty() }).await;
        let first = row_ids(&c).await[0].clone();
        click(&c, &format!("[data-testid=timeline-row][data-event-id=\"{first}\"]")).await;
        let event = reader.event(&first).unwrap();
        let ip = event.event.client_ip.clone().expect("a MailItemsAccessed record has an IP address");
        wait_until("the detail pane shows the event", || {
            let c = &c;
            let key = event.record_key.clone();
            async move { text_of(c, "[data-testid=detail-pane]").await.contains(&key) }
        })
        .await;
        shot(&c, "a2-detail").await;

        // 3. Pivot to everything from the same IP address (every operation, not only reads).
        click(&c, "[data-testid=pivot][data-pivot=ip]").await;
        wait_until("the search is the IP address", || {
            let c = &c;
            let want = format!("ip:\"{ip}\"");
            async move { search_text(c).await == want }
        })
        .await;
        let (pivot, in_session) = wait_status_is_engine_count(&c, &reader).await;
        assert!(in_session >= n, "{pivot}: {in_session} events; the facet counted {n} reads from it");
        let expected: HashSet<String> = reader
            .page(&Query::parse(&pivot).unwrap(), SortOrder::Asc, None, 1000)
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(expected.len() as i64, in_session);
        assert!(expected.contains(&first));
        if in_session <= 20 {
            wait_until("the rows are exactly the IP address's events", || {
                let c = &c;
                let want = expected.clone();
                async move { row_ids(c).await.into_iter().collect::<HashSet<_>>() == want }
            })
            .await;
        }
        shot(&c, "a3-pivot").await;

        // 4. Tag the open event with a new tag, then every event from the IP address with it.
        let tag = "Attacker IP";
        click(&c, "[data-testid=detail-tag]").await;
        let name = el(&c, "[data-testid=tag-picker] [data-testid=tag-new-name]").await;
        name.send_keys(tag).await.unwrap();
        click(&c, "[data-testid=tag-picker] [data-testid=tag-new-create]").await;
        wait_until("the event shows its new tag", || async {
            text_of(&c, "[data-testid=detail-tags]").await.contains(tag)
        })
        .await;
        let q_tag = Query::parse(&format!("tag:\"{tag}\"")).unwrap();
        assert_eq!(reader.count(&q_tag).unwrap().matching, 1);
        click(&c, "[data-testid=tab-annotations]").await;
        click(&c, "[data-testid=tag-query]").await;
        click(&c, &format!("[data-testid=tag-pick][data-tag=\"{tag}\"]")).await;
        wait_until("the panel says how many events were tagged", || async {
            text_of(&c, "[data-testid=annotations-done]").await.starts_with("Tagged")
        })
        .await;
        assert_eq!(reader.count(&q_tag).unwrap().matching, in_session, "the tag is on every event from the IP address");
        shot(&c, "a4-tagged").await;

        // 5. Export the tagged events as CSV to a path typed in the dialog.
        click(&c, "[data-testid=export-open]").await;
        el(&c, "[data-testid=export-dialog]").await;
        let typed_default = js(&c, "return document.querySelector('[data-testid=export-path]').value").await;
        let case_dir = case.parent().unwrap().display().to_string();
        assert!(
            typed_default.as_str().is_some_and(|p| p.starts_with(&case_dir) && p.ends_with(".csv")),
            "the destination starts beside the case file: {typed_default}"
        );
        click(&c, "[data-testid=export-scope-tagged]").await;
        choose_option(&c, "[data-testid=export-scope-tag]", tag).await;
        click(&c, "[data-testid=export-format-csv]").await;
        // A folder that does not exist is refused in words before anything is written.
        let path_input = el(&c, "[data-testid=export-path]").await;
        path_input.clear().await.unwrap();
        path_input.send_keys(&dir.path().join("no such folder").join("x.csv").display().to_string()).await.unwrap();
        wait_until("the dialog says the folder does not exist", || async {
            text_of(&c, "[data-testid=export-path-problem]").await.contains("does not exist")
        })
        .await;
        shot(&c, "a5-export-missing-folder").await;
        path_input.clear().await.unwrap();
        path_input.send_keys(&out.display().to_string()).await.unwrap();
        wait_until("the typed path is accepted", || async {
            c.find(Locator::Css("[data-testid=export-path-problem]")).await.is_err()
                && el(&c, "[data-testid=export-start]").await.is_enabled().await.unwrap_or(false)
        })
        .await;
        let label = text_of(&c, "[data-testid=export-start]").await;
        assert!(label.starts_with("Export ") && label.contains(&in_session.to_string()), "{label}");
        shot(&c, "a5-export-dialog").await;
        click(&c, "[data-testid=export-start]").await;
        let result = c
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("[data-testid=export-result]"))
            .await
            .expect("the export finishes");
        shot(&c, "a6-export-saved").await;
        let shown_path = text_of(&c, "[data-testid=export-file-path]").await;
        let shown_sha = text_of(&c, "[data-testid=export-file-sha]").await;
        let said = text_of(&c, "[data-testid=export-result]").await;
        assert!(result.is_displayed().await.unwrap_or(true));
        assert!(said.contains(&format!("Saved {in_session} row")), "the result says the row count: {said}");
        c.close().await.unwrap();

        // On disk: the file, its rows, and the manifest beside it with the file's SHA-256.
        assert_eq!(shown_path, out.display().to_string());
        let bytes = std::fs::read(&out).expect("the export file is on disk");
        assert_eq!(csv_records(&bytes) as i64, in_session + 1, "a header and one row per tagged event");
        let sha = hex::encode(Sha256::digest(&bytes));
        assert_eq!(shown_sha, sha, "the dialog shows the file's SHA-256");
        let manifest_path = out_dir.join("attacker ip.csv.manifest.json");
        let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
        assert_eq!(manifest["rows"], in_session);
        assert_eq!(manifest["format"], "csv");
        assert_eq!(manifest["files"][0]["path"], out.display().to_string());
        assert_eq!(manifest["files"][0]["sha256"], sha);
        assert_eq!(manifest["scope"]["kind"], "tagged");
        assert_eq!(manifest["scope"]["tag"], tag);
        // Every exported event is one from the IP address.
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.matches(ip.as_str()).count() >= in_session as usize, "each row names the IP address");
        // The export is in the case log.
        let log = reader.log_entries().unwrap();
        assert!(log
            .iter()
            .any(|e| e.action.starts_with("export") && e.details.to_string().contains("attacker ip.csv")));
    });
    drop(driver);
}

/// The mailbox activity view over imported legacy Outlook Activities CSVs (what the retriever wrote for
/// Adele's mailbox, and another mailbox's file): her sessions, the search typed keystroke by keystroke,
/// the legacy reads-by-time and searches reports, and "Show in timeline" selecting that event there.
#[test]
fn the_mailbox_view_shows_sessions_typed_searches_and_legacy_reports_of_an_activities_csv() {
    if !have_display() {
        return;
    }
    const ADELE: &str = "adele.vance@contoso.example";
    let dir = tempfile::tempdir().unwrap();
    let case = make_case_from(
        dir.path(),
        "BEC at Contoso (legacy Activities)",
        &["activities/bec-adele-retriever.csv", "activities/bec-megan-retriever.csv"],
    );
    let reader = CaseReader::open(&case).unwrap();
    let scope = tidemark_core::mailbox::MailboxScope::parse(ADELE, None, None).unwrap();
    let page = reader.mailbox_page(&scope, None, 1000).unwrap();
    assert!(page.sessions.len() >= 3 && page.next.is_none());
    let (driver, port) = start_driver(&dir.path().join("config"), &[]);
    runtime().block_on(async {
        let c = open_app(port, &case).await;
        wait_until("rows are shown", || async { !row_ids(&c).await.is_empty() }).await;

        click(&c, "[data-testid=tab-mailbox]").await;
        el(&c, "[data-testid=mailbox-intro]").await;
        let input = el(&c, "[data-testid=mailbox-input]").await;
        input.send_keys(ADELE).await.unwrap();
        click(&c, "[data-testid=mailbox-show]").await;
        el(&c, "[data-testid=mailbox-stream]").await;
        let sessions = page.sessions.len();
        let entries = page.entries.len();
        wait_until("every session and entry of the engine's answer is shown", || async {
            let s = c.find_all(Locator::Css("[data-testid=mailbox-session]")).await.map(|v| v.len()).unwrap_or(0);
            let e = c.find_all(Locator::Css("[data-testid=mailbox-entry]")).await.map(|v| v.len()).unwrap_or(0);
            s == sessions && e == entries
        })
        .await;
        let summary = text_of(&c, "[data-testid=mailbox-summary]").await;
        assert!(summary.contains(ADELE) && summary.contains(&format!("{sessions} sessions")), "{summary}");
        // The intruder's search, as typed, and the new IP it came from.
        let typed = text_of(&c, "[data-testid=entry-typed]").await;
        let keys: Vec<&str> = typed.split(|ch: char| !ch.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        assert_eq!(keys, ["typed", "i", "in", "inv", "invo", "invoice"], "{typed}");
        assert!(!c.find_all(Locator::Css("[data-testid=session-new-ip]")).await.unwrap().is_empty());
        assert!(text_of(&c, "[data-testid=mailbox-stream]").await.contains("198.51.100.77"));
        // Another mailbox's rows never show here.
        assert!(!text_of(&c, "[data-testid=mailbox-stream]").await.contains("Lunch?"));
        js(&c, "document.querySelector('[data-testid=session-new-ip]').closest('[data-testid=mailbox-session]').scrollIntoView({block: 'start'}); return 1").await;
        shot(&c, "b1-mailbox-sessions").await;

        // The legacy reports: reads by time and searches, with the engine's rows.
        for (kind, name) in [
            (tidemark_core::model::ReportKind::ReadsByTime, "reads-by-time"),
            (tidemark_core::model::ReportKind::Searches, "searches"),
        ] {
            let want = reader.mailbox_report(&scope, kind, None, 1000).unwrap();
            assert!(!want.rows.is_empty(), "{name} has rows");
            click(&c, &format!("[data-testid=mailbox-tab-{name}]")).await;
            let n = want.rows.len();
            wait_until("the report's rows are shown", || async {
                c.find_all(Locator::Css(&format!("[data-testid=report-table][data-kind={name}] [data-testid=report-row]")))
                    .await
                    .map(|v| v.len())
                    .unwrap_or(0)
                    == n
            })
            .await;
            let header = text_of(&c, &format!("[data-testid=report-table][data-kind={name}] thead")).await;
            for col in &want.columns {
                assert!(header.contains(col.as_str()), "{name}: column {col} in {header}");
            }
            shot(&c, &format!("b2-report-{name}")).await;
        }

        // "Show in timeline": the Timeline tab, around that moment, with the entry's event selected.
        click(&c, "[data-testid=mailbox-tab-stream]").await;
        let reply = page.entries.iter().find(|e| e.operation == "Reply").expect("the intruder replied");
        let entry_css = format!("[data-testid=mailbox-entry][data-entry-id=\"{}\"]", reply.id);
        click(&c, &entry_css).await;
        el(&c, "[data-testid=mailbox-view] [data-testid=detail-pane]").await;
        js(&c, &format!("document.querySelector('{}').scrollIntoView({{block: 'center'}}); return 1", entry_css.replace('\'', "\\'"))).await;
        click(&c, &format!("{entry_css} + [data-testid=entry-show-timeline]")).await;
        let selected = format!("[data-testid=timeline-row][data-event-id=\"{}\"][aria-selected=true]", reply.id);
        wait_until("the event is the selected row of the timeline", || async { c.find(Locator::Css(&selected)).await.is_ok() }).await;
        assert!(search_text(&c).await.starts_with("after:2018-05-14T14:11:00.000Z before:2018-05-14T14:21:00.000Z"));
        wait_status_is_engine_count(&c, &reader).await;
        wait_until("the timeline's detail pane shows it", || async {
            text_of(&c, "[data-testid=case-view] [data-testid=detail-pane]").await.contains("Reply")
        })
        .await;
        shot(&c, "b3-show-in-timeline").await;
        c.close().await.unwrap();
    });
    drop(driver);
}

/// What the XSS test looks for after every screen: nothing ran, and no element came from evidence.
async fn assert_nothing_ran(c: &Client, where_: &str) {
    let pwned = js(c, "return typeof window.__pwned === 'undefined' ? null : String(window.__pwned)").await;
    assert!(pwned.is_null(), "{where_}: a payload ran (window.__pwned = {pwned})");
    // Inside the views that show evidence, no element of these kinds exists at all (the UI draws none
    // there); anywhere in the page, none that a payload would make.
    let found = js(
        c,
        "const views = '[data-testid=timeline], [data-testid=detail-pane], [data-testid=mailbox-view], [data-testid=facets-panel], [data-testid=sidebar], [data-testid=case-home]';
         const inViews = 'img, svg, script, iframe, object, embed, style, meta, link, a[href]';
         const anywhere = '[onerror], [onload], [onclick], [onmouseover], [href^=javascript], [src^=javascript], img[src=x], iframe, object, embed, meta[http-equiv=refresh]';
         const bad = [];
         for (const root of document.querySelectorAll(views)) for (const e of root.querySelectorAll(inViews)) bad.push(e.outerHTML.slice(0, 120));
         for (const e of document.querySelectorAll(anywhere)) bad.push(e.outerHTML.slice(0, 120));
         for (const e of document.querySelectorAll('script')) if ((e.textContent || '').includes('pwned')) bad.push(e.outerHTML.slice(0, 120));
         return bad;",
    )
    .await;
    assert_eq!(found, serde_json::json!([]), "{where_}: elements from evidence");
}

/// HTML and script in subjects, folder paths, inbox-rule parameters, a forwarding address, search text
/// and user agents (`tests/fixtures/ual-xss.jsonl`) stay text in the real app: the timeline, the detail
/// pane and the mailbox view show them as typed, nothing runs and no element is made from them. The CSP
/// the app ships with is strict.
#[test]
fn html_and_script_in_records_stay_text_in_the_real_app_under_a_strict_csp() {
    // The shipped CSP: scripts only from the app itself, no eval, no plugins, no frames, no base or forms.
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("tauri.conf.json")).unwrap()).unwrap();
    let csp = conf["app"]["security"]["csp"].as_str().expect("tauri.conf.json sets a CSP");
    let directives: std::collections::HashMap<&str, Vec<&str>> = csp
        .split(';')
        .filter_map(|d| {
            let mut parts = d.split_whitespace();
            parts.next().map(|name| (name, parts.collect()))
        })
        .collect();
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(directives.get("script-src"), Some(&vec!["'self'"]), "{csp}");
    assert_eq!(directives.get("default-src"), Some(&vec!["'self'"]), "{csp}");
    for (d, v) in [("object-src", "'none'"), ("base-uri", "'none'"), ("form-action", "'none'"), ("frame-src", "'none'")]
    {
        assert_eq!(directives.get(d), Some(&vec![v]), "{d} in {csp}");
    }
    assert!(
        directives.values().flatten().all(|v| !v.starts_with("http") || v == &"http://ipc.localhost"),
        "no remote sources: {csp}"
    );
    assert!(conf["app"]["withGlobalTauri"] == false, "no global Tauri object for injected code to call");
    if !have_display() {
        return;
    }

    const MALLORY: &str = "mallory.victim@contoso.example";
    let dir = tempfile::tempdir().unwrap();
    let case = make_case_from(dir.path(), "Payloads <img src=x onerror=\"window.__pwned=10\">", &["ual-xss.jsonl"]);
    let reader = CaseReader::open(&case).unwrap();
    let q = Query::parse("pwned").unwrap();
    let expected: Vec<String> =
        reader.page(&q, SortOrder::Asc, None, 100).unwrap().rows.into_iter().map(|r| r.id).collect();
    assert_eq!(expected.len(), 8, "every record of the fixture carries a payload");
    let (driver, port) = start_driver(&dir.path().join("config"), &[]);
    runtime().block_on(async {
        let c = open_app(port, &case).await;
        wait_until("rows are shown", || async { !row_ids(&c).await.is_empty() }).await;
        assert!(text_of(&c, "[data-testid=case-name]").await.contains("<img src=x"), "the case name is text");
        assert_nothing_ran(&c, "case opened").await;

        // Search for the payloads: every record, shown as text in the rows.
        search(&c, "pwned").await;
        let want: HashSet<String> = expected.iter().cloned().collect();
        wait_until("the rows are exactly the payload records", || {
            let c = &c;
            let want = want.clone();
            async move { row_ids(c).await.into_iter().collect::<HashSet<_>>() == want }
        })
        .await;
        let timeline = text_of(&c, "[data-testid=timeline]").await;
        assert!(timeline.contains("\"><svg onload=\"window.__pwned=3\">"), "the subject is shown as typed: {timeline}");
        shot(&c, "c1-xss-timeline").await;
        assert_nothing_ran(&c, "timeline").await;

        // Open every record's details: fields, user agent, rule parameters and the raw record.
        for id in &expected {
            click(&c, &format!("[data-testid=timeline-row][data-event-id=\"{id}\"]")).await;
            let key = reader.event(id).unwrap().record_key;
            wait_until("the detail pane shows the record", || async {
                text_of(&c, "[data-testid=detail-pane]").await.contains(&key)
            })
            .await;
            let op = reader.event(id).unwrap().event.operation;
            if op == "New-InboxRule" {
                let pane = text_of(&c, "[data-testid=detail-pane]").await;
                assert!(
                    pane.contains("mallory.victim@contoso.example\\<img src=x onerror=\"window.__pwned=1\">")
                        && pane.contains("<script>window.__pwned=2</script>"),
                    "the rule's object and user agent are text: {pane}"
                );
                shot(&c, "c2-xss-detail-rule").await;
            }
            if op == "UserLoggedIn" && text_of(&c, "[data-testid=detail-pane]").await.contains("<script>") {
                shot(&c, "c3-xss-detail-user-agent").await;
            }
            assert_nothing_ran(&c, &format!("detail of {op}")).await;
        }
        let raw = text_of(&c, "[data-testid=detail-raw]").await;
        assert!(raw.contains("window.__pwned"), "the raw record is shown verbatim: {raw}");

        // The mailbox view of the same mailbox: sessions with the payload user agents, rule, forwarding.
        click(&c, "[data-testid=tab-mailbox]").await;
        let input = el(&c, "[data-testid=mailbox-input]").await;
        input.send_keys(MALLORY).await.unwrap();
        click(&c, "[data-testid=mailbox-show]").await;
        el(&c, "[data-testid=mailbox-stream]").await;
        wait_until("the mailbox's entries are shown", || async {
            c.find_all(Locator::Css("[data-testid=mailbox-entry]")).await.map(|v| v.len()).unwrap_or(0) >= 7
        })
        .await;
        let stream = text_of(&c, "[data-testid=mailbox-stream]").await;
        assert!(stream.contains("<script>window.__pwned=2</script>"), "the user agent is text: {stream}");
        assert!(stream.contains("Name=<img src=x onerror=\"window.__pwned=1\">"), "the rule name is text");
        assert!(stream.contains("<iframe src=\"javascript:window.__pwned=6\"></iframe>"), "the search text is text");
        shot(&c, "c4-xss-mailbox").await;
        for e in c.find_all(Locator::Css("[data-testid=mailbox-entry]")).await.unwrap() {
            e.click().await.unwrap();
        }
        el(&c, "[data-testid=mailbox-view] [data-testid=detail-pane]").await;
        assert_nothing_ran(&c, "mailbox view").await;
        // Case home names the case and its file: text too.
        click(&c, "[data-testid=tab-home]").await;
        wait_until("Case home shows the case's name", || async {
            text_of(&c, "[data-testid=home-case-name]").await.contains("onerror")
        })
        .await;
        assert_nothing_ran(&c, "case home").await;
        c.close().await.unwrap();
    });
    drop(driver);
}

/// Where an address is from, in the real app: the timeline's Network column, the detail pane's IP card
/// and the IP country and IP network facets all say what the engine's IP context says.
#[test]
fn the_app_shows_where_an_address_is_from_in_timeline_detail_and_facets() {
    if !have_display() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let case = make_case(dir.path());
    let reader = CaseReader::open(&case).unwrap();
    // An event whose address the data places in a country and a network.
    let rows = reader.page(&Query::all(), SortOrder::Asc, None, 1000).unwrap().rows;
    let ev = rows
        .iter()
        .find(|r| r.ip.as_ref().is_some_and(|i| i.country.is_some() && i.network.is_some()))
        .expect("the demo fixture has public addresses")
        .clone();
    let info = ev.ip.clone().unwrap();
    let (country, network, ip) = (info.country.unwrap(), info.network.unwrap(), ev.client_ip.clone().unwrap());
    let query = format!("ip:\"{ip}\"");

    let (driver, port) = start_driver(&dir.path().join("config"), &[]);
    runtime().block_on(async {
        let c = open_app(port, &case).await;
        wait_until("rows are shown", || async { !row_ids(&c).await.is_empty() }).await;
        // The facets list the IP country and network of the whole case.
        wait_until("the facets show IP country and IP network", || async {
            let t = text_of(&c, "[data-testid=facets-panel]").await;
            t.contains("IP country") && t.contains("IP network")
        })
        .await;
        search(&c, &query).await;
        let row = format!("[data-testid=timeline-row][data-event-id=\"{}\"]", ev.id);
        wait_until("the row shows its country and network", || async {
            let t = text_of(&c, &row).await;
            t.contains(&format!("{country} · ")) && t.contains(&network[..network.len().min(12)])
        })
        .await;
        shot(&c, "ip-1-timeline").await;
        click(&c, &row).await;
        el(&c, "[data-testid=ip-card]").await;
        wait_until("the IP card names the country and network", || async {
            text_of(&c, "[data-testid=ip-card-country]").await.contains(&format!("({country})"))
                && text_of(&c, "[data-testid=ip-card-network]").await.contains(&network)
        })
        .await;
        let credit = text_of(&c, "[data-testid=ip-card-credit]").await;
        assert!(credit.contains("CC BY 4.0"), "{credit}");
        js(&c, "document.querySelector('[data-testid=ip-card]').scrollIntoView(); return true;").await;
        shot(&c, "ip-2-detail").await;
        c.close().await.unwrap();
    });
    drop(driver);
}
