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

/// Whitespace folded to single spaces, cut to `n` characters with an ellipsis.
pub fn one_line(s: &str, n: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= n {
        flat
    } else {
        let mut t: String = flat.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
