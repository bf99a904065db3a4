//! `qperf diff OLD NEW`: what changed between two runs of the same workload (the base
//! branch's test-suite log and the pull request's, say): statements that appeared or got
//! slower, call counts that grew (a new N+1 multiplies them), findings that appeared or
//! went away. Each side is a log (analyzed like `qperf analyze`) or a JSON report.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{AnalyzeArgs, DiffArgs};
use crate::config::{Config, FailOn};
use crate::exit;
use crate::report::OutputFormat;
use crate::report::table::fmt_ms;
use crate::rules::{RuleId, Severity};

#[derive(Clone, Debug, Serialize)]
struct Stat {
    fingerprint: String,
    query: String,
    calls: u64,
    total_ms: f64,
    p95_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
struct DiffFinding {
    rule: String,
    fingerprint: String,
    severity: String,
    message: String,
}

struct Side {
    name: String,
    queries: BTreeMap<String, Stat>,
    findings: BTreeMap<(String, String), DiffFinding>,
    calls: u64,
}

#[derive(Debug, Serialize)]
struct Change {
    fingerprint: String,
    query: String,
    old_calls: u64,
    new_calls: u64,
    old_p95_ms: Option<f64>,
    new_p95_ms: Option<f64>,
    old_total_ms: f64,
    new_total_ms: f64,
}

#[derive(Debug, Serialize)]
struct DiffReport {
    version: u32,
    old: String,
    new: String,
    regression: bool,
    new_statements: Vec<Stat>,
    gone_statements: Vec<Stat>,
    slower: Vec<Change>,
    calls_grew: Vec<Change>,
    findings_appeared: Vec<DiffFinding>,
    findings_gone: Vec<DiffFinding>,
}

fn from_report(name: String, v: &Value) -> Result<Side> {
    let queries = v["queries"]
        .as_array()
        .ok_or_else(|| anyhow!("{name}: a JSON report without `queries`"))?;
    let mut side = Side {
        name,
        queries: BTreeMap::new(),
        findings: BTreeMap::new(),
        calls: 0,
    };
    for q in queries {
        let s = Stat {
            fingerprint: q["fingerprint"].as_str().unwrap_or("").to_string(),
            query: q["query"].as_str().unwrap_or("").to_string(),
            calls: q["calls"].as_u64().unwrap_or(0),
            total_ms: q["total_ms"].as_f64().unwrap_or(0.0),
            p95_ms: q["p95_ms"].as_f64(),
        };
        side.calls += s.calls;
        side.queries.insert(s.fingerprint.clone(), s);
    }
    for f in v["findings"].as_array().into_iter().flatten() {
        let d = DiffFinding {
            rule: f["rule"].as_str().unwrap_or("").to_string(),
            fingerprint: f["fingerprint"].as_str().unwrap_or("").to_string(),
            severity: f["severity"].as_str().unwrap_or("info").to_string(),
            message: f["message"].as_str().unwrap_or("").to_string(),
        };
        side.findings
            .insert((d.rule.clone(), d.fingerprint.clone()), d);
    }
    Ok(side)
}

/// A side from a JSON report, or by analyzing a log like `qperf analyze` would.
fn load(path: &Path, args: &DiffArgs, config: &Config) -> Result<Side> {
    let name = path.display().to_string();
    let head = {
        use std::io::Read;
        let mut buf = [0u8; 64];
        let n = std::fs::File::open(path)
            .with_context(|| format!("cannot read {name}"))?
            .read(&mut buf)
            .unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).trim_start().to_string()
    };
    if head.starts_with('{') {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| anyhow!("{name}:{}: not a qperf JSON report ({e})", e.line()))?;
        if v.get("queries").is_some() {
            return from_report(name, &v);
        }
        bail!("{name}: a JSON file that is not a qperf report (no `queries`)");
    }
    let a = AnalyzeArgs::internal(
        std::slice::from_ref(&name),
        false,
        args.log_line_prefix.as_deref(),
        &[],
    )?;
    let run = crate::run_analysis(&a, config, None)?
        .ok_or_else(|| anyhow!("{name}: nothing to compare"))?;
    if run.failed {
        bail!("{name}: could not be read completely");
    }
    let v = serde_json::to_value(&run.report)?;
    from_report(name, &v)
}

fn change(o: &Stat, n: &Stat) -> Change {
    Change {
        fingerprint: n.fingerprint.clone(),
        query: n.query.clone(),
        old_calls: o.calls,
        new_calls: n.calls,
        old_p95_ms: o.p95_ms,
        new_p95_ms: n.p95_ms,
        old_total_ms: o.total_ms,
        new_total_ms: n.total_ms,
    }
}

fn compare(old: &Side, new: &Side, args: &DiffArgs) -> DiffReport {
    let mut new_statements: Vec<Stat> = new
        .queries
        .values()
        .filter(|s| !old.queries.contains_key(&s.fingerprint))
        .cloned()
        .collect();
    new_statements.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    let gone_statements: Vec<Stat> = old
        .queries
        .values()
        .filter(|s| !new.queries.contains_key(&s.fingerprint))
        .cloned()
        .collect();
    // Calls are compared relative to the whole run, so a longer test run is no regression.
    let scale = if old.calls > 0 {
        new.calls as f64 / old.calls as f64
    } else {
        1.0
    };
    let mut slower = Vec::new();
    let mut calls_grew = Vec::new();
    for n in new.queries.values() {
        let Some(o) = old.queries.get(&n.fingerprint) else {
            continue;
        };
        if let (Some(op), Some(np)) = (o.p95_ms, n.p95_ms)
            && np >= op * args.slower_ratio
            && np - op >= args.min_delta_ms
        {
            slower.push(change(o, n));
        }
        let expected = o.calls as f64 * scale;
        if n.calls as f64 >= expected * args.calls_ratio && n.calls as f64 - expected >= 10.0 {
            calls_grew.push(change(o, n));
        }
    }
    slower.sort_by(|a, b| {
        (b.new_total_ms - b.old_total_ms).total_cmp(&(a.new_total_ms - a.old_total_ms))
    });
    calls_grew.sort_by(|a, b| {
        (b.new_calls - b.old_calls.min(b.new_calls))
            .cmp(&(a.new_calls - a.old_calls.min(a.new_calls)))
    });
    let findings_appeared: Vec<DiffFinding> = new
        .findings
        .iter()
        .filter(|(k, _)| !old.findings.contains_key(*k))
        .map(|(_, f)| f.clone())
        .collect();
    let findings_gone: Vec<DiffFinding> = old
        .findings
        .iter()
        .filter(|(k, _)| !new.findings.contains_key(*k))
        .map(|(_, f)| f.clone())
        .collect();
    let regression = !slower.is_empty()
        || !calls_grew.is_empty()
        || findings_appeared.iter().any(|f| f.severity != "info");
    DiffReport {
        version: 1,
        old: old.name.clone(),
        new: new.name.clone(),
        regression,
        new_statements,
        gone_statements,
        slower,
        calls_grew,
        findings_appeared,
        findings_gone,
    }
}

fn p95(v: Option<f64>) -> String {
    v.map(fmt_ms).unwrap_or_else(|| "-".into())
}

fn short(q: &str) -> String {
    let flat: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 100 {
        flat.chars().take(99).collect::<String>() + "…"
    } else {
        flat
    }
}

fn write_text(d: &DiffReport, w: &mut dyn Write, md: bool) -> io::Result<()> {
    let h = if md { "### " } else { "" };
    if md {
        writeln!(
            w,
            "## qperf diff: {}\n",
            if d.regression {
                "regression"
            } else {
                "no regression"
            }
        )?;
        writeln!(w, "`{}` → `{}`\n", d.old, d.new)?;
    } else {
        writeln!(
            w,
            "qperf diff {} → {}: {}",
            d.old,
            d.new,
            if d.regression {
                "REGRESSION"
            } else {
                "no regression"
            }
        )?;
    }
    let bullet = if md { "- " } else { "  " };
    if !d.findings_appeared.is_empty() {
        writeln!(
            w,
            "\n{h}Findings that appeared ({})",
            d.findings_appeared.len()
        )?;
        for f in &d.findings_appeared {
            writeln!(
                w,
                "{bullet}{} {} {}: {}",
                f.severity,
                f.rule,
                f.fingerprint,
                short(&f.message)
            )?;
        }
    }
    if !d.slower.is_empty() {
        writeln!(w, "\n{h}Slower statements ({})", d.slower.len())?;
        for c in &d.slower {
            writeln!(
                w,
                "{bullet}{} p95 {} → {}: {}",
                c.fingerprint,
                p95(c.old_p95_ms),
                p95(c.new_p95_ms),
                short(&c.query)
            )?;
        }
    }
    if !d.calls_grew.is_empty() {
        writeln!(
            w,
            "\n{h}Statements called more often ({})",
            d.calls_grew.len()
        )?;
        for c in &d.calls_grew {
            writeln!(
                w,
                "{bullet}{} calls {} → {}: {}",
                c.fingerprint,
                c.old_calls,
                c.new_calls,
                short(&c.query)
            )?;
        }
    }
    if !d.new_statements.is_empty() {
        writeln!(w, "\n{h}New statements ({})", d.new_statements.len())?;
        for s in d.new_statements.iter().take(20) {
            writeln!(
                w,
                "{bullet}{} {} calls, {}: {}",
                s.fingerprint,
                s.calls,
                fmt_ms(s.total_ms),
                short(&s.query)
            )?;
        }
    }
    if !d.findings_gone.is_empty() {
        writeln!(
            w,
            "\n{h}Findings that went away ({})",
            d.findings_gone.len()
        )?;
        for f in &d.findings_gone {
            writeln!(
                w,
                "{bullet}{} {}: {}",
                f.rule,
                f.fingerprint,
                short(&f.message)
            )?;
        }
    }
    if !d.gone_statements.is_empty() {
        writeln!(
            w,
            "\n{}{} statements no longer run",
            h,
            d.gone_statements.len()
        )?;
    }
    Ok(())
}

pub fn run(args: DiffArgs) -> Result<u8> {
    let config = Config::find(args.config.as_deref())?;
    let fail_on = match &args.fail_on {
        Some(s) => Some(s.parse::<FailOn>()?),
        None => None,
    };
    let old = load(&args.old, &args, &config)?;
    let new = load(&args.new, &args, &config)?;
    let d = compare(&old, &new, &args);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &d)?;
            writeln!(out)?;
        }
        OutputFormat::Markdown => write_text(&d, &mut out, true)?,
        OutputFormat::Table => write_text(&d, &mut out, false)?,
        other => bail!("qperf diff writes table, json or markdown, not {other:?}"),
    }
    out.flush().context("failed to write the report")?;
    let tripped = match &fail_on {
        None => false,
        Some(FailOn::Regression) => d.regression,
        Some(FailOn::Severity(s)) => d
            .findings_appeared
            .iter()
            .any(|f| f.severity.parse::<Severity>().is_ok_and(|x| x >= *s)),
        Some(FailOn::Rules(r)) => d
            .findings_appeared
            .iter()
            .any(|f| f.rule.parse::<RuleId>().is_ok_and(|x| r.contains(&x))),
    };
    Ok(if tripped { exit::FINDINGS } else { exit::OK })
}
