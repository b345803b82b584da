//! The keychain wrapper used by CI (`scripts/keyring-session`: gnome-keyring under dbus-run-session).
//! Live collection stores secrets in the OS keychain; this proves the wrapper gives tests a real,
//! unlocked Secret Service to talk to. Outside the wrapper it is skipped, except on CI where it must run.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn the_ci_keychain_session_stores_and_returns_a_secret() {
    if std::env::var_os("TIDEMARK_KEYRING_SESSION").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run the tests inside scripts/keyring-session");
        eprintln!("SKIP: not inside scripts/keyring-session");
        return;
    }
    let label = format!("tidemark-test-{}", std::process::id());
    let mut store = Command::new("secret-tool")
        .args(["store", "--label", &label, "service", &label, "username", "ci"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("secret-tool (libsecret-tools) is installed by scripts/setup");
    store.stdin.take().unwrap().write_all(b"s3cret-value").unwrap();
    assert!(store.wait().unwrap().success());
    let out = Command::new("secret-tool").args(["lookup", "service", &label, "username", "ci"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "s3cret-value");
    assert!(Command::new("secret-tool")
        .args(["clear", "service", &label, "username", "ci"])
        .status()
        .unwrap()
        .success());
}
