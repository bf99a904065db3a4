#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(p: &str) -> PathBuf {
    root().join("fixtures").join(p)
}

pub fn qperf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qperf"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run qperf")
}

/// Runs `qperf analyze … --format json` and parses the report; panics on a non-zero exit.
pub fn analyze_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["analyze"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = qperf(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "qperf {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// The query entry whose normalized text is `q`.
pub fn query<'a>(report: &'a serde_json::Value, q: &str) -> &'a serde_json::Value {
    report["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["query"] == q)
        .unwrap_or_else(|| panic!("no query {q:?} in report"))
}
