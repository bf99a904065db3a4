//! `function-on-column`: a filtered column wrapped in a function or cast, which an
//! index on the bare column cannot serve.

use super::context::Context;
use super::index_advice::index_name;
use super::{Confidence, Finding, RuleConfig, RuleId, Suggestion, SuggestionKind, r3};
use crate::sql::ident;
use crate::sql::shape::PredKind;

pub const PARAMS: &[&str] = &["min_mean_ms"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        let Some(shape) = &a.shape else { continue };
        if g.mean_ms().is_none_or(|m| m < cfg.get("min_mean_ms")) {
            continue;
        }
        let Some(p) = shape.predicates.iter().find(|p| {
            p.wrapped.is_some()
                && !p.in_or
                && !p.in_join
                && matches!(
                    p.kind,
                    PredKind::Eq | PredKind::In | PredKind::Range | PredKind::Like
                )
        }) else {
            continue;
        };
        let Some(table) = shape.table_of(&p.table) else {
            continue;
        };
        let expr = p.wrapped_expr.clone().unwrap_or_default();
        let mut f = Finding::new(
            RuleId::FunctionOnColumn,
            cfg.severity,
            format!(
                "the filter applies `{}` to `{}.{}`, so an index on the column cannot be used; the statement averages {:.1} ms",
                p.wrapped.as_deref().unwrap_or(""),
                table,
                p.column,
                g.mean_ms().unwrap_or(0.0)
            ),
            "Compare the bare column (move the function to the value side), or index the expression".into(),
        )
        .evidence("table", table)
        .evidence("column", p.column.clone())
        .evidence("expression", expr.clone())
        .evidence("calls", g.calls)
        .evidence("mean_ms", r3(g.mean_ms().unwrap_or(0.0)))
        .evidence("total_ms", r3(g.total_ms));
        // The expression must mention only this table's column, unqualified, to be an
        // index expression: re-render it from the column name.
        let unqualified = expr.replace(&format!("{}.", p.table.as_deref().unwrap_or("\u{0}")), "");
        let valid = crate::sql::parse_expr(&unqualified, g.dialect).is_ok()
            && !unqualified.contains('$')
            && !unqualified.contains('?');
        let view = ctx.schema.views.iter().any(|v| v == table)
            || super::index_advice::looks_like_view(table);
        if valid && !view {
            let name = index_name(
                table,
                &[super::index_advice::IndexColumn {
                    name: format!(
                        "{}_{}",
                        p.wrapped.as_deref().unwrap_or("expr").replace("::", "cast"),
                        p.column
                    ),
                    desc: false,
                }],
            );
            let sql = match g.dialect {
                crate::event::Dialect::Postgres => format!(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} (({unqualified}));",
                    ident(&name, g.dialect),
                    ident(table, g.dialect)
                ),
                crate::event::Dialect::Mysql => format!(
                    "ALTER TABLE {} ADD INDEX {} (({unqualified}));",
                    ident(table, g.dialect),
                    ident(&name, g.dialect)
                ),
            };
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::CreateIndex,
                title: "an expression index matching the filter".into(),
                sql,
                confidence: Confidence::Review,
            });
        }
        f = f.about(g);
        out.push(f);
    }
    out
}
