//! Composite B-tree index advice: one candidate per (statement, table), then merged
//! across statements, checked against known indexes, and ranked by the time served.
//!
//! Column order: equality / IN columns (compared with parameters first, with constants
//! after, low-cardinality-looking names last), then the ORDER BY columns with their
//! directions when one table is read under a LIMIT, then at most one range column.

use serde::Serialize;

use super::RuleConfig;
use super::context::{Analyzed, Context};
use crate::event::Dialect;
use crate::fingerprint::Fingerprint;
use crate::sql::ident;
use crate::sql::schema::Index;
use crate::sql::shape::{Kind, Operand, PredKind, Shape};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexColumn {
    pub name: String,
    pub desc: bool,
}

impl IndexColumn {
    pub fn render(&self, d: Dialect) -> String {
        if self.desc {
            format!("{} DESC", ident(&self.name, d))
        } else {
            ident(&self.name, d)
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct IndexAdvice {
    pub table: String,
    pub columns: Vec<IndexColumn>,
    /// How many leading columns are equality columns (their order is free).
    #[serde(skip)]
    pub eq_len: usize,
    pub name: String,
    pub sql: String,
    pub dialect: Dialect,
    /// Statements the index serves, by total time descending.
    pub fingerprints: Vec<Fingerprint>,
    pub total_ms: f64,
    pub calls: u64,
    /// The columns each served statement needs (a prefix of `columns`).
    #[serde(skip)]
    pub needs: Vec<(Fingerprint, Vec<IndexColumn>)>,
}

#[derive(Clone, Debug)]
struct Candidate {
    table: String,
    columns: Vec<IndexColumn>,
    eq_len: usize,
    fp: Fingerprint,
    total_ms: f64,
    calls: u64,
    dialect: Dialect,
}

/// `view_orders`, `orders_view`, `v_orders`: a view cannot be indexed (its base tables
/// can; with `--schema` qperf knows views for sure).
pub fn looks_like_view(t: &str) -> bool {
    t.starts_with("view_") || t.starts_with("v_") || t.ends_with("_view") || t.ends_with("_vw")
}

/// Whether `col` is, by the usual naming conventions, the key of `table` itself:
/// `users.user_id`, `pgbench_tellers.tid`, `orders.orderid`.
fn own_key_name(table: &str, col: &str) -> bool {
    let single = crate::rules::n_plus_one_singular(table);
    let last = table.rsplit('_').next().unwrap_or(table);
    let first = last.chars().next().map(String::from).unwrap_or_default();
    col == format!("{single}_id") || col == format!("{single}id") || col == format!("{first}id")
}

/// Names that usually hold a handful of distinct values.
pub fn low_cardinality_name(col: &str) -> bool {
    const WORDS: &[&str] = &[
        "status",
        "state",
        "type",
        "kind",
        "category",
        "gender",
        "role",
        "flag",
        "active",
        "enabled",
        "deleted",
        "visible",
        "archived",
        "published",
        "level",
        "priority",
        "lang",
        "locale",
        "currency",
        "country",
    ];
    col.starts_with("is_")
        || col.starts_with("has_")
        || WORDS
            .iter()
            .any(|w| col == *w || col.ends_with(&format!("_{w}")))
}

fn is_bool_literal(o: &Operand) -> bool {
    matches!(o, Operand::Literal(l) if l.eq_ignore_ascii_case("true") || l.eq_ignore_ascii_case("false"))
}

/// The candidate index for one table of one statement, or `None` when the statement
/// gives nothing an index can use there.
fn candidate(
    a: &Analyzed,
    shape: &Shape,
    table: &str,
    ctx: &Context,
    cfg: &RuleConfig,
) -> Option<Vec<IndexColumn>> {
    let preds: Vec<_> = shape
        .predicates
        .iter()
        .filter(|p| shape.table_of(&p.table) == Some(table) && !p.in_or && p.wrapped.is_none())
        .collect();
    // (column, rank): parameters 0, other values 1, constants 2, low-cardinality 3.
    let mut eq: Vec<(String, u8)> = Vec::new();
    for p in preds
        .iter()
        .filter(|p| matches!(p.kind, PredKind::Eq | PredKind::In))
    {
        if matches!(p.value, Operand::Column(_)) {
            continue;
        }
        let rank = if low_cardinality_name(&p.column) || is_bool_literal(&p.value) {
            3
        } else {
            match p.value {
                Operand::Param(_) => 0,
                Operand::Expr => 1,
                _ => 2,
            }
        };
        match eq.iter_mut().find(|(c, _)| *c == p.column) {
            Some(e) => e.1 = e.1.min(rank),
            None => eq.push((p.column.clone(), rank)),
        }
    }
    // A table with no filter of its own is reached through its join columns (the
    // nested-loop probe, or the unindexed foreign key of a parent/child join), provided
    // the table on the other side is narrowed by a filter.
    if eq.is_empty() && !preds.iter().any(|p| p.kind == PredKind::Range) {
        for (l, r) in &shape.joins {
            let (mine, other) = if shape.table_of(&l.table) == Some(table) {
                (l, r)
            } else if shape.table_of(&r.table) == Some(table) {
                (r, l)
            } else {
                continue;
            };
            let other_filtered = shape.predicates.iter().any(|p| {
                shape.table_of(&p.table).is_some()
                    && shape.table_of(&p.table) == shape.table_of(&other.table)
                    && matches!(p.kind, PredKind::Eq | PredKind::In | PredKind::Range)
            });
            if other_filtered && !eq.iter().any(|(c, _)| *c == mine.column) {
                eq.push((mine.column.clone(), 0));
            }
        }
    }
    // With column statistics (--db), the most selective column leads; otherwise the
    // heuristic rank (parameters before constants, low-cardinality names last).
    let distinct = |c: &str| {
        ctx.schema
            .n_distinct
            .get(&(table.to_string(), c.to_string()))
            .copied()
    };
    if !eq.is_empty() && eq.iter().all(|(c, _)| distinct(c).is_some()) {
        eq.sort_by(|a, b| {
            distinct(&b.0)
                .unwrap_or(0.0)
                .total_cmp(&distinct(&a.0).unwrap_or(0.0))
                .then(a.1.cmp(&b.1))
        });
        for e in &mut eq {
            if distinct(&e.0).is_some_and(|n| n < 20.0) {
                e.1 = 3;
            }
        }
    } else {
        eq.sort_by_key(|(_, r)| *r);
    }
    let mut cols: Vec<IndexColumn> = eq
        .iter()
        .map(|(c, _)| IndexColumn {
            name: c.clone(),
            desc: false,
        })
        .collect();
    let eq_len = cols.len();
    // The sort can come from the index when this is the only table and a LIMIT stops
    // the scan early (or the plan shows the sort spilling).
    let single = shape.top_tables.len() == 1 && shape.top_tables[0] == table;
    let sort_costly = a.plan.as_ref().is_some_and(|p| {
        let mut spill = false;
        p.root.walk(&mut |n, _| {
            spill |= n.sort_space_type.as_deref() == Some("Disk");
        });
        spill
    });
    let order_cols: Option<Vec<IndexColumn>> = shape
        .order_by
        .iter()
        .map(|o| {
            o.column
                .as_ref()
                .filter(|c| shape.table_of(&c.table) == Some(table))
                .map(|c| IndexColumn {
                    name: c.column.clone(),
                    desc: o.desc,
                })
        })
        .collect();
    if single
        && (shape.limit.is_some() || sort_costly)
        && let Some(order) = order_cols.filter(|o| !o.is_empty())
    {
        for c in order {
            if !cols.iter().any(|x| x.name == c.name) {
                cols.push(c);
            }
        }
    }
    if let Some(r) = preds.iter().find(|p| p.kind == PredKind::Range)
        && !cols.iter().any(|x| x.name == r.column)
    {
        cols.push(IndexColumn {
            name: r.column.clone(),
            desc: false,
        });
    }
    if cols.is_empty() {
        return None;
    }
    // A lookup by the whole primary key is already served.
    let mut pk = ctx.schema.primary_key(table);
    if !ctx.schema.tables.contains_key(table) && eq.len() == 1 && own_key_name(table, &eq[0].0) {
        pk = vec![eq[0].0.clone()];
    }
    if pk.iter().all(|k| eq.iter().any(|(c, _)| c == k)) {
        return None;
    }
    // So is anything the primary key index starts with (`ORDER BY id`).
    if cols.len() <= pk.len() && cols.iter().zip(&pk).all(|(c, k)| &c.name == k) {
        return None;
    }
    // A lone low-cardinality column is never worth an index of its own.
    if cols.len() == 1
        && (low_cardinality_name(&cols[0].name) || eq.first().is_some_and(|e| e.1 == 3))
    {
        return None;
    }
    // The plan shows the filter keeps a large share of the table: an index would not help.
    if let Some(p) = &a.plan {
        let mut keeps_much = false;
        p.root.walk(&mut |n, _| {
            if n.is_seq_scan()
                && n.relation.as_deref() == Some(table)
                && let Some((read, kept)) = n.scan_rows()
                && read > 0.0
                && kept / read > cfg.get("max_selectivity")
            {
                keeps_much = true;
            }
        });
        if keeps_much {
            return None;
        }
    }
    let _ = eq_len;
    Some(cols)
}

fn eq_len_of(cols: &[IndexColumn], shape: &Shape, table: &str) -> usize {
    cols.iter()
        .take_while(|c| {
            shape.predicates.iter().any(|p| {
                p.column == c.name
                    && shape.table_of(&p.table) == Some(table)
                    && matches!(p.kind, PredKind::Eq | PredKind::In)
                    && !c.desc
            })
        })
        .count()
}

/// Whether an index with columns `have` (first `have_eq` of them interchangeable)
/// serves a statement needing `want` (first `want_eq` interchangeable).
pub fn serves(have: &[IndexColumn], want: &[IndexColumn], want_eq: usize) -> bool {
    if want.len() > have.len() {
        return false;
    }
    let (weq, wrest) = want.split_at(want_eq.min(want.len()));
    let head = &have[..weq.len()];
    if !weq.iter().all(|w| head.iter().any(|h| h.name == w.name)) {
        return false;
    }
    let tail = &have[weq.len()..weq.len() + wrest.len()];
    let same = tail
        .iter()
        .zip(wrest)
        .all(|(h, w)| h.name == w.name && h.desc == w.desc);
    // A B-tree read backwards serves the fully reversed order too.
    let reversed = tail
        .iter()
        .zip(wrest)
        .all(|(h, w)| h.name == w.name && h.desc != w.desc);
    same || reversed
}

fn existing_serves(ix: &Index, want: &[IndexColumn], want_eq: usize) -> bool {
    if ix.partial {
        return false;
    }
    let have: Vec<IndexColumn> = ix
        .columns
        .iter()
        .map(|c| IndexColumn {
            name: c.trim_end_matches(" DESC").to_string(),
            desc: c.ends_with(" DESC"),
        })
        .collect();
    if ix.source == "plan" {
        // A plan names only the columns its condition used: the index starts with them
        // in some order; enough when the statement needs no more than that.
        return want.len() <= have.len()
            && want.iter().all(|w| have.iter().any(|h| h.name == w.name));
    }
    serves(&have, want, want_eq)
}

pub fn index_name(table: &str, cols: &[IndexColumn]) -> String {
    let mut name = format!(
        "{table}_{}_idx",
        cols.iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join("_")
    );
    name.retain(|c| c.is_ascii_alphanumeric() || c == '_');
    name.make_ascii_lowercase();
    if name.len() > 63 {
        // PostgreSQL truncates identifiers at 63 bytes; keep the suffix recognisable.
        name.truncate(59);
        name.push_str("_idx");
    }
    name
}

pub fn create_sql(table: &str, cols: &[IndexColumn], d: Dialect) -> String {
    let name = index_name(table, cols);
    let list = cols
        .iter()
        .map(|c| c.render(d))
        .collect::<Vec<_>>()
        .join(", ");
    match d {
        Dialect::Postgres => format!(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({list});",
            ident(&name, d),
            ident(table, d)
        ),
        Dialect::Mysql => format!(
            "ALTER TABLE {} ADD INDEX {} ({list});",
            ident(table, d),
            ident(&name, d)
        ),
    }
}

pub fn advise(ctx: &Context, cfg: &RuleConfig) -> Vec<IndexAdvice> {
    let mut cands: Vec<Candidate> = Vec::new();
    for a in &ctx.groups {
        let g = a.g;
        let Some(shape) = &a.shape else { continue };
        if !matches!(shape.kind, Some(Kind::Select | Kind::Update | Kind::Delete)) {
            continue;
        }
        let Some(mean) = g.mean_ms() else { continue };
        if mean < cfg.get("min_mean_ms") || g.total_ms < cfg.get("min_total_ms") {
            continue;
        }
        for t in &shape.tables {
            if ctx
                .table_size(&t.name)
                .is_some_and(|n| n < cfg.get("min_table_rows"))
                || super::context::is_system_table(&t.name)
                || ctx.schema.views.contains(&t.name)
                || looks_like_view(&t.name)
            {
                continue;
            }
            let Some(cols) = candidate(a, shape, &t.name, ctx, cfg) else {
                continue;
            };
            let eq_len = eq_len_of(&cols, shape, &t.name);
            if ctx
                .existing_indexes(&t.name)
                .any(|ix| existing_serves(ix, &cols, eq_len))
            {
                continue;
            }
            if cands
                .iter()
                .any(|c| c.fp == g.fingerprint && c.table == t.name)
            {
                continue;
            }
            cands.push(Candidate {
                table: t.name.clone(),
                columns: cols,
                eq_len,
                fp: g.fingerprint,
                total_ms: g.total_ms,
                calls: g.calls,
                dialect: g.dialect,
            });
        }
    }
    // Longest first, so shorter candidates merge into the index that also serves them.
    cands.sort_by(|a, b| {
        b.columns
            .len()
            .cmp(&a.columns.len())
            .then(b.total_ms.total_cmp(&a.total_ms))
            .then(a.fp.cmp(&b.fp))
    });
    let mut out: Vec<IndexAdvice> = Vec::new();
    for c in cands {
        if let Some(m) = out
            .iter_mut()
            .find(|m| m.table == c.table && serves(&m.columns, &c.columns, c.eq_len))
        {
            if !m.fingerprints.contains(&c.fp) {
                m.fingerprints.push(c.fp);
                m.needs.push((c.fp, c.columns.clone()));
                m.total_ms += c.total_ms;
                m.calls += c.calls;
            }
            continue;
        }
        out.push(IndexAdvice {
            name: index_name(&c.table, &c.columns),
            sql: create_sql(&c.table, &c.columns, c.dialect),
            table: c.table,
            eq_len: c.eq_len,
            needs: vec![(c.fp, c.columns.clone())],
            columns: c.columns,
            dialect: c.dialect,
            fingerprints: vec![c.fp],
            total_ms: c.total_ms,
            calls: c.calls,
        });
    }
    for m in &mut out {
        m.fingerprints.sort_by(|a, b| {
            let t = |fp| ctx.get(fp).map_or(0.0, |x| x.g.total_ms);
            t(*b).total_cmp(&t(*a)).then(a.cmp(b))
        });
    }
    out.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then(a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: &str, desc: bool) -> IndexColumn {
        IndexColumn {
            name: n.into(),
            desc,
        }
    }

    #[test]
    fn prefix_and_direction() {
        let have = [
            c("user_id", false),
            c("status", false),
            c("created_at", true),
        ];
        assert!(serves(&have, &[c("status", false), c("user_id", false)], 2));
        assert!(serves(&have, &[c("user_id", false)], 1));
        assert!(!serves(&have, &[c("status", false)], 1));
        assert!(serves(
            &have,
            &[
                c("user_id", false),
                c("status", false),
                c("created_at", false)
            ],
            2
        ));
        assert!(!serves(
            &have,
            &[c("user_id", false), c("created_at", true)],
            1
        ));
    }

    #[test]
    fn naming_conventions() {
        assert!(own_key_name("pgbench_tellers", "tid"));
        assert!(own_key_name("users", "user_id"));
        assert!(!own_key_name("booking_forms_services", "service_id"));
        assert!(!own_key_name("order_items", "order_id"));
        assert!(looks_like_view("view_no_allocations") && !looks_like_view("reviews"));
        assert!(low_cardinality_name("status") && low_cardinality_name("is_active"));
        assert!(!low_cardinality_name("user_id"));
    }

    #[test]
    fn sql_and_names() {
        let cols = [
            c("user_id", false),
            c("status", false),
            c("created_at", true),
        ];
        assert_eq!(
            create_sql("orders", &cols, Dialect::Postgres),
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_status_created_at_idx ON orders (user_id, status, created_at DESC);"
        );
        assert_eq!(
            create_sql("order_items", &[c("order_id", false)], Dialect::Mysql),
            "ALTER TABLE order_items ADD INDEX order_items_order_id_idx (order_id);"
        );
        assert!(index_name(&"t".repeat(80), &cols).len() <= 63);
    }
}
