//! Each rule against its fixtures: `hit.log` must produce findings of that rule (pinned
//! by a snapshot), `ok.log` none. Then the seed_shop answer key, the suggested SQL's
//! validity, and that applying a rewrite makes its rule go quiet.

mod common;

use common::{analyze_json, fixture};
use serde_json::Value;

const RULES: &[&str] = &[
    "seq-scan",
    "missing-index",
    "select-star",
    "n-plus-one",
    "repeated-query",
    "leading-wildcard-like",
    "function-on-column",
    "large-offset",
    "disk-spill",
    "row-misestimate",
    "nested-loop",
    "lossy-bitmap",
    "heap-fetches",
    "hot-node",
    "unindexed-foreign-key",
    "duplicate-index",
];

/// `analyze` on a rule fixture, with the fixture folder's `schema.sql` when it has one.
fn analyze_fixture(rule: &str, log: &str) -> Value {
    let path = format!("fixtures/rules/{rule}/{log}");
    let schema = format!("fixtures/rules/{rule}/schema.sql");
    if std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(&schema)
        .exists()
    {
        analyze_json(&[&path, "--schema", &schema])
    } else {
        analyze_json(&[&path])
    }
}

fn of_rule<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// Findings of `rule` on its `hit.log`: asserts there are some and snapshots them.
fn findings(rule: &str) -> Vec<Value> {
    let path = format!("fixtures/rules/{rule}/hit.log");
    let report = analyze_fixture(rule, "hit.log");
    let found: Vec<Value> = of_rule(&report, rule).into_iter().cloned().collect();
    assert!(
        !found.is_empty(),
        "{rule}: expected findings on {path}; use no_findings() where none are expected"
    );
    found
}

/// Asserts `rule` stays quiet on its `ok.log`.
fn no_findings(rule: &str) {
    let path = format!("fixtures/rules/{rule}/ok.log");
    let report = analyze_fixture(rule, "ok.log");
    let found = of_rule(&report, rule);
    assert!(
        found.is_empty(),
        "{rule}: expected no findings on {path} (use findings() where some are expected), got {found:#?}"
    );
}

/// Rules that need a live database's counters; tests/live.rs runs their fixtures.
const LIVE_ONLY: &[&str] = &["unused-index"];

#[test]
fn every_rule_is_tested() {
    for id in qperf::rules::RuleId::ALL {
        let id = id.as_str();
        assert!(
            RULES.contains(&id) || LIVE_ONLY.contains(&id),
            "rule {id} is in neither RULES nor LIVE_ONLY"
        );
    }
}

#[test]
fn each_rule_fires_on_its_hit_fixture() {
    for rule in RULES {
        let found = findings(rule);
        insta::assert_json_snapshot!(format!("rule_{rule}"), found);
    }
}

#[test]
fn each_rule_is_quiet_on_its_ok_fixture() {
    for rule in RULES {
        no_findings(rule);
    }
}

fn parses(sql: &str, dialect: &str) {
    use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect};
    let r = if dialect == "mysql" {
        sqlparser::parser::Parser::parse_sql(&MySqlDialect {}, sql)
    } else {
        sqlparser::parser::Parser::parse_sql(&PostgreSqlDialect {}, sql)
    };
    assert!(
        r.is_ok(),
        "suggested SQL does not parse as {dialect}: {sql}\n{r:?}"
    );
}

fn suggestion_sqls(finding: &Value) -> Vec<&str> {
    finding["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sql"].as_str().unwrap())
        .collect()
}

fn all_suggestions(report: &Value) -> Vec<(String, String)> {
    let dialect = report["queries"][0]["dialect"]
        .as_str()
        .unwrap_or("postgres")
        .to_string();
    let mut out = Vec::new();
    for f in report["findings"].as_array().unwrap() {
        for s in f["suggestions"].as_array().unwrap() {
            out.push((s["sql"].as_str().unwrap().to_string(), dialect.clone()));
        }
    }
    for ix in report["indexes"].as_array().unwrap() {
        out.push((ix["sql"].as_str().unwrap().to_string(), dialect.clone()));
    }
    out
}

#[test]
fn every_suggested_statement_parses() {
    let mut n = 0;
    let mut inputs: Vec<Vec<String>> = RULES
        .iter()
        .map(|r| vec![format!("fixtures/rules/{r}/hit.log")])
        .collect();
    inputs.push(vec![
        "fixtures/seed_shop/baseline.log.gz".into(),
        "--schema".into(),
        "fixtures/seed_shop/schema.sql".into(),
    ]);
    inputs.push(vec!["fixtures/mysql_slow/n_plus_one.log".into()]);
    for args in inputs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let report = analyze_json(&args);
        for (sql, dialect) in all_suggestions(&report) {
            parses(&sql, &dialect);
            n += 1;
        }
    }
    assert!(n >= 15, "only {n} suggestions checked");
}

// The seed_shop answer key (../shared/scenario/seed_shop/expected.md, bundled capture).

const ITEMS: &str = "SELECT * FROM order_items WHERE order_id = $1";
const USERS_STAR: &str = "SELECT * FROM users WHERE id = $1";

fn fp_of(report: &Value, query_prefix: &str) -> String {
    report["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["query"].as_str().unwrap().starts_with(query_prefix))
        .unwrap_or_else(|| panic!("no query starting {query_prefix:?}"))["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn seed_shop_baseline_answer_key() {
    let r = analyze_json(&[fixture("seed_shop/baseline.log.gz").to_str().unwrap()]);
    let ix = r["indexes"].as_array().unwrap();
    assert_eq!(ix.len(), 2, "{ix:#?}");
    assert_eq!(ix[0]["table"], "order_items");
    assert_eq!(ix[0]["columns"], serde_json::json!(["order_id"]));
    assert_eq!(ix[1]["table"], "orders");
    assert_eq!(
        ix[1]["columns"],
        serde_json::json!(["user_id", "status", "created_at DESC"])
    );
    assert_eq!(
        ix[1]["fingerprints"].as_array().unwrap().len(),
        2,
        "serves P1 and P5"
    );

    let items = fp_of(&r, ITEMS);
    let list = fp_of(&r, "SELECT * FROM orders WHERE user_id = $1");
    let dashboard = fp_of(&r, "SELECT count(*) AS orders");
    let n1 = of_rule(&r, "n-plus-one");
    assert_eq!(n1.len(), 1, "{n1:#?}");
    assert_eq!(n1[0]["fingerprint"], items.as_str());
    assert_eq!(n1[0]["evidence"]["parent_fingerprint"], list.as_str());
    assert_eq!(n1[0]["evidence"]["loops"], 74);
    assert_eq!(n1[0]["evidence"]["child_executions"], 1375);
    let sqls = suggestion_sqls(n1[0]);
    assert!(
        sqls.iter()
            .any(|s| s.contains("JOIN order_items AS c ON c.order_id = p.id")),
        "{sqls:?}"
    );
    assert!(
        sqls.contains(&"SELECT * FROM order_items WHERE order_id = ANY($1)"),
        "{sqls:?}"
    );

    let star = of_rule(&r, "select-star");
    assert!(star.iter().any(|f| f["query"] == USERS_STAR));
    let rep = of_rule(&r, "repeated-query");
    assert_eq!(rep.len(), 1, "{rep:#?}");
    assert_eq!(rep[0]["fingerprint"], dashboard.as_str());
    let writes = rep[0]["evidence"]["writes"].as_array().unwrap();
    assert!(writes.iter().any(|w| {
        w["query"]
            .as_str()
            .unwrap()
            .starts_with("INSERT INTO orders")
    }));
    assert!(
        rep[0]["help"]
            .as_str()
            .unwrap()
            .contains("INSERT INTO orders")
    );

    // The healthy statements of the answer key get no finding at all.
    let flagged: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    for healthy in [
        "SELECT id, sku, name, price, stock FROM products WHERE id = $1",
        "SELECT id, name, price FROM products WHERE id = ANY($1)",
        "SELECT id, user_id, status, total, created_at FROM orders WHERE id = $1",
        "SELECT name, email FROM users WHERE id = $1",
        "UPDATE users SET last_seen_at = now() WHERE id = $1",
        "INSERT INTO orders",
        "INSERT INTO order_items",
        "UPDATE products SET stock",
        "BEGIN",
        "COMMIT",
        "SELECT key, value FROM seed_meta",
    ] {
        let fp = fp_of(&r, healthy);
        assert!(
            !flagged.contains(&fp.as_str()),
            "healthy `{healthy}` was flagged"
        );
    }
    // P4 is a fast primary-key lookup: over-fetching, never a missing index.
    assert!(
        of_rule(&r, "missing-index")
            .iter()
            .all(|f| f["query"] != USERS_STAR)
    );
}

#[test]
fn seed_shop_schema_names_wide_columns_and_the_foreign_key() {
    let r = analyze_json(&[
        fixture("seed_shop/baseline.log.gz").to_str().unwrap(),
        "--schema",
        fixture("seed_shop/schema.sql").to_str().unwrap(),
    ]);
    let star = of_rule(&r, "select-star");
    let users = star.iter().find(|f| f["query"] == USERS_STAR).unwrap();
    assert!(
        users["message"].as_str().unwrap().contains("users.bio"),
        "{users:#?}"
    );
    assert_eq!(
        users["suggestions"][0]["sql"],
        "SELECT id, name, email, profile_picture, country, created_at, last_seen_at FROM users WHERE id = $1"
    );
    let n1 = of_rule(&r, "n-plus-one");
    assert!(
        n1[0]["suggestions"][0]["title"]
            .as_str()
            .unwrap()
            .contains("foreign key")
    );
}

#[test]
fn seed_shop_items_indexed_and_fixed() {
    let r = analyze_json(&[fixture("seed_shop/items_indexed.log.gz").to_str().unwrap()]);
    let ix = r["indexes"].as_array().unwrap();
    assert_eq!(ix.len(), 1, "{ix:#?}");
    assert_eq!(ix[0]["table"], "orders");
    assert!(
        of_rule(&r, "missing-index")
            .iter()
            .all(|f| f["query"] != ITEMS)
    );
    assert_eq!(
        of_rule(&r, "n-plus-one")[0]["query"],
        ITEMS,
        "N+1 from the pattern alone"
    );

    let r = analyze_json(&[fixture("seed_shop/fixed.log.gz").to_str().unwrap()]);
    assert!(r["indexes"].as_array().unwrap().is_empty());
    assert!(of_rule(&r, "missing-index").is_empty());
    assert!(of_rule(&r, "seq-scan").is_empty());
    assert_eq!(of_rule(&r, "n-plus-one").len(), 1);
    assert_eq!(of_rule(&r, "repeated-query").len(), 1);
    assert!(
        of_rule(&r, "select-star")
            .iter()
            .any(|f| f["query"] == USERS_STAR)
    );
}

#[test]
fn existing_index_in_schema_suppresses_the_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("s.sql");
    std::fs::write(
        &schema,
        "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, status text, created_at timestamptz);\n\
         CREATE INDEX o ON orders (user_id, status, created_at DESC);\n",
    )
    .unwrap();
    let r = analyze_json(&[
        "fixtures/rules/missing-index/hit.log",
        "--schema",
        schema.to_str().unwrap(),
    ]);
    assert!(
        of_rule(&r, "missing-index").is_empty(),
        "{:#?}",
        r["findings"]
    );
    // A shorter index is not enough for the ORDER BY … LIMIT statement.
    std::fs::write(&schema, "CREATE INDEX o ON orders (user_id);\n").unwrap();
    let r = analyze_json(&[
        "fixtures/rules/missing-index/hit.log",
        "--schema",
        schema.to_str().unwrap(),
    ]);
    assert!(!of_rule(&r, "missing-index").is_empty());
}

#[test]
fn thresholds_are_overridable() {
    let r = analyze_json(&[
        "fixtures/rules/n-plus-one/hit.log",
        "--set",
        "n-plus-one.min_children=9",
    ]);
    assert!(
        of_rule(&r, "n-plus-one").is_empty(),
        "8 children per loop < 9"
    );
    let r = analyze_json(&[
        "fixtures/rules/n-plus-one/hit.log",
        "--set",
        "n-plus-one.severity=error",
    ]);
    assert_eq!(of_rule(&r, "n-plus-one")[0]["severity"], "error");
    let r = analyze_json(&[
        "fixtures/rules/select-star/hit.log",
        "--set",
        "select-star.enabled=false",
    ]);
    assert!(of_rule(&r, "select-star").is_empty());
    let out = common::qperf(&[
        "analyze",
        "fixtures/rules/n-plus-one/hit.log",
        "--set",
        "n-plus-one.min_kids=3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no threshold `min_kids`") && err.contains("min_children"),
        "{err}"
    );
}

/// Writes a log in which the application runs `statements` (one loop each) instead of
/// the N+1 loop, and returns the report.
fn replay(statements: &[&str], loops: usize) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("replay.log");
    let mut text = String::new();
    let mut ms = 0;
    for l in 0..loops {
        for (i, s) in statements.iter().enumerate() {
            ms += 5;
            text.push_str(&format!(
                "2026-01-05 10:00:{:02}.{:03} UTC [77] app@shop LOG:  duration: 1.000 ms  execute <unnamed>: {s}\n\
                 2026-01-05 10:00:{:02}.{:03} UTC [77] app@shop DETAIL:  parameters: $1 = '{}'\n",
                ms / 1000, ms % 1000, ms / 1000, ms % 1000, l * 10 + i
            ));
        }
    }
    std::fs::write(&log, text).unwrap();
    analyze_json(&[log.to_str().unwrap()])
}

#[test]
fn n_plus_one_rewrites_end_the_loop() {
    let r = analyze_json(&["fixtures/rules/n-plus-one/hit.log"]);
    let f = &of_rule(&r, "n-plus-one")[0];
    assert_eq!(f["endpoints"], serde_json::json!(["orders#index"]));
    let sugg = suggestion_sqls(f);
    assert_eq!(sugg.len(), 2, "{sugg:?}");
    // JOIN: one statement per former loop.
    let r = replay(&[sugg[0]], 6);
    assert!(of_rule(&r, "n-plus-one").is_empty());
    // Batch: parent, then one batched child per loop.
    let parent = f["evidence"]["parent_query"].as_str().unwrap();
    let r = replay(&[parent, sugg[1]], 6);
    assert!(of_rule(&r, "n-plus-one").is_empty());
    // The loop itself, replayed the same way, is found (the replay is a fair test).
    let child = f["query"].as_str().unwrap();
    let mut loop_stmts = vec![parent];
    loop_stmts.extend(std::iter::repeat_n(child, 8));
    let r = replay(&loop_stmts, 3);
    assert_eq!(of_rule(&r, "n-plus-one").len(), 1);
}

#[test]
fn select_star_rewrite_has_no_star() {
    let r = analyze_json(&[
        "fixtures/seed_shop/baseline.log.gz",
        "--schema",
        "fixtures/seed_shop/schema.sql",
    ]);
    for f in of_rule(&r, "select-star") {
        let sql = f["suggestions"][0]["sql"].as_str().unwrap();
        let r = replay(&std::iter::repeat_n(sql, 1).collect::<Vec<_>>(), 30);
        assert!(of_rule(&r, "select-star").is_empty(), "{sql}");
    }
}

#[test]
fn sql_output_is_a_script_that_parses() {
    let out = common::qperf(&[
        "analyze",
        "fixtures/seed_shop/baseline.log.gz",
        "--format",
        "sql",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8(out.stdout).unwrap();
    let stmts =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, &script)
            .unwrap_or_else(|e| panic!("{e}\n{script}"));
    assert_eq!(
        stmts.len(),
        2,
        "two CREATE INDEX statements, the rest comments:\n{script}"
    );
    insta::assert_snapshot!("seed_shop_sql", script);
}

#[test]
fn mariadb_slow_log_n_plus_one() {
    // Captured from the MariaDB 10.11 here by scripts/capture-mariadb-n-plus-one.sh.
    let r = analyze_json(&["fixtures/mysql_slow/n_plus_one.log"]);
    let n1 = of_rule(&r, "n-plus-one");
    assert_eq!(n1.len(), 1, "{n1:#?}");
    assert_eq!(
        n1[0]["query"],
        "SELECT product_id, quantity FROM order_items WHERE order_id = ?"
    );
    assert_eq!(n1[0]["evidence"]["loops"], 9);
    assert_eq!(n1[0]["evidence"]["sessions"], 2);
    let sqls = suggestion_sqls(n1[0]);
    assert!(
        sqls.iter()
            .any(|s| s.contains("LEFT JOIN order_items AS c ON c.order_id = p.id")),
        "{sqls:?}"
    );
    assert!(
        sqls.contains(&"SELECT product_id, quantity FROM order_items WHERE order_id IN (?)"),
        "{sqls:?}"
    );
}

#[test]
fn statements_sqlparser_cannot_read_are_listed_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("odd.log");
    std::fs::write(
        &log,
        "2026-01-05 10:00:00.001 UTC [5] app@shop LOG:  duration: 30.000 ms  statement: BASE_BACKUP ( LABEL 'x', PROGRESS )\n\
         2026-01-05 10:00:00.002 UTC [5] app@shop LOG:  duration: 1.000 ms  statement: SELECT id FROM t WHERE a = 1\n",
    )
    .unwrap();
    let r = analyze_json(&[log.to_str().unwrap()]);
    let unparsed = r["unparsed"].as_array().unwrap();
    assert_eq!(unparsed.len(), 1, "{unparsed:#?}");
    assert!(
        unparsed[0]["query"]
            .as_str()
            .unwrap()
            .starts_with("BASE_BACKUP")
    );
    assert!(unparsed[0]["fingerprint"].is_string() && unparsed[0]["error"].is_string());
    assert_eq!(r["summary"]["events"], 2);
}

#[test]
fn mysql_index_advice_is_alter_table() {
    let r = analyze_json(&["fixtures/rules/missing-index/hit_mysql.log"]);
    let ix = r["indexes"].as_array().unwrap();
    assert_eq!(ix.len(), 1, "{ix:#?}");
    assert_eq!(
        ix[0]["sql"],
        "ALTER TABLE orders ADD INDEX orders_customer_id_created_at_idx (customer_id, created_at DESC);"
    );
    let out = common::qperf(&[
        "analyze",
        "fixtures/rules/missing-index/hit_mysql.log",
        "--format",
        "sql",
    ]);
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(!script.contains("CONCURRENTLY"), "{script}");
    parses(ix[0]["sql"].as_str().unwrap(), "mysql");
}
