//! Query plans: one model for PostgreSQL's text and JSON EXPLAIN formats (as psql or
//! another client prints them, or as auto_explain logs them) and MySQL's
//! `EXPLAIN FORMAT=JSON`.
//!
//! The model follows PostgreSQL's JSON vocabulary (`Node Type`, `Join Type`, `Strategy`,
//! …), so the text parser normalizes its names into it (`HashAggregate` → `Aggregate`
//! with strategy `Hashed`) and text and JSON of one plan compare equal. Values the text
//! format leaves out when zero (buffers, rows removed) are `None` in both.
//! Parsing is lenient: unknown lines are skipped, and only a text with no node at all
//! is `None`.

mod frame;
mod mysql_json;
mod mysql_tree;
mod pg_json;
mod pg_text;

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Buffers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_hit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_read: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_dirtied: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_written: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_hit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_read: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_read: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_written: Option<f64>,
}

impl Buffers {
    pub fn is_empty(&self) -> bool {
        *self == Buffers::default()
    }
}

/// Zero is "not shown" in the text format; keep both formats alike.
pub(crate) fn nz(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x != 0.0)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PlanNode {
    /// PostgreSQL's JSON node type: `Seq Scan`, `Index Scan`, `Aggregate`, `Hash Join`,
    /// `Nested Loop`, `ModifyTable`, … (MySQL: `Table Scan`, `Index Lookup`, …).
    pub node_type: String,
    pub parallel: bool,
    pub backward: bool,
    /// Aggregate / SetOp: `Plain`, `Sorted`, `Hashed`, `Mixed`.
    pub strategy: Option<String>,
    /// Aggregate: `Partial`, `Finalize` (`Simple` is `None`).
    pub partial_mode: Option<String>,
    /// ModifyTable: `Insert`, `Update`, `Delete`, `Merge`.
    pub operation: Option<String>,
    /// Joins: `Inner`, `Left`, `Right`, `Full`, `Semi`, `Anti`, `Right Semi`, `Right Anti`.
    pub join_type: Option<String>,
    /// `InitPlan 1`, `SubPlan 2`, `CTE name` for the subtrees they head.
    pub subplan_name: Option<String>,
    pub relation: Option<String>,
    pub schema: Option<String>,
    /// Only when it differs from the relation / CTE / function name.
    pub alias: Option<String>,
    pub index: Option<String>,
    pub cte_name: Option<String>,
    pub function_name: Option<String>,
    pub startup_cost: Option<f64>,
    pub total_cost: Option<f64>,
    pub plan_rows: Option<f64>,
    pub plan_width: Option<f64>,
    /// Per loop, ms.
    pub actual_startup_ms: Option<f64>,
    pub actual_ms: Option<f64>,
    /// Per loop.
    pub actual_rows: Option<f64>,
    pub loops: Option<f64>,
    pub never_executed: bool,
    pub filter: Option<String>,
    pub index_cond: Option<String>,
    pub recheck_cond: Option<String>,
    pub join_filter: Option<String>,
    pub hash_cond: Option<String>,
    pub merge_cond: Option<String>,
    pub rows_removed_by_filter: Option<f64>,
    pub rows_removed_by_index_recheck: Option<f64>,
    pub rows_removed_by_join_filter: Option<f64>,
    pub sort_key: Vec<String>,
    pub sort_method: Option<String>,
    pub sort_space_kb: Option<f64>,
    /// `Memory` or `Disk`.
    pub sort_space_type: Option<String>,
    pub hash_buckets: Option<f64>,
    /// Only when it differs from `hash_buckets`.
    pub original_hash_buckets: Option<f64>,
    pub hash_batches: Option<f64>,
    pub original_hash_batches: Option<f64>,
    pub peak_memory_kb: Option<f64>,
    /// HashAggregate spilled to disk (PostgreSQL 13+).
    pub disk_usage_kb: Option<f64>,
    pub heap_fetches: Option<f64>,
    pub exact_heap_blocks: Option<f64>,
    pub lossy_heap_blocks: Option<f64>,
    pub workers_planned: Option<f64>,
    pub workers_launched: Option<f64>,
    /// MySQL estimates: rows read per scan, and the share (0–100) its condition keeps.
    pub rows_examined: Option<f64>,
    pub filtered_pct: Option<f64>,
    #[serde(skip_serializing_if = "Buffers::is_empty")]
    pub buffers: Buffers,
    pub io_read_ms: Option<f64>,
    pub io_write_ms: Option<f64>,
    /// Wall-clock time spent in this node itself (children subtracted), ms; computed.
    pub exclusive_ms: Option<f64>,
    /// Wall-clock time including children, ms; computed.
    pub inclusive_ms: Option<f64>,
    pub children: Vec<PlanNode>,
}

impl PlanNode {
    /// Rows the node produced over all loops.
    pub fn rows_total(&self) -> Option<f64> {
        Some(self.actual_rows? * self.loops.unwrap_or(1.0))
    }

    /// Rows a scan read: produced plus removed by its filter, over all loops.
    pub fn rows_read(&self) -> Option<f64> {
        let loops = self.loops.unwrap_or(1.0);
        Some((self.actual_rows? + self.rows_removed_by_filter.unwrap_or(0.0)) * loops)
    }

    /// Visits every node with the path of its ancestors.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a PlanNode, &[&'a PlanNode])) {
        fn go<'a>(
            n: &'a PlanNode,
            path: &mut Vec<&'a PlanNode>,
            f: &mut dyn FnMut(&'a PlanNode, &[&'a PlanNode]),
        ) {
            f(n, path);
            path.push(n);
            for c in &n.children {
                go(c, path, f);
            }
            path.pop();
        }
        go(self, &mut Vec::new(), f);
    }

    pub fn count(&self) -> usize {
        1 + self.children.iter().map(PlanNode::count).sum::<usize>()
    }

    pub fn is_seq_scan(&self) -> bool {
        self.node_type == "Seq Scan" || self.node_type == "Full Table Scan"
    }

    /// (rows read, rows kept) per execution over all loops: actual figures when the plan
    /// was run, MySQL's estimates otherwise.
    pub fn scan_rows(&self) -> Option<(f64, f64)> {
        if let (Some(read), Some(kept)) = (self.rows_read(), self.rows_total()) {
            return Some((read, kept));
        }
        let read = self.rows_examined?;
        Some((read, read * self.filtered_pct.unwrap_or(100.0) / 100.0))
    }

    pub fn is_index_scan(&self) -> bool {
        matches!(
            self.node_type.as_str(),
            "Index Scan" | "Index Only Scan" | "Bitmap Index Scan"
        )
    }

    /// The node as EXPLAIN's text format names it: `Parallel Seq Scan on orders`,
    /// `Hash Left Join`, `HashAggregate`, `Insert on orders`.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.parallel {
            s.push_str("Parallel ");
        }
        if let Some(m) = self.partial_mode.as_deref() {
            s.push_str(m);
            s.push(' ');
        }
        let base = match (self.node_type.as_str(), self.strategy.as_deref()) {
            ("Aggregate", Some("Hashed")) => "HashAggregate".to_string(),
            ("Aggregate", Some("Sorted")) => "GroupAggregate".to_string(),
            ("Aggregate", Some("Mixed")) => "MixedAggregate".to_string(),
            ("SetOp", Some("Hashed")) => "HashSetOp".to_string(),
            ("ModifyTable", _) => self
                .operation
                .clone()
                .unwrap_or_else(|| "ModifyTable".into()),
            ("Hash Join" | "Merge Join", _) => match self.join_type.as_deref() {
                Some(j) if j != "Inner" => {
                    format!("{} {j} Join", self.node_type.trim_end_matches(" Join"))
                }
                _ => self.node_type.clone(),
            },
            ("Nested Loop", _) => match self.join_type.as_deref() {
                Some(j) if j != "Inner" => format!("Nested Loop {j} Join"),
                _ => self.node_type.clone(),
            },
            (t, _) => t.to_string(),
        };
        s.push_str(&base);
        if self.backward {
            s.push_str(" Backward");
        }
        if let Some(i) = &self.index {
            if self.node_type == "Bitmap Index Scan" {
                s.push_str(" on ");
            } else {
                s.push_str(" using ");
            }
            s.push_str(i);
        }
        let target = self
            .relation
            .as_ref()
            .or(self.cte_name.as_ref())
            .or(self.function_name.as_ref());
        if let Some(r) = target {
            s.push_str(" on ");
            if let Some(sc) = &self.schema {
                s.push_str(sc);
                s.push('.');
            }
            s.push_str(r);
            if let Some(a) = &self.alias {
                s.push(' ');
                s.push_str(a);
            }
        } else if let Some(a) = &self.alias {
            s.push_str(" on ");
            s.push_str(a);
        }
        s
    }

    /// Fills `inclusive_ms` / `exclusive_ms` from per-loop times. Inside a Gather the
    /// per-loop figure is an average over the processes, which run at the same time.
    fn compute_times(&mut self, processes: f64) {
        let processes = if matches!(self.node_type.as_str(), "Gather" | "Gather Merge") {
            // The Gather itself runs in the leader; what is under it in all processes.
            let under = self.workers_launched.unwrap_or(0.0) + 1.0;
            for c in &mut self.children {
                c.compute_times(under);
            }
            self.inclusive_ms = self
                .actual_ms
                .map(|t| t * self.loops.unwrap_or(1.0) / processes.max(1.0));
            let kids: f64 = self.children.iter().filter_map(|c| c.inclusive_ms).sum();
            self.exclusive_ms = self.inclusive_ms.map(|t| (t - kids).max(0.0));
            return;
        } else {
            processes
        };
        for c in &mut self.children {
            c.compute_times(processes);
        }
        self.inclusive_ms = self
            .actual_ms
            .map(|t| t * self.loops.unwrap_or(1.0) / processes.max(1.0));
        // InitPlans and SubPlans run as part of their parent's expressions; CTE subtrees
        // are pulled by their CTE Scan: all of them are inside the parent's time.
        let kids: f64 = self.children.iter().filter_map(|c| c.inclusive_ms).sum();
        self.exclusive_ms = self.inclusive_ms.map(|t| (t - kids).max(0.0));
    }
}

/// Closes the open nodes at `indent` or deeper, attaching each to its parent (or making
/// it the root): the step both indentation-based parsers (PostgreSQL text, MySQL tree)
/// take before a new node or at the end.
pub(crate) fn close_to(
    stack: &mut Vec<(usize, PlanNode)>,
    root: &mut Option<PlanNode>,
    indent: usize,
) {
    while let Some((i, _)) = stack.last() {
        if *i < indent {
            break;
        }
        let (_, node) = stack.pop().expect("non-empty");
        match stack.last_mut() {
            Some((_, parent)) => parent.children.push(node),
            None if root.is_none() => *root = Some(node),
            None => {}
        }
    }
}

/// The `(actual time=as..at rows=ar loops=lp)` / `(never executed)` part of a node line,
/// as both text parsers' patterns name its groups.
pub(crate) fn set_actuals(n: &mut PlanNode, c: &regex::Captures) {
    let f = |k: &str| c.name(k).and_then(|m| m.as_str().parse::<f64>().ok());
    n.actual_startup_ms = f("as");
    n.actual_ms = f("at");
    n.actual_rows = f("ar");
    n.loops = f("lp");
    if c.name("never").is_some() {
        n.never_executed = true;
        n.loops = Some(0.0);
    }
}

/// kB a node wrote to disk: an external sort, a HashAggregate's disk usage, a hash
/// join in several batches, or temporary buffers written (8 kB blocks).
pub fn spill_kb(n: &PlanNode) -> f64 {
    let mut kb: f64 = 0.0;
    if n.sort_space_type.as_deref() == Some("Disk") {
        kb = kb.max(n.sort_space_kb.unwrap_or(0.0));
    }
    kb = kb.max(n.disk_usage_kb.unwrap_or(0.0));
    // Temp buffers are reported inclusive of children; count them where they start.
    let kids: f64 = n
        .children
        .iter()
        .filter_map(|c| c.buffers.temp_written)
        .sum();
    let temp = (n.buffers.temp_written.unwrap_or(0.0) - kids).max(0.0) * 8.0;
    // Without BUFFERS, a hash in N batches kept one in memory and wrote the others.
    let batches = n.hash_batches.unwrap_or(1.0);
    let hashed = if batches > 1.0 && temp == 0.0 {
        n.peak_memory_kb.unwrap_or(0.0) * (batches - 1.0)
    } else {
        0.0
    };
    kb.max(temp).max(hashed)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Trigger {
    pub name: String,
    pub time_ms: Option<f64>,
    pub calls: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanFormat {
    #[default]
    PgText,
    PgJson,
    MysqlJson,
    MysqlTree,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    pub format: PlanFormat,
    pub query_text: Option<String>,
    pub root: PlanNode,
    pub planning_ms: Option<f64>,
    pub execution_ms: Option<f64>,
    pub jit_functions: Option<f64>,
    pub jit_ms: Option<f64>,
    pub triggers: Vec<Trigger>,
    pub settings: Vec<String>,
}

impl Plan {
    /// Total time of the plan: execution time when known, else the root's time.
    pub fn total_ms(&self) -> Option<f64> {
        self.execution_ms.or(self.root.inclusive_ms)
    }

    pub fn has_timing(&self) -> bool {
        self.root.actual_ms.is_some()
    }

    fn finish(mut self) -> Plan {
        self.root.compute_times(1.0);
        self
    }
}

/// Parses a plan in PostgreSQL text or JSON format or MySQL JSON (auto-detected);
/// tolerates psql framing, `+` continuation marks, quotes and wrapped lines.
pub fn parse(text: &str) -> Option<Plan> {
    let clean = frame::unframe(text);
    let t = clean.trim_start();
    let json = if t.starts_with('{') || t.starts_with('[') {
        serde_json::from_str::<serde_json::Value>(t)
            .ok()
            .filter(frame::is_plan_json)
            .or_else(|| frame::first_json(t))
    } else {
        frame::first_json(t)
    };
    let plan = match json {
        Some(v) if mysql_json::is_mysql(&v) => mysql_json::parse(&v),
        Some(v) => pg_json::parse(&v),
        None if mysql_tree::looks_like(&clean) => mysql_tree::parse(&clean),
        None => pg_text::parse(&clean),
    }?;
    Some(plan.finish())
}
