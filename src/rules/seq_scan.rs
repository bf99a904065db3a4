//! `seq-scan`: a plan's sequential scan that reads a large relation to keep few rows.

use super::context::{Context, NodeRef, node_finding};
use super::index_advice::{IndexColumn, create_sql};
use super::{Confidence, RuleConfig, RuleId, Severity, Suggestion, SuggestionKind, count, r3};
use crate::event::Dialect;
use crate::sql::shape::{PredKind, Shape};

pub const PARAMS: &[&str] = &[
    "min_rows_read",
    "min_discard_ratio",
    "error_rows_read",
    "error_total_ms",
];

/// Columns for an index read off the plan alone: the filter's equality columns, then a
/// range column; then the sort keys when a Sort above the scan feeds a Limit.
fn columns_from_plan(n: &NodeRef, dialect: Dialect) -> Vec<IndexColumn> {
    let Some(filter) = &n.node.filter else {
        return Vec::new();
    };
    let Ok(expr) = crate::sql::parse_expr(filter, dialect) else {
        return Vec::new();
    };
    let Ok(shape) = Shape::parse(&format!("SELECT 1 FROM t WHERE {expr}"), dialect) else {
        return Vec::new();
    };
    let mut cols: Vec<IndexColumn> = Vec::new();
    let add = |name: &str, desc: bool, cols: &mut Vec<IndexColumn>| {
        if !cols.iter().any(|c| c.name == name) {
            cols.push(IndexColumn {
                name: name.to_string(),
                desc,
            });
        }
    };
    let usable = |p: &&crate::sql::shape::Predicate| !p.in_or && p.wrapped.is_none();
    for p in shape.predicates.iter().filter(usable) {
        if matches!(p.kind, PredKind::Eq | PredKind::In) {
            add(&p.column, false, &mut cols);
        }
    }
    let limit = n.ancestors.iter().any(|a| a.node_type == "Limit");
    if limit && let Some(sort) = n.ancestors.iter().rev().find(|a| a.node_type == "Sort") {
        for key in &sort.sort_key {
            let (col, desc) = match key.strip_suffix(" DESC") {
                Some(c) => (c, true),
                None => (key.trim_end_matches(" ASC"), false),
            };
            let col = col.rsplit('.').next().unwrap_or(col);
            if col.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                add(col, desc, &mut cols);
            }
        }
    }
    if let Some(r) = shape
        .predicates
        .iter()
        .filter(usable)
        .find(|p| p.kind == PredKind::Range)
    {
        add(&r.column, false, &mut cols);
    }
    cols
}

/// `((user_id = 41199) AND (status = 'completed'::text))` →
/// `((user_id = $1) AND (status = $2::text))`.
fn redact(filter: &str, dialect: Dialect) -> String {
    let mysql = dialect == Dialect::Mysql;
    let style = if mysql {
        crate::fingerprint::Style::Question
    } else {
        crate::fingerprint::Style::Dollar
    };
    crate::fingerprint::Normalizer::new()
        .normalize(filter, mysql, style)
        .1
}

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        let mut seen: Vec<&str> = Vec::new();
        for n in a.nodes() {
            let node = n.node;
            let Some(rel) = node.relation.as_deref() else {
                continue;
            };
            if !node.is_seq_scan() || node.filter.is_none() || seen.contains(&rel) {
                continue;
            }
            let Some((read, kept)) = node.scan_rows() else {
                continue;
            };
            if read < cfg.get("min_rows_read") || read <= 0.0 {
                continue;
            }
            let discard = (read - kept) / read;
            if discard < cfg.get("min_discard_ratio") {
                continue;
            }
            seen.push(rel);
            let severity =
                if read >= cfg.get("error_rows_read") && g.total_ms >= cfg.get("error_total_ms") {
                    Severity::Error
                } else {
                    cfg.severity
                };
            let in_plans = g.plan_stats.seq_scan_samples(rel);
            let across = if g.plan_stats.samples > 1 {
                format!(
                    "; a sequential scan of {rel} in {in_plans} of {} logged plans",
                    g.plan_stats.samples
                )
            } else {
                String::new()
            };
            let mut f = node_finding(
                a,
                &n,
                RuleId::SeqScan,
                severity,
                format!(
                    "`{}` reads {} rows per execution to return {} (the filter throws away {:.2}%){across}",
                    node.label(),
                    count(read),
                    count(kept),
                    (discard * 100.0).min(99.99)
                ),
                format!("Index the filtered columns of `{rel}` so each execution reads only the matching rows"),
            )
            .evidence("relation", rel)
            .evidence("rows_read", read.round())
            .evidence("rows_returned", kept.round())
            .evidence("discard_ratio", r3(discard))
            // The plan's filter carries the logged values: redacted like parameters.
            .evidence("filter", redact(node.filter.as_deref().unwrap_or(""), g.dialect))
            .evidence("plans_with_seq_scan", in_plans)
            .evidence("calls", g.calls)
            .evidence("total_ms", r3(g.total_ms))
            .evidence("mean_ms", r3(g.mean_ms().unwrap_or(0.0)));
            if let Some(adv) = ctx
                .advice
                .iter()
                .find(|m| m.table == rel && m.fingerprints.contains(&g.fingerprint))
            {
                f.suggestions.push(Suggestion {
                    kind: SuggestionKind::CreateIndex,
                    title: format!("index {} (also reported by missing-index)", adv.name),
                    sql: adv.sql.clone(),
                    confidence: Confidence::Review,
                });
            } else if a.shape.is_none() {
                // No statement to read: index what the plan shows.
                let cols = columns_from_plan(&n, g.dialect);
                if !cols.is_empty() {
                    f.suggestions.push(Suggestion {
                        kind: SuggestionKind::CreateIndex,
                        title: "index the filter's columns (equality first), then the sort the Limit reads".into(),
                        sql: create_sql(rel, &cols, g.dialect),
                        confidence: Confidence::Review,
                    });
                }
            }
            out.push(f);
        }
    }
    out
}

use super::Finding;
