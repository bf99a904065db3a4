//! Everything rules read, built once per run: each fingerprint with its parsed shape and
//! plan, the schema, session-order statistics, and what the plans reveal about tables
//! (sizes, existing indexes).

use rustc_hash::FxHashMap;

use super::index_advice::{self, IndexAdvice};
use super::{RuleId, Settings};
use crate::aggregate::{Aggregator, Group};
use crate::event::Dialect;
use crate::fingerprint::Fingerprint;
use crate::plan::{self, Plan};
use crate::sequence::{LoopStats, RepeatStats};
use crate::sql::schema::{Index, Schema};
use crate::sql::shape::{Kind, Shape};

pub struct Analyzed<'a> {
    pub g: &'a Group,
    pub shape: Option<Shape>,
    pub parse_error: Option<String>,
    pub plan: Option<Plan>,
}

impl Analyzed<'_> {
    pub fn kind(&self) -> Option<&Kind> {
        self.shape.as_ref().and_then(|s| s.kind.as_ref())
    }

    /// Reads only catalog / monitoring relations (`pg_stat_activity`, `information_schema`):
    /// tooling, not application queries.
    pub fn system_only(&self) -> bool {
        self.shape.as_ref().is_some_and(|s| {
            !s.tables.is_empty() && s.tables.iter().all(|t| is_system_table(&t.name))
        })
    }
}

/// PostgreSQL and MySQL catalog and statistics relations (schema already stripped).
pub fn is_system_table(name: &str) -> bool {
    name.starts_with("pg_")
        || matches!(
            name,
            "tables"
                | "columns"
                | "schemata"
                | "routines"
                | "views"
                | "statistics"
                | "processlist"
                | "innodb_trx"
                | "innodb_locks"
                | "global_status"
                | "global_variables"
                | "session_variables"
                | "user"
                | "db"
                | "slave_status"
        )
}

/// One node of a statement's (slowest) plan, as plan rules see it.
pub struct NodeRef<'p> {
    /// Preorder number, 1-based: what `qperf explain` prints in its `#` column.
    pub id: usize,
    pub node: &'p crate::plan::PlanNode,
    pub ancestors: Vec<&'p crate::plan::PlanNode>,
}

impl NodeRef<'_> {
    /// `Limit → Gather Merge → Sort → Parallel Seq Scan on orders`.
    pub fn path(&self) -> String {
        let mut p: Vec<String> = self.ancestors.iter().map(|x| x.label()).collect();
        p.push(self.node.label());
        p.join(" → ")
    }

    pub fn parent(&self) -> Option<&crate::plan::PlanNode> {
        self.ancestors.last().copied()
    }
}

impl<'a> Analyzed<'a> {
    /// Every node of the plan, in preorder.
    pub fn nodes(&self) -> Vec<NodeRef<'_>> {
        let mut out = Vec::new();
        let Some(p) = &self.plan else { return out };
        let mut id = 0;
        p.root.walk(&mut |n, path| {
            id += 1;
            out.push(NodeRef {
                id,
                node: n,
                ancestors: path.to_vec(),
            });
        });
        out
    }

    /// The plan's total time (execution time, else the root's), ms.
    pub fn plan_ms(&self) -> Option<f64> {
        self.plan.as_ref().and_then(|p| p.total_ms())
    }
}

/// Starts a finding about one plan node: the statement, the node's id and path.
pub fn node_finding(
    a: &Analyzed,
    n: &NodeRef,
    rule: super::RuleId,
    severity: super::Severity,
    message: String,
    help: String,
) -> super::Finding {
    super::Finding::new(rule, severity, message, help)
        .about(a.g)
        .evidence("node_id", n.id)
        .evidence("node", n.path())
        .evidence("plans", a.g.plan_stats.samples)
}

/// A statement sqlparser could not read: counted and listed, never fatal.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Unparsed {
    pub fingerprint: Fingerprint,
    pub query: String,
    pub error: String,
}

pub struct Context<'a> {
    /// Sorted by total time, descending.
    pub groups: Vec<Analyzed<'a>>,
    by_fp: FxHashMap<Fingerprint, usize>,
    pub schema: &'a Schema,
    pub loops: &'a FxHashMap<(Option<Fingerprint>, Fingerprint), LoopStats>,
    pub repeats: &'a FxHashMap<Fingerprint, RepeatStats>,
    pub had_sessions: bool,
    pub total_ms: f64,
    /// First to last event, ms.
    pub span_ms: Option<i64>,
    /// Indexes seen in use in the plans.
    pub plan_indexes: Vec<Index>,
    /// Table sizes from full scans in the plans (rows).
    pub table_rows: FxHashMap<String, f64>,
    /// Merged index suggestions (shared by `missing-index` and `seq-scan`).
    pub advice: Vec<IndexAdvice>,
    pub unparsed: Vec<Unparsed>,
}

/// Every statement with its shape and slowest plan, sorted by total time: the one place
/// each distinct statement is parsed (a live catalog lookup needs the tables before the
/// context exists).
pub fn analyze_groups(agg: &Aggregator) -> Vec<Analyzed<'_>> {
    fn one(g: &Group) -> Analyzed<'_> {
        let (shape, parse_error) = match Shape::parse(&g.example_sql, g.dialect) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        let plan = g.slowest_plan.as_ref().and_then(|(_, p)| plan::parse(p));
        Analyzed {
            g,
            shape,
            parse_error,
            plan,
        }
    }
    let groups = agg.sorted_groups();
    // Statements parse independently: split them over the cores, keep their order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || groups.len() < 64 {
        return groups.into_iter().map(one).collect();
    }
    let per = groups.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = groups
            .chunks(per)
            .map(|part| scope.spawn(move || part.iter().map(|g| one(g)).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The tables the statements read or write, sorted, once each.
pub fn tables_of<'b>(groups: &'b [Analyzed]) -> Vec<&'b str> {
    let mut t: Vec<&str> = groups
        .iter()
        .filter_map(|a| a.shape.as_ref())
        .flat_map(|s| s.tables.iter().map(|t| t.name.as_str()))
        .collect();
    t.sort_unstable();
    t.dedup();
    t
}

impl<'a> Context<'a> {
    /// `catalog_rows`: table row estimates from a live database (`--db`), which beat the
    /// plans' evidence.
    pub fn build(
        agg: &'a Aggregator,
        mut groups: Vec<Analyzed<'a>>,
        schema: &'a Schema,
        settings: &Settings,
        catalog_rows: &[(String, f64)],
    ) -> Context<'a> {
        groups.shrink_to_fit();
        let by_fp = groups
            .iter()
            .enumerate()
            .map(|(i, a)| (a.g.fingerprint, i))
            .collect();
        let unparsed = groups
            .iter()
            .filter_map(|a| {
                a.parse_error.as_ref().map(|e| Unparsed {
                    fingerprint: a.g.fingerprint,
                    query: a.g.query.clone(),
                    error: e.clone(),
                })
            })
            .collect();
        let mut ctx = Context {
            groups,
            by_fp,
            schema,
            loops: &agg.seq.loops,
            repeats: &agg.seq.repeats,
            had_sessions: agg.seq.had_sessions,
            total_ms: agg.totals.total_ms,
            span_ms: match (agg.totals.first, agg.totals.last) {
                (Some(a), Some(b)) => Some(b - a),
                _ => None,
            },
            plan_indexes: Vec::new(),
            table_rows: FxHashMap::default(),
            advice: Vec::new(),
            unparsed,
        };
        ctx.plan_facts();
        for (t, n) in catalog_rows {
            ctx.table_rows.insert(t.clone(), *n);
        }
        ctx.advice = index_advice::advise(&ctx, settings.rule(RuleId::MissingIndex));
        ctx
    }

    pub fn get(&self, fp: Fingerprint) -> Option<&Analyzed<'a>> {
        self.by_fp.get(&fp).map(|&i| &self.groups[i])
    }

    fn plan_facts(&mut self) {
        let mut indexes = Vec::new();
        let mut rows: FxHashMap<String, f64> = FxHashMap::default();
        for a in &self.groups {
            for r in a.nodes() {
                let n = r.node;
                if n.is_seq_scan()
                    && n.filter.is_some()
                    && let (Some(rel), Some((read, _))) = (&n.relation, n.scan_rows())
                {
                    let e = rows.entry(rel.clone()).or_insert(0.0);
                    *e = e.max(read);
                }
                // A Bitmap Index Scan names its index; the table is on the heap scan above.
                let rel = n.relation.as_ref().or_else(|| {
                    r.parent()
                        .filter(|p| p.node_type == "Bitmap Heap Scan")
                        .and_then(|p| p.relation.as_ref())
                });
                if let (Some(idx), Some(rel)) = (&n.index, rel) {
                    let cols = n
                        .index_cond
                        .as_deref()
                        .map(|c| cond_columns(c, a.g.dialect))
                        .unwrap_or_default();
                    if !cols.is_empty() {
                        indexes.push(Index {
                            name: Some(idx.clone()),
                            table: rel.clone(),
                            columns: cols,
                            unique: false,
                            partial: false,
                            source: "plan",
                        });
                    }
                }
            }
        }
        self.plan_indexes = indexes;
        self.table_rows = rows;
    }

    /// The tables the workload's statements read or write, sorted, once each.
    pub fn workload_tables(&self) -> Vec<&str> {
        tables_of(&self.groups)
    }

    /// Existing indexes on a table, from the schema and from plans.
    pub fn existing_indexes<'b>(&'b self, table: &'b str) -> impl Iterator<Item = &'b Index> + 'b {
        self.schema
            .indexes_on(table)
            .chain(self.plan_indexes.iter().filter(move |i| i.table == table))
    }

    /// Rows in a table when the schema or a plan says.
    pub fn table_size(&self, table: &str) -> Option<f64> {
        self.table_rows.get(table).copied()
    }

    pub fn share(&self, ms: f64) -> f64 {
        if self.total_ms > 0.0 {
            ms / self.total_ms
        } else {
            0.0
        }
    }

    pub fn dialect_of(&self, fp: Fingerprint) -> Dialect {
        self.get(fp).map_or(Dialect::Postgres, |a| a.g.dialect)
    }
}

/// Column names compared in a plan condition (`((user_id = 42) AND (status = 'x'::text))`),
/// in order of appearance.
pub fn cond_columns(cond: &str, dialect: Dialect) -> Vec<String> {
    let Ok(expr) = crate::sql::parse_expr(cond, dialect) else {
        return Vec::new();
    };
    let sql = format!("SELECT 1 FROM t WHERE {expr}");
    let Ok(shape) = Shape::parse(&sql, dialect) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for p in shape.predicates {
        if !out.contains(&p.column) {
            out.push(p.column);
        }
    }
    out
}
