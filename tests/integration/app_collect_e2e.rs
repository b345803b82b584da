//! Live collection in the real app, in a real webview (tauri-driver + WebKitWebDriver under Xvfb):
//! the connect wizard starts the simulated tenant inside the app, signs in with authorization code +
//! PKCE (the app's real loopback listener receives the redirect; only the "browser" is a test
//! opener that follows the sign-in page over HTTP with the sim's published test account), runs the
//! preflight, collects (stopped part-way and resumed), and the case then holds exactly the sim's
//! records, which the timeline shows.
//! Screenshots of the wizard, the preflight, the collection screen and the coverage map go to
//! `target/screenshots/e2e-collect-*.png`.
//! Needs a display, tauri-driver, WebKitWebDriver and a Secret Service (CI: dbus-run-session +
//! scripts/keyring-session); skipped without a display unless `CI` is set.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use tidemark_sim::{ScenarioSpec, Tenant};
use tidemark_tests::binary;

use crate::app_e2e::{
    click, have_display, make_frames, open_app, runtime, screenshots_dir, shot, start_driver, text_of,
};
use crate::collect::stored;

async fn wait_for(c: &Client, css: &str, secs: u64) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(secs))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear within {secs} s: {e}"))
}

/// Every record the simulated tenant's demo scenario holds for the app's default sources: each UAL
/// record (Management + Graph) and the legacy Activities of the scenario's compromised mailbox.
fn sims_record_ids() -> BTreeSet<String> {
    let tenant = Tenant::generate(ScenarioSpec::preset("demo").unwrap());
    let mut ids = BTreeSet::new();
    tenant.for_each_record(|_, r| {
        ids.insert(crate::collect::ual_key(r));
    });
    let victim = tenant.victim().expect("the demo scenario has a compromised mailbox").index;
    ids.extend(tenant.mailbox_activities(victim).into_iter().map(|a| a.id));
    ids
}

#[test]
fn the_app_connects_to_the_simulated_tenant_with_pkce_collects_and_the_timeline_shows_every_record() {
    if !have_display() {
        return;
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run this test with a Secret Service");
        eprintln!("SKIP: no session bus for the keychain (run under dbus-run-session -- scripts/keyring-session)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let case: PathBuf = dir.path().join("collect-e2e.tidemark");
    let ok = Command::new(binary("tidemark"))
        .args(["case", "new", case.to_str().unwrap(), "--name", "Collection E2E"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let want = sims_record_ids();

    let (driver, port) = start_driver(&dir.path().join("config"), &[("TIDEMARK_E2E_FOLLOW_SIGN_IN", "1")]);
    runtime().block_on(async {
        let c = open_app(port, &case).await;
        c.set_window_size(1280, 800).await.ok();

        // Case home → Collect… opens the collection screen, and the wizard since no connection exists.
        click(&c, "[data-testid=tab-home]").await;
        click(&c, "[data-testid=home-collect]").await;
        wait_for(&c, "[data-testid=collection-view]", 20).await;
        wait_for(&c, "[data-testid=wizard]", 20).await;
        shot(&c, "collect-1-wizard-where").await;

        // The simulated tenant, signed in with the browser (authorization code + PKCE).
        click(&c, "[data-testid=wizard-where-sim]").await;
        click(&c, "[data-testid=wizard-next]").await;
        click(&c, "[data-testid=wizard-method-browser]").await;
        click(&c, "[data-testid=wizard-sim-start]").await;
        wait_for(&c, "[data-testid=wizard-sim-account]", 30).await;
        assert!(text_of(&c, "[data-testid=wizard-sim-user]").await.contains('@'), "the sim's test account is shown");
        shot(&c, "collect-2-wizard-sim").await;
        click(&c, "[data-testid=wizard-test]").await;

        // The preflight: the sign-in went through the real loopback listener; every check is listed.
        wait_for(&c, "[data-testid=preflight]", 90).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let summary = loop {
            let s = text_of(&c, "[data-testid=preflight-summary]").await;
            if !s.is_empty() && c.find(Locator::Css("[data-testid=wizard-checking]")).await.is_err() {
                break s;
            }
            assert!(Instant::now() < deadline, "the preflight did not finish");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let rows = c.find_all(Locator::Css("[data-testid=preflight-row]")).await.unwrap();
        assert!(rows.len() >= 3, "a line per source and check, got {}", rows.len());
        let mut row_text = Vec::new();
        for r in &rows {
            row_text.push(r.text().await.unwrap_or_default());
        }
        assert!(
            row_text.iter().any(|t| t.contains("Signed in")),
            "the token check says the sign-in worked: {row_text:?}\nsummary: {summary}"
        );
        shot(&c, "collect-3-preflight").await;
        click(&c, "[data-testid=wizard-save]").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.find(Locator::Css("[data-testid=wizard]")).await.is_ok() {
            assert!(Instant::now() < deadline, "the wizard did not close after saving");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Collect the default range (the scenario's span) from every source of the profile.
        wait_for(&c, "[data-testid=collect-from]", 20).await;
        shot(&c, "collect-4-ready").await;
        click(&c, "[data-testid=collect-start]").await;
        wait_for(&c, "[data-testid=collect-progress]", 30).await;
        shot(&c, "collect-5-collecting").await;

        // Stop part-way, then Resume: what was stored stays, and nothing is read twice.
        click(&c, "[data-testid=collect-stop]").await;
        wait_for(&c, "[data-testid=collect-stopped]", 60).await;
        let (partial, _) = stored(&case);
        assert!(partial.len() < want.len(), "the collection stopped before the end ({} records)", partial.len());
        shot(&c, "collect-5b-stopped").await;
        click(&c, "[data-testid=collect-resume-note]").await;
        wait_for(&c, "p.done-line[data-testid=collect-report]", 300).await;
        shot(&c, "collect-6-done-coverage").await;
        if let Ok(cov) = c.find(Locator::Css("[data-testid=coverage]")).await {
            make_frames(&c).await;
            let png = cov.screenshot().await.unwrap_or_default();
            let _ = std::fs::write(screenshots_dir().join("e2e-collect-7-coverage-map.png"), png);
        }
        let cells = c.find_all(Locator::Css("[data-testid=coverage-cell]")).await.unwrap();
        assert!(!cells.is_empty(), "the coverage map shows the windows");

        // The case holds exactly the sim's records, once each.
        let (keys, n) = stored(&case);
        assert_eq!(n, keys.len(), "no record stored twice");
        let lost: Vec<&String> = want.difference(&keys).take(5).collect();
        let extra: Vec<&String> = keys.difference(&want).take(5).collect();
        assert!(
            lost.is_empty() && extra.is_empty(),
            "{} lost (e.g. {lost:?}), {} extra (e.g. {extra:?})",
            want.difference(&keys).count(),
            keys.difference(&want).count()
        );

        // The timeline shows them.
        click(&c, "[data-testid=tab-timeline]").await;
        let total = want.len().to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = text_of(&c, "[data-testid=status-count]").await.replace([',', '.', ' ', '\u{a0}', '\u{202f}'], "");
            if s.contains(&total) {
                break;
            }
            assert!(Instant::now() < deadline, "the status bar shows {s:?}, not {total} events");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let rows = c.find_all(Locator::Css("[data-testid=timeline-row]")).await.unwrap();
        assert!(!rows.is_empty(), "timeline rows are shown");
        shot(&c, "collect-8-timeline").await;
        c.close().await.unwrap();
    });
    drop(driver);
}
