//! `qperf explain`: one plan, read like a workload of one statement, so the same rules
//! and index advice apply; printed as a tree with time per node and the findings.

use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use serde::Serialize;

use crate::aggregate::{Aggregator, Filters};
use crate::cli::ExplainArgs;
use crate::config::{Config, FailOn};
use crate::event::{Dialect, EventSink, QueryEvent};
use crate::ingest::FileStats;
use crate::plan::{self, Plan, PlanFormat, PlanNode};
use crate::report::schema::{self, FindingOut, IndexOut};
use crate::report::table::fmt_ms;
use crate::report::{OutputFormat, SortKey};
use crate::rules;
use crate::{gate, load_schema, seq_config};

#[derive(Serialize)]
struct ExplainReport<'a> {
    version: u32,
    tool: schema::Tool,
    source: String,
    plan: &'a Plan,
    findings: Vec<FindingOut>,
    indexes: Vec<IndexOut>,
}

fn read_input(file: &Option<std::path::PathBuf>) -> Result<(String, String)> {
    match file.as_deref() {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            Ok((
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ))
        }
    }
}

fn read_stdin() -> Result<(String, String)> {
    let mut bytes = Vec::new();
    io::stdin()
        .read_to_end(&mut bytes)
        .context("cannot read standard input")?;
    Ok((
        "<stdin>".into(),
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

pub fn run(args: ExplainArgs) -> Result<u8> {
    let config = Config::find(args.config.as_deref())?;
    let settings = config.settings(&args.set)?;
    let fail_on = match &args.fail_on {
        Some(s) => Some(s.parse::<FailOn>()?),
        None => config.fail_on.clone(),
    };
    let mut sql_for_rules = args.sql.clone();
    let (name, text) = match &args.db {
        Some(db) => {
            let target = crate::live::Target::resolve(Some(db))?;
            let (sql, params) = match &args.fingerprint {
                Some(fp) => logged_statement(&args, fp, &config)?,
                None => {
                    // The statement: --sql, or a .sql file given as the input.
                    let text = match (&args.sql, &args.file) {
                        (Some(s), _) => s.clone(),
                        (None, Some(f)) if f.as_os_str() != "-" => std::fs::read_to_string(f)
                            .with_context(|| format!("cannot read {}", f.display()))?,
                        _ => anyhow::bail!(
                            "explain --db needs the statement: --sql, a .sql file, or --fingerprint and a log"
                        ),
                    };
                    (
                        text.trim().trim_end_matches(';').to_string(),
                        args.param.clone(),
                    )
                }
            };
            sql_for_rules = Some(sql.clone());
            let text = crate::live::explain::plan_json(
                &target,
                &sql,
                &params,
                args.analyze,
                args.analyze_writes,
            )?;
            (target.display.clone(), text)
        }
        None => read_input(&args.file)?,
    };
    let plan = plan::parse(&text).ok_or_else(|| {
        anyhow!(
            "{name}: no query plan recognized; expected PostgreSQL EXPLAIN output (text or FORMAT JSON, \
             with or without psql's frame) or MySQL EXPLAIN FORMAT=JSON"
        )
    })?;
    let dialect = if matches!(plan.format, PlanFormat::MysqlJson | PlanFormat::MysqlTree) {
        Dialect::Mysql
    } else {
        Dialect::Postgres
    };
    let sql = sql_for_rules
        .or_else(|| plan.query_text.clone())
        .unwrap_or_default();
    let mut agg = Aggregator::new(Filters::default(), seq_config(&settings));
    agg.dialect = dialect;
    agg.event(&mut QueryEvent {
        file: 0,
        line: 1,
        sql,
        duration_ms: plan.total_ms(),
        plan: Some(text.clone()),
        ..Default::default()
    });
    agg.finish();
    let schema_ddl = match &args.schema {
        Some(p) => load_schema(p, dialect)?,
        None => crate::sql::schema::Schema::default(),
    };
    let groups = rules::context::analyze_groups(&agg);
    let ctx = rules::Context::build(&agg, groups, &schema_ddl, &settings, &[]);
    let outcome = gate::apply(rules::run(&ctx, &settings), &ctx, &config, None);
    let findings = outcome.findings;
    let files = vec![FileStats {
        path: name.clone(),
        ..Default::default()
    }];
    let full = schema::build(
        &agg,
        &files,
        &schema::BuildOptions {
            show_params: false,
            sort: SortKey::Total,
            top: None,
        },
        Some(&schema::Analysis {
            findings: &findings,
            advice: &ctx.advice,
            unparsed: &[],
            suppressed: &outcome.suppressed,
            baseline: None,
        }),
    );
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Json => {
            let r = ExplainReport {
                version: schema::VERSION,
                tool: full.tool,
                source: name,
                plan: &plan,
                findings: full.findings,
                indexes: full.indexes,
            };
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            write_tree(&plan, &full.findings, &mut out)?;
            crate::report::table::write_findings(&full, &mut out)?;
        }
        other => crate::write_report(&full, other, &mut out)?,
    }
    out.flush().context("failed to write the report")?;
    Ok(gate::exit_code(&findings, fail_on.as_ref()))
}

/// The statement with `fingerprint` in the log given as input, as logged at its slowest,
/// and its bind values (literal statements carry their values in the text).
fn logged_statement(
    args: &ExplainArgs,
    fingerprint: &str,
    config: &Config,
) -> Result<(String, Vec<String>)> {
    let log = args
        .file
        .as_ref()
        .ok_or_else(|| anyhow!("--fingerprint needs the log to take the statement from"))?;
    let a = crate::cli::AnalyzeArgs::internal(&[log.display().to_string()], true, None, &[])?;
    let run = crate::run_analysis(&a, config, None)?
        .ok_or_else(|| anyhow!("{}: nothing read", log.display()))?;
    let q = run
        .report
        .queries
        .iter()
        .find(|q| q.fingerprint.to_string() == fingerprint)
        .ok_or_else(|| {
            anyhow!(
                "{}: no statement with fingerprint {fingerprint}",
                log.display()
            )
        })?;
    let s = q.samples.first().ok_or_else(|| {
        anyhow!("{fingerprint}: no logged execution with a duration to take values from")
    })?;
    let values = s
        .params
        .as_deref()
        .map(rules::param_values)
        .unwrap_or_default();
    Ok((s.sql.clone().unwrap_or_default(), values))
}

fn rows(n: &PlanNode) -> String {
    let est = n
        .plan_rows
        .map(|r| format!("{r}"))
        .unwrap_or_else(|| "-".into());
    let act = if n.never_executed {
        "never".to_string()
    } else {
        n.actual_rows
            .map(|r| format!("{r}"))
            .unwrap_or_else(|| "-".into())
    };
    let loops = match n.loops {
        Some(l) if l > 1.0 => format!(" ×{l}"),
        _ => String::new(),
    };
    format!("{est} → {act}{loops}")
}

fn details(n: &PlanNode) -> Vec<String> {
    let mut d = Vec::new();
    if let Some(f) = &n.index_cond {
        d.push(format!("Index Cond: {f}"));
    }
    if let Some(f) = &n.filter {
        let removed = n
            .rows_removed_by_filter
            .map(|r| format!(" ({} rows removed)", rules::count(r)))
            .unwrap_or_default();
        d.push(format!("Filter: {f}{removed}"));
    }
    if let Some(c) = n
        .hash_cond
        .as_ref()
        .or(n.merge_cond.as_ref())
        .or(n.join_filter.as_ref())
    {
        d.push(format!("Cond: {c}"));
    }
    if let Some(m) = &n.sort_method {
        let space = match (n.sort_space_kb, &n.sort_space_type) {
            (Some(kb), Some(t)) => format!("  {t}: {kb}kB"),
            _ => String::new(),
        };
        d.push(format!("Sort: {m}{space}"));
    }
    if let Some(b) = n.hash_batches.filter(|b| *b > 1.0) {
        d.push(format!("Hash batches: {b}"));
    }
    d
}

/// The tree, one line per node: exclusive time and share, rows estimated → actual,
/// and a marker on the nodes a finding names.
pub fn write_tree(plan: &Plan, findings: &[FindingOut], w: &mut dyn Write) -> io::Result<()> {
    let total = plan.total_ms().unwrap_or(0.0);
    let timing = plan.has_timing();
    let fmt_name = match plan.format {
        PlanFormat::PgText => "PostgreSQL text",
        PlanFormat::PgJson => "PostgreSQL JSON",
        PlanFormat::MysqlJson => "MySQL JSON",
        PlanFormat::MysqlTree => "MySQL tree",
    };
    let mut head = format!("Plan ({fmt_name}, {} nodes)", plan.root.count());
    if let Some(e) = plan.execution_ms {
        head.push_str(&format!(", execution {}", fmt_ms(e)));
    }
    if let Some(p) = plan.planning_ms {
        head.push_str(&format!(", planning {}", fmt_ms(p)));
    }
    writeln!(w, "{head}")?;
    if let Some(q) = &plan.query_text {
        writeln!(w, "Query: {q}")?;
    }
    writeln!(w)?;
    if timing {
        writeln!(
            w,
            "{:>4}  {:>10} {:>6}  {:<24} node",
            "#", "self", "share", "rows est → actual"
        )?;
    } else {
        writeln!(w, "{:>4}  {:<24} node", "#", "rows est → actual")?;
    }
    let mut id = 0usize;
    plan.root.walk(&mut |n, path| {
        id += 1;
        let marks: Vec<&str> = findings
            .iter()
            .filter(|f| f.evidence.get("node_id").and_then(|v| v.as_u64()) == Some(id as u64))
            .map(|f| f.rule.as_str())
            .collect();
        let indent = "   ".repeat(path.len());
        let label = match &n.subplan_name {
            Some(s) => format!("[{s}] {}", n.label()),
            None => n.label(),
        };
        let mark = if marks.is_empty() {
            String::new()
        } else {
            format!("   ◀ {}", marks.join(", "))
        };
        let line = if timing {
            let ex = n.exclusive_ms.unwrap_or(0.0);
            let share = if total > 0.0 { ex / total * 100.0 } else { 0.0 };
            format!(
                "{id:>4}  {:>10} {:>5.1}%  {:<24} {indent}{label}{mark}",
                fmt_ms(ex),
                share,
                rows(n)
            )
        } else {
            format!("{id:>4}  {:<24} {indent}{label}{mark}", rows(n))
        };
        let _ = writeln!(w, "{line}");
        for d in details(n) {
            let pad = if timing { 50 } else { 31 };
            let _ = writeln!(w, "{:pad$}{indent}   {d}", "");
        }
    });
    writeln!(w)?;
    for t in &plan.triggers {
        writeln!(
            w,
            "Trigger {}: {} calls, {}",
            t.name,
            t.calls.unwrap_or(0.0),
            t.time_ms.map(fmt_ms).unwrap_or_else(|| "-".into())
        )?;
    }
    if let Some(j) = plan.jit_ms {
        writeln!(
            w,
            "JIT: {} functions, {}",
            plan.jit_functions.unwrap_or(0.0),
            fmt_ms(j)
        )?;
    }
    Ok(())
}
