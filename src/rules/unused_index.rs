//! `unused-index`: an index the server has not used once since its statistics began,
//! on a table the workload touches (needs `--db`).

use super::context::Context;
use super::{Confidence, Finding, RuleConfig, RuleId, Suggestion, SuggestionKind};
use crate::report::table::fmt_bytes;
use crate::sql::ident;

pub const PARAMS: &[&str] = &["min_size_mb", "min_stats_days"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(days) = ctx.schema.stats_days else {
        return out;
    };
    if days < cfg.get("min_stats_days") {
        return out;
    }
    let tables = ctx.workload_tables();
    for t in tables {
        for ix in ctx.schema.indexes_on(t) {
            let Some(name) = &ix.name else { continue };
            let Some(&(scans, size)) = ctx.schema.index_usage.get(name) else {
                continue;
            };
            // Unique indexes enforce constraints even when no query reads them.
            if scans > 0 || ix.unique || (size as f64) < cfg.get("min_size_mb") * 1024.0 * 1024.0 {
                continue;
            }
            let mut f = Finding::new(
                RuleId::UnusedIndex,
                cfg.severity,
                format!(
                    "index {name} on {t} ({}) has not been scanned in {days:.0} days of statistics and takes {}",
                    ix.columns.join(", "),
                    fmt_bytes(size as u64)
                ),
                format!(
                    "Drop {name} if no rarely-run job needs it (check replicas too: their scans are not counted here)"
                ),
            )
            .evidence("table", t)
            .evidence("index", name.clone())
            .evidence("columns", ix.columns.clone())
            .evidence("scans", scans)
            .evidence("size_bytes", size)
            .evidence("stats_days", (days * 10.0).round() / 10.0);
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::Setting,
                title: format!("drop {name} (on a busy table: DROP INDEX CONCURRENTLY)"),
                sql: format!(
                    "DROP INDEX IF EXISTS {};",
                    ident(name, crate::event::Dialect::Postgres)
                ),
                confidence: Confidence::Review,
            });
            out.push(f);
        }
    }
    out
}
