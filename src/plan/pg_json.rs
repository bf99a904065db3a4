//! PostgreSQL `FORMAT JSON` plans: `[{"Plan": …}]` as EXPLAIN prints it, or the bare
//! object auto_explain logs (`{"Query Text": …, "Plan": …}`).

use serde_json::Value;

use super::{Plan, PlanFormat, PlanNode, Trigger, nz};

fn node(v: &Value) -> PlanNode {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let f = |k: &str| v.get(k).and_then(Value::as_f64);
    // PG 16 renamed the I/O timing keys per buffer kind.
    let sum = |keys: &[&str]| -> Option<f64> {
        let vals: Vec<f64> = keys.iter().filter_map(|k| f(k)).collect();
        (!vals.is_empty()).then(|| vals.iter().sum())
    };
    let node_type = s("Node Type").unwrap_or_default();
    let mut n = PlanNode {
        parallel: v
            .get("Parallel Aware")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        backward: s("Scan Direction").as_deref() == Some("Backward"),
        strategy: s("Strategy"),
        partial_mode: s("Partial Mode").filter(|m| m != "Simple"),
        operation: s("Operation").filter(|_| node_type == "ModifyTable"),
        join_type: s("Join Type"),
        subplan_name: s("Subplan Name")
            .map(|n| n.split(" (returns").next().unwrap_or(&n).trim().to_string()),
        relation: s("Relation Name"),
        schema: s("Schema"),
        alias: s("Alias"),
        index: s("Index Name"),
        cte_name: s("CTE Name"),
        function_name: s("Function Name"),
        startup_cost: f("Startup Cost"),
        total_cost: f("Total Cost"),
        plan_rows: f("Plan Rows"),
        plan_width: f("Plan Width"),
        actual_startup_ms: f("Actual Startup Time"),
        actual_ms: f("Actual Total Time"),
        actual_rows: f("Actual Rows"),
        loops: f("Actual Loops"),
        never_executed: false,
        filter: s("Filter"),
        index_cond: s("Index Cond"),
        recheck_cond: s("Recheck Cond"),
        join_filter: s("Join Filter"),
        hash_cond: s("Hash Cond"),
        merge_cond: s("Merge Cond"),
        rows_removed_by_filter: nz(f("Rows Removed by Filter")),
        rows_removed_by_index_recheck: nz(f("Rows Removed by Index Recheck")),
        rows_removed_by_join_filter: nz(f("Rows Removed by Join Filter")),
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
        hash_buckets: f("Hash Buckets"),
        original_hash_buckets: f("Original Hash Buckets").filter(|o| Some(*o) != f("Hash Buckets")),
        hash_batches: f("Hash Batches").or_else(|| f("HashAgg Batches")),
        original_hash_batches: f("Original Hash Batches").filter(|o| Some(*o) != f("Hash Batches")),
        peak_memory_kb: f("Peak Memory Usage"),
        disk_usage_kb: nz(f("Disk Usage")),
        heap_fetches: f("Heap Fetches"),
        exact_heap_blocks: nz(f("Exact Heap Blocks")),
        lossy_heap_blocks: nz(f("Lossy Heap Blocks")),
        workers_planned: f("Workers Planned"),
        workers_launched: f("Workers Launched"),
        rows_examined: None,
        filtered_pct: None,
        buffers: super::Buffers {
            shared_hit: nz(f("Shared Hit Blocks")),
            shared_read: nz(f("Shared Read Blocks")),
            shared_dirtied: nz(f("Shared Dirtied Blocks")),
            shared_written: nz(f("Shared Written Blocks")),
            local_hit: nz(f("Local Hit Blocks")),
            local_read: nz(f("Local Read Blocks")),
            temp_read: nz(f("Temp Read Blocks")),
            temp_written: nz(f("Temp Written Blocks")),
        },
        io_read_ms: nz(sum(&[
            "I/O Read Time",
            "Shared I/O Read Time",
            "Local I/O Read Time",
            "Temp I/O Read Time",
        ])),
        io_write_ms: nz(sum(&[
            "I/O Write Time",
            "Shared I/O Write Time",
            "Local I/O Write Time",
            "Temp I/O Write Time",
        ])),
        exclusive_ms: None,
        inclusive_ms: None,
        children: Vec::new(),
        node_type,
    };
    // Text prints the alias only when it differs; keep the two formats alike.
    let named = n
        .relation
        .as_ref()
        .or(n.cte_name.as_ref())
        .or(n.function_name.as_ref());
    if named.is_some() && n.alias.as_ref() == named {
        n.alias = None;
    }
    if n.loops == Some(0.0) {
        n.never_executed = true;
        n.actual_startup_ms = None;
        n.actual_ms = None;
        n.actual_rows = None;
    }
    if let Some(kids) = v.get("Plans").and_then(Value::as_array) {
        n.children = kids.iter().map(node).collect();
    }
    n
}

pub fn parse(v: &Value) -> Option<Plan> {
    let obj = match v {
        Value::Array(a) => a.first()?,
        o => o,
    };
    let root = obj.get("Plan")?;
    let triggers = obj
        .get("Triggers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| Trigger {
                    name: t
                        .get("Trigger Name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    time_ms: t.get("Time").and_then(Value::as_f64),
                    calls: t.get("Calls").and_then(Value::as_f64),
                })
                .collect()
        })
        .unwrap_or_default();
    let jit = obj.get("JIT");
    Some(Plan {
        format: PlanFormat::PgJson,
        query_text: obj
            .get("Query Text")
            .and_then(Value::as_str)
            .map(str::to_string),
        root: node(root),
        planning_ms: obj.get("Planning Time").and_then(Value::as_f64),
        execution_ms: obj.get("Execution Time").and_then(Value::as_f64),
        jit_functions: jit.and_then(|j| j.get("Functions")).and_then(Value::as_f64),
        jit_ms: jit
            .and_then(|j| j.get("Timing"))
            .and_then(|t| t.get("Total"))
            .and_then(Value::as_f64),
        triggers,
        settings: obj
            .get("Settings")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} = '{}'", v.as_str().unwrap_or(&v.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
    })
}
