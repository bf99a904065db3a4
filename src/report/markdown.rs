//! `--format markdown`: a summary sized for a pull-request comment: counts per rule, the
//! top findings, and the suggested SQL in a fenced block.

use std::io::{self, Write};

use super::schema::Report;
use super::table::fmt_ms;
use crate::rules::{RuleId, Severity};

/// Findings listed in full; the rest are counted.
const TOP: usize = 10;

/// One line for a Markdown table cell or list item: no newlines, no bare `|`.
fn one_line(s: &str, n: usize) -> String {
    super::one_line(s, n).replace('|', r"\|")
}

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    let f = &report.findings;
    let count = |s: Severity| f.iter().filter(|x| x.severity == s).count();
    writeln!(
        w,
        "## qperf: {} finding{} ({} error, {} warning, {} info)\n",
        f.len(),
        if f.len() == 1 { "" } else { "s" },
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )?;
    writeln!(
        w,
        "{} statements ({} distinct), {} of statement time.",
        report.summary.events,
        report.summary.fingerprints,
        fmt_ms(report.summary.total_ms)
    )?;
    if let Some(b) = &report.baseline {
        writeln!(
            w,
            "Baseline `{}`: {} known finding{} not repeated here; {} baseline entr{} no longer seen.",
            b.path,
            b.known,
            if b.known == 1 { "" } else { "s" },
            b.gone.len(),
            if b.gone.len() == 1 { "y" } else { "ies" }
        )?;
    }
    if !report.suppressed.is_empty() {
        writeln!(
            w,
            "{} finding(s) suppressed by configuration or `qperf:ignore` comments.",
            report.suppressed.len()
        )?;
    }
    writeln!(w)?;
    if f.is_empty() {
        writeln!(w, "No findings.")?;
        return Ok(());
    }
    writeln!(w, "| rule | findings | time at stake |")?;
    writeln!(w, "|---|---:|---:|")?;
    for id in RuleId::ALL {
        let of: Vec<_> = f.iter().filter(|x| x.rule == *id).collect();
        if !of.is_empty() {
            let t: f64 = of.iter().map(|x| x.time_at_stake_ms).sum();
            writeln!(w, "| `{id}` | {} | {} |", of.len(), fmt_ms(t))?;
        }
    }
    writeln!(w, "\n### Top findings\n")?;
    for (i, x) in f.iter().take(TOP).enumerate() {
        writeln!(
            w,
            "{}. **{}** `{}` — {}  \n   {}",
            i + 1,
            x.severity.as_str(),
            x.rule,
            one_line(&x.message, 300),
            one_line(&x.help, 300)
        )?;
    }
    if f.len() > TOP {
        writeln!(w, "\n… and {} more (see the full report).", f.len() - TOP)?;
    }
    // Indexes first (what the DBA applies), then each other suggestion under a comment
    // naming the finding it answers.
    let mut blocks: Vec<String> = report.indexes.iter().map(|i| i.sql.clone()).collect();
    for x in f {
        for s in &x.suggestions {
            if report.indexes.iter().any(|i| i.sql == s.sql) {
                continue;
            }
            let fp = x.fingerprint.map(|f| f.to_string()).unwrap_or_default();
            let block = format!("-- {} {fp}: {}\n{}", x.rule, s.title, s.sql);
            if !blocks.contains(&block) {
                blocks.push(block);
            }
        }
    }
    if !blocks.is_empty() {
        writeln!(
            w,
            "\n<details><summary>Suggested SQL ({} statements)</summary>\n",
            blocks.len()
        )?;
        writeln!(w, "```sql")?;
        for b in blocks {
            writeln!(w, "{b}\n")?;
        }
        writeln!(w, "```\n</details>")?;
    }
    Ok(())
}
