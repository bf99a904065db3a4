//! `row-misestimate`: the planner's row estimate is off by an order of magnitude or more
//! at a node that matters, so it may have picked the wrong join or scan.

use super::context::{Context, node_finding};
use super::{Confidence, RuleConfig, RuleId, Severity, Suggestion, SuggestionKind, count, r3};
use crate::sql::ident;

pub const PARAMS: &[&str] = &[
    "min_factor",
    "warning_factor",
    "error_factor",
    "min_rows",
    "min_share",
];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<super::Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let Some(total) = a.plan_ms().filter(|t| *t > 0.0) else {
            continue;
        };
        let nodes = a.nodes();
        let mut worst: Option<(f64, &super::context::NodeRef)> = None;
        let mut misestimated = 0;
        for n in &nodes {
            let node = n.node;
            let (Some(est), Some(act)) = (node.plan_rows, node.actual_rows) else {
                continue;
            };
            if node.never_executed || est.max(act) < cfg.get("min_rows") {
                continue;
            }
            // Under a Limit a node stops early by design: fewer rows than estimated is no
            // misestimate.
            if act < est && n.ancestors.iter().any(|x| x.node_type == "Limit") {
                continue;
            }
            let factor = est.max(act) / est.min(act).max(1.0);
            if factor < cfg.get("min_factor") {
                continue;
            }
            // It matters when this node or its parent holds a real share of the time.
            let share = |x: &crate::plan::PlanNode| x.inclusive_ms.unwrap_or(0.0) / total;
            if share(node).max(n.parent().map_or(0.0, share)) < cfg.get("min_share") {
                continue;
            }
            misestimated += 1;
            if worst.is_none_or(|(f, _)| factor > f) {
                worst = Some((factor, n));
            }
        }
        let Some((factor, n)) = worst else { continue };
        let node = n.node;
        let severity = if factor >= cfg.get("error_factor") {
            Severity::Error
        } else if factor >= cfg.get("warning_factor") {
            Severity::Warning.max(cfg.severity)
        } else {
            cfg.severity
        };
        let (est, act) = (
            node.plan_rows.unwrap_or(0.0),
            node.actual_rows.unwrap_or(0.0),
        );
        let rel = node.relation.clone().or_else(|| {
            // A join's estimate comes from its inputs: name the first scanned relation.
            let mut r = None;
            node.walk(&mut |x, _| {
                if r.is_none() {
                    r = x.relation.clone();
                }
            });
            r
        });
        let mut f = node_finding(
            a,
            n,
            RuleId::RowMisestimate,
            severity,
            format!(
                "`{}` was estimated at {} rows and produced {} ({}× {})",
                node.label(),
                count(est),
                count(act),
                count(factor),
                if act > est { "more" } else { "fewer" }
            ),
            match &rel {
                Some(r) => format!(
                    "Refresh the statistics of `{r}` (ANALYZE); if the filter combines correlated columns, \
                     add extended statistics: CREATE STATISTICS … (dependencies, ndistinct) ON col_a, col_b FROM {r}"
                ),
                None => "Refresh the statistics of the tables involved (ANALYZE)".into(),
            },
        )
        .evidence("estimated_rows", est)
        .evidence("actual_rows", act)
        .evidence("factor", r3(factor))
        .evidence("misestimated_nodes", misestimated)
        .evidence("node_ms", r3(node.inclusive_ms.unwrap_or(0.0)));
        f.time_ms = node.inclusive_ms.unwrap_or(0.0) * a.g.calls.max(1) as f64;
        // ANALYZE fixes a scan's estimate; a join's or an aggregate's comes from
        // expressions and combinations it may not fix: help text only.
        if let Some(r) = rel.filter(|_| node.relation.is_some()) {
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::Setting,
                title: format!("refresh the statistics of {r}"),
                sql: format!("ANALYZE {};", ident(&r, a.g.dialect)),
                confidence: Confidence::Safe,
            });
        }
        out.push(f);
    }
    out
}
