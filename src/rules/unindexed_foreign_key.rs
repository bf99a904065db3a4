//! `unindexed-foreign-key`: a foreign key whose referencing columns no index leads with
//! (PostgreSQL does not create one), on a table the workload uses.

use super::context::Context;
use super::index_advice::{IndexColumn, create_sql};
use super::{Confidence, Finding, RuleConfig, RuleId, Severity, Suggestion, SuggestionKind, r3};
use crate::sql::shape::PredKind;

pub const PARAMS: &[&str] = &["warning_total_ms"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let workload_tables = ctx.workload_tables();
    for fk in &ctx.schema.foreign_keys {
        if !workload_tables.contains(&fk.table.as_str()) || fk.columns.is_empty() {
            continue;
        }
        let covered = ctx.existing_indexes(&fk.table).any(|ix| {
            let names = ix.column_names();
            names.len() >= fk.columns.len()
                && fk
                    .columns
                    .iter()
                    .all(|c| names[..fk.columns.len()].contains(c))
                && !ix.partial
        });
        if covered {
            continue;
        }
        // The statements that filter or join on the key: what the missing index costs.
        let mut users: Vec<(&crate::aggregate::Group, f64)> = Vec::new();
        for a in &ctx.groups {
            let Some(s) = &a.shape else { continue };
            let filters = s.predicates.iter().any(|p| {
                s.table_of(&p.table) == Some(fk.table.as_str())
                    && fk.columns.contains(&p.column)
                    && matches!(p.kind, PredKind::Eq | PredKind::In)
            });
            let joins = s.joins.iter().any(|(l, r)| {
                [l, r].iter().any(|c| {
                    s.table_of(&c.table) == Some(fk.table.as_str())
                        && fk.columns.contains(&c.column)
                })
            });
            if filters || joins {
                users.push((a.g, a.g.total_ms));
            }
        }
        users.sort_by(|a, b| b.1.total_cmp(&a.1));
        let time: f64 = users.iter().map(|(_, t)| t).sum();
        let severity = if time >= cfg.get("warning_total_ms") {
            Severity::Warning.max(cfg.severity)
        } else {
            cfg.severity
        };
        let cols = fk.columns.join(", ");
        let mut f = Finding::new(
            RuleId::UnindexedForeignKey,
            severity,
            format!(
                "foreign key {}({cols}) → {}({}) has no index on the referencing side; {} statement{} of this workload filter or join on it ({:.1} ms)",
                fk.table,
                fk.ref_table,
                fk.ref_columns.join(", "),
                users.len(),
                if users.len() == 1 { "" } else { "s" },
                time
            ),
            format!(
                "Index {}({cols}): lookups by the parent, joins, and every DELETE or key UPDATE on {} (which checks the children) need it",
                fk.table, fk.ref_table
            ),
        )
        .evidence("table", fk.table.clone())
        .evidence("columns", fk.columns.clone())
        .evidence("references", format!("{}({})", fk.ref_table, fk.ref_columns.join(", ")))
        .evidence("statements", users.len())
        .evidence("total_ms", r3(time));
        if let Some((g, _)) = users.first() {
            f = f.about(g);
        }
        f.time_ms = time;
        let index_cols: Vec<IndexColumn> = fk
            .columns
            .iter()
            .map(|c| IndexColumn {
                name: c.clone(),
                desc: false,
            })
            .collect();
        f.suggestions.push(Suggestion {
            kind: SuggestionKind::CreateIndex,
            title: format!("index the foreign key of {}", fk.table),
            sql: create_sql(&fk.table, &index_cols, crate::event::Dialect::Postgres),
            confidence: Confidence::Review,
        });
        out.push(f);
    }
    out
}
