//! `hot-node`: one plan node holds most of the statement's time: the place to look.

use super::context::{Context, node_finding};
use super::{RuleConfig, RuleId, r3};
use crate::report::table::fmt_ms;

pub const PARAMS: &[&str] = &["min_share", "min_plan_ms"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<super::Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let Some(total) = a.plan_ms().filter(|t| *t >= cfg.get("min_plan_ms")) else {
            continue;
        };
        let nodes = a.nodes();
        // In a one-node plan the only node is trivially the hot one.
        if nodes.len() < 2 {
            continue;
        }
        let Some(hot) = nodes
            .iter()
            .filter(|n| n.node.exclusive_ms.is_some())
            .max_by(|x, y| {
                x.node
                    .exclusive_ms
                    .unwrap_or(0.0)
                    .total_cmp(&y.node.exclusive_ms.unwrap_or(0.0))
            })
        else {
            continue;
        };
        let ex = hot.node.exclusive_ms.unwrap_or(0.0);
        let share = ex / total;
        // A filtered sequential scan is seq-scan's finding, with its index.
        if share < cfg.get("min_share") || (hot.node.is_seq_scan() && hot.node.filter.is_some()) {
            continue;
        }
        let mut f = node_finding(
            a,
            hot,
            RuleId::HotNode,
            cfg.severity,
            format!(
                "`{}` takes {} of the plan's {} ({:.0}%) by itself",
                hot.node.label(),
                fmt_ms(ex),
                fmt_ms(total),
                share * 100.0
            ),
            "Start here: this node is where the statement spends its time".into(),
        )
        .evidence("exclusive_ms", r3(ex))
        .evidence("plan_ms", r3(total))
        .evidence("share", r3(share));
        f.time_ms = ex * a.g.calls.max(1) as f64;
        out.push(f);
    }
    out
}
