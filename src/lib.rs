//! qperf: reads database slow-query logs, groups statements by fingerprint, and reports
//! where the time goes.
//!
//! Pipeline: `ingest` (per-format readers → [`event::QueryEvent`]s) → `aggregate`
//! (per-fingerprint statistics) → `report` (versioned output DTOs and renderers).
//! Only `run` prints or decides exit codes.

pub mod aggregate;
pub mod cli;
pub mod config;
pub mod diff;
pub mod event;
pub mod explain;
pub mod fingerprint;
pub mod gate;
pub mod ingest;
pub mod live;
pub mod memory;
pub mod plan;
pub mod report;
pub mod rules;
pub mod scan;
pub mod sequence;
pub mod sketch;
pub mod sql;
pub mod timeparse;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::{Context, Result};

use aggregate::{Aggregator, Filters};
use cli::{AnalyzeArgs, Cli, Command};
use event::Dialect;
use ingest::{FileStats, ReadOptions};
use report::OutputFormat;

/// Exit statuses: the contract CI relies on.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const ERROR: u8 = 2;
}

/// Prints `qperf: error: …` with its causes.
pub fn print_error(e: &anyhow::Error) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "qperf: error: {e}");
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  Cause: {cause}");
    }
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Analyze(args) => analyze(*args),
        Command::Explain(args) => explain::run(*args),
        Command::Baseline(args) => baseline(*args),
        Command::Diff(args) => diff::run(*args),
        Command::Verify(args) => live::verify::run(*args),
        Command::Rules => list_rules(),
        Command::Rule { id } => show_rule(&id),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(exit::OK);
            }
            print_error(&e);
            ExitCode::from(exit::ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Expands globs that the shell left alone; `-` and missing paths pass through.
fn expand(files: &[PathBuf]) -> Vec<PathBuf> {
    if files.is_empty() {
        return vec![PathBuf::from("-")];
    }
    let mut out = Vec::new();
    for f in files {
        let s = f.to_string_lossy();
        if !f.exists()
            && s.contains(['*', '?', '['])
            && let Ok(paths) = glob::glob(&s)
        {
            let mut found: Vec<PathBuf> = paths.filter_map(|p| p.ok()).collect();
            if !found.is_empty() {
                found.sort();
                out.extend(found);
                continue;
            }
        }
        out.push(f.clone());
    }
    out
}

const SETTINGS_HELP: &str = "\
qperf reads PostgreSQL stderr, csvlog and jsonlog logs and MySQL / MariaDB slow query logs.
  PostgreSQL (postgresql.conf), then reload:
      log_min_duration_statement = 0          # every statement with its duration (or a threshold in ms)
      log_line_prefix = '%m [%p] %q%u@%d '    # a time (%t, %m or %n) and a process escape (%p or %c)
    another prefix in use? pass it: --log-line-prefix '<its value>'
  MySQL / MariaDB (my.cnf), then restart or SET GLOBAL:
      slow_query_log = 1
      long_query_time = 0                     # every statement (or a threshold in seconds)
      log_output = FILE";

struct Progress {
    done: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// A bar on stderr fed from a byte counter by its own thread, so the readers never
    /// touch it.
    fn start(total: u64, counter: Arc<AtomicU64>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let handle = std::thread::spawn(move || {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            while !d.load(Ordering::Relaxed) {
                bar.set_position(counter.load(Ordering::Relaxed));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Progress {
            done,
            handle: Some(handle),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn baseline(args: cli::BaselineArgs) -> Result<u8> {
    let config = config::Config::find(args.analyze.config.as_deref())?;
    let Some(run) = run_analysis(&args.analyze, &config, None)? else {
        return Ok(exit::ERROR);
    };
    let b = gate::Baseline::from_findings(&run.findings);
    b.write(&args.out)?;
    eprintln!(
        "qperf: wrote {} ({} findings{})",
        args.out.display(),
        b.entries.len(),
        if run.report.suppressed.is_empty() {
            String::new()
        } else {
            format!(", {} suppressed and left out", run.report.suppressed.len())
        }
    );
    Ok(if run.failed { exit::ERROR } else { exit::OK })
}

/// Catalog facts for the tables the workload's statements touch.
fn catalog_facts(db: &str, tables: &[String]) -> Result<live::catalog::Facts> {
    let target = live::Target::resolve(Some(db))?;
    let rt = live::runtime()?;
    rt.block_on(async {
        let client = target.connect().await?;
        live::catalog::fetch(&client, &target, tables).await
    })
}

fn list_rules() -> Result<u8> {
    let mut out = io::stdout().lock();
    for d in rules::catalogue() {
        writeln!(
            out,
            "{:<24}{:<9}{}",
            d.id.as_str(),
            d.severity.as_str(),
            d.summary
        )?;
    }
    Ok(exit::OK)
}

fn show_rule(id: &str) -> Result<u8> {
    let id: rules::RuleId = id.parse()?;
    let d = rules::doc(id);
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "# {}
",
        d.id
    )?;
    writeln!(
        out,
        "{}
",
        d.summary
    )?;
    writeln!(
        out,
        "Default severity: {}
",
        d.severity.as_str()
    )?;
    if !d.thresholds.is_empty() {
        writeln!(out, "Thresholds (override with --set {}.NAME=VALUE):", d.id)?;
        for (k, v, doc) in &d.thresholds {
            writeln!(out, "  {k:<22} {v:<10} {doc}")?;
        }
        writeln!(out)?;
    }
    write!(out, "{}", d.body)?;
    Ok(exit::OK)
}

pub(crate) fn seq_config(settings: &rules::Settings) -> sequence::SeqConfig {
    let n = settings.rule(rules::RuleId::NPlusOne);
    let r = settings.rule(rules::RuleId::RepeatedQuery);
    sequence::SeqConfig {
        min_children: n.get("min_children").max(1.0) as u32,
        min_distinct_ratio: n.get("min_distinct_ratio"),
        max_gap_ms: n.get("max_gap_ms"),
        max_interleaved: n.get("max_interleaved").max(0.0) as u32,
        repeat_window_ms: r.get("window_s") * 1000.0,
    }
}

pub(crate) fn load_schema(path: &Path, dialect: Dialect) -> Result<sql::schema::Schema> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read schema file {}", path.display()))?;
    let schema = sql::schema::Schema::from_ddl(&text, dialect);
    if schema.is_empty() {
        let why: String = schema
            .skipped_examples
            .iter()
            .map(|(line, e)| format!("\n  {}:{line}: {e}", path.display()))
            .collect();
        anyhow::bail!(
            "{}: no CREATE TABLE or CREATE INDEX statement understood; expected `pg_dump --schema-only` output or DDL{why}",
            path.display()
        );
    }
    Ok(schema)
}

/// A finished analysis: the report DTO and the findings the gate judges.
pub(crate) struct Analyzed {
    pub report: report::schema::Report,
    pub findings: Vec<rules::Finding>,
    /// A file could not be read or held nothing: the run exits 2 whatever it found.
    pub failed: bool,
}

fn analyze(args: AnalyzeArgs) -> Result<u8> {
    let config = config::Config::find(args.config.as_deref())?;
    let fail_on = match &args.fail_on {
        Some(s) => Some(s.parse::<config::FailOn>()?),
        None => config.fail_on.clone(),
    };
    if fail_on == Some(config::FailOn::Regression) {
        anyhow::bail!(
            "--fail-on regression belongs to `qperf diff`; analyze takes a severity or rule ids"
        );
    }
    let baseline = match &args.baseline {
        Some(p) => Some((p.as_path(), gate::Baseline::load(p)?)),
        None => None,
    };
    let outputs = args
        .output
        .iter()
        .map(|o| parse_output(o))
        .collect::<Result<Vec<_>>>()?;
    let Some(run) = run_analysis(&args, &config, baseline.as_ref().map(|(p, b)| (*p, b)))? else {
        return Ok(exit::ERROR);
    };
    if let Some(path) = &args.emit_sql {
        write_to_file(&run.report, OutputFormat::Sql, path)?;
    }
    for (fmt, path) in &outputs {
        write_to_file(&run.report, *fmt, path)?;
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    write_report(&run.report, args.format, &mut out)
        .and_then(|_| out.flush())
        .context("failed to write the report")?;
    Ok(if run.failed {
        exit::ERROR
    } else {
        gate::exit_code(&run.findings, fail_on.as_ref())
    })
}

fn parse_output(spec: &str) -> Result<(OutputFormat, PathBuf)> {
    use clap::ValueEnum;
    let (fmt, path) = spec.split_once('=').ok_or_else(|| {
        anyhow::anyhow!("--output `{spec}`: expected FORMAT=PATH, e.g. sarif=qperf.sarif")
    })?;
    let fmt = OutputFormat::from_str(fmt, true).map_err(|_| {
        anyhow::anyhow!(
            "--output `{spec}`: unknown format `{fmt}` (table, json, sql, sarif, github, markdown)"
        )
    })?;
    Ok((fmt, PathBuf::from(path)))
}

pub(crate) fn write_report(
    r: &report::schema::Report,
    fmt: OutputFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match fmt {
        OutputFormat::Json => report::json::write(r, out),
        OutputFormat::Sql => report::sql::write(r, out),
        OutputFormat::Sarif => report::sarif::write(r, out),
        OutputFormat::Github => report::github::write(r, out),
        OutputFormat::Markdown => report::markdown::write(r, out),
        OutputFormat::Table => report::table::write(r, out, terminal_width()),
    }
}

fn write_to_file(r: &report::schema::Report, fmt: OutputFormat, path: &Path) -> Result<()> {
    let mut f = io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    write_report(r, fmt, &mut f)
        .and_then(|_| f.flush())
        .with_context(|| format!("failed to write {}", path.display()))
}

/// Reads the logs, runs the rules and the gate's filters; `None` when nothing could be
/// read at all (the error was printed).
pub(crate) fn run_analysis(
    args: &AnalyzeArgs,
    config: &config::Config,
    baseline: Option<(&Path, &gate::Baseline)>,
) -> Result<Option<Analyzed>> {
    let settings = config.settings(&args.set)?;
    let filters = Filters {
        since: parse_time_arg("--since", &args.since)?,
        until: parse_time_arg("--until", &args.until)?,
        include_db: args.include_db.clone(),
        exclude_db: args.exclude_db.clone(),
        include_user: args.include_user.clone(),
        exclude_user: args.exclude_user.clone(),
        include_app: args.include_app.clone(),
        exclude_app: args.exclude_app.clone(),
    };
    let opts = ReadOptions {
        format: args.input_format,
        prefix: args
            .log_line_prefix
            .as_deref()
            .or(config.log_line_prefix.as_deref())
            .map(ingest::pg_stderr::Prefix::compile)
            .transpose()?,
        year: timeparse::current_year(),
        jobs: args
            .jobs
            .map(usize::from)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        chunk: usize::try_from(args.chunk_bytes).unwrap_or(usize::MAX),
    };
    let paths = if args.pg_stat_statements && args.files.is_empty() {
        Vec::new()
    } else {
        expand(&args.files)
    };
    // One arena per reader thread and the main one; the reading and tracker threads
    // share them (see `memory`).
    memory::limit_arenas(opts.jobs + 1);
    let mut agg = Aggregator::new(filters, seq_config(&settings));
    if opts.jobs > 1 {
        agg.offload_sequences()?;
    }
    let mut files: Vec<FileStats> = Vec::new();
    let mut failed = false;

    let total_bytes: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let counter = Arc::new(AtomicU64::new(0));
    let _progress = (!args.no_progress
        && args.format == OutputFormat::Table
        && io::stderr().is_terminal()
        && total_bytes > 16 << 20)
        .then(|| Progress::start(total_bytes, counter.clone()));

    for path in &paths {
        let idx = files.len();
        let mut stats = FileStats {
            path: if path.as_os_str() == "-" {
                "<stdin>".to_string()
            } else {
                path.display().to_string()
            },
            ..Default::default()
        };
        let before = counter.load(Ordering::Relaxed);
        let res = read_one(idx, path, &opts, &mut agg, &mut stats, counter.clone());
        stats.bytes = counter.load(Ordering::Relaxed) - before;
        let events = agg.totals.per_file_events.get(idx).copied().unwrap_or(0);
        match res {
            Err(e) => {
                print_error(&e);
                failed = true;
            }
            Ok(()) => {
                if let Some(msg) = no_events_message(&stats, events, agg.totals.filtered_out > 0)
                    && !(args.allow_empty && stats.unrecognized_lines == 0)
                {
                    eprintln!("qperf: error: {msg}");
                    failed = true;
                }
            }
        }
        files.push(stats);
    }
    drop(_progress);
    agg.finish();
    memory::release_free();
    if args.pg_stat_statements {
        let target = live::Target::resolve(args.db.as_deref())?;
        let rt = live::runtime()?;
        let before = agg.totals.events;
        let n = rt.block_on(async {
            let client = target.connect().await?;
            live::pgss::read(&client, &target, &mut agg).await
        })?;
        let idx = files.len();
        if agg.totals.per_file_events.len() <= idx {
            agg.totals.per_file_events.resize(idx + 1, 0);
        }
        agg.totals.per_file_events[idx] = agg.totals.events - before;
        files.push(FileStats {
            path: format!("pg_stat_statements ({})", target.display),
            recognized_lines: n,
            lines: n,
            ..Default::default()
        });
    }

    let any_events = agg.totals.events > 0 || agg.totals.filtered_out > 0 || !agg.groups.is_empty();
    if !any_events && failed {
        return Ok(None);
    }
    let top = args.top.or(match args.format {
        OutputFormat::Table => Some(20),
        _ => None,
    });
    let dialect = if agg.groups.values().any(|g| g.dialect == Dialect::Mysql)
        && !agg.groups.values().any(|g| g.dialect == Dialect::Postgres)
    {
        Dialect::Mysql
    } else {
        Dialect::Postgres
    };
    let mut schema = match &args.schema {
        Some(p) => load_schema(p, dialect)?,
        None => sql::schema::Schema::default(),
    };
    let groups = rules::context::analyze_groups(&agg);
    let mut catalog_rows = Vec::new();
    if let Some(db) = &args.db {
        let tables: Vec<String> = rules::context::tables_of(&groups)
            .into_iter()
            .map(str::to_string)
            .collect();
        let facts = catalog_facts(db, &tables)?;
        // The database knows better than a DDL file: its facts go on top.
        schema.indexes.extend(facts.schema.indexes);
        schema.foreign_keys.extend(facts.schema.foreign_keys);
        schema.tables.extend(facts.schema.tables);
        schema.n_distinct.extend(facts.schema.n_distinct);
        schema.index_usage.extend(facts.schema.index_usage);
        schema.stats_days = facts.schema.stats_days;
        catalog_rows = facts.table_rows;
    }
    let ctx = rules::Context::build(&agg, groups, &schema, &settings, &catalog_rows);
    let outcome = gate::apply(rules::run(&ctx, &settings), &ctx, config, baseline);
    let analysis = report::schema::Analysis {
        findings: &outcome.findings,
        advice: &ctx.advice,
        unparsed: &ctx.unparsed,
        suppressed: &outcome.suppressed,
        baseline: outcome.baseline.as_ref(),
    };
    let report = report::schema::build(
        &agg,
        &files,
        &report::schema::BuildOptions {
            show_params: args.show_params,
            sort: args.sort,
            top,
        },
        Some(&analysis),
    );
    Ok(Some(Analyzed {
        report,
        findings: outcome.findings,
        failed,
    }))
}

pub(crate) fn terminal_width() -> Option<u16> {
    if io::stdout().is_terminal() {
        None
    } else {
        // Piped output is read by people in pagers and by snapshot tests: fixed width.
        Some(
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(160),
        )
    }
}

fn parse_time_arg(flag: &str, v: &Option<String>) -> Result<Option<i64>> {
    match v {
        None => Ok(None),
        Some(s) => timeparse::parse_bound(s).map(Some).with_context(|| {
            format!("{flag} {s:?}: expected YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS")
        }),
    }
}

fn read_one(
    idx: usize,
    path: &Path,
    opts: &ReadOptions,
    agg: &mut Aggregator,
    stats: &mut FileStats,
    counter: Arc<AtomicU64>,
) -> Result<()> {
    let name = if path.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let reader = ingest::open(path, counter).with_context(|| format!("cannot read {name}"))?;
    let (head, mut reader) =
        ingest::peek_lines(reader, 200).with_context(|| format!("cannot read {name}"))?;
    let format = match opts.format {
        Some(f) => f,
        None => match ingest::detect(&head) {
            Some(f) => f,
            None => {
                // Count the lines so the message can say how much was looked at.
                ingest::read_one_thread(idx, &mut reader, ingest::Format::Stderr, opts, agg, stats)
                    .with_context(|| format!("cannot read {name}"))?;
                return Ok(());
            }
        },
    };
    stats.format = Some(format);
    agg.dialect = if format.is_mysql() {
        Dialect::Mysql
    } else {
        Dialect::Postgres
    };
    ingest::read(idx, &mut reader, format, opts, agg, stats)
        .with_context(|| format!("failed while reading {name} (line {})", stats.lines + 1))
}

/// The error for a file that yielded no statements, naming what to change.
fn no_events_message(st: &FileStats, events: u64, filtered: bool) -> Option<String> {
    if events > 0 || filtered {
        return None;
    }
    if st.lines == 0 {
        return Some(format!(
            "{}: the file is empty; no statements to analyze\n{SETTINGS_HELP}",
            st.path
        ));
    }
    if st.recognized_lines == 0 || st.format.is_none() {
        let first = st
            .first_unrecognized
            .first()
            .map(|u| format!("\n  line {}: {}", u.line, u.text))
            .unwrap_or_default();
        return Some(format!(
            "{}: no log entries recognized in {} lines; expected a PostgreSQL log line (timestamp, process id, then `LOG:`) or a MySQL slow log `# Query_time:` header{first}\n{SETTINGS_HELP}",
            st.path, st.lines
        ));
    }
    let fmt = st.format.map(|f| f.name()).unwrap_or("log");
    Some(format!(
        "{}: {} lines read as a {fmt}, but none records a statement with its duration\n{SETTINGS_HELP}",
        st.path, st.recognized_lines
    ))
}
