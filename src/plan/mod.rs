//! Query plans: one model for PostgreSQL's text and JSON EXPLAIN formats, as psql prints
//! them or as auto_explain logs them.
//!
//! Parsing is lenient: an unknown property line is kept in `extra`, a line that fits no
//! shape is skipped, and a plan with no node at all is `None`.

mod pg_json;
mod pg_text;

use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct PlanNode {
    /// `Seq Scan`, `Index Scan`, `Hash Join`, … (without `Parallel`).
    pub node_type: String,
    pub parallel: bool,
    pub relation: Option<String>,
    pub alias: Option<String>,
    pub index: Option<String>,
    pub startup_cost: Option<f64>,
    pub total_cost: Option<f64>,
    pub plan_rows: Option<f64>,
    pub actual_rows: Option<f64>,
    pub loops: Option<f64>,
    /// Actual total time per loop, ms.
    pub actual_ms: Option<f64>,
    pub never_executed: bool,
    pub filter: Option<String>,
    pub index_cond: Option<String>,
    pub join_filter: Option<String>,
    pub hash_cond: Option<String>,
    pub rows_removed_by_filter: Option<f64>,
    pub sort_key: Vec<String>,
    pub sort_method: Option<String>,
    pub sort_space_kb: Option<f64>,
    /// `Memory` or `Disk`.
    pub sort_space_type: Option<String>,
    pub workers_launched: Option<f64>,
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

    pub fn is_seq_scan(&self) -> bool {
        self.node_type == "Seq Scan"
    }

    pub fn is_index_scan(&self) -> bool {
        matches!(
            self.node_type.as_str(),
            "Index Scan" | "Index Only Scan" | "Bitmap Index Scan" | "Index Scan Backward"
        )
    }

    /// `Parallel Seq Scan on orders`.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.parallel {
            s.push_str("Parallel ");
        }
        s.push_str(&self.node_type);
        if let Some(i) = &self.index {
            s.push_str(" using ");
            s.push_str(i);
        }
        if let Some(r) = &self.relation {
            s.push_str(" on ");
            s.push_str(r);
            if let Some(a) = self.alias.as_ref().filter(|a| *a != r) {
                s.push(' ');
                s.push_str(a);
            }
        }
        s
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    pub query_text: Option<String>,
    pub root: PlanNode,
    pub planning_ms: Option<f64>,
    pub execution_ms: Option<f64>,
}

/// Parses a plan in PostgreSQL text or JSON format (auto-detected).
pub fn parse(text: &str) -> Option<Plan> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        pg_json::parse(t)
    } else {
        pg_text::parse(text)
    }
}
