//! `heap-fetches`: an index-only scan that still visits the table, because the
//! visibility map is out of date.

use super::context::{Context, node_finding};
use super::{Confidence, RuleConfig, RuleId, Suggestion, SuggestionKind, count, r3};
use crate::sql::ident;

pub const PARAMS: &[&str] = &["min_heap_fetches", "min_ratio"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<super::Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        for n in a.nodes() {
            let node = n.node;
            let fetches = node.heap_fetches.unwrap_or(0.0);
            if node.node_type != "Index Only Scan" || fetches < cfg.get("min_heap_fetches") {
                continue;
            }
            let rows = node.rows_total().unwrap_or(0.0).max(1.0);
            let ratio = fetches / rows;
            if ratio < cfg.get("min_ratio") {
                continue;
            }
            let Some(rel) = node.relation.as_deref() else {
                continue;
            };
            let mut f = node_finding(
                a,
                &n,
                RuleId::HeapFetches,
                cfg.severity,
                format!(
                    "`{}` fetched {} rows from the table for {} returned ({:.0}%): the index-only scan is not index-only",
                    node.label(),
                    count(fetches),
                    count(rows),
                    ratio.min(1.0) * 100.0
                ),
                format!("VACUUM `{rel}` so its visibility map is current (and tune autovacuum for it if this recurs)"),
            )
            .evidence("heap_fetches", fetches)
            .evidence("rows", rows)
            .evidence("ratio", r3(ratio));
            f.time_ms = node.inclusive_ms.unwrap_or(0.0) * a.g.calls.max(1) as f64;
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::Setting,
                title: format!("update the visibility map of {rel}"),
                sql: format!("VACUUM {};", ident(rel, a.g.dialect)),
                confidence: Confidence::Safe,
            });
            out.push(f);
        }
    }
    out
}
