//! `disk-spill`: sorts and hashes that overflow work_mem into temporary files.

use super::context::Context;
use super::{Confidence, Finding, RuleConfig, RuleId, Suggestion, SuggestionKind, r3};
use crate::event::Dialect;
use crate::report::table::fmt_bytes;

pub const PARAMS: &[&str] = &["min_spill_bytes", "max_work_mem_mb"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        if g.dialect != Dialect::Postgres {
            continue;
        }
        let mut plan_kb: f64 = 0.0;
        let mut node = None;
        let mut node_id = None;
        for n in a.nodes() {
            let kb = crate::plan::spill_kb(n.node);
            if kb > plan_kb {
                plan_kb = kb;
                node_id = Some(n.id);
                let how = match (
                    n.node.sort_space_type.as_deref(),
                    n.node.sort_method.as_deref(),
                ) {
                    (Some("Disk"), Some(m)) => format!("{m}  Disk: {kb}kB"),
                    _ if n.node.disk_usage_kb.is_some() => format!("Disk Usage: {kb}kB"),
                    _ if n.node.hash_batches.is_some_and(|b| b > 1.0)
                        && n.node.buffers.temp_written.is_none() =>
                    {
                        format!(
                            "Batches: {}  Memory Usage: {}kB",
                            n.node.hash_batches.unwrap_or(0.0),
                            n.node.peak_memory_kb.unwrap_or(0.0)
                        )
                    }
                    _ => format!("{kb}kB of temporary buffers written"),
                };
                node = Some(format!("{} ({how})", n.node.label()));
            }
        }
        plan_kb = plan_kb.max(g.plan_stats.max_spill_kb);
        let per_file = if g.temp_files > 0 {
            g.temp_bytes as f64 / g.temp_files as f64
        } else {
            0.0
        };
        let spill = per_file.max(plan_kb * 1024.0);
        if spill < cfg.get("min_spill_bytes") {
            continue;
        }
        let want_mb = (spill * 2.0 / (1024.0 * 1024.0)).max(1.0);
        let mut mb = 1.0;
        while mb < want_mb {
            mb *= 2.0;
        }
        let mb = mb.min(cfg.get("max_work_mem_mb")) as u64;
        let mut f = Finding::new(
            RuleId::DiskSpill,
            cfg.severity,
            format!(
                "the statement spills to disk: {}{}{}",
                if g.temp_files > 0 {
                    format!(
                        "{} temporary file{} of {} on average",
                        g.temp_files,
                        if g.temp_files == 1 { "" } else { "s" },
                        fmt_bytes(per_file as u64)
                    )
                } else {
                    format!("{} in its plan", fmt_bytes(spill as u64))
                },
                if g.plan_stats.samples > 1 {
                    format!(
                        "; spilled in {} of {} logged plans, up to {}",
                        g.plan_stats.spill_samples,
                        g.plan_stats.samples,
                        fmt_bytes((g.plan_stats.max_spill_kb * 1024.0) as u64)
                    )
                } else {
                    String::new()
                },
                node.as_ref().map(|n| format!("; plan: {n}")).unwrap_or_default()
            ),
            format!(
                "Give this statement more work_mem ({mb}MB) in its own transaction or role, or pre-aggregate what it sorts"
            ),
        )
        .evidence("plans", g.plan_stats.samples)
        .evidence("plans_spilled", g.plan_stats.spill_samples)
        .evidence("temp_files", g.temp_files)
        .evidence("temp_bytes", g.temp_bytes)
        .evidence("spill_bytes", spill.round())
        .evidence("calls", g.calls)
        .evidence("mean_ms", r3(g.mean_ms().unwrap_or(0.0)))
        .evidence("total_ms", r3(g.total_ms));
        if let (Some(n), Some(id)) = (node, node_id) {
            f = f.evidence("node", n).evidence("node_id", id);
        }
        f.suggestions.push(Suggestion {
            kind: SuggestionKind::Setting,
            title: "in the transaction that runs the statement".into(),
            sql: format!("SET LOCAL work_mem = '{mb}MB';"),
            confidence: Confidence::Review,
        });
        f = f.about(g);
        out.push(f);
    }
    out
}
