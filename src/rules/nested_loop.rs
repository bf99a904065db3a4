//! `nested-loop`: a nested loop whose inner side scans a table without an index, once
//! per outer row.

use super::context::{Context, node_finding};
use super::index_advice::{IndexColumn, create_sql};
use super::{Confidence, RuleConfig, RuleId, Suggestion, SuggestionKind, count, r3};
use crate::plan::PlanNode;
use crate::sql::shape::Shape;

pub const PARAMS: &[&str] = &["min_loops", "min_rows_read"];

/// The inner scan's column in the join condition: the side qualified by its alias or
/// relation (or unqualified).
fn join_column(cond: &str, inner: &PlanNode, dialect: crate::event::Dialect) -> Option<String> {
    let expr = crate::sql::parse_expr(cond, dialect).ok()?;
    let shape = Shape::parse(&format!("SELECT 1 FROM t WHERE {expr}"), dialect).ok()?;
    let names: Vec<&str> = [inner.alias.as_deref(), inner.relation.as_deref(), Some("t")]
        .into_iter()
        .flatten()
        .collect();
    let mine = |t: &Option<String>| t.as_deref().is_none_or(|t| names.contains(&t));
    for (l, r) in &shape.joins {
        if mine(&l.table) && !mine(&r.table) {
            return Some(l.column.clone());
        }
        if mine(&r.table) && !mine(&l.table) {
            return Some(r.column.clone());
        }
    }
    None
}

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<super::Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        for n in a.nodes() {
            let node = n.node;
            if node.node_type != "Nested Loop" || node.children.len() < 2 {
                continue;
            }
            // The inner side, looking through a Materialize.
            let mut inner = &node.children[1];
            while inner.node_type == "Materialize" && !inner.children.is_empty() {
                inner = &inner.children[0];
            }
            if !inner.is_seq_scan() {
                continue;
            }
            let loops = inner
                .loops
                .unwrap_or(0.0)
                .max(node.children[0].rows_total().unwrap_or(0.0));
            let read = inner.rows_read().unwrap_or(0.0);
            if loops < cfg.get("min_loops") || read < cfg.get("min_rows_read") {
                continue;
            }
            let Some(rel) = inner.relation.as_deref() else {
                continue;
            };
            let cond = inner.filter.as_deref().or(node.join_filter.as_deref());
            let col = cond.and_then(|c| join_column(c, inner, a.g.dialect));
            let mut f = node_finding(
                a,
                &n,
                RuleId::NestedLoop,
                cfg.severity,
                format!(
                    "`{}` scans `{rel}` without an index {} times, reading {} rows in all",
                    node.label(),
                    count(loops),
                    count(read)
                ),
                match &col {
                    Some(c) => format!("Index `{rel}({c})` so each outer row finds its match directly"),
                    None => format!("Index the join column of `{rel}` so each outer row finds its match directly"),
                },
            )
            .evidence("inner", inner.label())
            .evidence("loops", loops)
            .evidence("rows_read", read)
            .evidence("inner_ms", r3(inner.inclusive_ms.unwrap_or(0.0)));
            f.time_ms = node.inclusive_ms.unwrap_or(0.0) * a.g.calls.max(1) as f64;
            if let Some(c) = col {
                f.suggestions.push(Suggestion {
                    kind: SuggestionKind::CreateIndex,
                    title: format!("index the join column of {rel}"),
                    sql: create_sql(
                        rel,
                        &[IndexColumn {
                            name: c,
                            desc: false,
                        }],
                        a.g.dialect,
                    ),
                    confidence: Confidence::Review,
                });
            }
            out.push(f);
        }
    }
    out
}
