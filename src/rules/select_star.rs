//! `select-star`: `SELECT *` / `t.*` in the result of an application query.

use super::context::Context;
use super::rewrite::replace_star;
use super::{Confidence, Finding, RuleConfig, RuleId, Suggestion, SuggestionKind};
use crate::sql::shape::Kind;

pub const PARAMS: &[&str] = &["min_calls"];

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        let Some(shape) = &a.shape else { continue };
        if a.system_only() {
            continue;
        }
        if shape.kind != Some(Kind::Select) || shape.wildcards.is_empty() {
            continue;
        }
        if (g.calls as f64) < cfg.get("min_calls") {
            continue;
        }
        let mut tables: Vec<String> = Vec::new();
        for w in &shape.wildcards {
            match w {
                Some(t) => tables.push(t.clone()),
                None => tables.extend(shape.top_tables.iter().cloned()),
            }
        }
        tables.dedup();
        if tables.is_empty() {
            continue;
        }
        let mut wide: Vec<String> = Vec::new();
        let mut known_columns: Option<Vec<String>> = Some(Vec::new());
        for t in &tables {
            match ctx.schema.tables.get(t) {
                Some(def) if !def.columns.is_empty() => {
                    for c in &def.columns {
                        if c.wide {
                            wide.push(format!("{t}.{} ({})", c.name, c.data_type));
                        } else if let Some(k) = known_columns.as_mut() {
                            k.push(c.name.clone());
                        }
                    }
                }
                _ => known_columns = None,
            }
        }
        let star = if shape.wildcards.iter().all(Option::is_none) {
            "SELECT *".to_string()
        } else {
            "t.*".to_string()
        };
        let message = if wide.is_empty() {
            format!(
                "`{star}` fetches every column of {} on each of {} calls",
                tables.join(", "),
                g.calls
            )
        } else {
            format!(
                "`{star}` fetches every column of {}, including the wide {}, on each of {} calls",
                tables.join(", "),
                wide.join(", "),
                g.calls
            )
        };
        let mut f = Finding::new(
            RuleId::SelectStar,
            cfg.severity,
            message,
            "List only the columns the code uses".to_string(),
        )
        .evidence("tables", tables.clone())
        .evidence("calls", g.calls)
        .evidence("total_ms", super::r3(g.total_ms));
        if !wide.is_empty() {
            f = f.evidence("wide_columns", wide.clone());
        }
        if let Some(cols) = known_columns.filter(|c| !c.is_empty() && tables.len() == 1)
            && let Some(sql) = replace_star(g.template(), g.dialect, &cols)
        {
            f.suggestions.push(Suggestion {
                kind: SuggestionKind::Rewrite,
                title: "every column but the wide ones; keep only those the code reads".into(),
                sql,
                confidence: Confidence::Review,
            });
        }
        f = f.about(g);
        out.push(f);
    }
    out
}
