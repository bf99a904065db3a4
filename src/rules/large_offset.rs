//! `large-offset`: deep OFFSET pagination.

use super::context::Context;
use super::{Finding, RuleConfig, RuleId, param_value, r3};
use crate::sql::shape::Operand;

pub const PARAMS: &[&str] = &["min_offset"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        let Some(shape) = &a.shape else { continue };
        let params = g.slowest_params();
        // The example statement may carry a literal offset while the normalized text
        // does not; the slowest sample's parameters stand in for placeholders.
        let offset = match &shape.offset {
            Some(Operand::Literal(l)) => l.trim_matches('\'').parse::<f64>().ok(),
            Some(Operand::Param(p)) => params
                .and_then(|ps| param_value(ps, p))
                .and_then(|v| v.trim_matches('\'').parse::<f64>().ok()),
            _ => None,
        };
        let Some(offset) = offset.filter(|o| *o >= cfg.get("min_offset")) else {
            continue;
        };
        let order: Vec<String> = shape.order_by.iter().map(|o| o.expr.clone()).collect();
        let mut f = Finding::new(
            RuleId::LargeOffset,
            cfg.severity,
            format!(
                "OFFSET {} makes the database produce and discard {} rows before the page",
                offset, offset
            ),
            if order.is_empty() {
                "Page by a key instead of OFFSET: remember the last row's key and filter on it".into()
            } else {
                format!(
                    "Page by the sort key instead of OFFSET: `WHERE ({}) < (last row's values) ORDER BY … LIMIT n`",
                    order.join(", ")
                )
            },
        )
        .evidence("offset", offset)
        .evidence("calls", g.calls)
        .evidence("mean_ms", r3(g.mean_ms().unwrap_or(0.0)))
        .evidence("total_ms", r3(g.total_ms));
        f = f.about(g);
        out.push(f);
    }
    out
}
