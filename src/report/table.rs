//! `--format table`: the top statements, then the run summary, for a terminal.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

use super::schema::Report;

/// `1234.5` ms → `1.23 s`; keeps three significant figures where it can.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 60_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn opt_ms(v: Option<f64>) -> String {
    v.map(fmt_ms).unwrap_or_else(|| "-".into())
}

pub fn fmt_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn shorten(q: &str, n: usize) -> String {
    if q.chars().count() <= n {
        q.to_string()
    } else {
        let mut s: String = q.chars().take(n - 1).collect();
        s.push('…');
        s
    }
}

pub fn write(report: &Report, w: &mut dyn Write, width: Option<u16>) -> io::Result<()> {
    let s = &report.summary;
    if !report.queries.is_empty() {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(w) = width {
            t.set_width(w);
        }
        t.set_header(vec![
            "#",
            "fingerprint",
            "calls",
            "total",
            "share",
            "mean",
            "p50",
            "p95",
            "p99",
            "max",
            "err",
            "query",
        ]);
        for (i, q) in report.queries.iter().enumerate() {
            t.add_row(vec![
                Cell::new(i + 1),
                Cell::new(q.fingerprint.to_string()),
                Cell::new(thousands(q.calls)).set_alignment(CellAlignment::Right),
                Cell::new(fmt_ms(q.total_ms)).set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.1}%", q.share * 100.0)).set_alignment(CellAlignment::Right),
                Cell::new(opt_ms(q.mean_ms)).set_alignment(CellAlignment::Right),
                Cell::new(opt_ms(q.p50_ms)).set_alignment(CellAlignment::Right),
                Cell::new(opt_ms(q.p95_ms)).set_alignment(CellAlignment::Right),
                Cell::new(opt_ms(q.p99_ms)).set_alignment(CellAlignment::Right),
                Cell::new(opt_ms(q.max_ms)).set_alignment(CellAlignment::Right),
                Cell::new(if q.errors > 0 {
                    thousands(q.errors)
                } else {
                    String::new()
                })
                .set_alignment(CellAlignment::Right),
                Cell::new(shorten(&q.query, 160)),
            ]);
        }
        writeln!(w, "{t}")?;
        writeln!(w)?;
    }
    write_findings(report, w)?;
    writeln!(
        w,
        "{} events, {} distinct statements, {} total statement time",
        thousands(s.events),
        thousands(s.fingerprints as u64),
        fmt_ms(s.total_ms)
    )?;
    if let (Some(a), Some(b)) = (&s.first_seen, &s.last_seen) {
        writeln!(w, "time span: {a} .. {b}")?;
    }
    if s.errors > 0 || s.temp_files > 0 {
        writeln!(
            w,
            "{} failed statements, {} temporary files ({})",
            thousands(s.errors),
            thousands(s.temp_files),
            fmt_bytes(s.temp_bytes)
        )?;
    }
    if s.filtered_out > 0 {
        writeln!(
            w,
            "{} events left out by filters",
            thousands(s.filtered_out)
        )?;
    }
    for f in &s.files {
        let fmt = f.format.map(|f| f.name()).unwrap_or("unknown format");
        writeln!(
            w,
            "{}: {}, {}, {} lines ({} unrecognized), {} events",
            f.path,
            fmt,
            fmt_bytes(f.bytes),
            thousands(f.lines),
            thousands(f.unrecognized_lines),
            thousands(f.events)
        )?;
        for u in &f.first_unrecognized {
            writeln!(w, "  unrecognized {}:{}: {}", f.path, u.line, u.text)?;
        }
    }
    Ok(())
}

pub fn write_findings(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    let f = &report.findings;
    if let Some(b) = &report.baseline {
        writeln!(
            w,
            "Baseline {}: {} known finding{} left out; {} baseline entr{} no longer seen{}",
            b.path,
            b.known,
            if b.known == 1 { "" } else { "s" },
            b.gone.len(),
            if b.gone.len() == 1 { "y" } else { "ies" },
            if b.gone.is_empty() {
                ""
            } else {
                " (fixed, or not exercised: regenerate the baseline to drop them)"
            }
        )?;
    }
    if !report.suppressed.is_empty() {
        writeln!(
            w,
            "{} finding{} suppressed by qperf.toml or qperf:ignore comments",
            report.suppressed.len(),
            if report.suppressed.len() == 1 {
                ""
            } else {
                "s"
            }
        )?;
    }
    if f.is_empty() {
        writeln!(w, "No findings.")?;
        writeln!(w)?;
    } else {
        let count = |s: crate::rules::Severity| f.iter().filter(|x| x.severity == s).count();
        writeln!(
            w,
            "Findings: {} ({} error, {} warning, {} info)",
            f.len(),
            count(crate::rules::Severity::Error),
            count(crate::rules::Severity::Warning),
            count(crate::rules::Severity::Info)
        )?;
        writeln!(w)?;
        for (i, x) in f.iter().enumerate() {
            writeln!(
                w,
                "{:>3}. {:<7} {:<21} {}  {} at stake",
                i + 1,
                x.severity.as_str(),
                x.rule.as_str(),
                x.fingerprint.map(|f| f.to_string()).unwrap_or_default(),
                fmt_ms(x.time_at_stake_ms)
            )?;
            writeln!(w, "     {}", x.message)?;
            writeln!(w, "     help: {}", x.help)?;
            if !x.endpoints.is_empty() {
                writeln!(w, "     endpoints: {}", x.endpoints.join(", "))?;
            }
            for s in &x.suggestions {
                let conf = serde_json::to_value(s.confidence)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                writeln!(w, "     suggestion ({conf}): {}", s.title)?;
                for line in s.sql.lines() {
                    writeln!(w, "       {line}")?;
                }
            }
            writeln!(w)?;
        }
    }
    if !report.indexes.is_empty() {
        writeln!(
            w,
            "Suggested indexes (ranked by the statement time they serve):"
        )?;
        for (i, ix) in report.indexes.iter().enumerate() {
            writeln!(
                w,
                "{:>3}. {}\n       serves {} statement{}, {} calls, {} ({:.1}% of statement time)",
                i + 1,
                ix.sql,
                ix.fingerprints.len(),
                if ix.fingerprints.len() == 1 { "" } else { "s" },
                thousands(ix.calls),
                fmt_ms(ix.total_ms),
                ix.share * 100.0
            )?;
        }
        writeln!(w)?;
    }
    if !report.unparsed.is_empty() {
        writeln!(
            w,
            "{} statement{} could not be parsed (no rule saw their shape):",
            report.unparsed.len(),
            if report.unparsed.len() == 1 { "" } else { "s" }
        )?;
        for u in report.unparsed.iter().take(5) {
            writeln!(
                w,
                "  {}  {}: {}",
                u.fingerprint,
                shorten(&u.query, 80),
                u.error
            )?;
        }
        writeln!(w)?;
    }
    Ok(())
}
