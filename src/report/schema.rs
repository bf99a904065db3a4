//! The JSON report, version 1 (documented in `docs/json-output.md`).
//!
//! Field names and meanings here are a public contract: add fields freely, but rename
//! or remove one only with a new `version`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::SortKey;
use crate::aggregate::{Aggregator, Group, Sample};
use crate::event::Dialect;
use crate::fingerprint::Fingerprint;
use crate::ingest::{FileStats, Format, Unrecognized};
use crate::rules::context::Unparsed;
use crate::rules::index_advice::IndexAdvice;
use crate::rules::{Finding, RuleId, Severity, Suggestion};
use crate::timeparse::format_ms;

pub const VERSION: u32 = 1;

#[derive(Serialize, Debug)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub summary: Summary,
    pub queries: Vec<Query>,
    /// Ranked: severity, then the statement time at stake.
    pub findings: Vec<FindingOut>,
    /// Suggested indexes, merged across statements, ranked by the time they serve.
    pub indexes: Vec<IndexOut>,
    /// Statements sqlparser could not read (no rule saw their shape).
    pub unparsed: Vec<Unparsed>,
    /// Findings left out by `qperf.toml` ignores or `qperf:ignore` comments.
    pub suppressed: Vec<crate::gate::Suppressed>,
    /// With `--baseline`: what the baseline absorbed and what it lists that no longer occurs.
    pub baseline: Option<crate::gate::BaselineOutcome>,
}

#[derive(Serialize, Debug)]
pub struct FindingOut {
    pub rule: RuleId,
    pub severity: Severity,
    pub fingerprint: Option<Fingerprint>,
    pub query: Option<String>,
    pub message: String,
    pub help: String,
    pub evidence: BTreeMap<String, serde_json::Value>,
    pub suggestions: Vec<Suggestion>,
    pub time_at_stake_ms: f64,
    pub related: Vec<Fingerprint>,
    pub endpoints: Vec<String>,
    /// `file:line` of the statement's first appearance.
    pub location: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct IndexOut {
    pub table: String,
    /// Key columns in order, `DESC` where the sort needs it.
    pub columns: Vec<String>,
    pub name: String,
    pub sql: String,
    pub fingerprints: Vec<Fingerprint>,
    pub calls: u64,
    pub total_ms: f64,
    /// Share of the run's total statement time (0–1).
    pub share: f64,
}

/// What the rules produced, handed to [`build`].
pub struct Analysis<'a> {
    pub findings: &'a [Finding],
    pub advice: &'a [IndexAdvice],
    pub unparsed: &'a [Unparsed],
    pub suppressed: &'a [crate::gate::Suppressed],
    pub baseline: Option<&'a crate::gate::BaselineOutcome>,
}

#[derive(Serialize, Debug)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize, Debug)]
pub struct Summary {
    pub files: Vec<FileSummary>,
    pub events: u64,
    pub fingerprints: usize,
    pub total_ms: f64,
    pub bytes: u64,
    pub lines: u64,
    pub recognized_lines: u64,
    pub unrecognized_lines: u64,
    /// Events dropped by --since/--until and the include/exclude filters.
    pub filtered_out: u64,
    pub errors: u64,
    pub temp_files: u64,
    pub temp_bytes: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct FileSummary {
    pub path: String,
    pub format: Option<Format>,
    pub bytes: u64,
    pub lines: u64,
    pub events: u64,
    pub recognized_lines: u64,
    pub unrecognized_lines: u64,
    pub first_unrecognized: Vec<Unrecognized>,
}

#[derive(Serialize, Debug)]
pub struct Query {
    pub fingerprint: Fingerprint,
    pub query: String,
    pub dialect: Dialect,
    pub calls: u64,
    pub timed_calls: u64,
    pub total_ms: f64,
    /// Share of the run's total statement time (0–1).
    pub share: f64,
    pub mean_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub rows: Option<u64>,
    pub rows_examined: Option<u64>,
    pub lock_ms: Option<f64>,
    pub errors: u64,
    pub error_messages: Vec<String>,
    pub temp_files: u64,
    pub temp_bytes: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub databases: Vec<String>,
    pub users: Vec<String>,
    pub applications: Vec<String>,
    pub plans: u64,
    /// Facts over all of this statement's logged plans; `null` without plans.
    pub plan_evidence: Option<PlanEvidence>,
    pub samples: Vec<SampleOut>,
}

#[derive(Serialize, Debug)]
pub struct PlanEvidence {
    /// Plans that parsed.
    pub plans: u64,
    /// Filtered sequential scans: relation and in how many plans.
    pub seq_scans: Vec<Count>,
    /// Indexes used, and in how many plans.
    pub indexes: Vec<Count>,
    /// Plans in which a sort, hash or aggregate wrote to disk, and the largest spill.
    pub spills: u64,
    pub max_spill_kb: f64,
}

#[derive(Serialize, Debug)]
pub struct Count {
    pub name: String,
    pub plans: u64,
}

#[derive(Serialize, Debug)]
pub struct SampleOut {
    pub duration_ms: f64,
    pub at: Option<String>,
    /// `file:line` where the execution was logged.
    pub location: String,
    pub session: Option<String>,
    /// Bind parameters; `"<redacted>"` unless --show-params.
    pub params: Option<String>,
    /// The statement as logged (with its literal values); only with --show-params.
    pub sql: Option<String>,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

pub struct BuildOptions {
    pub show_params: bool,
    pub sort: SortKey,
    pub top: Option<usize>,
}

fn sample_out(s: &Sample, files: &[FileStats], show: bool) -> SampleOut {
    let path = files.get(s.file).map(|f| f.path.as_str()).unwrap_or("?");
    SampleOut {
        duration_ms: round3(s.duration_ms),
        at: s.at.map(format_ms),
        location: format!("{path}:{}", s.line),
        session: s.session.clone(),
        params: s.params.as_ref().map(|p| {
            if show {
                p.clone()
            } else {
                "<redacted>".to_string()
            }
        }),
        sql: show.then(|| s.sql.clone()),
    }
}

pub fn sort_groups(groups: &mut [&Group], key: SortKey) {
    let val = |g: &Group| -> f64 {
        match key {
            SortKey::Total => g.total_ms,
            SortKey::Mean => g.mean_ms().unwrap_or(0.0),
            SortKey::P95 => g.quantile(0.95).unwrap_or(0.0),
            SortKey::Calls => g.calls as f64,
            SortKey::Max => g.max_ms,
            SortKey::Errors => g.errors as f64,
        }
    };
    groups.sort_by(|a, b| {
        val(b)
            .total_cmp(&val(a))
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
}

pub fn build(
    agg: &Aggregator,
    files: &[FileStats],
    opts: &BuildOptions,
    analysis: Option<&Analysis>,
) -> Report {
    let total = agg.totals.total_ms;
    let mut groups: Vec<&Group> = agg.groups.values().collect();
    sort_groups(&mut groups, opts.sort);
    if let Some(n) = opts.top {
        groups.truncate(n);
    }
    let queries = groups
        .iter()
        .map(|g| {
            let mut samples: Vec<&Sample> = g.samples.iter().collect();
            samples.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
            let timed = g.timed_calls > 0;
            Query {
                fingerprint: g.fingerprint,
                query: g.query.clone(),
                dialect: g.dialect,
                calls: g.calls,
                timed_calls: g.timed_calls,
                total_ms: round3(g.total_ms),
                share: if total > 0.0 {
                    (g.total_ms / total * 10000.0).round() / 10000.0
                } else {
                    0.0
                },
                mean_ms: g.mean_ms().map(round3),
                min_ms: timed.then_some(round3(g.min_ms)),
                p50_ms: g.quantile(0.50).map(round3),
                p95_ms: g.quantile(0.95).map(round3),
                p99_ms: g.quantile(0.99).map(round3),
                max_ms: timed.then_some(round3(g.max_ms)),
                rows: g.rows,
                rows_examined: g.rows_examined,
                lock_ms: g.lock_ms.map(round3),
                errors: g.errors,
                error_messages: g.error_messages.clone(),
                temp_files: g.temp_files,
                temp_bytes: g.temp_bytes,
                first_seen: g.first_seen.map(format_ms),
                last_seen: g.last_seen.map(format_ms),
                databases: g.dbs.values.clone(),
                users: g.users.values.clone(),
                applications: g.apps.values.clone(),
                plans: g.plans,
                plan_evidence: (g.plan_stats.samples > 0).then(|| {
                    let counts = |v: &[(String, u64)]| {
                        v.iter()
                            .map(|(name, plans)| Count {
                                name: name.clone(),
                                plans: *plans,
                            })
                            .collect()
                    };
                    PlanEvidence {
                        plans: g.plan_stats.samples,
                        seq_scans: counts(&g.plan_stats.seq_scans),
                        indexes: counts(&g.plan_stats.indexes),
                        spills: g.plan_stats.spill_samples,
                        max_spill_kb: round3(g.plan_stats.max_spill_kb),
                    }
                }),
                samples: samples
                    .iter()
                    .map(|s| sample_out(s, files, opts.show_params))
                    .collect(),
            }
        })
        .collect();
    let t = &agg.totals;
    let summary = Summary {
        files: files
            .iter()
            .enumerate()
            .map(|(i, f)| FileSummary {
                path: f.path.clone(),
                format: f.format,
                bytes: f.bytes,
                lines: f.lines,
                events: t.per_file_events.get(i).copied().unwrap_or(0),
                recognized_lines: f.recognized_lines,
                unrecognized_lines: f.unrecognized_lines,
                first_unrecognized: f.first_unrecognized.clone(),
            })
            .collect(),
        events: t.events,
        fingerprints: agg.groups.len(),
        total_ms: round3(t.total_ms),
        bytes: files.iter().map(|f| f.bytes).sum(),
        lines: files.iter().map(|f| f.lines).sum(),
        recognized_lines: files.iter().map(|f| f.recognized_lines).sum(),
        unrecognized_lines: files.iter().map(|f| f.unrecognized_lines).sum(),
        filtered_out: t.filtered_out,
        errors: agg.groups.values().map(|g| g.errors).sum::<u64>()
            + files.iter().map(|f| f.errors_unattributed).sum::<u64>(),
        temp_files: agg.groups.values().map(|g| g.temp_files).sum(),
        temp_bytes: agg.groups.values().map(|g| g.temp_bytes).sum(),
        first_seen: t.first.map(format_ms),
        last_seen: t.last.map(format_ms),
    };
    Report {
        version: VERSION,
        tool: Tool {
            name: "qperf",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary,
        queries,
        findings: analysis
            .map(|a| {
                a.findings
                    .iter()
                    .map(|f| FindingOut {
                        rule: f.rule,
                        severity: f.severity,
                        fingerprint: f.fingerprint,
                        query: f.query.clone(),
                        message: f.message.clone(),
                        help: f.help.clone(),
                        evidence: f.evidence.clone(),
                        suggestions: f.suggestions.clone(),
                        time_at_stake_ms: round3(f.time_ms),
                        related: f.related.clone(),
                        endpoints: f.endpoints.clone(),
                        location: f.fingerprint.and_then(|fp| agg.groups.get(&fp)).map(|g| {
                            let path = files
                                .get(g.first_file)
                                .map(|f| f.path.as_str())
                                .unwrap_or("?");
                            format!("{path}:{}", g.first_line)
                        }),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        indexes: analysis
            .map(|a| {
                a.advice
                    .iter()
                    .map(|m| IndexOut {
                        table: m.table.clone(),
                        columns: m
                            .columns
                            .iter()
                            .map(|c| {
                                if c.desc {
                                    format!("{} DESC", c.name)
                                } else {
                                    c.name.clone()
                                }
                            })
                            .collect(),
                        name: m.name.clone(),
                        sql: m.sql.clone(),
                        fingerprints: m.fingerprints.clone(),
                        calls: m.calls,
                        total_ms: round3(m.total_ms),
                        share: if total > 0.0 {
                            (m.total_ms / total * 10000.0).round() / 10000.0
                        } else {
                            0.0
                        },
                    })
                    .collect()
            })
            .unwrap_or_default(),
        unparsed: analysis.map(|a| a.unparsed.to_vec()).unwrap_or_default(),
        suppressed: analysis.map(|a| a.suppressed.to_vec()).unwrap_or_default(),
        baseline: analysis.and_then(|a| a.baseline.cloned()),
    }
}
