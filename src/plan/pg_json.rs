//! PostgreSQL `FORMAT JSON` plans: `[{"Plan": …}]` as EXPLAIN prints it, or the bare
//! object auto_explain logs (`{"Query Text": …, "Plan": …}`).

use serde_json::Value;

use super::{Plan, PlanNode};

fn node(v: &Value) -> PlanNode {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let f = |k: &str| v.get(k).and_then(Value::as_f64);
    let mut n = PlanNode {
        node_type: s("Node Type").unwrap_or_default(),
        parallel: v
            .get("Parallel Aware")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        relation: s("Relation Name").or_else(|| s("CTE Name")),
        alias: s("Alias"),
        index: s("Index Name"),
        startup_cost: f("Startup Cost"),
        total_cost: f("Total Cost"),
        plan_rows: f("Plan Rows"),
        actual_rows: f("Actual Rows"),
        loops: f("Actual Loops"),
        actual_ms: f("Actual Total Time"),
        never_executed: f("Actual Loops") == Some(0.0),
        filter: s("Filter"),
        index_cond: s("Index Cond").or_else(|| s("Recheck Cond")),
        join_filter: s("Join Filter"),
        hash_cond: s("Hash Cond").or_else(|| s("Merge Cond")),
        rows_removed_by_filter: f("Rows Removed by Filter"),
        sort_key: v
            .get("Sort Key")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        sort_method: s("Sort Method"),
        sort_space_kb: f("Sort Space Used"),
        sort_space_type: s("Sort Space Type"),
        workers_launched: f("Workers Launched"),
        children: Vec::new(),
    };
    // Text format prints `Index Scan Backward`; JSON says so in "Scan Direction".
    if n.node_type == "Index Scan" && s("Scan Direction").as_deref() == Some("Backward") {
        n.node_type = "Index Scan Backward".into();
    }
    if let Some(kids) = v.get("Plans").and_then(Value::as_array) {
        n.children = kids.iter().map(node).collect();
    }
    n
}

pub fn parse(text: &str) -> Option<Plan> {
    let v: Value = serde_json::from_str(text).ok()?;
    let obj = match &v {
        Value::Array(a) => a.first()?,
        o => o,
    };
    let root = obj.get("Plan")?;
    Some(Plan {
        query_text: obj
            .get("Query Text")
            .and_then(Value::as_str)
            .map(str::to_string),
        root: node(root),
        planning_ms: obj.get("Planning Time").and_then(Value::as_f64),
        execution_ms: obj.get("Execution Time").and_then(Value::as_f64),
    })
}
