//! The CI gate: exit codes with --fail-on, baselines, suppressions, qperf.toml, the
//! SARIF / GitHub / Markdown outputs, and `qperf diff`.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::{fixture, qperf};
use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = qperf(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The seed_shop capture plus one more N+1 loop (a new parent and child) in a new session.
fn with_extra_n_plus_one(dir: &Path) -> PathBuf {
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fixture("seed_shop/baseline.log.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let mut ms = 0;
    for loop_no in 0..3 {
        let mut line = |sql: &str, v: u32| {
            ms += 3;
            text.push_str(&format!(
                "2026-11-26 07:31:{:02}.{:03} UTC [99999] shop_app@seed_shop LOG:  duration: 0.210 ms  execute <unnamed>: {sql}\n\
                 2026-11-26 07:31:{:02}.{:03} UTC [99999] shop_app@seed_shop DETAIL:  parameters: $1 = '{v}'\n",
                ms / 1000, ms % 1000, ms / 1000, ms % 1000
            ));
        };
        line(
            "SELECT id, name FROM products WHERE category = $1 ORDER BY name LIMIT 10",
            loop_no,
        );
        for k in 0..10 {
            line(
                "SELECT avg(rating) FROM reviews WHERE product_id = $1",
                loop_no * 100 + k,
            );
        }
    }
    let path = dir.join("with-new-n-plus-one.log");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn fail_on_baseline_and_a_new_n_plus_one() {
    let seed = fixture("seed_shop/baseline.log.gz");
    let seed = seed.to_str().unwrap();
    let (code, _, _) = run(&["analyze", seed, "--fail-on", "n-plus-one"]);
    assert_eq!(code, 1, "the seed capture has an N+1");
    let (code, _, _) = run(&["analyze", seed]);
    assert_eq!(code, 0, "findings without --fail-on exit 0");

    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("qperf-baseline.json");
    let (code, _, err) = run(&["baseline", seed, "-o", base.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    let keys: Vec<(String, String)> = b["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rule"].as_str().unwrap().into(),
                e["fingerprint"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "the baseline file is sorted for reviewable diffs"
    );

    let (code, out, _) = run(&[
        "analyze",
        seed,
        "--fail-on",
        "n-plus-one",
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert!(r["findings"].as_array().unwrap().is_empty());
    assert_eq!(r["baseline"]["known"], keys.len());

    let extra = with_extra_n_plus_one(dir.path());
    let (code, out, _) = run(&[
        "analyze",
        extra.to_str().unwrap(),
        "--fail-on",
        "n-plus-one",
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let r: Value = serde_json::from_str(&out).unwrap();
    let f = r["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "only the new pattern: {f:#?}");
    assert_eq!(f[0]["rule"], "n-plus-one");
    assert_eq!(
        f[0]["query"],
        "SELECT avg(rating) FROM reviews WHERE product_id = $1"
    );
}

#[test]
fn fail_on_severity_and_errors() {
    let hit = "fixtures/rules/select-star/hit.log";
    for (file, fail_on, code, why) in [
        (hit, "n-plus-one", 0, "no N+1 in this log"),
        (hit, "info", 1, "select-star is info"),
        (hit, "warning", 0, "select-star is info"),
        ("fixtures/bad/not_a_log.txt", "n-plus-one", 2, "not a log"),
        ("fixtures/does-not-exist.log", "warning", 2, "no such file"),
    ] {
        let (got, _, err) = run(&["analyze", file, "--fail-on", fail_on]);
        assert_eq!(got, code, "{file} --fail-on {fail_on}: {why}\n{err}");
    }
    let (code, _, err) = run(&["analyze", hit, "--fail-on", "loud"]);
    assert_eq!(code, 2);
    assert!(err.contains("--fail-on `loud`"), "{err}");
}

#[test]
fn inline_and_config_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ignored.log");
    let text = std::fs::read_to_string(fixture("rules/n-plus-one/hit.log"))
        .unwrap()
        .replace("/*controller='orders',action='index'*/ ", "")
        .replace(
            "FROM order_items WHERE order_id = $1",
            "FROM order_items WHERE order_id = $1 /* qperf:ignore n-plus-one */",
        );
    std::fs::write(&log, text).unwrap();
    let (code, out, _) = run(&[
        "analyze",
        log.to_str().unwrap(),
        "--fail-on",
        "n-plus-one",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["suppressed"][0]["rule"], "n-plus-one");
    assert_eq!(
        r["suppressed"][0]["reason"],
        "qperf:ignore comment in the statement"
    );

    // The same from qperf.toml in the working directory, by table.
    std::fs::write(
        dir.path().join("qperf.toml"),
        "fail_on = \"n-plus-one\"\n\n[[ignore]]\ntable = \"order_items\"\nreason = \"batched in 2.3\"\n",
    )
    .unwrap();
    let hit = fixture("rules/n-plus-one/hit.log");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qperf"))
        .args(["analyze", hit.to_str().unwrap(), "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["suppressed"][0]["reason"], "batched in 2.3");
    // Without the ignore, the config's fail_on applies.
    std::fs::write(dir.path().join("qperf.toml"), "fail_on = \"n-plus-one\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qperf"))
        .args(["analyze", hit.to_str().unwrap(), "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn config_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("qperf.toml");
    std::fs::write(
        &cfg,
        "fail_on = \"warning\"\n\n[rules.n-plus-one]\nmin_childs = 3\n",
    )
    .unwrap();
    let (code, _, err) = run(&[
        "analyze",
        "fixtures/rules/n-plus-one/hit.log",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "{}:4: rule n-plus-one has no threshold `min_childs`",
            cfg.display()
        )),
        "{err}"
    );
    std::fs::write(&cfg, "[input]\nlog_line_prefx = '%m'\n").unwrap();
    let (code, _, err) = run(&[
        "analyze",
        "fixtures/rules/n-plus-one/hit.log",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "{}:2: unknown field `log_line_prefx`",
            cfg.display()
        )),
        "{err}"
    );
}

#[test]
fn sarif_carries_the_catalogue_and_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("q.sarif");
    let md = dir.path().join("q.md");
    let (code, _, err) = run(&[
        "analyze",
        "fixtures/seed_shop/baseline.log.gz",
        "--output",
        &format!("sarif={}", sarif.display()),
        "--output",
        &format!("markdown={}", md.display()),
    ]);
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let run0 = &s["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), qperf::rules::RuleId::ALL.len());
    assert!(rules.iter().all(|r| {
        r["helpUri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("rules/{}.md", r["id"].as_str().unwrap()))
    }));
    let results = run0["results"].as_array().unwrap();
    let n1 = results
        .iter()
        .find(|r| r["ruleId"] == "n-plus-one")
        .unwrap();
    assert_eq!(n1["level"], "error");
    assert_eq!(
        n1["partialFingerprints"]["queryFingerprint/v1"],
        "0054dfe1dfc29172"
    );
    let loc = &n1["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/seed_shop/baseline.log.gz"
    );
    assert!(
        loc["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(loc["logicalLocations"][0]["name"], "0054dfe1dfc29172");
    assert_eq!(
        rules[n1["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "n-plus-one"
    );
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .starts_with("## qperf: ")
    );
}

#[test]
fn github_and_markdown_outputs() {
    let (_, out, _) = run(&[
        "analyze",
        "fixtures/rules/n-plus-one/hit.log",
        "--format",
        "github",
    ]);
    insta::assert_snapshot!("github_n_plus_one", out);
    let (_, out, _) = run(&[
        "analyze",
        "fixtures/seed_shop/baseline.log.gz",
        "--format",
        "markdown",
    ]);
    insta::assert_snapshot!("markdown_seed_shop", out);
}

#[test]
fn diff_finds_the_new_loop() {
    let dir = tempfile::tempdir().unwrap();
    let seed = fixture("seed_shop/baseline.log.gz");
    let extra = with_extra_n_plus_one(dir.path());
    let (code, out, err) = run(&[
        "diff",
        seed.to_str().unwrap(),
        extra.to_str().unwrap(),
        "--fail-on",
        "regression",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["regression"], true);
    let appeared = d["findings_appeared"].as_array().unwrap();
    assert_eq!(appeared.len(), 1, "{appeared:#?}");
    assert_eq!(appeared[0]["rule"], "n-plus-one");
    assert_eq!(d["new_statements"].as_array().unwrap().len(), 2);
    assert!(d["slower"].as_array().unwrap().is_empty());

    // The same run against itself, once as a JSON report: nothing changed.
    let report = dir.path().join("seed.json");
    let (_, json, _) = run(&["analyze", seed.to_str().unwrap(), "--format", "json"]);
    std::fs::write(&report, json).unwrap();
    let (code, out, _) = run(&[
        "diff",
        report.to_str().unwrap(),
        seed.to_str().unwrap(),
        "--fail-on",
        "regression",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no regression"), "{out}");
}

#[test]
fn diff_sees_slower_statements_and_grown_calls() {
    // fixed (indexes) → baseline (no indexes): the orders statements got slower.
    let (code, out, _) = run(&[
        "diff",
        fixture("seed_shop/fixed.log.gz").to_str().unwrap(),
        fixture("seed_shop/baseline.log.gz").to_str().unwrap(),
        "--fail-on",
        "regression",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let d: Value = serde_json::from_str(&out).unwrap();
    let slower: Vec<&str> = d["slower"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["query"].as_str().unwrap())
        .collect();
    assert!(
        slower
            .iter()
            .any(|q| q.starts_with("SELECT * FROM order_items")),
        "{slower:?}"
    );
    assert!(
        d["findings_appeared"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "missing-index")
    );
}
