//! `qperf verify --db URL LOG|SCRIPT`: each suggested index, created hypothetically with
//! HypoPG, and the estimated cost of every statement it serves before and after.
//!
//! From a log, statements are EXPLAINed with the values of their slowest logged
//! execution. From a script that `qperf analyze --format sql` wrote, only normalized
//! texts are known: they are EXPLAINed as generic plans (`plan_cache_mode =
//! force_generic_plan`), whose costs do not depend on values.

use std::io::{self, Write};

use anyhow::{Context as _, Result, anyhow, bail};
use serde::Serialize;
use tokio_postgres::Client;

use super::{Target, runtime};
use crate::cli::{AnalyzeArgs, VerifyArgs};
use crate::config::Config;
use crate::event::Dialect;
use crate::report::OutputFormat;
use crate::rules::RuleId;
use crate::sql::ident;

#[derive(Debug, Serialize)]
pub struct StatementCost {
    pub fingerprint: String,
    pub query: String,
    pub calls: u64,
    pub cost_before: f64,
    pub cost_after: f64,
    /// 0–1.
    pub reduction: f64,
    /// With `--real`: EXPLAIN ANALYZE execution time without and with the index built.
    pub ms_before: Option<f64>,
    pub ms_after: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct IndexCost {
    pub table: String,
    pub columns: Vec<String>,
    pub sql: String,
    /// Summed over the statements it serves, each weighted by its calls.
    pub cost_before: f64,
    pub cost_after: f64,
    pub reduction: f64,
    /// Reduction at least the `missing-index` rule's `min_cost_reduction`.
    pub worth_it: bool,
    pub statements: Vec<StatementCost>,
    /// Statements that could not be EXPLAINed, with the reason.
    pub skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
struct VerifyReport {
    version: u32,
    database: String,
    min_cost_reduction: f64,
    indexes: Vec<IndexCost>,
}

/// A statement an index serves, with what is needed to EXPLAIN it.
struct Served {
    fingerprint: String,
    query: String,
    calls: u64,
    /// The text to EXPLAIN: as logged, or the normalized text for a generic plan.
    sql: String,
    params: Option<String>,
    generic: bool,
}

/// An index to verify and the statements it serves.
struct Candidate {
    table: String,
    columns: Vec<String>,
    sql: String,
    served: Vec<Served>,
    skipped: Vec<String>,
}

/// `$1 = '42', $2 = NULL` → the values in order, as SQL literals.
fn param_literals(params: &str) -> Vec<String> {
    super::sql_values(&crate::rules::param_values(params))
}

/// Estimated total cost of a statement: EXPLAIN (no ANALYZE), with its logged values
/// through PREPARE / EXECUTE when it has parameters.
pub async fn cost(
    client: &Client,
    target: &Target,
    sql: &str,
    params: Option<&str>,
) -> Result<f64> {
    explain(client, target, sql, params, false)
        .await
        .map(|(c, _)| c)
}

/// The highest `$n` in a statement: how many parameters a generic plan needs.
fn placeholders(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j > start {
                max = max.max(sql[start..j].parse().unwrap_or(0));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    max
}

/// Estimated cost of the generic plan of a normalized statement (values unknown).
async fn generic_cost(client: &Client, target: &Target, sql: &str) -> Result<f64> {
    let n = placeholders(sql);
    client
        .batch_execute(&format!(
            "SET plan_cache_mode = force_generic_plan; DEALLOCATE ALL; PREPARE qperf_generic AS {sql}"
        ))
        .await
        .map_err(|e| target.err("PREPARE failed", e))?;
    let stmt = if n == 0 {
        "EXPLAIN (FORMAT JSON) EXECUTE qperf_generic".to_string()
    } else {
        format!(
            "EXPLAIN (FORMAT JSON) EXECUTE qperf_generic({})",
            vec!["NULL"; n].join(", ")
        )
    };
    let r = client
        .query(&stmt, &[])
        .await
        .map_err(|e| target.err("EXPLAIN failed", e));
    let _ = client
        .batch_execute("DEALLOCATE qperf_generic; RESET plan_cache_mode")
        .await;
    let json: serde_json::Value = r?
        .first()
        .map(|r| r.get::<_, serde_json::Value>(0))
        .ok_or_else(|| anyhow!("EXPLAIN returned nothing"))?;
    json[0]["Plan"]["Total Cost"]
        .as_f64()
        .ok_or_else(|| anyhow!("EXPLAIN gave no total cost"))
}

async fn served_cost(client: &Client, target: &Target, s: &Served) -> Result<f64> {
    if s.generic {
        generic_cost(client, target, &s.sql).await
    } else {
        cost(client, target, &s.sql, s.params.as_deref()).await
    }
}

/// (total cost, execution time when `analyze`) of one statement.
async fn explain(
    client: &Client,
    target: &Target,
    sql: &str,
    params: Option<&str>,
    analyze: bool,
) -> Result<(f64, Option<f64>)> {
    let opts = if analyze {
        "ANALYZE, FORMAT JSON"
    } else {
        "FORMAT JSON"
    };
    let literals = params.map(param_literals).unwrap_or_default();
    let rows = if literals.is_empty() {
        client
            .query(&format!("EXPLAIN ({opts}) {sql}"), &[])
            .await
            .map_err(|e| target.err("EXPLAIN failed", e))?
    } else {
        client
            .batch_execute(&format!("DEALLOCATE ALL; PREPARE qperf_verify AS {sql}"))
            .await
            .map_err(|e| target.err("PREPARE failed", e))?;
        let r = client
            .query(
                &format!(
                    "EXPLAIN ({opts}) EXECUTE qperf_verify({})",
                    literals.join(", ")
                ),
                &[],
            )
            .await
            .map_err(|e| target.err("EXPLAIN failed", e));
        let _ = client.batch_execute("DEALLOCATE qperf_verify").await;
        r?
    };
    let json: serde_json::Value = rows
        .first()
        .map(|r| r.get::<_, serde_json::Value>(0))
        .ok_or_else(|| anyhow!("EXPLAIN returned nothing"))?;
    let cost = json[0]["Plan"]["Total Cost"]
        .as_f64()
        .ok_or_else(|| anyhow!("EXPLAIN gave no total cost"))?;
    Ok((cost, json[0]["Execution Time"].as_f64()))
}

/// HypoPG available, installing the extension when the server has it but this database
/// does not (its own read-write transaction: schema, not data).
async fn ensure_hypopg(client: &Client, target: &Target) -> Result<()> {
    let installed = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])
        .await
        .map_err(|e| target.err("catalog query failed", e))?
        .is_some();
    if installed {
        return Ok(());
    }
    let available = client
        .query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'",
            &[],
        )
        .await
        .map_err(|e| target.err("catalog query failed", e))?
        .is_some();
    if !available {
        bail!(
            "HypoPG is not installed on the server ({}): install it (Debian/Ubuntu: apt-get install \
             postgresql-15-hypopg, matching the server's major version; elsewhere see \
             https://github.com/HypoPG/hypopg), then run qperf verify again",
            target.display
        );
    }
    client
        .batch_execute("BEGIN READ WRITE; CREATE EXTENSION IF NOT EXISTS hypopg; COMMIT")
        .await
        .map_err(|e| {
            target.err(
                "HypoPG is available on the server but this role cannot create the extension; a superuser can: CREATE EXTENSION hypopg",
                e,
            )
        })?;
    eprintln!("qperf: created extension hypopg in {}", target.display);
    Ok(())
}

async fn verify_index(
    client: &Client,
    target: &Target,
    c: &Candidate,
    min_reduction: f64,
    real: bool,
) -> Result<IndexCost> {
    let mut statements = Vec::new();
    let mut skipped = c.skipped.clone();
    let mut before = Vec::new();
    for s in &c.served {
        match served_cost(client, target, s).await {
            Ok(cost) => before.push((s, cost)),
            Err(e) => skipped.push(format!("{}: {e}", s.fingerprint)),
        }
    }
    let cols: Vec<String> = c
        .columns
        .iter()
        .map(|col| match col.strip_suffix(" DESC") {
            Some(n) => format!("{} DESC", ident(n, Dialect::Postgres)),
            None => ident(col, Dialect::Postgres),
        })
        .collect();
    let create = format!(
        "CREATE INDEX ON {} ({})",
        ident(&c.table, Dialect::Postgres),
        cols.join(", ")
    );
    client
        .query("SELECT * FROM hypopg_create_index($1)", &[&create])
        .await
        .map_err(|e| target.err("hypopg_create_index failed", e))?;
    for (s, c0) in before {
        match served_cost(client, target, s).await {
            Ok(c1) => statements.push(StatementCost {
                fingerprint: s.fingerprint.clone(),
                query: s.query.clone(),
                calls: s.calls,
                cost_before: c0,
                cost_after: c1,
                reduction: if c0 > 0.0 {
                    (1.0 - c1 / c0).max(0.0)
                } else {
                    0.0
                },
                ms_before: None,
                ms_after: None,
            }),
            Err(e) => skipped.push(format!("{}: {e}", s.fingerprint)),
        }
    }
    client
        .batch_execute("SELECT hypopg_reset()")
        .await
        .map_err(|e| target.err("hypopg_reset failed", e))?;
    if real {
        measure_real(
            client,
            target,
            &create,
            &c.served,
            &mut statements,
            &mut skipped,
        )
        .await?;
    }
    let cost_before: f64 = statements
        .iter()
        .map(|s| s.cost_before * s.calls as f64)
        .sum();
    let cost_after: f64 = statements
        .iter()
        .map(|s| s.cost_after * s.calls as f64)
        .sum();
    let reduction = if cost_before > 0.0 {
        (1.0 - cost_after / cost_before).max(0.0)
    } else {
        0.0
    };
    Ok(IndexCost {
        table: c.table.clone(),
        columns: c.columns.clone(),
        sql: c.sql.clone(),
        cost_before,
        cost_after,
        reduction,
        worth_it: !statements.is_empty() && reduction >= min_reduction,
        statements,
        skipped,
    })
}

/// `--real`: EXPLAIN ANALYZE each read without the index, then with it built inside a
/// transaction that is rolled back (it locks the table against writes while it builds:
/// a scratch database's job).
async fn measure_real(
    client: &Client,
    target: &Target,
    create: &str,
    served: &[Served],
    statements: &mut [StatementCost],
    skipped: &mut Vec<String>,
) -> Result<()> {
    let find = |fp: &str| served.iter().find(|s| s.fingerprint == fp);
    let runnable = |s: &Served| {
        let w = s
            .sql
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        !s.generic && matches!(w.as_str(), "SELECT" | "WITH" | "VALUES" | "TABLE")
    };
    for st in statements.iter_mut() {
        let Some(s) = find(&st.fingerprint) else {
            continue;
        };
        if !runnable(s) {
            skipped.push(format!(
                "{}: --real runs only reads with logged values",
                st.fingerprint
            ));
            continue;
        }
        st.ms_before = explain(client, target, &s.sql, s.params.as_deref(), true)
            .await?
            .1;
    }
    client
        .batch_execute(&format!("BEGIN READ WRITE; {create}"))
        .await
        .map_err(|e| target.err("building the index failed", e))?;
    let mut result = Ok(());
    for st in statements.iter_mut() {
        let Some(s) = find(&st.fingerprint).filter(|s| runnable(s)) else {
            continue;
        };
        match explain(client, target, &s.sql, s.params.as_deref(), true).await {
            Ok((_, ms)) => st.ms_after = ms,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    client
        .batch_execute("ROLLBACK")
        .await
        .map_err(|e| target.err("ROLLBACK failed", e))?;
    result
}

/// The indexes a log's analysis suggests, with the logged values of the statements.
fn from_log(args: &VerifyArgs, config: &Config) -> Result<Option<(Vec<Candidate>, bool)>> {
    // Analyzed as `qperf analyze` would, keeping the logged values for EXPLAIN (they are
    // used, never printed).
    let files: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let mut a = AnalyzeArgs::internal(&files, true, args.log_line_prefix.as_deref(), &args.set)?;
    a.db = args.db.clone();
    let Some(run) = crate::run_analysis(&a, config, None)? else {
        return Ok(None);
    };
    let candidates = run
        .report
        .indexes
        .iter()
        .map(|ix| {
            let mut served = Vec::new();
            let mut skipped = Vec::new();
            for fp in &ix.fingerprints {
                let Some(q) = run.report.queries.iter().find(|q| q.fingerprint == *fp) else {
                    continue;
                };
                match q.samples.first() {
                    Some(sample) => served.push(Served {
                        fingerprint: fp.to_string(),
                        query: q.query.clone(),
                        calls: q.calls,
                        sql: sample.sql.clone().unwrap_or_default(),
                        params: sample.params.clone(),
                        generic: false,
                    }),
                    None if q.query.contains('$') || !q.query.contains('?') => {
                        served.push(Served {
                            fingerprint: fp.to_string(),
                            query: q.query.clone(),
                            calls: q.calls,
                            sql: q.query.clone(),
                            params: None,
                            generic: true,
                        })
                    }
                    None => skipped.push(format!("{fp}: no logged execution to take values from")),
                }
            }
            Candidate {
                table: ix.table.clone(),
                columns: ix.columns.clone(),
                sql: ix.sql.clone(),
                served,
                skipped,
            }
        })
        .collect();
    Ok(Some((candidates, run.failed)))
}

/// The indexes of a script `qperf analyze --format sql` wrote, and the statements named
/// in the comment above each (`--   <fingerprint>  <calls> calls, <time>: <statement>`).
fn from_script(path: &std::path::Path) -> Result<Vec<Candidate>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    let mut pending: Vec<Served> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("--   ") {
            let mut parts = rest.splitn(2, "  ");
            let (Some(fp), Some(tail)) = (parts.next(), parts.next()) else {
                continue;
            };
            if fp.len() != 16 || !fp.chars().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            let calls = tail
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let Some((_, query)) = tail.split_once(": ") else {
                continue;
            };
            pending.push(Served {
                fingerprint: fp.to_string(),
                query: query.to_string(),
                calls,
                sql: query.to_string(),
                params: None,
                generic: true,
            });
            continue;
        }
        let t = line.trim();
        if t.to_ascii_uppercase().starts_with("CREATE INDEX")
            && let Ok(stmts) = crate::sql::parse(t, Dialect::Postgres)
            && let Some(sqlparser::ast::Statement::CreateIndex(ci)) = stmts.first()
        {
            let table = ci
                .table_name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.clone())
                .unwrap_or_default();
            let columns = ci
                .columns
                .iter()
                .map(|c| {
                    let name = c.column.expr.to_string();
                    if matches!(
                        c.column.options.sort,
                        Some(sqlparser::ast::OrderBySort::Desc)
                    ) {
                        format!("{name} DESC")
                    } else {
                        name
                    }
                })
                .collect();
            out.push(Candidate {
                table,
                columns,
                sql: t.to_string(),
                served: std::mem::take(&mut pending),
                skipped: Vec::new(),
            });
        }
    }
    if out.is_empty() {
        bail!(
            "{}: no CREATE INDEX statement found; expected a script from `qperf analyze --format sql`",
            path.display()
        );
    }
    Ok(out)
}

pub fn run(args: VerifyArgs) -> Result<u8> {
    let target = Target::resolve(args.db.as_deref())?;
    let config = Config::find(args.config.as_deref())?;
    let settings = config.settings(&args.set)?;
    let min_reduction = settings
        .rule(RuleId::MissingIndex)
        .get("min_cost_reduction");
    let script = args.files.len() == 1 && args.files[0].extension().is_some_and(|e| e == "sql");
    let (candidates, failed) = if script {
        (from_script(&args.files[0])?, false)
    } else {
        match from_log(&args, &config)? {
            Some(c) => c,
            None => return Ok(crate::exit::ERROR),
        }
    };
    let rt = runtime()?;
    let indexes = rt.block_on(async {
        let client = target.connect().await?;
        ensure_hypopg(&client, &target).await?;
        let mut out = Vec::new();
        for c in &candidates {
            out.push(verify_index(&client, &target, c, min_reduction, args.real).await?);
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    let report = VerifyReport {
        version: 1,
        database: target.display.clone(),
        min_cost_reduction: min_reduction,
        indexes,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        _ => write_table(&report, &mut out)?,
    }
    out.flush().context("failed to write the report")?;
    Ok(if failed {
        crate::exit::ERROR
    } else {
        crate::exit::OK
    })
}

fn write_table(r: &VerifyReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "Hypothetical indexes (HypoPG) on {}; worth it from a {:.0}% estimated cost reduction\n",
        r.database,
        r.min_cost_reduction * 100.0
    )?;
    if r.indexes.is_empty() {
        writeln!(w, "No index to verify: the log gave no index suggestion.")?;
    }
    for ix in &r.indexes {
        writeln!(
            w,
            "{} {}\n  estimated cost {:.0} → {:.0} ({:.1}% less){}",
            if ix.worth_it { "✔" } else { "✘" },
            ix.sql,
            ix.cost_before,
            ix.cost_after,
            ix.reduction * 100.0,
            if ix.worth_it { "" } else { ": not worth it" }
        )?;
        for s in &ix.statements {
            let real = match (s.ms_before, s.ms_after) {
                (Some(a), Some(b)) => format!(", measured {a:.2} ms → {b:.2} ms"),
                _ => String::new(),
            };
            writeln!(
                w,
                "    {}  {:>10.1} → {:>10.1} ({:>5.1}% less, {} calls{real})  {}",
                s.fingerprint,
                s.cost_before,
                s.cost_after,
                s.reduction * 100.0,
                s.calls,
                s.query.chars().take(80).collect::<String>()
            )?;
        }
        for s in &ix.skipped {
            writeln!(w, "    skipped {s}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}
