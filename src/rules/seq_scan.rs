//! `seq-scan`: a plan's sequential scan that reads a large relation to keep few rows.

use super::context::{Analyzed, Context, cond_columns};
use super::index_advice::{IndexColumn, create_sql};
use super::{Confidence, Finding, RuleConfig, RuleId, Severity, Suggestion, SuggestionKind, r3};
use crate::plan::PlanNode;

pub const PARAMS: &[&str] = &[
    "min_rows_read",
    "min_discard_ratio",
    "error_rows_read",
    "error_total_ms",
];

struct Hit<'p> {
    node: &'p PlanNode,
    path: String,
    read: f64,
    kept: f64,
}

fn hits<'p>(a: &'p Analyzed, cfg: &RuleConfig) -> Vec<Hit<'p>> {
    let mut out: Vec<Hit> = Vec::new();
    let Some(plan) = &a.plan else { return out };
    plan.root.walk(&mut |n, path| {
        if !n.is_seq_scan() || n.filter.is_none() || n.relation.is_none() {
            return;
        }
        let Some((read, kept)) = n.scan_rows() else {
            return;
        };
        if read < cfg.get("min_rows_read") || read <= 0.0 {
            return;
        }
        if (read - kept) / read < cfg.get("min_discard_ratio") {
            return;
        }
        let mut p: Vec<String> = path.iter().map(|x| x.label()).collect();
        p.push(n.label());
        out.push(Hit {
            node: n,
            path: p.join(" → "),
            read,
            kept,
        });
    });
    out
}

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        let mut seen: Vec<&str> = Vec::new();
        for h in hits(a, cfg) {
            let rel = h.node.relation.as_deref().unwrap_or("?");
            if seen.contains(&rel) {
                continue;
            }
            seen.push(rel);
            let severity = if h.read >= cfg.get("error_rows_read")
                && g.total_ms >= cfg.get("error_total_ms")
            {
                Severity::Error
            } else {
                cfg.severity
            };
            let discard = (h.read - h.kept) / h.read;
            let mut f = Finding::new(
                RuleId::SeqScan,
                severity,
                format!(
                    "`{}` reads {} rows per execution to return {} (the filter throws away {:.2}%)",
                    h.node.label(),
                    super::count(h.read),
                    super::count(h.kept),
                    (discard * 100.0).min(99.99)
                ),
                format!("Index the filtered columns of `{rel}` so each execution reads only the matching rows"),
            )
            .evidence("node", h.path.clone())
            .evidence("relation", rel)
            .evidence("rows_read", h.read.round())
            .evidence("rows_returned", h.kept.round())
            .evidence("discard_ratio", r3(discard))
            .evidence("filter", h.node.filter.clone().unwrap_or_default())
            .evidence("calls", g.calls)
            .evidence("total_ms", r3(g.total_ms))
            .evidence("mean_ms", r3(g.mean_ms().unwrap_or(0.0)))
            .evidence("plans", g.plans);
            f = f.about(g);
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
            } else if a.shape.is_none()
                && let Some(filter) = &h.node.filter
            {
                // No statement shape to work from: index the filter's columns as the plan
                // shows them.
                let cols: Vec<IndexColumn> = cond_columns(filter, g.dialect)
                    .into_iter()
                    .map(|name| IndexColumn { name, desc: false })
                    .collect();
                if !cols.is_empty() {
                    f.suggestions.push(Suggestion {
                        kind: SuggestionKind::CreateIndex,
                        title: "index the filter's columns".into(),
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
