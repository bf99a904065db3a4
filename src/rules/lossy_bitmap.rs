//! `lossy-bitmap`: a bitmap heap scan whose bitmap did not fit in work_mem, so it keeps
//! whole pages and rechecks every row on them.

use super::context::{Context, node_finding};
use super::{Confidence, RuleConfig, RuleId, Suggestion, SuggestionKind, count};

pub const PARAMS: &[&str] = &["min_lossy_blocks"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<super::Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        for n in a.nodes() {
            let node = n.node;
            let lossy = node.lossy_heap_blocks.unwrap_or(0.0);
            if node.node_type != "Bitmap Heap Scan" || lossy < cfg.get("min_lossy_blocks") {
                continue;
            }
            let exact = node.exact_heap_blocks.unwrap_or(0.0);
            // An exact page costs the bitmap roughly 64 bytes; ask for twice that.
            let need_mb = ((exact + lossy) * 64.0 * 2.0 / (1024.0 * 1024.0)).max(4.0);
            let mut mb = 4.0;
            while mb < need_mb {
                mb *= 2.0;
            }
            let mut f = node_finding(
                a,
                &n,
                RuleId::LossyBitmap,
                cfg.severity,
                format!(
                    "`{}` went lossy on {} of {} heap pages and rechecked their rows ({} removed by the recheck)",
                    node.label(),
                    count(lossy),
                    count(exact + lossy),
                    count(node.rows_removed_by_index_recheck.unwrap_or(0.0))
                ),
                format!("Give the statement enough work_mem for an exact bitmap (about {mb} MB)"),
            )
            .evidence("lossy_heap_blocks", lossy)
            .evidence("exact_heap_blocks", exact)
            .evidence("rows_removed_by_index_recheck", node.rows_removed_by_index_recheck.unwrap_or(0.0));
            f.time_ms = node.inclusive_ms.unwrap_or(0.0) * a.g.calls.max(1) as f64;
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::Setting,
                title: "in the transaction that runs the statement".into(),
                sql: format!("SET LOCAL work_mem = '{mb}MB';"),
                confidence: Confidence::Review,
            });
            out.push(f);
        }
    }
    out
}
