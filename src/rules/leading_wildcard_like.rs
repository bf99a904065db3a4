//! `leading-wildcard-like`: `LIKE '%…'` patterns no B-tree index can serve.

use super::context::Context;
use super::index_advice::index_name;
use super::{Confidence, Finding, RuleConfig, RuleId, Suggestion, SuggestionKind, param_value, r3};
use crate::event::Dialect;
use crate::sql::ident;
use crate::sql::shape::{Operand, PredKind};

pub const PARAMS: &[&str] = &["min_mean_ms"];

fn leading_wildcard(pattern: &str) -> bool {
    let p = pattern
        .trim_start_matches(['E', 'e'])
        .trim_start_matches('\'');
    p.starts_with('%') || p.starts_with('_')
}

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        let Some(shape) = &a.shape else { continue };
        if g.mean_ms().is_none_or(|m| m < cfg.get("min_mean_ms")) {
            continue;
        }
        let params = g.slowest_params();
        for p in shape.predicates.iter().filter(|p| p.kind == PredKind::Like) {
            let pattern = match &p.value {
                Operand::Literal(l) => Some(l.clone()),
                Operand::Param(name) => params.and_then(|ps| param_value(ps, name)),
                _ => None,
            };
            let Some(pattern) = pattern.filter(|x| leading_wildcard(x)) else {
                continue;
            };
            let Some(table) = shape.table_of(&p.table) else {
                continue;
            };
            let op = if p.case_insensitive { "ILIKE" } else { "LIKE" };
            let mut f = Finding::new(
                RuleId::LeadingWildcardLike,
                cfg.severity,
                format!(
                    "`{}.{} {op}` with a pattern starting with a wildcard reads every row; the statement averages {:.1} ms",
                    table,
                    p.column,
                    g.mean_ms().unwrap_or(0.0)
                ),
                match g.dialect {
                    Dialect::Postgres => "Use a trigram index (pg_trgm) or full-text search for substring matches".into(),
                    Dialect::Mysql => "Use a FULLTEXT index and MATCH … AGAINST for word searches".into(),
                },
            )
            .evidence("table", table)
            .evidence("column", p.column.clone())
            .evidence("calls", g.calls)
            .evidence("mean_ms", r3(g.mean_ms().unwrap_or(0.0)))
            .evidence("total_ms", r3(g.total_ms));
            if matches!(p.value, Operand::Literal(_)) {
                f = f.evidence("pattern", pattern.clone());
            }
            let name = index_name(
                table,
                &[super::index_advice::IndexColumn {
                    name: format!("{}_trgm", p.column),
                    desc: false,
                }],
            );
            let sql = match g.dialect {
                Dialect::Postgres => format!(
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} USING gin ({} gin_trgm_ops);",
                    ident(&name, g.dialect),
                    ident(table, g.dialect),
                    ident(&p.column, g.dialect)
                ),
                Dialect::Mysql => format!(
                    "ALTER TABLE {} ADD FULLTEXT INDEX {} ({});",
                    ident(table, g.dialect),
                    ident(&name.replace("_trgm_", "_ft_"), g.dialect),
                    ident(&p.column, g.dialect)
                ),
            };
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::CreateIndex,
                title: "an index that serves substring searches".into(),
                sql,
                confidence: Confidence::Review,
            });
            f = f.about(g);
            out.push(f);
            break;
        }
    }
    out
}
