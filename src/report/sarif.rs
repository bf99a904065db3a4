//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other dashboards.
//!
//! `tool.driver.rules` comes from the rule catalogue (`rules/*.md`); each result carries
//! the query fingerprint as its partial fingerprint (stable across runs, so dashboards
//! track a finding over time), the statement as a logical location, and the log file
//! and line where the statement first appeared as its physical location.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::schema::Report;
use crate::rules::{RuleId, Severity, catalogue};

/// Where the rule pages live, relative to the repository root (SARIF `helpUri`).
const RULE_DOCS: &str = "https://github.com/qperf/qperf/blob/main/rules/";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn pascal(id: RuleId) -> String {
    id.as_str()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub fn to_value(report: &Report) -> Value {
    let rules: Vec<Value> = catalogue()
        .iter()
        .map(|d| {
            json!({
                "id": d.id.as_str(),
                "name": pascal(d.id),
                "shortDescription": {"text": d.summary},
                "fullDescription": {"text": d.summary},
                "help": {"text": d.body, "markdown": d.body},
                "helpUri": format!("{RULE_DOCS}{}.md", d.id),
                "defaultConfiguration": {"level": level(d.severity)},
                "properties": {
                    "thresholds": d.thresholds.iter().map(|(k, v, _)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = RuleId::ALL.iter().position(|r| *r == f.rule).unwrap_or(0);
            let fp = f.fingerprint.map(|x| x.to_string()).unwrap_or_default();
            let mut location = json!({
                "logicalLocations": [{
                    "name": fp,
                    "fullyQualifiedName": format!("query {fp}"),
                    "kind": "resource",
                }],
            });
            if let Some((file, line)) = f.location.as_deref().and_then(|l| l.rsplit_once(':'))
                && let Ok(line) = line.parse::<u64>()
            {
                location["physicalLocation"] = json!({
                    "artifactLocation": {"uri": file.trim_start_matches("./")},
                    "region": {"startLine": line.max(1)},
                });
            }
            let mut text = format!("{} — {}", f.message, f.help);
            if let Some(q) = &f.query {
                text.push_str(&format!(" (query {fp}: {q})"));
            }
            json!({
                "ruleId": f.rule.as_str(),
                "ruleIndex": index,
                "level": level(f.severity),
                "message": {"text": text},
                "partialFingerprints": {"queryFingerprint/v1": fp},
                "locations": [location],
                "properties": {
                    "evidence": f.evidence,
                    "suggestions": f.suggestions,
                    "timeAtStakeMs": f.time_at_stake_ms,
                    "endpoints": f.endpoints,
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "qperf",
                "version": report.tool.version,
                "informationUri": "https://github.com/qperf/qperf",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &to_value(report))?;
    writeln!(w)
}
