//! `qperf.toml`: rule switches, thresholds and severities, ignored statements and
//! tables (with a reason), the default `--fail-on`, input options. Found in the current
//! directory or given with `--config`; command-line flags win over it.
//!
//! Unknown keys are errors naming the file and line, so a typo never silently turns a
//! gate off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde::Deserialize;
use toml::Spanned;

use crate::fingerprint::Fingerprint;
use crate::rules::{RuleId, Settings, Severity};

/// What makes `analyze` / `explain` / `diff` exit 1.
#[derive(Clone, Debug, PartialEq)]
pub enum FailOn {
    /// Any finding at or above this severity.
    Severity(Severity),
    /// Any finding of these rules.
    Rules(Vec<RuleId>),
    /// `diff` only: any regression.
    Regression,
}

impl std::str::FromStr for FailOn {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<FailOn> {
        let s = s.trim();
        if s == "regression" {
            return Ok(FailOn::Regression);
        }
        if let Ok(sev) = s.parse::<Severity>() {
            return Ok(FailOn::Severity(sev));
        }
        let rules = s
            .split(',')
            .map(|r| r.trim().parse::<RuleId>())
            .collect::<Result<Vec<_>>>()
            .map_err(|e| {
                anyhow!(
                    "--fail-on `{s}`: expected info, warning, error, regression or rule ids ({e})"
                )
            })?;
        Ok(FailOn::Rules(rules))
    }
}

/// A statement, rule or table to leave out of the findings, and why.
#[derive(Clone, Debug)]
pub struct Ignore {
    pub rule: Option<RuleId>,
    pub fingerprint: Option<Fingerprint>,
    pub table: Option<String>,
    pub reason: String,
}

impl Ignore {
    pub fn matches(&self, rule: RuleId, fp: Option<Fingerprint>, tables: &[String]) -> bool {
        self.rule.is_none_or(|r| r == rule)
            && self.fingerprint.is_none_or(|f| Some(f) == fp)
            && self
                .table
                .as_ref()
                .is_none_or(|t| tables.iter().any(|x| x == t))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub fail_on: Option<FailOn>,
    pub log_line_prefix: Option<String>,
    pub ignores: Vec<Ignore>,
    /// `rule.param=value` overrides, applied before the command line's `--set`.
    pub sets: Vec<(String, usize)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    fail_on: Option<Spanned<StringOrList>>,
    input: Option<InputSection>,
    #[serde(default)]
    rules: BTreeMap<String, BTreeMap<String, Spanned<toml::Value>>>,
    #[serde(default)]
    ignore: Vec<Spanned<IgnoreEntry>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSection {
    log_line_prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreEntry {
    rule: Option<String>,
    fingerprint: Option<String>,
    table: Option<String>,
    reason: Option<String>,
}

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].matches('\n').count() + 1
}

impl Config {
    /// `--config PATH`, else `./qperf.toml` when it exists, else defaults.
    pub fn find(explicit: Option<&Path>) -> Result<Config> {
        match explicit {
            Some(p) => Config::load(p),
            None => {
                let p = Path::new("qperf.toml");
                if p.exists() {
                    Config::load(p)
                } else {
                    Ok(Config::default())
                }
            }
        }
    }

    pub fn load(path: &Path) -> Result<Config> {
        let src = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read config {}: {e}", path.display()))?;
        Config::parse(&src, &path.display().to_string()).map(|mut c| {
            c.path = Some(path.to_path_buf());
            c
        })
    }

    pub fn parse(src: &str, name: &str) -> Result<Config> {
        let file: FileConfig = toml::from_str(src).map_err(|e| {
            let line = e.span().map(|s| line_of(src, s.start)).unwrap_or(0);
            anyhow!("{name}:{line}: {}", e.message())
        })?;
        let mut cfg = Config::default();
        if let Some(f) = file.fail_on {
            let line = line_of(src, f.span().start);
            let spec = match f.into_inner() {
                StringOrList::One(s) => s,
                StringOrList::Many(v) => v.join(","),
            };
            cfg.fail_on = Some(
                spec.parse()
                    .map_err(|e| anyhow!("{name}:{line}: fail_on: {e}"))?,
            );
        }
        cfg.log_line_prefix = file.input.and_then(|i| i.log_line_prefix);
        // Validate rule tables against the catalogue now, with their lines.
        let mut probe = Settings::default();
        for (rule, params) in &file.rules {
            for (key, value) in params {
                let line = line_of(src, value.span().start);
                let v = match value.get_ref() {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => bail!("{name}:{line}: rules.{rule}.{key}: unsupported value {other}"),
                };
                let spec = format!("{rule}.{key}={v}");
                probe
                    .set(&spec)
                    .map_err(|e| anyhow!("{name}:{line}: {e}"))?;
                cfg.sets.push((spec, line));
            }
        }
        for entry in file.ignore {
            let line = line_of(src, entry.span().start);
            let e = entry.into_inner();
            let reason = e
                .reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| anyhow!("{name}:{line}: an [[ignore]] entry needs a reason"))?;
            if e.rule.is_none() && e.fingerprint.is_none() && e.table.is_none() {
                bail!("{name}:{line}: an [[ignore]] entry needs a rule, a fingerprint or a table");
            }
            cfg.ignores.push(Ignore {
                rule: e
                    .rule
                    .map(|r| r.parse())
                    .transpose()
                    .map_err(|err| anyhow!("{name}:{line}: {err}"))?,
                fingerprint: e
                    .fingerprint
                    .map(|f| f.parse::<Fingerprint>())
                    .transpose()
                    .map_err(|err| anyhow!("{name}:{line}: fingerprint: {err}"))?,
                table: e.table.map(|t| t.to_ascii_lowercase()),
                reason,
            });
        }
        Ok(cfg)
    }

    /// Catalogue defaults, then this file's rule settings, then the command line's.
    pub fn settings(&self, cli_sets: &[String]) -> Result<Settings> {
        let mut s = Settings::default();
        for (spec, _) in &self.sets {
            s.set(spec)?;
        }
        for spec in cli_sets {
            s.set(spec).map_err(|e| anyhow!("--set `{spec}`: {e}"))?;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        let c = Config::parse(
            r#"
fail_on = ["n-plus-one", "missing-index"]

[input]
log_line_prefix = "%m [%p] "

[rules.n-plus-one]
min_children = 3
severity = "error"

[rules.select-star]
enabled = false

[[ignore]]
fingerprint = "0054dfe1dfc29172"
rule = "n-plus-one"
reason = "batched in release 2.3"

[[ignore]]
table = "audit_log"
reason = "append-only, never read by the app"
"#,
            "qperf.toml",
        )
        .unwrap();
        assert_eq!(
            c.fail_on,
            Some(FailOn::Rules(vec![RuleId::NPlusOne, RuleId::MissingIndex]))
        );
        let s = c.settings(&[]).unwrap();
        assert_eq!(s.rule(RuleId::NPlusOne).get("min_children"), 3.0);
        assert!(!s.rule(RuleId::SelectStar).enabled);
        assert_eq!(c.ignores.len(), 2);
        assert!(c.ignores[1].matches(RuleId::SeqScan, None, &["audit_log".into()]));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Config::parse("fail_on = \"warning\"\nfial_on = 1\n", "qperf.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("qperf.toml:2: unknown field `fial_on`"),
            "{e}"
        );
        let e = Config::parse("[rules.n-plus-one]\nmin_kids = 3\n", "q.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("q.toml:2: rule n-plus-one has no threshold `min_kids`"),
            "{e}"
        );
        let e = Config::parse("[[ignore]]\nrule = \"seq-scan\"\n", "q.toml").unwrap_err();
        assert!(
            e.to_string()
                .contains("q.toml:1: an [[ignore]] entry needs a reason"),
            "{e}"
        );
        let e = Config::parse("fail_on = \"loud\"\n", "q.toml").unwrap_err();
        assert!(e.to_string().starts_with("q.toml:1: fail_on:"), "{e}");
    }
}
