//! Exit codes, error messages and the table report, as a user sees them.

mod common;

use common::{fixture, qperf};

#[test]
fn unrecognized_file_exits_2_and_says_which_settings_to_use() {
    let out = qperf(&["analyze", fixture("bad/not_a_log.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not_a_log.txt: no log entries recognized in 2 lines"),
        "{err}"
    );
    assert!(err.contains("line 1: this is not a log"), "{err}");
    assert!(err.contains("log_min_duration_statement = 0"), "{err}");
    assert!(err.contains("log_line_prefix"), "{err}");
    assert!(err.contains("long_query_time = 0"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn log_without_statements_exits_2() {
    let out = qperf(&[
        "analyze",
        fixture("bad/connections_only.log").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 lines read as a postgresql stderr, but none records a statement"),
        "{err}"
    );
    let out = qperf(&[
        "analyze",
        "--allow-empty",
        fixture("bad/connections_only.log").to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn empty_and_missing_files_exit_2() {
    let out = qperf(&["analyze", fixture("bad/empty.log").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the file is empty"));
    let out = qperf(&["analyze", "fixtures/does-not-exist.log"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("qperf: error: cannot read fixtures/does-not-exist.log"),
        "{err}"
    );
}

#[test]
fn a_bad_file_does_not_stop_the_others() {
    let out = qperf(&[
        "analyze",
        "--format",
        "json",
        fixture("bad/not_a_log.txt").to_str().unwrap(),
        fixture("pg_stderr/rds.log").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["events"], 3);
}

#[test]
fn bad_time_argument_names_the_flag() {
    let out = qperf(&[
        "analyze",
        "--since",
        "yesterday",
        fixture("pg_stderr/rds.log").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--since \"yesterday\": expected YYYY-MM-DD")
    );
}

#[test]
fn reads_standard_input() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_qperf"))
        .args(["analyze", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::fs::read(fixture("pg_stderr/rds.log")).unwrap();
    child.stdin.take().unwrap().write_all(&log).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["events"], 3);
}

#[test]
fn table_report() {
    let out = qperf(&[
        "analyze",
        "fixtures/pg_stderr/log_statement.log",
        "fixtures/mysql_slow/mariadb-10.11.log",
    ]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn json_report_shape() {
    let out = qperf(&[
        "analyze",
        "--format",
        "json",
        "fixtures/pg_stderr/log_statement.log",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!(r, {".tool.version" => "[version]"});
}

#[test]
fn rules_lists_the_catalogue_and_rule_prints_one() {
    let out = qperf(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("rules_list", text);
    let out = qperf(&["rule", "n-plus-one"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# n-plus-one\n"), "{text}");
    assert!(
        text.contains("min_children") && text.contains("## Fix"),
        "{text}"
    );
    let out = qperf(&["rule", "n-plus-two"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("unknown rule `n-plus-two` (known: seq-scan,")
    );
}

#[test]
fn emit_sql_writes_the_script_beside_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixes.sql");
    let out = qperf(&[
        "analyze",
        "fixtures/rules/missing-index/hit.log",
        "--emit-sql",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let script = std::fs::read_to_string(&path).unwrap();
    assert!(script.contains(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_status_created_at_idx ON orders (user_id, status, created_at DESC);"
    ), "{script}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Suggested indexes"));
}

#[test]
fn unreadable_schema_is_an_error_naming_the_file() {
    let out = qperf(&[
        "analyze",
        "fixtures/rules/missing-index/hit.log",
        "--schema",
        "fixtures/bad/not_a_log.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "fixtures/bad/not_a_log.txt: no CREATE TABLE or CREATE INDEX statement understood"
        ),
        "{err}"
    );
}
