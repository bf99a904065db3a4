//! `--jobs N` gives the report `--jobs 1` gives: a log is cut into chunks read by
//! several threads, and nothing may be lost, duplicated or paired differently at a
//! chunk border. The logs are generated here (several MB, deterministic) with what
//! straddles borders in real logs: multi-line statements, `DETAIL:  parameters:` lines,
//! auto_explain plans logged before their statement, errors with their `STATEMENT`,
//! temporary files, and N+1 loops interleaved across sessions. Small `--chunk-bytes`
//! put thousands of borders inside those entries and loops.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::qperf;

/// A small deterministic generator (no dependency for tests).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One session's queue of log entries; an entry's lines are written together, as
/// PostgreSQL writes one message with its DETAIL lines.
struct Session {
    pid: u32,
    queue: Vec<Vec<String>>,
}

fn stamp(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "2026-11-20 {:02}:{:02}:{:02}.{:03} UTC",
        10 + s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

/// Entries of one session: returns how many statement executions they hold.
fn session_work(rng: &mut Rng, pid: u32, out: &mut Vec<Vec<String>>) -> u64 {
    let mut n = 0;
    let exec = |sql: &str, ms: f64, params: Option<String>| {
        let mut e = vec![format!(
            "LOG:  duration: {ms:.3} ms  execute <unnamed>: {sql}"
        )];
        if let Some(p) = params {
            e.push(format!("DETAIL:  parameters: {p}"));
        }
        e
    };
    for _ in 0..40 {
        match rng.below(10) {
            // An N+1 loop: the list, then one query per row.
            0..=3 => {
                let user = rng.below(5000);
                out.push(exec(
                    "SELECT id FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20",
                    2.0 + rng.below(900) as f64 / 100.0,
                    Some(format!("$1 = '{user}'")),
                ));
                n += 1;
                for _ in 0..5 + rng.below(20) {
                    out.push(exec(
                        "SELECT * FROM order_items WHERE order_id = $1",
                        0.05 + rng.below(300) as f64 / 1000.0,
                        Some(format!("$1 = '{}'", rng.below(1_000_000))),
                    ));
                    n += 1;
                }
            }
            // A multi-line statement with inlined values (simple protocol).
            4 | 5 => {
                let id = rng.below(100_000);
                out.push(vec![
                    format!(
                        "LOG:  duration: {:.3} ms  statement: SELECT u.id,",
                        0.1 + rng.below(500) as f64 / 100.0
                    ),
                    "\t       u.email".to_string(),
                    // In a csvlog field: a line that starts like a row.
                    "\t-- 2026-11-20 10:00:00.000 UTC,\"app\",\"shop\",1,\"x\"".to_string(),
                    "\tFROM users u".to_string(),
                    format!("\tWHERE u.id = {id}"),
                ]);
                n += 1;
            }
            // auto_explain logs the plan before the statement's own duration line.
            6 => {
                let status = ["pending", "shipped", "cancelled"][rng.below(3) as usize];
                let ms = 250.0 + rng.below(5000) as f64 / 10.0;
                out.push(vec![
                    format!("LOG:  duration: {ms:.3} ms  plan:"),
                    format!("\tQuery Text: SELECT * FROM orders WHERE status = '{status}'"),
                    format!(
                        "\tSeq Scan on orders  (cost=0.00..2041.00 rows=330 width=60) (actual time=0.011..{:.3} rows=300 loops=1)",
                        ms - 1.0
                    ),
                    format!("\t  Filter: (status = '{status}'::text)"),
                    "\t  Rows Removed by Filter: 99700".to_string(),
                ]);
                out.push(vec![format!(
                    "LOG:  duration: {:.3} ms  statement: SELECT * FROM orders WHERE status = '{status}'",
                    ms + 0.2
                )]);
                n += 1;
            }
            // A failed statement, and a statement that spilled to disk.
            7 => {
                out.push(vec![
                    "ERROR:  canceling statement due to statement timeout".to_string(),
                    "STATEMENT:  SELECT count(*) FROM order_items WHERE price > 10".to_string(),
                ]);
                out.push(vec![
                    format!(
                        "LOG:  temporary file: path \"base/pgsql_tmp/pgsql_tmp{pid}.0\", size {}",
                        1 << (20 + rng.below(4))
                    ),
                    "STATEMENT:  SELECT * FROM orders ORDER BY total DESC".to_string(),
                ]);
                out.push(exec(
                    "SELECT * FROM orders ORDER BY total DESC",
                    80.0 + rng.below(100) as f64,
                    None,
                ));
                n += 1;
            }
            // The same read asked again and again (a cache candidate), tagged by the
            // application with an endpoint and a per-request trace id, so each text is
            // new: the tags must reach the report from whichever thread reads them.
            _ => {
                let (controller, action) = [
                    ("settings", "show"),
                    ("checkout", "create"),
                    ("admin/users", "index"),
                ][rng.below(3) as usize];
                for _ in 0..3 {
                    let sql = format!(
                        "SELECT value FROM settings WHERE key = $1 /*controller='{controller}',action='{action}',traceparent='00-{:016x}-01'*/",
                        rng.next()
                    );
                    out.push(exec(&sql, 0.02, Some("$1 = 'currency'".to_string())));
                    n += 1;
                }
            }
        }
    }
    out.push(vec![
        "LOG:  disconnection: session time: 0:00:01.000".to_string(),
    ]);
    n
}

/// How [`pg_log`] writes its entries.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// stderr with `log_line_prefix = '%m [%p] %q%u@%d '`.
    Stderr,
    Csvlog,
    Jsonlog,
}

/// One stderr entry as a csvlog / jsonlog record: its severity, message (continuation
/// lines joined), DETAIL and STATEMENT.
fn record(entry: &[String]) -> (String, String, String, String) {
    let (mut sev, mut msg, mut detail, mut query) =
        (String::new(), String::new(), String::new(), String::new());
    for line in entry {
        if let Some(more) = line.strip_prefix('\t') {
            msg.push('\n');
            msg.push_str(more);
        } else if let Some(d) = line.strip_prefix("DETAIL:  ") {
            detail = d.to_string();
        } else if let Some(q) = line.strip_prefix("STATEMENT:  ") {
            query = q.to_string();
        } else if let Some((s, m)) = line.split_once(":  ") {
            sev = s.to_string();
            msg = m.to_string();
        }
    }
    (sev, msg, detail, query)
}

/// A csvlog row (PostgreSQL 15 columns): quoted fields double their quotes and keep
/// their line breaks.
fn csv_row(at: &str, pid: u32, entry: &[String]) -> String {
    let (sev, msg, detail, query) = record(entry);
    let q = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
    };
    let mut f: Vec<String> = vec![String::new(); 26];
    f[0] = at.to_string();
    f[1] = q("app");
    f[2] = q("shop");
    f[3] = pid.to_string();
    f[4] = q("10.0.0.1:5432");
    f[11] = sev;
    f[12] = "00000".to_string();
    f[13] = q(&msg);
    f[14] = q(&detail);
    f[19] = q(&query);
    // The stderr prefix has no application name.
    f[22] = String::new();
    f[23] = q("client backend");
    f.join(",")
}

/// A jsonlog record (one line).
fn json_row(at: &str, pid: u32, entry: &[String]) -> String {
    let (sev, msg, detail, query) = record(entry);
    let mut v = serde_json::json!({
        "timestamp": at, "user": "app", "dbname": "shop", "pid": pid,
        "remote_host": "10.0.0.1", "error_severity": sev, "message": msg,
        "backend_type": "client backend",
    });
    if !detail.is_empty() {
        v["detail"] = detail.into();
    }
    if !query.is_empty() {
        v["statement"] = query.into();
    }
    v.to_string()
}

/// A PostgreSQL log of at least `bytes` bytes; returns its statement count.
fn pg_log(path: &Path, bytes: usize) -> u64 {
    pg_log_as(path, bytes, Style::Stderr)
}

fn pg_log_as(path: &Path, bytes: usize, style: Style) -> u64 {
    let mut rng = Rng(7);
    let mut text = String::new();
    let mut statements = 0;
    let mut clock = 0u64;
    let mut live: Vec<Session> = Vec::new();
    let mut next_pid = 1000;
    let mut size = 0;
    while size < bytes || !live.is_empty() {
        while size < bytes && live.len() < 12 {
            let mut queue = Vec::new();
            statements += session_work(&mut rng, next_pid, &mut queue);
            queue.reverse();
            live.push(Session {
                pid: next_pid,
                queue,
            });
            next_pid += 1;
        }
        let i = rng.below(live.len() as u64) as usize;
        let s = &mut live[i];
        clock += rng.below(3);
        if let Some(entry) = s.queue.pop() {
            // The size counts the stderr form whatever the style, so each style holds
            // the same entries.
            let mut plain = String::new();
            for line in &entry {
                match line.strip_prefix('\t') {
                    Some(_) => plain.push_str(line),
                    None => {
                        let _ = write!(plain, "{} [{}] app@shop {line}", stamp(clock), s.pid);
                    }
                }
                plain.push('\n');
            }
            size += plain.len();
            match style {
                Style::Stderr => text.push_str(&plain),
                Style::Csvlog => {
                    let _ = writeln!(text, "{}", csv_row(&stamp(clock), s.pid, &entry));
                }
                Style::Jsonlog => {
                    let _ = writeln!(text, "{}", json_row(&stamp(clock), s.pid, &entry));
                }
            }
        }
        if s.queue.is_empty() {
            live.swap_remove(i);
        }
    }
    std::fs::write(path, text).unwrap();
    statements
}

/// A MySQL slow log with the same kinds of statements; returns its statement count.
fn mysql_log(path: &Path, bytes: usize) -> u64 {
    let mut rng = Rng(11);
    let mut text = String::new();
    let mut n = 0;
    let mut t = 1_795_082_400u64;
    while text.len() < bytes {
        t += rng.below(2);
        let id = 10 + rng.below(6);
        // Old servers write `# Time:` only when the second changes.
        if rng.below(3) == 0 {
            let _ = writeln!(
                text,
                "# Time: 2026-11-20T10:{:02}:{:02}.000000Z",
                t / 60 % 60,
                t % 60
            );
        }
        let _ = writeln!(text, "# User@Host: app[app] @ localhost []  Id: {id}");
        let sql = match rng.below(6) {
            0 => format!("SELECT id FROM orders WHERE user_id = {};", rng.below(5000)),
            1 | 2 => format!(
                "SELECT * FROM order_items WHERE order_id = {};",
                rng.below(100_000)
            ),
            3 => format!(
                "SELECT u.id,\n       u.email\nFROM users u\nWHERE u.id = {};",
                rng.below(100)
            ),
            4 => "# administrator command: Ping;".to_string(),
            _ => format!(
                "use shop;\nUPDATE orders SET status = 'shipped' WHERE id = {};",
                rng.below(9999)
            ),
        };
        let _ = writeln!(
            text,
            "# Query_time: 0.{:06}  Lock_time: 0.000010 Rows_sent: 1  Rows_examined: {}",
            rng.below(999_999),
            rng.below(100_000)
        );
        if sql.starts_with('#') {
            text.push_str(&sql);
        } else {
            let _ = write!(text, "SET timestamp={t};\n{sql}");
        }
        text.push('\n');
        n += 1;
    }
    std::fs::write(path, text).unwrap();
    n
}

fn report(log: &Path, extra: &[&str]) -> (String, serde_json::Value) {
    let mut args = vec!["analyze", log.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = qperf(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v = serde_json::from_str(&text).unwrap();
    (text, v)
}

/// Returns the `--jobs 1` report.
fn same_whatever_the_threads(log: &Path, statements: u64) -> serde_json::Value {
    let (one, v) = report(log, &["--jobs", "1"]);
    assert_eq!(
        v["summary"]["events"], statements,
        "statements counted once each"
    );
    for extra in [
        &["--jobs", "4"][..],
        &["--jobs", "2", "--chunk-bytes", "4096"],
        &["--jobs", "4", "--chunk-bytes", "1000"],
        &["--jobs", "3", "--chunk-bytes", "1"],
    ] {
        let (many, _) = report(log, extra);
        assert!(one == many, "{extra:?} differs from --jobs 1");
    }
    v
}

#[test]
fn postgres_log_reads_the_same_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    let statements = pg_log(&log, 3 << 20);
    let v = same_whatever_the_threads(&log, statements);
    // The report holds what the log planted, so equal reports are not equally empty.
    let findings = v["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings.iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"n-plus-one"), "{rules:?}");
    assert!(rules.contains(&"repeated-query"), "{rules:?}");
    assert!(rules.contains(&"seq-scan"), "{rules:?}");
    let errors: u64 = v["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["errors"].as_u64())
        .sum();
    assert!(errors > 0, "errors kept with their statements");
    let endpoints: Vec<&str> = findings
        .iter()
        .flat_map(|f| f["endpoints"].as_array().into_iter().flatten())
        .filter_map(|e| e.as_str())
        .collect();
    assert!(endpoints.contains(&"checkout#create"), "{endpoints:?}");
}

/// `v` without its `file:line` locations (a record's line differs between formats).
fn unlocated(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .filter(|(k, _)| k.as_str() != "location")
            .map(|(k, x)| (k.clone(), unlocated(x)))
            .collect(),
        serde_json::Value::Array(a) => a.iter().map(unlocated).collect(),
        x => x.clone(),
    }
}

/// csvlog and jsonlog hold the same entries as one record each, the stderr entry's
/// DETAIL and STATEMENT lines as fields: cut at row starts (in csvlog only where no
/// quoted field is open), they read alike with any thread count, and as the stderr log.
#[test]
fn csvlog_and_jsonlog_read_the_same_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = dir.path().join("postgresql.log");
    let statements = pg_log_as(&stderr, 1 << 20, Style::Stderr);
    let (_, plain) = report(&stderr, &["--jobs", "1"]);
    for (style, name) in [
        (Style::Csvlog, "postgresql.csv"),
        (Style::Jsonlog, "postgresql.json"),
    ] {
        let log = dir.path().join(name);
        assert_eq!(pg_log_as(&log, 1 << 20, style), statements);
        let v = same_whatever_the_threads(&log, statements);
        for key in ["findings", "queries"] {
            assert!(
                unlocated(&v[key]) == unlocated(&plain[key]),
                "{name}: {key} differ from the stderr log's"
            );
        }
    }
}

#[test]
fn mysql_log_reads_the_same_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("slow.log");
    let statements = mysql_log(&log, 2 << 20);
    same_whatever_the_threads(&log, statements);
}

/// `text` with three bulk INSERTs of 60,000 rows (over a megabyte each) put before the
/// entries a quarter, half and three quarters in; the last one's rows change shape
/// halfway. `head(line, n)` is the n-th INSERT's entry up to `VALUES` (`line` the one it
/// goes before), each row follows `indent` on a line of its own, and `end` the last.
fn with_bulk_inserts(
    text: &str,
    starts_entry: impl Fn(&str) -> bool,
    head: impl Fn(&str, u64) -> String,
    indent: &str,
    end: &str,
) -> (String, u64) {
    let mut out = String::new();
    let mut added = 0;
    let step = text.lines().count() / 4;
    let mut next_at = step;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i >= next_at && starts_entry(line) {
            next_at += step;
            out.push_str(&head(line, added));
            let rows: Vec<String> = (0..60_000)
                .map(|r| match added == 2 && r > 30_000 {
                    true => format!("{indent}({r}, 'row {r}', {r})"),
                    false => format!("{indent}({r}, 'row {r}')"),
                })
                .collect();
            out.push_str(&rows.join(",\n"));
            out.push_str(end);
            added += 1;
        }
        out.push_str(line);
    }
    assert!(added >= 3, "{added}");
    (out, added)
}

/// Bulk INSERTs of over a megabyte travel to the folding thread in their own
/// allocation rather than in their chunk's text: the same report either way.
#[test]
fn mysql_log_with_huge_statements_reads_the_same_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("slow.log");
    let statements = mysql_log(&log, 1 << 20);
    let (text, added) = with_bulk_inserts(
        &std::fs::read_to_string(&log).unwrap(),
        |line| line.starts_with("# User@Host:"),
        |_, n| {
            format!(
                "# User@Host: app[app] @ localhost []  Id: 99\n\
                 # Query_time: 1.{n:06}  Lock_time: 0.000010 Rows_sent: 0  Rows_examined: 0\n\
                 INSERT INTO bulk (a, b) VALUES\n"
            )
        },
        "",
        ";\n",
    );
    std::fs::write(&log, text).unwrap();
    let v = same_whatever_the_threads(&log, statements + added);
    assert!(v.to_string().contains("INSERT INTO bulk"));
}

/// The same for PostgreSQL: a statement logged over many continuation lines, of over a
/// megabyte, is moved to the folding thread rather than copied into the chunk's text.
#[test]
fn postgres_log_with_huge_statements_reads_the_same_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    let statements = pg_log(&log, 1 << 20);
    let (text, added) = with_bulk_inserts(
        &std::fs::read_to_string(&log).unwrap(),
        |line| !line.starts_with('\t'),
        |line, n| {
            let stamp = line.split(" [").next().unwrap();
            format!(
                "{stamp} [9999] app@shop LOG:  duration: 1500.{n:03} ms  statement: \
                 INSERT INTO bulk (a, b) VALUES\n"
            )
        },
        "\t",
        "\n",
    );
    std::fs::write(&log, text).unwrap();
    let v = same_whatever_the_threads(&log, statements + added);
    assert!(v.to_string().contains("INSERT INTO bulk"));
}

/// A filter that leaves out a text's first occurrences must not take its endpoint tag
/// with them: a reader thread reads a text's tags once, the folding thread filters.
#[test]
fn filtered_first_occurrences_keep_the_tags() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    let mut text = String::new();
    for i in 0..20_000 {
        let user = if i < 10_000 { "alice" } else { "bob" };
        let at = stamp(i);
        let _ = writeln!(
            text,
            "{at} [{}] {user}@shop LOG:  duration: 1.5 ms  execute <unnamed>: SELECT * FROM \
             orders WHERE user_id = $1 /*controller='orders',action='index'*/",
            100 + i % 7
        );
    }
    std::fs::write(&log, text).unwrap();
    let filter = ["--exclude-user", "alice"];
    let (one, v) = report(&log, &[&["--jobs", "1"][..], &filter].concat());
    let (two, _) = report(
        &log,
        &[&["--jobs", "2", "--chunk-bytes", "4096"][..], &filter].concat(),
    );
    assert!(one.contains("orders#index"), "{v}");
    assert!(one == two, "--jobs 2 differs from --jobs 1");
}

#[test]
fn compressed_log_reads_the_same_with_any_thread_count() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("postgresql.log");
    let statements = pg_log(&log, 1 << 20);
    let gz = dir.path().join("postgresql.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&log).unwrap()).unwrap();
    enc.finish().unwrap();
    // Only the file's name and size differ from the uncompressed run.
    let comparable = |text: &str| {
        let mut v: serde_json::Value =
            serde_json::from_str(&text.replace("postgresql.log.gz", "postgresql.log")).unwrap();
        let summary = v["summary"].as_object_mut().unwrap();
        summary.remove("bytes");
        summary.remove("files");
        v
    };
    let (plain, _) = report(&log, &["--jobs", "1"]);
    for extra in [
        &["--jobs", "1"][..],
        &["--jobs", "2", "--chunk-bytes", "2000"],
    ] {
        let (text, v) = report(&gz, extra);
        assert_eq!(v["summary"]["events"], statements);
        assert!(comparable(&text) == comparable(&plain), "{extra:?}");
    }
}
