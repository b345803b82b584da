//! The real desktop app in a real webview: tauri-driver + WebKitWebDriver under Xvfb.
//!
//! A case is made with the CLI from a fixture, the app is started with the case path as its argument,
//! and the test searches, checks that the rows narrowed to exactly the engine's answer, selects a row
//! and reads the detail pane. Screenshots go to `target/screenshots/`.
//! Needs a display (`xvfb-run`), `tauri-driver` and `WebKitWebDriver`; skipped without a display unless
//! `CI` is set, where it must run.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use tidemark_core::model::SortOrder;
use tidemark_core::{CaseReader, Query};
use tidemark_tests::{binary, fixture, repo_root};

struct Driver(Child);

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

fn screenshots_dir() -> PathBuf {
    let d = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn shot(c: &Client, name: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    let case = dir.join("e2e.tidemark");
    let cli = binary("tidemark");
    let ok = Command::new(&cli).args(["case", "new", case.to_str().unwrap(), "--name", "E2E demo"]).status().unwrap();
    assert!(ok.success());
    let ok = Command::new(&cli)
        .args(["import", case.to_str().unwrap(), fixture("ual-demo.jsonl").to_str().unwrap()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    case
}

#[test]
fn the_app_opens_a_case_narrows_rows_by_search_and_shows_detail() {
    if std::env::var_os("DISPLAY").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run this test under xvfb-run");
        eprintln!("SKIP: no DISPLAY (run under xvfb-run)");
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

    let port = free_port();
    let native = free_port();
    let driver = Driver(
        Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("TIDEMARK_CONFIG_DIR", dir.path().join("config"))
            .stdout(Stdio::null())
            .spawn()
            .expect("tauri-driver is installed by scripts/setup"),
    );
    let app = binary("tidemark-app");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app, "args": [case.to_str().unwrap()] }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut client = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.is_none() {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => client = Some(c),
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
        let c = client.unwrap();

        // The case passed on the command line opens straight into the timeline.
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-testid=case-view]"))
            .await
            .expect("case view");
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
