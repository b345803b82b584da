//! The `tidemark` binary as a user runs it.

use std::process::{Command, Output};

use tidemark_tests::{binary, fixture};

fn tidemark(args: &[&str]) -> Output {
    Command::new(binary("tidemark")).args(args).env("USER", "cli-tester").output().expect("run tidemark")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn new_import_search_export_verify_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c.tidemark");
    let case_s = case.to_str().unwrap();
    let o = tidemark(&["case", "new", case_s, "--name", "CLI case"]);
    assert!(o.status.success(), "{o:?}");

    let o = tidemark(&[
        "import",
        case_s,
        fixture("ual-small.jsonl").to_str().unwrap(),
        fixture("ual-malformed.jsonl").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("306 records read, 298 new events, 5 duplicates, 3 malformed"), "{out}");
    assert!(out.contains("ual-malformed.jsonl line 2: not valid JSON"), "{out}");

    let o = tidemark(&["search", case_s, "op:Send", "--json", "--limit", "5"]);
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6);
    assert!(lines[..5].iter().all(|l| l["operation"] == "Send"));
    assert!(lines[5]["matching"].as_i64().unwrap() > 5);

    let out_csv = dir.path().join("out.csv");
    let o = tidemark(&["export", case_s, "--query", "op:Send", "--format", "csv", "--out", out_csv.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert!(dir.path().join("out.csv.manifest.json").exists());

    let o = tidemark(&["verify", case_s]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).starts_with("OK: 306 raw records"));

    let o = tidemark(&["log", case_s]);
    let log = stdout(&o);
    for action in ["[case.created]", "[import]", "[export]", "[verify]"] {
        assert!(log.contains(action), "{log}");
    }
    assert!(log.contains("cli-tester"));

    let o = tidemark(&["case", "info", case_s]);
    assert!(stdout(&o).contains("Events:      298"), "{}", stdout(&o));
}

#[test]
fn errors_are_one_plain_line_with_a_documented_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.tidemark");
    let o = tidemark(&["case", "info", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tidemark: There is no case file at"), "{err}");

    let case = dir.path().join("c.tidemark");
    assert!(tidemark(&["case", "new", case.to_str().unwrap(), "--name", "x"]).status.success());
    let o = tidemark(&["search", case.to_str().unwrap(), "acter:bob"]);
    assert_eq!(o.status.code(), Some(5));
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello").unwrap();
    let o = tidemark(&["import", case.to_str().unwrap(), notes.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(tidemark(&["bogus"]).status.code(), Some(2));
}

#[test]
fn a_tampered_case_fails_verify_with_exit_code_1_naming_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c.tidemark");
    let case_s = case.to_str().unwrap();
    assert!(tidemark(&["case", "new", case_s, "--name", "x"]).status.success());
    assert!(tidemark(&["import", case_s, fixture("ual-small.jsonl").to_str().unwrap()]).status.success());
    {
        let c = rusqlite::Connection::open(&case).unwrap();
        c.execute_batch("DROP TRIGGER raw_record_immutable").unwrap();
        let mut data: Vec<u8> = c.query_row("SELECT data FROM raw_record WHERE id = 7", [], |r| r.get(0)).unwrap();
        let mid = data.len() / 2;
        data[mid] ^= 0x20;
        c.execute("UPDATE raw_record SET data = ?1 WHERE id = 7", [data]).unwrap();
    }
    let o = tidemark(&["verify", case_s]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("DAMAGED") && out.contains("raw record 7 ") && out.contains("ual-small.jsonl line 7"),
        "{out}"
    );
}

#[test]
fn evidence_text_cannot_send_control_characters_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("c.tidemark");
    let case_s = case.to_str().unwrap();
    let data = dir.path().join("esc.jsonl");
    std::fs::write(
        &data,
        "{\"CreationTime\":\"2025-01-01T00:00:00\",\"Id\":\"e1\",\"Operation\":\"Send\",\"UserId\":\"a@b.example\",\"Item\":{\"Subject\":\"\\u001b[31mred\\u001b[0m\"}}\n",
    )
    .unwrap();
    assert!(tidemark(&["case", "new", case_s, "--name", "x"]).status.success());
    assert!(tidemark(&["import", case_s, data.to_str().unwrap()]).status.success());
    let out = tidemark(&["search", case_s]).stdout;
    assert!(!out.contains(&0x1b), "raw ESC reached the terminal");
    assert!(String::from_utf8_lossy(&out).contains("\\u{1b}[31mred"));
}
