//! Command-line interface (clap derive). Parsing only: `lib::run` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ingest::Format;
use crate::report::{OutputFormat, SortKey};

#[derive(Parser, Debug)]
#[command(
    name = "qperf",
    version,
    about = "Database query performance analyzer for PostgreSQL and MySQL logs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read slow-query logs and report per-statement statistics.
    ///
    /// For example: qperf analyze /var/log/postgresql/postgresql-15-main.log
    Analyze(Box<AnalyzeArgs>),
    /// Read an EXPLAIN / EXPLAIN ANALYZE plan (PostgreSQL text or JSON, MySQL JSON) and
    /// report its tree, time per node and the plan rules' findings.
    ///
    /// For example: psql -XqAt -c 'EXPLAIN (ANALYZE, BUFFERS) SELECT …' | qperf explain -
    Explain(Box<ExplainArgs>),
    /// Record the current findings as known, so that `analyze --baseline` reports only
    /// new ones.
    ///
    /// For example: qperf baseline test-suite.log -o qperf-baseline.json
    Baseline(Box<BaselineArgs>),
    /// Compare two runs (logs or JSON reports): new and slower statements, grown call
    /// counts, findings that appeared or went away.
    ///
    /// For example: qperf diff main.log pr.log --fail-on regression
    Diff(Box<DiffArgs>),
    /// Check the suggested indexes against a live PostgreSQL with HypoPG: estimated cost
    /// of each statement before and after a hypothetical index.
    ///
    /// For example: qperf verify --db postgresql://app@db/shop postgresql.log
    Verify(Box<VerifyArgs>),
    /// List the rules: id, default severity, summary.
    Rules,
    /// Print one rule's documentation and thresholds.
    ///
    /// For example: qperf rule n-plus-one
    Rule {
        /// A rule id, e.g. missing-index.
        id: String,
    },
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Log files (`-` or none: standard input). Globs are expanded; .gz and .bz2 are
    /// decompressed.
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Show this many statements (table default: 20; JSON default: all).
    #[arg(long)]
    pub top: Option<usize>,

    /// Order statements by this figure.
    #[arg(long, value_enum, default_value_t = SortKey::Total)]
    pub sort: SortKey,

    /// Read every file as this format instead of detecting it.
    #[arg(long, value_enum)]
    pub input_format: Option<Format>,

    /// The server's log_line_prefix, when auto-detection is not enough.
    ///
    /// For example: --log-line-prefix '%t [%p]: [%l-1] user=%u,db=%d '
    #[arg(long)]
    pub log_line_prefix: Option<String>,

    /// Only events at or after this time (`YYYY-MM-DD[ HH:MM[:SS]]`, log's time zone).
    #[arg(long)]
    pub since: Option<String>,

    /// Only events before this time.
    #[arg(long)]
    pub until: Option<String>,

    /// Only these databases (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub include_db: Vec<String>,
    /// Leave out these databases.
    #[arg(long, value_delimiter = ',')]
    pub exclude_db: Vec<String>,
    /// Only these users.
    #[arg(long, value_delimiter = ',')]
    pub include_user: Vec<String>,
    /// Leave out these users.
    #[arg(long, value_delimiter = ',')]
    pub exclude_user: Vec<String>,
    /// Only these application names.
    #[arg(long, value_delimiter = ',')]
    pub include_app: Vec<String>,
    /// Leave out these application names.
    #[arg(long, value_delimiter = ',')]
    pub exclude_app: Vec<String>,

    /// Print bind parameters and statements with their literal values (redacted by default).
    #[arg(long)]
    pub show_params: bool,

    /// Accept input with no statements instead of exiting with status 2.
    #[arg(long)]
    pub allow_empty: bool,

    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// Threads that parse PostgreSQL stderr and MySQL slow logs (default: the number of
    /// cores). The report is the same for any value.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Bytes of log per chunk handed to a parsing thread. Tests set it small to put
    /// thousands of chunk borders inside entries and N+1 loops.
    #[arg(long, hide = true, default_value_t = crate::ingest::parallel::CHUNK as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_bytes: u64,

    /// DDL of the database (`pg_dump --schema-only`, or CREATE TABLE / CREATE INDEX
    /// statements): existing indexes, columns and foreign keys sharpen the advice.
    ///
    /// For example: --schema schema.sql
    #[arg(long)]
    pub schema: Option<PathBuf>,

    /// Override a rule threshold, severity or enabled flag (repeatable).
    ///
    /// For example: --set n-plus-one.min_children=3 --set select-star.enabled=false
    #[arg(long = "set", value_name = "RULE.PARAM=VALUE")]
    pub set: Vec<String>,

    /// Also write the suggested SQL (indexes, rewrites as comments) to this file.
    #[arg(long, value_name = "FILE")]
    pub emit_sql: Option<PathBuf>,

    /// Exit with status 1 when a finding is at or above this severity (info, warning,
    /// error), or of one of these rules. Without it, findings exit 0.
    ///
    /// For example: --fail-on n-plus-one,missing-index
    #[arg(long, value_name = "SEVERITY|RULES")]
    pub fail_on: Option<String>,

    /// Report only findings that this baseline file (from `qperf baseline`) does not list.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Configuration file (default: ./qperf.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Also write the report in this format to this file (repeatable).
    ///
    /// For example: --output sarif=qperf.sarif --output markdown=qperf.md
    #[arg(long, value_name = "FORMAT=PATH")]
    pub output: Vec<String>,

    /// A live PostgreSQL to read catalog facts from (existing indexes, table sizes,
    /// columns, foreign keys); read-only. URL or key=value; also PGURL, DATABASE_URL, PG*.
    ///
    /// For example: --db postgresql://readonly@db.internal/shop
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// With --db: read the workload from the pg_stat_statements view (calls, total and
    /// mean time, rows) instead of, or besides, log files.
    #[arg(long, requires = "db")]
    pub pg_stat_statements: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The logs whose suggested indexes to check.
    pub files: Vec<PathBuf>,

    /// The database (URL or key=value; also PGURL, DATABASE_URL and the PG* variables).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// Output format (table or json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// The servers' log_line_prefix, when auto-detection is not enough.
    #[arg(long)]
    pub log_line_prefix: Option<String>,

    /// Override a rule threshold (e.g. missing-index.min_cost_reduction=0.5).
    #[arg(long = "set", value_name = "RULE.PARAM=VALUE")]
    pub set: Vec<String>,

    /// Also build each index for real inside a transaction that is rolled back, and
    /// EXPLAIN ANALYZE the reads it serves before and after. It blocks writes to the
    /// table while it builds: for a scratch copy of the database, not production.
    #[arg(long)]
    pub real: bool,

    /// Configuration file (default: ./qperf.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl AnalyzeArgs {
    /// The analysis `qperf analyze FILES --format json` runs, for commands that analyze
    /// logs on the way (`diff`, `verify`, `explain --fingerprint`): parsed by the same
    /// definitions, so every default is the one a user gets.
    pub fn internal(
        files: &[String],
        show_params: bool,
        log_line_prefix: Option<&str>,
        sets: &[String],
    ) -> anyhow::Result<AnalyzeArgs> {
        let mut argv: Vec<String> = ["qperf", "analyze", "--format", "json"]
            .map(String::from)
            .to_vec();
        if show_params {
            argv.push("--show-params".into());
        }
        if let Some(p) = log_line_prefix {
            argv.extend(["--log-line-prefix".into(), p.to_string()]);
        }
        for s in sets {
            argv.extend(["--set".into(), s.clone()]);
        }
        // After `--`, a file name that starts with a dash is still a file name.
        argv.push("--".into());
        argv.extend(files.iter().cloned());
        match Cli::try_parse_from(&argv)?.command {
            Command::Analyze(a) => Ok(*a),
            _ => unreachable!("parsed an analyze command line"),
        }
    }
}

#[derive(Args, Debug)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub analyze: AnalyzeArgs,

    /// Where to write the baseline.
    #[arg(
        short = 'o',
        long = "out",
        value_name = "FILE",
        default_value = "qperf-baseline.json"
    )]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The reference run: a log, or a `--format json` report.
    pub old: PathBuf,
    /// The run to judge: a log, or a `--format json` report.
    pub new: PathBuf,

    /// Output format (table, json or markdown).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// `regression`: exit 1 when anything got worse. Also a severity or rule ids:
    /// exit 1 when a finding of that kind appeared.
    #[arg(long, value_name = "regression|SEVERITY|RULES")]
    pub fail_on: Option<String>,

    /// A statement is slower when its P95 grew by this factor ...
    #[arg(long, default_value_t = 1.5)]
    pub slower_ratio: f64,

    /// ... and by at least this many milliseconds.
    #[arg(long, default_value_t = 1.0)]
    pub min_delta_ms: f64,

    /// A statement's calls grew when they rose by this factor (relative to all
    /// statements' calls) and by at least 10.
    #[arg(long, default_value_t = 2.0)]
    pub calls_ratio: f64,

    /// Configuration file, for reading logs (default: ./qperf.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The servers' log_line_prefix, when reading logs.
    #[arg(long)]
    pub log_line_prefix: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The plan file (`-` or none: standard input).
    pub file: Option<PathBuf>,

    /// The statement that was explained, when the plan does not carry it (auto_explain's
    /// `Query Text` does): enables the statement rules and index advice.
    #[arg(long)]
    pub sql: Option<String>,

    /// Output format (`sql`: the suggested statements as a script).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// DDL of the database, as for `analyze`.
    #[arg(long)]
    pub schema: Option<PathBuf>,

    /// Override a rule threshold, severity or enabled flag (repeatable).
    #[arg(long = "set", value_name = "RULE.PARAM=VALUE")]
    pub set: Vec<String>,

    /// Exit with status 1 when a finding is at or above this severity, or of these rules.
    #[arg(long, value_name = "SEVERITY|RULES")]
    pub fail_on: Option<String>,

    /// Configuration file (default: ./qperf.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Run EXPLAIN on this live PostgreSQL for --sql (or the statement in the .sql file
    /// given as input), in a read-only session.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// With --db: EXPLAIN (ANALYZE, BUFFERS), i.e. run the statement. SELECT only,
    /// unless --analyze-writes.
    #[arg(long, requires = "db")]
    pub analyze: bool,

    /// With --analyze: also run data-changing statements, inside a transaction that is
    /// always rolled back.
    #[arg(long, requires = "analyze")]
    pub analyze_writes: bool,

    /// A value for $1, $2, … of --sql, in order (repeatable).
    #[arg(long, value_name = "VALUE")]
    pub param: Vec<String>,

    /// With --db: EXPLAIN this statement of the log given as input, with the values of
    /// its slowest logged execution.
    ///
    /// For example: qperf explain --db URL --fingerprint 4e32606e681d67fe postgresql.log
    #[arg(
        long,
        value_name = "FINGERPRINT",
        requires = "db",
        conflicts_with = "sql"
    )]
    pub fingerprint: Option<String>,
}
