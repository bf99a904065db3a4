//! What stands between the rules and the exit code: suppressions (config and inline
//! `qperf:ignore` comments), the baseline of known findings, and `--fail-on`.
//!
//! The exit-code contract lives here and in `crate::exit`: 0 nothing at or above the
//! gate, 1 findings at or above it, 2 errors (decided by the caller).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use serde::{Deserialize, Serialize};

use crate::config::{Config, FailOn};
use crate::exit;
use crate::rules::context::Context;
use crate::rules::{Finding, RuleId};

/// A finding left out, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Suppressed {
    pub rule: RuleId,
    pub fingerprint: Option<crate::fingerprint::Fingerprint>,
    pub reason: String,
}

/// The baseline file: findings known and accepted, keyed by (rule, fingerprint).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub entries: Vec<BaselineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule: String,
    pub fingerprint: String,
    /// For the reader of the diff; not part of the key.
    pub query: String,
}

impl Baseline {
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                rule: f.rule.to_string(),
                fingerprint: f.fingerprint.map(|x| x.to_string()).unwrap_or_default(),
                query: f.query.clone().unwrap_or_default(),
            })
            .collect();
        entries.sort();
        entries.dedup_by(|a, b| a.rule == b.rule && a.fingerprint == b.fingerprint);
        Baseline {
            version: 1,
            tool: "qperf".into(),
            entries,
        }
    }

    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            anyhow!(
                "{}:{}: not a qperf baseline ({e}); make one with `qperf baseline LOG -o {}`",
                path.display(),
                e.line(),
                path.display()
            )
        })
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    fn contains(&self, f: &Finding) -> bool {
        let fp = f.fingerprint.map(|x| x.to_string()).unwrap_or_default();
        self.entries
            .iter()
            .any(|e| e.rule == f.rule.as_str() && e.fingerprint == fp)
    }
}

/// How the baseline compared with this run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BaselineOutcome {
    pub path: String,
    /// Findings left out because the baseline has them.
    pub known: usize,
    /// Baseline entries that no longer occur (fixed, or not exercised by this log).
    pub gone: Vec<BaselineEntry>,
}

pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub baseline: Option<BaselineOutcome>,
}

/// Removes suppressed and baseline findings.
pub fn apply(
    findings: Vec<Finding>,
    ctx: &Context,
    config: &Config,
    baseline: Option<(&Path, &Baseline)>,
) -> Outcome {
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    let mut known = 0;
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for f in findings {
        let analyzed = f.fingerprint.and_then(|fp| ctx.get(fp));
        let tables: Vec<String> = analyzed
            .and_then(|a| a.shape.as_ref())
            .map(|s| s.tables.iter().map(|t| t.name.clone()).collect())
            .unwrap_or_default();
        if let Some(a) = analyzed {
            let inline = &a.g.ignored_rules.values;
            if inline.iter().any(|r| r == "*" || r == f.rule.as_str()) {
                suppressed.push(Suppressed {
                    rule: f.rule,
                    fingerprint: f.fingerprint,
                    reason: "qperf:ignore comment in the statement".into(),
                });
                continue;
            }
        }
        if let Some(ig) = config
            .ignores
            .iter()
            .find(|i| i.matches(f.rule, f.fingerprint, &tables))
        {
            suppressed.push(Suppressed {
                rule: f.rule,
                fingerprint: f.fingerprint,
                reason: ig.reason.clone(),
            });
            continue;
        }
        seen.insert((
            f.rule.to_string(),
            f.fingerprint.map(|x| x.to_string()).unwrap_or_default(),
        ));
        if let Some((_, b)) = baseline
            && b.contains(&f)
        {
            known += 1;
            continue;
        }
        kept.push(f);
    }
    let baseline = baseline.map(|(path, b)| BaselineOutcome {
        path: path.display().to_string(),
        known,
        gone: b
            .entries
            .iter()
            .filter(|e| !seen.contains(&(e.rule.clone(), e.fingerprint.clone())))
            .cloned()
            .collect(),
    });
    Outcome {
        findings: kept,
        suppressed,
        baseline,
    }
}

/// Whether a finding trips the gate.
pub fn trips(f: &Finding, fail_on: &FailOn) -> bool {
    match fail_on {
        FailOn::Severity(s) => f.severity >= *s,
        FailOn::Rules(r) => r.contains(&f.rule),
        FailOn::Regression => false,
    }
}

/// The exit status for a finished report: 1 when a finding trips the gate.
pub fn exit_code(findings: &[Finding], fail_on: Option<&FailOn>) -> u8 {
    match fail_on {
        Some(g) if findings.iter().any(|f| trips(f, g)) => exit::FINDINGS,
        _ => exit::OK,
    }
}
