//! Reports: a versioned, serialize-only view of a run ([`schema`]) and its renderers.
//!
//! Renderers take a finished [`schema::Report`] and a writer; they never see the
//! aggregator's internal types, so the JSON schema changes only on purpose.

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod schema;
pub mod sql;
pub mod table;

use clap::ValueEnum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    /// The suggested indexes as a reviewed SQL script; rewrites as comments.
    Sql,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions workflow commands (`::warning …`): annotations on the run.
    Github,
    /// A pull-request-comment-sized summary.
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortKey {
    Total,
    Mean,
    P95,
    Calls,
    Max,
    Errors,
}
