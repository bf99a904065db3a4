//! Against the real PostgreSQL: catalog facts, `explain --db`, `verify` with HypoPG.
//!
//! The server comes from QPERF_TEST_DATABASE_URL (default: trust auth on 127.0.0.1:5432
//! as `postgres`, as on the project's machines and in CI). Each test creates its own
//! database and drops it. Without a server these tests fail, saying what to start:
//! they never skip.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{fixture, qperf};
use serde_json::Value;

fn admin_url() -> String {
    std::env::var("QPERF_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/postgres".into())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {url} ({e}).\n\
             These tests need a running server: start it (Debian: pg_ctlcluster --skip-systemctl-redirect 15 main start; \
             or docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15), \
             or point QPERF_TEST_DATABASE_URL at one. `qperf verify` also needs HypoPG (apt-get install postgresql-15-hypopg)."
        )
    });
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// Runs qperf, which must succeed, and parses its JSON output.
fn ok_json(args: &[&str]) -> Value {
    let out = qperf(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "qperf {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A database of its own for one test, dropped at the end.
struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    fn new(tag: &str) -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "qperf_test_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        rt().block_on(async {
            let c = connect(&admin_url()).await;
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
        });
        let base = admin_url();
        let url = match base.rsplit_once('/') {
            Some((head, _)) => format!("{head}/{name}"),
            None => base,
        };
        TestDb { name, url }
    }

    fn exec(&self, sql: &str) {
        rt().block_on(async { connect(&self.url).await.batch_execute(sql).await.unwrap() });
    }

    fn count(&self, sql: &str) -> i64 {
        rt().block_on(async {
            connect(&self.url)
                .await
                .query_one(sql, &[])
                .await
                .unwrap()
                .get(0)
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        rt().block_on(async {
            let c = connect(&admin_url()).await;
            let _ = c
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        });
    }
}

/// The seed_shop schema (the bundled pg_dump) with a scaled-down data set.
fn seed_shop_small(db: &TestDb) {
    let dump = std::fs::read_to_string(fixture("seed_shop/schema.sql")).unwrap();
    let ddl: String = dump
        .lines()
        // psql meta-commands, and owners: the dump's role need not exist here.
        .filter(|l| {
            let owner = l.starts_with("ALTER ") && l.contains(" OWNER TO ");
            !(l.starts_with('\\') || owner)
        })
        .collect::<Vec<_>>()
        .join("\n");
    db.exec(&ddl);
    db.exec(
        "SET search_path = public;
         INSERT INTO users SELECT g, 'u'||g, 'u'||g||'@x', null, repeat('b', 800), '{}', 'fr', now(), now() FROM generate_series(1, 5000) g;
         INSERT INTO products SELECT g, 'sku'||g, 'p'||g, 'c', 1, 10, null, now() FROM generate_series(1, 1000) g;
         INSERT INTO orders SELECT g, 1 + g % 5000, (ARRAY['completed','completed','completed','pending','cancelled'])[1 + g % 5],
                g % 100, 'EUR', null, now() - g * interval '1 minute', now() FROM generate_series(1, 150000) g;
         INSERT INTO order_items SELECT g, 1 + g % 150000, 1 + g % 1000, 1, 1 FROM generate_series(1, 600000) g;
         ANALYZE;",
    );
}

#[test]
fn verify_then_apply_then_no_more_suggestions() {
    let db = TestDb::new("verify");
    seed_shop_small(&db);
    let log = fixture("seed_shop/baseline.log.gz");
    let r = ok_json(&[
        "verify",
        "--db",
        &db.url,
        log.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let ix = r["indexes"].as_array().unwrap();
    assert_eq!(ix.len(), 2, "{r:#}");
    for i in ix {
        assert!(i["reduction"].as_f64().unwrap() >= 0.5, "{i:#}");
        assert_eq!(i["worth_it"], true);
        for s in i["statements"].as_array().unwrap() {
            assert!(s["reduction"].as_f64().unwrap() >= 0.5, "{s:#}");
            assert!(s["cost_after"].as_f64().unwrap() < s["cost_before"].as_f64().unwrap());
        }
    }
    assert_eq!(ix[0]["columns"], serde_json::json!(["order_id"]));
    assert_eq!(
        ix[1]["columns"],
        serde_json::json!(["user_id", "status", "created_at DESC"])
    );

    // One logged statement, EXPLAIN ANALYZEd with the values of its slowest execution.
    let r = ok_json(&[
        "explain",
        "--db",
        &db.url,
        "--fingerprint",
        "4e32606e681d67fe",
        log.to_str().unwrap(),
        "--analyze",
        "--format",
        "json",
    ]);
    assert_eq!(r["plan"]["root"]["node_type"], "Limit");
    assert!(
        r["plan"]["execution_ms"].as_f64().is_some(),
        "it ran: {:#}",
        r["plan"]
    );
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "seq-scan" || f["rule"] == "missing-index")
    );

    // The same from the script `analyze --format sql` writes: generic plans, no values.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fixes.sql");
    std::fs::write(
        &script,
        qperf(&["analyze", log.to_str().unwrap(), "--format", "sql"]).stdout,
    )
    .unwrap();
    let r = ok_json(&[
        "verify",
        "--db",
        &db.url,
        script.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let ix = r["indexes"].as_array().unwrap();
    assert_eq!(ix.len(), 2, "{r:#}");
    assert!(
        ix.iter()
            .all(|i| i["worth_it"] == true && !i["statements"].as_array().unwrap().is_empty()),
        "{r:#}"
    );

    // --real builds each index inside a transaction, measures, and rolls it back.
    let indexes = || db.count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'");
    let before = indexes();
    let r = ok_json(&[
        "verify",
        "--db",
        &db.url,
        log.to_str().unwrap(),
        "--real",
        "--format",
        "json",
    ]);
    for s in r["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["statements"].as_array().unwrap())
    {
        let (a, b) = (
            s["ms_before"].as_f64().unwrap(),
            s["ms_after"].as_f64().unwrap(),
        );
        assert!(b < a, "measured {a} ms → {b} ms: {s:#}");
    }
    assert_eq!(indexes(), before, "the real indexes were rolled back");

    // Apply exactly what qperf emits, then ask again with the live catalog.
    let sql = qperf(&["analyze", log.to_str().unwrap(), "--format", "sql"]);
    for stmt in String::from_utf8(sql.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("CREATE INDEX"))
    {
        db.exec(stmt);
    }
    let r = ok_json(&[
        "analyze",
        log.to_str().unwrap(),
        "--db",
        &db.url,
        "--format",
        "json",
    ]);
    assert!(
        r["indexes"].as_array().unwrap().is_empty(),
        "{:#}",
        r["indexes"]
    );
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "missing-index")
    );
    // The catalog names the wide columns `SELECT *` drags along.
    let star = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "select-star" && f["query"] == "SELECT * FROM users WHERE id = $1")
        .unwrap();
    assert!(
        star["message"].as_str().unwrap().contains("users.bio"),
        "{star:#}"
    );
}

#[test]
fn explain_analyze_of_a_write_is_rolled_back() {
    let db = TestDb::new("explain");
    db.exec("CREATE TABLE orders (id int PRIMARY KEY, total int); INSERT INTO orders SELECT g, g FROM generate_series(1, 2000) g;");
    let out = qperf(&[
        "explain",
        "--db",
        &db.url,
        "--analyze",
        "--sql",
        "DELETE FROM orders",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --analyze-writes"));
    let r = ok_json(&[
        "explain",
        "--db",
        &db.url,
        "--analyze",
        "--analyze-writes",
        "--sql",
        "DELETE FROM orders",
        "--format",
        "json",
    ]);
    assert_eq!(r["plan"]["root"]["operation"], "Delete");
    assert_eq!(
        r["plan"]["root"]["children"][0]["actual_rows"], 2000.0,
        "it ran"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM orders"),
        2000,
        "and was rolled back"
    );
    // Parameters, and a read-only session: a plain EXPLAIN of a write is fine.
    let out = qperf(&[
        "explain",
        "--db",
        &db.url,
        "--sql",
        "SELECT * FROM orders WHERE id = $1",
        "--param",
        "42",
        "--analyze",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Index Scan using orders_pkey on orders")
    );
}

#[test]
fn the_password_never_appears() {
    let secret = "Sup3r-Secret-Pw";
    let bad = format!("postgresql://postgres:{secret}@127.0.0.1:1/nowhere");
    for args in [
        vec![
            "analyze",
            "fixtures/rules/missing-index/hit.log",
            "--db",
            bad.as_str(),
        ],
        vec![
            "verify",
            "fixtures/rules/missing-index/hit.log",
            "--db",
            bad.as_str(),
        ],
        vec!["explain", "--db", bad.as_str(), "--sql", "SELECT 1"],
    ] {
        let out = qperf(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("postgres@127.0.0.1:1/nowhere"), "{all}");
        assert!(
            !all.contains(secret),
            "{args:?} printed the password: {all}"
        );
    }
    // A server error that could echo input does not carry it either.
    let db = TestDb::new("pw");
    let with_pw = db
        .url
        .replacen("postgres@", &format!("postgres:{secret}@"), 1);
    let out = qperf(&[
        "explain",
        "--db",
        &with_pw,
        "--sql",
        &format!("SELECT * FROM \"{secret}\""),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(secret), "{all}");
}

#[test]
fn pg_stat_statements_is_a_workload_source() {
    let db = TestDb::new("pgss");
    db.exec(
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
         CREATE TABLE events (id int PRIMARY KEY, kind int, payload jsonb);
         INSERT INTO events SELECT g, g % 50, '{}' FROM generate_series(1, 300000) g;
         ANALYZE events;",
    );
    rt().block_on(async {
        let c = connect(&db.url).await;
        for k in 0..25 {
            c.query("SELECT id, payload FROM events WHERE kind = $1", &[&k])
                .await
                .unwrap();
        }
    });
    let r = ok_json(&[
        "analyze",
        "--db",
        &db.url,
        "--pg-stat-statements",
        "--format",
        "json",
    ]);
    let q = r["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["query"] == "SELECT id, payload FROM events WHERE kind = $1")
        .unwrap_or_else(|| panic!("{:#}", r["queries"]));
    assert_eq!(q["calls"], 25);
    assert!(q["total_ms"].as_f64().unwrap() > 0.0);
    assert!(q["p95_ms"].is_null(), "a summary has no percentiles");
    assert!(
        r["summary"]["files"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("pg_stat_statements (")
    );
}

#[test]
fn column_statistics_order_the_equality_columns() {
    let db = TestDb::new("stats");
    db.exec(
        "CREATE TABLE accounts (id int PRIMARY KEY, tenant_id int, email text);
         INSERT INTO accounts SELECT g, g % 2, 'user' || g || '@example.com' FROM generate_series(1, 50000) g;
         ANALYZE accounts;",
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("accounts.log");
    let mut text = String::new();
    for i in 0..5 {
        text.push_str(&format!(
            "2026-01-05 10:00:0{i}.000 UTC [7] app@shop LOG:  duration: 60.000 ms  execute <unnamed>: \
             SELECT id FROM accounts WHERE tenant_id = $1 AND email = 'user42@example.com'\n\
             2026-01-05 10:00:0{i}.000 UTC [7] app@shop DETAIL:  parameters: $1 = '{}'\n",
            i % 2
        ));
    }
    std::fs::write(&log, text).unwrap();
    // Offline, the parameter comes first (a constant is usually a status-like value) ...
    let r = common::analyze_json(&[log.to_str().unwrap()]);
    assert_eq!(
        r["indexes"][0]["columns"],
        serde_json::json!(["tenant_id", "email"])
    );
    // ... the statistics know better: email has 50,000 values, tenant_id 2.
    let r = common::analyze_json(&[log.to_str().unwrap(), "--db", &db.url]);
    assert_eq!(
        r["indexes"][0]["columns"],
        serde_json::json!(["email", "tenant_id"])
    );
}

#[test]
fn tls_when_the_url_asks_for_it() {
    // The Debian server here has ssl = on with its snakeoil certificate.
    let db = TestDb::new("tls");
    db.exec("CREATE TABLE t (id int PRIMARY KEY)");
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}sslmode=require", db.url);
    let out = qperf(&[
        "explain",
        "--db",
        &url,
        "--sql",
        "SELECT id FROM t WHERE id = 1",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ssl = rt().block_on(async {
        // The same connection path, asked whether the session is encrypted.
        let target = qperf::live::Target::resolve(Some(&url)).unwrap();
        let c = target.connect().await.unwrap();
        c.query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get::<_, bool>(0)
    });
    assert!(ssl, "sslmode=require gave an unencrypted session");
}

#[test]
fn tls_verify_modes_check_the_servers_certificate() {
    // The Debian server here has ssl = on with its snakeoil certificate: self-signed,
    // naming `localhost`.
    let db = TestDb::new("tlsverify");
    db.exec("CREATE TABLE t (id int PRIMARY KEY)");
    let cert: String = rt().block_on(async {
        connect(&db.url)
            .await
            .query_one("SHOW ssl_cert_file", &[])
            .await
            .unwrap()
            .get(0)
    });
    assert!(
        std::fs::metadata(&cert).is_ok(),
        "the server's certificate {cert} must be readable here (ssl = on, as Debian sets it up)"
    );
    assert!(
        db.url.contains("@127.0.0.1:"),
        "{}: the test expects 127.0.0.1",
        db.url
    );
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let run = |url: &str| {
        qperf(&[
            "explain",
            "--db",
            url,
            "--sql",
            "SELECT id FROM t WHERE id = 1",
        ])
    };
    let refused = |url: String, why: &str| {
        let out = run(&url);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{why}: {url}: {err}");
        assert!(err.contains("certificate"), "{why}: {err}");
    };
    let accepted = |url: String| {
        let out = run(&url);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{url}: {err}");
    };
    let root = format!("sslrootcert={cert}");
    // verify-full checks the name: the certificate names localhost, not 127.0.0.1
    // (whether the system trusts it or not: this machine kind links the snakeoil
    // certificate into /etc/ssl/certs, so a trust failure cannot be shown here).
    refused(
        format!("{}{sep}sslmode=verify-full", db.url),
        "the certificate names localhost",
    );
    refused(
        format!("{}{sep}sslmode=verify-full&{root}", db.url),
        "the certificate names localhost",
    );
    let local = db.url.replace("@127.0.0.1:", "@localhost:");
    accepted(format!("{local}{sep}sslmode=verify-full&{root}"));
    // verify-ca does not check the name.
    accepted(format!("{}{sep}sslmode=verify-ca&{root}", db.url));
    // A root certificate that is none: an error that says so, not a silent downgrade.
    let not_pem = common::root().join("Cargo.toml");
    let out = run(&format!(
        "{}{sep}sslmode=verify-ca&sslrootcert={}",
        db.url,
        not_pem.display()
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a PEM certificate"), "{err}");
    // Without verification the same server is fine, as before.
    accepted(format!("{}{sep}sslmode=require", db.url));
}

#[test]
fn unused_index_from_the_servers_counters() {
    let db = TestDb::new("unused");
    db.exec(
        "CREATE TABLE events (id int PRIMARY KEY, kind int, created_at timestamptz);
         INSERT INTO events SELECT g, g % 20, now() - g * interval '1 second' FROM generate_series(1, 100000) g;
         CREATE INDEX events_created_at_idx ON events (created_at);
         CREATE TABLE sessions (id int PRIMARY KEY, token text UNIQUE);
         INSERT INTO sessions SELECT g, 't' || g FROM generate_series(1, 50000) g;
         ANALYZE;",
    );
    // Statistics here are minutes old: accept that for the test.
    let run = |log: &str| {
        let path = fixture(&format!("rules/unused-index/{log}"));
        common::analyze_json(&[
            path.to_str().unwrap(),
            "--db",
            &db.url,
            "--set",
            "unused-index.min_stats_days=0",
        ])
    };
    let r = run("hit.log");
    let f: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unused-index")
        .collect();
    assert_eq!(f.len(), 1, "{:#}", r["findings"]);
    assert_eq!(f[0]["evidence"]["index"], "events_created_at_idx");
    assert_eq!(
        f[0]["suggestions"][0]["sql"],
        "DROP INDEX IF EXISTS events_created_at_idx;"
    );
    // A unique index is never reported, used or not.
    let r = run("ok.log");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "unused-index"),
        "{:#}",
        r["findings"]
    );
    // And a fresh statistics window says nothing by default.
    let path = fixture("rules/unused-index/hit.log");
    let r = common::analyze_json(&[path.to_str().unwrap(), "--db", &db.url]);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "unused-index")
    );
}
