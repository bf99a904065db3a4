//! `duplicate-index`: an index whose columns another index on the same table starts
//! with: it costs every write and buys no read.

use super::context::Context;
use super::{Confidence, Finding, RuleConfig, RuleId, Suggestion, SuggestionKind};
use crate::sql::ident;

pub const PARAMS: &[&str] = &[];

/// Same columns in order, with the same directions or all of them reversed (a B-tree
/// is read in either direction).
fn prefix(a: &[String], b: &[String]) -> bool {
    let split = |c: &String| match c.strip_suffix(" DESC") {
        Some(n) => (n.to_string(), true),
        None => (c.clone(), false),
    };
    let (a, b): (Vec<_>, Vec<_>) = (a.iter().map(split).collect(), b.iter().map(split).collect());
    a.iter().zip(&b).all(|(x, y)| x.0 == y.0)
        && (a.iter().zip(&b).all(|(x, y)| x.1 == y.1) || a.iter().zip(&b).all(|(x, y)| x.1 != y.1))
}

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let tables = ctx.workload_tables();
    for t in tables {
        let ix: Vec<_> = ctx
            .schema
            .indexes_on(t)
            .filter(|i| i.name.is_some() && !i.partial)
            .collect();
        for a in &ix {
            if a.unique {
                continue; // it enforces a constraint
            }
            let covering = ix.iter().find(|b| {
                b.name != a.name
                    && b.columns.len() >= a.columns.len()
                    && prefix(&a.columns, &b.columns[..a.columns.len()])
                    // Of two identical non-unique indexes, keep the first by name.
                    && (b.columns.len() > a.columns.len() || b.unique || b.name < a.name)
            });
            let Some(b) = covering else { continue };
            let (an, bn) = (
                a.name.clone().unwrap_or_default(),
                b.name.clone().unwrap_or_default(),
            );
            let mut f = Finding::new(
                RuleId::DuplicateIndex,
                cfg.severity,
                format!(
                    "index {an} on {t} ({}) is a prefix of {bn} ({}): every read it serves, {bn} serves too",
                    a.columns.join(", "),
                    b.columns.join(", ")
                ),
                format!("Drop {an} (check that nothing names it in a hint or a constraint first)"),
            )
            .evidence("table", t)
            .evidence("index", an.clone())
            .evidence("columns", a.columns.clone())
            .evidence("covered_by", bn.clone())
            .evidence("covered_by_columns", b.columns.clone());
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::Setting,
                title: format!("drop {an} (on a busy table: DROP INDEX CONCURRENTLY)"),
                sql: format!(
                    "DROP INDEX IF EXISTS {};",
                    ident(&an, crate::event::Dialect::Postgres)
                ),
                confidence: Confidence::Review,
            });
            out.push(f);
        }
    }
    out
}
