//! The fingerprint spec, in the style of pg_query's fingerprint tests: what must collapse
//! to one fingerprint, then (under "Testing uniqueness") what must not.

use qperf::fingerprint::{Fingerprint, Normalizer, Style};

fn pg(sql: &str) -> Fingerprint {
    Normalizer::new().fingerprint(sql, false)
}

fn my(sql: &str) -> Fingerprint {
    Normalizer::new().fingerprint(sql, true)
}

#[track_caller]
fn same(a: &str, b: &str) {
    assert_eq!(pg(a), pg(b), "expected one fingerprint:\n  {a}\n  {b}");
}

#[track_caller]
fn different(a: &str, b: &str) {
    assert_ne!(
        pg(a),
        pg(b),
        "expected different fingerprints:\n  {a}\n  {b}"
    );
}

#[test]
fn it_ignores_literal_values() {
    same("SELECT * FROM x WHERE y = 1", "SELECT * FROM x WHERE y = 2");
    same(
        "SELECT * FROM x WHERE y = 'a'",
        "SELECT * FROM x WHERE y = 'it''s'",
    );
    same(
        "SELECT * FROM x WHERE y = 1.5e3",
        "SELECT * FROM x WHERE y = 7",
    );
    same(
        "SELECT * FROM x WHERE y = -1",
        "SELECT * FROM x WHERE y = 1",
    );
    same(
        "SELECT * FROM x WHERE y = E'a\\'b'",
        "SELECT * FROM x WHERE y = 'c'",
    );
    same("SELECT $$abc$$", "SELECT $tag$x$y$tag$");
}

#[test]
fn it_treats_parameters_and_literals_alike() {
    // Extended protocol ($1), simple protocol (inlined literal) and client-side `?`.
    same(
        "SELECT id, sku FROM products WHERE id = $1",
        "SELECT id, sku FROM products WHERE id = 934",
    );
    same(
        "SELECT id FROM t WHERE a = $1 AND b = $2",
        "SELECT id FROM t WHERE a = ? AND b = 'x'",
    );
}

#[test]
fn it_ignores_in_list_size() {
    same(
        "SELECT * FROM x WHERE y IN ($1, $2, $3)",
        "SELECT * FROM x WHERE y IN ($1)",
    );
    same(
        "SELECT * FROM x WHERE y IN (1, 2, 3)",
        "SELECT * FROM x WHERE y IN (4)",
    );
    same(
        "SELECT * FROM x WHERE y = ANY(ARRAY[1, 2, 3])",
        "SELECT * FROM x WHERE y = ANY(ARRAY[1])",
    );
}

#[test]
fn it_ignores_values_list_length() {
    same(
        "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
        "INSERT INTO t (a, b) VALUES ($1, $2)",
    );
    same(
        "INSERT INTO t (a, b) VALUES (1, now()), (2, now()), (3, now())",
        "INSERT INTO t (a, b) VALUES (1, now())",
    );
}

#[test]
fn it_ignores_comments_whitespace_and_keyword_case() {
    same(
        "SELECT a FROM t WHERE b = 1",
        "select   a\n\tfrom t -- trailing\n where b=1",
    );
    same(
        "SELECT a FROM t /* controller='orders',action='index' */",
        "/* traceparent='00-abc-01' */ SELECT a FROM t",
    );
    same("SELECT a FROM t;", "SELECT a FROM t");
    same(
        "SELECT \"users\".id FROM \"users\"",
        "SELECT users.id FROM users",
    );
}

#[test]
fn mysql_lexing() {
    assert_eq!(
        my("SELECT * FROM `t` WHERE a = \"x\""),
        my("SELECT * FROM t WHERE a = 'y'")
    );
    assert_eq!(my("SELECT 'a\\'b' FROM t"), my("SELECT 'c' FROM t"));
    assert_eq!(my("SELECT a FROM t # comment"), my("SELECT a FROM t"));
    assert_eq!(
        my("SHOW /*!50002 GLOBAL */ STATUS"),
        my("SHOW GLOBAL STATUS")
    );
}

// Testing uniqueness

#[test]
fn it_keeps_different_statements_apart() {
    different("SELECT a FROM t", "SELECT b FROM t");
    different("SELECT a FROM t WHERE b = 1", "SELECT a FROM t WHERE b > 1");
    different(
        "SELECT * FROM orders WHERE user_id = $1",
        "SELECT * FROM orders WHERE user_id = $1 LIMIT 20",
    );
    different(
        "SELECT a FROM t ORDER BY a ASC",
        "SELECT a FROM t ORDER BY a DESC",
    );
    different(
        "SELECT a FROM t WHERE b IS NULL",
        "SELECT a FROM t WHERE b IS NOT NULL",
    );
    different(
        "SELECT a FROM t WHERE b = true",
        "SELECT a FROM t WHERE b = false",
    );
    different(
        "SELECT \"Users\".id FROM \"Users\"",
        "SELECT users.id FROM users",
    );
    different(
        "INSERT INTO t (a, b) VALUES (1, 2)",
        "INSERT INTO t (a, c) VALUES (1, 2)",
    );
    different(
        "SELECT a FROM t WHERE b IN (1, 2)",
        "SELECT a FROM t WHERE b IN (SELECT c FROM u)",
    );
}

#[test]
fn normalized_text() {
    let mut n = Normalizer::new();
    assert_eq!(
        n.normalize("SELECT * FROM orders WHERE user_id = 42 AND status = 'completed' ORDER BY created_at DESC LIMIT 20", false, Style::Dollar).1,
        "SELECT * FROM orders WHERE user_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT $3"
    );
    assert_eq!(
        n.normalize(
            "select * from t where a in (1, 2, 3)",
            true,
            Style::Question
        )
        .1,
        "select * from t where a in (?)"
    );
    let fp = n.fingerprint("SELECT 1", false);
    assert_eq!(fp.to_string().len(), 16);
    assert_eq!(fp.to_string().parse::<Fingerprint>().unwrap(), fp);
}

#[test]
fn fingerprints_are_stable_across_releases() {
    // Baselines and CI configs key on these ids: changing them is a breaking change.
    assert_eq!(
        pg("SELECT * FROM users WHERE id = $1").to_string(),
        "c4125c4481817e3f"
    );
}
