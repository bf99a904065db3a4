//! `missing-index`: statements that cost real time filtering or sorting on columns no
//! known index leads with. The advice itself is computed once in `index_advice`.

use super::context::Context;
use super::{Confidence, Finding, RuleConfig, RuleId, Severity, Suggestion, SuggestionKind, r3};
use crate::event::Dialect;

pub const PARAMS: &[&str] = &[
    "min_mean_ms",
    "min_total_ms",
    "min_table_rows",
    "max_selectivity",
    "error_share",
    "min_cost_reduction",
];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for adv in &ctx.advice {
        let severity = if ctx.share(adv.total_ms) >= cfg.get("error_share") {
            Severity::Error
        } else {
            cfg.severity
        };
        let cols: Vec<String> = adv
            .columns
            .iter()
            .map(|c| c.render(Dialect::Postgres))
            .collect();
        for fp in &adv.fingerprints {
            let Some(a) = ctx.get(*fp) else { continue };
            let g = a.g;
            let need: Vec<String> = adv
                .needs
                .iter()
                .find(|(x, _)| x == fp)
                .map(|(_, c)| c.iter().map(|c| c.render(Dialect::Postgres)).collect())
                .unwrap_or_else(|| cols.clone());
            let mut f = Finding::new(
                RuleId::MissingIndex,
                severity,
                format!(
                    "no index on `{}` supports ({}); the statement averages {:.1} ms over {} calls",
                    adv.table,
                    need.join(", "),
                    g.mean_ms().unwrap_or(0.0),
                    super::count(g.calls as f64)
                ),
                if adv.fingerprints.len() > 1 {
                    format!(
                        "Create index {} on {} ({}); it serves {} statements taking {:.1} s in total",
                        adv.name,
                        adv.table,
                        cols.join(", "),
                        adv.fingerprints.len(),
                        adv.total_ms / 1000.0
                    )
                } else {
                    format!("Create index {} on {} ({})", adv.name, adv.table, cols.join(", "))
                },
            )
            .evidence("table", adv.table.clone())
            .evidence("columns", need.clone())
            .evidence("index_columns", cols.clone())
            .evidence("calls", g.calls)
            .evidence("mean_ms", r3(g.mean_ms().unwrap_or(0.0)))
            .evidence("total_ms", r3(g.total_ms))
            .evidence("share", r3(ctx.share(g.total_ms)))
            .evidence("index_serves", adv.fingerprints.len())
            .evidence("index_total_ms", r3(adv.total_ms));
            if let Some(rows) = ctx.table_size(&adv.table) {
                f = f.evidence("table_rows_from_plan", rows.round());
            }
            f = f.about(g);
            f.related = adv
                .fingerprints
                .iter()
                .copied()
                .filter(|x| x != fp)
                .collect();
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::CreateIndex,
                title: format!("create {}", adv.name),
                sql: adv.sql.clone(),
                confidence: Confidence::Review,
            });
            out.push(f);
        }
    }
    out
}
