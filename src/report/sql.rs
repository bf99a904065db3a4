//! `--format sql` / `--emit-sql`: a script to review and apply. Each CREATE INDEX comes
//! with the statements it serves and their time; rewrites are comments, because they
//! belong in the application's code, not in the database.

use std::io::{self, Write};

use super::one_line;
use super::schema::Report;
use super::table::fmt_ms;
use crate::rules::SuggestionKind;

fn comment_lines(w: &mut dyn Write, text: &str, indent: &str) -> io::Result<()> {
    for line in text.lines() {
        writeln!(w, "--{indent}{line}")?;
    }
    Ok(())
}

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    let files: Vec<&str> = report
        .summary
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    writeln!(
        w,
        "-- qperf {}: suggestions for {}",
        report.tool.version,
        files.join(", ")
    )?;
    writeln!(
        w,
        "-- {} statements, {} of statement time. Review before applying: every index slows writes.",
        report.summary.events,
        fmt_ms(report.summary.total_ms)
    )?;
    if report
        .indexes
        .iter()
        .any(|i| i.sql.contains(" CONCURRENTLY "))
    {
        writeln!(
            w,
            "-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block (psql -f runs each statement on its own)."
        )?;
    }
    if report.indexes.is_empty() {
        writeln!(w, "\n-- no index to suggest")?;
    }
    for ix in &report.indexes {
        writeln!(w)?;
        writeln!(
            w,
            "-- {} ({}): serves {} statement{}, {} calls, {} ({:.1}% of statement time)",
            ix.table,
            ix.columns.join(", "),
            ix.fingerprints.len(),
            if ix.fingerprints.len() == 1 { "" } else { "s" },
            ix.calls,
            fmt_ms(ix.total_ms),
            ix.share * 100.0
        )?;
        for fp in &ix.fingerprints {
            if let Some(q) = report.queries.iter().find(|q| q.fingerprint == *fp) {
                writeln!(
                    w,
                    "--   {fp}  {} calls, {}: {}",
                    q.calls,
                    fmt_ms(q.total_ms),
                    one_line(&q.query, usize::MAX)
                )?;
            } else {
                writeln!(w, "--   {fp}")?;
            }
        }
        writeln!(w, "{}", ix.sql)?;
    }
    // Index suggestions of other rules (expression and trigram indexes) are real
    // statements too; rewrites stay comments.
    let mut other_ix = Vec::new();
    let mut rewrites = Vec::new();
    for f in &report.findings {
        for s in &f.suggestions {
            match s.kind {
                SuggestionKind::CreateIndex
                    if !report.indexes.iter().any(|i| i.sql == s.sql)
                        && !other_ix.iter().any(|(_, x): &(_, &str)| *x == s.sql) =>
                {
                    other_ix.push((f, s.sql.as_str()));
                }
                SuggestionKind::Rewrite | SuggestionKind::Setting => rewrites.push((f, s)),
                _ => {}
            }
        }
    }
    for (f, sql) in other_ix {
        writeln!(w)?;
        writeln!(
            w,
            "-- {} {}: {}",
            f.rule,
            f.fingerprint.map(|x| x.to_string()).unwrap_or_default(),
            one_line(&f.message, 140)
        )?;
        writeln!(w, "{sql}")?;
    }
    if !rewrites.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "-- For the application (not run here): query rewrites and per-transaction settings"
        )?;
    }
    for (f, s) in rewrites {
        writeln!(w, "--")?;
        writeln!(
            w,
            "-- {} {}: {}",
            f.rule,
            f.fingerprint.map(|x| x.to_string()).unwrap_or_default(),
            s.title
        )?;
        comment_lines(w, &s.sql, "   ")?;
    }
    Ok(())
}
