//! `qperf explain` and the plan model: text and JSON of one plan agree, every frame a
//! client puts around a plan is undone, the tree and findings print as pinned.

mod common;

use std::path::Path;

use common::{fixture, qperf};
use serde_json::Value;

fn model(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let plan = qperf::plan::parse(&text).unwrap_or_else(|| panic!("no plan in {}", path.display()));
    let mut v = serde_json::to_value(plan).unwrap();
    v.as_object_mut().unwrap().remove("format");
    v
}

/// The first place two JSON values differ, for a readable failure.
fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_diff(va, vb, &format!("{path}.{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_diff(va, vb, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: text {a} vs json {b}")),
    }
}

#[test]
fn text_and_json_of_one_plan_give_one_model() {
    // Captured from PostgreSQL 15 by scripts/capture-explain-pairs.sh.
    let dir = fixture("explain/pg15");
    let mut pairs = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            let text = model(&p);
            let json = model(&p.with_extension("json"));
            if let Some(d) = first_diff(&text, &json, "plan") {
                panic!("{}: {d}", p.display());
            }
            pairs += 1;
        }
    }
    assert!(pairs >= 15, "only {pairs} pairs");
}

#[test]
fn the_model_reads_what_the_plans_say() {
    let p = |name: &str| model(&fixture(&format!("explain/pg15/{name}.txt")));
    let hb = p("hash_batches");
    let hash = &hb["root"]["children"][0]["children"][1];
    assert_eq!(hash["node_type"], "Hash");
    assert_eq!(hash["hash_batches"], 16.0);
    let ext = p("external_sort");
    assert_eq!(ext["root"]["sort_space_type"], "Disk");
    let sub = p("initplan_subplan");
    let names: Vec<&str> = sub["root"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subplan_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["InitPlan 2", "SubPlan 1"]);
    let ios = p("index_only_backward");
    assert_eq!(
        (
            ios["root"]["node_type"].as_str(),
            ios["root"]["backward"].as_bool()
        ),
        (Some("Index Only Scan"), Some(true))
    );
    let ins = p("insert_returning");
    assert_eq!(
        (
            ins["root"]["node_type"].as_str(),
            ins["root"]["operation"].as_str()
        ),
        (Some("ModifyTable"), Some("Insert"))
    );
    let semi = p("semi_anti");
    let mut joins = Vec::new();
    fn walk(n: &Value, out: &mut Vec<String>) {
        if let Some(j) = n["join_type"].as_str() {
            out.push(j.to_string());
        }
        for c in n["children"].as_array().unwrap() {
            walk(c, out);
        }
    }
    walk(&semi["root"], &mut joins);
    // PostgreSQL turned the EXISTS into an inner join over a unique-ified HashAggregate.
    assert_eq!(joins, ["Anti", "Inner"]);
}

/// The same plan as psql, pgAdmin, DBeaver and a narrow terminal show it.
#[test]
fn frames_around_a_plan_are_undone() {
    let plain = std::fs::read_to_string(fixture("explain/pg15/merge_join.txt")).unwrap();
    let want = qperf::plan::parse(&plain).unwrap();
    let lines: Vec<&str> = plain.lines().collect();
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap();
    let pad = |l: &str| format!("{l}{}", " ".repeat(width - l.chars().count()));
    let variants = [
        // psql aligned, border 1
        format!(
            "{}QUERY PLAN\n{}\n{}\n({} rows)\n",
            " ".repeat(width / 2 - 5),
            "-".repeat(width + 2),
            lines
                .iter()
                .map(|l| format!(" {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            lines.len()
        ),
        // psql border 2, unicode
        format!(
            "┌{0}┐\n│ {1} │\n├{0}┤\n{2}\n└{0}┘\n",
            "─".repeat(width + 2),
            pad("QUERY PLAN"),
            lines
                .iter()
                .map(|l| format!("│ {} │", pad(l)))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        // pgAdmin: every row quoted
        lines
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join("\n"),
        // DBeaver: a trailing bar
        lines
            .iter()
            .map(|l| format!("{}|", pad(l)))
            .collect::<Vec<_>>()
            .join("\n"),
        // a 40-column terminal wrapping long lines
        lines
            .iter()
            .flat_map(|l| {
                let chars: Vec<char> = l.chars().collect();
                chars
                    .chunks(40)
                    .map(|c| c.iter().collect::<String>())
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .join("\n"),
    ];
    for (i, v) in variants.iter().enumerate() {
        let got = qperf::plan::parse(v).unwrap_or_else(|| panic!("variant {i}: no plan\n{v}"));
        assert_eq!(got.root, want.root, "variant {i}:\n{v}");
    }
    // JSON as psql prints it: header, `+` marks, footer.
    let json = std::fs::read_to_string(fixture("explain/pg15/merge_join.json")).unwrap();
    let framed = format!(
        "        QUERY PLAN\n--------------------------\n{}\n(1 row)\n",
        json.lines()
            .map(|l| format!(" {l:<60}+"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        qperf::plan::parse(&framed).unwrap().root,
        qperf::plan::parse(&json).unwrap().root
    );
}

#[test]
fn explain_prints_the_tree_and_findings() {
    let out = qperf(&["explain", "fixtures/explain/orders_list_auto_explain.txt"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("explain_orders_list", text);
}

#[test]
fn explain_json_and_stdin() {
    let plan = std::fs::read(fixture("explain/pg15/external_sort.json")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qperf"))
        .args([
            "explain",
            "-",
            "--format",
            "json",
            "--sql",
            "SELECT * FROM items ORDER BY qty, order_id",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&plan).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["source"], "<stdin>");
    assert_eq!(r["plan"]["root"]["node_type"], "Sort");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "disk-spill"),
        "{r:#}"
    );
}

#[test]
fn something_that_is_not_a_plan_is_an_error() {
    let out = qperf(&["explain", "fixtures/bad/not_a_log.txt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fixtures/bad/not_a_log.txt: no query plan recognized"),
        "{err}"
    );
}

#[test]
fn plan_evidence_from_text_and_json_auto_explain_agree() {
    for log in [
        "seed_shop/baseline.log.gz",
        "seed_shop/baseline_json_plans.log.gz",
    ] {
        let r = common::analyze_json(&[fixture(log).to_str().unwrap()]);
        let q = |prefix: &str| {
            r["queries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["query"].as_str().unwrap().starts_with(prefix))
                .unwrap()
                .clone()
        };
        for (prefix, table) in [
            ("SELECT * FROM orders WHERE user_id = $1", "orders"),
            (
                "SELECT * FROM order_items WHERE order_id = $1",
                "order_items",
            ),
        ] {
            let e = &q(prefix)["plan_evidence"];
            assert_eq!(e["seq_scans"][0]["name"], table, "{log}");
            assert_eq!(
                e["seq_scans"][0]["plans"], e["plans"],
                "{log}: a seq scan in every plan"
            );
            assert!(e["plans"].as_u64().unwrap() >= 74);
        }
        let report = q("SELECT date_trunc");
        assert_eq!(report["plan_evidence"]["spills"], 8, "{log}");
        let spill = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "disk-spill" && f["fingerprint"] == report["fingerprint"])
            .unwrap_or_else(|| panic!("{log}: no disk-spill on the report"));
        assert!(
            spill["message"]
                .as_str()
                .unwrap()
                .contains("spilled in 8 of 8 logged plans")
        );
        assert_eq!(
            spill["suggestions"][0]["sql"],
            "SET LOCAL work_mem = '32MB';"
        );
    }
}

#[test]
fn mariadb_explain_and_analyze_json() {
    // Captured from the MariaDB 10.11 here (EXPLAIN / ANALYZE FORMAT=JSON).
    for (file, nodes) in [
        ("join_filesort.json", 4),
        ("join_filesort.analyze.json", 4),
        ("group_by.json", 3),
        ("group_by.analyze.json", 3),
    ] {
        let out = qperf(&[
            "explain",
            &format!("fixtures/explain/mariadb/{file}"),
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{file}");
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["plan"]["format"], "mysql-json");
        fn count(n: &Value) -> usize {
            1 + n["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(count)
                .sum::<usize>()
        }
        assert_eq!(count(&r["plan"]["root"]), nodes, "{file}");
    }
}
