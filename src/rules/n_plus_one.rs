//! `n-plus-one`: a child statement executed once per row of a parent statement, in the
//! same session, detected from statement order alone (fast children included).

use super::context::{Analyzed, Context};
use super::rewrite::{JoinSpec, batch, join};
use super::{Confidence, Finding, RuleConfig, RuleId, Severity, Suggestion, SuggestionKind, r3};
use crate::event::Dialect;
use crate::sql::shape::{Kind, Operand, PredKind, Shape};

pub const PARAMS: &[&str] = &[
    "min_children",
    "min_distinct_ratio",
    "max_gap_ms",
    "max_interleaved",
    "min_occurrences",
    "error_share",
];

/// `orders` → `order`, `categories` → `category`, `addresses` → `address`.
pub fn singular(t: &str) -> String {
    if let Some(s) = t.strip_suffix("ies") {
        format!("{s}y")
    } else if t.ends_with("sses")
        || t.ends_with("xes")
        || t.ends_with("ches")
        || t.ends_with("shes")
    {
        t[..t.len() - 2].to_string()
    } else if let Some(s) = t.strip_suffix('s') {
        s.to_string()
    } else {
        t.to_string()
    }
}

/// The child's loop column: the one equality that changes from execution to execution —
/// compared with a parameter, or (statements logged with literal values, as MySQL does)
/// the only equality of the statement.
fn loop_column(shape: &Shape) -> Option<(String, String)> {
    if shape.top_tables.len() != 1 {
        return None;
    }
    let t = &shape.top_tables[0];
    let eqs: Vec<_> = shape
        .predicates
        .iter()
        .filter(|p| {
            p.kind == PredKind::Eq
                && p.wrapped.is_none()
                && !p.in_or
                && shape.table_of(&p.table) == Some(t.as_str())
        })
        .collect();
    let params: Vec<_> = eqs
        .iter()
        .filter(|p| matches!(p.value, Operand::Param(_)))
        .collect();
    match (params.len(), eqs.len()) {
        (1, _) => Some((t.clone(), params[0].column.clone())),
        (0, 1) if matches!(eqs[0].value, Operand::Literal(_)) => {
            Some((t.clone(), eqs[0].column.clone()))
        }
        _ => None,
    }
}

/// How parent rows relate to the child's loop column: the parent column it equals.
fn relation(
    ctx: &Context,
    parent: &Shape,
    child_table: &str,
    child_col: &str,
) -> Option<(String, &'static str)> {
    if parent.top_tables.len() != 1 {
        return None;
    }
    let pt = &parent.top_tables[0];
    for fk in &ctx.schema.foreign_keys {
        if fk.table == child_table && fk.columns == [child_col] && &fk.ref_table == pt {
            return Some((fk.ref_columns.first()?.clone(), "foreign key"));
        }
        if &fk.table == pt && fk.ref_table == child_table && fk.ref_columns == [child_col] {
            return Some((fk.columns.first()?.clone(), "foreign key"));
        }
    }
    let pk = ctx.schema.primary_key(pt);
    if child_col == format!("{}_id", singular(pt)) && pk.len() == 1 {
        return Some((pk[0].clone(), "naming convention"));
    }
    let child_pk = ctx.schema.primary_key(child_table);
    if child_pk.len() == 1 && child_pk[0] == child_col {
        let fk_col = format!("{}_id", singular(child_table));
        let parent_has = ctx
            .schema
            .tables
            .get(pt)
            .map(|t| t.columns.iter().any(|c| c.name == fk_col))
            .unwrap_or(true);
        if parent_has {
            return Some((fk_col, "naming convention"));
        }
    }
    None
}

fn suggestions(ctx: &Context, parent: Option<&Analyzed>, child: &Analyzed) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let g = child.g;
    let Some(cs) = &child.shape else { return out };
    let Some((ct, col)) = loop_column(cs) else {
        return out;
    };
    if let Some(p) = parent
        && let Some(ps) = &p.shape
        && ps.kind == Some(Kind::Select)
        && p.g.dialect == g.dialect
        && let Some((pcol, how)) = relation(ctx, ps, &ct, &col)
    {
        let order: Option<Vec<(String, bool)>> = ps
            .order_by
            .iter()
            .map(|o| o.column.as_ref().map(|c| (c.column.clone(), o.desc)))
            .collect();
        let spec = JoinSpec {
            parent_sql: p.g.template(),
            child_table: &ct,
            child_projection: cs.projection.clone(),
            child_star: !cs.wildcards.is_empty() || cs.projection.is_empty(),
            child_column: &col,
            parent_column: &pcol,
            order: order.unwrap_or_default(),
        };
        if let Some(sql) = join(&spec, g.dialect) {
            out.push(Suggestion {
                kind: SuggestionKind::Rewrite,
                title: format!("one query: join {ct}.{col} to the parent's {pcol} ({how})"),
                sql,
                confidence: Confidence::Review,
            });
        }
    }
    if let Some(sql) = batch(g.template(), g.dialect, &col) {
        out.push(Suggestion {
            kind: SuggestionKind::Rewrite,
            title: match g.dialect {
                Dialect::Postgres => {
                    format!("or fetch all children at once: pass the {col} values as one array")
                }
                Dialect::Mysql => {
                    format!("or fetch all children at once: one placeholder per {col} value")
                }
            },
            sql,
            confidence: Confidence::Review,
        });
    }
    out
}

pub fn check(ctx: &Context, cfg: &RuleConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut keys: Vec<_> = ctx.loops.keys().collect();
    keys.sort();
    for key in keys {
        let l = &ctx.loops[key];
        if (l.occurrences as f64) < cfg.get("min_occurrences") {
            continue;
        }
        let (parent_fp, child_fp) = *key;
        let Some(child) = ctx.get(child_fp) else {
            continue;
        };
        let parent = parent_fp.and_then(|p| ctx.get(p));
        let per_parent = l.children as f64 / l.occurrences as f64;
        let severity = if ctx.share(l.child_ms) >= cfg.get("error_share") {
            Severity::Error
        } else {
            cfg.severity
        };
        let message = match parent {
            Some(p) => format!(
                "N+1: `{}` runs {:.1} times (up to {}) after each `{}` in the same session; {} loops, {} executions",
                child.g.query,
                per_parent,
                l.max_children,
                p.g.query,
                super::count(l.occurrences as f64),
                super::count(l.children as f64)
            ),
            None => format!(
                "N+1: `{}` runs {:.1} times in a row with different values; {} loops, {} executions",
                child.g.query,
                per_parent,
                super::count(l.occurrences as f64),
                super::count(l.children as f64)
            ),
        };
        let mut f = Finding::new(
            RuleId::NPlusOne,
            severity,
            message,
            "Fetch the child rows in one round trip: a JOIN with the parent query, or one batched query for all values".into(),
        )
        .evidence("loops", l.occurrences)
        .evidence("child_executions", l.children)
        .evidence("children_per_parent", r3(per_parent))
        .evidence("max_children", l.max_children)
        .evidence("min_children", l.min_children)
        .evidence("child_ms", r3(l.child_ms))
        .evidence("share", r3(ctx.share(l.child_ms)))
        .evidence("sessions", l.sessions.len());
        if let Some(p) = parent {
            f = f
                .evidence("parent_fingerprint", p.g.fingerprint.to_string())
                .evidence("parent_query", p.g.query.clone());
            f.related.push(p.g.fingerprint);
        }
        f.fingerprint = Some(child_fp);
        f.query = Some(child.g.query.clone());
        f.time_ms = l.child_ms;
        let mut endpoints = child.g.endpoints.values.clone();
        if let Some(p) = parent {
            for e in &p.g.endpoints.values {
                if !endpoints.contains(e) {
                    endpoints.push(e.clone());
                }
            }
        }
        f.endpoints = endpoints;
        f.suggestions = suggestions(ctx, parent, child);
        out.push(f);
    }
    out
}
