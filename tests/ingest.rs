//! Reading real and focused logs end to end through the binary.

mod common;

use common::{analyze_json, fixture, query};

const ITEMS: &str = "SELECT * FROM order_items WHERE order_id = $1";
const DASHBOARD: &str = "SELECT count(*) AS orders, coalesce(sum(total), $1) AS spend, max(created_at) AS last_order FROM orders WHERE user_id = $2 AND status = $3";
const ORDERS: &str =
    "SELECT * FROM orders WHERE user_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT $3";
const USERS: &str = "SELECT * FROM users WHERE id = $1";
const PRODUCT: &str = "SELECT id, sku, name, price, stock FROM products WHERE id = $1";

/// The seed_shop capture's answer key holds in all three PostgreSQL formats.
#[test]
fn seed_shop_counts_in_stderr_csvlog_and_jsonlog() {
    let mut totals = Vec::new();
    for f in [
        "seed_shop/baseline.log.gz",
        "seed_shop/baseline.csv.gz",
        "seed_shop/baseline.json.gz",
    ] {
        let r = analyze_json(&[fixture(f).to_str().unwrap()]);
        let s = &r["summary"];
        assert_eq!(s["events"], 3836, "{f}");
        assert_eq!(s["fingerprints"], 18, "{f}");
        assert_eq!(s["unrecognized_lines"], 0, "{f}");
        assert_eq!(s["temp_files"], 8, "{f}");
        assert_eq!(query(&r, ITEMS)["calls"], 1375, "{f}");
        assert_eq!(query(&r, DASHBOARD)["calls"], 732, "{f}");
        assert_eq!(query(&r, ORDERS)["calls"], 74, "{f}");
        assert_eq!(query(&r, USERS)["calls"], 223, "{f}");
        // BEGIN/COMMIT are statements of their own, counted once each.
        assert_eq!(query(&r, "BEGIN")["calls"], 50, "{f}");
        assert_eq!(query(&r, "COMMIT")["calls"], 50, "{f}");
        // auto_explain plans attach to their statement, never counted as executions.
        assert_eq!(query(&r, ITEMS)["plans"], 1375, "{f}");
        let plans: u64 = r["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["plans"].as_u64().unwrap())
            .sum();
        assert_eq!(plans, 2189, "{f}");
        // The monthly report's temporary files belong to it.
        let report = r["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["temp_files"] == 8)
            .unwrap();
        assert!(
            report["query"]
                .as_str()
                .unwrap()
                .starts_with("SELECT date_trunc("),
            "{f}"
        );
        // The items look-up is ranked first by total time.
        assert_eq!(r["queries"][0]["query"], ITEMS, "{f}");
        totals.push(s["total_ms"].as_f64().unwrap());
    }
    assert!(
        totals.windows(2).all(|w| (w[0] - w[1]).abs() < 1.0),
        "{totals:?}"
    );
}

/// `$1` (extended protocol) and inlined literals (simple protocol) are one statement.
#[test]
fn seed_shop_product_lookup_forms_are_one_fingerprint() {
    let r = analyze_json(&[fixture("seed_shop/baseline.log.gz").to_str().unwrap()]);
    let q = query(&r, PRODUCT);
    assert_eq!(q["calls"], 213);
    let n = r["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| {
            q["query"]
                .as_str()
                .unwrap()
                .starts_with("SELECT id, sku, name, price, stock FROM products")
        })
        .count();
    assert_eq!(n, 1);
}

#[test]
fn percentiles_follow_the_durations() {
    let r = analyze_json(&[fixture("seed_shop/baseline.log.gz").to_str().unwrap()]);
    let q = query(&r, ITEMS);
    let (p50, p95, p99, max, min) = (
        q["p50_ms"].as_f64().unwrap(),
        q["p95_ms"].as_f64().unwrap(),
        q["p99_ms"].as_f64().unwrap(),
        q["max_ms"].as_f64().unwrap(),
        q["min_ms"].as_f64().unwrap(),
    );
    assert!(min <= p50 && p50 <= p95 && p95 <= p99 && p99 <= max, "{q}");
    let mean = q["mean_ms"].as_f64().unwrap();
    assert!((q["total_ms"].as_f64().unwrap() / 1375.0 - mean).abs() < 0.01);
}

#[test]
fn log_statement_pairs_with_log_duration_and_errors_with_statement() {
    let r = analyze_json(&[fixture("pg_stderr/log_statement.log").to_str().unwrap()]);
    let users = query(&r, "SELECT id, name FROM users WHERE id = $1");
    assert_eq!(users["calls"], 2);
    assert_eq!(users["total_ms"], 30.0);
    // log_statement=all with log_min_duration_statement=0 logs one execution twice.
    assert_eq!(query(&r, "SELECT $1")["calls"], 1);
    let sleep = query(&r, "SELECT pg_sleep($1)");
    assert_eq!(
        (sleep["calls"].as_u64(), sleep["errors"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        sleep["error_messages"][0],
        "canceling statement due to statement timeout"
    );
    let nope = query(&r, "SELECT * FROM nope");
    assert_eq!(
        (nope["calls"].as_u64(), nope["errors"].as_u64()),
        (Some(0), Some(1))
    );
    let big = query(&r, "SELECT * FROM big ORDER BY $1");
    assert_eq!(
        (big["temp_files"].as_u64(), big["temp_bytes"].as_u64()),
        (Some(1), Some(12517376))
    );
    assert_eq!(r["summary"]["errors"], 2);
}

#[test]
fn extended_protocol_plans_and_truncation() {
    let r = analyze_json(&[fixture("pg_stderr/extended_protocol.log").to_str().unwrap()]);
    // parse and bind are not executions; named, unnamed, literal and lower-case forms are one.
    let items = query(&r, "SELECT * FROM items WHERE order_id = $1");
    assert_eq!(items["calls"], 4);
    assert_eq!(items["total_ms"], 11.0);
    // A plan logged after its statement, one logged before (simple protocol), one alone.
    assert_eq!(
        query(
            &r,
            "SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2"
        )["plans"],
        1
    );
    let count = query(&r, "SELECT count(*) FROM orders WHERE status = $1");
    assert_eq!(
        (count["calls"].as_u64(), count["plans"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        query(&r, "INSERT INTO t (a, b) VALUES ($1, $2)")["calls"],
        2
    );
    assert_eq!(query(&r, "SELECT * FROM t WHERE a IN ($1)")["calls"], 2);
    // The last entry is cut off mid-statement: it is still counted.
    assert_eq!(
        query(&r, "SELECT * FROM t WHERE a = $1 AND b = (SELECT")["calls"],
        1
    );
    assert_eq!(r["summary"]["events"], 12);
}

#[test]
fn parameters_are_redacted_unless_asked_for() {
    let f = fixture("pg_stderr/extended_protocol.log");
    let r = analyze_json(&[f.to_str().unwrap()]);
    let text = r.to_string();
    assert!(!text.contains("multi-line value"), "parameters leaked");
    assert!(text.contains("<redacted>"));
    let r = analyze_json(&[f.to_str().unwrap(), "--show-params"]);
    let items = query(&r, "SELECT * FROM items WHERE order_id = $1");
    // Samples are the slowest executions, slowest first. The tab PostgreSQL puts before
    // each continuation line is not part of the value.
    let params: Vec<&str> = items["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["params"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        params,
        ["$1 = '11'", "$1 = 'it''s\na multi-line value'", ""]
    );
}

#[test]
fn syslog_rds_and_mariadb() {
    let r = analyze_json(&[fixture("pg_stderr/syslog.log").to_str().unwrap()]);
    let q = &r["queries"][0];
    assert_eq!(
        q["calls"], 2,
        "multi-line syslog statement and its one-line form"
    );
    assert_eq!(q["databases"][0], "shop");
    assert_eq!(r["summary"]["unrecognized_lines"], 1);
    assert_eq!(r["summary"]["files"][0]["first_unrecognized"][0]["line"], 6);

    let r = analyze_json(&[fixture("pg_stderr/rds.log").to_str().unwrap()]);
    let carts = query(&r, "SELECT * FROM carts WHERE id = $1");
    assert_eq!(carts["users"][0], "app");
    assert_eq!(carts["calls"], 2);

    let r = analyze_json(&[fixture("mysql_slow/mariadb-10.11.log").to_str().unwrap()]);
    assert_eq!(r["summary"]["files"][0]["format"], "mysql-slow");
    let items = query(&r, "SELECT * FROM order_items WHERE order_id = ?");
    assert_eq!(items["calls"], 2);
    assert_eq!(items["databases"][0], "test");
    assert_eq!(
        query(&r, "SELECT * FROM order_items WHERE order_id IN (?)")["calls"],
        1
    );
    // `use`, `SET timestamp` are attributes, not statements.
    assert!(!r.to_string().contains("SET timestamp"));
}

#[test]
fn filters_apply_while_reading() {
    let f = fixture("pg_stderr/rds.log");
    let r = analyze_json(&[f.to_str().unwrap(), "--exclude-user", "admin"]);
    assert_eq!(r["summary"]["events"], 2);
    assert_eq!(r["summary"]["filtered_out"], 1);
    let r = analyze_json(&[f.to_str().unwrap(), "--since", "2020-03-11 20:41:01"]);
    assert_eq!(r["summary"]["events"], 2);
    let r = analyze_json(&[f.to_str().unwrap(), "--include-db", "postgres"]);
    assert_eq!(r["summary"]["events"], 1);
}

#[test]
fn explicit_log_line_prefix() {
    let f = fixture("pg_stderr/rds.log");
    let r = analyze_json(&[
        f.to_str().unwrap(),
        "--log-line-prefix",
        "%t:%r:%u@%d:[%p]:",
    ]);
    assert_eq!(r["summary"]["events"], 3);
    assert_eq!(
        query(&r, "SELECT * FROM carts WHERE id = $1")["databases"][0],
        "shop"
    );
}

#[test]
fn heroku_continuations_and_space_indented_lines() {
    let r = analyze_json(&[fixture("pg_stderr/heroku_logplex.log").to_str().unwrap()]);
    assert_eq!(r["summary"]["unrecognized_lines"], 0);
    assert_eq!(
        query(&r, "UPDATE jobs SET state = $1 WHERE id = $2")["calls"],
        1
    );
    assert_eq!(
        query(&r, "SELECT a FROM jobs WHERE id = $1")["samples"][0]["session"],
        "4850"
    );
}

/// A csvlog line cut short with a quote open (a crash mid-write), then the server logging
/// on: the reader gives the open row up after 16 MB and reads the rows after that,
/// instead of making the rest of the file one row (held in memory, every record lost).
#[test]
fn csvlog_unterminated_quote_is_given_up_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.csv");
    let row = |i: usize| {
        format!(
            "2026-11-20 10:{:02}:{:02}.{:03} UTC,\"app\",\"shop\",{},\"10.0.0.1:5432\",,,,,,,LOG,00000,\"duration: 1.000 ms  statement: SELECT * FROM orders WHERE id = {i}\",,,,,,,,,\"rails\"\n",
            i / 60000 % 60,
            i / 1000 % 60,
            i % 1000,
            1000 + i % 7
        )
    };
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&row(i));
    }
    text.push_str("2026-11-20 10:00:00.500 UTC,\"app\",\"shop\",9,\"10.0.0.1:5432\",,,,,,,LOG,00000,\"duration: 2.0 ms  statement: SELECT 'cut short\n");
    let broken_line = 11;
    let mut n = 10;
    while text.len() < 20 << 20 {
        text.push_str(&row(n));
        n += 1;
    }
    let total = n - 1;
    std::fs::write(&path, &text).unwrap();
    let per_row = row(5000).len();
    for jobs in ["1", "2"] {
        let r = analyze_json(&[path.to_str().unwrap(), "--jobs", jobs]);
        let s = &r["summary"];
        let events = s["events"].as_u64().unwrap() as usize;
        // The rows within 16 MB of the open quote are lost; all after them are read.
        let lost = (16 << 20) / per_row + 2;
        assert!(events < total, "--jobs {jobs}: {events}");
        assert!(events + lost >= total, "--jobs {jobs}: {events} of {total}");
        let first = &s["files"][0]["first_unrecognized"][0];
        assert_eq!(first["line"], broken_line, "--jobs {jobs}: {first}");
        assert!(
            first["text"].as_str().unwrap().contains("does not close"),
            "--jobs {jobs}: {first}"
        );
    }
}
