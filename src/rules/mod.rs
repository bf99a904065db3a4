//! The rule catalogue and the rules.
//!
//! `rules/<id>.md` is the single source of ids, default severities and thresholds: its
//! front matter is compiled in and parsed here, and `tests/catalogue.rs` checks that
//! every doc has a rule and every rule reads exactly the thresholds its doc declares.
//! Rules are pure functions of a [`Context`]: no printing, no clock, no database.

pub mod context;
mod disk_spill;
mod duplicate_index;
mod function_on_column;
mod heap_fetches;
mod hot_node;
pub mod index_advice;
mod large_offset;
mod leading_wildcard_like;
mod lossy_bitmap;
mod missing_index;
mod n_plus_one;
mod nested_loop;
mod repeated_query;
pub mod rewrite;
mod row_misestimate;
mod select_star;
mod seq_scan;
mod unindexed_foreign_key;
mod unused_index;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use anyhow::{Context as _, Result, anyhow, bail};
use serde::Serialize;

pub use context::Context;

use crate::fingerprint::Fingerprint;

macro_rules! rules {
    ($($variant:ident => $id:literal, $module:ident;)*) => {
        /// A rule id: one spelling for the CLI, the config, the docs and the output.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId { $($variant),* }

        impl RuleId {
            /// In catalogue order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $id),* }
            }

            fn doc_source(self) -> &'static str {
                match self { $(RuleId::$variant => include_str!(concat!("../../rules/", $id, ".md"))),* }
            }

            /// The thresholds the code reads; must equal the doc's front matter.
            pub fn params(self) -> &'static [&'static str] {
                match self { $(RuleId::$variant => $module::PARAMS),* }
            }

            fn check(self, ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
                match self { $(RuleId::$variant => $module::check(ctx, cfg)),* }
            }
        }
    };
}

rules! {
    SeqScan => "seq-scan", seq_scan;
    MissingIndex => "missing-index", missing_index;
    SelectStar => "select-star", select_star;
    NPlusOne => "n-plus-one", n_plus_one;
    RepeatedQuery => "repeated-query", repeated_query;
    LeadingWildcardLike => "leading-wildcard-like", leading_wildcard_like;
    FunctionOnColumn => "function-on-column", function_on_column;
    LargeOffset => "large-offset", large_offset;
    DiskSpill => "disk-spill", disk_spill;
    RowMisestimate => "row-misestimate", row_misestimate;
    NestedLoop => "nested-loop", nested_loop;
    LossyBitmap => "lossy-bitmap", lossy_bitmap;
    HeapFetches => "heap-fetches", heap_fetches;
    HotNode => "hot-node", hot_node;
    UnindexedForeignKey => "unindexed-foreign-key", unindexed_foreign_key;
    DuplicateIndex => "duplicate-index", duplicate_index;
    UnusedIndex => "unused-index", unused_index;
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        RuleId::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                anyhow!(
                    "unknown rule `{s}` (known: {})",
                    RuleId::ALL
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl FromStr for Severity {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => bail!("unknown severity `{s}` (expected info, warning or error)"),
        }
    }
}

/// One rule's catalogue entry, parsed from `rules/<id>.md`.
#[derive(Debug, Clone)]
pub struct RuleDoc {
    pub id: RuleId,
    pub severity: Severity,
    pub summary: String,
    /// (name, default, description) in doc order.
    pub thresholds: Vec<(String, f64, String)>,
    /// The Markdown after the front matter.
    pub body: &'static str,
}

/// Parses a doc's front matter: `key: value` lines, and `thresholds:` followed by
/// indented `name: number  # description` lines.
pub fn parse_doc(id: RuleId, src: &'static str) -> Result<RuleDoc> {
    let rest = src
        .strip_prefix("---\n")
        .ok_or_else(|| anyhow!("rules/{id}.md: no front matter (expected a first line `---`)"))?;
    let end = rest
        .find("\n---\n")
        .ok_or_else(|| anyhow!("rules/{id}.md: front matter not closed by `---`"))?;
    let (front, body) = (&rest[..end], &rest[end + 5..]);
    let mut doc_id = None;
    let mut severity = None;
    let mut summary = None;
    let mut thresholds = Vec::new();
    let mut in_thresholds = false;
    for (i, line) in front.lines().enumerate() {
        let n = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with(' ');
        let (content, comment) = match line.find(" #") {
            Some(p) => (&line[..p], line[p + 2..].trim()),
            None => (line, ""),
        };
        let (k, v) = content
            .split_once(':')
            .ok_or_else(|| anyhow!("rules/{id}.md:{n}: expected `key: value`"))?;
        let (k, v) = (k.trim(), v.trim());
        if indented && in_thresholds {
            let val: f64 = v
                .parse()
                .with_context(|| format!("rules/{id}.md:{n}: threshold `{k}` is not a number"))?;
            thresholds.push((k.to_string(), val, comment.to_string()));
            continue;
        }
        in_thresholds = false;
        match k {
            "id" => doc_id = Some(v.to_string()),
            "severity" => severity = Some(v.parse::<Severity>()?),
            "summary" => summary = Some(v.to_string()),
            "thresholds" => in_thresholds = true,
            _ => bail!("rules/{id}.md:{n}: unknown front matter key `{k}`"),
        }
    }
    if doc_id.as_deref() != Some(id.as_str()) {
        bail!("rules/{id}.md: front matter id is {doc_id:?}, expected `{id}`");
    }
    Ok(RuleDoc {
        id,
        severity: severity.ok_or_else(|| anyhow!("rules/{id}.md: no severity"))?,
        summary: summary.ok_or_else(|| anyhow!("rules/{id}.md: no summary"))?,
        thresholds,
        body: body.trim_start_matches('\n'),
    })
}

/// The catalogue, parsed once. The docs are compiled in, so a malformed doc is a bug
/// caught by the tests, never a user error.
pub fn catalogue() -> &'static [RuleDoc] {
    static CAT: OnceLock<Vec<RuleDoc>> = OnceLock::new();
    CAT.get_or_init(|| {
        RuleId::ALL
            .iter()
            .map(|&id| parse_doc(id, id.doc_source()).expect("rule docs are checked by tests"))
            .collect()
    })
}

pub fn doc(id: RuleId) -> &'static RuleDoc {
    &catalogue()[RuleId::ALL.iter().position(|&r| r == id).unwrap_or(0)]
}

/// One rule's effective settings: catalogue defaults with overrides applied.
#[derive(Debug, Clone)]
pub struct RuleConfig {
    pub id: RuleId,
    pub enabled: bool,
    pub severity: Severity,
    pub params: BTreeMap<String, f64>,
}

impl RuleConfig {
    /// A threshold the rule declared in its `PARAMS`; the catalogue test guarantees it
    /// exists.
    pub fn get(&self, name: &str) -> f64 {
        self.params.get(name).copied().unwrap_or(f64::NAN)
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub rules: Vec<RuleConfig>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rules: catalogue()
                .iter()
                .map(|d| RuleConfig {
                    id: d.id,
                    enabled: true,
                    severity: d.severity,
                    params: d
                        .thresholds
                        .iter()
                        .map(|(k, v, _)| (k.clone(), *v))
                        .collect(),
                })
                .collect(),
        }
    }
}

impl Settings {
    pub fn rule(&self, id: RuleId) -> &RuleConfig {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .expect("settings hold every rule")
    }

    fn rule_mut(&mut self, id: RuleId) -> &mut RuleConfig {
        self.rules
            .iter_mut()
            .find(|r| r.id == id)
            .expect("settings hold every rule")
    }

    /// Applies `rule.param=value` (`value` a number; `severity` and `enabled` too).
    pub fn set(&mut self, spec: &str) -> Result<()> {
        let (key, value) = spec
            .split_once('=')
            .ok_or_else(|| anyhow!("`{spec}`: expected rule.param=value"))?;
        let (rule, param) = key
            .trim()
            .split_once('.')
            .ok_or_else(|| anyhow!("`{spec}`: expected rule.param=value"))?;
        let id: RuleId = rule.parse()?;
        let value = value.trim();
        let cfg = self.rule_mut(id);
        match param {
            "severity" => cfg.severity = value.parse()?,
            "enabled" => {
                cfg.enabled = match value {
                    "true" => true,
                    "false" => false,
                    _ => bail!("rule {id}: enabled takes true or false, not `{value}`"),
                }
            }
            _ => {
                let slot = cfg.params.get_mut(param).ok_or_else(|| {
                    anyhow!(
                        "rule {id} has no threshold `{param}` (it has: {})",
                        id.params().join(", ")
                    )
                })?;
                *slot = value.parse().with_context(|| {
                    format!("rule {id}: `{param}` takes a number, not `{value}`")
                })?;
            }
        }
        Ok(())
    }
}

/// A kind of suggested change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    CreateIndex,
    Rewrite,
    Setting,
}

/// How far a suggestion can be trusted without a human looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    DisplayOnly,
    Review,
    Safe,
}

#[derive(Clone, Debug, Serialize)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    pub title: String,
    pub sql: String,
    pub confidence: Confidence,
}

/// One problem found, with the numbers that crossed the thresholds.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub fingerprint: Option<Fingerprint>,
    /// The statement, normalized.
    pub query: Option<String>,
    pub message: String,
    pub help: String,
    /// Ordered name → value pairs.
    pub evidence: BTreeMap<String, serde_json::Value>,
    pub suggestions: Vec<Suggestion>,
    /// Statement time the finding puts at stake, for ranking.
    pub time_ms: f64,
    /// Other statements involved (the parent of an N+1, the writes that invalidate).
    pub related: Vec<Fingerprint>,
    /// Application endpoints from sqlcommenter / marginalia comments.
    pub endpoints: Vec<String>,
}

impl Finding {
    pub fn new(rule: RuleId, severity: Severity, message: String, help: String) -> Finding {
        Finding {
            rule,
            severity,
            fingerprint: None,
            query: None,
            message,
            help,
            evidence: BTreeMap::new(),
            suggestions: Vec::new(),
            time_ms: 0.0,
            related: Vec::new(),
            endpoints: Vec::new(),
        }
    }

    /// Ties the finding to a statement: fingerprint, text, endpoints, and its total time
    /// as the time at stake (rules with a narrower stake set `time_ms` after).
    pub fn about(mut self, g: &crate::aggregate::Group) -> Finding {
        self.fingerprint = Some(g.fingerprint);
        self.query = Some(g.query.clone());
        self.time_ms = g.total_ms;
        self.endpoints = g.endpoints.values.clone();
        self
    }

    pub fn evidence(mut self, k: &str, v: impl Into<serde_json::Value>) -> Finding {
        self.evidence.insert(k.to_string(), v.into());
        self
    }
}

/// Runs every enabled rule; findings ranked by severity, then time at stake, then rule
/// and fingerprint so the order is stable.
pub fn run(ctx: &Context, settings: &Settings) -> Vec<Finding> {
    let mut out = Vec::new();
    for cfg in &settings.rules {
        if cfg.enabled {
            out.extend(cfg.id.check(ctx, cfg));
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.time_ms.total_cmp(&a.time_ms))
            .then(a.rule.cmp(&b.rule))
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    out
}

pub use n_plus_one::singular as n_plus_one_singular;

/// Rounds for evidence: three decimals are plenty for milliseconds and ratios.
pub fn r3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// `6000094` → `6,000,094` for messages.
pub fn count(v: f64) -> String {
    crate::report::table::thousands(v.round().max(0.0) as u64)
}

/// All values of a `parameters:` detail text, `$1` first, unquoted (`NULL` as is).
pub fn param_values(params: &str) -> Vec<String> {
    (1..)
        .map_while(|i| param_value(params, &format!("${i}")))
        .collect()
}

/// A value from PostgreSQL's `parameters: $1 = '42', $2 = NULL` detail text, unquoted.
pub fn param_value(params: &str, name: &str) -> Option<String> {
    let b = params.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'=' {
            i += 1;
        }
        let key = &params[start..i];
        while i < b.len() && (b[i] == b' ' || b[i] == b'=') {
            i += 1;
        }
        let value = if b.get(i) == Some(&b'\'') {
            i += 1;
            let mut v = String::new();
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        v.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                let ch = params[i..].chars().next()?;
                v.push(ch);
                i += ch.len_utf8();
            }
            v
        } else {
            let s = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            params[s..i].trim().to_string()
        };
        if key == name {
            return Some(value);
        }
        if start == i {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let p = "$1 = '14329', $2 = 'it''s', $3 = NULL";
        assert_eq!(param_value(p, "$1").as_deref(), Some("14329"));
        assert_eq!(param_value(p, "$2").as_deref(), Some("it's"));
        assert_eq!(param_value(p, "$3").as_deref(), Some("NULL"));
        assert_eq!(param_value(p, "$4"), None);
    }

    #[test]
    fn catalogue_parses() {
        assert_eq!(catalogue().len(), RuleId::ALL.len());
    }
}
